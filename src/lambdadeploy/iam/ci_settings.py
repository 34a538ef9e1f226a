"""The CI user's permissions for the function settings (pure; ci_policy.py adds them).

Only what the config uses: the Lambda APIs of reserved and provisioned concurrency,
asynchronous invocation and runtime management on the config's functions; CloudWatch
Logs on the log groups whose retention is set; what Lambda checks with the caller's
rights when a function joins a VPC (EC2's Describe calls, which IAM cannot scope), uses
a KMS key (Lambda creates a grant for the function, as the caller) or a file system
(EFS's mount targets are looked up); and reading a `role:` named for a VPC function,
which the pre-flight checks for VPC access. As with triggers, the push that removes a
setting from lambda.yaml cleans up with the old config's permissions.
"""

from __future__ import annotations

from typing import Any

from ..config.model import FunctionConfig, Project
from .execution_role import role_arn_for

# (what a function sets, the Lambda actions it needs)
LAMBDA_SETTING_ACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reserved_concurrency", ("lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
                              "lambda:PutFunctionConcurrency")),
    ("provisioned_concurrency", ("lambda:DeleteProvisionedConcurrencyConfig",
                                 "lambda:GetProvisionedConcurrencyConfig", "lambda:PutProvisionedConcurrencyConfig")),
    ("async_invoke", ("lambda:DeleteFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
                      "lambda:PutFunctionEventInvokeConfig")),
    ("runtime_management", ("lambda:GetRuntimeManagementConfig", "lambda:PutRuntimeManagementConfig")),
)
VPC_DESCRIBE_ACTIONS = ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]
ROLE_READ_ACTIONS = ["iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"]
KMS_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"]
RETENTION_ACTIONS = ["logs:CreateLogGroup", "logs:DeleteRetentionPolicy", "logs:PutRetentionPolicy"]


def settings_statements(project: Project, function_resources: list[str], account_id: str, region: str,
                        partition: str) -> list[dict[str, Any]]:
    """The statements the config's settings need (none for a config that sets none)."""
    functions = project.functions
    statements: list[dict[str, Any]] = []
    actions = sorted({action for name, wanted in LAMBDA_SETTING_ACTIONS for action in wanted
                      if any(getattr(fn.settings, name) not in (None, {}) for fn in functions)})
    if actions:
        statements.append(_allow("ManageFunctionSettings", actions, function_resources))
    groups = sorted({_log_group(fn) for fn in functions if fn.settings.log_retention is not None})
    if groups:
        arn = f"arn:{partition}:logs:{region}:{account_id}:log-group"
        statements.append(_allow("FindLogGroups", ["logs:DescribeLogGroups"], f"{arn}:*"))
        statements.append(_allow("SetLogRetention", RETENTION_ACTIONS,
                                 sorted(f"{arn}:{group}{tail}" for group in groups for tail in ("", ":*"))))
    if any(fn.settings.vpc for fn in functions):  # CreateFunction checks the subnets and groups as the caller
        statements.append(_allow("DescribeVpcs", VPC_DESCRIBE_ACTIONS, "*"))
    named = sorted({role_arn_for(fn.role, account_id, partition) for fn in functions if fn.settings.vpc and fn.role})
    named = [arn for arn in named if arn.split(":")[4] == account_id]
    if named:  # the pre-flight reads whether a role of your own may manage network interfaces
        statements.append(_allow("CheckVpcRoles", ROLE_READ_ACTIONS, named))
    keys = sorted({fn.settings.kms_key for fn in functions if fn.settings.kms_key})
    if keys:  # Lambda encrypts the environment with the key through a grant it creates as the caller
        statements.append(_allow("EncryptEnvironment", KMS_ACTIONS, keys))
    if any(fn.settings.file_system for fn in functions):
        # Lambda looks up the mount targets as the caller; lambda.yaml names only the access point.
        statements.append(_allow("FindMountTargets", ["elasticfilesystem:DescribeMountTargets"], "*"))
    return statements


def _log_group(fn: FunctionConfig) -> str:
    group = fn.settings.logging.group if fn.settings.logging else None
    return group or f"/aws/lambda/{fn.name}"


def _allow(sid: str, actions: list[str], resources: str | list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
