"""lambdadeploy's speed, side by side with the alternatives, in one run.

    python bench/run.py                 # the full bench (about 10-15 minutes on 2 cores)
    python bench/run.py --quick         # a short version (one run each, under 3 minutes)
    python bench/run.py --only cold --runs 3
    python bench/run.py --markdown bench/.work/report.md   # also write the report there

Sections (--only takes one, or several separated by commas):
  cold      cold package vs `sam build` + zip -r and vs `pip install --target` + zip -r
  rebuild   package after a one-line handler edit vs `sam build --cached` + zip -r and `zip -r`
  memory    peak RSS of `lambdadeploy package` (from the cold and rebuild runs)
  push      full and no-op pushes through the sandbox
  parallel  10 functions through a loopback proxy adding 150 ms per request, --parallel 1 vs 10
  fleet     100 and 300 functions behind a proxy enforcing Lambda's request quotas (50 ms per
            request), vs a baseline lambdadeploy (--baseline-python) and a boto3 script

It measures the lambdadeploy installed in this interpreter (`python -m lambdadeploy`),
builds its sample projects and the aws-sam-cli venv under bench/.work/, and prints
medians; ratios are lambdadeploy's time divided by the alternative's (lower is better).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, BenchError, compile_bytecode, fmt_mb, fmt_ratio, fresh_dir, ratio
from fleet_bench import FleetBench
from packaging_bench import (
    LD,
    SAM,
    WATCH,
    ZIPADD,
    ZIPR,
    PackagingBench,
    cold_table,
    memory_table,
    rebuild_table,
    startup_text,
)
from projects import SAMPLE_BY_KEY, SAMPLES, fanout_keys, write_projects
from push_bench import PushBench, chains_text, latency_table, phases_text, push_table

SECTIONS = ("cold", "rebuild", "memory", "push", "parallel", "fleet")
DEFAULT_SECTIONS = ("cold", "rebuild", "memory", "push", "parallel")  # fleet takes its own ~15 minutes
FULL_RUNS = 5
QUICK_RUNS = 1
GOAL_FUNCTION = "data"  # the pandas function the packaging goals name


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--quick", action="store_true", help=f"one run of everything (default runs: {FULL_RUNS})")
    parser.add_argument("--only", metavar="SECTION", help=f"run only these sections: {', '.join(SECTIONS)}")
    parser.add_argument("--runs", type=int, metavar="N", help="timed runs per measurement (medians are shown)")
    parser.add_argument("--samples", metavar="KEYS", default=",".join(s.key for s in SAMPLES),
                        help="sample functions for the packaging and single-function push rows "
                        "(default: tiny,web,data)")
    parser.add_argument("--markdown", metavar="PATH", type=Path, help="also write the report to PATH")
    parser.add_argument("--fleet-sizes", default="100,300", help="fleet section: functions per fleet (default 100,300)")
    parser.add_argument("--baseline-python", metavar="PYTHON",
                        help="fleet section: the interpreter of another lambdadeploy install, measured side by side "
                        "(e.g. a venv with main installed)")
    parser.add_argument("--fleet-parallel", type=int, metavar="N", help="fleet section: --parallel for every push "
                        "(default: lambdadeploy's own default; the boto3 script uses 10 workers)")
    parser.add_argument("--per-api", action="store_true", help="fleet section: a 15/s bucket per API instead of one "
                        "shared by all control-plane APIs (the other reading of AWS's quota page)")
    parser.add_argument("--no-script", action="store_true", help="fleet section: leave out the boto3 script")
    args = parser.parse_args(argv)
    sections = set(DEFAULT_SECTIONS) if not args.only else {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    args.sections = sections
    args.runs = args.runs or (QUICK_RUNS if args.quick else FULL_RUNS)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    keys = [k.strip() for k in args.samples.split(",") if k.strip()]
    bad = [k for k in keys if k not in SAMPLE_BY_KEY]
    if bad:
        parser.error(f"unknown sample(s) {', '.join(bad)}; choose from {', '.join(SAMPLE_BY_KEY)}")
    args.sample_list = [SAMPLE_BY_KEY[k] for k in keys]
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def versions() -> str:
    parts = []
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True,
                               text=True, check=False).stdout.strip()
        parts.append(f"lambdadeploy at {commit}" + (" (+ uncommitted changes in src/)" if dirty else ""))
    except OSError:
        pass
    try:
        import uv

        uv_version = subprocess.run([uv.find_uv_bin(), "--version"], capture_output=True, text=True,
                                    check=False).stdout.strip()
        parts.append(uv_version)
    except (ImportError, OSError, FileNotFoundError):
        pass
    return ", ".join(parts)


def cpu_busy_seconds() -> float | None:
    """CPU seconds all processes on this machine have used since boot (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and every child it waited for (the commands it measured)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def goals(pk: PackagingBench | None, pb: PushBench | None) -> list[str]:
    lines = []

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    if pk is not None:
        r = pk.results
        keys = {s.key for s in r.samples}
        if GOAL_FUNCTION in keys and r.cold:
            value = ratio(r.series(r.cold, GOAL_FUNCTION, LD).median, r.series(r.cold, GOAL_FUNCTION, SAM).median)
            why = f" ({r.sam_missing})" if r.sam_missing else ""
            lines.append(f"- cold package <= 0.5x (sam build + zip) on the pandas function: "
                         f"{fmt_ratio(value)}{why} -> {verdict(None if value is None else value <= 0.5)}")
        if GOAL_FUNCTION in keys and r.rebuild:
            value = ratio(r.series(r.rebuild, GOAL_FUNCTION, LD).median,
                          r.series(r.rebuild, GOAL_FUNCTION, ZIPR).median)
            internal = r.internal.get((GOAL_FUNCTION, "rebuild"))
            inner = ""
            if internal:
                inside = sorted(internal)[len(internal) // 2]
                inner_ratio = ratio(inside, r.series(r.rebuild, GOAL_FUNCTION, ZIPR).median)
                inner = f"; the build itself, without CLI start-up: {fmt_ratio(inner_ratio)}"
            lines.append(f"- rebuild after a code edit <= 0.1x `zip -r` of the same files (pandas function): "
                         f"{fmt_ratio(value)} -> {verdict(None if value is None else value <= 0.1)}{inner}")
            zipadd = r.series(r.rebuild, GOAL_FUNCTION, ZIPADD).median
            for label, key in (("one `package` command", LD), ("`package --watch`", WATCH)):
                value = ratio(r.series(r.rebuild, GOAL_FUNCTION, key).median, zipadd)
                lines.append(f"- rebuild after a one-line edit within 3x of a script replacing that entry in the last "
                             f"zip (pandas function, #18), {label}: {fmt_ratio(value)} -> "
                             f"{verdict(None if value is None else value <= 3)}")
        peaks = r.rss.get((GOAL_FUNCTION, "cold"), []) + r.rss.get((GOAL_FUNCTION, "rebuild"), [])
        if peaks:
            lines.append(f"- packaging peak RSS < 200 MB (pandas function, worst run): {fmt_mb(max(peaks))} "
                         f"-> {verdict(max(peaks) < 200 * 1024)}")
    if pb is not None:
        r = pb.results
        n = len(fanout_keys())
        if r.latency:
            value = ratio(r.series(r.latency, ("full", n)).median, r.series(r.latency, ("full", 1)).median)
            lines.append(f"- {n} functions at 150 ms: parallel <= 0.35x serial (full push): {fmt_ratio(value)} "
                         f"-> {verdict(None if value is None else value <= 0.35)}")
        if r.noop_fanout.values:
            median = r.noop_fanout.median
            lines.append(f"- no-op push of {n} functions: no upload, no publish (checked on every run) and "
                         f"< 2 s through the sandbox: median {median:.2f} s, worst {max(r.noop_fanout.values):.2f} s "
                         f"-> {verdict(median < 2)}")
    return lines


def fleet_goals(fleets: list[FleetBench]) -> list[str]:
    lines = []
    for fleet in fleets:
        ours = fleet.contenders[0].rows
        if "noop" in ours and fleet.count == 100:
            row = ours["noop"]
            met = row.seconds <= 3 and row.throttled == 0
            lines.append(f"- no-op push of 100 functions <= 3 s with no request throttled: {row.seconds:.2f} s, "
                         f"{row.throttled} throttled -> {'met' if met else 'MISSED'}")
        if "full" in ours:
            row = ours["full"]
            floor = row.floor(fleet.proxy)[0]
            value = row.seconds / floor if floor else None
            lines.append(f"- full push of {fleet.count} functions <= 1.3x the quota floor: {row.seconds:.2f} s over "
                         f"{floor:.2f} s = {value:.2f}x, {row.throttled} throttled -> "
                         f"{'met' if value is not None and value <= 1.3 else 'MISSED'}")
        many = [fleet.history.get(("lambdadeploy", key, kind)) for key in ("many", "few") for kind in ("noop", "full")]
        if all(many):
            same = sum(many[0].values()) <= sum(many[2].values()) and sum(many[1].values()) <= sum(many[3].values())
            lines.append(f"- a function with 1,000 versions costs no more per push than one with 5 ({fleet.count} "
                         f"fleet): no-op {sum(many[0].values())} vs {sum(many[2].values())} requests, full "
                         f"{sum(many[1].values())} vs {sum(many[3].values())} -> {'met' if same else 'MISSED'}")
    return lines


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = loadavg()
    busy_before, own_before = cpu_busy_seconds(), own_cpu_seconds()
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK / "logs", ignore_errors=True)
    compile_bytecode()
    project = WORK / "project"
    write_projects(project)
    log(f"sections: {', '.join(s for s in SECTIONS if s in args.sections)}; {args.runs} run(s) each; "
        f"samples: {', '.join(s.key for s in args.sample_list)}")

    pk = pb = None
    fleets: list[FleetBench] = []
    try:
        if args.sections & {"cold", "rebuild", "memory"}:
            pk = PackagingBench(project, args.runs, args.sample_list, log)
            if args.sections & {"cold", "memory"}:
                pk.warm_download_caches()
                pk.cold()
            if args.sections & {"rebuild", "memory"}:
                pk.rebuild()
        if args.sections & {"push", "parallel"}:
            pb = PushBench(project, args.runs, args.sample_list, log, quick=args.quick)
            pb.all(args.sections)
        if "fleet" in args.sections:
            for size in (int(n) for n in args.fleet_sizes.split(",") if n.strip()):
                fleet = FleetBench(size, log, baseline_python=args.baseline_python, parallel=args.fleet_parallel,
                                   per_api=args.per_api, script=not args.no_script and size <= 100,
                                   history=not fleets)  # the history rows once, with the first fleet
                fleets.append(fleet)
                fleet.run()
    except BenchError as error:
        log(f"bench failed: {error}")
        return 1

    elapsed = time.monotonic() - started
    busy_after = cpu_busy_seconds()
    others = ""
    if busy_before is not None and busy_after is not None:
        other = max(0.0, (busy_after - busy_before) - (own_cpu_seconds() - own_before))
        others = (f"; other processes used {other / elapsed:.2f} of the {os.cpu_count()} cores on average "
                  "during the run (shared machine: the lower, the cleaner the numbers)")
    command = "python bench/run.py " + " ".join(argv) if argv else "python bench/run.py"
    out = [
        f"# lambdadeploy bench, {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Command: `{command}` ({args.runs} run(s) per measurement, medians; took {elapsed / 60:.1f} min)",
        f"Machine: {machine()}; load average {load_before} before, {loadavg()} after{others}",
        f"Versions: {versions()}" + (f", {pk.sam.version}" if pk and pk.sam.available else ""),
        "Ratios: lambdadeploy's median divided by the alternative's (below 1 = lambdadeploy is faster).",
    ]
    if pk is not None:
        r = pk.results
        if "cold" in args.sections or "memory" in args.sections:
            out += ["", "## Cold package (empty lambdadeploy cache; pip's and uv's download caches warm)", "",
                    cold_table(r, args.runs)]
        if "rebuild" in args.sections or "memory" in args.sections:
            out += ["", "## Rebuild after a one-line handler edit", "", rebuild_table(r), "", startup_text(r)]
        if "memory" in args.sections or "cold" in args.sections:
            out += ["", "## Peak RSS of packaging (largest process of the command's tree, worst run)", "",
                    memory_table(r)]
    if pb is not None:
        r = pb.results
        if r.first_push is not None:
            out += ["", f"First push (creates all {len(r.samples) + len(fanout_keys())} functions, "
                        f"default --parallel, sandbox): {r.first_push:.2f} s"]
        if "push" in args.sections:
            out += ["", "## Pushes through the sandbox", "", push_table(r)]
        if "parallel" in args.sections:
            out += ["", "## Parallel pushes behind a loopback proxy adding 150 ms per request", "",
                    latency_table(r), "", "Where the time went (medians):", phases_text(r), "",
                    "Requests (from the proxy's log of the first run):", chains_text(r)]
    for fleet in fleets:
        model = "a 15/s bucket per API" if args.per_api else "one 15/s bucket shared by the control-plane APIs"
        out += ["", f"## Fleet of {fleet.count} functions: 50 ms per request, Lambda's quotas enforced ({model}, "
                    "GetFunction 100/s)", "", fleet.table(), "", "Requests per push:", fleet.requests_text()]
        if fleet.history:
            out += ["", "Cost of history (one function pushed alone; requests on its path):", "",
                    fleet.history_table()]
    goal_lines = goals(pk, pb) + fleet_goals(fleets)
    if goal_lines:
        out += ["", "## Goals", "", *goal_lines]
    report = "\n".join(out) + "\n"
    print(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report)
        log(f"report written to {args.markdown}")
    fresh_dir(WORK / "out")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
