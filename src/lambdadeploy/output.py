"""Rendering: progress lines, the per-function summary, and --json documents.

Human text goes to stderr when --json is on (stdout then holds exactly one JSON
document); otherwise summaries go to stdout and progress to stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import click

from .smoke import PRICES_DATE, SmokeResult, cost_per_million, right_sizing_hint

if TYPE_CHECKING:  # the deploy machinery is imported only by commands that deploy (start-up time)
    from .deploy import FunctionResult
    from .execute import Event

MASK = "****"


class Masker:
    """Replaces known secret values in everything we print (human text and JSON alike)."""

    def __init__(self) -> None:
        self._values: list[str] = []
        self._lock = threading.Lock()

    def add(self, values: frozenset[str] | set[str]) -> None:
        with self._lock:
            forms = set(self._values)
            for value in values:
                forms.add(value)
                forms.add(json.dumps(value)[1:-1])  # as it appears inside a JSON string
            # Longest first, so a secret containing another is masked whole.
            self._values = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


MASKER = Masker()


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

    On a terminal (and not in CI), progress is one status line that rewrites itself
    with each function's current step; elsewhere every step is a plain line.
    """

    json_mode: bool = False
    quiet: bool = False
    verbose: bool = False
    color: bool | None = None
    live: bool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _status: dict[str, str] = field(default_factory=dict, repr=False)

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
            if self._status:
                sys.stderr.write("\r\033[K")
            click.echo(MASKER(text), file=stream or sys.stderr)
            self._draw()

    def _draw(self) -> None:
        if not self._status:
            return
        line = "  ".join(f"{name}: {step}" for name, step in self._status.items())
        width = max(20, shutil.get_terminal_size().columns - 1)
        sys.stderr.write("\r\033[K" + MASKER(line)[:width])
        sys.stderr.flush()

    def end_progress(self) -> None:
        """Remove the status line before results are printed."""
        with self._lock:
            if self._status:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
                self._status.clear()

    def event(self, event: Event) -> None:
        """A progress step; called from worker threads."""
        if self.quiet and event.level == "info":
            return
        if self.live and event.level == "info":
            with self._lock:
                self._status[event.function] = event.message
                self._draw()
            return
        colour = {"error": "red", "warning": "yellow"}.get(event.level)
        prefix = self.style(f"{event.function}:", bold=True)
        message = self.style(event.message, fg=colour) if colour else event.message
        self._write(f"{prefix} {message}")

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
            click.echo(MASKER(json.dumps(document, indent=2, sort_keys=False, default=str)))

    def summary(self, command: str, results: Sequence[FunctionResult]) -> None:
        for result in results:
            self.result(self._summary_line(result))
            if result.smoke and result.smoke.report and result.ok:
                hint = right_sizing_hint(result.smoke.report)
                if hint:
                    self.result(f"    hint: {hint}")
            for change in result.triggers:
                self.result(f"    trigger {change}")
            if result.conflict:
                for change in result.conflict.changes:
                    self.result(f"    {change.field}: {change.old} -> {change.new}")
        self.document(results_document(command, results))

    def _summary_line(self, r: FunctionResult) -> str:
        status = self.style("ok", fg="green") if r.ok else self.style("FAILED", fg="red", bold=True)
        parts = [f"{status} {self.style(r.function.name, bold=True)}"]
        if r.version:
            parts.append(f"version {r.version}" + (" (published)" if r.published else ""))
        if r.canary_weight is not None:
            parts.append(f"{r.alias}: {r.alias_from} with {r.canary_weight:.0%} on {r.version} (canary; "
                         f"`push --finish --alias {r.alias}` completes it, `rollback --alias {r.alias}` cancels it)")
        elif r.alias_moved and r.alias_from == r.alias_to:
            parts.append(f"{r.alias}: {r.alias_to} (canary cancelled)")
        elif r.alias_moved:
            parts.append(f"{r.alias}: {r.alias_from or '(none)'} -> {r.alias_to}")
        elif r.ok:
            parts.append(f"{r.alias}: {r.alias_to or r.alias_from} (unchanged)")
        else:
            parts.append(f"{r.alias}: {r.alias_from or '(none)'} (not moved)")
        if r.artifact:
            parts.append(f"package {human_size(r.artifact.zipped_size)}" + ("" if r.uploaded else " (not uploaded)"))
        if r.smoke_skipped:
            parts.append("smoke SKIPPED (--skip-smoke)")
        elif r.smoke:
            parts.append("smoke " + smoke_text(r.smoke, r.function.architecture))
        line = "  ".join(parts)
        if r.error and not r.ok:
            line += "\n    " + r.error.replace("\n", "\n    ")
        if r.smoke and not r.smoke.passed and r.smoke.log_tail:
            line += "\n    log tail:\n" + "\n".join("      " + s for s in r.smoke.log_tail.rstrip().splitlines()[-30:])
        return line


def smoke_text(smoke: SmokeResult, architecture: str) -> str:
    text = smoke.describe()
    if smoke.report:
        rep = smoke.report
        text += f" (billed {rep.billed_ms} ms, {rep.max_memory_mb} of {rep.memory_mb} MB"
        text += f", ${cost_per_million(rep, architecture):.2f} per 1M invokes)"
    return text


def smoke_document(smoke: SmokeResult | None, architecture: str) -> dict[str, Any] | None:
    if smoke is None:
        return None
    report = smoke.report
    return {
        "passed": smoke.passed,
        "version": smoke.version,
        "function_error": smoke.function_error,
        "error_type": smoke.error_type,
        "error_message": smoke.error_message,
        "mismatch": smoke.mismatch,
        "duration_ms": report.duration_ms if report else None,
        "billed_duration_ms": report.billed_ms if report else None,
        "memory_mb": report.memory_mb if report else None,
        "max_memory_used_mb": report.max_memory_mb if report else None,
        "cost_per_million_usd": round(cost_per_million(report, architecture), 4) if report else None,
        "prices_date": PRICES_DATE,
    }


def results_document(command: str, results: Sequence[FunctionResult]) -> dict[str, Any]:
    return {
        "command": command,
        "ok": all(r.ok for r in results),
        "functions": [
            {
                "function": r.function.key,
                "name": r.function.name,
                "ok": r.ok,
                "version": r.version,
                "published": r.published,
                "uploaded": r.uploaded,
                "alias": {"name": r.alias, "from": r.alias_from, "to": r.alias_to, "moved": r.alias_moved,
                          "canary_weight": r.canary_weight},
                "package": None if r.artifact is None else {
                    "zipped_bytes": r.artifact.zipped_size,
                    "unzipped_bytes": r.artifact.unzipped_size,
                    "files": r.artifact.file_count,
                    "sha256": r.artifact.sha256,
                    "dependencies_from_cache": r.artifact.deps_from_cache,
                },
                "smoke": smoke_document(r.smoke, r.function.architecture),
                "smoke_skipped": r.smoke_skipped,
                "planned": r.planned,
                "steps": r.steps,
                "triggers": r.triggers,
                "conflict": None if r.conflict is None else [
                    {"field": c.field, "from": c.old, "to": c.new} for c in r.conflict.changes
                ],
                "error": r.error,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ],
    }
