"""Execution roles: resolve `role:` to an ARN, or create/reuse the project's basic role."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from .aws import AwsSession
from .model import FunctionConfig, Project

BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def default_role_name(project: Project) -> str:
    """One execution role per project, named so a person recognises who made it."""
    return f"{project.project or 'lambdadeploy'}-lambda-exec"[:64]


def role_arn(session: AwsSession, project: Project, fn: FunctionConfig) -> str:
    """The ARN the function runs as; computed without writing anything (plan uses it too)."""
    name = fn.role or default_role_name(project)
    if name.startswith("arn:"):
        return name
    return f"arn:aws:iam::{session.account_id()}:role/{name}"


def ensure_default_role(session: AwsSession, project: Project) -> bool:
    """Create the project's basic execution role unless it exists. True when it was created
    (a new role takes a few seconds to become assumable by Lambda; create_function retries)."""
    iam = session.client("iam")
    name = default_role_name(project)
    try:
        iam.get_role(RoleName=name)
        return False
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
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
