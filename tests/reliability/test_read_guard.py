"""A function that cannot be read is not taken for a missing one: "not found" plans a
CreateFunction, any other failure of the read must stop the push before it writes. The
fault proxy answers GetFunction as AWS does for a caller without lambda:GetFunction."""

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
    source = tmp_path / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text(f"project: {project_name}\nfunctions:\n  fn: {{handler: app.handler}}\n")
    project = load(tmp_path / "lambda.yaml")
    (result,) = Deployer(session_for(proxy.url), project, lambda event: None).push(project.functions, "dev")
    assert not result.ok and "AccessDeniedException" in (result.error or "")
    assert "CreateFunction" not in proxy.requests and "PublishVersion" not in proxy.requests
    assert read_function(session_for(sandbox.url), f"{project_name}-fn").exists is False
