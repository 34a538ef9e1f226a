"""Stopping on request, in the corners the process-level interruption tests do not reach:
a second signal, and a signal before a function starts. No AWS: nothing here reaches a
client. (Ctrl-C while a canary is watched is in tests/aws/test_canary_watch.py, against moto.)"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from lambdadeploy.cli.app import stop_on_signals
from lambdadeploy.config.model import FunctionConfig, Project
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.plan import plan_push
from lambdadeploy.engine.remote import RemoteFunction
from lambdadeploy.engine.report import AliasOutcome
from lambdadeploy.output import Output

FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")
PROJECT = Project(config_file=Path("/p/lambda.yaml"), functions=(FN,))


def deployer() -> Deployer:
    # No session: these paths must not talk to AWS at all.
    return Deployer(session=None, project=PROJECT, emit=lambda event: None)  # type: ignore[arg-type]


def test_a_second_signal_neither_warns_again_nor_kills_the_run(capsys: pytest.CaptureFixture) -> None:
    running = deployer()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with stop_on_signals(running, Output(color=False, live=False)):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt if not handled
        assert running.cancel.is_set()
    assert capsys.readouterr().err == (
        "warning: SIGTERM: stopping after the steps in progress; no alias will move to an untested version\n")
    assert {sig: signal.getsignal(sig) for sig in before} == before  # the previous handlers are back


def test_a_function_not_started_when_the_signal_came_reports_that_nothing_was_done() -> None:
    running = deployer()
    plan = plan_push(FN, "sha", "arn:aws:iam::123456789012:role/r", RemoteFunction("shop-api", exists=False), "prod")
    running.cancel.set()
    report = running._execute(plan, None, None)
    assert (report.ok, report.exit_code, report.outcome) == (False, 130, AliasOutcome.NOT_MOVED)
    assert report.error == "shop-api: interrupted before it started; nothing done"
    assert (report.done, report.not_done) == ((), plan.steps)
    assert (report.alias_from, report.alias_to, report.version) == (None, None, None)
