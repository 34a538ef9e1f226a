"""Packaging benches: cold package, rebuild after a one-line edit, peak RSS.

Every timed run measures all tools on the same sample back to back (interleaved
runs), so drift on a shared machine hits them alike; the table shows medians.
"""

from __future__ import annotations

import json
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alternatives import Sam, pip_package, zip_add, zip_tree
from common import (
    WORK,
    BenchError,
    Series,
    base_env,
    fmt_mb,
    fmt_ratio,
    fmt_seconds,
    fresh_dir,
    lambdadeploy_cmd,
    markdown_table,
    measure,
    ratio,
)
from projects import Sample, edit_handler

LD = "lambdadeploy"
SAM = "sam build + zip -r"
SAM_CACHED = "sam build --cached + zip -r"
PIP = "pip install --target + zip -r"
ZIPR = "zip -r (same files)"
ZIPADD = "zip (replace handler in last zip)"
WATCH = "lambdadeploy --watch"


@dataclass
class PackagingResults:
    samples: list[Sample]
    cold: dict[tuple[str, str], Series] = field(default_factory=dict)
    rebuild: dict[tuple[str, str], Series] = field(default_factory=dict)
    rss: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (sample, what) -> KiB
    sizes: dict[tuple[str, str], int] = field(default_factory=dict)  # (sample, tool) -> zip bytes
    internal: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # build_artifact seconds
    cores: dict[str, list[float]] = field(default_factory=dict)  # sample -> CPU/wall of cold ld runs
    startup: Series = field(default_factory=Series)  # `python -m lambdadeploy --version`
    floor: Series = field(default_factory=Series)  # Python importing click, yaml and pathspec
    sam_missing: str | None = None

    def series(self, table: dict[tuple[str, str], Series], sample: str, tool: str) -> Series:
        return table.setdefault((sample, tool), Series())

    def peak(self, sample: str, what: str, kb: int) -> None:
        self.rss.setdefault((sample, what), []).append(kb)


class PackagingBench:
    def __init__(self, project: Path, runs: int, samples: list[Sample], log: Callable[[str], None]) -> None:
        self.project = project
        self.config = project / "lambda.yaml"
        self.runs = runs
        self.log = log
        self.results = PackagingResults(samples)
        if shutil.which("zip") is None:
            raise BenchError("the `zip` command is needed for the alternatives (apt-get install zip)")
        self.sam = Sam(log)
        if not self.sam.available:
            self.results.sam_missing = self.sam.reason
            log(f"sam build cannot run: {self.sam.reason}")
        self.out = fresh_dir(WORK / "out")
        self.caches = WORK / "ld-cache"

    # --- lambdadeploy ------------------------------------------------------------------

    def ld_package(self, sample: Sample, cache: Path, label: str) -> tuple[float, int]:
        """`lambdadeploy package` of one sample: (seconds, peak RSS in KiB)."""
        out = self.out / "ld"
        cmd = lambdadeploy_cmd(self.config, "--json", "package", sample.key, "--out", str(out))
        env = base_env(LAMBDADEPLOY_CACHE_DIR=str(cache))
        measured = measure(cmd, env=env, cwd=self.project, label=label)
        if label.startswith("cold-"):
            self.results.cores.setdefault(sample.key, []).append(measured.cpu_seconds / measured.seconds)
        zip_path = out / f"bench-{sample.key}.zip"
        self.results.sizes[(sample.key, LD)] = zip_path.stat().st_size
        document = _json_output(WORK / "logs" / f"{label}.log.out")
        if document:
            self.results.internal.setdefault((sample.key, label.split("-")[0]), []).append(
                document["functions"][0]["seconds"]
            )
        return measured.seconds, measured.peak_rss_kb

    # --- sections ----------------------------------------------------------------------

    def warm_download_caches(self) -> None:
        """One untimed cold build per tool and sample: pip's and uv's download caches fill."""
        self.log("warming the installers' download caches (untimed)...")
        for sample in self.results.samples:
            cache = fresh_dir(self.caches / "warmup")
            self.ld_package(sample, cache, f"warmup-ld-{sample.key}")
            if self.sam.available:
                tdir = self.project / "sam" / sample.key
                self.sam.clean(tdir)
                self.sam.package(tdir, self.out / f"sam-{sample.key}.zip", cached=False,
                                 label=f"warmup-sam-{sample.key}")
            pip_package(sample, sample.function_dir(self.project), WORK / "pip" / sample.key,
                        self.out / f"pip-{sample.key}.zip", f"warmup-pip-{sample.key}")
        shutil.rmtree(self.caches / "warmup", ignore_errors=True)

    def cold(self) -> None:
        """Cold package: empty lambdadeploy dependency cache / sam build dir / pip target."""
        r = self.results
        for run in range(self.runs):
            for sample in r.samples:
                self.log(f"cold run {run + 1}/{self.runs}: {sample.key}")
                cache = fresh_dir(self.caches / "cold")
                seconds, rss = self.ld_package(sample, cache, f"cold-ld-{sample.key}-{run}")
                r.series(r.cold, sample.key, LD).add(seconds)
                r.peak(sample.key, "cold", rss)
                if self.sam.available:
                    tdir = self.project / "sam" / sample.key
                    self.sam.clean(tdir)
                    out = self.out / f"sam-{sample.key}.zip"
                    seconds, rss = self.sam.package(tdir, out, cached=False, label=f"cold-sam-{sample.key}-{run}")
                    r.series(r.cold, sample.key, SAM).add(seconds)
                    r.sizes[(sample.key, SAM)] = out.stat().st_size
                    r.peak(sample.key, "sam", rss)
                out = self.out / f"pip-{sample.key}.zip"
                seconds, rss = pip_package(sample, sample.function_dir(self.project),
                                           WORK / "pip" / sample.key, out, f"cold-pip-{sample.key}-{run}")
                r.series(r.cold, sample.key, PIP).add(seconds)
                r.sizes[(sample.key, PIP)] = out.stat().st_size
                r.peak(sample.key, "pip", rss)
        shutil.rmtree(self.caches / "cold", ignore_errors=True)

    def rebuild(self) -> None:
        """After a one-line handler edit, with everything from the previous build at hand."""
        r = self.results
        warm = fresh_dir(self.caches / "warm")
        staged: dict[str, Path] = {}
        for sample in r.samples:
            self.log(f"rebuild setup: {sample.key}")
            self.ld_package(sample, warm, f"prime-ld-{sample.key}")
            if self.sam.available:
                tdir = self.project / "sam" / sample.key
                self.sam.clean(tdir)
                self.sam.package(tdir, self.out / f"samc-{sample.key}.zip", cached=True,
                                 label=f"prime-sam-{sample.key}")
            # The tree `zip -r` packs: the pip --target folder with the handler copied in.
            tree = WORK / "staged" / sample.key
            pip_package(sample, sample.function_dir(self.project), tree,
                        self.out / f"staged-{sample.key}.zip", f"prime-pip-{sample.key}")
            staged[sample.key] = tree
        for run in range(self.runs):
            for sample in r.samples:
                self.log(f"rebuild run {run + 1}/{self.runs}: {sample.key}")
                source = sample.function_dir(self.project)
                edit_handler(source / "app.py", 1000 + run)
                seconds, rss = self.ld_package(sample, warm, f"rebuild-ld-{sample.key}-{run}")
                r.series(r.rebuild, sample.key, LD).add(seconds)
                r.startup.add(measure(lambdadeploy_cmd(self.config, "--version"), env=base_env(),
                                      cwd=self.project, label=f"startup-{sample.key}-{run}").seconds)
                r.floor.add(measure([sys.executable, "-c", "import click, yaml, pathspec"], env=base_env(),
                                    cwd=self.project, label=f"floor-{sample.key}-{run}").seconds)
                r.peak(sample.key, "rebuild", rss)
                if self.sam.available:
                    tdir = self.project / "sam" / sample.key
                    seconds, _ = self.sam.package(tdir, self.out / f"samc-{sample.key}.zip", cached=True,
                                                  label=f"rebuild-sam-{sample.key}-{run}")
                    r.series(r.rebuild, sample.key, SAM_CACHED).add(seconds)
                tree = staged[sample.key]
                shutil.copy2(source / "app.py", tree / "app.py")
                fresh_zip = self.out / f"zipr-{sample.key}.zip"
                r.series(r.rebuild, sample.key, ZIPR).add(
                    zip_tree(tree, fresh_zip, f"rebuild-zipr-{sample.key}-{run}").seconds)
                r.series(r.rebuild, sample.key, ZIPADD).add(
                    zip_add(self.out / f"staged-{sample.key}.zip", source, "app.py",
                            f"rebuild-zipadd-{sample.key}-{run}").seconds)
        for sample in r.samples:
            self.log(f"rebuild with --watch: {sample.key}")
            for seconds in self.watch_rebuilds(sample, warm):
                r.series(r.rebuild, sample.key, WATCH).add(seconds)
        for sample in r.samples:
            edit_handler(sample.function_dir(self.project) / "app.py", 0)

    def watch_rebuilds(self, sample: Sample, cache: Path) -> list[float]:
        """`package --watch`: the time from a one-line handler edit (the file written) to the
        rebuild's --json line (the zip written), one per run; the process stays up between."""
        cmd = lambdadeploy_cmd(self.config, "--json", "package", sample.key, "--out", str(self.out / "watch"),
                               "--watch")
        env = base_env(LAMBDADEPLOY_CACHE_DIR=str(cache))
        log = WORK / "logs" / f"watch-{sample.key}.log.err"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as errors:
            process = subprocess.Popen(cmd, env=env, cwd=self.project, stdout=subprocess.PIPE, stderr=errors, text=True)
            try:
                _watch_document(process)  # the first build
                times = []
                for run in range(self.runs):
                    time.sleep(0.3)  # a person's pause between saves; the watcher is idle meanwhile
                    started = time.perf_counter()
                    edit_handler(sample.function_dir(self.project) / "app.py", 2000 + run)
                    document = _watch_document(process)
                    times.append(time.perf_counter() - started)
                    if not document.get("ok") or [f["function"] for f in document["functions"]] != [sample.key]:
                        raise BenchError(f"package --watch did not rebuild {sample.key}: {document}")
                return times
            finally:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)


def _watch_document(process: subprocess.Popen, timeout: float = 120) -> dict:
    """The next --json line of a `package --watch` process."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        raise BenchError(f"package --watch gave no build within {timeout} s (see logs/watch-*.log.err)")
    return json.loads(line)


def _json_output(path: Path) -> dict | None:
    """The --json document a command printed on stdout (rss.py keeps it in LOG.out)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- tables ----------------------------------------------------------------------------------


def cold_table(r: PackagingResults, runs: int) -> str:
    headers = ["function", LD, "cores used", SAM, "ratio", PIP, "ratio", "zip MB (ld / sam / pip)"]
    rows = []
    for s in r.samples:
        ld = r.series(r.cold, s.key, LD).median
        sam = r.series(r.cold, s.key, SAM).median
        pip = r.series(r.cold, s.key, PIP).median
        sizes = " / ".join(
            f"{r.sizes[(s.key, t)] / 1e6:.1f}" if (s.key, t) in r.sizes else "n/a" for t in (LD, SAM, PIP)
        )
        cores = r.cores.get(s.key)
        used = f"{sorted(cores)[len(cores) // 2]:.2f}" if cores else "n/a"
        rows.append([s.label, fmt_seconds(ld), used, fmt_seconds(sam) if sam is not None else _na(r),
                     fmt_ratio(ratio(ld, sam)), fmt_seconds(pip), fmt_ratio(ratio(ld, pip)), sizes])
    return markdown_table(headers, rows)


def startup_text(r: PackagingResults) -> str:
    if r.startup.median is None:
        return ""
    floor = (f"; Python importing only the libraries a lambda.yaml packer needs (click, yaml, pathspec): "
             f"{fmt_seconds(r.floor.median)}" if r.floor.median is not None else "")
    return (f"CLI start-up alone (`python -m lambdadeploy --version`, median): {fmt_seconds(r.startup.median)}{floor}; "
            "the \"in-process build\" column is build_artifact's own time from `package --json`.")


def rebuild_table(r: PackagingResults) -> str:
    headers = ["function", LD, "(in-process build)", WATCH, SAM_CACHED, "ratio", ZIPR, "ratio", ZIPADD,
               "ratio", f"{WATCH}: ratio"]
    rows = []
    for s in r.samples:
        ld = r.series(r.rebuild, s.key, LD).median
        watched = r.series(r.rebuild, s.key, WATCH).median
        sam = r.series(r.rebuild, s.key, SAM_CACHED).median
        zipr = r.series(r.rebuild, s.key, ZIPR).median
        zipadd = r.series(r.rebuild, s.key, ZIPADD).median
        internal = r.internal.get((s.key, "rebuild"))
        inner = fmt_seconds(sorted(internal)[len(internal) // 2]) if internal else "n/a"
        rows.append([s.label, fmt_seconds(ld), inner, fmt_seconds(watched), fmt_seconds(sam) if sam is not None else _na(r),
                     fmt_ratio(ratio(ld, sam)), fmt_seconds(zipr), fmt_ratio(ratio(ld, zipr)),
                     fmt_seconds(zipadd), fmt_ratio(ratio(ld, zipadd)), fmt_ratio(ratio(watched, zipadd))])
    return markdown_table(headers, rows)


def memory_table(r: PackagingResults) -> str:
    headers = ["function", "lambdadeploy cold", "lambdadeploy rebuild", "sam build", "pip install --target"]
    rows = []
    for s in r.samples:
        cells = [s.label]
        for what in ("cold", "rebuild", "sam", "pip"):
            values = [v for v in r.rss.get((s.key, what), []) if v]
            cells.append(fmt_mb(max(values)) if values else "-")
        rows.append(cells)
    return markdown_table(headers, rows)


def _na(r: PackagingResults) -> str:
    return f"n/a ({r.sam_missing})" if r.sam_missing else "n/a"
