"""Fleet pushes: a repository of 100 (or 300) functions against Lambda's real request quotas.

A `lambdadeploy sandbox` subprocess sits behind `QuotaProxy` (proxy.py): 50 ms per request
and a token bucket per quota at AWS's published rates, 429 "Rate exceeded" over it. Each
row is one push of every function (first push: create; full push: every handler edited;
no-op push: nothing changed), timed from the outside, with what the proxy saw: requests,
requests refused for the quota, and the floor the quotas impose on the requests accepted
(the busiest quota's count over its rate). Side by side:

- this lambdadeploy (the interpreter running the bench);
- a baseline lambdadeploy (`--baseline-python`, e.g. a venv with main installed): today's
  behaviour, for the "before" column;
- the boto3 script a team would write instead (fleet_script.py), with boto3's defaults.

Then the cost of history: two functions, one with 1,000 published versions and one with
5, pushed alone (no-op and full), counting the requests each push made.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import LOGS, WORK, BenchError, base_env, fmt_seconds, fresh_dir, markdown_table, run
from projects import TINY_HANDLER, edit_handler
from proxy import Call, QuotaProxy, floor_seconds
from push_bench import PROXY_MAX_SECONDS, Sandbox

FLEET_LATENCY = 0.050
SCRIPT = Path(__file__).resolve().parent / "fleet_script.py"
MANY_VERSIONS, FEW_VERSIONS = 1000, 5


def write_fleet(root: Path, count: int, project: str = "fleet") -> Path:
    """A project of `count` tiny functions (f000...), plus `many` and `few` for the history rows."""
    fresh_dir(root)
    keys = [f"f{i:03d}" for i in range(count)]
    for key in [*keys, "many", "few"]:
        (root / "functions" / key).mkdir(parents=True)
        (root / "functions" / key / "app.py").write_text(TINY_HANDLER)
    entries = "".join(f"  {key}:\n    handler: app.handler\n    test: {{payload: {{}}, expect: {{statusCode: 200}}}}\n"
                      for key in [*keys, "many", "few"])
    (root / "lambda.yaml").write_text(f"project: {project}\nregion: us-east-1\naliases: [dev]\ndefaults:\n"
                                      "  runtime: python3.12\n  memory: 256\n  timeout: 30\nfunctions:\n" + entries)
    return root / "lambda.yaml"


def sandbox_keys() -> dict[str, str]:
    """The key pair the running sandbox accepts (it takes only its own: local/credentials.py)."""
    keys = json.loads((LOGS / "sandbox-credentials.json").read_text())
    return {"AWS_ACCESS_KEY_ID": keys["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"]}


@dataclass
class Row:
    seconds: float
    calls: list[Call]
    note: str = ""

    @property
    def throttled(self) -> int:
        return sum(c.throttled for c in self.calls)

    def floor(self, proxy: QuotaProxy) -> tuple[float, str]:
        return floor_seconds(self.calls, proxy.rate)


@dataclass
class Contender:
    """One way of pushing the fleet: a lambdadeploy interpreter, or the boto3 script."""

    label: str
    push: Callable[[str, list[str], str], float]  # (endpoint, functions, expect) -> seconds
    root: Path  # the project it pushes (handlers are edited there)
    rows: dict[str, Row] = field(default_factory=dict)


class FleetBench:
    def __init__(self, count: int, log: Callable[[str], None], *, baseline_python: str | None = None,
                 parallel: int | None = None, per_api: bool = False, script: bool = True,
                 history: bool = True) -> None:
        self.count = count
        self.with_history = history  # the 1,000-versions rows (they do not depend on the fleet's size)
        self.log = log
        self.per_api = per_api
        self.parallel = parallel
        self.baseline_python = baseline_python
        self.root = WORK / f"fleet-{count}"
        write_fleet(self.root, count)
        self.keys = [f"f{i:03d}" for i in range(count)]
        self.edits = 0
        self.contenders = [Contender("lambdadeploy", self._tool(sys.executable, "ld", self.root), self.root)]
        if baseline_python:
            # Its own functions (project `base`), so it has a first push of its own.
            base = WORK / f"fleet-{count}-base"
            write_fleet(base, count, "base")
            self.contenders.append(Contender("baseline", self._tool(baseline_python, "base", base), base))
        if script:
            self.contenders.append(Contender("boto3 script", self._script, self.root))
        self.history: dict[tuple[str, str, str], Counter[str]] = {}  # (contender, many|few, kind) -> ops

    def _tool(self, python: str, tag: str, root: Path) -> Callable[[str, list[str], str], float]:
        def push(endpoint: str, names: list[str], expect: str) -> float:
            cmd = [python, "-m", "lambdadeploy", "-c", str(root / "lambda.yaml"), "--json", "--endpoint-url", endpoint,
                   "push", *names, "--alias", "dev"]
            if self.parallel:
                cmd += ["--parallel", str(self.parallel)]
            label = f"fleet{self.count}-{tag}-{expect}-{self.edits}-{len(names)}"
            measured = run(cmd, env=base_env(LAMBDADEPLOY_CACHE_DIR=str(WORK / "ld-cache" / "fleet"), **sandbox_keys()),
                           cwd=root, label=label, timeout=1800)
            document = json.loads(measured.stdout)
            if not document["ok"] or len(document["functions"]) != len(names):
                raise BenchError(f"{label}: push did not succeed for every function: see {LOGS / label}.log")
            for f in document["functions"]:
                did = (f["uploaded"], f["published"])
                if (expect in ("full", "first") and did != (True, True)) or (expect == "noop" and any(did)):
                    raise BenchError(f"{label}: {f['function']}: (uploaded, published) = {did} on a {expect} push")
            return measured.seconds
        return push

    def _script(self, endpoint: str, names: list[str], expect: str) -> float:
        label = f"fleet{self.count}-script-{expect}-{self.edits}"
        cmd = [sys.executable, str(SCRIPT), "--endpoint", endpoint, "--project", str(self.root),
               "--workers", str(self.parallel or 10), "--skip", "many,few", "--role", "arn:aws:iam::123456789012:role/fleet-lambda-exec"]
        started = time.perf_counter()
        done = subprocess.run(cmd, env=base_env(**sandbox_keys()), capture_output=True, text=True, timeout=1800, check=False)
        seconds = time.perf_counter() - started
        LOGS.mkdir(parents=True, exist_ok=True)
        (LOGS / f"{label}.log").write_text(f"$ {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
        outcome = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"failed": {"?": done.stderr[-300:]}}
        self._script_note = f"{len(outcome.get('failed', {}))} of {len(self.keys)} failed" if outcome.get("failed") else ""
        return seconds

    def run(self) -> None:
        with Sandbox(self.root) as sandbox, QuotaProxy(sandbox.port, FLEET_LATENCY, PROXY_MAX_SECONDS,
                                                       per_api=self.per_api) as proxy:
            self.proxy = proxy
            for contender in self.contenders:
                self._rows(contender, proxy)
            if self.with_history:
                self._history(proxy, sandbox)

    def _timed(self, contender: Contender, proxy: QuotaProxy, kind: str, names: list[str]) -> None:
        self._script_note = ""
        proxy.take_calls()
        seconds = contender.push(proxy.url, names, kind)
        calls = proxy.take_calls()
        contender.rows[kind] = Row(seconds, calls, self._script_note)
        row = contender.rows[kind]
        self.log(f"  {contender.label}, {kind} push of {len(names)}: {seconds:.2f} s, {len(calls)} requests, "
                 f"{row.throttled} throttled, floor {row.floor(proxy)[0]:.2f} s")
        _write_calls(LOGS / f"fleet{self.count}-{contender.label.replace(' ', '-')}-{kind}.tsv", calls)

    def _rows(self, contender: Contender, proxy: QuotaProxy) -> None:
        self.log(f"fleet of {self.count}: {contender.label}")
        self._timed(contender, proxy, "first", self.keys)
        self.edits += 1
        for key in self.keys:
            edit_handler(contender.root / "functions" / key / "app.py", 20_000 + self.edits)
        self._timed(contender, proxy, "full", self.keys)
        self._timed(contender, proxy, "noop", self.keys)

    def _history(self, proxy: QuotaProxy, sandbox: Sandbox) -> None:
        """`many` gets 1,000 published versions, `few` 5; each pushed alone, no-op and full, by
        each lambdadeploy (the baseline through the same project file)."""
        import boto3

        tool = self.contenders[0]
        tool.push(sandbox.url, ["many", "few"], "first")
        client = boto3.client("lambda", endpoint_url=sandbox.url, region_name="us-east-1",
                              aws_access_key_id=sandbox_keys()["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=sandbox_keys()["AWS_SECRET_ACCESS_KEY"])
        for key, count in (("many", MANY_VERSIONS), ("few", FEW_VERSIONS)):
            self.log(f"publishing {count - 1} more versions of fleet-{key} (outside the proxy)...")
            for n in range(count - 1):
                client.update_function_code(FunctionName=f"fleet-{key}", ZipFile=_junk_zip(n))
                client.publish_version(FunctionName=f"fleet-{key}")
        for label, python in (("lambdadeploy", sys.executable), ("baseline", self.baseline_python)):
            if python is None:
                continue
            contender = Contender(label, self._tool(python, f"hist-{label}", self.root), self.root)
            for key in ("many", "few"):
                for kind in ("noop", "full"):
                    if kind == "full":
                        self.edits += 1
                        edit_handler(self.root / "functions" / key / "app.py", 30_000 + self.edits)
                    proxy.take_calls()
                    contender.push(proxy.url, [key], kind)
                    calls = proxy.take_calls()
                    self.history[(contender.label, key, kind)] = Counter(c.operation for c in calls
                                                                        if c.function == f"fleet-{key}")
                # Leave `many` serving its newest code for the next contender's no-op push.

    # --- tables -------------------------------------------------------------------------------

    def table(self) -> str:
        proxy = self.proxy
        headers = [f"{self.count} functions, {FLEET_LATENCY * 1000:.0f} ms/request, quotas enforced"]
        for c in self.contenders:
            headers += [c.label, "throttled", "floor", "/ floor"]
        rows = []
        for kind, label in (("first", "first push (create all)"), ("full", "full push (all changed)"),
                            ("noop", "no-op push")):
            cells = [label]
            for c in self.contenders:
                row = c.rows.get(kind)
                if row is None:
                    cells += ["-", "-", "-", "-"]
                    continue
                floor = row.floor(proxy)[0]
                cells += [fmt_seconds(row.seconds) + (f" ({row.note})" if row.note else ""), str(row.throttled),
                          fmt_seconds(floor), f"{row.seconds / floor:.2f}x" if floor > 0.05 else "-"]
            rows.append(cells)
        return markdown_table(headers, rows)

    def requests_text(self) -> str:
        lines = []
        for c in self.contenders:
            for kind in ("first", "full", "noop"):
                row = c.rows.get(kind)
                if row is None:
                    continue
                ops = Counter(call.operation for call in row.calls if call.quota and not call.throttled)
                per = ", ".join(f"{op} {n}" for op, n in ops.most_common())
                lines.append(f"- {c.label}, {kind}: {len(row.calls)} requests ({row.throttled} refused 429); "
                             f"quota-limited ones accepted: {per}; floor: {row.floor(proxy=self.proxy)[1]}")
        return "\n".join(lines)

    def history_table(self) -> str:
        labels = [c.label for c in self.contenders if c.label != "boto3 script"]
        headers = ["requests for one function pushed alone"] + [f"{label}: {n} versions" for label in labels
                                                               for n in (MANY_VERSIONS, FEW_VERSIONS)]
        rows = []
        for kind in ("noop", "full"):
            cells = [f"{kind} push"]
            for label in labels:
                for key in ("many", "few"):
                    ops = self.history.get((label, key, kind), Counter())
                    cells.append(f"{sum(ops.values())} ({ops.get('ListVersionsByFunction', 0)} ListVersions)")
            rows.append(cells)
        return markdown_table(headers, rows)


def _junk_zip(n: int) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {{'statusCode': 200, 'n': {n}}}\n")
    return buffer.getvalue()


def _write_calls(path: Path, calls: list[Call]) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    began = calls[0].start if calls else 0.0
    lines = ["function\toperation\tquota\tthrottled\tstart_s\tend_s"]
    lines += [f"{c.function}\t{c.operation}\t{c.quota or '-'}\t{int(c.throttled)}\t{c.start - began:.3f}\t"
              f"{c.end - began:.3f}" for c in calls]
    path.write_text("\n".join(lines) + "\n")
