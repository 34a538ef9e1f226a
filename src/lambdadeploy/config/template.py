"""Render lambda.yaml's Jinja2 template: sandboxed, bounded, and with outside values as data.

A lambda.yaml may come from someone else (a pull request that CI validates), so rendering
it must not run code, hang, or exhaust memory, and a value from outside the file must not
rewrite the document:

- The environment is Jinja2's `ImmutableSandboxedEnvironment`: no `__globals__`, no
  private attributes, no mutation. `{% include %}` reads only files inside the project
  folder (symlinks resolved). `lipsum` is gone, `range` is capped.
- Rendering stops after RENDER_SECONDS (a trace function checks the clock on every line
  of Python run meanwhile), when its output passes MAX_RENDERED_CHARS, and (on Linux) when
  it would use RENDER_MEMORY_BYTES more memory. Operations that build huge values in one
  step (`'x' * 10**10`, `9**9**9`, `'x'.ljust(10**10)`, `'%0999999999d' % 1`) are refused
  before they run.
- `env` can be read one variable at a time (`env.X`, `env['X']`, `env.get('X', 'd')`,
  `'X' in env`) but never listed or printed whole.
- Values from outside the file (`env.X`, `alias`, `region`, `account_id`, and anything
  computed from them: filters, methods, operators, `~`) are data. Where the template
  prints one, it writes a placeholder; parse.py puts the value back into the parsed
  document, inside the one scalar where the placeholder stood. So a line break, `: `, a
  quote or a bracket in a value never adds a field or closes a string.

This module holds the values a render deals in and its bounds; template_engine.py the Jinja
side, and rendering.py the entry point, which imports Jinja only for a file with template
syntax.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

RENDER_SECONDS = 5.0
MAX_RENDERED_CHARS = 1024 * 1024
RENDER_MEMORY_BYTES = 512 * 1024 * 1024
MAX_RANGE = 10_000
MAX_INT_BITS = 64 * 1024
MIN_SECRET_LENGTH = 4  # masking "1" or "on" everywhere would garble output and protect nothing
# Text made only of these cannot change YAML structure wherever it is pasted.
_INERT = re.compile(r"[A-Za-z0-9_.@/+=-]*\Z")
# A printf or str.format width/precision this long (or taken from the arguments, `*`)
# would build a huge string.
_HUGE_PERCENT = re.compile(r"%[-#0 +]*(?:\d{7,}|\*|\d*\.(?:\d{7,}|\*))")
_HUGE_BRACE = re.compile(r"\{[^{}]*:[^{}]*?\d{7,}[^{}]*\}")
_SCAN_LIMIT = 10_000  # container items looked at when deciding whether a value holds data


class Refused(Exception):
    """The template tried something rendering does not allow (too big, too long, unsafe)."""


class DataText(str):
    """Text that came from outside the file (env, --alias, region, account id) or was
    computed from it: printed as a placeholder, never pasted into the YAML."""

    _secret: bool = False
    _json: bool = False  # the output of `tojson`: put back as the JSON value it spells


def data_text(text: str, secret: bool, is_json: bool = False) -> DataText:
    value = DataText(text)
    value._secret = secret
    value._json = is_json
    return value


def data_kind(*values: Any) -> bool | None:
    """None when no value holds outside data; else whether any of it is secret (from env)."""
    found: bool | None = None
    budget = [_SCAN_LIMIT]

    def scan(value: Any, depth: int) -> None:
        nonlocal found
        if budget[0] <= 0 or found is True:
            return
        budget[0] -= 1
        if isinstance(value, DataText):
            found = bool(found) or value._secret
        elif depth < 4 and isinstance(value, list | tuple | set | frozenset):
            for item in value:
                scan(item, depth + 1)
        elif depth < 4 and isinstance(value, dict):
            for key, item in value.items():
                scan(key, depth + 1)
                scan(item, depth + 1)

    for value in values:
        scan(value, 0)
    return found


def mark(value: Any, secret: bool) -> Any:
    """`value` (text, or a list/tuple of texts) marked as outside data."""
    if isinstance(value, str) and not (isinstance(value, DataText) and value._secret >= secret):
        return data_text(value, secret)
    if isinstance(value, list | tuple) and len(value) <= _SCAN_LIMIT:
        return type(value)(mark(item, secret) for item in value)
    return value


class Env:
    """The template's `env`: one variable at a time, never the whole environment."""

    __slots__ = ("_read", "_values")

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._read: set[str] = set()

    def __getitem__(self, name: Any) -> Any:
        if not isinstance(name, str) or name not in self._values:
            import jinja2

            return jinja2.StrictUndefined(hint=f"environment variable {name} is not set "
                                               f"(use env.{name} | default('...') if it is optional)")
        value = self._values[name]
        self._read.add(value)
        return data_text(value, secret=True)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if isinstance(name, str) and name in self._values else default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._values

    def __iter__(self) -> Iterator[str]:
        raise Refused("`env` cannot be listed; read one variable: env.NAME")

    def __repr__(self) -> str:
        raise Refused("`env` cannot be printed or listed; read one variable: env.NAME")

    __str__ = __repr__


class Lazy:
    """A template value computed only when the template uses it (account_id costs an STS call)."""

    def __init__(self, compute: Callable[[], str], name: str) -> None:
        self._compute = compute
        self._name = name
        self._value: str | None = None

    def value(self) -> str:
        if self._value is None:
            with _paused():
                self._value = self._compute()
        return self._value

    def __str__(self) -> str:
        return self.value()

    def __eq__(self, other: object) -> bool:
        return self.value() == other

    def __hash__(self) -> int:
        return hash(self.value())


@dataclass
class Placeholders:
    """The outside values the template printed, each standing in the text as a token."""

    nonce: str = field(default_factory=lambda: f"{secrets.randbelow(10**10):010d}")
    values: list[Any] = field(default_factory=list)

    @property
    def pattern(self) -> re.Pattern[str]:
        # Digits and underscores only: case filters and YAML folding leave a token intact.
        return re.compile(rf"__9{self.nonce}_(\d+)__")

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"__9{self.nonce}_{len(self.values) - 1}__"

    def secrets(self) -> set[str]:
        """Every printed value computed from the environment (so derived text is masked too)."""
        return {str(v) for v in self.values if data_kind(v)}


@dataclass(frozen=True)
class Rendered:
    text: str
    placeholders: Placeholders
    env_read: frozenset[str]


_budget: list[_Budget] = []


class _Budget:
    """Stops a render that runs too long: a trace function sees every line of Python that runs
    (template code, filters, Jinja itself) and raises once the deadline has passed."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def trace(self, frame: Any, event: str, arg: Any) -> Any:
        return self.line

    def line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line" and time.monotonic() > self.deadline:
            raise Refused(f"rendering took longer than {self.seconds:g} seconds")
        return self.line


@contextmanager
def _bounded(seconds: float) -> Iterator[None]:
    budget = _Budget(seconds)
    previous = sys.gettrace()
    restore = _limit_memory(RENDER_MEMORY_BYTES)
    _budget.append(budget)
    sys.settrace(budget.trace)
    try:
        yield
    finally:
        sys.settrace(previous)
        _budget.pop()
        restore()


@contextmanager
def _paused() -> Iterator[None]:
    """Time spent outside the template (an STS call for account_id) is neither traced nor counted."""
    if not _budget:
        yield
        return
    budget = _budget[-1]
    previous = sys.gettrace()
    sys.settrace(None)
    started = time.monotonic()
    try:
        yield
    finally:
        budget.deadline += time.monotonic() - started
        sys.settrace(previous)


def _limit_memory(extra: int) -> Callable[[], None]:
    """Cap the address space at its current size plus `extra` (Linux); returns the undo."""
    try:
        import resource

        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return lambda: None
    limit = current + extra if hard == resource.RLIM_INFINITY else min(current + extra, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        return lambda: None
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
