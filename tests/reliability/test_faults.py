"""AWS faults during a push are retried with backoff and the push still ends right."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lambdadeploy.config import load
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.local.sandbox import Sandbox

from .conftest import session_for
from .faults import FaultProxy, Rule


def project(root: Path, name: str, body: str = "return {'v': 1}", memory: int = 128):
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(f"def handler(event, context):\n    {body}\n")
    (root / "lambda.yaml").write_text(textwrap.dedent(f"""
        project: {name}
        functions:
          fn: {{handler: app.handler, memory: {memory}}}
    """))
    return load(root / "lambda.yaml")


def push(url: str, proj, alias: str = "dev"):
    (result,) = Deployer(session_for(url), proj, lambda event: None).push(proj.functions, alias)
    return result


def test_throttling_and_5xx_are_retried(tmp_path: Path, sandbox: Sandbox, proxy: FaultProxy, project_name: str) -> None:
    proxy.rules += [Rule("CreateFunction", "throttle", times=2), Rule("PublishVersion", "server", times=2),
                    Rule("Invoke", "throttle", times=1), Rule("CreateAlias", "server", times=1)]
    result = push(proxy.url, project(tmp_path, project_name))
    assert result.ok, result.error
    assert sorted(proxy.seen) == sorted(["throttle:CreateFunction"] * 2 + ["server:PublishVersion"] * 2
                                        + ["throttle:Invoke", "server:CreateAlias"])
    remote = read_function(session_for(sandbox.url), f"{project_name}-fn")
    assert [v.version for v in remote.versions] == ["1"] and remote.aliases["dev"].version == "1"


def test_update_in_progress_conflict_is_waited_out(tmp_path: Path, sandbox: Sandbox, proxy: FaultProxy,
                                                   project_name: str) -> None:
    assert push(sandbox.url, project(tmp_path, project_name)).ok
    proxy.rules += [Rule("UpdateFunctionConfiguration", "conflict", times=2),
                    Rule("UpdateFunctionCode", "conflict", times=1)]
    result = push(proxy.url, project(tmp_path, project_name, "return {'v': 2}", memory=256))
    assert result.ok, result.error
    assert proxy.seen.count("conflict:UpdateFunctionConfiguration") == 2
    remote = read_function(session_for(sandbox.url), f"{project_name}-fn")
    assert remote.config["MemorySize"] == 256 and remote.aliases["dev"].version == "2"


def test_connection_dropped_mid_upload_is_retried(tmp_path: Path, sandbox: Sandbox, proxy: FaultProxy,
                                                  project_name: str) -> None:
    assert push(sandbox.url, project(tmp_path, project_name)).ok
    proxy.rules.append(Rule("UpdateFunctionCode", "drop", times=1))
    result = push(proxy.url, project(tmp_path, project_name, "return {'v': 2}"))
    assert result.ok, result.error
    assert proxy.seen == ["drop:UpdateFunctionCode"]
    remote = read_function(session_for(sandbox.url), f"{project_name}-fn")
    assert [v.version for v in remote.versions] == ["1", "2"] and remote.aliases["dev"].version == "2"
    assert result.smoke is not None and result.smoke.payload == {"v": 2}


def test_persistent_failure_fails_cleanly_without_moving_alias(tmp_path: Path, sandbox: Sandbox,
                                                                proxy: FaultProxy, project_name: str,
                                                                monkeypatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")  # the standard AWS setting, honoured; keeps the test short
    assert push(sandbox.url, project(tmp_path, project_name)).ok
    proxy.rules.append(Rule("PublishVersion", "server", times=100))
    result = push(proxy.url, project(tmp_path, project_name, "return {'v': 2}"))
    assert not result.ok and result.exit_code == 1 and "PublishVersion" in (result.error or "")
    assert proxy.seen.count("server:PublishVersion") == 3
    remote = read_function(session_for(sandbox.url), f"{project_name}-fn")
    assert remote.aliases["dev"].version == "1"
