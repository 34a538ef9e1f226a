"""Gradual rollout: canary weights, watching, automatic rollback, finish, cancel (moto in-process)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.plan import Rollout
from lambdadeploy.engine.remote import read_function

from .conftest import event_texts, write_project


def push(session: AwsSession, tmp_path: Path, body: str, rollout: Rollout | None = None, events=None):
    project = write_project(tmp_path, body)
    sink = events if events is not None else []
    (result,) = Deployer(session, project, sink.append).push(project.functions, "prod", rollout=rollout)
    return project, result


def alias(session: AwsSession):
    return read_function(session, "t-worker").aliases["prod"]


def test_canary_leaves_alias_on_old_version_with_weight(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    project, result = push(session, tmp_path, "return 2", Rollout(10))
    assert result.ok, result.error
    assert result.canary_weight == 0.1 and not result.alias_moved
    state = alias(session)
    assert state.version == "1" and dict(state.weights) == {"2": 0.1}
    # prune must keep the canary version; status shows the weight
    from lambdadeploy.engine.plan import plan_prune
    assert "2" not in plan_prune(read_function(session, "t-worker"), keep=0)

    (finished,) = Deployer(session, project, lambda e: None).finish(project.functions, "prod")
    assert finished.ok and finished.alias_moved
    state = alias(session)
    assert state.version == "2" and not state.weights and state.history.previous[0] == "1"


def test_rollback_cancels_a_canary(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    project, _ = push(session, tmp_path, "return 2", Rollout(25))
    (cancelled,) = Deployer(session, project, lambda e: None).rollback(project.functions, "prod", None)
    assert cancelled.ok
    state = alias(session)
    assert state.version == "1" and not state.weights


def test_passing_watch_moves_alias_fully(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    events: list = []
    _, result = push(session, tmp_path, "return 2", Rollout(10, watch_seconds=1, metrics_delay=0), events)
    assert result.ok, result.error
    assert any("watch version 2" in text for text in event_texts(events))
    state = alias(session)
    assert state.version == "2" and not state.weights


def test_errors_during_watch_remove_the_weight(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    session.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[{
        "MetricName": "Errors", "Value": 3, "Timestamp": dt.datetime.now(dt.timezone.utc),
        "Dimensions": [{"Name": "FunctionName", "Value": "t-worker"},
                       {"Name": "Resource", "Value": "t-worker:prod"},
                       {"Name": "ExecutedVersion", "Value": "2"}]}])
    _, result = push(session, tmp_path, "return 2", Rollout(10, watch_seconds=2, metrics_delay=0))
    assert not result.ok and result.exit_code == 1
    assert "3 errors on version 2" in (result.error or "")
    state = alias(session)
    assert state.version == "1" and not state.weights


def test_alarm_in_alarm_state_rolls_back(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    cloudwatch = session.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="p99-latency", MetricName="Duration", Namespace="AWS/Lambda",
                                Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1000,
                                ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName="p99-latency", StateValue="ALARM", StateReason="test")
    _, result = push(session, tmp_path, "return 2", Rollout(10, watch_seconds=2, alarms=("p99-latency",), metrics_delay=0))
    assert not result.ok and "alarm p99-latency is in ALARM" in (result.error or "")
    assert alias(session).version == "1" and not alias(session).weights


def test_a_composite_alarm_is_known_and_watched(session: AwsSession, tmp_path: Path) -> None:
    """--alarm accepts a composite alarm (DescribeAlarms lists them only when AlarmTypes asks).
    moto lacks PutCompositeAlarm, so the alarm is made through moto's own CloudWatch backend."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    push(session, tmp_path, "return 1")
    cloudwatch = session.client("cloudwatch")
    cloudwatch_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].put_metric_alarm(
        name="service-health", namespace="", metric_name="", comparison_operator="", evaluation_periods=0,
        period=0, threshold=0, statistic="", description="", dimensions=[], alarm_actions=[],
        rule='ALARM("errors-high")')
    assert cloudwatch.describe_alarms(AlarmNames=["service-health"])["MetricAlarms"] == []  # needs AlarmTypes
    cloudwatch.set_alarm_state(AlarmName="service-health", StateValue="ALARM", StateReason="test")
    _, result = push(session, tmp_path, "return 2",
                     Rollout(10, watch_seconds=2, alarms=("service-health",), metrics_delay=0))
    assert not result.ok and "alarm service-health is in ALARM" in (result.error or "")
    assert alias(session).version == "1" and not alias(session).weights


def test_unknown_alarm_is_invalid_input_before_anything_happens(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    project = write_project(tmp_path, "return 2")
    pushed = Deployer(session, project, lambda e: None).push(
        project.functions, "prod", rollout=Rollout(10, watch_seconds=1, alarms=("nope",), metrics_delay=0))
    assert pushed.exit_code == 2 and not pushed.ok
    assert [f.message for f in pushed.plan.errors] == ["CloudWatch alarm(s) not found: nope"]
    assert [v.version for v in read_function(session, "t-worker").versions] == ["1"]


def test_linear_rollout_steps_through_weights(session: AwsSession, tmp_path: Path) -> None:
    push(session, tmp_path, "return 1")
    events: list = []
    _, result = push(session, tmp_path, "return 2", Rollout(40, watch_seconds=1, linear_step=40, metrics_delay=0), events)
    assert result.ok, result.error
    shifts = [text for text in event_texts(events) if "of traffic to" in text]
    assert shifts == ["~ alias prod: 40% of traffic to 2, the rest on 1", "~ alias prod: 80% of traffic to 2, the rest on 1"]
    assert alias(session).version == "2"


def test_first_deploy_with_canary_just_creates_alias(session: AwsSession, tmp_path: Path) -> None:
    _, result = push(session, tmp_path, "return 1", Rollout(10))
    assert result.ok and result.alias_moved and result.canary_weight is None
    assert alias(session).version == "1"


def test_the_last_watch_waits_for_late_metrics(session: AwsSession, tmp_path: Path) -> None:
    """An error CloudWatch reports after the window (Lambda's metrics arrive late) still rolls back."""
    import threading

    push(session, tmp_path, "return 1")

    def late_error() -> None:
        session.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[{
            "MetricName": "Errors", "Value": 1, "Timestamp": dt.datetime.now(dt.timezone.utc),
            "Dimensions": [{"Name": "FunctionName", "Value": "t-worker"}, {"Name": "Resource", "Value": "t-worker:prod"},
                           {"Name": "ExecutedVersion", "Value": "2"}]}])

    timer = threading.Timer(2.5, late_error)  # after the 1 s window, within the 4 s of settling
    timer.start()
    try:
        _, result = push(session, tmp_path, "return 2", Rollout(10, watch_seconds=1, metrics_delay=4))
    finally:
        timer.cancel()
    assert not result.ok and "1 errors on version 2" in (result.error or "")
    assert alias(session).version == "1" and not alias(session).weights
