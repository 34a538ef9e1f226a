"""The function settings in the SAM template: SAM properties for what SAM knows (VpcConfig,
EphemeralStorage, Tracing, LoggingConfig, DeadLetterQueue, EventInvokeConfig on the alias,
ReservedConcurrentExecutions, ProvisionedConcurrencyConfig on the alias, SnapStart,
KmsKeyArn, FileSystemConfigs, RuntimeManagementConfig), an AWS::Logs::LogGroup for a
retention, and the execution roles as the CLI keeps them (iam/execution_role.py's RoleSpec:
the project's, and one per function with `policies:`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..awsrules.lambda_settings import UPDATE_RUNTIME_ON, arn_service
from ..config.model import FunctionConfig, Project
from ..iam.execution_role import TRUST_POLICY, RoleSpec, function_role_name, managed_roles
from .cfn import partition_arn

# SAM's destination Type for each service an ARN names (samtranslator accepts these).
DESTINATION_TYPES = {"sqs": "SQS", "sns": "SNS", "lambda": "Lambda", "events": "EventBridge", "s3": "S3Bucket"}
DEAD_LETTER_TYPES = {"sqs": "SQS", "sns": "SNS"}


def own_role_id(function_id: str) -> str:
    """The logical id of a function's own role (`policies:`)."""
    return f"{function_id}ExecutionRole"


def log_group_id(function_id: str) -> str:
    return f"{function_id}LogGroup"


def settings_properties(fn: FunctionConfig, alias: str) -> dict[str, Any]:
    """The AWS::Serverless::Function properties of the function's settings (only those set).

    Long because it is one list: a few lines per setting, in the order of the README."""
    settings = fn.settings
    properties: dict[str, Any] = {}
    if settings.vpc:
        properties["VpcConfig"] = {"SubnetIds": list(settings.vpc.subnets),
                                   "SecurityGroupIds": list(settings.vpc.security_groups)}
        if settings.vpc.ipv6:
            properties["VpcConfig"]["Ipv6AllowedForDualStack"] = True
    if settings.ephemeral_storage != 512:
        properties["EphemeralStorage"] = {"Size": settings.ephemeral_storage}
    if settings.tracing == "active":
        properties["Tracing"] = "Active"
    if settings.logging:
        logging = settings.logging
        config: dict[str, Any] = {"LogFormat": "JSON" if logging.format == "json" else "Text"}
        if logging.level:
            config["ApplicationLogLevel"] = logging.level.upper()
        if logging.system_level:
            config["SystemLogLevel"] = logging.system_level.upper()
        if logging.group:
            config["LogGroup"] = logging.group
        properties["LoggingConfig"] = config
    if settings.dead_letter:
        properties["DeadLetterQueue"] = {"Type": DEAD_LETTER_TYPES[arn_service(settings.dead_letter) or "sqs"],
                                         "TargetArn": settings.dead_letter}
    if settings.async_invoke:
        properties["EventInvokeConfig"] = event_invoke_config(settings.async_invoke)
    if settings.reserved_concurrency is not None:
        properties["ReservedConcurrentExecutions"] = settings.reserved_concurrency
    if alias in settings.provisioned_concurrency:  # on the alias AutoPublishAlias makes
        properties["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": settings.provisioned_concurrency[alias]}
    if settings.snap_start:
        properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    if settings.kms_key:
        properties["KmsKeyArn"] = settings.kms_key
    if settings.file_system:
        properties["FileSystemConfigs"] = [{"Arn": settings.file_system.arn,
                                            "LocalMountPath": settings.file_system.mount}]
    if settings.runtime_management:
        management = settings.runtime_management
        properties["RuntimeManagementConfig"] = {"UpdateRuntimeOn": UPDATE_RUNTIME_ON[management.update]}
        if management.version_arn:
            properties["RuntimeManagementConfig"]["RuntimeVersionArn"] = management.version_arn
    return properties


def event_invoke_config(wanted: Any) -> dict[str, Any]:
    """SAM's EventInvokeConfig (applied to the AutoPublishAlias, as `push` applies `async` to the alias)."""
    config: dict[str, Any] = {}
    if wanted.retries is not None:
        config["MaximumRetryAttempts"] = wanted.retries
    if wanted.max_event_age is not None:
        config["MaximumEventAgeInSeconds"] = wanted.max_event_age
    destinations = {name: {"Type": DESTINATION_TYPES[arn_service(arn) or ""], "Destination": arn}
                    for name, arn in (("OnSuccess", wanted.on_success), ("OnFailure", wanted.on_failure)) if arn}
    if destinations:
        config["DestinationConfig"] = destinations
    return config


def settings_resources(project: Project, ids: Mapping[str, str], keep_names: bool) -> dict[str, Any]:
    """Log groups with their retention, one per group (CloudFormation creates what Lambda would)."""
    resources: dict[str, Any] = {}
    named: set[str] = set()
    for fn in project.functions:
        days = fn.settings.log_retention
        if days is None:
            continue
        group = fn.settings.logging.group if fn.settings.logging else None
        if group is None:
            group = f"/aws/lambda/{fn.name}" if keep_names else {"Fn::Sub": f"/aws/lambda/${{{ids[fn.key]}}}"}
        if isinstance(group, str) and group in named:  # two functions sharing a group share its resource
            continue
        if isinstance(group, str):
            named.add(group)
        resources[log_group_id(ids[fn.key])] = {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": group, "RetentionInDays": days}}
    return resources


def role_resource(spec: RoleSpec, project: Project, function: str | None = None) -> dict[str, Any]:
    """A role as the CLI keeps it; CloudFormation names it (a fixed name would clash with the CLI's)."""
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": TRUST_POLICY,
        "ManagedPolicyArns": [partition_arn(arn) for arn in spec.managed],
    }
    if spec.inline:
        properties["Policies"] = [{"PolicyName": name, "PolicyDocument": document}
                                  for name, document in spec.inline.items()]
    properties["Tags"] = [{"Key": "managed-by", "Value": "cloudformation"},
                          {"Key": "lambdadeploy-project", "Value": project.project or "lambdadeploy"}]
    if function:
        properties["Tags"].append({"Key": "lambdadeploy-function", "Value": function})
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def own_roles(project: Project, ids: Mapping[str, str]) -> dict[str, Any]:
    """The roles of the functions with `policies:` (logical id -> resource)."""
    specs = {spec.name: spec for spec in managed_roles(project)}
    return {own_role_id(ids[fn.key]): role_resource(specs[function_role_name(project, fn)], project, fn.key)
            for fn in project.functions if fn.role is None and fn.settings.policies}
