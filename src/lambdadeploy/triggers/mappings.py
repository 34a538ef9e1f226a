"""Event source mappings on the alias ARN: what the SQS, DynamoDB and Kinesis kinds share.

Every mapping whose function is this alias ARN and whose source is of the kind's
service is considered owned by the tool: one whose source is no longer configured is
deleted. Settings are changed in place with UpdateEventSourceMapping; the starting
position cannot be changed after creation (AWS does not allow it), so a changed
starting_position is ignored for an existing mapping. The mappings of an alias are
listed once per push, whichever kinds look at them.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession, retry
from ..aws.retry import EVENT_SOURCE_NOT_READY
from ..diff import FieldChange
from .base import (
    PolicyScope,
    ReadContext,
    SamEvent,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    Wired,
    name_of,
)

GONE_STATES = ("Deleting",)


class MappingKind(TriggerKind):
    """A kind whose trigger is an event source mapping that Lambda polls with the execution role."""

    noun: ClassVar[str]  # "queue" | "stream"
    sam_type: ClassVar[str]
    sam_source_property: ClassVar[str]  # "Queue" | "Stream"
    sam_name: ClassVar[str]  # the first word of its events' logical names: Sqs, DynamoDB, Kinesis
    role_actions: ClassVar[tuple[str, ...]]  # what the poller needs on the source
    list_action: ClassVar[str | None] = None  # an account-wide listing the poller needs, if any

    @abstractmethod
    def source_arn(self, settings: Any) -> str:
        """The queue or stream ARN."""

    @abstractmethod
    def desired(self, settings: Any) -> dict[str, Any]:
        """The mapping parameters lambda.yaml asks for, with AWS's defaults filled in."""

    @abstractmethod
    def current(self, mapping: dict[str, Any]) -> dict[str, Any]:
        """The same parameters read from an existing mapping."""

    def create_only(self, settings: Any) -> dict[str, Any]:
        """Parameters AWS takes only when the mapping is created (e.g. StartingPosition)."""
        return {}

    def source(self, settings: Any) -> str:
        return f"{self.noun} {self.source_arn(settings)}"

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> tuple[dict[str, Any], ...]:
        everything = ctx.memo("event-source-mappings", lambda: _mappings(ctx))
        return tuple(m for m in everything if _service(m["EventSourceArn"]) == self.name)

    def plan(self, target: Target, triggers: list[Trigger], observed: tuple[dict[str, Any], ...]) -> list[TriggerStep]:
        existing = {m["EventSourceArn"]: m for m in observed}
        steps = []
        for trigger in triggers:
            source = self.source_arn(trigger.settings)
            params = self.desired(trigger.settings)
            resource = f"{self.noun} {name_of(source)}"
            mapping = existing.get(source)
            if mapping is None:
                create = {**params, **self.create_only(trigger.settings), "EventSourceArn": source}
                steps.append(TriggerStep(self.name, "create", resource, describe(params),
                                         tuple(FieldChange(k, None, v) for k, v in params.items()), create))
                continue
            have = self.current(mapping)
            diff = {key: value for key, value in params.items() if have.get(key) != value}
            if diff:
                steps.append(TriggerStep(self.name, "update", resource, describe(params),
                                         tuple(FieldChange(k, have.get(k), v) for k, v in diff.items()),
                                         {"UUID": mapping["UUID"], **diff}))
        wanted = {self.source_arn(t.settings) for t in triggers}
        for source, mapping in existing.items():
            if source not in wanted:
                steps.append(TriggerStep(self.name, "delete", f"{self.noun} {name_of(source)}", "event source mapping",
                                         params={"UUID": mapping["UUID"]}))
        return steps

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        client = session.client("lambda")
        params = dict(step.params)
        if step.action == "create":
            retry(lambda: client.create_event_source_mapping(FunctionName=target.arn, **params), EVENT_SOURCE_NOT_READY)
        elif step.action == "update":
            retry(lambda: client.update_event_source_mapping(**params), EVENT_SOURCE_NOT_READY)
        else:
            with contextlib.suppress(AwsNotFound):
                retry(lambda: client.delete_event_source_mapping(**params), EVENT_SOURCE_NOT_READY)
        return None

    def wired(self, target: Target, observed: tuple[dict[str, Any], ...]) -> list[Wired]:
        return [Wired(self.name, target.alias, f"{self.noun} {name_of(m['EventSourceArn'])}",
                      describe(self.current(m)), state=m.get("State"), detail=m["EventSourceArn"])
                for m in observed]

    def sam_event(self, trigger: Trigger, function: str, alias: str) -> SamEvent:
        properties: dict[str, Any] = {self.sam_source_property: self.source_arn(trigger.settings)}
        properties.update(self.sam_properties(trigger.settings))
        return SamEvent(f"{self.sam_name} {name_of(self.source_arn(trigger.settings))}", self.sam_type, properties)

    def sam_properties(self, settings: Any) -> dict[str, Any]:
        return {}

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        """Every push lists the alias's mappings (to remove those that left lambda.yaml). CreateEventSourceMapping
        names no mapping resource, so changes are scoped by the lambda:FunctionArn condition instead."""
        change = ["lambda:DeleteEventSourceMapping"]
        if triggers:
            change += ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping"]
        return [
            {"Sid": "ListEventSourceMappings", "Effect": "Allow", "Action": ["lambda:ListEventSourceMappings"],
             "Resource": "*"},
            {"Sid": "ChangeEventSourceMappings", "Effect": "Allow", "Action": change, "Resource": "*",
             "Condition": {"ArnLike": {"lambda:FunctionArn": list(scope.function_resources)}}},
        ]

    def execution_role_actions(self, triggers: list[Trigger]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        sources = tuple(sorted({self.source_arn(t.settings) for t in triggers}))
        if not sources:
            return []
        actions = [(self.role_actions, sources)]
        if self.list_action:
            # ListStreams names no stream, so IAM only matches it against Resource "*".
            actions.append(((self.list_action,), ("*",)))
        return actions


def _mappings(ctx: ReadContext) -> tuple[dict[str, Any], ...]:
    """The live mappings on the alias ARN (the listing is filtered by it, and AWS, like the
    sandbox, records the alias ARN as their FunctionArn)."""
    if not ctx.target.exists:
        return ()
    found: list[dict[str, Any]] = []
    try:
        for page in ctx.client("lambda").pages("list_event_source_mappings", FunctionName=ctx.target.arn):
            found += page["EventSourceMappings"]
    except AwsNotFound:
        return ()
    return tuple(m for m in found if m.get("State") not in GONE_STATES)


def _service(source_arn: str) -> str:
    return source_arn.split(":")[2]


def describe(params: dict[str, Any]) -> str:
    extras = [f"batch {params['BatchSize']}"] if "BatchSize" in params else []
    if params.get("MaximumBatchingWindowInSeconds"):
        extras.append(f"window {params['MaximumBatchingWindowInSeconds']}s")
    if params.get("Enabled") is False:
        extras.append("disabled")
    return "event source mapping" + (f" ({', '.join(extras)})" if extras else "")
