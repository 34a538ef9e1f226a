#!/usr/bin/env python3
"""On-demand mutation run (issue #20): mutmut over the pure modules, with the unit tests only.

    python scripts/mutation.py            # fresh run (about an hour on 2 shared cores), then a summary
    python scripts/mutation.py --resume   # keep mutants/ and only test what is not done yet
    python scripts/mutation.py --diffs    # the summary with each survivor's diff
    python scripts/mutation.py --report   # only summarise the results already in mutants/
    python scripts/mutation.py --only 'lambdadeploy.engine.plan.*'   # re-test some mutants (keeps mutants/)

Not part of CI: too slow for 2 cores. What is mutated and which tests run are set in one
place, `[tool.mutmut]` in pyproject.toml (repoint it when modules move). This script installs
the mutmut version it was written for into the running environment if it is missing, runs
it from the repository root, and prints a Markdown summary for docs/mutation.md: the score
per module, every surviving mutant, and the functions no unit test reaches. mutmut keeps its
copy of the project, its results and its log in mutants/ (ignored by git); afterwards,
`mutmut show NAME` prints one mutant and `mutmut browse` explores them all.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = "mutmut==3.8.1"  # 3.x: copies the project into mutants/, config in [tool.mutmut]
ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"
LOG = WORK / "mutmut-run.log"
DETECTED = {"killed", "timeout", "caught by type check"}
NOT_RUN = "not checked"  # mutmut's word for a mutant an interrupted run had not reached yet
RESULT = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")


def ensure_mutmut() -> Path:
    wanted = MUTMUT.split("==")[1]
    try:
        installed = importlib.metadata.version("mutmut")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != wanted:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", MUTMUT], check=True)
    return Path(sys.executable).parent / "mutmut"


def mutmut(exe: Path, *args: str, log: Path | None = None) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if log is None:
        done = subprocess.run([str(exe), *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"mutmut {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout
    with open(log, "w") as handle:  # the run's spinner is noise: keep it in the log
        code = subprocess.run([str(exe), *args], cwd=ROOT, env=env, stdout=handle,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        sys.exit(f"mutmut {' '.join(args)} failed (exit {code}); see {log.relative_to(ROOT)}")
    return ""


def not_scored() -> list[str]:
    """`not_scored` of [tool.mutmut]: mutant name globs reported apart, outside the score."""
    try:
        import tomllib

        config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    except ImportError:  # Python 3.10: mutmut itself depends on toml there
        import toml

        config = toml.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["mutmut"].get("not_scored", [])


def function_of(name: str) -> str:
    """lambdadeploy.engine.history.xǁAliasHistoryǁencode__mutmut_3 -> lambdadeploy.engine.history AliasHistory.encode"""
    mangled = name.partition("__mutmut_")[0]
    module, _, function = mangled.rpartition(".")
    function = function.removeprefix("x_") if function.startswith("x_") else function[1:]
    return f"{module} {function.strip('ǁ').replace('ǁ', '.')}"


def summary(results: dict[str, str], exe: Path, diffs: bool) -> str:
    patterns = not_scored()
    apart = {n: s for n, s in results.items() if any(fnmatch.fnmatchcase(n, p) for p in patterns)}
    results = {n: s for n, s in results.items() if n not in apart}
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in results.items():
        by_module[function_of(name).split()[0]][status] += 1
    lines = ["| module | mutants | killed | survived | no tests | not run | score |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    total: Counter[str] = Counter()
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        lines.append(row(module, counts))
    lines.append(row("**all**", total))
    lines += ["", "score = detected / (mutants that some unit test runs); detected = killed, timeout; "
              "not run: an interrupted run had not reached them (left out of the score).", ""]
    survivors = sorted((n for n, s in results.items() if s not in DETECTED | {"no tests", NOT_RUN}), key=number)
    lines.append(f"### Survivors ({len(survivors)}), by function: the mutant numbers")
    by_function: dict[str, list[str]] = defaultdict(list)
    for name in survivors:
        by_function[function_of(name)].append(name)
    for function, names in sorted(by_function.items()):
        numbers = ", ".join(n.rpartition("_")[2] + ("" if results[n] == "survived" else f" ({results[n]})")
                            for n in names)
        lines.append(f"- `{function.replace(' ', ':')}` ({len(names)}): {numbers}")
        if diffs:
            for name in names:
                diff = mutmut(exe, "show", name).splitlines()
                lines += [f"  - `{name}`", "    ```diff",
                          *("    " + d for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---")),
                          "    ```"]
    untested = Counter(function_of(n) for n, s in results.items() if s == "no tests")
    lines += ["", f"### No unit test reaches ({sum(untested.values())} mutants)"]
    lines += [f"- `{f.replace(' ', ':')}`: {count}" for f, count in sorted(untested.items())]
    lines += ["", f"### Not scored ({len(apart)} mutants; `not_scored` in [tool.mutmut])"]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in apart.items():
        counts[function_of(name)][status] += 1
    lines += [f"- `{f.replace(' ', ':')}`: " + ", ".join(f"{n} {s}" for s, n in sorted(c.items()))
              for f, c in sorted(counts.items())]
    return "\n".join(lines)


def number(name: str) -> tuple[str, int]:
    prefix, _, n = name.rpartition("_")
    return prefix, int(n)


def row(label: str, counts: Counter[str]) -> str:
    tested = sum(counts.values()) - counts["no tests"] - counts[NOT_RUN]
    detected = sum(counts[s] for s in DETECTED)
    score = f"{100 * detected / tested:.1f}%" if tested else "-"
    survived = tested - detected
    return (f"| {label} | {sum(counts.values())} | {detected} | {survived} | {counts['no tests']} | "
            f"{counts[NOT_RUN]} | {score} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume", action="store_true", help="keep mutants/ from an earlier run")
    parser.add_argument("--diffs", action="store_true", help="show each survivor's diff")
    parser.add_argument("--report", action="store_true", help="summarise mutants/ without running")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="re-test only the mutants whose names match (implies --resume)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel mutants")
    args = parser.parse_args()
    exe = ensure_mutmut()
    if not args.report:
        if not (args.resume or args.only) and WORK.exists():
            shutil.rmtree(WORK)
        WORK.mkdir(exist_ok=True)
        mutmut(exe, "run", "--max-children", str(args.jobs), *args.only, log=LOG)
    results = {}
    for line in mutmut(exe, "results", "--all", "true").splitlines():
        if match := RESULT.match(line):
            results[match["name"]] = match["status"]
    print(summary(results, exe, args.diffs))


if __name__ == "__main__":
    main()
