"""Execution roles against moto: created once and reused, with read access to the project's queues and streams."""

from __future__ import annotations

import json
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.roles import apply_role_step, plan_role, read_role
from lambdadeploy.engine.steps import AttachRolePolicy, CreateRole, DeleteRolePolicy, PutRolePolicy
from lambdadeploy.iam import execution_role as roles

from .conftest import write_project

ROLE = "t-lambda-exec"


def queue_arn(session: AwsSession, name: str) -> str:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def inline_policy(session: AwsSession) -> dict | None:
    iam = session.client("iam")
    if roles.TRIGGER_POLICY_NAME not in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
        return None
    document = iam.get_role_policy(RoleName=ROLE, PolicyName=roles.TRIGGER_POLICY_NAME)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


def role_plan(session: AwsSession, project) -> tuple:
    return plan_role(project, read_role(session, project), "aws")


def apply(session: AwsSession, steps: tuple) -> None:
    for step in steps:
        apply_role_step(session, step)


def allowed(policy: dict, action: str, resource: str) -> bool:
    return any(action in s["Action"] and resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
               for s in policy["Statement"])


def test_push_creates_the_role_once_and_it_can_read_the_queue(session: AwsSession, tmp_path: Path) -> None:
    queue = queue_arn(session, "jobs")
    project = write_project(tmp_path, "return 1", f'triggers: [{{sqs: {{queue: "{queue}", alias: dev}}}}]', functions=("a", "b"))
    results = Deployer(session, project, [].append).push(project.functions, "dev", skip_smoke=True)
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r["RoleName"] for r in session.client("iam").list_roles()["Roles"]].count(ROLE) == 1
    for fn in ("t-a", "t-b"):
        role = session.client("lambda").get_function(FunctionName=fn)["Configuration"]["Role"]
        assert role == f"arn:aws:iam::{session.account_id()}:role/{ROLE}"
    policy = inline_policy(session)
    assert policy is not None
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert allowed(policy, action, queue)
    attached = session.client("iam").list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [roles.basic_execution_policy("aws")]
    # Reused, not re-created, by the next push: nothing left to do.
    assert role_plan(session, project) == ()


def test_inline_policy_follows_the_triggers(session: AwsSession, tmp_path: Path) -> None:
    queue = queue_arn(session, "jobs")
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
    project = write_project(tmp_path, "return 1", f'triggers: [{{sqs: {{queue: "{queue}", alias: dev}}}}]')
    steps = role_plan(session, project)
    assert [type(s) for s in steps] == [CreateRole, AttachRolePolicy, PutRolePolicy]
    apply(session, steps)
    assert role_plan(session, project) == ()

    project = write_project(tmp_path, "return 1", f"""
    triggers:
      - kinesis: {{alias: dev, stream: "{stream}"}}
      - dynamodb: {{alias: dev, stream: "{table}"}}
    """)
    (update,) = role_plan(session, project)
    assert isinstance(update, PutRolePolicy) and update.old is not None
    apply(session, (update,))
    policy = inline_policy(session)
    assert policy is not None
    assert not allowed(policy, "sqs:ReceiveMessage", queue)
    for action in ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                   "kinesis:DescribeStreamSummary", "kinesis:ListShards"):
        assert allowed(policy, action, stream)
    for action in ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"):
        assert allowed(policy, action, table)
    assert allowed(policy, "dynamodb:ListStreams", "*") and allowed(policy, "kinesis:ListStreams", "*")

    project = write_project(tmp_path, "return 1", "triggers: [{schedule: {expression: rate(1 hour), alias: dev}}]")
    assert role_plan(session, project) == (DeleteRolePolicy(ROLE, roles.TRIGGER_POLICY_NAME),)
    apply(session, role_plan(session, project))
    assert inline_policy(session) is None
    assert role_plan(session, project) == ()


def test_named_role_is_used_as_is_and_gets_nothing(session: AwsSession, tmp_path: Path) -> None:
    queue = queue_arn(session, "jobs")
    project = write_project(tmp_path, "return 1", f'role: my-role\ntriggers: [{{sqs: {{queue: "{queue}", alias: dev}}}}]')
    (fn,) = project.functions
    assert roles.function_role_arn(project, fn, session.account_id(), "aws") == (
        f"arn:aws:iam::{session.account_id()}:role/my-role")
    assert not roles.uses_default_role(project)
    assert roles.trigger_sources_policy(project) is None
    assert read_role(session, project) is None and role_plan(session, project) == ()
    arn = "arn:aws:iam::210987654321:role/path/other"
    project = write_project(tmp_path, "return 1", f"role: {arn}")
    assert roles.function_role_arn(project, project.functions[0], session.account_id(), "aws") == arn
