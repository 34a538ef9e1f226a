"""Where a `package` of the pandas function spends its time, in-process (a diagnostic).

    python bench/profile_package.py [--runs N]

Not part of the table: it times lambdadeploy's packaging steps from inside
(installer, fragment compression, zip writing, ...) by wrapping module functions,
and runs the dependency compression with one worker and with the default pool,
to show whether compression really uses both cores. It wraps private functions
of lambdadeploy.packaging; a step whose function was renamed shows as "n/a".
It also reports how busy the machine's cores were with other work meanwhile:
on a shared machine, a second core taken by someone else hides any speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, fresh_dir
from projects import write_projects

WRAPPED = [
    ("lambdadeploy.packaging.files", "select_files", "select source files"),
    ("lambdadeploy.packaging.installer", "install", "uv install (cache miss only)"),
    ("lambdadeploy.packaging.archive", "dependency_entries", "dependency entries (fragment)"),
    ("lambdadeploy.packaging.archive", "_compress_all", "  of which compression"),
    ("lambdadeploy.packaging.zipfmt", "read_entries", "  of which fragment read"),
    ("lambdadeploy.packaging.zipfmt", "write_zip", "write_zip (fragment and final zip)"),
]


def idle_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return (int(fields[3]) + int(fields[4])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import importlib

    from lambdadeploy import config
    from lambdadeploy.packaging import archive, build_artifact
    from lambdadeploy.packaging.files import walk_tree

    timings: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)
    for module_name, name, label in WRAPPED:
        module = importlib.import_module(module_name)
        original = getattr(module, name, None)
        if original is None:
            continue

        def wrapper(*a, _original=original, _label=label, **k):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                current[_label] += time.perf_counter() - started

        setattr(module, name, wrapper)
        # build.py imported some of them by name: patch its references too.
        build = importlib.import_module("lambdadeploy.packaging.build")
        if getattr(build, name, None) is original:
            setattr(build, name, wrapper)

    project = write_projects(WORK / "profile")
    context = config.RenderContext(alias=None, region=lambda: "us-east-1", account_id=lambda: "000000000000")
    fn = next(f for f in config.load(project, context).functions if f.key == "data")

    for kind in ("cold", "warm"):
        for _ in range(args.runs):
            cache = WORK / "profile-cache"
            if kind == "cold":
                fresh_dir(cache)
            current.clear()
            started = time.perf_counter()
            build_artifact(fn, cache_dir=cache)
            timings[f"{kind}: total build_artifact"].append(time.perf_counter() - started)
            for label, seconds in current.items():
                timings[f"{kind}: {label}"].append(seconds)
    print(f"build_artifact of the pandas function, median of {args.runs}:")
    for label, values in timings.items():
        print(f"  {label:<50} {statistics.median(values):7.3f} s")

    # Compression: one worker vs the default pool, on the installed tree.
    site = next((WORK / "profile-cache" / "deps").glob("*/site"))
    files = sorted(walk_tree(site), key=lambda f: f.arcname)
    items = [(f.arcname, f.path, f.executable) for f in files]
    total = sum(p.stat().st_size for _, p, _ in items)
    print(f"\ncompressing {len(items)} files, {total / 1e6:.0f} MB (archive._compress_all):")
    default_min = archive.PARALLEL_MIN_BYTES
    for label, minimum in (("1 worker", 10**15), ("default pool", default_min)) * args.runs:
        archive.PARALLEL_MIN_BYTES = minimum
        idle0, wall0, cpu0 = idle_seconds(), time.perf_counter(), time.process_time()
        archive._compress_all(items)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        idle = idle_seconds() - idle0
        print(f"  {label:<13} wall {wall:5.2f} s  cpu {cpu:5.2f} s  ({cpu / wall:.2f} cores)  "
              f"machine idle meanwhile: {idle / wall:.2f} cores")
    archive.PARALLEL_MIN_BYTES = default_min
    return 0


if __name__ == "__main__":
    sys.exit(main())
