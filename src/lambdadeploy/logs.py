"""Read a function's CloudWatch logs: time windows, alias filtering, REPORT summaries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import AwsSession, is_not_found
from .errors import InvalidInputError
from .smoke import parse_report

FOLLOW_INTERVAL_SECONDS = 2.0


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    stream: str
    message: str
    event_id: str

    @property
    def is_error(self) -> bool:
        return "[ERROR]" in self.message or "Traceback" in self.message or "Task timed out" in self.message


def summarise(message: str) -> str:
    """The REPORT line in a few words; other lines unchanged."""
    report = parse_report(message)
    if report is None:
        return message.rstrip("\n")
    return (f"REPORT {report.duration_ms:.1f} ms (billed {report.billed_ms} ms), "
            f"{report.max_memory_mb} of {report.memory_mb} MB used")


def version_of_alias(session: AwsSession, function_name: str, alias: str) -> str:
    try:
        return session.client("lambda").get_alias(FunctionName=function_name, Name=alias)["FunctionVersion"]
    except ClientError as error:
        if not is_not_found(error):
            raise
        raise InvalidInputError(f"{function_name}: alias {alias!r} not found") from error


def fetch(session: AwsSession, function_name: str, start_ms: int, *, version: str | None = None,
          pattern: str | None = None) -> list[LogLine]:
    """Every log event since start_ms, oldest first; with `version`, only that version's streams."""
    client = session.client("logs")
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{function_name}", "startTime": start_ms}
    if pattern:
        kwargs["filterPattern"] = pattern
    lines = []
    try:
        for page in client.get_paginator("filter_log_events").paginate(**kwargs):
            for event in page.get("events", []):
                stream = event.get("logStreamName", "")
                if version is not None and f"[{version}]" not in stream:
                    continue
                # int(): moto (the sandbox) reports float milliseconds, which --follow would then
                # send back as startTime, a parameter botocore accepts only as an integer.
                lines.append(LogLine(int(event["timestamp"]), stream, event["message"], event.get("eventId", "")))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return sorted(lines, key=lambda line: line.timestamp_ms)


def follow(session: AwsSession, function_name: str, start_ms: int, *, version: str | None = None,
           pattern: str | None = None) -> Iterator[LogLine]:
    """Yield new lines as they arrive until interrupted."""
    seen: set[str] = set()
    while True:
        for line in fetch(session, function_name, start_ms, version=version, pattern=pattern):
            key = line.event_id or f"{line.timestamp_ms}{line.stream}{line.message}"
            if key not in seen:
                seen.add(key)
                start_ms = max(start_ms, line.timestamp_ms)
                yield line
        time.sleep(FOLLOW_INTERVAL_SECONDS)
