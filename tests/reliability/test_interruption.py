"""SIGINT/SIGTERM stop a push cleanly with aliases unchanged (a canary's weight removed);
after SIGKILL at any step a re-run converges, doing only what is left and publishing no
duplicate version. Real CLI processes, real sandbox server (behind the fault proxy, which
kills the CLI at a named step)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..e2e.conftest import Sandbox, run_cli
from .conftest import alias_state, cli, published, pushed, start_cli
from .faults import FaultProxy, kill_rule

CONFIG = """project: {name}
aliases: [dev, prod]
functions:
  slow:
    handler: app.handler
    timeout: 30
    test: {{payload: {{}}}}
"""


def write(root: Path, name: str, version: str, sleep: float = 0.0) -> None:
    source = root / "functions" / "slow"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(
        f"import time\n\ndef handler(event, context):\n    time.sleep({sleep})\n    return {{'version': '{version}'}}\n"
    )
    (root / "lambda.yaml").write_text(CONFIG.format(name=name))


def start_push(root: Path, sandbox: Sandbox) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"LAMBDADEPLOY_SANDBOX_URL": sandbox.url,
                        "LAMBDADEPLOY_SANDBOX_CREDENTIALS": str(sandbox.credentials_file),
                        "LAMBDADEPLOY_CACHE_DIR": str(root / ".cache"),
                        "NO_COLOR": "1", "CI": "true"})
    return subprocess.Popen([sys.executable, "-m", "lambdadeploy", "--sandbox", "push", "--alias", "dev"],
                            cwd=root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(process: subprocess.Popen, text: str, timeout: float = 60) -> str:
    """Read stderr lines until one contains `text`."""
    seen = []
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"never saw {text!r}; stderr so far:\n{''.join(seen)}")


def aliases(sandbox: Sandbox, name: str) -> dict[str, str]:
    listed = sandbox.client("lambda").list_aliases(FunctionName=name)["Aliases"]
    return {a["Name"]: a["FunctionVersion"] for a in listed}


def versions(sandbox: Sandbox, name: str) -> list[dict]:
    listed = sandbox.client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
    return [v for v in listed if v["Version"] != "$LATEST"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_smoke_stops_before_the_alias_moves(tmp_path: Path, sandbox_server: Sandbox, sig) -> None:
    name = f"int{sig.value}"
    write(tmp_path, name, "v1")
    assert run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server).code == 0
    write(tmp_path, name, "v2", sleep=2.0)
    process = start_push(tmp_path, sandbox_server)
    wait_for(process, "smoke invoke version 2")
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert f"{sig.name}: stopping after the steps in progress" in stderr
    assert "interrupted" in stdout and "not done: ~ alias dev: 1 -> (new)" in stdout
    assert "Traceback" not in stderr
    assert aliases(sandbox_server, f"{name}-slow") == {"dev": "1"}
    # The interrupted push converges on re-run, reusing the version it published.
    rerun = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert rerun.code == 0, rerun.stderr
    assert aliases(sandbox_server, f"{name}-slow") == {"dev": "2"}
    assert [v["Version"] for v in versions(sandbox_server, f"{name}-slow")] == ["1", "2"]


# SIGKILL right after the server did a step and before the CLI heard of it: the re-run must
# do only what is left. (operation killed after, versions then, dev then, the re-run's
# (uploaded, published)). The push changes memory and code, so it updates both.
KILL_POINTS = [
    ("UpdateFunctionConfiguration", ["1"], "1", (True, True)),
    ("UpdateFunctionCode", ["1"], "1", (False, True)),
    ("PublishVersion", ["1", "2"], "1", (False, False)),  # reused: moto would hand back 2 to a publish too
    ("Invoke", ["1", "2"], "1", (False, False)),
    ("UpdateAlias", ["1", "2"], "2", (False, False)),
]


def write_config(root: Path, name: str, version: str, memory: int) -> None:
    write(root, name, version)
    (root / "lambda.yaml").write_text(CONFIG.format(name=name).replace("timeout: 30", f"timeout: 30\n    memory: {memory}"))


def killed_at(proxy: FaultProxy, operation: str, root: Path) -> None:
    process = start_cli(["push", "--alias", "dev"], root, proxy.url)
    proxy.rules.append(kill_rule(operation, process.pid))  # the CLI needs far longer to reach AWS
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert proxy.seen == [f"after:{operation}"]


@pytest.mark.parametrize(("operation", "versions_then", "dev_then", "rerun"), KILL_POINTS,
                         ids=[point[0] for point in KILL_POINTS])
def test_sigkill_after_a_step_then_rerun_does_only_what_is_left(
        tmp_path: Path, sandbox_server: Sandbox, server_proxy: FaultProxy,
        operation: str, versions_then: list[str], dev_then: str, rerun: tuple[bool, bool]) -> None:
    name = f"kill{operation.lower()}"
    function = f"{name}-slow"
    write_config(tmp_path, name, "v1", 128)
    assert cli(["push", "--alias", "dev"], tmp_path, sandbox_server.url).code == 0
    write_config(tmp_path, name, "v2", 256)
    killed_at(server_proxy, operation, tmp_path)
    assert published(sandbox_server, function) == versions_then
    assert aliases(sandbox_server, function) == {"dev": dev_then}

    again = cli(["--json", "push", "--alias", "dev"], tmp_path, sandbox_server.url)
    assert again.code == 0, again.stderr
    document = pushed(again)
    assert (document["uploaded"], document["published"]) == rerun, document["steps"]
    assert not any(step["kind"] == "update_config" for step in document["steps"])
    assert published(sandbox_server, function) == ["1", "2"]
    assert aliases(sandbox_server, function) == {"dev": "2"}
    served = sandbox_server.client("lambda").invoke(FunctionName=function, Qualifier="dev")["Payload"].read()
    assert json.loads(served) == {"version": "v2"}


def test_sigkill_after_create_then_rerun_publishes_once(tmp_path: Path, sandbox_server: Sandbox,
                                                        server_proxy: FaultProxy) -> None:
    write(tmp_path, "killcreate", "v1")
    killed_at(server_proxy, "CreateFunction", tmp_path)
    assert published(sandbox_server, "killcreate-slow") == [] and aliases(sandbox_server, "killcreate-slow") == {}
    again = cli(["--json", "push", "--alias", "dev"], tmp_path, sandbox_server.url)
    assert again.code == 0, again.stderr
    assert (pushed(again)["uploaded"], pushed(again)["published"]) == (False, True)
    assert published(sandbox_server, "killcreate-slow") == ["1"]
    assert aliases(sandbox_server, "killcreate-slow") == {"dev": "1"}


def test_sigint_while_watching_a_canary_removes_its_weight(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, function = "intcanary", "intcanary-slow"
    write(tmp_path, name, "v1")
    assert cli(["push", "--alias", "prod"], tmp_path, sandbox_server.url).code == 0
    before = alias_state(sandbox_server, function, "prod")
    write(tmp_path, name, "v2")
    # A 20 s watch polls every 2 s; the signal comes long before the watch could end by itself.
    process = start_cli(["push", "--alias", "prod", "--canary", "10", "--watch", "20s"], tmp_path,
                        sandbox_server.url)
    wait_for(process, "watch version 2")
    assert alias_state(sandbox_server, function, "prod")["weights"] == {"2": 0.1}  # the canary is live
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "weight was removed" in stdout and "Traceback" not in stderr
    after = alias_state(sandbox_server, function, "prod")
    assert (after["version"], after["weights"], after["previous"]) == ("1", {}, before["previous"])
    assert published(sandbox_server, function) == ["1", "2"]
