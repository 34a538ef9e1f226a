"""Watching a canary: the new version's errors and throttles, and named CloudWatch alarms.

On trouble (or Ctrl-C) the canary's weight is taken away, so all traffic is back on
the version the alias kept serving, and the push fails. The executor hands in the
one write this needs (`clear_weights`), so this module depends on nothing above it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from ..aws import AwsSession
from ..errors import Interrupted, LambdaDeployError
from .steps import Watch

WATCHED_METRICS = ("Errors", "Throttles")


class CanaryFailed(LambdaDeployError):
    """The canary showed errors, throttles or an alarm; its weight was removed."""


def poll_interval(seconds: int) -> float:
    """Often enough to react within a tenth of the window, never more than every 10 s."""
    return min(10.0, max(0.5, seconds / 10))


def canary_trouble(session: AwsSession, function: str, alias: str, version: str,
                   since: dt.datetime, alarms: tuple[str, ...]) -> str | None:
    """What is wrong with the canary so far, or None."""
    cloudwatch = session.client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    for metric in WATCHED_METRICS:
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function},
                        {"Name": "Resource", "Value": f"{function}:{alias}"},
                        {"Name": "ExecutedVersion", "Value": version}],
            StartTime=since - dt.timedelta(minutes=1), EndTime=now + dt.timedelta(minutes=1),
            Period=60, Statistics=["Sum"],
        )
        total = sum(point.get("Sum", 0) for point in response.get("Datapoints", []))
        if total > 0:
            return f"{total:.0f} {metric.lower()} on version {version}"
    if alarms:
        for alarm in cloudwatch.describe_alarms(AlarmNames=list(alarms)).get("MetricAlarms", []):
            if alarm.get("StateValue") == "ALARM":
                return f"alarm {alarm['AlarmName']} is in ALARM"
    return None


def watch_canary(session: AwsSession, function: str, step: Watch, version: str, cancel: threading.Event,
                 clear_weights: Callable[[str], None]) -> None:
    """Poll for `step.seconds`; on trouble or interruption remove the canary weight and raise."""
    since = dt.datetime.now(dt.timezone.utc)
    deadline = time.monotonic() + step.seconds
    interval = poll_interval(step.seconds)
    while True:
        trouble = canary_trouble(session, function, step.alias, version, since, step.alarms)
        if trouble:
            clear_weights(f"canary v{version} rolled back: {trouble}")
            raise CanaryFailed(f"{function}: canary of version {version} rolled back: {trouble}; "
                               f"alias {step.alias} serves {step.stable} only")
        if cancel.is_set():
            clear_weights(f"canary v{version} stopped by the user")
            raise Interrupted(f"{function}: interrupted while watching the canary; its weight was removed "
                              f"and alias {step.alias} serves {step.stable} only")
        if time.monotonic() >= deadline:
            return
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
