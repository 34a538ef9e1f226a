"""The canary watch against CloudWatch (moto in-process): which errors and alarms are trouble,
and what happens to the canary's weight on trouble and on Ctrl-C in the middle of a watch."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.rollout import CanaryFailed, canary_trouble, watch_canary
from lambdadeploy.engine.steps import Watch
from lambdadeploy.errors import Interrupted


def errors(session: AwsSession, version: str, *counts: float, function: str = "shop-api", alias: str = "prod") -> None:
    """Errors datapoints as Lambda reports them for an alias's executed version."""
    session.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Errors", "Value": count, "Timestamp": dt.datetime.now(dt.timezone.utc),
         "Dimensions": [{"Name": "FunctionName", "Value": function},
                        {"Name": "Resource", "Value": f"{function}:{alias}"},
                        {"Name": "ExecutedVersion", "Value": version}]}
        for count in counts])


def alarm(session: AwsSession, name: str, state: str) -> None:
    cloudwatch = session.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Duration", Statistic="Average",
                                Period=60, EvaluationPeriods=1, Threshold=1000, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def since() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)


def test_errors_of_the_canary_version_are_trouble_and_those_of_other_versions_are_not(session: AwsSession) -> None:
    errors(session, "4", 7.0)  # the stable version's errors are not the canary's
    errors(session, "5", 1.0, function="shop-other")  # nor another function's
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ()) is None
    errors(session, "5", 2.0, 1.0)
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ()) == "3 errors on version 5"


def test_only_an_alarm_in_alarm_state_is_trouble_and_only_when_asked_for(session: AwsSession) -> None:
    alarm(session, "latency", "OK")
    alarm(session, "errors", "INSUFFICIENT_DATA")
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ("latency", "errors")) is None
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ("missing",)) is None
    alarm(session, "errors", "ALARM")
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ("latency", "errors")) == (
        "alarm errors is in ALARM")
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ("latency",)) is None
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ()) is None  # no --alarm: not asked


def test_errors_of_the_canary_version_are_reported_before_any_alarm(session: AwsSession) -> None:
    alarm(session, "errors", "ALARM")
    errors(session, "5", 2.0)
    assert canary_trouble(session, "shop-api", "prod", "5", since(), ("errors",)) == "2 errors on version 5"


STEP = Watch("shop-api", "prod", stable="4", canary="5", seconds=3)


def test_a_quiet_watch_ends_with_its_window_and_leaves_the_weight(session: AwsSession) -> None:
    cleared: list[str] = []
    started = time.monotonic()
    watch_canary(session, "shop-api", Watch("shop-api", "prod", "4", "5", seconds=1), "5", threading.Event(),
                 cleared.append)
    assert cleared == [] and time.monotonic() - started >= 1  # the whole window was watched


def test_ctrl_c_in_the_middle_of_a_watch_takes_the_canary_weight_away(session: AwsSession) -> None:
    cancel = threading.Event()
    cleared: list[str] = []
    step = Watch("shop-api", "prod", stable="4", canary="5", seconds=20)  # polled every 2 s
    timer = threading.Timer(0.5, cancel.set)  # the signal handler sets this while the watch sleeps
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Interrupted) as caught:
            watch_canary(session, "shop-api", step, "5", cancel, cleared.append)
    finally:
        timer.cancel()
    assert 0.5 <= time.monotonic() - started < step.seconds / 2  # stopped at the next poll, not at the window's end
    assert cleared == ["canary v5 stopped by the user"]
    assert caught.value.message == ("shop-api: interrupted while watching the canary; its weight was removed "
                                    "and alias prod serves 4 only")
    assert caught.value.exit_code == 130


def test_trouble_while_watching_rolls_the_canary_back(session: AwsSession) -> None:
    cleared: list[str] = []
    errors(session, "5", 3.0)
    with pytest.raises(CanaryFailed) as caught:
        watch_canary(session, "shop-api", STEP, "5", threading.Event(), cleared.append)
    assert cleared == ["canary v5 rolled back: 3 errors on version 5"]
    assert caught.value.message == ("shop-api: canary of version 5 rolled back: 3 errors on version 5; "
                                    "alias prod serves 4 only")
