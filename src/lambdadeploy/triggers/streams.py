"""DynamoDB and Kinesis streams: an event source mapping of the stream on the alias."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ..fields import Boolean, Field, Integer, OneOf, Record, Text
from .mapping_settings import Filters, RecordAge
from .mappings import MappingKind

DEFAULT_BATCH = 100
STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON")
DYNAMODB_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]+/stream/.+$")
KINESIS_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]+$")
DESTINATION_ARN = re.compile(r"^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$|^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$")


@dataclass(frozen=True)
class StreamSettings:
    stream: str
    starting_position: str = "LATEST"
    batch_size: int | None = None
    enabled: bool = True
    batching_window: int | None = None
    report_batch_item_failures: bool = False
    filter: tuple[Any, ...] | None = None
    bisect_on_error: bool = False
    maximum_retry_attempts: int | None = None
    maximum_record_age: int | None = None
    on_failure: str | None = None
    parallelization_factor: int | None = None
    tumbling_window: int | None = None


def _settings(pattern: re.Pattern[str], example: str) -> Record:
    return Record((
        Field("stream", Text(pattern, example, what="stream ARN"), required=True, doc="the stream's ARN"),
        Field("starting_position", OneOf(STARTING_POSITIONS), doc="where a new mapping starts reading (default LATEST)"),
        Field("batch_size", Integer(1, 10000, "records"), doc=f"records per invoke (default {DEFAULT_BATCH})"),
        Field("enabled", Boolean(), doc="false: the mapping exists but does not poll"),
        Field("batching_window", Integer(0, 300, "seconds"), doc="seconds to gather a batch (default 0)"),
        Field("report_batch_item_failures", Boolean(), doc="the handler may return batchItemFailures"),
        Field("filter", Filters(), doc="event filter pattern(s): only matching records invoke the function"),
        Field("bisect_on_error", Boolean(), doc="split a failing batch in two and retry each half"),
        Field("maximum_retry_attempts", Integer(-1, 10000, "retries"), doc="-1: until the record expires"),
        Field("maximum_record_age", RecordAge(), doc="-1 or 60..604800 seconds"),
        Field("on_failure", Text(DESTINATION_ARN, "an SQS queue, SNS topic or S3 bucket ARN", what="destination ARN"),
              doc="where records that keep failing are sent"),
        Field("parallelization_factor", Integer(1, 10, "batches per shard"), doc="concurrent batches per shard"),
        Field("tumbling_window", Integer(0, 900, "seconds"), doc="aggregate over windows of this many seconds"),
    ), StreamSettings)


class StreamKind(MappingKind):
    noun: ClassVar[str] = "stream"
    sam_source_property: ClassVar[str] = "Stream"
    default_batch: ClassVar[int] = DEFAULT_BATCH
    optional: ClassVar[tuple[str, ...]] = ("batching_window", "report_batch_item_failures", "filter", "bisect_on_error",
                                           "maximum_retry_attempts", "maximum_record_age", "on_failure",
                                           "parallelization_factor", "tumbling_window")

    def source_arn(self, settings: StreamSettings) -> str:
        return settings.stream

    def create_only(self, settings: StreamSettings) -> dict[str, Any]:
        return {"StartingPosition": settings.starting_position}

    def sam_properties(self, settings: StreamSettings) -> dict[str, Any]:
        properties: dict[str, Any] = {"StartingPosition": settings.starting_position,
                                      "BatchSize": settings.batch_size or DEFAULT_BATCH}
        optional = {"MaximumBatchingWindowInSeconds": settings.batching_window,
                    "BisectBatchOnFunctionError": settings.bisect_on_error or None,
                    "MaximumRetryAttempts": settings.maximum_retry_attempts,
                    "MaximumRecordAgeInSeconds": settings.maximum_record_age,
                    "ParallelizationFactor": settings.parallelization_factor,
                    "TumblingWindowInSeconds": settings.tumbling_window}
        properties.update({k: v for k, v in optional.items() if v is not None})
        if settings.report_batch_item_failures:
            properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        if settings.filter:
            properties["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in settings.filter]}
        if settings.on_failure:
            properties["DestinationConfig"] = {"OnFailure": {"Destination": settings.on_failure}}
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
