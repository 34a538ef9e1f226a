"""Push benches: full and no-op pushes through the sandbox, and 10 functions behind a
loopback proxy that adds 150 ms per request, --parallel 1 vs --parallel 10.

The sandbox is a `lambdadeploy sandbox` subprocess on a free loopback port, started
and stopped by the bench. Every push runs with --json; the bench checks each
function's `uploaded` and `published` fields, so a "no-op" row is only reported
when nothing was uploaded and nothing published, and a "full" row only when the
code was uploaded and a version published.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    LOGS,
    WORK,
    BenchError,
    Series,
    base_env,
    fmt_ratio,
    fmt_seconds,
    lambdadeploy_cmd,
    markdown_table,
    ratio,
    run,
)
from projects import Sample, edit_handler, fanout_keys
from proxy import Call, LatencyProxy

LATENCY = 0.150
SANDBOX_START_TIMEOUT = 90.0
PROXY_MAX_SECONDS = 1800.0  # the proxy stops itself after this, whatever happens


@dataclass
class PushResults:
    samples: list[Sample]
    runs: int = 0
    first_push: float | None = None
    full: dict[str, Series] = field(default_factory=dict)
    noop: dict[str, Series] = field(default_factory=dict)
    noop_fanout: Series = field(default_factory=Series)
    latency: dict[tuple[str, int], Series] = field(default_factory=dict)  # (full|noop, parallel)
    requests: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # total requests per push
    chains: dict[str, str] = field(default_factory=dict)  # kind -> one function's call chain
    # (kind, parallel) -> operations not addressed to one function by path (IAM, STS, EventBridge...)
    account_calls: dict[tuple[str, int], Counter[str]] = field(default_factory=dict)
    phases: dict[tuple[str, int], list[tuple[float, float, float]]] = field(default_factory=dict)

    def series(self, table: dict, key) -> Series:  # type: ignore[no-untyped-def]
        return table.setdefault(key, Series())


class Sandbox:
    """`lambdadeploy sandbox --port P` as a subprocess we own (stopped by its pid)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sandbox:
        LOGS.mkdir(parents=True, exist_ok=True)
        self._log = (LOGS / "sandbox.log").open("wb")
        # The bench measures the tool, not the sandbox's imitation of AWS's delays: timing off.
        self.credentials = LOGS / "sandbox-credentials.json"
        cmd = [sys.executable, "-m", "lambdadeploy", "sandbox", "--port", str(self.port), "--aws-timing", "off",
               "--credentials-file", str(self.credentials)]
        self.proc = subprocess.Popen(cmd, cwd=self.project, env=base_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"sandbox exited with {self.proc.returncode}: see {LOGS / 'sandbox.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    if self.credentials.exists():
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise BenchError("sandbox did not answer in time")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()


def _write_trace(path: Path, calls: list[Call], began: float) -> None:
    """The proxy's log of one push: function, operation, start and end (s after the command began)."""
    lines = ["function\toperation\tstart_s\tend_s"]
    lines += [f"{c.function}\t{c.operation}\t{c.start - began:.3f}\t{c.end - began:.3f}" for c in calls]
    path.write_text("\n".join(lines) + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PushBench:
    def __init__(self, project: Path, runs: int, samples: list[Sample], log: Callable[[str], None],
                 *, quick: bool = False) -> None:
        self.project = project
        # --quick: the latency section measures the full push only (the goal's row).
        self.latency_kinds = ("full",) if quick else ("full", "noop")
        self.config = project / "lambda.yaml"
        self.runs = runs
        self.log = log
        self.results = PushResults(samples, runs)
        self.cache = WORK / "ld-cache" / "push"  # a normal warm cache: pushes don't re-install
        self.edits = 0

    def push(self, names: list[str], *, expect: str, label: str, parallel: int = 4,
             endpoint: str | None = None, sandbox_url: str | None = None) -> float:
        """One push, timed; checks every function's uploaded/published against `expect`."""
        args = ["--json"]
        env = base_env(LAMBDADEPLOY_CACHE_DIR=str(self.cache))
        # The sandbox takes only its own keys (the file `lambdadeploy sandbox` wrote).
        keys = json.loads((LOGS / "sandbox-credentials.json").read_text())
        if endpoint:
            args += ["--endpoint-url", endpoint]
            env.update(AWS_ACCESS_KEY_ID=keys["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=keys["aws_secret_access_key"])
        else:
            args += ["--sandbox"]
            env["LAMBDADEPLOY_SANDBOX_URL"] = sandbox_url or ""
            env["LAMBDADEPLOY_SANDBOX_CREDENTIALS"] = str(LOGS / "sandbox-credentials.json")
        cmd = lambdadeploy_cmd(self.config, *args, "push", *names, "--alias", "dev", "--parallel", str(parallel))
        measured = run(cmd, env=env, cwd=self.project, label=label)
        document = json.loads(measured.stdout)
        functions = document["functions"]
        if len(functions) != len(names) or not document["ok"]:
            raise BenchError(f"{label}: push did not succeed for every function: see {LOGS / label}.log")
        for f in functions:
            did = (f["uploaded"], f["published"])
            if expect == "full" and did != (True, True):
                raise BenchError(f"{label}: {f['function']} was expected to upload and publish, got {did}")
            if expect == "noop" and did != (False, False):
                raise BenchError(f"{label}: {f['function']} uploaded/published on a no-op push: {did}")
        return measured.seconds

    def edit(self, keys: list[str]) -> None:
        self.edits += 1
        for key in keys:
            edit_handler(self.project / "functions" / key / "app.py", 10_000 + self.edits)

    def all(self, sections: set[str]) -> None:
        r = self.results
        fan = fanout_keys()
        with Sandbox(self.project) as sandbox:
            self.log(f"sandbox at {sandbox.url}; first push (creates every function)...")
            everything = [s.key for s in r.samples] + fan
            r.first_push = self.push(everything, expect="full", label="push-first",
                                     sandbox_url=sandbox.url)
            if "push" in sections:
                self.sandbox_pushes(sandbox.url, fan)
            if "parallel" in sections:
                self.latency_pushes(sandbox.port, fan)

    def sandbox_pushes(self, url: str, fan: list[str]) -> None:
        r = self.results
        for run_no in range(self.runs):
            for sample in r.samples:
                self.log(f"push run {run_no + 1}/{self.runs}: {sample.key} full + no-op")
                self.edit([sample.key])
                r.series(r.full, sample.key).add(
                    self.push([sample.key], expect="full", label=f"push-full-{sample.key}-{run_no}",
                              sandbox_url=url))
                r.series(r.noop, sample.key).add(
                    self.push([sample.key], expect="noop", label=f"push-noop-{sample.key}-{run_no}",
                              sandbox_url=url))
            self.log(f"push run {run_no + 1}/{self.runs}: no-op of {len(fan)} functions")
            r.noop_fanout.add(self.push(fan, expect="noop", label=f"push-noop-fan-{run_no}",
                                        sandbox_url=url))

    def latency_pushes(self, sandbox_port: int, fan: list[str]) -> None:
        r = self.results
        with LatencyProxy(sandbox_port, LATENCY, PROXY_MAX_SECONDS) as proxy:
            for run_no in range(self.runs):
                for parallel in (1, len(fan)):
                    self.log(f"latency run {run_no + 1}/{self.runs}: {len(fan)} functions, "
                             f"--parallel {parallel}, {' + '.join(self.latency_kinds)}")
                    self.edit(fan)
                    proxy.take_calls()
                    for kind in self.latency_kinds:
                        label = f"latency-{kind}-p{parallel}-{run_no}"
                        began = time.monotonic()
                        seconds = self.push(fan, expect=kind, parallel=parallel, endpoint=proxy.url,
                                            label=label)
                        calls = proxy.take_calls()
                        _write_trace(LOGS / f"{label}.calls.tsv", calls, began)
                        self._calls(kind, parallel, calls, fan, began, seconds)
                        r.series(r.latency, (kind, parallel)).add(seconds)

    def _calls(self, kind: str, parallel: int, calls: list[Call], fan: list[str], began: float,
               seconds: float) -> None:
        r = self.results
        r.requests.setdefault((kind, parallel), []).append(len(calls))
        if calls:
            # Where the wall time went: before the first request (start-up, packaging), the
            # span of requests, after the last one (summary, exit).
            first, last = calls[0].start - began, max(c.end for c in calls) - began
            r.phases.setdefault((kind, parallel), []).append((first, last - first, seconds - last))
        if parallel == 1 and kind not in r.chains:
            name = f"bench-{fan[0]}"
            r.chains[kind] = " -> ".join(c.operation for c in calls if c.function == name)
        if (kind, parallel) not in r.account_calls:
            r.account_calls[(kind, parallel)] = Counter(c.operation for c in calls if c.function == "-")


# --- tables ----------------------------------------------------------------------------------


def push_table(r: PushResults) -> str:
    headers = ["push through the sandbox", "median", "checked"]
    rows = []
    for s in r.samples:
        rows.append([f"full push, 1 function ({s.label})", fmt_seconds(r.series(r.full, s.key).median),
                     "uploaded + published"])
    for s in r.samples:
        rows.append([f"no-op push, 1 function ({s.label})", fmt_seconds(r.series(r.noop, s.key).median),
                     "no upload, no publish"])
    n = len(fanout_keys())
    median = r.noop_fanout.median
    goal = "goal < 2 s: " + ("met" if median is not None and median < 2 else "MISSED")
    rows.append([f"no-op push, {n} functions (default --parallel)", fmt_seconds(median),
                 f"no upload, no publish; {goal}"])
    return markdown_table(headers, rows)


def latency_table(r: PushResults) -> str:
    n = len(fanout_keys())
    headers = [f"{n} functions, {LATENCY * 1000:.0f} ms per request", "--parallel 1", f"--parallel {n}",
               "ratio", "requests per push"]
    rows = []
    for kind, label in (("full", "full push (code changed)"), ("noop", "no-op push")):
        if (kind, 1) not in r.latency:
            continue
        serial = r.series(r.latency, (kind, 1)).median
        par = r.series(r.latency, (kind, n)).median
        counts = sorted(set(r.requests.get((kind, 1), []) + r.requests.get((kind, n), [])))
        rows.append([label, fmt_seconds(serial), fmt_seconds(par), fmt_ratio(ratio(par, serial)),
                     "/".join(str(c) for c in counts) or "n/a"])
    return markdown_table(headers, rows)


def phases_text(r: PushResults) -> str:
    """Median split of each latency push's wall time: before, during and after its requests."""
    lines = []
    for (kind, parallel), values in sorted(r.phases.items()):
        before, span, after = (sorted(v[i] for v in values)[len(values) // 2] for i in range(3))
        lines.append(f"- {kind} push, --parallel {parallel}: {fmt_seconds(before)} before the first request "
                     f"(start-up, packaging), {fmt_seconds(span)} of requests, {fmt_seconds(after)} after the last")
    return "\n".join(lines)


def chains_text(r: PushResults) -> str:
    lines = []
    for kind in ("full", "noop"):
        if kind in r.chains:
            calls = r.chains[kind].split(" -> ")
            lines.append(f"- {kind} push, one function ({len(calls)} requests, in order): {r.chains[kind]}")
            for (k, parallel), account in sorted(r.account_calls.items()):
                if k == kind and account:
                    lines.append(f"  - other calls of the whole push at --parallel {parallel} (IAM, STS, "
                                 "EventBridge, event source mappings: no function in the path): "
                                 + ", ".join(f"{op} x{n}" for op, n in sorted(account.items())))
    return "\n".join(lines)
