"""What installing lambdadeploy costs: packages, size on disk and install time of the core
install (`pip install .`) next to the sandbox extra (`pip install '.[sandbox]'`).

    python bench/install_size.py              # 3 runs per row, about 2 minutes once pip's cache is warm
    python bench/install_size.py --runs 1 --markdown bench/.work/install.md

Each run makes a fresh venv (`python -m venv`, with pip) under bench/.work/install/ and times
`pip install SPEC` from the project root; one untimed install of each spec first warms pip's
cache, so the time is resolving, building the project's wheel and unpacking, not downloading.
Packages and size are what the install added to the venv (its own pip and setuptools are not
counted); the size is the bytes of the added files as they lie on disk, bytecode included. CPU
time (pip and its build backend, user + system) says what the install costs when the wall time
is stretched by other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work" / "install"
SPECS = (("core", "."), ("sandbox extra", ".[sandbox]"))
CORE_GOAL = 15  # packages (#19)


@dataclass(frozen=True)
class Install:
    name: str
    spec: str
    packages: tuple[str, ...]
    size_bytes: int
    seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...]  # what the install costs whatever else the machine runs

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)


def disk_usage(path: Path) -> int:
    """Bytes the files under `path` take (hard links once), like `du -sb`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            stat = os.lstat(os.path.join(folder, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total


def packages_of(python: Path) -> set[str]:
    listing = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True,
                             check=True)
    return {f"{p['name']}=={p['version']}" for p in json.loads(listing.stdout)}


def one_install(spec: str, venv: Path) -> tuple[float, float, set[str], int]:
    """Fresh venv, then time `pip install SPEC`; -> seconds, CPU seconds, packages added, bytes added."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    before, size_before = packages_of(python), disk_usage(venv)
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"pip install {spec} failed:\n{done.stdout}{done.stderr}")
    return seconds, cpu, packages_of(python) - before, disk_usage(venv) - size_before


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: pip and its build backend."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, spec: str, runs: int) -> Install:
    venv = WORK / name.replace(" ", "-")
    one_install(spec, venv)  # warm pip's cache (and build the wheel once)
    results = [one_install(spec, venv) for _ in range(runs)]
    _, _, packages, size = results[-1]
    return Install(name, spec, tuple(sorted(packages, key=str.lower)), size, tuple(r[0] for r in results),
                   tuple(r[1] for r in results))


def table(installs: list[Install]) -> str:
    rows = [("install", "command", "packages", "size on disk", "install time (median)", "CPU time (median)")]
    for item in installs:
        rows.append((item.name, f"pip install '{item.spec}'", str(len(item.packages)),
                     f"{item.size_bytes / 1e6:.1f} MB", f"{item.median_seconds:.1f} s",
                     f"{statistics.median(item.cpu_seconds):.1f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed installs per row (default 3)")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    installs = [measure(name, spec, args.runs) for name, spec in SPECS]
    core = installs[0]
    report = "\n".join([
        table(installs), "",
        f"core packages: {', '.join(core.packages)}",
        f"goal: core <= {CORE_GOAL} packages: {'met' if len(core.packages) <= CORE_GOAL else 'MISSED'}",
        f"python {sys.version.split()[0]}, {args.runs} timed run(s) per row, pip's cache warm, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end",
    ])
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0 if len(core.packages) <= CORE_GOAL else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
