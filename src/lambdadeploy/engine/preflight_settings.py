"""Pre-flight of the function settings: what only IAM's state reveals.

A function in a VPC needs its execution role to manage network interfaces; AWS refuses the
VPC configuration otherwise ("The provided execution role does not have permissions to call
CreateNetworkInterface on EC2"). The roles the tool manages get AWS's VPC access policy
(iam/execution_role.py); a role named with `role:` is read, and `plan` warns when neither
that policy nor an inline statement gives the access.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..aws import AwsCallError, AwsNotFound, AwsSession
from ..config.model import FunctionConfig, Project
from ..iam.execution_role import VPC_ACCESS_POLICY_NAME, role_arn_for
from .report import Finding

ENI_MANAGEMENT_POLICY_NAME = "service-role/AWSLambdaENIManagementAccess"
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface")


def check_vpc_roles(session: AwsSession, project: Project, functions: Sequence[FunctionConfig]) -> list[Finding]:
    """A warning per function in a VPC whose own role (`role:`, this account) lacks VPC access."""
    account = session.account_id()
    by_role: dict[str, list[FunctionConfig]] = {}
    for fn in functions:
        if fn.settings.vpc and fn.role:
            arn = role_arn_for(fn.role, account, session.partition)
            if arn.split(":")[4] == account:  # a role in another account cannot be read from here
                by_role.setdefault(arn.rpartition("/")[2], []).append(fn)
    findings = []
    for role, users in sorted(by_role.items()):
        try:
            allowed = role_allows_vpc(session, role)
        except AwsCallError as error:
            findings += [Finding(fn.name, f"could not check that role {role} may create network interfaces for "
                                          f"the VPC ({error.code or error})", level="warning") for fn in users]
            continue
        if not allowed:
            findings += [Finding(fn.name, f"role {role} lacks VPC access: neither {VPC_ACCESS_POLICY_NAME} nor "
                                          "an inline policy allows ec2:CreateNetworkInterface, so AWS will refuse "
                                          "the function's VPC configuration",
                                 f"attach arn:{session.partition}:iam::aws:policy/{VPC_ACCESS_POLICY_NAME} to "
                                 f"{role}, or leave out `role:` (the tool's role gets it)", "warning")
                         for fn in users]
    return findings


def role_allows_vpc(session: AwsSession, role: str) -> bool:
    """Whether the role has AWS's VPC (or ENI) access policy, or an inline statement allowing the actions."""
    iam = session.client("iam")
    try:
        attached = {p["PolicyArn"].split(":policy/", 1)[-1] for page in iam.pages("list_attached_role_policies",
                                                                                  RoleName=role)
                    for p in page["AttachedPolicies"]}
    except AwsNotFound:
        return True  # no such role: CreateFunction says so itself, plainly
    if attached & {VPC_ACCESS_POLICY_NAME, ENI_MANAGEMENT_POLICY_NAME}:
        return True
    for page in iam.pages("list_role_policies", RoleName=role):
        for name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            if allows_all(json.loads(document) if isinstance(document, str) else document, VPC_ACTIONS):
                return True
    return False


def allows_all(document: Mapping[str, Any], actions: Iterable[str]) -> bool:
    """Whether Allow statements of the policy document name every action (wildcards count)."""
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = []
    for statement in statements:
        if statement.get("Effect") == "Allow":
            names = statement.get("Action") or []
            allowed += [names] if isinstance(names, str) else list(names)
    return all(any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in allowed) for action in actions)
