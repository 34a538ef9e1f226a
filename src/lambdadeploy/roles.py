"""Execution roles: resolve `role:` to an ARN, or create/reuse the project's basic role.

The project's role (used by every function without `role:`) gets AWS's basic logging
policy plus one inline policy, `lambdadeploy-trigger-sources`, with the read access
Lambda needs to poll the project's SQS queues and DynamoDB/Kinesis streams. The inline
policy is rewritten whenever those triggers change, and removed when none are left.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from .aws import AwsSession, partition_of
from .model import FunctionConfig, Project

BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRIGGER_POLICY_NAME = "lambdadeploy-trigger-sources"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# What Lambda's poller needs, per event source kind (AWS's managed *ExecutionRole policies, scoped).
SOURCE_ACTIONS = {
    "sqs": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
    "dynamodb": ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"],
    "kinesis": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary", "kinesis:ListShards"],
}
# ListStreams names no stream, so IAM only matches it against Resource "*".
LIST_ACTIONS = {"dynamodb": "dynamodb:ListStreams", "kinesis": "kinesis:ListStreams"}


def default_role_name(project: Project) -> str:
    """One execution role per project, named so a person recognises who made it."""
    return f"{project.project or 'lambdadeploy'}-lambda-exec"[:64]


def uses_default_role(project: Project) -> bool:
    return any(fn.role is None for fn in project.functions)


def role_arn(session: AwsSession, project: Project, fn: FunctionConfig) -> str:
    """The ARN the function runs as; computed without writing anything (plan uses it too)."""
    return role_arn_for(fn.role or default_role_name(project), session.account_id(), partition_of(session.region))


def role_arn_for(role: str, account_id: str, partition: str = "aws") -> str:
    """`role:` as an ARN: an ARN is used as is, a name (or path/name) is in this account."""
    if role.startswith("arn:"):
        return role
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def trigger_sources_policy(project: Project) -> dict[str, Any] | None:
    """The inline policy the default role needs for its functions' queues and streams (None: none needed)."""
    sources: dict[str, set[str]] = {kind: set() for kind in SOURCE_ACTIONS}
    for fn in project.functions:
        if fn.role is not None:
            continue  # a role the user names is the user's to grant
        for trigger in fn.triggers:
            if trigger.kind in SOURCE_ACTIONS:
                sources[trigger.kind].add(str(trigger.settings.get("queue") or trigger.settings["stream"]))
    statements: list[dict[str, Any]] = []
    for kind, arns in sources.items():
        if arns:
            statements.append({"Sid": f"Read{kind.capitalize()}", "Effect": "Allow",
                               "Action": SOURCE_ACTIONS[kind], "Resource": sorted(arns)})
    listing = sorted(LIST_ACTIONS[kind] for kind in LIST_ACTIONS if sources[kind])
    if listing:
        statements.append({"Sid": "ListStreams", "Effect": "Allow", "Action": listing, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def ensure_default_role(session: AwsSession, project: Project) -> bool:
    """Create the project's basic execution role unless it exists, and bring its trigger-sources
    policy up to date. True when the role was created (a new role takes a few seconds to become
    assumable by Lambda; create_function retries)."""
    created, _ = _reconcile_default_role(session, project, apply=True)
    return created


def default_role_changes(session: AwsSession, project: Project) -> list[str]:
    """What ensure_default_role would change, reading only (for `plan`)."""
    if not uses_default_role(project):
        return []
    return _reconcile_default_role(session, project, apply=False)[1]


def _reconcile_default_role(session: AwsSession, project: Project, *, apply: bool) -> tuple[bool, list[str]]:
    """Read the role and its inline policy, compare with what the project needs, and (with
    apply) make it so: (whether this call created the role, the changes in words)."""
    iam = session.client("iam")
    name = default_role_name(project)
    wanted = trigger_sources_policy(project)
    changes: list[str] = []
    created = False
    try:
        iam.get_role(RoleName=name)
        current = _inline_policy(iam, name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        changes.append(f"create execution role {name}")
        created = apply and _create_role(iam, name)
        current = None
    if current != wanted:
        if wanted is None:
            changes.append(f"role {name}: remove {TRIGGER_POLICY_NAME}")
        elif current is None and changes:
            changes.append(f"role {name}: allow reading trigger sources")
        else:
            changes.append(f"role {name}: update {TRIGGER_POLICY_NAME} (read access to queues and streams)")
        if apply:
            _put_inline_policy(iam, name, wanted)
    return created, changes


def _create_role(iam: Any, name: str) -> bool:
    try:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="Lambda execution role managed by lambdadeploy",
            Tags=[{"Key": "managed-by", "Value": "lambdadeploy"}],
        )
    except ClientError as error:
        # Another function of this push (or another push) created it first.
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        return False
    iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION_POLICY)
    return True


def _inline_policy(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        document = iam.get_role_policy(RoleName=name, PolicyName=TRIGGER_POLICY_NAME)["PolicyDocument"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        return None
    # boto3 decodes the URL-encoded JSON into a dict; some endpoints answer a string.
    return json.loads(document) if isinstance(document, str) else document


def _put_inline_policy(iam: Any, name: str, wanted: dict[str, Any] | None) -> None:
    if wanted is None:
        iam.delete_role_policy(RoleName=name, PolicyName=TRIGGER_POLICY_NAME)
    else:
        iam.put_role_policy(RoleName=name, PolicyName=TRIGGER_POLICY_NAME, PolicyDocument=json.dumps(wanted))
