"""S3 bucket notifications to the alias, merged with the bucket's other notifications.

A bucket has one notification configuration for everyone (topics, queues, other
functions, EventBridge). The tool reads it, replaces only the Lambda configurations
it owns (Id `lambdadeploy-FUNCTION-ALIAS-HASH` pointing at this alias) and writes the
whole thing back. Writes to one bucket are serialised within this process, because
several functions of one push may share a bucket.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from botocore.exceptions import ClientError

from ..model import Trigger
from .common import Context, Grant, Target, is_not_found, short_hash

DEFAULT_EVENT = "s3:ObjectCreated:*"
_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()
OTHER_SECTIONS = ("TopicConfigurations", "QueueConfigurations", "EventBridgeConfiguration")


def _lock(bucket: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS[bucket]


def events_of(trigger: Trigger) -> list[str]:
    events = trigger.settings.get("events") or [DEFAULT_EVENT]
    return sorted({events} if isinstance(events, str) else set(events))


def desired_config(target: Target, trigger: Trigger) -> dict[str, Any]:
    """The LambdaFunctionConfiguration for one trigger."""
    settings = trigger.settings
    events = events_of(trigger)
    rules = [{"Name": name, "Value": str(settings[name])} for name in ("prefix", "suffix") if settings.get(name)]
    config: dict[str, Any] = {
        "Id": target.owned_name("s3", settings["bucket"], events, settings.get("prefix"), settings.get("suffix")),
        "LambdaFunctionArn": target.arn,
        "Events": events,
    }
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def grant_sid(target: Target, bucket: str) -> str:
    return target.sid(f"s3-{short_hash(bucket)}")


def grants(target: Target, triggers: list[Trigger]) -> list[Grant]:
    buckets = sorted({str(t.settings["bucket"]) for t in triggers})
    return [
        Grant(grant_sid(target, bucket), "s3", "s3.amazonaws.com", f"s3 permission: bucket {bucket} may invoke {target.alias}",
              source_arn=f"arn:{target.partition}:s3:::{bucket}", source_account=target.account)
        for bucket in buckets
    ]


def reconcile(ctx: Context, triggers: list[Trigger]) -> None:
    """Make each configured bucket notify the alias; drop notifications of removed triggers."""
    wanted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trigger in triggers:
        wanted[str(trigger.settings["bucket"])].append(desired_config(ctx.target, trigger))
    # Buckets wired before (known from the alias's permissions) may need cleaning up.
    previous = {arn.split(":::")[-1] for arn in ctx.sources("s3.amazonaws.com")}
    for bucket in sorted(set(wanted) | previous):
        with _lock(bucket):
            _reconcile_bucket(ctx, bucket, wanted.get(bucket, []), must_exist=bucket in wanted)


def _reconcile_bucket(ctx: Context, bucket: str, desired: list[dict[str, Any]], *, must_exist: bool) -> None:
    s3 = ctx.client("s3")
    try:
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
    except ClientError as error:
        if not must_exist and is_not_found(error):
            return  # the bucket is gone, and with it the notifications
        raise
    current.pop("ResponseMetadata", None)
    lambdas = current.get("LambdaFunctionConfigurations") or []
    owned = {c["Id"]: c for c in lambdas if _is_owned(ctx.target, c)}
    others = [c for c in lambdas if not _is_owned(ctx.target, c)]
    want = {c["Id"]: c for c in desired}
    before = len(ctx.changes)
    for config_id, config in want.items():
        if config_id not in owned:
            ctx.change("s3", "create", describe(bucket, config))
        elif _normal(owned[config_id]) != _normal(config):
            ctx.change("s3", "update", describe(bucket, config))
    for config_id, config in owned.items():
        if config_id not in want:
            ctx.change("s3", "delete", describe(bucket, config))
    if len(ctx.changes) == before or not ctx.apply:
        return
    document: dict[str, Any] = {
        section: [_lowercase_rules(c) for c in current[section]] if isinstance(current[section], list) else current[section]
        for section in OTHER_SECTIONS
        if current.get(section) is not None
    }
    merged = [_lowercase_rules(c) for c in others] + list(want.values())
    if merged:
        document["LambdaFunctionConfigurations"] = merged
    # Our own destination is validated by the permission added first; a stale destination
    # someone else configured on the bucket must not block the deploy.
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=document, SkipDestinationValidation=True
    )


def _is_owned(target: Target, config: dict[str, Any]) -> bool:
    return str(config.get("Id", "")).startswith(target.owner_prefix) and config.get("LambdaFunctionArn") == target.arn


def _rules(config: dict[str, Any]) -> list[tuple[str, str]]:
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return sorted((r["Name"].lower(), r["Value"]) for r in rules)


def _normal(config: dict[str, Any]) -> tuple[Any, ...]:
    return (config.get("LambdaFunctionArn"), sorted(config.get("Events") or []), _rules(config))


def _lowercase_rules(config: dict[str, Any]) -> dict[str, Any]:
    """GetBucketNotification answers `Prefix`/`Suffix`; Put documents (and moto requires) lower case."""
    if not _rules(config):
        return config
    return {**config, "Filter": {**config["Filter"], "Key": {"FilterRules": [
        {"Name": name, "Value": value} for name, value in _rules(config)]}}}


def describe(bucket: str, config: dict[str, Any]) -> str:
    rules = ", ".join(f"{name} {value}" for name, value in _rules(config))
    text = f"s3 bucket {bucket}: notify on {', '.join(config.get('Events') or [])}"
    return f"{text} ({rules})" if rules else text


def wired(ctx: Context, triggers: list[Trigger]) -> list[dict[str, Any]]:
    """What notifies this alias, on the configured buckets and those wired before."""
    buckets = {str(t.settings["bucket"]) for t in triggers} | {
        arn.split(":::")[-1] for arn in ctx.sources("s3.amazonaws.com")}
    found = []
    for bucket in sorted(buckets):
        try:
            current = ctx.client("s3").get_bucket_notification_configuration(Bucket=bucket)
        except ClientError as error:
            if is_not_found(error):
                continue
            raise
        for config in current.get("LambdaFunctionConfigurations") or []:
            if config.get("LambdaFunctionArn") == ctx.target.arn:
                found.append({"kind": "s3", "target": bucket, "alias": ctx.target.alias,
                              "description": describe(bucket, config),
                              "managed": _is_owned(ctx.target, config)})
    return found
