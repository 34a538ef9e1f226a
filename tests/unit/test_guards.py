"""Guards that decide whether a deploy may go on, in the branches no other test reaches:
a read that fails for another reason than "not found", a canary alarm that is fine, the
rollout options that exclude each other, a race to create the execution role, and a stop
request before triggers are wired. Stand-in clients, no AWS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdadeploy.canary import canary_trouble
from lambdadeploy.cli.deploying import parse_rollout
from lambdadeploy.deploy import Deployer, FunctionResult
from lambdadeploy.errors import Interrupted, InvalidInputError
from lambdadeploy.model import FunctionConfig
from lambdadeploy.plan import Rollout
from lambdadeploy.remote import RemoteFunction, read_function
from lambdadeploy.roles import _create_role

FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")


def client_error(code: str, operation: str = "GetFunction") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class Stub:
    """A client whose methods answer from `answers` (a value, or an exception to raise)."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            answer = self.answers[name]
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call


class Session:
    def __init__(self, **clients: Stub) -> None:
        self.clients = clients

    def client(self, service: str) -> Stub:
        return self.clients[service]


def test_a_function_that_cannot_be_read_is_not_taken_for_a_missing_one() -> None:
    # "Not found" plans a CreateFunction; any other failure must stop the deploy instead.
    denied = client_error("AccessDeniedException")
    session = Session(**{"lambda": Stub(get_function=denied, get_paginator=denied)})
    with pytest.raises(ClientError, match="AccessDenied"):
        read_function(session, "shop-api")
    missing = client_error("ResourceNotFoundException")
    session = Session(**{"lambda": Stub(get_function=missing, get_paginator=missing)})
    assert read_function(session, "shop-api") == RemoteFunction("shop-api", exists=False)


class Watching:
    def __init__(self, cloudwatch: Stub) -> None:
        self.session = Session(cloudwatch=cloudwatch)


SINCE = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)


def test_only_an_alarm_in_alarm_state_is_trouble() -> None:
    quiet = {"Datapoints": [{"Sum": 0.0}]}
    fine = Stub(get_metric_statistics=quiet, describe_alarms={"MetricAlarms": [
        {"AlarmName": "latency", "StateValue": "OK"}, {"AlarmName": "errors", "StateValue": "INSUFFICIENT_DATA"}]})
    assert canary_trouble(Watching(fine), FN, "prod", "5", SINCE, ("latency", "errors")) is None
    gone = Stub(get_metric_statistics=quiet, describe_alarms={})
    assert canary_trouble(Watching(gone), FN, "prod", "5", SINCE, ("latency",)) is None
    firing = Stub(get_metric_statistics=quiet, describe_alarms={"MetricAlarms": [
        {"AlarmName": "latency", "StateValue": "OK"}, {"AlarmName": "errors", "StateValue": "ALARM"}]})
    assert canary_trouble(Watching(firing), FN, "prod", "5", SINCE, ("latency", "errors")) == (
        "alarm errors is in ALARM")
    assert canary_trouble(Watching(firing), FN, "prod", "5", SINCE, ()) is None  # no --alarm: not asked


def test_errors_of_the_canary_version_are_trouble_before_any_alarm() -> None:
    erring = Stub(get_metric_statistics={"Datapoints": [{"Sum": 2.0}, {"Sum": 1.0}]}, describe_alarms={})
    assert canary_trouble(Watching(erring), FN, "prod", "5", SINCE, ("latency",)) == "3 errors on version 5"
    assert erring.calls == ["get_metric_statistics"]


@pytest.mark.parametrize(
    ("canary", "watch", "alarms", "linear", "message"),
    [
        (10.0, None, (), "10/1m", "--linear STEP/INTERVAL replaces --canary and --watch; use one or the other"),
        (None, "5m", (), "10/1m", "--linear STEP/INTERVAL replaces --canary and --watch; use one or the other"),
        (None, None, (), "10", "--linear '10': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "100/1m", "--linear '100/1m': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "0/1m", "--linear '0/1m': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, "5m", (), None, "--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)"),
        (None, None, ("errors",), None, "--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)"),
    ],
)
def test_rollout_options_that_do_not_fit_together_are_refused(canary, watch, alarms, linear, message) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_rollout(canary, watch, alarms, linear)
    assert caught.value.message == message


def test_rollout_options_become_a_rollout() -> None:
    assert parse_rollout(None, None, (), None) is None
    assert parse_rollout(10.0, None, (), None) == Rollout(10.0, 0, ())
    assert parse_rollout(10.0, "2m", ("errors",), None) == Rollout(10.0, 120, ("errors",))
    assert parse_rollout(None, None, ("errors",), "12.5/30s") == Rollout(12.5, 30, ("errors",), linear_step=12.5)


def test_an_execution_role_created_meanwhile_by_another_push_is_used_as_is() -> None:
    iam = Stub(create_role=client_error("EntityAlreadyExists", "CreateRole"), attach_role_policy={})
    assert _create_role(iam, "shop-lambda") is False
    assert iam.calls == ["create_role"]  # its policies are the other push's business
    iam = Stub(create_role=client_error("AccessDenied", "CreateRole"))
    with pytest.raises(ClientError, match="AccessDenied"):
        _create_role(iam, "shop-lambda")
    iam = Stub(create_role={}, attach_role_policy={})
    assert _create_role(iam, "shop-lambda") is True and iam.calls == ["create_role", "attach_role_policy"]


def test_a_stop_request_after_the_alias_moved_still_skips_wiring_triggers() -> None:
    deployer = Deployer(session=Session(), project=None, emit=lambda event: None)
    deployer.cancel.set()
    with pytest.raises(Interrupted, match=r"^shop-api: interrupted; not done: wiring triggers to prod$"):
        deployer._wire_triggers(FN, "prod", FunctionResult(FN, "prod"), RemoteFunction("shop-api", exists=True))
