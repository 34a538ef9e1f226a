"""The terminal: where text goes, colours, the live progress line, and the --json document.

Human text goes to stderr when --json is on (stdout then holds exactly one JSON
document); otherwise results go to stdout and progress to stderr. Everything written
passes through the masker.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import click

from .masking import MASKER

if TYPE_CHECKING:  # the engine is imported only by commands that deploy (start-up time)
    from ..engine.events import Event

COUNTER_FROM = 10  # functions in a phase from which plain output (CI) gets counter lines


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@dataclass
class Output:
    """How this run talks: json or human, quiet or verbose, colour or not.

    On a terminal (and not in CI), progress is one status line that rewrites itself: how
    many functions are through the current phase, the step the latest function started,
    and how many more are in progress. Elsewhere every step is a plain line, and with
    many functions (COUNTER_FROM) each finished one adds a counter line.
    """

    json_mode: bool = False
    quiet: bool = False
    verbose: bool = False
    color: bool | None = None
    live: bool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _status: dict[str, str] = field(default_factory=dict, repr=False)  # in progress: function -> step
    _counter: str = field(default="", repr=False)  # "[37/100 deployed]"

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
        if self.live is None:
            self.live = sys.stderr.isatty() and not _in_ci() and not self.quiet

    @property
    def human(self) -> TextIO:
        """Where human-readable results go."""
        return sys.stderr if self.json_mode else sys.stdout

    def style(self, text: str, **styles: Any) -> str:
        return click.style(text, **styles) if self.color else text

    def _write(self, text: str, stream: TextIO | None = None) -> None:
        """Print a line, keeping the status line (if any) below it."""
        with self._lock:
            if self._status or self._counter:
                sys.stderr.write("\r\033[K")
            click.echo(MASKER(text), file=stream or sys.stderr)
            self._draw()

    def _draw(self) -> None:
        if not self._status and not self._counter:
            return
        parts = [self._counter] if self._counter else []
        if self._status:
            name, step = next(reversed(self._status.items()))  # the latest to start a step
            parts.append(f"{name}: {step}")
            if len(self._status) > 1:
                parts.append(f"(+{len(self._status) - 1} in progress)")
        line = " ".join(parts)
        width = max(20, shutil.get_terminal_size().columns - 1)
        sys.stderr.write("\r\033[K" + MASKER(line)[:width])
        sys.stderr.flush()

    def end_progress(self) -> None:
        """Remove the status line before results are printed."""
        with self._lock:
            if self._status or self._counter:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
                self._status.clear()
                self._counter = ""

    def event(self, event: Event) -> None:
        """A progress event; called from worker threads."""
        from ..engine.events import FunctionDone, StepStarted
        from .steps import one_line

        if isinstance(event, FunctionDone):
            self._count(event)
            return
        if isinstance(event, StepStarted):
            level, message = "info", one_line(event.step, event.version)
        else:
            level, message = event.level, event.message
        if level == "debug" and not self.verbose:
            return
        if self.quiet and level in ("info", "debug"):
            return
        if self.live and level == "info":
            with self._lock:
                self._status.pop(event.function, None)  # re-inserted last: the latest
                self._status[event.function] = message
                self._draw()
            return
        colour = {"error": "red", "warning": "yellow"}.get(level)
        prefix = self.style(f"{event.function}:", bold=True)
        message = self.style(message, fg=colour) if colour else message
        self._write(f"{prefix} {message}")

    def _count(self, event: Any) -> None:
        counter = f"[{event.done}/{event.total} {event.phase}]"
        if self.live:
            with self._lock:
                self._status.pop(event.function, None)
                self._counter = counter if event.done < event.total else ""
                self._draw()
        elif not self.quiet and event.total >= COUNTER_FROM:
            self._write(f"{counter} {event.function}")

    def info(self, message: str) -> None:
        if not self.quiet:
            self._write(message)

    def warn(self, message: str) -> None:
        self._write(self.style(f"warning: {message}", fg="yellow"))

    def error(self, message: str) -> None:
        self._write(self.style(f"error: {message}", fg="red"))

    def log(self, text: str) -> None:
        """Function log output (a log tail): stderr, unless --quiet."""
        if not self.quiet:
            self._write(text)

    def result(self, text: str) -> None:
        """A human result line (stdout, or stderr under --json)."""
        self.end_progress()
        self._write(text, self.human)

    def document(self, document: dict[str, Any]) -> None:
        """The one --json document of this command."""
        if self.json_mode:
            self.end_progress()
            print_document(document)

    def document_line(self, document: dict[str, Any]) -> None:
        """One of a command's many --json documents (`package --watch`), each on one line."""
        if self.json_mode:
            self.end_progress()
            print_document(document, one_line=True)


_documents = [0]  # how many --json documents this process printed (main() answers once)


def print_document(document: dict[str, Any], one_line: bool = False) -> None:
    """Print a --json document on stdout, masked like everything else."""
    _documents[0] += 1
    click.echo(MASKER(json.dumps(document, indent=None if one_line else 2, sort_keys=False, default=str)))


def documents_printed() -> int:
    return _documents[0]


def error_document(message: str, exit_code: int, hint: str | None = None,
                   issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The --json answer of a command that failed before it could print its own."""
    return {"ok": False, "error": {"message": message, "exit_code": exit_code, "hint": hint,
                                   "issues": issues or []}}
