"""The execution roles the tool manages, as documents (pure): names, trust, what they may do.

Functions without `role:` run as `PROJECT-lambda-exec`: AWS's basic logging policy plus
one inline policy, `lambdadeploy-trigger-sources`, with the read access Lambda's poller
needs for the project's queue and stream triggers (each kind says which actions). A
function with `policies:` (and no `role:`) gets a role of its own, `PROJECT-FUNCTION-exec`,
built the same way for that function alone, plus `lambdadeploy-function-policies` with its
statements. What the functions' settings need goes on their role too (`role_spec`): AWS's
VPC access policy for `vpc:`, X-Ray's write policy for `tracing: active`, and an inline
`lambdadeploy-function-settings` that lets Lambda send to the dead-letter queue and the
asynchronous destinations and mount the file system. The engine reads each role, plans
the difference (engine/roles.py) and applies it; the SAM export writes the same documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..awsrules.lambda_settings import arn_service
from ..config.model import FunctionConfig, Project
from ..triggers import registry

BASIC_EXECUTION_POLICY_NAME = "service-role/AWSLambdaBasicExecutionRole"
TRIGGER_POLICY_NAME = "lambdadeploy-trigger-sources"
SETTINGS_POLICY_NAME = "lambdadeploy-function-settings"
FUNCTION_POLICY_NAME = "lambdadeploy-function-policies"
INLINE_POLICY_NAMES = (TRIGGER_POLICY_NAME, SETTINGS_POLICY_NAME, FUNCTION_POLICY_NAME)
VPC_ACCESS_POLICY_NAME = "service-role/AWSLambdaVPCAccessExecutionRole"
XRAY_WRITE_POLICY_NAME = "AWSXRayDaemonWriteAccess"
# Managed policies the tool attaches for a setting, and so detaches when no function needs it.
SETTING_POLICY_NAMES = (VPC_ACCESS_POLICY_NAME, XRAY_WRITE_POLICY_NAME)
# What Lambda itself does with the role for each destination service (send, publish, invoke...).
DESTINATION_ACTIONS = {"sqs": ("sqs:SendMessage",), "sns": ("sns:Publish",), "lambda": ("lambda:InvokeFunction",),
                       "events": ("events:PutEvents",), "s3": ("s3:PutObject", "s3:ListBucket")}
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def basic_execution_policy(partition: str = "aws") -> str:
    """AWS's managed logging policy, in the partition of the region (aws, aws-cn, aws-us-gov)."""
    return managed_policy(BASIC_EXECUTION_POLICY_NAME, partition)


def managed_policy(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def default_role_name(project: Project) -> str:
    """One execution role per project, named so a person recognises who made it."""
    return f"{project.project or 'lambdadeploy'}-lambda-exec"[:64]


def uses_default_role(project: Project) -> bool:
    return bool(default_role_functions(project))


def default_role_functions(project: Project) -> tuple[FunctionConfig, ...]:
    """The functions that run as the project's role: no `role:`, no `policies:` of their own."""
    return tuple(fn for fn in project.functions if fn.role is None and not fn.settings.policies)


def own_role_functions(project: Project) -> tuple[FunctionConfig, ...]:
    """The functions with `policies:` and no `role:`: each runs as a role of its own."""
    return tuple(fn for fn in project.functions if fn.role is None and fn.settings.policies)


def function_role_name(project: Project, fn: FunctionConfig) -> str:
    """A function's own role (`policies:`), named after the project and the function."""
    return f"{project.project or 'lambdadeploy'}-{fn.key}-exec"[:64]


def role_arn_for(role: str, account_id: str, partition: str = "aws") -> str:
    """`role:` as an ARN: an ARN is used as is, a name (or path/name) is in this account."""
    if role.startswith("arn:"):
        return role
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def function_role_arn(project: Project, fn: FunctionConfig, account_id: str, partition: str) -> str:
    """The ARN the function runs as."""
    return role_arn_for(role_name_of(project, fn), account_id, partition)


def role_name_of(project: Project, fn: FunctionConfig) -> str:
    """`role:` as written, else the function's own role (with `policies:`), else the project's."""
    if fn.role:
        return fn.role
    return function_role_name(project, fn) if fn.settings.policies else default_role_name(project)


def trigger_sources_policy(project: Project) -> dict[str, Any] | None:
    """The inline policy the default role needs for its functions' event sources (None: none needed)."""
    return trigger_sources_for(default_role_functions(project))


def trigger_sources_for(functions: Iterable[FunctionConfig]) -> dict[str, Any] | None:
    """The read access Lambda's poller needs for these functions' event sources (None: none needed)."""
    functions = tuple(functions)
    statements: list[dict[str, Any]] = []
    listing: set[str] = set()  # account-wide listings: IAM matches them only against "*"
    for kind in registry.kinds():
        triggers = [t for fn in functions for t in fn.triggers if t.kind == kind.name]
        for actions, resources in kind.execution_role_actions(triggers):
            if resources == ("*",):
                listing.update(actions)
            else:
                statements.append({"Sid": f"Read{kind.name.capitalize()}", "Effect": "Allow",
                                   "Action": list(actions), "Resource": sorted(resources)})
    if listing:
        statements.append({"Sid": "ListStreams", "Effect": "Allow", "Action": sorted(listing), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def settings_policy(functions: Iterable[FunctionConfig]) -> dict[str, Any] | None:
    """What Lambda does as the role for these functions' settings: send failed events to the dead
    letter queue, deliver to asynchronous destinations, mount the file system (None: nothing)."""
    functions = tuple(functions)
    actions: dict[str, set[str]] = {}  # ARN -> actions
    for fn in functions:
        settings = fn.settings
        targets = [settings.dead_letter] if settings.dead_letter else []
        if settings.async_invoke:
            targets += [arn for arn in (settings.async_invoke.on_success, settings.async_invoke.on_failure) if arn]
        for arn in targets:
            actions.setdefault(arn, set()).update(DESTINATION_ACTIONS.get(arn_service(arn) or "", ()))
    statements: list[dict[str, Any]] = []
    for action in sorted({a for wanted in actions.values() for a in wanted}):
        resources = sorted(arn for arn, wanted in actions.items() if action in wanted)
        if action == "s3:PutObject":
            resources = [f"{arn}/*" for arn in resources]
        statements.append({"Effect": "Allow", "Action": action, "Resource": resources})
    access_points = sorted({fn.settings.file_system.arn for fn in functions if fn.settings.file_system})
    if access_points:
        # EFS authorises mounts on the file system, not the access point: narrowed by a condition.
        statements.append({"Effect": "Allow", "Action": ["elasticfilesystem:ClientMount",
                                                         "elasticfilesystem:ClientWrite"], "Resource": "*",
                           "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": access_points}}})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


@dataclass(frozen=True)
class RoleSpec:
    """What one managed role must hold: the managed policies attached, the inline policies by name."""

    name: str
    functions: tuple[FunctionConfig, ...]
    managed: tuple[str, ...]
    inline: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def role_spec(name: str, functions: tuple[FunctionConfig, ...], partition: str = "aws") -> RoleSpec:
    managed = [basic_execution_policy(partition)]
    if any(fn.settings.vpc for fn in functions):
        managed.append(managed_policy(VPC_ACCESS_POLICY_NAME, partition))
    if any(fn.settings.tracing == "active" for fn in functions):
        managed.append(managed_policy(XRAY_WRITE_POLICY_NAME, partition))
    inline: dict[str, Mapping[str, Any]] = {}
    if (sources := trigger_sources_for(functions)) is not None:
        inline[TRIGGER_POLICY_NAME] = sources
    if (settings := settings_policy(functions)) is not None:
        inline[SETTINGS_POLICY_NAME] = settings
    own = [dict(statement) for fn in functions for statement in fn.settings.policies]
    if own:
        inline[FUNCTION_POLICY_NAME] = {"Version": "2012-10-17", "Statement": own}
    return RoleSpec(name, functions, tuple(managed), inline)


def managed_roles(project: Project, partition: str = "aws") -> tuple[RoleSpec, ...]:
    """Every role the tool keeps for this project: the project's (when used), then each function's own."""
    specs = []
    if (default := default_role_functions(project)):
        specs.append(role_spec(default_role_name(project), default, partition))
    specs += [role_spec(function_role_name(project, fn), (fn,), partition) for fn in own_role_functions(project)]
    return tuple(specs)
