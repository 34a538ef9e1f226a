"""The least-privilege IAM policy a CI user needs to run push, promote and rollback for a config.

Pure: built from the Project alone (plus account and region), so `lambdadeploy policy`
needs no AWS call beyond the account id. Every statement names specific actions; the
resources are the config's functions (`function:NAME` and `function:NAME:*`, which
covers versions and aliases), its execution role(s), its buckets, topics and the
tool's own schedule rules. A few actions cannot be scoped by resource in IAM and use
Resource "*", each narrowed by a condition where IAM offers one:

- sts:GetCallerIdentity, lambda:ListEventSourceMappings, events:ListRules: reads;
- lambda:Create/Update/DeleteEventSourceMapping: condition lambda:FunctionArn;
- sns:Unsubscribe, sns:Get/SetSubscriptionAttributes: SNS has no resource type for them.

Removing a trigger: the push that removes it cleans up with the permissions of the old
config (the old bucket or topic is in the policy). Update the CI user's policy after
that push, not before.
"""

from __future__ import annotations

from typing import Any

from .aws import partition_of
from .model import Project
from .roles import default_role_name, role_arn_for, uses_default_role
from .triggers.common import MARK

STREAM_KINDS = ("sqs", "dynamodb", "kinesis")
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
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:TagRole",  # CreateRole with Tags
]
PRINCIPALS = {"s3": "s3.amazonaws.com", "sns": "sns.amazonaws.com", "schedule": "events.amazonaws.com", "url": "*"}


def ci_policy(project: Project, account_id: str, region: str) -> dict[str, Any]:
    """The IAM policy document (Version 2012-10-17) for a CI user deploying this config."""
    partition = partition_of(region)
    lambda_arn = f"arn:{partition}:lambda:{region}:{account_id}"
    functions = sorted({f"{lambda_arn}:function:{fn.name}" for fn in project.functions})
    function_resources = sorted({arn + suffix for arn in functions for suffix in ("", ":*")})
    triggers = [t for fn in project.functions for t in fn.triggers]
    kinds = {t.kind for t in triggers}
    statements: list[dict[str, Any]] = [
        _allow("Identity", ["sts:GetCallerIdentity"], "*"),
        _allow("DeployFunctions", DEPLOY_ACTIONS, function_resources),
        _allow("ReconcileTriggerWiring", TRIGGER_READ_ACTIONS, function_resources),
        _allow("PassExecutionRole", ["iam:PassRole"], _role_arns(project, account_id, partition),
               {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
    ]
    if uses_default_role(project):
        role = role_arn_for(default_role_name(project), account_id, partition)
        statements.append(_allow("ManageDefaultExecutionRole", ROLE_ACTIONS, role))
    buckets = sorted({fn.s3_bucket for fn in project.functions if fn.s3_bucket})
    if buckets:
        statements.append(_allow("UploadLargePackages", ["s3:GetObject", "s3:PutObject"],
                                 [f"arn:{partition}:s3:::{b}/lambdadeploy/*" for b in buckets]))
    principals = sorted({PRINCIPALS[k] for k in kinds if k in PRINCIPALS})
    if principals:
        statements.append(_allow("GrantTriggerInvoke", ["lambda:AddPermission"], function_resources,
                                 {"StringEquals": {"lambda:Principal": principals}}))
    if "url" in kinds:
        statements.append(_allow("ConfigureFunctionUrls",
                                 ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
                                 function_resources))
    statements += _event_source_mapping_statements(function_resources, kinds & set(STREAM_KINDS))
    notified = sorted({str(t.settings["bucket"]) for t in triggers if t.kind == "s3"})
    if notified:
        statements.append(_allow("WireBucketNotifications", ["s3:GetBucketNotification", "s3:PutBucketNotification"],
                                 [f"arn:{partition}:s3:::{b}" for b in notified]))
    statements += _sns_statements(sorted({str(t.settings["topic"]) for t in triggers if t.kind == "sns"}))
    statements += _schedule_statements(project, partition, region, account_id)
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: str | list[str],
           condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _role_arns(project: Project, account_id: str, partition: str) -> list[str]:
    names = {fn.role or default_role_name(project) for fn in project.functions}
    return sorted(role_arn_for(name, account_id, partition) for name in names)


def _event_source_mapping_statements(function_resources: list[str], kinds: set[str]) -> list[dict[str, Any]]:
    """Create names no mapping resource, so changes are scoped by the lambda:FunctionArn condition."""
    on_functions = {"ArnLike": {"lambda:FunctionArn": function_resources}}
    change = ["lambda:DeleteEventSourceMapping"] + (
        ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping"] if kinds else [])
    return [
        _allow("ListEventSourceMappings", ["lambda:ListEventSourceMappings"], "*"),
        _allow("ChangeEventSourceMappings", change, "*", on_functions),
    ]


def _sns_statements(topics: list[str]) -> list[dict[str, Any]]:
    if not topics:
        return []
    return [
        _allow("SubscribeToTopics", ["sns:ListSubscriptionsByTopic", "sns:Subscribe"], topics),
        _allow("ManageSubscriptions",
               ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"], "*"),
    ]


def _schedule_statements(project: Project, partition: str, region: str, account_id: str) -> list[dict[str, Any]]:
    """Every push looks for the tool's rules (to remove schedules that left lambda.yaml)."""
    rules = sorted({f"arn:{partition}:events:{region}:{account_id}:rule/" + f"{MARK}{fn.name}-"[:55] + "*"
                    for fn in project.functions})
    return [
        _allow("ListRules", ["events:ListRules"], "*"),
        _allow("ManageScheduleRules", ["events:DeleteRule", "events:ListTargetsByRule",
                                       "events:PutRule", "events:PutTargets", "events:RemoveTargets"], rules),
    ]
