"""Shared plumbing of the bench: paths, environment, timed commands, medians, tables."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
LOGS = WORK / "logs"
RSS = BENCH / "rss.py"


class BenchError(RuntimeError):
    """A measured command failed: the bench stops rather than report a wrong number."""


def base_env(**extra: str) -> dict[str, str]:
    """The environment of every measured command: quiet, hermetic AWS settings, no IMDS."""
    env = dict(os.environ)
    env.update(
        {
            "CI": "true",
            "NO_COLOR": "1",
            # Dummy credentials and no instance metadata lookups: nothing leaves loopback.
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(WORK / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(WORK / "no-aws-credentials"),
            "SAM_CLI_TELEMETRY": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "LAMBDADEPLOY_ENDPOINT_URL", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def compile_bytecode() -> None:
    """Compile the measured lambdadeploy's bytecode, as pip does when it installs a package.

    An editable install run with PYTHONDONTWRITEBYTECODE (as on our machines, and in every
    measured command, see base_env) has none, so each command would compile all of
    lambdadeploy again, about 180 ms that no user who ran `pip install lambdadeploy` pays."""
    import compileall

    import lambdadeploy

    compileall.compile_dir(str(Path(lambdadeploy.__file__).parent), quiet=1)


def lambdadeploy_cmd(config: Path, *args: str) -> list[str]:
    """The lambdadeploy installed in this interpreter."""
    return [sys.executable, "-m", "lambdadeploy", "-c", str(config), *args]


@dataclass
class Measured:
    seconds: float
    peak_rss_kb: int = 0
    stdout: str = ""
    cpu_seconds: float = 0.0


def measure(cmd: Sequence[str], *, env: dict[str, str], cwd: Path, label: str) -> Measured:
    """Run cmd through rss.py (fresh process: its own RUSAGE_CHILDREN); fail loudly on error."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{label}.log"
    log.write_text(f"$ {' '.join(cmd)}\n")
    done = subprocess.run(
        [sys.executable, str(RSS), str(log), "--", *cmd],
        env=env, cwd=cwd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"{label}: rss.py failed: {done.stderr.strip()}") from exc
    if report["rc"] != 0:
        raise BenchError(f"{label}: exit {report['rc']}: see {log}\n{_tail(log)}")
    return Measured(report["seconds"], report["peak_rss_kb"], cpu_seconds=report["cpu_seconds"])


def run(cmd: Sequence[str], *, env: dict[str, str], cwd: Path, label: str,
        timeout: float = 600) -> Measured:
    """Run cmd, timing it from here; stdout is kept (for --json), stderr goes to the log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{label}.log"
    started = time.perf_counter()
    done = subprocess.run(
        list(cmd), env=env, cwd=cwd, capture_output=True, text=True, check=False,
        stdin=subprocess.DEVNULL, timeout=timeout,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    log.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    if done.returncode != 0:
        raise BenchError(f"{label}: exit {done.returncode}: see {log}\n{_tail(log)}")
    return Measured(seconds, 0, done.stdout)


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace").strip().splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def find_python(version: str) -> str | None:
    """An interpreter of exactly this version that really runs (pyenv shims on PATH may not)."""
    candidates = [shutil.which(f"python{version}")]
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [str(p) for p in sorted(root.glob(f"versions/{version}.*/bin/python{version}"),
                                          reverse=True)]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


# --- results -----------------------------------------------------------------------------


@dataclass
class Series:
    """Repeated measurements of one thing; None entries mark "could not run"."""

    values: list[float] = field(default_factory=list)
    missing: str | None = None  # why it could not be measured

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def fmt_mb(kb: float | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return ours / theirs


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)
