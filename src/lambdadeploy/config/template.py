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
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import update_wrapper
from itertools import islice
from pathlib import Path
from types import GeneratorType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import ConfigError, ConfigIssue
from .read import read_config_text

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


class _ProjectLoader(jinja2.BaseLoader):
    """Templates are files inside the project folder, and only those (symlinks resolved)."""

    def __init__(self, root: Path, main: Path, main_text: str) -> None:
        self.root = root
        self.main = main
        self.main_text = main_text
        self.files: set[str] = {str(main)}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template in (self.main.name, str(self.main)):
            return self.main_text, str(self.main), lambda: True
        if os.path.isabs(template) or "\\" in template or ".." in template.split("/"):
            raise jinja2.TemplateNotFound(template, f"{{% include %}} reads files inside the project folder "
                                                    f"{self.root} only, by a relative path: {template!r}")
        path = Path(os.path.realpath(self.root / template))
        if path != self.root and self.root not in path.parents:
            raise jinja2.TemplateNotFound(template, f"{{% include %}} reads files inside the project folder "
                                                    f"{self.root} only: {template!r} leads outside it")
        if not path.is_file():
            raise jinja2.TemplateNotFound(template, f"included file not found: {template!r} "
                                                    f"(paths are relative to {self.root})")
        self.files.add(str(path))
        return read_config_text(path), str(path), lambda: True


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus: outside data stays marked through operators, calls and filters,
    and operations that would build a huge value are refused before they run."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, placeholders: Placeholders, risky: Callable[[], list[str]], **options: Any) -> None:
        super().__init__(**options)
        self.placeholders = placeholders
        self.risky = risky
        self.globals.pop("lipsum", None)
        self.globals["range"] = _capped_range
        self.filters = {**self.filters, **_GUARDED_FILTERS}
        self.finalize = self._finalize

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return _derived(super().call_binop(context, operator, left, right), left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            args = _check_str_method(owner, getattr(target, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _derived(result, owner if isinstance(owner, str | list | tuple | dict) else None, *args,
                        *kwargs.values())

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _derived(super().getitem(obj, argument), obj)

    def _finalize(self, value: Any) -> Any:
        """Every `{{ ... }}` passes here: outside data becomes a placeholder token."""
        if isinstance(value, Env):
            raise Refused("`env` cannot be printed or listed; read one variable: env.NAME")
        if isinstance(value, Lazy):
            value = data_text(value.value(), secret=False)
        _sized(value)
        if data_kind(value) is not None:
            return self.placeholders.add(value)
        if isinstance(value, str) and any(raw in value for raw in self.risky()):
            # Outside text joined in with `~` (which no hook sees): still one scalar.
            return self.placeholders.add(data_text(value, secret=True))
        return value


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that keeps outside data marked and refuses to build huge values."""
    passes = getattr(function, "jinja_pass_arg", None) is not None

    def guarded(*args: Any, **kwargs: Any) -> Any:
        data = args[1:] if passes else args
        _check_filter(name, data, kwargs)
        result = function(*args, **kwargs)
        secret = data_kind(*data, *kwargs.values())
        if secret is None:
            return _sized(result)
        if name == "tojson" and isinstance(result, str):
            return data_text(result, secret, is_json=True)
        if isinstance(result, GeneratorType):  # map, select...: a list, so its items stay marked
            result = list(islice(result, MAX_RENDERED_CHARS + 1))
        return mark(_sized(result), secret)

    return update_wrapper(guarded, function)


_GUARDED_FILTERS = {name: _guarded_filter(name, f) for name, f in jinja2.filters.FILTERS.items()}


def _capped_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise Refused(f"range() of {len(values)} items; at most {MAX_RANGE} are allowed")
    return values


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_RENDERED_CHARS:
        raise Refused(f"a value of {len(value)} characters or items; at most {MAX_RENDERED_CHARS} are allowed")
    return value


def _derived(result: Any, *sources: Any) -> Any:
    secret = data_kind(*sources)
    return _sized(result) if secret is None else mark(_sized(result), secret)


def _too_big(size: int) -> None:
    if size > MAX_RENDERED_CHARS:
        raise Refused(f"this would build a value of {size} characters or items; "
                      f"at most {MAX_RENDERED_CHARS} are allowed")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    sized = str | list | tuple
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, int):
            _too_big(len(left) * right)
        elif isinstance(right, sized) and isinstance(left, int):
            _too_big(len(right) * left)
        elif isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise Refused(f"a number of more than {MAX_INT_BITS} bits")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
            and abs(left) > 1 and right * abs(left).bit_length() > MAX_INT_BITS:
        raise Refused(f"{left} ** {right} is a number of more than {MAX_INT_BITS} bits")
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,))


def _check_format(text: str, args: Any = ()) -> None:
    if _HUGE_PERCENT.search(text) or _HUGE_BRACE.search(text) or any(
            isinstance(a, int) and abs(a) > MAX_RENDERED_CHARS for a in args):
        raise Refused("a format width or precision of a million or more (or `*`) is not allowed")


def _check_str_method(owner: str, name: str, args: tuple[Any, ...],
                      kwargs: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
    kwargs = kwargs or {}
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _too_big(args[0])
    elif name == "expandtabs" and args and isinstance(args[0], int):
        _too_big(len(owner) + owner.count("\t") * args[0])
    elif name in ("format", "format_map"):
        mapping = args[0] if name == "format_map" and args and isinstance(args[0], dict) else {}
        _check_format(owner, [*args, *kwargs.values(), *mapping.values()])
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _too_big(len(owner) + (owner.count(args[0]) if args[0] else len(owner) + 1) * len(args[1]))
    elif name == "join" and args:
        items = list(args[0])
        _too_big(sum(len(i) for i in items if isinstance(i, str)) + len(owner) * len(items))
        args = (items, *args[1:])
    return args


def _check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    value = args[0] if args else None
    rest = list(args[1:]) + list(kwargs.values())
    if name == "center" and rest and isinstance(rest[0], int):
        _too_big(rest[0])
    elif name == "indent" and isinstance(value, str) and rest and isinstance(rest[0], int | str):
        width = rest[0] if isinstance(rest[0], int) else len(rest[0])
        _too_big(len(value) + (value.count("\n") + 1) * width)
    elif name == "format" and isinstance(value, str):
        _check_format(value, rest)
    elif name == "join" and isinstance(value, list | tuple):
        separator = rest[0] if rest and isinstance(rest[0], str) else ""
        _too_big(sum(len(v) for v in value if isinstance(v, str)) + len(separator) * len(value))
    elif name == "replace" and isinstance(value, str) and len(rest) >= 2 and all(isinstance(r, str) for r in rest[:2]):
        _check_str_method(value, "replace", tuple(rest[:2]))


# --- time and memory ---------------------------------------------------------------------

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


# --- rendering -----------------------------------------------------------------------------


def render(path: Path, text: str, variables: Mapping[str, Any]) -> Rendered:
    """Render the config text (read from `path`) with `variables`; `env` must be an Env.

    Raises ConfigError naming the file and line of any problem; its secret_values hold
    the environment values read so far, which a message may quote. One render at a time
    per process: the memory limit is process-wide."""
    with _RENDER_LOCK:
        return _render(path, text, variables)


_RENDER_LOCK = threading.Lock()


def _render(path: Path, text: str, variables: Mapping[str, Any]) -> Rendered:
    env = variables.get("env")
    placeholders = Placeholders()
    loader = _ProjectLoader(path.parent, path, text)

    def risky() -> list[str]:
        values = list(env._read) if isinstance(env, Env) else []
        values += [str(v) for k, v in variables.items() if k != "env" and isinstance(v, str)]
        return [v for v in values if v and not _INERT.match(v)]

    environment = _Sandbox(placeholders, risky, loader=loader, undefined=jinja2.StrictUndefined,
                           keep_trailing_newline=True, autoescape=False)
    data = {k: data_text(v, secret=False) if isinstance(v, str) and not isinstance(v, DataText) else v
            for k, v in variables.items()}
    try:
        template = environment.get_template(path.name)  # compiling is bounded by the file's size
        with _bounded(RENDER_SECONDS):
            chunks, size = [], 0
            for chunk in template.generate(data):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise Refused(f"the rendered file is longer than {MAX_RENDERED_CHARS} characters")
                chunks.append(chunk)
    except ConfigError as error:
        error.secret_values = _secret(env)
        raise
    except jinja2.TemplateSyntaxError as error:
        file = Path(error.filename) if error.filename else path
        raise _error(env, file, error.lineno, f"template syntax error: {error.message}") from None
    except Exception as error:  # whatever the template did: one located message, never a traceback
        file, line = _where(error, loader.files, path)
        raise _error(env, file, line, _message(error), _hint(error)) from None
    return Rendered("".join(chunks), placeholders, frozenset(env._read if isinstance(env, Env) else ()))


def _secret(env: Any) -> frozenset[str]:
    read = env._read if isinstance(env, Env) else set()
    return frozenset(v for v in read if len(v) >= MIN_SECRET_LENGTH)


def _error(env: Any, file: Path, line: int | None, message: str, hint: str | None = None) -> ConfigError:
    error = ConfigError([ConfigIssue(file, line or 1, "", message, hint)])
    error.secret_values = _secret(env)
    return error


def _message(error: BaseException) -> str:
    if isinstance(error, Refused):
        return f"template error: {error}"
    if isinstance(error, jinja2.TemplateError):
        return f"template error: {error.message}"
    if isinstance(error, RecursionError):
        return "template error: nested too deeply (a file that includes itself, a recursive macro, " \
               "or a very deep expression)"
    if isinstance(error, MemoryError):
        return f"template error: rendering needs more than {RENDER_MEMORY_BYTES // 2**20} MB of memory"
    return f"template error: {type(error).__name__}: {error}"


def _hint(error: BaseException) -> str | None:
    if isinstance(error, jinja2.UndefinedError):
        return ("variables are alias, env (e.g. env.HOME), region, account_id; "
                "use {{ env.X | default('...') }} for optional ones")
    return None


def _where(error: BaseException, files: set[str], main: Path) -> tuple[Path, int | None]:
    """The template file and line an error comes from: Jinja rewrites traceback frames of
    template code to the template's file and line; a parser error names the token it was at."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.filename in files:
            return Path(frame.filename), frame.lineno
    tb = error.__traceback__
    line = None
    while tb is not None:  # a parser that recursed too deep: its stream knows the line
        parser = tb.tb_frame.f_locals.get("self")
        if isinstance(parser, jinja2.parser.Parser):
            line = parser.stream.current.lineno
            main = Path(parser.filename) if parser.filename else main
        tb = tb.tb_next
    return main, line
