"""Run one command and report its wall time, CPU time and peak RSS, as one JSON line on stdout.

Usage: python bench/rss.py LOGFILE -- CMD [ARGS...]

A fresh process per measurement, so getrusage(RUSAGE_CHILDREN) covers exactly
this command and what it started. ru_maxrss is the peak of the largest single
process in that tree (Linux reports the maximum over waited-for descendants,
not their sum): for `lambdadeploy package` that is the Python process, or the
uv installer if it ever grew larger. The command's stderr goes to LOGFILE, its
stdout to LOGFILE.out.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: rss.py LOGFILE -- CMD [ARGS...]", file=sys.stderr)
        return 2
    log, cmd = argv[0], argv[2:]
    with open(log, "ab") as err, open(log + ".out", "wb") as out:
        started = time.perf_counter()
        rc = subprocess.call(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime  # of the whole tree: > seconds means several cores
    print(json.dumps({"rc": rc, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_kb": usage.ru_maxrss}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
