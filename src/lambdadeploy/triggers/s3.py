"""S3 bucket notifications to the alias, merged with the bucket's other notifications.

A bucket has one notification configuration for everyone (topics, queues, other
functions, EventBridge). The tool owns only the Lambda configurations whose Id is
`lambdadeploy-FUNCTION-ALIAS-HASH` and that point at this alias; applying a step
re-reads the bucket and writes the whole configuration back with only that entry
changed. Writes to one bucket are serialised within this process, because several
functions of one push may share a bucket.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession
from ..awsrules.s3 import OVERLAPPING, NotificationRule, first_overlap, rules_of
from ..diff import FieldChange
from ..fields import Field, Record, Text, TextList
from .base import (
    Grant,
    PolicyScope,
    PreflightItem,
    Problem,
    ReadContext,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    Wired,
    short_hash,
)

DEFAULT_EVENT = "s3:ObjectCreated:*"
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
OTHER_SECTIONS = ("TopicConfigurations", "QueueConfigurations", "EventBridgeConfiguration")
_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    events: tuple[str, ...] = (DEFAULT_EVENT,)
    prefix: str | None = None
    suffix: str | None = None


@dataclass(frozen=True)
class BucketState:
    """A bucket's Lambda notifications: the tool's entries for this alias, by Id, and the rest; every
    rule of the bucket (of any destination), and the bucket's region."""

    exists: bool
    owned: dict[str, dict[str, Any]]
    others: tuple[dict[str, Any], ...] = ()
    rules: tuple[NotificationRule, ...] = ()
    region: str | None = None


def _lock(bucket: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS[bucket]


class S3Kind(TriggerKind):
    name: ClassVar[str] = "s3"
    summary: ClassVar[str] = ("the bucket's Lambda notification for the alias (events, prefix, suffix), merged "
                              "with the bucket's other notifications, which are never touched; invoke permission for s3")
    settings: ClassVar[Record] = Record((
        Field("bucket", Text(BUCKET, "3-63 lowercase letters, digits, . and -", what="bucket name"), required=True,
              doc="the bucket's name"),
        Field("events", TextList(single=True, min_items=1), doc=f"S3 event types (default {DEFAULT_EVENT})"),
        Field("prefix", Text(), doc="only keys that start with this"),
        Field("suffix", Text(), doc="only keys that end with this"),
    ), S3Settings)

    def source(self, settings: S3Settings) -> str:
        """The bucket, and what of it: a rule for other keys or events is another source."""
        what = [f"prefix {settings.prefix}"] if settings.prefix else []
        what += [f"suffix {settings.suffix}"] if settings.suffix else []
        if tuple(settings.events) != (DEFAULT_EVENT,):
            what.append(", ".join(sorted(settings.events)))
        return f"bucket {settings.bucket}" + (f" ({', '.join(what)})" if what else "")

    def invoke_principal(self) -> str:
        return "s3.amazonaws.com"

    def grants(self, target: Target, triggers: list[Trigger]) -> list[Grant]:
        buckets = sorted({t.settings.bucket for t in triggers})
        return [Grant(target.sid(f"s3-{short_hash(bucket)}"), "s3", "s3.amazonaws.com", f"bucket {bucket}",
                      source_arn=f"arn:{target.partition}:s3:::{bucket}", source_account=target.account)
                for bucket in buckets]

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> dict[str, BucketState]:
        wanted = {t.settings.bucket for t in triggers}
        previous = {arn.split(":::")[-1] for arn in ctx.sources("s3.amazonaws.com")}
        observed = {}
        for bucket in sorted(wanted | previous):
            try:
                current = ctx.client("s3").get_bucket_notification_configuration(Bucket=bucket)
            except AwsNotFound:
                if bucket in wanted:
                    raise
                observed[bucket] = BucketState(False, {})  # gone, and its notifications with it
                continue
            lambdas = current.get("LambdaFunctionConfigurations") or []
            owned = {c["Id"]: c for c in lambdas if is_owned(ctx.target, c)}
            region = None
            if bucket in wanted:
                # S3 answers None for us-east-1 (and "EU" for the oldest eu-west-1 buckets).
                location = ctx.client("s3").get_bucket_location(Bucket=bucket).get("LocationConstraint")
                region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
            observed[bucket] = BucketState(True, owned, tuple(c for c in lambdas if not is_owned(ctx.target, c)),
                                           tuple(rules_of(current)), region)
        return observed

    def plan(self, target: Target, triggers: list[Trigger], observed: dict[str, BucketState]) -> list[TriggerStep]:
        wanted: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for trigger in triggers:
            config = notification_config(target, trigger)
            wanted[trigger.settings.bucket][config["Id"]] = config
        steps = []
        for bucket in sorted(set(wanted) | set(observed)):
            state = observed.get(bucket, BucketState(True, {}))
            if not state.exists:
                continue
            want = wanted.get(bucket, {})
            for config_id, config in want.items():
                have = state.owned.get(config_id)
                if have is None:
                    steps.append(self._step("create", bucket, config, config))
                elif _normal(have) != _normal(config):
                    steps.append(self._step("update", bucket, config, config, _changes(have, config)))
            for config_id, config in state.owned.items():
                if config_id not in want:
                    steps.append(self._step("delete", bucket, config, None))
        return steps

    @staticmethod
    def _step(action: str, bucket: str, shown: dict[str, Any], config: dict[str, Any] | None,
              changes: tuple[FieldChange, ...] = ()) -> TriggerStep:
        return TriggerStep("s3", action, f"bucket {bucket}", describe(shown), changes,
                           {"bucket": bucket, "id": shown["Id"], "config": config})

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        bucket, config_id, config = step.params["bucket"], step.params["id"], step.params["config"]
        s3 = session.client("s3")
        with _lock(bucket):
            current = s3.get_bucket_notification_configuration(Bucket=bucket)
            document: dict[str, Any] = {
                section: [_lowercase_rules(c) for c in current[section]] if isinstance(current[section], list)
                else current[section]
                for section in OTHER_SECTIONS if current.get(section) is not None
            }
            kept = [_lowercase_rules(c) for c in current.get("LambdaFunctionConfigurations") or []
                    if not (c.get("Id") == config_id and is_owned(target, c))]
            merged = kept + ([config] if config is not None else [])
            if merged:
                document["LambdaFunctionConfigurations"] = merged
            # Our own destination is validated by the permission added first; a stale destination
            # someone else configured on the bucket must not block the deploy.
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=document, SkipDestinationValidation=True)
        return None

    def wired(self, target: Target, observed: dict[str, BucketState]) -> list[Wired]:
        found = []
        for bucket, state in sorted(observed.items()):
            for config in [*state.owned.values(), *state.others]:
                if config.get("LambdaFunctionArn") == target.arn:
                    found.append(Wired("s3", target.alias, f"bucket {bucket}", describe(config),
                                       managed=is_owned(target, config)))
        return found

    def preflight(self, items: list[PreflightItem], region: str) -> list[Problem]:
        """A bucket in another region cannot notify the function; and S3 refuses a configuration in
        which two rules would match the same object for the same event (awsrules/s3.py): checked on
        the bucket as it will be after every function of the push is wired."""
        problems = []
        buckets: dict[str, dict[str, NotificationRule]] = {}
        replaced: dict[str, set[str]] = defaultdict(set)
        added: dict[str, list[NotificationRule]] = defaultdict(list)
        for item in items:
            for bucket, state in (item.observed or {}).items():
                if not state.exists:
                    continue
                buckets.setdefault(bucket, {rule.id: rule for rule in state.rules})
                if state.region and state.region != region and any(t.settings.bucket == bucket for t in item.triggers):
                    problems.append(Problem(item.key, f"bucket {bucket} is in {state.region}; S3 notifies only "
                                            f"functions in its own region, and this one deploys to {region}",
                                            "use a bucket in the function's region, or deploy with --region"))
            for step in item.steps:
                replaced[step.params["bucket"]].add(step.params["id"])
                if step.params["config"] is not None:
                    added[step.params["bucket"]] += rules_of({"LambdaFunctionConfigurations": [step.params["config"]]})
        for bucket, rules in sorted(buckets.items()):
            final = [r for r in rules.values() if r.id not in replaced[bucket]] + added[bucket]
            clash = first_overlap(final)
            if clash:
                first, second = clash
                problems.append(Problem(None, f"bucket {bucket}: rules {first.id} ({first.destination}) and "
                                        f"{second.id} ({second.destination}) would match the same objects for the "
                                        f"same event: {OVERLAPPING.code}: {OVERLAPPING.message}",
                                        "give the triggers distinct prefixes or suffixes, or different events"))
        return problems

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        buckets = sorted({t.settings.bucket for t in triggers})
        if not buckets:
            return []
        return [{"Sid": "WireBucketNotifications", "Effect": "Allow",
                 "Action": ["s3:GetBucketLocation", "s3:GetBucketNotification", "s3:PutBucketNotification"],
                 "Resource": [f"arn:{scope.partition}:s3:::{b}" for b in buckets]}]


def notification_config(target: Target, trigger: Trigger) -> dict[str, Any]:
    """The LambdaFunctionConfiguration for one trigger."""
    settings: S3Settings = trigger.settings
    events = sorted(set(settings.events))
    rules = [{"Name": name, "Value": value} for name, value in (("prefix", settings.prefix), ("suffix", settings.suffix))
             if value]
    config: dict[str, Any] = {
        "Id": target.owned_name("s3", settings.bucket, events, settings.prefix, settings.suffix),
        "LambdaFunctionArn": target.arn,
        "Events": events,
    }
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def is_owned(target: Target, config: dict[str, Any]) -> bool:
    return str(config.get("Id", "")).startswith(target.owner_prefix) and config.get("LambdaFunctionArn") == target.arn


def _rules(config: dict[str, Any]) -> list[tuple[str, str]]:
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return sorted((r["Name"].lower(), r["Value"]) for r in rules)


def _normal(config: dict[str, Any]) -> tuple[Any, ...]:
    return (config.get("LambdaFunctionArn"), sorted(config.get("Events") or []), _rules(config))


def _changes(have: dict[str, Any], want: dict[str, Any]) -> tuple[FieldChange, ...]:
    changes = []
    if sorted(have.get("Events") or []) != sorted(want.get("Events") or []):
        changes.append(FieldChange("events", sorted(have.get("Events") or []), want["Events"]))
    if _rules(have) != _rules(want):
        changes.append(FieldChange("filter", dict(_rules(have)), dict(_rules(want))))
    return tuple(changes)


def _lowercase_rules(config: dict[str, Any]) -> dict[str, Any]:
    """GetBucketNotification answers `Prefix`/`Suffix`; Put documents (and moto requires) lower case."""
    if not _rules(config):
        return config
    return {**config, "Filter": {**config["Filter"], "Key": {"FilterRules": [
        {"Name": name, "Value": value} for name, value in _rules(config)]}}}


def describe(config: dict[str, Any]) -> str:
    rules = ", ".join(f"{name} {value}" for name, value in _rules(config))
    text = f"notify on {', '.join(config.get('Events') or [])}"
    return f"{text} ({rules})" if rules else text
