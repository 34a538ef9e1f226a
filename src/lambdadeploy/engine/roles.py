"""The execution roles the tool manages: read them, plan what they lack (pure), apply the plan.

Functions without `role:` run as `PROJECT-lambda-exec`, and a function with `policies:` as
`PROJECT-FUNCTION-exec` (iam/execution_role.py says what each holds). Every push reads each
role, its attached policies and its inline policies, so a role left half-made by an
interrupted first push is completed by the next one; `plan` shows the same steps without
writing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws import AwsCallError, AwsNotFound, AwsSession
from ..config.model import Project
from ..iam.execution_role import (
    INLINE_POLICY_NAMES,
    SETTING_POLICY_NAMES,
    TRIGGER_POLICY_NAME,
    TRUST_POLICY,
    RoleSpec,
    default_role_functions,
    default_role_name,
    function_role_name,
    managed_policy,
    managed_roles,
    own_role_functions,
    role_spec,
    uses_default_role,
)
from .steps import (
    AttachRolePolicy,
    CreateRole,
    DeleteRolePolicy,
    DetachRolePolicy,
    PutRolePolicy,
    RoleStep,
)


@dataclass(frozen=True)
class RoleState:
    name: str
    exists: bool
    attached: frozenset[str] = frozenset()
    inline: Mapping[str, Any] | None = None  # the trigger-sources policy, if the role has it
    # The tool's other inline policies the role has (settings, the function's own policies), by name.
    policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def policy(self, name: str) -> Mapping[str, Any] | None:
        return self.inline if name == TRIGGER_POLICY_NAME else self.policies.get(name)


def read_role(session: AwsSession, project: Project) -> RoleState | None:
    """The project's role as it is in IAM; None when no function uses it."""
    if not uses_default_role(project):
        return None
    return read_role_named(session, default_role_name(project))


def read_function_roles(session: AwsSession, project: Project) -> tuple[RoleState, ...]:
    """The roles of the functions with `policies:`, as they are in IAM."""
    return tuple(read_role_named(session, function_role_name(project, fn)) for fn in own_role_functions(project))


def read_role_named(session: AwsSession, name: str) -> RoleState:
    """GetRole, ListAttachedRolePolicies, ListRolePolicies, and GetRolePolicy for each of the tool's."""
    iam = session.client("iam")
    try:
        iam.get_role(RoleName=name)
    except AwsNotFound:
        return RoleState(name, exists=False)
    attached = frozenset(p["PolicyArn"] for page in iam.pages("list_attached_role_policies", RoleName=name)
                         for p in page["AttachedPolicies"])
    present = {n for page in iam.pages("list_role_policies", RoleName=name) for n in page["PolicyNames"]}
    documents: dict[str, Mapping[str, Any]] = {}
    for policy in INLINE_POLICY_NAMES:
        if policy not in present:
            continue
        try:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        except AwsNotFound:
            continue
        # boto3 decodes the URL-encoded JSON into a dict; some endpoints answer a string.
        documents[policy] = json.loads(document) if isinstance(document, str) else document
    return RoleState(name, True, attached, documents.pop(TRIGGER_POLICY_NAME, None), documents)


def plan_role(project: Project, state: RoleState | None, partition: str) -> tuple[RoleStep, ...]:
    """The steps that make the project's role what its functions need (pure)."""
    if state is None:
        return ()
    return plan_role_spec(role_spec(state.name, default_role_functions(project), partition), state, partition)


def plan_function_roles(project: Project, states: tuple[RoleState, ...], partition: str) -> tuple[RoleStep, ...]:
    """The steps that make each function's own role what it needs (pure)."""
    specs = {spec.name: spec for spec in managed_roles(project, partition)}
    return tuple(step for state in states for step in plan_role_spec(specs[state.name], state, partition))


def plan_role_spec(spec: RoleSpec, state: RoleState, partition: str) -> tuple[RoleStep, ...]:
    """Create the role, attach what it lacks, detach the setting policies no function needs any
    more (never a policy someone else attached), and keep each inline policy in step."""
    steps: list[RoleStep] = []
    if not state.exists:
        steps.append(CreateRole(state.name, TRUST_POLICY))
    steps += [AttachRolePolicy(state.name, arn) for arn in spec.managed if arn not in state.attached]
    steps += [DetachRolePolicy(state.name, arn) for arn in (managed_policy(n, partition) for n in SETTING_POLICY_NAMES)
              if arn in state.attached and arn not in spec.managed]
    for name in INLINE_POLICY_NAMES:
        wanted, have = spec.inline.get(name), state.policy(name)
        if wanted == have:
            continue
        if wanted is None:
            steps.append(DeleteRolePolicy(state.name, name))
        else:
            steps.append(PutRolePolicy(state.name, name, wanted, have))
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
        case DetachRolePolicy(role=name, policy_arn=arn):
            with contextlib.suppress(AwsNotFound):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        case PutRolePolicy(role=name, policy_name=policy, document=document):
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
        case DeleteRolePolicy(role=name, policy_name=policy):
            with contextlib.suppress(AwsNotFound):
                iam.delete_role_policy(RoleName=name, PolicyName=policy)

