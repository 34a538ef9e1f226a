"""Steps for people and for machines: a marker and a line per step, the fields it changes,
and its JSON document.

Markers, as terraform's plans: `+` creates, `~` changes, `-` removes; `>` runs
something without changing it (a smoke invoke, a watch, reusing a version).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..diff import FieldChange
from ..engine.setting_steps import SETTING_STEPS
from ..engine.steps import (
    NEW_VERSION,
    AttachRolePolicy,
    CreateFunction,
    CreateRole,
    DeleteRolePolicy,
    DetachRolePolicy,
    MarkTriggers,
    MoveAlias,
    Publish,
    PutRolePolicy,
    SetPermission,
    ShiftTraffic,
    Smoke,
    Step,
    UpdateConfig,
    UpdateTags,
    UploadCode,
    UseVersion,
    Watch,
    WireTrigger,
    step_kind,
)
from .setting_views import setting_document, setting_view

MARKERS = {"create": "+", "update": "~", "delete": "-"}
# What each inline policy of an execution role is for (iam/execution_role.py names them).
POLICY_PURPOSES = {
    "lambdadeploy-trigger-sources": "read access to the triggers' queues and streams",
    "lambdadeploy-function-settings": "dead-letter queue, destinations and file system",
    "lambdadeploy-function-policies": "the function's own policies",
}
COUNTED = {"+": "add", "~": "change", "-": "remove"}


@dataclass(frozen=True)
class StepView:
    marker: str  # + ~ - >
    text: str
    changes: tuple[FieldChange, ...] = ()


def _version(value: str, known: str | None) -> str:
    return known if value == NEW_VERSION and known else value


def view(step: Step, version: str | None = None) -> StepView:
    """How a step reads; `version`: the version published so far, shown instead of (new)."""
    match step:
        case CreateFunction(config=config):
            return StepView("+", f"function (runtime {config['Runtime']}, {config['MemorySize']} MB, "
                                 f"timeout {config['Timeout']} s, {config['Architectures'][0]})")
        case UpdateConfig(changes=changes):
            return StepView("~", "configuration", changes)
        case UploadCode(old_sha256=old, new_sha256=new):
            return StepView("~", f"code {(old or '-')[:8]} -> {new[:8]}")
        case UpdateTags(set_tags=set_tags, remove=remove, old=old):
            changes = tuple(FieldChange(k, old.get(k), v) for k, v in set_tags.items())
            changes += tuple(FieldChange(k, old.get(k), None) for k in remove)
            return StepView("~", "tags", changes)
        case Publish(source=source):
            built = f" from {source.label}" if source is not None else ""
            return StepView("+", f"version {_version(NEW_VERSION, version)}{built}")
        case UseVersion(version=number):
            return StepView(">", f"reuse version {number} (same code and configuration)")
        case Smoke(version=number):
            return StepView(">", f"smoke invoke version {_version(number, version)}")
        case MoveAlias(alias=alias, from_version=old, to_version=new) if old == new:
            return StepView("~", f"alias {alias}: all traffic back on {old} (canary cancelled)")
        case MoveAlias(alias=alias, from_version=None, to_version=new):
            return StepView("+", f"alias {alias} -> {_version(new, version)}")
        case MoveAlias(alias=alias, from_version=old, to_version=new):
            return StepView("~", f"alias {alias}: {old} -> {_version(new, version)}")
        case ShiftTraffic(alias=alias, stable=stable, canary=canary, weight=weight):
            return StepView("~", f"alias {alias}: {weight:.0%} of traffic to {_version(canary, version)}, "
                                 f"the rest on {stable}")
        case Watch(canary=canary, seconds=seconds, alarms=alarms, settle_seconds=settle):
            watched = "errors" + "".join(f", alarm {a}" for a in alarms)
            late = f" + {settle} s for late metrics" if settle else ""
            return StepView(">", f"watch version {_version(canary, version)} for {seconds} s{late} ({watched})")
        case WireTrigger(target=target, change=change):
            text = f"trigger {change.kind} {change.resource} -> {target.alias}"
            return StepView(MARKERS[change.action], f"{text}: {change.summary}" if change.summary else text,
                            change.changes)
        case SetPermission(target=target, change=change) if change.action == "create":
            return StepView("+", f"permission {change.params.get('Action')}: {change.source} -> {target.alias}")
        case SetPermission(target=target, change=change):
            return StepView("-", f"permission {change.sid}: {change.source} -> {target.alias}")
        case MarkTriggers(alias=alias, state=state):
            return StepView("~", f"tag lambdadeploy:triggers:{alias} = {state}")
        case CreateRole(role=role):
            return StepView("+", f"execution role {role}")
        case AttachRolePolicy(role=role, policy_arn=arn):
            return StepView("+", f"role {role}: attach {arn}")
        case PutRolePolicy(role=role, policy_name=name, old=old):
            return StepView("+" if old is None else "~", f"role {role}: policy {name} ({POLICY_PURPOSES.get(name, '')})")
        case DeleteRolePolicy(role=role, policy_name=name):
            return StepView("-", f"role {role}: policy {name}")
        case DetachRolePolicy(role=role, policy_arn=arn):
            return StepView("-", f"role {role}: detach {arn}")
        case _ if isinstance(step, SETTING_STEPS):  # concurrency, async, retention, ... (setting_views.py)
            return StepView(*setting_view(step))
    raise TypeError(step)  # pragma: no cover - every Step kind is matched above


def value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)


def change_line(change: FieldChange) -> str:
    if change.old is None:
        return f"+ {change.field}: {value_text(change.new)}"
    if change.new is None:
        return f"- {change.field}: {value_text(change.old)}"
    return f"~ {change.field}: {value_text(change.old)} -> {value_text(change.new)}"


def lines(step: Step, version: str | None = None) -> list[str]:
    """The step's line and, indented under it, one line per changed field."""
    shown = view(step, version)
    return [f"{shown.marker} {shown.text}", *(f"    {change_line(c)}" for c in shown.changes)]


def one_line(step: Step, version: str | None = None) -> str:
    shown = view(step, version)
    return f"{shown.marker} {shown.text}"


def counts(steps: Iterable[Step]) -> Counter[str]:
    """How many steps add, change, remove (and run)."""
    return Counter(COUNTED.get(view(step).marker, "run") for step in steps)


def counts_text(counter: Counter[str]) -> str:
    return ", ".join(f"{counter[k]} to {k}" for k in ("add", "change", "remove"))


def change_document(change: FieldChange) -> dict[str, Any]:
    return {"field": change.field, "old": change.old, "new": change.new}


def document(step: Step, version: str | None = None, detail: str | None = None) -> dict[str, Any]:
    """A step as JSON: its kind, marker, text and the typed fields worth reading."""
    shown = view(step, version)
    doc: dict[str, Any] = {"kind": step_kind(step), "marker": shown.marker, "text": shown.text}
    match step:
        case CreateFunction(config=config):
            doc["config"] = dict(config)
        case UploadCode(old_sha256=old, new_sha256=new):
            doc.update(old_sha256=old, new_sha256=new)
        case Publish() | UseVersion() | Smoke():
            doc["version"] = _version(getattr(step, "version", NEW_VERSION), version)
            if isinstance(step, Publish) and step.source is not None:
                doc["source"] = {"commit": step.source.commit, "dirty": step.source.dirty, "ci": step.source.ci}
        case MoveAlias(alias=alias, from_version=old, to_version=new):
            doc.update(alias=alias, **{"from": old, "to": _version(new, version)})
        case ShiftTraffic(alias=alias, stable=stable, canary=canary, weight=weight):
            doc.update(alias=alias, stable=stable, canary=_version(canary, version), weight=weight)
        case Watch(alias=alias, seconds=seconds, alarms=alarms):
            doc.update(alias=alias, seconds=seconds, alarms=list(alarms))
        case WireTrigger(target=target, change=change):
            doc.update(trigger=change.kind, action=change.action, resource=change.resource, alias=target.alias)
        case SetPermission(target=target, change=change):
            doc.update(trigger=change.kind, action=change.action, sid=change.sid, alias=target.alias)
        case _ if isinstance(step, SETTING_STEPS):
            doc.update(setting_document(step))
    if shown.changes:
        doc["changes"] = [change_document(c) for c in shown.changes]
    if detail:
        doc["detail"] = detail
    return doc
