"""The triggers of one alias: read what is wired, plan the difference (pure), for every kind.

Order of the planned steps: the resource-policy statements the triggers need first
(S3 checks them when a notification is written), then each kind in registry order,
then the statements nothing needs any more, then the function's marker tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws import AwsSession
from ..config.model import FunctionConfig
from ..triggers import registry
from ..triggers.base import ReadContext, Target, Wired
from ..triggers.permissions import plan_grants, read_statements
from .remote import RemoteFunction
from .steps import FunctionStep, MarkTriggers, SetPermission, WireTrigger

# Function tag `lambdadeploy:triggers:ALIAS`: "none" when the tool wired no trigger to ALIAS.
TRIGGER_MARKER_PREFIX = "lambdadeploy:triggers:"


@dataclass(frozen=True)
class TriggerState:
    """What feeds one alias now, per kind; `skipped` when the marker tag made reading needless."""

    target: Target
    statements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    observed: Mapping[str, Any] = field(default_factory=dict)
    skipped: bool = False


def function_arn(session: AwsSession, remote: RemoteFunction, name: str) -> str:
    """The function's ARN: as AWS reported it, or as it will be once created."""
    if remote.exists and remote.arn:
        return remote.arn
    return f"arn:{session.partition}:lambda:{session.region}:{session.account_id()}:function:{name}"


def target_for(session: AwsSession, fn: FunctionConfig, remote: RemoteFunction, alias: str) -> Target:
    return Target(fn.name, alias, f"{function_arn(session, remote, fn.name)}:{alias}",
                  exists=remote.exists and alias in remote.aliases)


def read_triggers(session: AwsSession, fn: FunctionConfig, remote: RemoteFunction, alias: str) -> TriggerState:
    """Read what every kind has wired to the alias (nothing, when the marker says none and none is wanted)."""
    target = target_for(session, fn, remote, alias)
    wanted = fn.triggers_for(alias)
    if not wanted and remote.tags.get(TRIGGER_MARKER_PREFIX + alias) == "none":
        return TriggerState(target, skipped=True)
    statements = read_statements(session, target)
    ctx = ReadContext(session, target, statements)
    observed = {kind.name: kind.read(ctx, [t for t in wanted if t.kind == kind.name]) for kind in registry.kinds()}
    return TriggerState(target, statements, observed)


def plan_triggers(fn: FunctionConfig, alias: str, state: TriggerState,
                  tags: Mapping[str, str]) -> tuple[FunctionStep, ...]:
    """Pure: the steps that make the alias's triggers what lambda.yaml says."""
    if state.skipped:
        return ()
    target = state.target
    wanted = fn.triggers_for(alias)
    kinds = registry.kinds()
    grants = [g for kind in kinds for g in kind.grants(target, [t for t in wanted if t.kind == kind.name])]
    # Statements a kind plans itself (in its own steps) are not the generic grants' to remove.
    generic = {sid: s for sid, s in state.statements.items() if not any(k.owns_statement(sid) for k in kinds)}
    add, remove = plan_grants(target, grants, generic)
    steps: list[FunctionStep] = [SetPermission(fn.name, target, step) for step in add]
    for kind in kinds:
        triggers = [t for t in wanted if t.kind == kind.name]
        steps += [WireTrigger(fn.name, target, step)
                  for step in kind.plan(target, triggers, state.observed.get(kind.name))]
    steps += [SetPermission(fn.name, target, step) for step in remove]
    marker = "wired" if wanted else "none"
    if tags.get(TRIGGER_MARKER_PREFIX + alias) != marker:
        steps.append(MarkTriggers(fn.name, target.arn.rpartition(":")[0], alias, marker))
    return tuple(steps)


def wired_triggers(session: AwsSession, fn: FunctionConfig, remote: RemoteFunction) -> list[Wired]:
    """What feeds each alias of the function now (for `status`)."""
    found: list[Wired] = []
    for alias in sorted(remote.aliases):
        state = read_triggers(session, fn, remote, alias)
        for kind in registry.kinds():
            if kind.name in state.observed:
                found += kind.wired(state.target, state.observed[kind.name])
    return found
