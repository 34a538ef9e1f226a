"""EventBridge schedule rules that invoke the alias.

A rule is named `lambdadeploy-FUNCTION-ALIAS-HASH` (the readable part cut so the name
fits EventBridge's 64 characters; the hash of function, alias, expression and input
keeps it unique). A rule with that prefix whose target is this alias (or that has no
target left) is the tool's: removed when its schedule leaves lambda.yaml. Changing
the expression or the input makes a new rule and removes the old one; description
and enabled are updated in place.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsError
from ..model import Trigger
from .common import MARK, Context, Grant, Target, is_not_found, short_hash

TARGET_ID = "lambdadeploy"
NAME_LIMIT = 64
HASH = re.compile(r"^[0-9a-f]{8}$")


def rule_prefix(target: Target) -> str:
    return f"{MARK}{target.function.name}-{target.alias}"[: NAME_LIMIT - 9] + "-"


def _identity(trigger: Trigger) -> str:
    return short_hash("schedule", str(trigger.settings["expression"]), trigger.settings.get("input"))


def rule_name(target: Target, trigger: Trigger) -> str:
    return rule_prefix(target) + short_hash(target.function.name, target.alias, _identity(trigger))


def rule_arn(target: Target, name: str) -> str:
    return f"arn:{target.partition}:events:{target.region}:{target.account}:rule/{name}"


def grant_sid(target: Target, name: str) -> str:
    return target.sid(f"events-{name.rsplit('-', 1)[-1]}")


def grants(target: Target, triggers: list[Trigger]) -> list[Grant]:
    names = sorted({rule_name(target, t) for t in triggers})
    return [Grant(grant_sid(target, name), "schedule", "events.amazonaws.com",
                  f"schedule permission: rule {name} may invoke {target.alias}", source_arn=rule_arn(target, name))
            for name in names]


def _input(trigger: Trigger) -> str | None:
    value = trigger.settings.get("input")
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _description(target: Target, trigger: Trigger) -> str:
    default = f"lambdadeploy: invoke {target.function.name}:{target.alias} on {trigger.settings['expression']}"
    return str(trigger.settings.get("description") or default)[:512]


def describe(trigger: Trigger) -> str:
    text = f"schedule {trigger.settings['expression']}"
    if trigger.settings.get("input") is not None:
        text += f" with input {_input(trigger)}"
    if trigger.settings.get("enabled") is False:
        text += " (disabled)"
    return text


def owned_rules(ctx: Context) -> dict[str, dict[str, Any]]:
    """The tool's rules for this alias: name -> {"rule": ..., "targets": [...]}."""
    events = ctx.client("events")
    prefix = rule_prefix(ctx.target)
    found = {}
    for page in events.get_paginator("list_rules").paginate(NamePrefix=prefix):
        for rule in page["Rules"]:
            if not HASH.match(rule["Name"][len(prefix):]):
                continue
            targets = []
            for target_page in events.get_paginator("list_targets_by_rule").paginate(Rule=rule["Name"]):
                targets += target_page["Targets"]
            if not targets or any(t.get("Arn") == ctx.target.arn for t in targets):
                found[rule["Name"]] = {"rule": rule, "targets": targets}
    return found


def reconcile(ctx: Context, triggers: list[Trigger]) -> None:
    events = ctx.client("events")
    existing = owned_rules(ctx)
    wanted = {rule_name(ctx.target, t): t for t in triggers}
    for name, trigger in wanted.items():
        state = "DISABLED" if trigger.settings.get("enabled") is False else "ENABLED"
        target = {"Id": TARGET_ID, "Arn": ctx.target.arn}
        if _input(trigger) is not None:
            target["Input"] = _input(trigger)
        have = existing.get(name)
        if have is None:
            action = "create"
        else:
            rule, ours = have["rule"], [t for t in have["targets"] if t.get("Id") == TARGET_ID]
            same_rule = (rule.get("ScheduleExpression"), rule.get("State"), rule.get("Description") or "") == (
                trigger.settings["expression"], state, _description(ctx.target, trigger))
            same_target = len(ours) == 1 and _same_target(ours[0], target)
            if same_rule and same_target:
                continue
            action = "update"
        ctx.change("schedule", action, describe(trigger), detail=f"rule {name}")
        if ctx.apply:
            events.put_rule(Name=name, ScheduleExpression=str(trigger.settings["expression"]), State=state,
                            Description=_description(ctx.target, trigger))
            _check(events.put_targets(Rule=name, Targets=[target]), name)
    for name, have in existing.items():
        if name in wanted:
            continue
        expression = have["rule"].get("ScheduleExpression") or "?"
        ctx.change("schedule", "delete", f"schedule {expression}", detail=f"rule {name}")
        if ctx.apply:
            _delete_rule(ctx, name, have["targets"])


def _check(response: dict[str, Any], rule: str) -> None:
    """PutTargets/RemoveTargets report failures in the response, not as errors."""
    if response.get("FailedEntryCount"):
        entry = (response.get("FailedEntries") or [{}])[0]
        raise AwsError(f"EventBridge rule {rule}: {entry.get('ErrorCode', 'error')}: {entry.get('ErrorMessage', '')}")


def _same_target(have: dict[str, Any], want: dict[str, Any]) -> bool:
    def parsed(value: Any) -> Any:
        return None if value is None else json.loads(value)
    return have.get("Arn") == want["Arn"] and parsed(have.get("Input")) == parsed(want.get("Input"))


def _delete_rule(ctx: Context, name: str, targets: list[dict[str, Any]]) -> None:
    """Targets first (a rule with targets cannot be deleted), then the rule; the permission goes last."""
    events = ctx.client("events")
    try:
        if targets:
            _check(events.remove_targets(Rule=name, Ids=[t["Id"] for t in targets]), name)
        events.delete_rule(Name=name)
    except ClientError as error:
        if not is_not_found(error):
            raise


def wired(ctx: Context, triggers: list[Trigger]) -> list[dict[str, Any]]:
    return [{"kind": "schedule", "target": name, "alias": ctx.target.alias,
             "description": f"schedule {have['rule'].get('ScheduleExpression')}",
             "state": have["rule"].get("State")}
            for name, have in owned_rules(ctx).items()]
