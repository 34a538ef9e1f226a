"""SQS queues: an event source mapping of the queue on the alias.

The rules AWS applies (awsrules.lambda_api): a batch over 10 messages needs a batching
window; a FIFO queue (`.fifo`) takes at most 10 messages and no window; the queue's
visibility timeout must be at least the function's timeout (checked before any write,
engine/preflight.py, since it needs the queue's attributes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..aws import AwsNotFound
from ..awsrules.lambda_api import sqs_mapping_violations, visibility_violation
from ..fields import Boolean, Field, Integer, Record, Text
from .base import PolicyScope, PreflightItem, Problem, ReadContext, Trigger, region_of
from .mapping_settings import Filters
from .mappings import MappingKind

# AWS advises a queue visibility timeout of six times the function's timeout plus the batching window,
# so a throttled batch can be retried before its messages come back.
ADVISED_VISIBILITY_FACTOR = 6

QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
DEFAULT_BATCH = 10


@dataclass(frozen=True)
class SqsSettings:
    queue: str
    batch_size: int | None = None
    enabled: bool = True
    batching_window: int | None = None
    report_batch_item_failures: bool = False
    filter: tuple[Any, ...] | None = None
    maximum_concurrency: int | None = None

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")


class SqsKind(MappingKind):
    name: ClassVar[str] = "sqs"
    summary: ClassVar[str] = ("an event source mapping on the alias ARN (batch size, window, filters, partial batch "
                              "responses, maximum concurrency, enabled), updated in place")
    noun: ClassVar[str] = "queue"
    sam_type: ClassVar[str] = "SQS"
    sam_source_property: ClassVar[str] = "Queue"
    sam_name: ClassVar[str] = "Sqs"
    default_batch: ClassVar[int] = DEFAULT_BATCH
    optional: ClassVar[tuple[str, ...]] = ("batching_window", "report_batch_item_failures", "filter",
                                           "maximum_concurrency")
    role_actions: ClassVar[tuple[str, ...]] = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    settings: ClassVar[Record] = Record((
        Field("queue", Text(QUEUE_ARN, "arn:aws:sqs:REGION:ACCOUNT:QUEUE", what="queue ARN"), required=True,
              doc="the queue's ARN"),
        Field("batch_size", Integer(1, 10000, "messages"),
              doc=f"messages per invoke (default {DEFAULT_BATCH}; over 10 needs batching_window)"),
        Field("enabled", Boolean(), doc="false: the mapping exists but does not poll"),
        Field("batching_window", Integer(0, 300, "seconds"), doc="seconds to gather a batch (default 0)"),
        Field("report_batch_item_failures", Boolean(), doc="the handler may return batchItemFailures"),
        Field("filter", Filters(), doc="event filter pattern(s): only matching messages invoke the function"),
        Field("maximum_concurrency", Integer(2, 1000, "concurrent invokes"), doc="cap on concurrent invokes"),
    ), SqsSettings)

    def check(self, settings: SqsSettings, report: Any) -> None:
        for violation in sqs_mapping_violations(settings.batch_size or DEFAULT_BATCH, settings.batching_window or 0,
                                                settings.fifo):
            field = "batching_window" if "window" in violation.message.lower() and settings.fifo else "batch_size"
            report(field, violation.message,
                   "FIFO queues take batch_size 1..10 and no batching_window" if settings.fifo
                   else "set batching_window: 1 (seconds) or more")

    def source_arn(self, settings: SqsSettings) -> str:
        return settings.queue

    def read_source(self, ctx: ReadContext, source: str) -> Mapping[str, Any]:
        """The queue's visibility timeout (the queue must exist: a missing one is an error here)."""
        sqs = ctx.client("sqs", region_of(source))
        _, _, _, _, account, name = source.split(":", 5)
        try:
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        except AwsNotFound:
            return {"missing": True}
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        return {"visibility_timeout": int(attributes.get("VisibilityTimeout", 30))}

    def preflight(self, items: list[PreflightItem], region: str) -> list[Problem]:
        """Besides the region: a visibility timeout below the function's timeout is refused by AWS;
        below six times it (plus the batching window) is against AWS's advice."""
        problems = super().preflight(items, region)
        for item in items:
            for trigger in item.triggers:
                queue = trigger.settings.queue
                source = item.observed.sources.get(queue) or {}
                if source.get("missing"):
                    problems.append(Problem(item.key, f"queue {queue} does not exist",
                                            "create it first, or fix the ARN in lambda.yaml"))
                visibility = source.get("visibility_timeout")
                if visibility is None:
                    continue
                violation = visibility_violation(visibility, item.timeout)
                advised = ADVISED_VISIBILITY_FACTOR * item.timeout + (trigger.settings.batching_window or 0)
                if violation:
                    problems.append(Problem(item.key, f"queue {queue}: {violation.code}: {violation.message}",
                                            f"raise the queue's VisibilityTimeout to {advised} s, or lower `timeout:`"))
                elif visibility < advised:
                    problems.append(Problem(item.key, f"queue {queue}: visibility timeout {visibility} s is below the "
                                            f"{advised} s AWS advises (6 x timeout + batching window)",
                                            "messages of a throttled batch may be delivered twice", level="warning"))
        return problems

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        """Besides the mappings: reading each queue's visibility timeout before wiring it."""
        statements = super().ci_statements(triggers, scope)
        queues = sorted({t.settings.queue for t in triggers})
        if queues:
            statements.append({"Sid": "ReadQueueAttributes", "Effect": "Allow",
                               "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"], "Resource": queues})
        return statements

    def sam_properties(self, settings: SqsSettings) -> dict[str, Any]:
        properties: dict[str, Any] = {"BatchSize": settings.batch_size or DEFAULT_BATCH}
        if settings.batching_window:
            properties["MaximumBatchingWindowInSeconds"] = settings.batching_window
        if settings.report_batch_item_failures:
            properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        if settings.filter:
            properties["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in settings.filter]}
        if settings.maximum_concurrency:
            properties["ScalingConfig"] = {"MaximumConcurrency": settings.maximum_concurrency}
        if not settings.enabled:
            properties["Enabled"] = False
        return properties
