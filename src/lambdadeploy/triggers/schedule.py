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
from dataclasses import dataclass
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession
from ..awsrules.events import schedule_problem
from ..diff import FieldChange
from ..errors import AwsError
from ..fields import INVALID, Boolean, Field, Json, Record, Reporter, Rule, Text
from .base import (
    MARK,
    Grant,
    PolicyScope,
    ReadContext,
    SamEvent,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    Wired,
    short_hash,
)

TARGET_ID = "lambdadeploy"
NAME_LIMIT = 64
HASH = re.compile(r"^[0-9a-f]{8}$")


class ScheduleExpression(Rule):
    """rate(...) or cron(...), checked as EventBridge checks it (awsrules/events.py)."""

    def check(self, value: Any, report: Reporter) -> Any:
        text = Text().check(value, report)
        if text is INVALID:
            return INVALID
        problem = schedule_problem(text)
        if problem:
            report(f"invalid schedule expression {text!r}: {problem}",
                   "rate(1 minute), rate(5 minutes), cron(0 12 * * ? *)")
            return INVALID
        return text

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^(rate|cron)\(.*\)$"}


@dataclass(frozen=True)
class ScheduleSettings:
    expression: str
    input: Any = None
    enabled: bool = True
    description: str | None = None


@dataclass(frozen=True)
class RuleState:
    rule: dict[str, Any]
    targets: tuple[dict[str, Any], ...]


class ScheduleKind(TriggerKind):
    name: ClassVar[str] = "schedule"
    summary: ClassVar[str] = ("an EventBridge rule (`rate(...)`/`cron(...)`, checked) targeting the alias with "
                              "optional constant `input`; invoke permission for events")
    settings: ClassVar[Record] = Record((
        Field("expression", ScheduleExpression(), required=True, doc="rate(...) or cron(...)"),
        Field("input", Json("constant JSON sent as the event"), doc="the event to send (default: EventBridge's)"),
        Field("enabled", Boolean(), doc="false: the rule exists but does not fire"),
        Field("description", Text(max_length=512), doc="the rule's description"),
    ), ScheduleSettings)

    def source(self, settings: ScheduleSettings) -> str:
        return settings.expression + (f" with input {_input(settings)}" if settings.input is not None else "")

    def invoke_principal(self) -> str:
        return "events.amazonaws.com"

    def grants(self, target: Target, triggers: list[Trigger]) -> list[Grant]:
        names = sorted({rule_name(target, t) for t in triggers})
        return [Grant(target.sid(f"events-{name.rsplit('-', 1)[-1]}"), "schedule", "events.amazonaws.com",
                      f"rule {name}", source_arn=rule_arn(target, name)) for name in names]

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> dict[str, RuleState]:
        """The tool's rules for this alias: name -> the rule and its targets."""
        events = ctx.client("events")
        prefix = rule_prefix(ctx.target)
        found = {}
        for page in events.pages("list_rules", NamePrefix=prefix):
            for rule in page["Rules"]:
                if not HASH.match(rule["Name"][len(prefix):]):
                    continue
                targets: list[dict[str, Any]] = []
                for target_page in events.pages("list_targets_by_rule", Rule=rule["Name"]):
                    targets += target_page["Targets"]
                if not targets or any(t.get("Arn") == ctx.target.arn for t in targets):
                    found[rule["Name"]] = RuleState(rule, tuple(targets))
        return found

    def plan(self, target: Target, triggers: list[Trigger], observed: dict[str, RuleState]) -> list[TriggerStep]:
        steps = []
        wanted = {rule_name(target, t): t for t in triggers}
        for name, trigger in wanted.items():
            settings: ScheduleSettings = trigger.settings
            state = "ENABLED" if settings.enabled else "DISABLED"
            rule = {"Name": name, "ScheduleExpression": settings.expression, "State": state,
                    "Description": _description(target, settings)}
            event_target = {"Id": TARGET_ID, "Arn": target.arn}
            if _input(settings) is not None:
                event_target["Input"] = _input(settings)
            have = observed.get(name)
            changes: tuple[FieldChange, ...] = ()
            if have is not None:
                ours = [t for t in have.targets if t.get("Id") == TARGET_ID]
                current = {"State": have.rule.get("State"), "Description": have.rule.get("Description") or ""}
                changes = tuple(FieldChange(k, current[k], rule[k]) for k in current if current[k] != rule[k])
                if not changes and len(ours) == 1 and _same_target(ours[0], event_target):
                    continue
            steps.append(TriggerStep("schedule", "create" if have is None else "update", f"rule {name}",
                                     describe(settings), changes, {"rule": rule, "target": event_target}))
        for name, have in observed.items():
            if name not in wanted:
                steps.append(TriggerStep("schedule", "delete", f"rule {name}",
                                         f"schedule {have.rule.get('ScheduleExpression') or '?'}",
                                         params={"name": name, "targets": [t["Id"] for t in have.targets]}))
        return steps

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        events = session.client("events")
        if step.action == "delete":
            # Targets first (a rule with targets cannot be deleted); the permission goes last.
            name = step.params["name"]
            try:
                if step.params["targets"]:
                    _check(events.remove_targets(Rule=name, Ids=list(step.params["targets"])), name)
                events.delete_rule(Name=name)
            except AwsNotFound:
                pass
            return None
        rule = step.params["rule"]
        events.put_rule(**rule)
        _check(events.put_targets(Rule=rule["Name"], Targets=[step.params["target"]]), rule["Name"])
        return None

    def wired(self, target: Target, observed: dict[str, RuleState]) -> list[Wired]:
        return [Wired("schedule", target.alias, f"rule {name}", f"schedule {have.rule.get('ScheduleExpression')}",
                      state=have.rule.get("State")) for name, have in observed.items()]

    def sam_event(self, trigger: Trigger, function: str, alias: str) -> SamEvent:
        settings: ScheduleSettings = trigger.settings
        default = f"lambdadeploy: invoke {function}:{alias} on {settings.expression}"
        properties: dict[str, Any] = {"Schedule": settings.expression,
                                      "Description": (settings.description or default)[:512]}
        if settings.input is not None:
            properties["Input"] = _input(settings)
        if not settings.enabled:
            properties["Enabled"] = False
        return SamEvent("Schedule", "Schedule", properties)

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        """Every push looks for the tool's rules (to remove schedules that left lambda.yaml), so these
        are granted whether or not the config has schedules now."""
        functions = sorted({arn.split(":function:")[1].split(":")[0] for arn in scope.function_resources})
        rules = sorted({f"arn:{scope.partition}:events:{scope.region}:{scope.account}:rule/"
                        + f"{MARK}{name}-"[:NAME_LIMIT - 9] + "*" for name in functions})
        return [
            {"Sid": "ListRules", "Effect": "Allow", "Action": ["events:ListRules"], "Resource": "*"},
            {"Sid": "ManageScheduleRules", "Effect": "Allow",
             "Action": ["events:DeleteRule", "events:ListTargetsByRule", "events:PutRule", "events:PutTargets",
                        "events:RemoveTargets"], "Resource": rules},
        ]


def rule_prefix(target: Target) -> str:
    return f"{MARK}{target.function}-{target.alias}"[: NAME_LIMIT - 9] + "-"


def rule_name(target: Target, trigger: Trigger) -> str:
    identity = short_hash("schedule", trigger.settings.expression, trigger.settings.input)
    return rule_prefix(target) + short_hash(target.function, target.alias, identity)


def rule_arn(target: Target, name: str) -> str:
    return f"arn:{target.partition}:events:{target.region}:{target.account}:rule/{name}"


def _input(settings: ScheduleSettings) -> str | None:
    return None if settings.input is None else json.dumps(settings.input, sort_keys=True, separators=(",", ":"))


def _description(target: Target, settings: ScheduleSettings) -> str:
    default = f"lambdadeploy: invoke {target.function}:{target.alias} on {settings.expression}"
    return (settings.description or default)[:512]


def describe(settings: ScheduleSettings) -> str:
    text = f"schedule {settings.expression}"
    if settings.input is not None:
        text += f" with input {_input(settings)}"
    if not settings.enabled:
        text += " (disabled)"
    return text


def _check(response: dict[str, Any], rule: str) -> None:
    """PutTargets/RemoveTargets report failures in the response, not as errors."""
    if response.get("FailedEntryCount"):
        entry = (response.get("FailedEntries") or [{}])[0]
        raise AwsError(f"EventBridge rule {rule}: {entry.get('ErrorCode', 'error')}: {entry.get('ErrorMessage', '')}")


def _same_target(have: dict[str, Any], want: dict[str, Any]) -> bool:
    def parsed(value: Any) -> Any:
        return None if value is None else json.loads(value)
    return have.get("Arn") == want["Arn"] and parsed(have.get("Input")) == parsed(want.get("Input"))
