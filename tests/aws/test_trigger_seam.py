"""The trigger seam, proven: a kind in one module (throwaway_kind.py) plus one registration is
validated, planned, applied and shown like the built-in kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdadeploy.aws import AwsSession
from lambdadeploy.config import load
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.status import read_status
from lambdadeploy.engine.steps import WireTrigger
from lambdadeploy.errors import ConfigError
from lambdadeploy.triggers import registry

from .conftest import write_project
from .throwaway_kind import ParamKind


@pytest.fixture
def param_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "KINDS", [*registry.KINDS, ParamKind()])  # the one line


def test_a_new_kind_is_validated_with_file_line_and_field(param_kind: None, tmp_path: Path) -> None:
    write_project(tmp_path, "return 1", "triggers: [{param: {name: /hooks/worker, alias: dev}}]")
    text = (tmp_path / "lambda.yaml").read_text().replace("{name: /hooks/worker, alias: dev}", "{name: hooks, ttl: ten}")
    (tmp_path / "lambda.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "lambda.yaml")
    rendered = [issue.render() for issue in caught.value.issues]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "param:" in row)
    assert rendered == [
        f"{tmp_path / 'lambda.yaml'}:{line}: functions.worker.triggers.0.param.name: invalid parameter name 'hooks' (/path/name)",
        f"{tmp_path / 'lambda.yaml'}:{line}: functions.worker.triggers.0.param.ttl: must be a whole number of seconds, "
        "got 'ten' (1..3600)",
    ]


def test_a_new_kind_is_planned_applied_and_shown(param_kind: None, session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", "triggers: [{param: {name: /hooks/worker, alias: dev}}]")
    deployer = Deployer(session, project, lambda event: None)

    planned = deployer.plan(project.functions, "dev")
    (report,) = planned.functions
    assert report.plan is not None
    (wire,) = [s for s in report.plan.steps if isinstance(s, WireTrigger)]
    assert (wire.change.kind, wire.change.action, wire.change.resource) == ("param", "create", "parameter /hooks/worker")

    (pushed,) = deployer.push(project.functions, "dev")
    assert pushed.ok, pushed.error
    alias_arn = read_function(session, "t-worker").alias_arn("dev")
    assert session.client("ssm").get_parameter(Name="/hooks/worker")["Parameter"]["Value"] == alias_arn
    assert [w.resource for w in read_status(session, project.functions[0]).triggers] == ["parameter /hooks/worker"]

    (again,) = deployer.push(project.functions, "dev")
    assert again.ok and not [r for r in again.done if isinstance(r.step, WireTrigger)]
