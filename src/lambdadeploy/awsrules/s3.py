"""S3 bucket notifications: no two rules may match the same object for the same event type.

S3 refuses a notification configuration in which two rules (of any destination: topics,
queues, functions) share an event type and have overlapping prefixes and overlapping
suffixes (an empty prefix or suffix overlaps every other), with InvalidArgument
"Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if
the prefixes are overlapping for the same event type."
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import Violation

OVERLAPPING = Violation(
    "InvalidArgument",
    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are "
    "overlapping for the same event type.",
)
SECTIONS = {"LambdaFunctionConfigurations": "LambdaFunctionArn", "QueueConfigurations": "QueueArn",
            "TopicConfigurations": "TopicArn"}


@dataclass(frozen=True)
class NotificationRule:
    """One notification of a bucket, whatever its destination."""

    id: str
    destination: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


def rules_of(document: Mapping[str, Any]) -> list[NotificationRule]:
    """The rules of a notification configuration (as Get/PutBucketNotificationConfiguration spell it)."""
    rules = []
    for section, arn_key in SECTIONS.items():
        for config in document.get(section) or []:
            filters = {r["Name"].lower(): r["Value"]
                       for r in ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []}
            rules.append(NotificationRule(str(config.get("Id") or ""), str(config.get(arn_key) or ""),
                                          tuple(config.get("Events") or ()), filters.get("prefix", ""),
                                          filters.get("suffix", "")))
    return rules


def events_overlap(a: str, b: str) -> bool:
    """`s3:ObjectCreated:*` covers `s3:ObjectCreated:Put`; different families never overlap."""
    if a == b:
        return True
    family_a, _, kind_a = a.rpartition(":")
    family_b, _, kind_b = b.rpartition(":")
    return family_a == family_b and "*" in (kind_a, kind_b)


def overlapping(a: NotificationRule, b: NotificationRule) -> bool:
    same_event = any(events_overlap(x, y) for x in a.events for y in b.events)
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return same_event and prefixes and suffixes


def first_overlap(rules: Iterable[NotificationRule]) -> tuple[NotificationRule, NotificationRule] | None:
    seen: list[NotificationRule] = []
    for rule in rules:
        for other in seen:
            if overlapping(rule, other):
                return other, rule
        seen.append(rule)
    return None
