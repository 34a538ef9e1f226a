"""Event source mappings (SQS queues, DynamoDB and Kinesis streams) on the alias ARN.

Every mapping whose function is this alias ARN is considered owned by the tool: one
whose source is no longer configured is deleted. Settings are changed in place with
UpdateEventSourceMapping; the starting position cannot be changed after creation
(AWS does not allow it), so a changed starting_position is ignored for an existing
mapping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..model import Trigger
from .common import Context, Grant, Target, error_code, is_not_found, name_of

KINDS = ("sqs", "dynamodb", "kinesis")
DEFAULT_BATCH = {"sqs": 10, "dynamodb": 100, "kinesis": 100}
# The execution role's new inline policy takes a few seconds to apply (IAM is eventually
# consistent); Lambda checks it when the mapping is created. The mapping is also
# briefly "Creating"/"Updating", when changes are refused with ResourceInUseException.
RETRY_SECONDS = 60
GONE_STATES = ("Deleting",)


def grants(target: Target, triggers: list[Trigger]) -> list[Grant]:
    return []  # Lambda polls the source with the execution role; no resource policy needed


def source_of(trigger: Trigger) -> str:
    return str(trigger.settings.get("queue") or trigger.settings["stream"])


def kind_of(source_arn: str) -> str:
    return source_arn.split(":")[2]


def desired(trigger: Trigger) -> dict[str, Any]:
    """The mapping settings lambda.yaml asks for, with AWS's defaults filled in."""
    settings = trigger.settings
    params: dict[str, Any] = {
        "BatchSize": int(settings.get("batch_size") or DEFAULT_BATCH[trigger.kind]),
        "Enabled": bool(settings.get("enabled", True)),
    }
    if trigger.kind == "sqs":
        params["MaximumBatchingWindowInSeconds"] = int(settings.get("batching_window") or 0)
    return params


def current(mapping: dict[str, Any], kind: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "BatchSize": mapping.get("BatchSize"),
        "Enabled": mapping.get("State") not in ("Disabled", "Disabling"),
    }
    if kind == "sqs":
        params["MaximumBatchingWindowInSeconds"] = int(mapping.get("MaximumBatchingWindowInSeconds") or 0)
    return params


def describe(kind: str, source: str, params: dict[str, Any] | None = None) -> str:
    noun = "queue" if kind == "sqs" else "stream"
    text = f"{kind} {noun} {name_of(source)}: event source mapping"
    if params:
        extras = [f"batch {params['BatchSize']}"]
        if params.get("MaximumBatchingWindowInSeconds"):
            extras.append(f"window {params['MaximumBatchingWindowInSeconds']}s")
        if not params["Enabled"]:
            extras.append("disabled")
        text += f" ({', '.join(extras)})"
    return text


def mappings(ctx: Context) -> list[dict[str, Any]]:
    """The live mappings on the alias ARN."""
    if not ctx.target.exists:
        return []
    found = []
    try:
        for page in ctx.client("lambda").get_paginator("list_event_source_mappings").paginate(
                FunctionName=ctx.target.arn):
            found += page["EventSourceMappings"]
    except ClientError as error:
        if is_not_found(error):
            return []
        raise
    return [m for m in found if m.get("State") not in GONE_STATES and _on_alias(ctx.target, m)]


def _on_alias(target: Target, mapping: dict[str, Any]) -> bool:
    """AWS records the alias ARN as FunctionArn. moto records the version ARN behind the alias;
    the listing is already filtered by the alias ARN, so a version ARN of this function counts."""
    arn = str(mapping.get("FunctionArn") or "")
    base, _, qualifier = arn.rpartition(":")
    return arn == target.arn or (base == target.arn.rpartition(":")[0] and qualifier.isdigit())


def reconcile(ctx: Context, triggers: list[Trigger]) -> None:
    client = ctx.client("lambda")
    existing = {m["EventSourceArn"]: m for m in mappings(ctx)}
    wanted = {source_of(t): t for t in triggers}
    for source, trigger in wanted.items():
        params = desired(trigger)
        mapping = existing.get(source)
        if mapping is None:
            ctx.change(trigger.kind, "create", describe(trigger.kind, source, params))
            if ctx.apply:
                create = dict(params, EventSourceArn=source, FunctionName=ctx.target.arn)
                if trigger.kind != "sqs":
                    create["StartingPosition"] = str(trigger.settings.get("starting_position") or "LATEST")
                _retry(lambda create=create: client.create_event_source_mapping(**create))
            continue
        have = current(mapping, trigger.kind)
        diff = {key: value for key, value in params.items() if have.get(key) != value}
        if diff:
            ctx.change(trigger.kind, "update", describe(trigger.kind, source, params))
            if ctx.apply:
                _retry(lambda uuid=mapping["UUID"], diff=diff: client.update_event_source_mapping(UUID=uuid, **diff))
    for source, mapping in existing.items():
        if source not in wanted:
            ctx.change(kind_of(source), "delete", describe(kind_of(source), source))
            if ctx.apply:
                try:
                    _retry(lambda uuid=mapping["UUID"]: client.delete_event_source_mapping(UUID=uuid))
                except ClientError as error:
                    if not is_not_found(error):
                        raise


def _retry(call: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            return call()
        except ClientError as error:
            transient = error_code(error) == "ResourceInUseException" or (
                error_code(error) == "InvalidParameterValueException" and "execution role" in str(error))
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(2)


def wired(ctx: Context, triggers: list[Trigger]) -> list[dict[str, Any]]:
    return [{"kind": kind_of(m["EventSourceArn"]), "target": m["EventSourceArn"], "alias": ctx.target.alias,
             "description": describe(kind_of(m["EventSourceArn"]), m["EventSourceArn"],
                                     current(m, kind_of(m["EventSourceArn"]))),
             "state": m.get("State")}
            for m in mappings(ctx)]
