"""Guards that hold on answers only real AWS gives, from the fault proxy in front of an
in-process sandbox: a function that cannot be read is not taken for a missing one ("not
found" plans a CreateFunction, any other failure of the read must stop the push before it
writes), and an alias someone else created since the plan is not overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdadeploy.aws import AwsAccessDenied
from lambdadeploy.config import load
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import RemoteFunction, read_function
from lambdadeploy.local.sandbox import Sandbox

from .conftest import session_for
from .faults import FaultProxy, Rule


def push(root: Path, name: str, url: str):
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "lambda.yaml").write_text(f"project: {name}\nfunctions:\n  fn: {{handler: app.handler}}\n")
    project = load(root / "lambda.yaml")
    (result,) = Deployer(session_for(url), project, lambda event: None).push(project.functions, "dev")
    return result


DENIED = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:GetFunction"


def test_a_denied_read_raises_and_a_missing_function_reads_as_missing(sandbox: Sandbox, proxy: FaultProxy,
                                                                      project_name: str) -> None:
    assert read_function(session_for(sandbox.url), f"{project_name}-fn") == RemoteFunction(
        f"{project_name}-fn", exists=False)
    proxy.rules.append(Rule("GetFunction", "error", times=10, status=403, code="AccessDeniedException",
                            message=DENIED))
    with pytest.raises(AwsAccessDenied, match="GetFunction failed: AccessDeniedException: User: "):
        read_function(session_for(proxy.url), f"{project_name}-fn")


def test_a_push_whose_read_is_denied_writes_nothing(tmp_path: Path, sandbox: Sandbox, proxy: FaultProxy,
                                                    project_name: str) -> None:
    proxy.rules.append(Rule("GetFunction", "error", times=10, status=403, code="AccessDeniedException",
                            message=DENIED))
    result = push(tmp_path, project_name, proxy.url)
    assert not result.ok and "AccessDeniedException" in (result.error or "")
    assert "CreateFunction" not in proxy.requests and "PublishVersion" not in proxy.requests
    assert read_function(session_for(sandbox.url), f"{project_name}-fn").exists is False


def test_an_alias_someone_else_created_since_the_plan_is_not_overwritten(tmp_path: Path, sandbox: Sandbox,
                                                                         proxy: FaultProxy, project_name: str) -> None:
    proxy.rules.append(Rule("CreateAlias", "error", status=409, code="ResourceConflictException",
                            message=f"Alias already exists: arn:aws:lambda:us-east-1:123456789012:function:"
                                    f"{project_name}-fn:dev"))
    result = push(tmp_path, project_name, proxy.url)
    assert (result.ok, result.exit_code) == (False, 1)
    assert result.error == (f"{project_name}-fn: someone else deployed while this push ran (alias dev changed); "
                            "nothing was moved by this run\n  hint: re-run the command")
    assert proxy.requests.count("CreateAlias") == 1  # not retried, not replaced by an update
    assert "UpdateAlias" not in proxy.requests
