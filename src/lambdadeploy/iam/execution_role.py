"""The project's execution role as documents (pure): its name, trust, and what it may read.

Functions without `role:` run as `PROJECT-lambda-exec`: AWS's basic logging policy plus
one inline policy, `lambdadeploy-trigger-sources`, with the read access Lambda's poller
needs for the project's queue and stream triggers (each kind says which actions). The
engine reads the role, plans the difference (engine/roles.py) and applies it; the SAM
export writes the same documents.
"""

from __future__ import annotations

from typing import Any

from ..config.model import FunctionConfig, Project
from ..triggers import registry

BASIC_EXECUTION_POLICY_NAME = "service-role/AWSLambdaBasicExecutionRole"
TRIGGER_POLICY_NAME = "lambdadeploy-trigger-sources"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def basic_execution_policy(partition: str = "aws") -> str:
    """AWS's managed logging policy, in the partition of the region (aws, aws-cn, aws-us-gov)."""
    return f"arn:{partition}:iam::aws:policy/{BASIC_EXECUTION_POLICY_NAME}"


def default_role_name(project: Project) -> str:
    """One execution role per project, named so a person recognises who made it."""
    return f"{project.project or 'lambdadeploy'}-lambda-exec"[:64]


def uses_default_role(project: Project) -> bool:
    return any(fn.role is None for fn in project.functions)


def role_arn_for(role: str, account_id: str, partition: str = "aws") -> str:
    """`role:` as an ARN: an ARN is used as is, a name (or path/name) is in this account."""
    if role.startswith("arn:"):
        return role
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def function_role_arn(project: Project, fn: FunctionConfig, account_id: str, partition: str) -> str:
    """The ARN the function runs as."""
    return role_arn_for(fn.role or default_role_name(project), account_id, partition)


def trigger_sources_policy(project: Project) -> dict[str, Any] | None:
    """The inline policy the default role needs for its functions' event sources (None: none needed)."""
    statements: list[dict[str, Any]] = []
    listing: set[str] = set()  # account-wide listings: IAM matches them only against "*"
    for kind in registry.kinds():
        triggers = [t for fn in project.functions if fn.role is None for t in fn.triggers if t.kind == kind.name]
        for actions, resources in kind.execution_role_actions(triggers):
            if resources == ("*",):
                listing.update(actions)
            else:
                statements.append({"Sid": f"Read{kind.name.capitalize()}", "Effect": "Allow",
                                   "Action": list(actions), "Resource": sorted(resources)})
    if listing:
        statements.append({"Sid": "ListStreams", "Effect": "Allow", "Action": sorted(listing), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None
