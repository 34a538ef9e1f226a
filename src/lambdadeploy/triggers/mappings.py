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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession, retry
from ..aws.retry import EVENT_SOURCE_NOT_READY
from ..diff import FieldChange
from . import mapping_settings
from .base import (
    PolicyScope,
    PreflightItem,
    Problem,
    ReadContext,
    SamEvent,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    Wired,
    name_of,
    region_of,
)

GONE_STATES = ("Deleting",)


@dataclass(frozen=True)
class MappingState:
    """The alias's mappings of this kind's service, and what was read of the configured sources
    (kind-specific: a queue's visibility timeout)."""

    mappings: tuple[dict[str, Any], ...] = ()
    sources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


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

    optional: ClassVar[tuple[str, ...]] = ()  # the mapping_settings.PARAMS this kind offers
    default_batch: ClassVar[int]

    def desired(self, settings: Any) -> dict[str, Any]:
        """The mapping parameters lambda.yaml asks for (normal form), with AWS's defaults filled in."""
        return {"BatchSize": settings.batch_size or self.default_batch, "Enabled": settings.enabled,
                **mapping_settings.normal(settings, self.optional)}

    def current(self, mapping: dict[str, Any]) -> dict[str, Any]:
        """The same parameters read from an existing mapping."""
        return {"BatchSize": mapping.get("BatchSize"), "Enabled": mapping.get("State") not in ("Disabled", "Disabling"),
                **mapping_settings.observed(mapping, self.optional)}

    def create_only(self, settings: Any) -> dict[str, Any]:
        """Parameters AWS takes only when the mapping is created (e.g. StartingPosition)."""
        return {}

    def source(self, settings: Any) -> str:
        return f"{self.noun} {self.source_arn(settings)}"

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> MappingState:
        everything = ctx.memo("event-source-mappings", lambda: _mappings(ctx))
        mappings = tuple(m for m in everything if _service(m["EventSourceArn"]) == self.name)
        sources = {}
        for trigger in triggers:
            source = self.source_arn(trigger.settings)
            if region_of(source) == ctx.target.region:  # another region's source is refused before any read
                sources[source] = self.read_source(ctx, source)
        return MappingState(mappings, sources)

    def read_source(self, ctx: ReadContext, source: str) -> Mapping[str, Any]:
        """What a kind needs to know about one configured source before wiring it."""
        return {}

    def preflight(self, items: list[PreflightItem], region: str) -> list[Problem]:
        """Lambda reads event sources only in the function's own region."""
        problems = []
        for item in items:
            for trigger in item.triggers:
                source = self.source_arn(trigger.settings)
                if region_of(source) != region:
                    problems.append(Problem(item.key, f"{self.noun} {source} is in {region_of(source)}; Lambda reads "
                                            f"{self.noun}s only in the function's own region ({region})",
                                            f"use a {self.noun} in {region}, or deploy with --region"))
        return problems

    def plan(self, target: Target, triggers: list[Trigger], observed: MappingState) -> list[TriggerStep]:
        existing = {m["EventSourceArn"]: m for m in observed.mappings}
        steps = []
        for trigger in triggers:
            source = self.source_arn(trigger.settings)
            params = self.desired(trigger.settings)
            resource = f"{self.noun} {name_of(source)}"
            mapping = existing.get(source)
            if mapping is None:
                create = {**mapping_settings.non_default(params, self.optional), **self.create_only(trigger.settings),
                          "EventSourceArn": source}
                shown = {k: v for k, v in params.items() if k in create}
                steps.append(TriggerStep(self.name, "create", resource, describe(params),
                                         tuple(FieldChange(k, None, v) for k, v in shown.items()), create))
                continue
            have = self.current(mapping)
            diff = {key: value for key, value in params.items() if have.get(key) != value}
            if diff:
                update = {key: mapping_settings.api_value(key, value) for key, value in diff.items()}
                steps.append(TriggerStep(self.name, "update", resource, describe(params),
                                         tuple(FieldChange(k, have.get(k), v) for k, v in diff.items()),
                                         {"UUID": mapping["UUID"], **update}))
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

    def wired(self, target: Target, observed: MappingState) -> list[Wired]:
        return [Wired(self.name, target.alias, f"{self.noun} {name_of(m['EventSourceArn'])}",
                      describe(self.current(m)), state=m.get("State"), detail=m["EventSourceArn"])
                for m in observed.mappings]

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
    if params.get("FunctionResponseTypes"):
        extras.append("reports batch item failures")
    if params.get("FilterCriteria"):
        extras.append(f"{len(params['FilterCriteria'])} filter(s)")
    if params.get("Enabled") is False:
        extras.append("disabled")
    return "event source mapping" + (f" ({', '.join(extras)})" if extras else "")
