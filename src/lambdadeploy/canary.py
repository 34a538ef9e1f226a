"""Watching a canary: the new version's errors and throttles, and named CloudWatch alarms.

On trouble (or Ctrl-C) the canary's weight is taken away, so all traffic is back on
the version the alias kept serving, and the push fails.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from .aws import AwsSession
from .errors import Interrupted, LambdaDeployError
from .model import FunctionConfig

if TYPE_CHECKING:  # execute.py imports this module; the types only flow back for hints
    from .execute import Executor
    from .plan import Watch

WATCHED_METRICS = ("Errors", "Throttles")


class CanaryFailed(LambdaDeployError):
    """The canary showed errors, throttles or an alarm; its weight was removed."""


def missing_alarms(session: AwsSession, names: tuple[str, ...]) -> list[str]:
    """The --alarm names CloudWatch does not know (checked before anything is deployed)."""
    found = session.client("cloudwatch").describe_alarms(AlarmNames=list(names)).get("MetricAlarms", [])
    known = {alarm["AlarmName"] for alarm in found}
    return [name for name in names if name not in known]


def poll_interval(seconds: int) -> float:
    """Often enough to react within a tenth of the window, never more than every 10 s."""
    return min(10.0, max(0.5, seconds / 10))


def canary_trouble(executor: Executor, fn: FunctionConfig, alias: str, version: str,
                   since: dt.datetime, alarms: tuple[str, ...]) -> str | None:
    """What is wrong with the canary so far, or None."""
    cloudwatch = executor.session.client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    for metric in WATCHED_METRICS:
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": fn.name},
                        {"Name": "Resource", "Value": f"{fn.name}:{alias}"},
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


def watch_canary(executor: Executor, fn: FunctionConfig, step: Watch, version: str) -> None:
    """Poll for `step.seconds`; on trouble or interruption remove the canary weight and raise."""
    since = dt.datetime.now(dt.timezone.utc)
    deadline = time.monotonic() + step.seconds
    interval = poll_interval(step.seconds)
    while True:
        trouble = canary_trouble(executor, fn, step.alias, version, since, step.alarms)
        if trouble:
            executor.clear_weights(fn, step.alias, f"canary v{version} rolled back: {trouble}")
            raise CanaryFailed(f"{fn.name}: canary of version {version} rolled back: {trouble}; "
                               f"alias {step.alias} serves {step.stable} only")
        if executor.cancel.is_set():
            executor.clear_weights(fn, step.alias, f"canary v{version} stopped by the user")
            raise Interrupted(f"{fn.name}: interrupted while watching the canary; its weight was removed "
                              f"and alias {step.alias} serves {step.stable} only")
        if time.monotonic() >= deadline:
            return
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
