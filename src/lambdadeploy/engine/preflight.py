"""Pre-flight: checks that need AWS state, run after planning and before anything is written.

`plan` shows the findings; `push` stops on any error finding with exit 2 and nothing
changed. Each check is a function of the plan's inputs returning findings.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..aws import AwsSession
from .plan import Rollout
from .report import Finding


def missing_alarms(session: AwsSession, names: Sequence[str]) -> list[str]:
    """The --alarm names CloudWatch does not know."""
    found = session.client("cloudwatch").describe_alarms(AlarmNames=list(names)).get("MetricAlarms", [])
    known = {alarm["AlarmName"] for alarm in found}
    return [name for name in names if name not in known]


def check_rollout(session: AwsSession, rollout: Rollout | None) -> list[Finding]:
    if rollout is None or not rollout.alarms:
        return []
    missing = missing_alarms(session, rollout.alarms)
    if not missing:
        return []
    return [Finding(None, f"CloudWatch alarm(s) not found: {', '.join(missing)}",
                    "--alarm takes the name of an existing alarm")]
