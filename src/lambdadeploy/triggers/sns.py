"""SNS subscriptions (protocol lambda) of the alias, with an optional filter policy.

Topics wired before are known from the alias's `lambdadeploy-sns-*` permissions, so a
topic removed from lambda.yaml is unsubscribed without listing every subscription of
the account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession
from ..diff import FieldChange
from ..fields import Field, Json, Record, Text
from .base import (
    Grant,
    PolicyScope,
    ReadContext,
    SamEvent,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    Wired,
    name_of,
    region_of,
    short_hash,
)

TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$")


@dataclass(frozen=True)
class SnsSettings:
    topic: str
    filter_policy: Any = None


@dataclass(frozen=True)
class TopicState:
    exists: bool
    subscriptions: tuple[tuple[str, Any], ...] = ()  # (subscription ARN, filter policy) of the alias


class SnsKind(TriggerKind):
    name: ClassVar[str] = "sns"
    summary: ClassVar[str] = "a `lambda` subscription of the alias (optional `filter_policy`); invoke permission for sns"
    settings: ClassVar[Record] = Record((
        Field("topic", Text(TOPIC_ARN, "arn:aws:sns:REGION:ACCOUNT:TOPIC", what="topic ARN"), required=True,
              doc="the topic's ARN"),
        Field("filter_policy", Json("an SNS filter policy (a mapping)"), doc="deliver only matching messages"),
    ), SnsSettings)

    def check(self, settings: SnsSettings, report: Any) -> None:
        if settings.filter_policy is not None and not isinstance(settings.filter_policy, dict):
            report("filter_policy", "must be a mapping (an SNS filter policy)", 'e.g. {event: ["created"]}')

    def source(self, settings: SnsSettings) -> str:
        return f"topic {settings.topic}"

    def invoke_principal(self) -> str:
        return "sns.amazonaws.com"

    def grants(self, target: Target, triggers: list[Trigger]) -> list[Grant]:
        topics = sorted({t.settings.topic for t in triggers})
        return [Grant(target.sid(f"sns-{short_hash(topic)}"), "sns", "sns.amazonaws.com", f"topic {name_of(topic)}",
                      source_arn=topic) for topic in topics]

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> dict[str, TopicState]:
        wanted = {t.settings.topic for t in triggers}
        observed = {}
        for topic in sorted(wanted | set(ctx.sources("sns.amazonaws.com"))):
            try:
                found = []
                # A topic in another region can deliver to the function: talk to the topic's region.
                for page in ctx.client("sns", region_of(topic)).pages("list_subscriptions_by_topic", TopicArn=topic):
                    found += [s["SubscriptionArn"] for s in page["Subscriptions"]
                              if s.get("Protocol") == "lambda" and s.get("Endpoint") == ctx.target.arn]
            except AwsNotFound:
                if topic in wanted:
                    raise
                observed[topic] = TopicState(False)  # the topic is gone, and with it the subscription
                continue
            observed[topic] = TopicState(True, tuple((arn, _filter_policy(ctx, topic, arn)) for arn in found))
        return observed

    def plan(self, target: Target, triggers: list[Trigger], observed: dict[str, TopicState]) -> list[TriggerStep]:
        wanted = {t.settings.topic: t.settings.filter_policy or None for t in triggers}
        steps = []
        for topic in sorted(set(wanted) | set(observed)):
            state = observed.get(topic, TopicState(True))
            if not state.exists:
                continue
            resource = f"topic {name_of(topic)}"
            if topic not in wanted:
                steps += [TriggerStep("sns", "delete", resource, "unsubscribe", params={"subscription": arn, "topic": topic})
                          for arn, _ in state.subscriptions]
                continue
            desired = wanted[topic]
            if not state.subscriptions:
                steps.append(TriggerStep("sns", "create", resource, describe(desired),
                                         params={"topic": topic, "filter_policy": desired}))
                continue
            arn, current = state.subscriptions[0]
            if current != desired:
                steps.append(TriggerStep("sns", "update", resource, describe(desired),
                                         (FieldChange("filter_policy", current, desired),),
                                         {"subscription": arn, "filter_policy": desired, "topic": topic}))
        return steps

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        params = step.params
        sns = session.client("sns", region_of(params.get("topic") or params["subscription"]))
        if step.action == "delete":
            sns.unsubscribe(SubscriptionArn=params["subscription"])
        elif step.action == "create":
            attributes = {"FilterPolicy": json.dumps(params["filter_policy"])} if params["filter_policy"] else {}
            sns.subscribe(TopicArn=params["topic"], Protocol="lambda", Endpoint=target.arn,
                          Attributes=attributes, ReturnSubscriptionArn=True)
        else:
            # An empty JSON object removes a filter policy.
            sns.set_subscription_attributes(SubscriptionArn=params["subscription"], AttributeName="FilterPolicy",
                                            AttributeValue=json.dumps(params["filter_policy"] or {}))
        return None

    def wired(self, target: Target, observed: dict[str, TopicState]) -> list[Wired]:
        return [Wired("sns", target.alias, f"topic {name_of(topic)}", describe(policy), detail=arn)
                for topic, state in sorted(observed.items()) for arn, policy in state.subscriptions]

    def sam_event(self, trigger: Trigger, function: str, alias: str) -> SamEvent:
        properties: dict[str, Any] = {"Topic": trigger.settings.topic}
        if trigger.settings.filter_policy:
            properties["FilterPolicy"] = trigger.settings.filter_policy
        return SamEvent(f"Sns {name_of(trigger.settings.topic)}", "SNS", properties)

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        topics = sorted({t.settings.topic for t in triggers})
        if not topics:
            return []
        return [
            {"Sid": "SubscribeToTopics", "Effect": "Allow",
             "Action": ["sns:ListSubscriptionsByTopic", "sns:Subscribe"], "Resource": topics},
            # SNS has no resource type for subscriptions: these take "*".
            {"Sid": "ManageSubscriptions", "Effect": "Allow",
             "Action": ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
             "Resource": "*"},
        ]


def _filter_policy(ctx: ReadContext, topic: str, subscription_arn: str) -> Any:
    if subscription_arn in ("PendingConfirmation", "Deleted"):
        return None
    attributes = ctx.client("sns", region_of(topic)).get_subscription_attributes(
        SubscriptionArn=subscription_arn)["Attributes"]
    return json.loads(attributes.get("FilterPolicy") or "null") or None


def describe(filter_policy: Any) -> str:
    return f"subscribe (filter {json.dumps(filter_policy, sort_keys=True)})" if filter_policy else "subscribe"

