"""The least-privilege IAM policy a CI user needs to run push, promote and rollback for a config.

Pure: built from the Project alone (plus account and region), so `lambdadeploy policy`
needs no AWS call beyond the account id. Every statement names specific actions; the
resources are the config's functions (`function:NAME` and `function:NAME:*`, which
covers versions and aliases), its execution role(s), its buckets, topics and the
tool's own schedule rules. A few actions cannot be scoped by resource in IAM and use
Resource "*", each narrowed by a condition where IAM offers one:

- sts:GetCallerIdentity, lambda:ListEventSourceMappings, events:ListRules: reads;
- cloudwatch:GetMetricStatistics, cloudwatch:DescribeAlarms: a watched canary's metrics and alarms;
- lambda:Create/Update/DeleteEventSourceMapping: condition lambda:FunctionArn;
- sns:Unsubscribe, sns:Get/SetSubscriptionAttributes: SNS has no resource type for them.

Removing a trigger: the push that removes it cleans up with the permissions of the old
config (the old bucket or topic is in the policy). Update the CI user's policy after
that push, not before.
"""

from __future__ import annotations

from typing import Any

from ..aws import partition_of
from ..config.model import Project
from ..triggers import registry
from ..triggers.base import PolicyScope
from .ci_settings import settings_statements
from .execution_role import (
    default_role_name,
    own_role_functions,
    role_arn_for,
    role_name_of,
    uses_default_role,
)

# Read and deploy a function, its versions and aliases (push, plan, promote, rollback, smoke).
DEPLOY_ACTIONS = [
    "lambda:CreateAlias",
    "lambda:CreateFunction",
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:InvokeFunction",
    "lambda:ListAliases",
    "lambda:ListTags",  # GetFunction returns the tags only with this
    "lambda:ListVersionsByFunction",
    "lambda:PublishVersion",
    "lambda:TagResource",  # CreateFunction with Tags; tags follow lambda.yaml; trigger markers
    "lambda:UntagResource",  # tags removed from lambda.yaml
    "lambda:UpdateAlias",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
]
# Read (and clean up) trigger wiring; a push reconciles triggers unless the function's
# `lambdadeploy:triggers:ALIAS` tag says none are wired and none are configured.
TRIGGER_READ_ACTIONS = [
    "lambda:DeleteFunctionUrlConfig",
    "lambda:GetFunctionUrlConfig",
    "lambda:GetPolicy",
    "lambda:RemovePermission",
]
ROLE_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",  # VPC or X-Ray access no function of the role needs any more
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",  # the basic logging policy is checked on every push
    "iam:ListRolePolicies",  # which of the tool's inline policies the role has
    "iam:PutRolePolicy",
    "iam:TagRole",  # CreateRole with Tags
]


def ci_policy(project: Project, account_id: str, region: str) -> dict[str, Any]:
    """The IAM policy document (Version 2012-10-17) for a CI user deploying this config."""
    partition = partition_of(region)
    lambda_arn = f"arn:{partition}:lambda:{region}:{account_id}"
    functions = sorted({f"{lambda_arn}:function:{fn.name}" for fn in project.functions})
    function_resources = sorted({arn + suffix for arn in functions for suffix in ("", ":*")})
    statements: list[dict[str, Any]] = [
        _allow("Identity", ["sts:GetCallerIdentity"], "*"),
        _allow("DeployFunctions", DEPLOY_ACTIONS, function_resources),
        _allow("ReconcileTriggerWiring", TRIGGER_READ_ACTIONS, function_resources),
        _allow("PassExecutionRole", ["iam:PassRole"], _role_arns(project, account_id, partition),
               {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
    ]
    managed = ([default_role_name(project)] if uses_default_role(project) else []) + [
        role_name_of(project, fn) for fn in own_role_functions(project)]  # the functions with policies:
    if managed:
        arns = [role_arn_for(name, account_id, partition) for name in managed]
        statements.append(_allow("ManageDefaultExecutionRole", ROLE_ACTIONS, arns[0] if len(arns) == 1 else arns))
    # push --canary --watch reads the new version's metrics and the named alarms; CloudWatch cannot
    # scope GetMetricStatistics by resource, and alarm names are not in lambda.yaml.
    statements.append(_allow("WatchCanaries", ["cloudwatch:DescribeAlarms", "cloudwatch:GetMetricStatistics"], "*"))
    layers = sorted({arn for fn in project.functions for arn in fn.layers})
    if layers:  # CreateFunction/UpdateFunctionConfiguration check that the caller may use each layer
        statements.append(_allow("UseLayers", ["lambda:GetLayerVersion"], layers))
    buckets = sorted({fn.s3_bucket for fn in project.functions if fn.s3_bucket})
    if buckets:
        statements.append(_allow("UploadLargePackages", ["s3:GetObject", "s3:PutObject"],
                                 [f"arn:{partition}:s3:::{b}/lambdadeploy/*" for b in buckets]))
    scope = PolicyScope(partition, region, account_id, tuple(function_resources))
    triggers = [t for fn in project.functions for t in fn.triggers]
    principals = sorted({principal for kind in registry.kinds() if any(t.kind == kind.name for t in triggers)
                         if (principal := kind.invoke_principal())})
    if principals:
        statements.append(_allow("GrantTriggerInvoke", ["lambda:AddPermission"], function_resources,
                                 {"StringEquals": {"lambda:Principal": principals}}))
    for kind in registry.kinds():
        for statement in kind.ci_statements([t for t in triggers if t.kind == kind.name], scope):
            _merge(statements, statement)
    # vpc, concurrency, async, retention, KMS, ... (ci_settings.py)
    statements += settings_statements(project, function_resources, account_id, region, partition)
    return {"Version": "2012-10-17", "Statement": statements}


def _merge(statements: list[dict[str, Any]], statement: dict[str, Any]) -> None:
    """Add a statement; one with the same Sid (kinds sharing a need) gets the union of actions."""
    same = next((s for s in statements if s["Sid"] == statement["Sid"]), None)
    if same is None:
        statements.append({**statement, "Action": sorted(statement["Action"])})
    else:
        same["Action"] = sorted(set(same["Action"]) | set(statement["Action"]))


def _allow(sid: str, actions: list[str], resources: str | list[str],
           condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _role_arns(project: Project, account_id: str, partition: str) -> list[str]:
    names = {role_name_of(project, fn) for fn in project.functions}
    return sorted(role_arn_for(name, account_id, partition) for name in names)
