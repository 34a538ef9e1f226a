"""Pre-flight: checks that need AWS state, run after planning and before anything is written.

`plan` shows the findings; `push` stops on any error finding with exit 2 and nothing
changed. Each check is a function of the plan's inputs returning findings.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..aws import AwsSession
from ..config.model import FunctionConfig
from ..triggers import registry
from ..triggers.base import PreflightItem
from .plan import FunctionPlan, Rollout
from .report import Finding
from .steps import WireTrigger
from .triggers import TriggerState


def missing_alarms(session: AwsSession, names: Sequence[str]) -> list[str]:
    """The --alarm names CloudWatch does not know (metric and composite alarms alike)."""
    found = session.client("cloudwatch").describe_alarms(
        AlarmNames=list(names), AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    known = {alarm["AlarmName"] for kind in ("MetricAlarms", "CompositeAlarms") for alarm in found.get(kind, [])}
    return [name for name in names if name not in known]


def check_triggers(planned: Sequence[tuple[FunctionConfig, FunctionPlan, TriggerState]], alias: str,
                   region: str) -> list[Finding]:
    """Each trigger kind's checks over every function of the push at once (a bucket or a queue may
    be shared), on what planning read."""
    findings = []
    for kind in registry.kinds():
        items = [
            PreflightItem(fn.name, fn.key, fn.timeout, state.target,
                          tuple(t for t in fn.triggers_for(alias) if t.kind == kind.name), state.observed.get(kind.name),
                          tuple(s.change for s in plan.steps if isinstance(s, WireTrigger) and s.change.kind == kind.name))
            for fn, plan, state in planned if not state.skipped
        ]
        findings += [Finding(p.function, p.message, p.hint, p.level) for p in kind.preflight(items, region)]
    return findings


def check_rollout(session: AwsSession, rollout: Rollout | None) -> list[Finding]:
    if rollout is None or not rollout.alarms:
        return []
    missing = missing_alarms(session, rollout.alarms)
    if not missing:
        return []
    return [Finding(None, f"CloudWatch alarm(s) not found: {', '.join(missing)}",
                    "--alarm takes the name of an existing alarm")]
