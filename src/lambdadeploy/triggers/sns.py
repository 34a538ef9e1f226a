"""SNS subscriptions (protocol lambda) of the alias, with an optional filter policy.

Topics wired before are known from the alias's `lambdadeploy-sns-*` permissions, so a
topic removed from lambda.yaml is unsubscribed without listing every subscription of
the account.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..model import Trigger
from .common import Context, Grant, Target, is_not_found, name_of, short_hash


def grant_sid(target: Target, topic: str) -> str:
    return target.sid(f"sns-{short_hash(topic)}")


def grants(target: Target, triggers: list[Trigger]) -> list[Grant]:
    topics = sorted({str(t.settings["topic"]) for t in triggers})
    return [Grant(grant_sid(target, topic), "sns", "sns.amazonaws.com",
                  f"sns permission: topic {name_of(topic)} may invoke {target.alias}", source_arn=topic)
            for topic in topics]


def _subscriptions(ctx: Context, topic: str) -> list[dict[str, Any]]:
    found = []
    for page in ctx.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        found += [s for s in page["Subscriptions"]
                  if s.get("Protocol") == "lambda" and s.get("Endpoint") == ctx.target.arn]
    return found


def _filter_policy(ctx: Context, subscription_arn: str) -> Any:
    if subscription_arn in ("PendingConfirmation", "Deleted"):
        return None
    attributes = ctx.client("sns").get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    return json.loads(attributes.get("FilterPolicy") or "null") or None


def describe(topic: str, filter_policy: Any) -> str:
    text = f"sns topic {name_of(topic)}: subscribe"
    return text + f" (filter {json.dumps(filter_policy, sort_keys=True)})" if filter_policy else text


def reconcile(ctx: Context, triggers: list[Trigger]) -> None:
    """One subscription per configured topic; unsubscribe from topics no longer configured."""
    sns = ctx.client("sns")
    wanted = {str(t.settings["topic"]): t.settings.get("filter_policy") or None for t in triggers}
    for topic in sorted(set(wanted) | set(ctx.sources("sns.amazonaws.com"))):
        try:
            existing = _subscriptions(ctx, topic)
        except ClientError as error:
            if topic in wanted or not is_not_found(error):
                raise
            continue  # the topic is gone, and with it the subscription
        if topic not in wanted:
            for subscription in existing:
                ctx.change("sns", "delete", f"sns topic {name_of(topic)}: unsubscribe")
                if ctx.apply:
                    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
            continue
        desired = wanted[topic]
        if not existing:
            ctx.change("sns", "create", describe(topic, desired))
            if ctx.apply:
                attributes = {"FilterPolicy": json.dumps(desired)} if desired else {}
                sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=ctx.target.arn,
                              Attributes=attributes, ReturnSubscriptionArn=True)
            continue
        subscription_arn = existing[0]["SubscriptionArn"]
        if _filter_policy(ctx, subscription_arn) != desired:
            ctx.change("sns", "update", describe(topic, desired))
            if ctx.apply:
                # An empty JSON object removes a filter policy.
                sns.set_subscription_attributes(SubscriptionArn=subscription_arn, AttributeName="FilterPolicy",
                                                AttributeValue=json.dumps(desired or {}))


def wired(ctx: Context, triggers: list[Trigger]) -> list[dict[str, Any]]:
    topics = {str(t.settings["topic"]) for t in triggers} | set(ctx.sources("sns.amazonaws.com"))
    found = []
    for topic in sorted(topics):
        try:
            subscriptions = _subscriptions(ctx, topic)
        except ClientError as error:
            if is_not_found(error):
                continue
            raise
        found += [{"kind": "sns", "target": topic, "alias": ctx.target.alias,
                   "description": f"sns topic {name_of(topic)}", "subscription": s["SubscriptionArn"]}
                  for s in subscriptions]
    return found
