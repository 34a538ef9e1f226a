"""DynamoDB and Kinesis streams: an event source mapping of the stream on the alias."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ..fields import Boolean, Field, Integer, OneOf, Record, Text
from .mappings import MappingKind

DEFAULT_BATCH = 100
STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON")
DYNAMODB_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]+/stream/.+$")
KINESIS_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class StreamSettings:
    stream: str
    starting_position: str = "LATEST"
    batch_size: int | None = None
    enabled: bool = True


def _settings(pattern: re.Pattern[str], example: str) -> Record:
    return Record((
        Field("stream", Text(pattern, example, what="stream ARN"), required=True, doc="the stream's ARN"),
        Field("starting_position", OneOf(STARTING_POSITIONS), doc="where a new mapping starts reading (default LATEST)"),
        Field("batch_size", Integer(1, 10000, "records"), doc=f"records per invoke (default {DEFAULT_BATCH})"),
        Field("enabled", Boolean(), doc="false: the mapping exists but does not poll"),
    ), StreamSettings)


class StreamKind(MappingKind):
    noun: ClassVar[str] = "stream"
    sam_source_property: ClassVar[str] = "Stream"

    def source_arn(self, settings: StreamSettings) -> str:
        return settings.stream

    def desired(self, settings: StreamSettings) -> dict[str, Any]:
        return {"BatchSize": settings.batch_size or DEFAULT_BATCH, "Enabled": settings.enabled}

    def create_only(self, settings: StreamSettings) -> dict[str, Any]:
        return {"StartingPosition": settings.starting_position}

    def current(self, mapping: dict[str, Any]) -> dict[str, Any]:
        return {"BatchSize": mapping.get("BatchSize"), "Enabled": mapping.get("State") not in ("Disabled", "Disabling")}

    def sam_properties(self, settings: StreamSettings) -> dict[str, Any]:
        properties: dict[str, Any] = {"StartingPosition": settings.starting_position,
                                      "BatchSize": settings.batch_size or DEFAULT_BATCH}
        if not settings.enabled:
            properties["Enabled"] = False
        return properties


class DynamoDbKind(StreamKind):
    name: ClassVar[str] = "dynamodb"
    summary: ClassVar[str] = "an event source mapping of the table's stream on the alias ARN"
    sam_type: ClassVar[str] = "DynamoDB"
    sam_name: ClassVar[str] = "DynamoDB"
    role_actions: ClassVar[tuple[str, ...]] = ("dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                               "dynamodb:DescribeStream")
    list_action: ClassVar[str | None] = "dynamodb:ListStreams"
    settings: ClassVar[Record] = _settings(DYNAMODB_STREAM_ARN, "arn:aws:dynamodb:REGION:ACCOUNT:table/T/stream/LABEL")


class KinesisKind(StreamKind):
    name: ClassVar[str] = "kinesis"
    summary: ClassVar[str] = "an event source mapping of the Kinesis stream on the alias ARN"
    sam_type: ClassVar[str] = "Kinesis"
    sam_name: ClassVar[str] = "Kinesis"
    role_actions: ClassVar[tuple[str, ...]] = ("kinesis:GetRecords", "kinesis:GetShardIterator",
                                               "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
                                               "kinesis:ListShards")
    list_action: ClassVar[str | None] = "kinesis:ListStreams"
    settings: ClassVar[Record] = _settings(KINESIS_STREAM_ARN, "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME")
