"""In-process AWS through moto's mock_aws, with the sandbox's invoke seam so function code really runs."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from lambdadeploy.aws import AwsSession, AwsSettings
from lambdadeploy.config import load
from lambdadeploy.config.model import Project
from lambdadeploy.local.http_apis import install as install_http_apis
from lambdadeploy.local.seam import install_invoke_seam

from .moto_policies import parse_managed_policies_once

# Once per worker, for every moto IAM backend the tests start (mock_aws here, and the
# in-process sandboxes of tests/reliability, which import this module).
parse_managed_policies_once()


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AwsSession]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "LAMBDADEPLOY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    install_invoke_seam()
    install_http_apis()  # GetAuthorizers and AWS's duplicate-route conflict, which moto lacks
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield AwsSession(AwsSettings(region="us-east-1"))


def write_project(root: Path, handler_body: str, extra: str = "", functions: tuple[str, ...] = ("worker",)) -> Project:
    """A project whose functions all run `handler_body` (the body of `handler(event, context)`)."""
    entries = []
    for name in functions:
        source = root / "functions" / name
        source.mkdir(parents=True, exist_ok=True)
        (source / "app.py").write_text("def handler(event, context):\n" + textwrap.indent(handler_body.strip(), "    ") + "\n")
        entries.append(f"  {name}:\n    handler: app.handler\n" + textwrap.indent(textwrap.dedent(extra).strip(), "    ") + "\n")
    (root / "lambda.yaml").write_text("project: t\naliases: [dev, prod]\nfunctions:\n" + "".join(entries))
    return load(root / "lambda.yaml")


def event_texts(events: list) -> list[str]:
    """Progress events as the terminal shows them (steps with their marker, notices as they are)."""
    from lambdadeploy.engine.events import FunctionDone, StepStarted
    from lambdadeploy.output.steps import one_line

    return [one_line(e.step, e.version) if isinstance(e, StepStarted) else e.message for e in events
            if not isinstance(e, FunctionDone)]  # the counter of finished functions is not a line of text


def push_alias(session: AwsSession, path: Path, alias: str) -> list:
    """Push every function of the lambda.yaml at `path` to `alias`; each must succeed."""
    from lambdadeploy.config import RenderContext
    from lambdadeploy.engine.deploy import Deployer

    project: Project = load(path, RenderContext(alias=alias))
    reports = Deployer(session, project, lambda event: None).push(project.functions, alias)
    assert all(r.ok for r in reports), [r.error for r in reports]
    return reports
