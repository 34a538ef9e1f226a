"""Watching a canary: the new version's errors, and named CloudWatch alarms.

What is watched: the `Errors` metric of the canary version (AWS/Lambda, dimensions
FunctionName, Resource=FUNCTION:ALIAS, ExecutedVersion), and each `--alarm` (metric or
composite). `Throttles` is not watched: a throttled request never runs, so it carries no
ExecutedVersion and cannot be told apart between the two versions; use an alarm for it.
Lambda's metrics reach CloudWatch one to three minutes late, so the last watch keeps
looking for `settle_seconds` after its window before it decides.

On trouble, on Ctrl-C, and on any error while watching (no permission, throttling, a bug)
the canary's weight is taken away first, so all traffic is back on the version the alias
kept serving, and then the push fails. The executor hands in that one write
(`clear_weights`), so this module depends on nothing above it.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable

from ..aws import AwsSession
from ..errors import Interrupted, LambdaDeployError
from .steps import Watch

WATCHED_METRIC = "Errors"
DATAPOINT_LIMIT = 1440  # GetMetricStatistics returns at most this many datapoints per call


class CanaryFailed(LambdaDeployError):
    """The canary showed errors or an alarm, or watching it failed; its weight was removed."""


def poll_interval(seconds: int) -> float:
    """Often enough to react within a tenth of the window, never more than every 10 s."""
    return min(10.0, max(0.5, seconds / 10))


def metric_period(start: dt.datetime, end: dt.datetime) -> int:
    """The smallest period (a multiple of 60 s) that keeps the datapoints within CloudWatch's limit."""
    minutes = max(1.0, (end - start).total_seconds() / 60)
    return 60 * max(1, math.ceil(minutes / DATAPOINT_LIMIT))


def canary_trouble(session: AwsSession, function: str, alias: str, version: str,
                   since: dt.datetime, alarms: tuple[str, ...]) -> str | None:
    """What is wrong with the canary so far, or None."""
    cloudwatch = session.client("cloudwatch")
    start = since - dt.timedelta(minutes=1)
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=WATCHED_METRIC,
        Dimensions=[{"Name": "FunctionName", "Value": function},
                    {"Name": "Resource", "Value": f"{function}:{alias}"},
                    {"Name": "ExecutedVersion", "Value": version}],
        StartTime=start, EndTime=end, Period=metric_period(start, end), Statistics=["Sum"],
    )
    total = sum(point.get("Sum", 0) for point in response.get("Datapoints", []))
    if total > 0:
        return f"{total:.0f} errors on version {version}"
    if alarms:
        found = cloudwatch.describe_alarms(AlarmNames=list(alarms), AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for alarm in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]:
            if alarm.get("StateValue") == "ALARM":
                return f"alarm {alarm['AlarmName']} is in ALARM"
    return None


def watch_canary(session: AwsSession, function: str, step: Watch, version: str, cancel: threading.Event,
                 clear_weights: Callable[[str], None]) -> None:
    """Poll for `step.seconds` (plus `step.settle_seconds`); on trouble, interruption or any error
    remove the canary weight and raise."""
    since = dt.datetime.now(dt.timezone.utc)
    deadline = time.monotonic() + step.seconds + step.settle_seconds
    interval = poll_interval(step.seconds)
    while True:
        try:
            trouble = canary_trouble(session, function, step.alias, version, since, step.alarms)
        except BaseException as error:  # whatever broke the watch, the weight goes first
            _give_up(function, step, version, clear_weights, error)
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


def _give_up(function: str, step: Watch, version: str, clear_weights: Callable[[str], None],
             error: BaseException) -> None:
    """Watching failed: take the weight away (the write retries on its own), then say what happened."""
    reason = error.render() if isinstance(error, LambdaDeployError) else f"{type(error).__name__}: {error}"
    try:
        clear_weights(f"canary v{version} stopped: watching failed")
    except LambdaDeployError as cleanup:
        raise CanaryFailed(f"{function}: watching the canary of version {version} failed ({reason}) and its "
                           f"weight could not be removed ({cleanup.render()})",
                           hint=f"remove it: lambdadeploy rollback --alias {step.alias}") from error
    if isinstance(error, KeyboardInterrupt):
        raise Interrupted(f"{function}: interrupted while watching the canary; its weight was removed") from error
    raise CanaryFailed(f"{function}: watching the canary of version {version} failed: {reason}; its weight was "
                       f"removed and alias {step.alias} serves {step.stable} only") from error
