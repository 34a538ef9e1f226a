"""Guards of a push that need AWS's answers (moto in-process): a race to create the execution
role, a stop request while the alias moves or while a canary is live, and an alias that
someone else moved between the plan and the move."""

from __future__ import annotations

import json
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.events import StepStarted
from lambdadeploy.engine.plan import Rollout
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.report import AliasOutcome
from lambdadeploy.engine.roles import apply_role_step
from lambdadeploy.engine.steps import (
    CreateRole,
    MarkTriggers,
    MoveAlias,
    SetPermission,
    ShiftTraffic,
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


def push_with(session: AwsSession, project, hook, rollout=None):
    """Push to prod, running `hook(step)` as each step starts (what another deployer does meanwhile)."""
    events: list = []

    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, StepStarted):
            hook(deployer, event.step)

    deployer = Deployer(session, project, emit)
    (report,) = deployer.push(project.functions, "prod", rollout=rollout)
    return report


def other_deploy_moves_prod(session: AwsSession) -> str:
    """Someone else publishes $LATEST as a new version and points prod at it."""
    client = session.client("lambda")
    client.update_function_configuration(FunctionName="t-worker", Description="someone else's")
    version = client.publish_version(FunctionName="t-worker")["Version"]
    client.update_alias(FunctionName="t-worker", Name="prod", FunctionVersion=version)
    return version


def test_an_alias_moved_by_someone_else_since_the_plan_is_not_moved_back(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    (first,) = Deployer(session, project, lambda e: None).push(project.functions, "prod")
    assert first.ok, first.error
    project = write_project(tmp_path, "return 2")
    theirs: list[str] = []
    report = push_with(session, project, lambda deployer, step: isinstance(step, MoveAlias) and not theirs
                       and theirs.append(other_deploy_moves_prod(session)))
    assert (report.ok, report.outcome) == (False, AliasOutcome.NOT_MOVED)
    assert report.error == ("t-worker: someone else deployed while this push ran (alias prod changed); "
                            "nothing was moved by this run\n  hint: re-run the command")
    assert read_function(session, "t-worker").aliases["prod"].version == theirs[0]  # theirs stays


def test_a_canary_is_not_started_on_an_alias_someone_else_moved(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    assert Deployer(session, project, lambda e: None).push(project.functions, "prod")[0].ok
    project = write_project(tmp_path, "return 2")
    theirs: list[str] = []
    report = push_with(session, project, lambda deployer, step: isinstance(step, ShiftTraffic) and not theirs
                       and theirs.append(other_deploy_moves_prod(session)), rollout=Rollout(10))
    assert not report.ok and "alias prod changed" in (report.error or "")
    state = read_function(session, "t-worker").aliases["prod"]
    assert (state.version, dict(state.weights)) == (theirs[0], {})


def test_ctrl_c_with_a_canary_live_removes_its_weight_before_stopping(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    assert Deployer(session, project, lambda e: None).push(project.functions, "prod")[0].ok
    project = write_project(tmp_path, "return 2")
    report = push_with(session, project, lambda deployer, step: isinstance(step, ShiftTraffic) and deployer.cancel.set(),
                       rollout=Rollout(10, watch_seconds=60, metrics_delay=0))
    assert (report.ok, report.exit_code) == (False, 130)
    assert report.error == "t-worker: interrupted (the canary's 10% weight was removed)"
    assert report.canary_weight is None and report.outcome is AliasOutcome.NOT_MOVED
    state = read_function(session, "t-worker").aliases["prod"]
    assert (state.version, dict(state.weights)) == ("1", {})
    assert state.history.smoke == "canary v2 stopped by the user"
