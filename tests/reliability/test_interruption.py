"""SIGINT/SIGTERM stop a push cleanly with aliases unchanged; after SIGKILL at any
moment a re-run converges without duplicate versions. Real CLI processes, real sandbox server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..e2e.conftest import Sandbox, run_cli

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
    environment.update({"LAMBDADEPLOY_SANDBOX_URL": sandbox.url, "LAMBDADEPLOY_CACHE_DIR": str(root / ".cache"),
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


def test_sigkill_at_any_moment_then_rerun_converges(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name = "killed"
    write(tmp_path, name, "v0")
    assert run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server).code == 0
    for attempt, delay in enumerate((0.4, 0.8, 1.2, 1.6, 2.0, 2.5), start=1):
        write(tmp_path, name, f"v{attempt}", sleep=0.3)
        process = start_push(tmp_path, sandbox_server)
        time.sleep(delay)
        process.kill()
        process.communicate(timeout=30)
        rerun = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server)
        assert rerun.code == 0, rerun.stdout + rerun.stderr
        client = sandbox_server.client("lambda")
        served = client.invoke(FunctionName=f"{name}-slow", Qualifier="dev")["Payload"].read()
        assert f'"v{attempt}"' in served.decode()
        published = versions(sandbox_server, f"{name}-slow")
        shas = [v["CodeSha256"] for v in published]
        assert len(shas) == len(set(shas)), f"duplicate versions after kill at {delay}s: {published}"
