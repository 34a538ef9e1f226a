"""Trigger and role planning is pure: observations in, steps out, no AWS at all."""

from __future__ import annotations

from lambdadeploy.config.model import Project
from lambdadeploy.engine.roles import RoleState, plan_role
from lambdadeploy.engine.steps import AttachRolePolicy, CreateRole, DeleteRolePolicy, PutRolePolicy
from lambdadeploy.iam.execution_role import (
    TRIGGER_POLICY_NAME,
    basic_execution_policy,
    trigger_sources_policy,
)
from lambdadeploy.triggers.base import Target
from lambdadeploy.triggers.mappings import MappingState
from lambdadeploy.triggers.permissions import plan_grants
from lambdadeploy.triggers.registry import kind, make_trigger
from lambdadeploy.triggers.s3 import BucketState, notification_config
from lambdadeploy.triggers.schedule import RuleState, rule_name
from lambdadeploy.triggers.sns import TopicState
from lambdadeploy.triggers.url import UrlState

from .test_policy import function, project

TARGET = Target("shop-resize", "dev", "arn:aws:lambda:us-east-1:123456789012:function:shop-resize:dev", True)
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
TOPIC = "arn:aws:sns:us-east-1:123456789012:thumbs"


def actions(steps: list) -> list[tuple[str, str]]:
    return [(s.action, s.resource) for s in steps]


def test_s3_creates_updates_and_removes_only_its_own_notifications() -> None:
    s3 = kind("s3")
    wanted = make_trigger("s3", {"bucket": "uploads", "prefix": "in/"})
    assert actions(s3.plan(TARGET, [wanted], {"uploads": BucketState(True, {})})) == [("create", "bucket uploads")]
    config = notification_config(TARGET, wanted)
    assert s3.plan(TARGET, [wanted], {"uploads": BucketState(True, {config["Id"]: config})}) == []
    changed = {**config, "Events": ["s3:ObjectRemoved:*"]}
    (update,) = s3.plan(TARGET, [wanted], {"uploads": BucketState(True, {config["Id"]: changed})})
    assert update.action == "update" and [c.field for c in update.changes] == ["events"]
    # A bucket wired before and no longer configured: our entry goes; a bucket that is gone is skipped.
    assert actions(s3.plan(TARGET, [], {"old": BucketState(True, {config["Id"]: config}),
                                        "gone": BucketState(False, {})})) == [("delete", "bucket old")]


def test_sqs_mapping_is_created_updated_in_place_and_removed() -> None:
    sqs = kind("sqs")
    trigger = make_trigger("sqs", {"queue": QUEUE, "batch_size": 5})
    (create,) = sqs.plan(TARGET, [trigger], MappingState())
    assert create.action == "create" and create.params["BatchSize"] == 5 and create.params["EventSourceArn"] == QUEUE
    mapping = {"UUID": "u-1", "EventSourceArn": QUEUE, "BatchSize": 10, "State": "Enabled",
               "MaximumBatchingWindowInSeconds": 0}
    (update,) = sqs.plan(TARGET, [trigger], MappingState((mapping,)))
    assert update.params == {"UUID": "u-1", "BatchSize": 5}
    assert [(c.field, c.old, c.new) for c in update.changes] == [("BatchSize", 10, 5)]
    (delete,) = sqs.plan(TARGET, [], MappingState((mapping,)))
    assert (delete.action, delete.params) == ("delete", {"UUID": "u-1"})


def test_sns_subscribes_changes_the_filter_and_unsubscribes() -> None:
    sns = kind("sns")
    trigger = make_trigger("sns", {"topic": TOPIC, "filter_policy": {"kind": ["a"]}})
    assert actions(sns.plan(TARGET, [trigger], {TOPIC: TopicState(True)})) == [("create", "topic thumbs")]
    (update,) = sns.plan(TARGET, [trigger], {TOPIC: TopicState(True, (("sub-1", None),))})
    assert update.params == {"subscription": "sub-1", "filter_policy": {"kind": ["a"]}, "topic": TOPIC}
    assert sns.plan(TARGET, [trigger], {TOPIC: TopicState(True, (("sub-1", {"kind": ["a"]}),))}) == []
    assert actions(sns.plan(TARGET, [], {TOPIC: TopicState(True, (("sub-1", None),))})) == [("delete", "topic thumbs")]


def test_schedule_rule_is_named_for_its_expression_and_input() -> None:
    schedule = kind("schedule")
    trigger = make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"x": 1}})
    name = rule_name(TARGET, trigger)
    assert name.startswith("lambdadeploy-shop-resize-dev-") and len(name) <= 64
    (create,) = schedule.plan(TARGET, [trigger], {})
    assert create.params["target"] == {"Id": "lambdadeploy", "Arn": TARGET.arn, "Input": '{"x":1}'}
    rule = {**create.params["rule"]}
    assert schedule.plan(TARGET, [trigger], {name: RuleState(rule, (create.params["target"],))}) == []
    disabled = make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"x": 1}, "enabled": False})
    (update,) = schedule.plan(TARGET, [disabled], {name: RuleState(rule, (create.params["target"],))})
    assert [(c.field, c.old, c.new) for c in update.changes] == [("State", "ENABLED", "DISABLED")]
    assert actions(schedule.plan(TARGET, [], {name: RuleState(rule, ())})) == [("delete", f"rule {name}")]


def test_url_auth_change_is_an_update_and_public_urls_need_two_statements() -> None:
    url = kind("url")
    public = make_trigger("url", {"auth": "NONE"})
    (update,) = url.plan(TARGET, [make_trigger("url", {"auth": "AWS_IAM"})],
                         UrlState({"AuthType": "NONE", "FunctionUrl": "https://x"}))
    assert [(c.field, c.old, c.new) for c in update.changes] == [("AuthType", "NONE", "AWS_IAM")]
    grants = url.grants(TARGET, [public])
    assert sorted(g.action for g in grants) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    add, remove = plan_grants(TARGET, grants, {})
    assert len(add) == 2 and remove == []
    add, remove = plan_grants(TARGET, [], {g.sid: {"Sid": g.sid, "Principal": "*"} for g in grants})
    assert add == [] and sorted(r.sid for r in remove) == sorted(g.sid for g in grants)


def test_the_role_is_planned_from_what_iam_holds() -> None:
    queue_fn = function("resize", triggers=(make_trigger("sqs", {"queue": QUEUE}),))
    needs_queue: Project = project(queue_fn)
    name = "shop-lambda-exec"
    basic = basic_execution_policy("aws")
    assert [type(s) for s in plan_role(needs_queue, RoleState(name, False), "aws")] == [
        CreateRole, AttachRolePolicy, PutRolePolicy]
    # A role an interrupted first push left without its logging policy gets it on the next push.
    wanted = trigger_sources_policy(needs_queue)
    assert plan_role(needs_queue, RoleState(name, True, frozenset(), wanted), "aws") == (
        AttachRolePolicy(name, basic),)
    assert plan_role(needs_queue, RoleState(name, True, frozenset({basic}), wanted), "aws") == ()
    plain = project(function("resize"))
    assert plan_role(plain, RoleState(name, True, frozenset({basic}), wanted), "aws") == (
        DeleteRolePolicy(name, TRIGGER_POLICY_NAME),)
    # The managed policy's ARN follows the region's partition.
    assert plan_role(plain, RoleState(name, False), "aws-cn")[1] == AttachRolePolicy(
        name, "arn:aws-cn:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert plan_role(project(function("resize", role="arn:aws:iam::1:role/x")), None, "aws") == ()
