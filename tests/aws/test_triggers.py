"""Trigger kinds against moto: read, plan and apply; idempotence, removal, ownership, plan-only, per-alias triggers.

The function and its aliases are created directly (no packaging) so these tests only
exercise the wiring.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.aws import AwsNotFound, AwsSession
from lambdadeploy.config.model import FunctionConfig, Project
from lambdadeploy.engine.execute import Executor
from lambdadeploy.engine.plan import FunctionPlan
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.roles import apply_role_step, plan_role, read_role
from lambdadeploy.engine.steps import SetPermission, WireTrigger
from lambdadeploy.engine.triggers import plan_triggers, read_triggers, wired_triggers
from lambdadeploy.iam.execution_role import function_role_arn
from lambdadeploy.output.steps import one_line

from .conftest import write_project

FUNCTION = "t-worker"


def create_function(session: AwsSession, project: Project, aliases: tuple[str, ...] = ("dev",)) -> None:
    """The function, version 1 and the aliases, as a push would leave them."""
    for step in plan_role(project, read_role(session, project), "aws"):
        apply_role_step(session, step)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    client = session.client("lambda")
    client.create_function(FunctionName=FUNCTION, Runtime="python3.12", Handler="app.handler",
                           Role=function_role_arn(project, project.functions[0], session.account_id(), "aws"),
                           Code={"ZipFile": buffer.getvalue()})
    version = client.publish_version(FunctionName=FUNCTION)["Version"]
    for alias in aliases:
        client.create_alias(FunctionName=FUNCTION, Name=alias, FunctionVersion=version)


def alias_arn(session: AwsSession, alias: str) -> str:
    return session.client("lambda").get_alias(FunctionName=FUNCTION, Name=alias)["AliasArn"]


class Sources:
    """A bucket, a topic, a queue, a DynamoDB stream and a Kinesis stream to wire."""

    def __init__(self, session: AwsSession) -> None:
        session.client("s3").create_bucket(Bucket="uploads")
        self.topic = session.client("sns").create_topic(Name="thumbs")["TopicArn"]
        sqs = session.client("sqs")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        self.queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        other = sqs.create_queue(QueueName="audit")["QueueUrl"]
        self.other_queue = sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        table = session.client("dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.table_stream = table["TableDescription"]["LatestStreamArn"]
        kinesis = session.client("kinesis")
        kinesis.create_stream(StreamName="clicks", ShardCount=1)
        self.kinesis_stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]

    def all_triggers(self) -> str:
        return f"""
        triggers:
          - s3: {{alias: dev, bucket: uploads, prefix: in/, suffix: .jpg}}
          - sns: {{alias: dev, topic: "{self.topic}", filter_policy: {{kind: [thumb]}}}}
          - sqs: {{alias: dev, queue: "{self.queue}", batch_size: 5, batching_window: 2}}
          - dynamodb: {{alias: dev, stream: "{self.table_stream}", starting_position: TRIM_HORIZON}}
          - kinesis: {{alias: dev, stream: "{self.kinesis_stream}", batch_size: 50}}
          - schedule: {{alias: dev, expression: "rate(5 minutes)", input: {{ping: true}}}}
          - url: {{auth: NONE, cors: {{allow_origins: ["https://example.com"]}}}}
        """


class State:
    """Everything the reconcilers could touch, read back for assertions and before/after comparisons."""

    def __init__(self, session: AwsSession, sources: Sources) -> None:
        self.session, self.sources = session, sources

    def notifications(self) -> dict[str, Any]:
        current = self.session.client("s3").get_bucket_notification_configuration(Bucket="uploads")
        current.pop("ResponseMetadata", None)
        return current

    def subscriptions(self) -> list[dict[str, Any]]:
        return self.session.client("sns").list_subscriptions_by_topic(TopicArn=self.sources.topic)["Subscriptions"]

    def mappings(self) -> list[dict[str, Any]]:
        return self.session.client("lambda").list_event_source_mappings()["EventSourceMappings"]

    def rules(self) -> list[dict[str, Any]]:
        events = self.session.client("events")
        rules = events.list_rules()["Rules"]
        return [{**rule, "Targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"]} for rule in rules]

    def statements(self, alias: str = "dev") -> dict[str, dict[str, Any]]:
        try:
            policy = self.session.client("lambda").get_policy(FunctionName=f"{FUNCTION}:{alias}")["Policy"]
        except AwsNotFound:
            return {}
        return {s["Sid"]: s for s in json.loads(policy)["Statement"]}

    def url(self) -> dict[str, Any] | None:
        client = self.session.client("lambda")
        try:
            config = client.get_function_url_config(FunctionName=FUNCTION, Qualifier="dev")
        except AwsNotFound:
            return None
        return {key: config.get(key) for key in ("FunctionUrl", "AuthType", "Cors")}

    def snapshot(self) -> dict[str, Any]:
        return {"notifications": self.notifications(), "subscriptions": self.subscriptions(),
                "mappings": sorted((m["EventSourceArn"], m["BatchSize"], m["State"]) for m in self.mappings()),
                "rules": self.rules(), "statements": self.statements(), "url": self.url()}


@pytest.fixture
def sources(session: AwsSession) -> Sources:
    return Sources(session)


def only(project: Project) -> FunctionConfig:
    (fn,) = project.functions
    return fn


@dataclass(frozen=True)
class Change:
    """A planned (or applied) trigger or permission step, as a test reads it."""

    kind: str
    action: str
    description: str  # the line `plan` prints
    detail: str | None = None  # what applying it reported (a URL)


def reconcile(session: AwsSession, fn: FunctionConfig, alias: str, *, apply: bool) -> list[Change]:
    """Read what is wired to the alias, plan the difference and (with apply) make it so."""
    remote = read_function(session, fn.name)
    steps = [s for s in plan_triggers(fn, alias, read_triggers(session, fn, remote, alias), remote.tags)
             if isinstance(s, WireTrigger | SetPermission)]
    details: dict[int, str | None] = {}
    if apply and steps:
        execution = Executor(session, lambda event: None).run(FunctionPlan(fn, tuple(steps), alias, None, ""), None)
        assert execution.failure is None, execution.failure
        details = {index: record.detail for index, record in enumerate(execution.done)}
    return [Change(s.change.kind, s.change.action, one_line(s), details.get(i)) for i, s in enumerate(steps)]


def kinds(changes: list[Change], action: str) -> list[str]:
    return sorted(c.kind for c in changes if c.action == action)


def test_every_kind_is_wired_once_to_the_alias_and_a_second_reconcile_changes_nothing(
        session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", sources.all_triggers())
    create_function(session, project)
    dev = alias_arn(session, "dev")
    state = State(session, sources)

    changes = reconcile(session, only(project), "dev", apply=True)
    assert kinds(changes, "create") == sorted(
        ["s3", "s3", "sns", "sns", "sqs", "dynamodb", "kinesis", "schedule", "schedule", "url", "url", "url"])
    assert not kinds(changes, "update") and not kinds(changes, "delete")
    s3_change = next(c for c in changes if c.kind == "s3" and "notify" in c.description)
    assert s3_change.description == (
        "+ trigger s3 bucket uploads -> dev: notify on s3:ObjectCreated:* (prefix in/, suffix .jpg)")
    url_change = next(c for c in changes if c.kind == "url" and "function URL" in c.description)
    assert url_change.detail and url_change.detail.startswith("https://")

    # S3: one notification on the alias ARN, with the filter, owned by the tool.
    (notification,) = state.notifications()["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == dev
    assert notification["Id"].startswith("lambdadeploy-t-worker-dev-")
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    assert sorted((r["Name"].lower(), r["Value"]) for r in notification["Filter"]["Key"]["FilterRules"]) == [
        ("prefix", "in/"), ("suffix", ".jpg")]
    # SNS: one lambda subscription of the alias, with the filter policy.
    (subscription,) = state.subscriptions()
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("lambda", dev)
    attributes = session.client("sns").get_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"kind": ["thumb"]}
    # Event source mappings: one per source, created on the alias ARN with the settings asked for.
    mappings = {m["EventSourceArn"]: m for m in state.mappings()}
    assert set(mappings) == {sources.queue, sources.table_stream, sources.kinesis_stream}
    assert mappings[sources.queue]["BatchSize"] == 5
    assert mappings[sources.queue]["MaximumBatchingWindowInSeconds"] == 2
    assert mappings[sources.table_stream]["StartingPosition"] == "TRIM_HORIZON"
    assert mappings[sources.kinesis_stream]["StartingPosition"] == "LATEST"
    assert mappings[sources.kinesis_stream]["BatchSize"] == 50
    listed = session.client("lambda").list_event_source_mappings(FunctionName=dev)["EventSourceMappings"]
    assert len(listed) == 3
    # Schedule: one rule, its one target the alias with the constant input.
    (rule,) = state.rules()
    assert rule["Name"].startswith("lambdadeploy-t-worker-dev-") and len(rule["Name"]) <= 64
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == dev and json.loads(target["Input"]) == {"ping": True}
    # URL with CORS, and its public permissions.
    url = state.url()
    assert url is not None and url["AuthType"] == "NONE" and url["FunctionUrl"] == url_change.detail
    assert url["Cors"] == {"AllowOrigins": ["https://example.com"]}
    # Permissions on the alias: one per invoking service, each scoped to its source.
    statements = state.statements()
    assert all(sid.startswith("lambdadeploy-") and sid.endswith("-dev") for sid in statements)
    by_principal = {json.dumps(s["Principal"]): s for s in statements.values() if s["Action"] == "lambda:InvokeFunction"}
    s3_statement = by_principal[json.dumps({"Service": "s3.amazonaws.com"})]
    assert s3_statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::uploads"
    assert s3_statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == session.account_id()
    sns_statement = by_principal[json.dumps({"Service": "sns.amazonaws.com"})]
    assert sns_statement["Condition"]["ArnLike"]["AWS:SourceArn"] == sources.topic
    events_statement = by_principal[json.dumps({"Service": "events.amazonaws.com"})]
    assert events_statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    public = [s for s in statements.values() if s["Principal"] == "*"]
    assert sorted(s["Action"] for s in public) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    assert len(statements) == 5

    before = state.snapshot()
    assert reconcile(session, only(project), "dev", apply=True) == []
    assert state.snapshot() == before


def test_removed_triggers_are_unwired_and_what_others_made_survives(
        session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    s3 = session.client("s3")
    foreign_function = "arn:aws:lambda:us-east-1:123456789012:function:someone-else"
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={
        "QueueConfigurations": [{"Id": "audit-queue", "QueueArn": sources.other_queue, "Events": ["s3:ObjectRemoved:*"]}],
        "LambdaFunctionConfigurations": [{"Id": "someone-else", "LambdaFunctionArn": foreign_function,
                                          "Events": ["s3:ObjectCreated:*"],
                                          "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "other/"}]}}}],
    })
    project = write_project(tmp_path, "return 1", sources.all_triggers())
    create_function(session, project)
    state = State(session, sources)
    reconcile(session, only(project), "dev", apply=True)
    notifications = state.notifications()
    assert sorted(c["Id"] for c in notifications["LambdaFunctionConfigurations"])[-1] == "someone-else"
    assert len(notifications["LambdaFunctionConfigurations"]) == 2
    assert [c["Id"] for c in notifications["QueueConfigurations"]] == ["audit-queue"]

    project = write_project(tmp_path, "return 1", "triggers: []")
    changes = reconcile(session, only(project), "dev", apply=True)
    assert kinds(changes, "delete") == sorted(
        ["s3", "s3", "sns", "sns", "sqs", "dynamodb", "kinesis", "schedule", "schedule", "url", "url", "url"])
    assert not kinds(changes, "create")
    notifications = state.notifications()
    (survivor,) = notifications["LambdaFunctionConfigurations"]
    assert survivor["Id"] == "someone-else" and survivor["LambdaFunctionArn"] == foreign_function
    assert [c["Id"] for c in notifications["QueueConfigurations"]] == ["audit-queue"]
    assert state.subscriptions() == []
    assert state.mappings() == []
    assert state.rules() == []
    assert state.url() is None
    assert state.statements() == {}
    assert reconcile(session, only(project), "dev", apply=True) == []


def test_changed_settings_are_updated_in_place(session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    first = f"""
    triggers:
      - sqs: {{alias: dev, queue: "{sources.queue}", batch_size: 5}}
      - s3: {{alias: dev, bucket: uploads, prefix: in/}}
      - sns: {{alias: dev, topic: "{sources.topic}"}}
      - schedule: {{alias: dev, expression: "rate(1 hour)"}}
      - url: {{auth: NONE}}
    """
    project = write_project(tmp_path, "return 1", first)
    create_function(session, project)
    state = State(session, sources)
    reconcile(session, only(project), "dev", apply=True)
    (mapping,) = state.mappings()
    (subscription,) = state.subscriptions()
    url = state.url()

    second = f"""
    triggers:
      - sqs: {{alias: dev, queue: "{sources.queue}", batch_size: 8, enabled: false}}
      - s3: {{alias: dev, bucket: uploads, prefix: out/}}
      - sns: {{alias: dev, topic: "{sources.topic}", filter_policy: {{size: [large]}}}}
      - schedule: {{alias: dev, expression: "rate(1 hour)", enabled: false, description: nightly}}
      - url: {{auth: AWS_IAM}}
    """
    project = write_project(tmp_path, "return 1", second)
    changes = reconcile(session, only(project), "dev", apply=True)
    assert sorted((c.kind, c.action) for c in changes if "permission" not in c.description) == [
        ("s3", "create"), ("s3", "delete"), ("schedule", "update"), ("sns", "update"), ("sqs", "update"),
        ("url", "update")]
    # The public URL permissions go with auth NONE.
    assert sorted(c.action for c in changes if c.kind == "url" and "permission" in c.description) == ["delete", "delete"]
    (updated,) = state.mappings()
    assert updated["UUID"] == mapping["UUID"]
    assert (updated["BatchSize"], updated["State"]) == (8, "Disabled")
    (notification,) = state.notifications()["LambdaFunctionConfigurations"]
    assert notification["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "out/"}]
    (same,) = state.subscriptions()
    assert same["SubscriptionArn"] == subscription["SubscriptionArn"]
    (rule,) = state.rules()
    assert (rule["State"], rule["Description"]) == ("DISABLED", "nightly")
    new_url = state.url()
    assert new_url is not None and url is not None
    assert new_url["AuthType"] == "AWS_IAM" and new_url["FunctionUrl"] == url["FunctionUrl"]
    assert not any(s["Principal"] == "*" for s in state.statements().values())
    assert reconcile(session, only(project), "dev", apply=True) == []


def test_plan_reports_changes_and_writes_nothing(session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", sources.all_triggers())
    # Before the first push: nothing exists yet, the plan still says what the push would wire.
    planned = reconcile(session, only(project), "dev", apply=False)
    assert len(planned) == 12 and {c.action for c in planned} == {"create"}
    create_function(session, project)
    state = State(session, sources)
    before = state.snapshot()
    planned = reconcile(session, only(project), "dev", apply=False)
    assert len(planned) == 12 and {c.action for c in planned} == {"create"}
    assert state.snapshot() == before
    applied = reconcile(session, only(project), "dev", apply=True)
    assert [(c.kind, c.action, c.description) for c in applied] == [
        (c.kind, c.action, c.description) for c in planned]

    # Planning a removal lists the deletes and still writes nothing.
    wired = state.snapshot()
    empty = write_project(tmp_path, "return 1", "triggers: []")
    planned = reconcile(session, only(empty), "dev", apply=False)
    assert len(planned) == 12 and {c.action for c in planned} == {"delete"}
    assert state.snapshot() == wired


def test_trigger_for_prod_is_not_wired_to_dev(session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    extra = f"""
    triggers:
      - sqs: {{queue: "{sources.queue}", alias: prod}}
      - alias: prod
        schedule: {{expression: "rate(1 day)"}}
      - s3: {{bucket: uploads, prefix: "{{{{ alias }}}}/"}}
    """
    project = write_project(tmp_path, "return 1", extra)
    create_function(session, project, aliases=("dev", "prod"))
    state = State(session, sources)
    dev_changes = reconcile(session, only(project), "dev", apply=True)
    assert sorted(c.kind for c in dev_changes) == ["s3", "s3"]
    assert state.mappings() == [] and state.rules() == []
    prod_changes = reconcile(session, only(project), "prod", apply=True)
    assert sorted(c.kind for c in prod_changes) == ["s3", "s3", "schedule", "schedule", "sqs"]
    prod = alias_arn(session, "prod")
    (mapping,) = session.client("lambda").list_event_source_mappings(FunctionName=prod)["EventSourceMappings"]
    assert mapping["EventSourceArn"] == sources.queue
    assert session.client("lambda").list_event_source_mappings(
        FunctionName=alias_arn(session, "dev"))["EventSourceMappings"] == []
    (rule,) = state.rules()
    assert rule["Targets"][0]["Arn"] == prod
    # The bucket notifies both aliases; reconciling one alias leaves the other's notification alone.
    targets = sorted(c["LambdaFunctionArn"] for c in state.notifications()["LambdaFunctionConfigurations"])
    assert targets == sorted([alias_arn(session, "dev"), prod])
    assert reconcile(session, only(project), "dev", apply=True) == []
    assert reconcile(session, only(project), "prod", apply=True) == []

    status = wired_triggers(session, only(project), read_function(session, FUNCTION))
    assert sorted((w.alias, w.kind) for w in status) == [
        ("dev", "s3"), ("prod", "s3"), ("prod", "schedule"), ("prod", "sqs")]
    assert next(w for w in status if w.kind == "sqs").detail == sources.queue


def test_describe_lists_every_kind_per_alias(session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", sources.all_triggers())
    assert wired_triggers(session, only(project), read_function(session, FUNCTION)) == []  # no function yet
    create_function(session, project)
    reconcile(session, only(project), "dev", apply=True)
    status = wired_triggers(session, only(project), read_function(session, FUNCTION))
    assert sorted(w.kind for w in status) == ["dynamodb", "kinesis", "s3", "schedule", "sns", "sqs", "url"]
    assert {w.alias for w in status} == {"dev"}
    url = next(w for w in status if w.kind == "url")
    assert str(url.detail).startswith("https://")
    assert next(w for w in status if w.kind == "s3").managed is True


def test_url_cors_is_translated_for_the_api() -> None:
    from lambdadeploy.triggers.registry import make_trigger

    cors = {"allow_methods": "GET", "AllowOrigins": ["b", "a"], "max_age": 0}
    assert make_trigger("url", {"cors": cors}).settings.cors == {"AllowMethods": ["GET"], "AllowOrigins": ["a", "b"]}
    assert make_trigger("url", {"cors": True}).settings.cors == {"AllowOrigins": ["*"]}


def test_push_twice_wires_each_trigger_once_to_the_alias_and_removal_unwires(
        session: AwsSession, sources: Sources, tmp_path: Path) -> None:
    from lambdadeploy.engine.deploy import Deployer

    triggers = f"""
        triggers:
          - s3: {{alias: dev, bucket: uploads, events: ["s3:ObjectCreated:*"], prefix: in/}}
          - sqs: {{alias: dev, queue: {sources.queue}, batch_size: 5}}
          - schedule: {{alias: dev, expression: "rate(5 minutes)"}}
    """
    project = write_project(tmp_path, "return event", triggers)
    first, second = (Deployer(session, project, lambda e: None).push(project.functions, "dev")[0] for _ in range(2))
    assert first.ok and second.ok, (first.error, second.error)
    assert {r.step.change.kind for r in first.done if isinstance(r.step, WireTrigger)} == {"s3", "sqs", "schedule"}
    assert not [r for r in second.done if isinstance(r.step, WireTrigger | SetPermission)]
    arn = alias_arn(session, "dev")
    s3 = session.client("s3").get_bucket_notification_configuration(Bucket="uploads")
    assert [c["LambdaFunctionArn"] for c in s3["LambdaFunctionConfigurations"]] == [arn]
    mappings = session.client("lambda").list_event_source_mappings(EventSourceArn=sources.queue)["EventSourceMappings"]
    assert len(mappings) == 1 and mappings[0]["BatchSize"] == 5
    rules = session.client("events").list_rule_names_by_target(TargetArn=arn)["RuleNames"]
    assert len(rules) == 1

    project = write_project(tmp_path, "return event")
    (removed,) = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    unwired = [r.step.change for r in removed.done if isinstance(r.step, WireTrigger | SetPermission)]
    assert removed.ok and unwired and all(change.action == "delete" for change in unwired)
    assert not session.client("s3").get_bucket_notification_configuration(Bucket="uploads").get(
        "LambdaFunctionConfigurations")
    assert session.client("lambda").list_event_source_mappings(EventSourceArn=sources.queue)["EventSourceMappings"] == []
    assert session.client("events").list_rule_names_by_target(TargetArn=arn)["RuleNames"] == []
