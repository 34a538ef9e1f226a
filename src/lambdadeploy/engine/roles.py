"""The project's execution role: read it, plan what it lacks (pure), apply the plan.

Functions without `role:` run as `PROJECT-lambda-exec` (iam/execution_role.py says
what it holds). Every push reads the role, its attached policies and its inline
policy, so a role left half-made by an interrupted first push is completed by the
next one; `plan` shows the same steps without writing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..aws import AwsCallError, AwsNotFound, AwsSession
from ..config.model import Project
from ..iam.execution_role import (
    TRIGGER_POLICY_NAME,
    TRUST_POLICY,
    basic_execution_policy,
    default_role_name,
    trigger_sources_policy,
    uses_default_role,
)
from .steps import AttachRolePolicy, CreateRole, DeleteRolePolicy, PutRolePolicy, RoleStep


@dataclass(frozen=True)
class RoleState:
    name: str
    exists: bool
    attached: frozenset[str] = frozenset()
    inline: Mapping[str, Any] | None = None  # the trigger-sources policy, if the role has it


def read_role(session: AwsSession, project: Project) -> RoleState | None:
    """The project's role as it is in IAM; None when no function uses it."""
    if not uses_default_role(project):
        return None
    iam = session.client("iam")
    name = default_role_name(project)
    try:
        iam.get_role(RoleName=name)
    except AwsNotFound:
        return RoleState(name, exists=False)
    attached = frozenset(p["PolicyArn"] for page in iam.pages("list_attached_role_policies", RoleName=name)
                         for p in page["AttachedPolicies"])
    try:
        document = iam.get_role_policy(RoleName=name, PolicyName=TRIGGER_POLICY_NAME)["PolicyDocument"]
        # boto3 decodes the URL-encoded JSON into a dict; some endpoints answer a string.
        inline = json.loads(document) if isinstance(document, str) else document
    except AwsNotFound:
        inline = None
    return RoleState(name, True, attached, inline)


def plan_role(project: Project, state: RoleState | None, partition: str) -> tuple[RoleStep, ...]:
    """The steps that make the role what the project needs (pure)."""
    if state is None:
        return ()
    steps: list[RoleStep] = []
    basic = basic_execution_policy(partition)
    if not state.exists:
        steps.append(CreateRole(state.name, TRUST_POLICY))
    if basic not in state.attached:
        steps.append(AttachRolePolicy(state.name, basic))
    wanted = trigger_sources_policy(project)
    if wanted != state.inline:
        if wanted is None:
            steps.append(DeleteRolePolicy(state.name, TRIGGER_POLICY_NAME))
        else:
            steps.append(PutRolePolicy(state.name, TRIGGER_POLICY_NAME, wanted, state.inline))
    return tuple(steps)


def apply_role_step(session: AwsSession, step: RoleStep) -> None:
    iam = session.client("iam")
    match step:
        case CreateRole(role=name, trust=trust):
            try:
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                                Description="Lambda execution role managed by lambdadeploy",
                                Tags=[{"Key": "managed-by", "Value": "lambdadeploy"}])
            except AwsCallError as error:
                if error.code != "EntityAlreadyExists":  # else another push created it first
                    raise
        case AttachRolePolicy(role=name, policy_arn=arn):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        case PutRolePolicy(role=name, policy_name=policy, document=document):
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
        case DeleteRolePolicy(role=name, policy_name=policy):
            with contextlib.suppress(AwsNotFound):
                iam.delete_role_policy(RoleName=name, PolicyName=policy)

