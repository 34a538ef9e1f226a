"""README claims that had no test, each through the CLI against a real sandbox server and
checked with an independent boto3 client where state is involved.

Quick start; invoke (exit 1 on a raised error, --version N); logs (--filter, --follow, --alias);
prune (asks on a terminal, refuses without one); canary (smoke first, Errors watched, Throttles not);
rollback (no smoke test); retries (10 attempts, AWS_MAX_ATTEMPTS); the package and push
summaries, with the right-sizing hint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from ..reliability.faults import FaultProxy, Rule
from .conftest import CliResult, Sandbox, cli_environment, run_cli, run_on_terminal

REPO = Path(__file__).resolve().parents[2]

CONFIG = """\
project: {project}
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    memory: {memory}
    environment: {{INVOCATIONS_FILE: "{invocations}"}}
    test: {{payload: {{}}, expect: {{code: {code}}}}}
"""

HANDLER = """\
import os

CODE = {code!r}

def handler(event, context):
    with open(os.environ["INVOCATIONS_FILE"], "a") as log:
        log.write(CODE + "\\n")
    print("apple from", CODE)
    print("banana from", CODE)
    if "say" in event:
        print(event["say"])
    if CODE == "raises":
        raise ValueError("kaput")
    return {{"code": CODE}}
"""


def make_project(root: Path, project: str, code: str = "one", memory: int = 128) -> Path:
    """A function that logs each invocation to a file of the test's and returns its CODE."""
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(HANDLER.format(code=code))
    expected = "one" if code == "raises" else code  # a raising version fails its smoke test anyway
    (root / "lambda.yaml").write_text(CONFIG.format(project=project, memory=memory, code=expected,
                                                    invocations=root / "invocations.log"))
    return root


def invocations(root: Path) -> list[str]:
    path = root / "invocations.log"
    return path.read_text().splitlines() if path.exists() else []


def push(root: Path, sandbox: Sandbox, *extra: str, alias: str = "dev") -> CliResult:
    return run_cli(["--sandbox", "push", "--alias", alias, *extra], root, sandbox)


def alias_of(sandbox: Sandbox, name: str, alias: str) -> dict:
    return sandbox.client("lambda").get_alias(FunctionName=name, Name=alias)


def versions_of(sandbox: Sandbox, name: str) -> list[str]:
    listed = sandbox.client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed if v["Version"] != "$LATEST"]


def publish_directly(sandbox: Sandbox, root: Path, project: str, codes: list[str],
                     aliases: dict[str, str] | None = None) -> None:
    """Versions 1..N of PROJECT-fn, one per code, made with boto3 (quicker than a push each):
    for tests of commands that read what is deployed, not of push."""
    iam = sandbox.client("iam")
    try:
        role = iam.get_role(RoleName="readme-claims-exec")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="readme-claims-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = sandbox.client("lambda")
    for index, code in enumerate(codes):
        make_project(root, project, code)
        blob = io.BytesIO()
        with zipfile.ZipFile(blob, "w") as archive:
            archive.write(root / "functions" / "fn" / "app.py", "app.py")
        if index == 0:
            client.create_function(
                FunctionName=f"{project}-fn", Runtime="python3.12", Role=role, Handler="app.handler",
                Code={"ZipFile": blob.getvalue()}, Publish=True,
                Environment={"Variables": {"INVOCATIONS_FILE": str(root / "invocations.log")}})
        else:
            client.update_function_code(FunctionName=f"{project}-fn", ZipFile=blob.getvalue(), Publish=True)
    for alias, version in (aliases or {}).items():
        client.create_alias(FunctionName=f"{project}-fn", Name=alias, FunctionVersion=version)
    assert versions_of(sandbox, f"{project}-fn") == [str(n) for n in range(1, len(codes) + 1)]


# --- quick start ----------------------------------------------------------------------------


def quick_start_command() -> list[str]:
    """The command the README's quick start runs, read from README.md itself."""
    section = (REPO / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^pip install '\.\[sandbox\]' && (lambdadeploy .+)$", section, re.MULTILINE)
    assert match, "the quick start no longer reads `pip install '.[sandbox]' && lambdadeploy ...`"
    assert re.search(r"^pip install '\.\[test\]' && pytest$", section, re.MULTILINE), "the test command moved"
    return shlex.split(match.group(1))


def test_quick_start_deploys_the_example_to_a_sandbox_of_its_own(tmp_path: Path) -> None:
    command = quick_start_command()
    assert command[0] == "lambdadeploy"
    shutil.copy(REPO / "lambda.yaml.example", tmp_path / "lambda.yaml.example")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    result = run_cli(command[1:], tmp_path)  # no sandbox answers: the command starts its own
    assert result.code == 0, result.stdout + result.stderr
    assert "sandbox: started one at http://127.0.0.1:" in result.stderr
    summary = result.stdout.splitlines()[0]
    assert summary.startswith("ok demo-hello  version 1 (published)  dev: (none) -> 1"), summary
    assert "smoke passed" in summary  # invoked with examples/events/hello.json, matched test.expect
    # The CLI's own help shows the same command.
    assert " ".join(command) in run_cli(["--help"], tmp_path).stdout


# --- invoke ----------------------------------------------------------------------------------


def test_invoke_runs_the_version_asked_for_and_exits_1_when_it_raised(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = tmp_path
    publish_directly(sandbox_server, root, "inv", ["one", "two", "raises"])

    for version, code in (("1", "one"), ("2", "two")):
        result = run_cli(["--sandbox", "invoke", "fn", "--version", version], root, sandbox_server)
        assert result.code == 0, result.stderr
        assert json.loads(result.stdout) == {"code": code}
    raised = run_cli(["--sandbox", "invoke", "fn", "--version", "3"], root, sandbox_server)
    assert raised.code == 1
    assert json.loads(raised.stdout)["errorType"] == "ValueError" and "kaput" in raised.stdout
    assert "Traceback" in raised.stderr  # the function's log tail, not a crash of ours


# --- logs ------------------------------------------------------------------------------------


def test_logs_filter_alias_and_follow(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = tmp_path
    publish_directly(sandbox_server, root, "lg", ["one", "two"], {"prod": "1", "dev": "2"})
    for alias in ("prod", "dev"):
        sandbox_server.client("lambda").invoke(FunctionName="lg-fn", Qualifier=alias, Payload=b"{}")

    def logs(*args: str) -> list[str]:
        result = run_cli(["--sandbox", "logs", "fn", "--since", "10m", *args], root, sandbox_server)
        assert result.code == 0, result.stderr
        return result.stdout.splitlines()

    everything = logs()
    assert any("apple from one" in line for line in everything) and any("REPORT" in line for line in everything)
    filtered = logs("--filter", "banana")
    assert filtered and all("banana from" in line for line in filtered), filtered
    assert {line.rsplit(" ", 1)[1] for line in filtered} == {"one", "two"}
    prod = logs("--alias", "prod")
    assert any("apple from one" in line for line in prod) and not any("from two" in line for line in prod)
    dev = logs("--alias", "dev")
    assert any("apple from two" in line for line in dev) and not any("from one" in line for line in dev)

    follow = subprocess.Popen([sys.executable, "-m", "lambdadeploy", "--sandbox", "logs", "fn", "--follow",
                               "--since", "10m"], cwd=root, env=cli_environment(root, sandbox_server),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(follow.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()

    def wait_for(text: str) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(text in line for line in list(lines)):
                return True
            time.sleep(0.1)
        return False

    try:
        assert wait_for("banana from two")  # it printed what was there, and keeps running
        assert follow.poll() is None
        marker = f"arrived-later-{time.time_ns()}"
        sandbox_server.client("lambda").invoke(FunctionName="lg-fn", Qualifier="dev",
                                               Payload=json.dumps({"say": marker}).encode())
        assert wait_for(marker), lines
    finally:
        follow.send_signal(signal.SIGINT)
        try:
            follow.wait(timeout=15)
        except subprocess.TimeoutExpired:
            follow.kill()
            raise
    assert follow.returncode == 130
    assert "Traceback" not in follow.stderr.read()  # type: ignore[union-attr]


# --- prune -----------------------------------------------------------------------------------


def test_prune_asks_on_a_terminal_and_refuses_without_one(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = tmp_path
    publish_directly(sandbox_server, root, "prn", ["one", "two", "three"], {"dev": "3"})
    prune = ["--sandbox", "prune", "--keep", "0"]

    refused = run_cli(prune, root, sandbox_server, stdin="")  # no terminal, no --yes
    assert refused.code == 2 and "--yes" in refused.stderr
    declined = run_on_terminal(prune, root, sandbox_server, answer=("delete these versions?", "n\n"))
    assert "prn-fn: delete version(s) 1, 2" in declined.stdout and "delete these versions?" in declined.stdout
    assert declined.code != 0
    assert versions_of(sandbox_server, "prn-fn") == ["1", "2", "3"]
    accepted = run_on_terminal(prune, root, sandbox_server, answer=("delete these versions?", "y\n"))
    assert accepted.code == 0, accepted.stdout
    assert versions_of(sandbox_server, "prn-fn") == ["3"]  # dev points at 3


# --- canary ----------------------------------------------------------------------------------


def test_canary_is_smoke_tested_before_it_gets_traffic(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "cs", "one")
    assert push(root, sandbox_server, alias="prod").code == 0
    make_project(tmp_path, "cs", "raises")
    result = push(root, sandbox_server, "--canary", "10", alias="prod")
    assert result.code == 1 and "ValueError" in result.stdout
    assert versions_of(sandbox_server, "cs-fn") == ["1", "2"]  # published and smoke-invoked ...
    assert invocations(root) == ["one", "raises"]
    alias = alias_of(sandbox_server, "cs-fn", "prod")  # ... but given no traffic
    assert alias["FunctionVersion"] == "1"
    assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")


def metric(server: Sandbox, name: str, function: str, alias: str, version: str) -> None:
    """One datapoint of a Lambda metric of `version`, as CloudWatch reports it under the alias."""
    server.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[{
        "MetricName": name, "Value": 1.0, "Unit": "Count", "Timestamp": dt.datetime.now(dt.timezone.utc),
        "Dimensions": [{"Name": "FunctionName", "Value": function}, {"Name": "Resource", "Value": f"{function}:{alias}"},
                       {"Name": "ExecutedVersion", "Value": version}],
    }])


def test_canary_watch_rolls_back_on_errors_and_does_not_watch_throttles(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """What --watch watches (README): the canary version's Errors and the alarms; not Throttles, which no
    version can be blamed for (a throttled request never runs)."""
    root = make_project(tmp_path, "ct", "one")
    assert push(root, sandbox_server, alias="prod").code == 0
    make_project(tmp_path, "ct", "two")
    metric(sandbox_server, "Throttles", "ct-fn", "prod", "2")
    metric(sandbox_server, "Errors", "ct-fn", "prod", "2")  # the canary will be version 2
    result = push(root, sandbox_server, "--canary", "10", "--watch", "3s", alias="prod")
    assert result.code == 1, result.stdout + result.stderr
    assert "canary of version 2 rolled back: 1 errors on version 2" in result.stdout
    alias = alias_of(sandbox_server, "ct-fn", "prod")
    assert alias["FunctionVersion"] == "1"
    assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    make_project(tmp_path, "ct", "three")
    metric(sandbox_server, "Throttles", "ct-fn", "prod", "3")
    result = push(root, sandbox_server, "--canary", "10", "--watch", "2s", alias="prod")
    assert result.code == 0, result.stdout + result.stderr
    assert alias_of(sandbox_server, "ct-fn", "prod")["FunctionVersion"] == "3"


# --- rollback --------------------------------------------------------------------------------


def test_rollback_does_not_smoke_test(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "rb", "one")
    assert push(root, sandbox_server).code == 0
    make_project(tmp_path, "rb", "two")
    assert push(root, sandbox_server).code == 0
    assert invocations(root) == ["one", "two"]  # each push smoke-invoked its version once
    rolled = run_cli(["--sandbox", "rollback", "--alias", "dev"], root, sandbox_server)
    assert rolled.code == 0, rolled.stderr
    assert alias_of(sandbox_server, "rb-fn", "dev")["FunctionVersion"] == "1"
    assert invocations(root) == ["one", "two"]  # nothing was invoked


# --- retries ---------------------------------------------------------------------------------

# The CLI as is, except that botocore's backoff does not sleep: the attempts are what is
# counted here, and ten throttled attempts would otherwise wait up to a minute.
NO_BACKOFF = ("import botocore.retries.standard as standard; "
              "standard.ExponentialBackoff.delay_amount = lambda self, context: 0.0; "
              "from lambdadeploy.cli import main; main()")


@pytest.mark.parametrize(("max_attempts", "throttles", "ok"), [
    (None, 9, True),    # the default: botocore's 10 attempts ...
    (None, 14, True),   # ... then ours, for minutes: a throttled push is slower, not failed
    ("3", 3, False),    # AWS_MAX_ATTEMPTS is honoured: 3 attempts, then the error
    ("10", 10, False),  # ... whatever the number
])
def test_throttling_is_retried_up_to_the_attempt_limit(tmp_path: Path, sandbox_server: Sandbox,
                                                       max_attempts: str | None, throttles: int, ok: bool) -> None:
    project = f"rt{throttles}{max_attempts or ''}"
    root = make_project(tmp_path, project)
    proxy = FaultProxy(sandbox_server.url).start()
    proxy.rules.append(Rule("CreateFunction", "throttle", times=100 if not ok else throttles))
    try:
        result = subprocess.run(
            [sys.executable, "-c", NO_BACKOFF, "--endpoint-url", proxy.url, "push", "--alias", "dev"], cwd=root,
            env=cli_environment(root, env={"AWS_MAX_ATTEMPTS": max_attempts, **sandbox_server.credentials.environment()}),
            capture_output=True, text=True,
            timeout=120)
    finally:
        proxy.stop()
    assert proxy.seen.count("throttle:CreateFunction") == (throttles if ok else int(max_attempts or 0))
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
        assert alias_of(sandbox_server, f"{project}-fn", "dev")["FunctionVersion"] == "1"
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "TooManyRequestsException" in result.stdout
        names = [f["FunctionName"] for f in sandbox_server.client("lambda").list_functions()["Functions"]]
        assert f"{project}-fn" not in names


# --- summaries -------------------------------------------------------------------------------

SIZE = re.compile(r"([\d.]+) (B|KB|MB)")


def approx_bytes(text: str) -> tuple[float, float]:
    """A printed size ('4.9 KB') as the range of byte counts it stands for."""
    match = SIZE.fullmatch(text)
    assert match, text
    value, unit = float(match[1]), {"B": 1, "KB": 1024, "MB": 1024**2}[match[2]]
    slack = 0.5 if unit == 1 else 0.05
    return (value - slack) * unit, (value + slack) * unit


def test_package_summary(tmp_path: Path) -> None:
    root = make_project(tmp_path, "pkg")
    (root / "functions" / "fn" / "data.txt").write_text("lambda " * 2000)  # compresses well
    result = run_cli(["package", "--out", "dist"], root)
    assert result.code == 0, result.stderr
    match = re.fullmatch(r"fn: dist/pkg-fn\.zip  (?P<zipped>[\d.]+ [KM]?B) zipped, (?P<unzipped>[\d.]+ [KM]?B) "
                         r"unzipped, (?P<files>\d+) files, sha256 (?P<sha>[0-9a-f]{64}), no requirements, "
                         r"(?P<seconds>[\d.]+) s", result.stdout.strip())
    assert match, result.stdout
    blob = (root / "dist" / "pkg-fn.zip").read_bytes()
    entries = zipfile.ZipFile(io.BytesIO(blob)).infolist()
    assert match["sha"] == hashlib.sha256(blob).hexdigest()
    assert int(match["files"]) == len(entries) == 2
    low, high = approx_bytes(match["zipped"])
    assert low <= len(blob) <= high
    low, high = approx_bytes(match["unzipped"])
    assert low <= sum(e.file_size for e in entries) <= high
    assert len(blob) < sum(e.file_size for e in entries)
    assert 0 <= float(match["seconds"]) < 60


def test_push_summary_and_right_sizing_hint(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "sz", "one", memory=1024)
    assert push(root, sandbox_server).code == 0
    make_project(tmp_path, "sz", "two", memory=1024)
    result = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], root, sandbox_server)
    assert result.code == 0, result.stderr
    (fn,) = json.loads(result.stdout)["functions"]
    summary = [line for line in result.stderr.splitlines() if line.startswith("ok sz-fn")]
    assert len(summary) == 1, result.stderr
    match = re.fullmatch(
        r"ok sz-fn  version 2 \(published\)  dev: 1 -> 2  package (?P<size>[\d.]+ [KM]?B)  smoke passed in "
        r"(?P<ms>[\d.]+) ms \(billed (?P<billed>\d+) ms, (?P<used>\d+) of 1024 MB, \$(?P<cost>[\d.]+) per 1M invokes\)",
        summary[0])
    assert match, summary[0]
    low, high = approx_bytes(match["size"])
    assert low <= fn["package"]["zipped_bytes"] <= high
    smoke = fn["smoke"]
    assert float(match["ms"]) == pytest.approx(smoke["duration_ms"], abs=0.5)
    assert int(match["billed"]) == smoke["billed_duration_ms"] >= float(match["ms"])
    assert int(match["used"]) == smoke["max_memory_used_mb"] and smoke["memory_mb"] == 1024
    # Lambda's on-demand price for x86_64: $0.20 per 1M requests plus $0.0000166667 per GB-second.
    expected = 0.20 + 1_000_000 * smoke["billed_duration_ms"] / 1000 * 1024 / 1024 * 0.0000166667
    assert float(match["cost"]) == pytest.approx(expected, abs=0.006)
    hint = re.search(r"^    hint: used (\d+) of 1024 MB; memory: (\d+) would likely do$", result.stderr, re.MULTILINE)
    assert hint, result.stderr
    assert int(hint[1]) == smoke["max_memory_used_mb"] and 128 <= int(hint[2]) < 1024
