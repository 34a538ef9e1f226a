"""Guards of a push that need AWS's answers (moto in-process): a race to create the execution
role, and a stop request that comes while the alias moves, before the triggers are wired."""

from __future__ import annotations

import json
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.events import StepStarted
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.report import AliasOutcome
from lambdadeploy.engine.roles import apply_role_step
from lambdadeploy.engine.steps import (
    CreateRole,
    MarkTriggers,
    MoveAlias,
    SetPermission,
    WireTrigger,
)
from lambdadeploy.iam.execution_role import TRUST_POLICY

from .conftest import write_project


def test_an_execution_role_created_meanwhile_by_another_push_is_used_as_is(session: AwsSession) -> None:
    iam = session.client("iam")
    iam.create_role(RoleName="shop-lambda-exec", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                    Description="made by the other push")
    apply_role_step(session, CreateRole("shop-lambda-exec", TRUST_POLICY))  # EntityAlreadyExists: fine
    (role,) = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "shop-lambda-exec"]
    assert role["Description"] == "made by the other push"  # not replaced, not touched


def test_a_stop_request_while_the_alias_moves_still_skips_wiring_triggers(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", "triggers: [{schedule: {expression: 'rate(5 minutes)', alias: prod}}]")
    events: list = []
    deployer = Deployer(session, project, events.append)

    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, StepStarted) and isinstance(event.step, MoveAlias):
            deployer.cancel.set()  # Ctrl-C while the alias is being moved

    deployer.emit = emit
    (report,) = deployer.push(project.functions, "prod")
    assert (report.ok, report.exit_code, report.error) == (False, 130, "t-worker: interrupted")
    # the move that was under way finished: the alias serves the smoke-tested version ...
    assert report.outcome is AliasOutcome.MOVED and report.alias_to == "1"
    assert read_function(session, "t-worker").aliases["prod"].version == "1"
    # ... and nothing after it was started: no rule, no permission, no marker
    assert report.not_done and all(isinstance(s, WireTrigger | SetPermission | MarkTriggers) for s in report.not_done)
    assert not any(isinstance(e, StepStarted) and e.step in report.not_done for e in events)
    assert session.client("events").list_rules()["Rules"] == []
    assert "lambdadeploy:triggers:prod" not in session.client("lambda").list_tags(
        Resource=read_function(session, "t-worker").arn)["Tags"]
