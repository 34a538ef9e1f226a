"""SQS queues: an event source mapping of the queue on the alias."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ..fields import Boolean, Field, Integer, Record, Text
from .mappings import MappingKind

QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
DEFAULT_BATCH = 10


@dataclass(frozen=True)
class SqsSettings:
    queue: str
    batch_size: int | None = None
    enabled: bool = True
    batching_window: int | None = None


class SqsKind(MappingKind):
    name: ClassVar[str] = "sqs"
    summary: ClassVar[str] = "an event source mapping on the alias ARN (batch size, window, enabled), updated in place"
    noun: ClassVar[str] = "queue"
    sam_type: ClassVar[str] = "SQS"
    sam_source_property: ClassVar[str] = "Queue"
    sam_name: ClassVar[str] = "Sqs"
    role_actions: ClassVar[tuple[str, ...]] = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    settings: ClassVar[Record] = Record((
        Field("queue", Text(QUEUE_ARN, "arn:aws:sqs:REGION:ACCOUNT:QUEUE", what="queue ARN"), required=True,
              doc="the queue's ARN"),
        Field("batch_size", Integer(1, 10000, "messages"), doc=f"messages per invoke (default {DEFAULT_BATCH})"),
        Field("enabled", Boolean(), doc="false: the mapping exists but does not poll"),
        Field("batching_window", Integer(0, 300, "seconds"), doc="seconds to gather a batch (default 0)"),
    ), SqsSettings)

    def source_arn(self, settings: SqsSettings) -> str:
        return settings.queue

    def desired(self, settings: SqsSettings) -> dict[str, Any]:
        return {"BatchSize": settings.batch_size or DEFAULT_BATCH, "Enabled": settings.enabled,
                "MaximumBatchingWindowInSeconds": settings.batching_window or 0}

    def current(self, mapping: dict[str, Any]) -> dict[str, Any]:
        return {"BatchSize": mapping.get("BatchSize"),
                "Enabled": mapping.get("State") not in ("Disabled", "Disabling"),
                "MaximumBatchingWindowInSeconds": int(mapping.get("MaximumBatchingWindowInSeconds") or 0)}

    def sam_properties(self, settings: SqsSettings) -> dict[str, Any]:
        properties: dict[str, Any] = {"BatchSize": settings.batch_size or DEFAULT_BATCH}
        if settings.batching_window:
            properties["MaximumBatchingWindowInSeconds"] = settings.batching_window
        if not settings.enabled:
            properties["Enabled"] = False
        return properties
