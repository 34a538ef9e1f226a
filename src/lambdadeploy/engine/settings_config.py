"""The version-level settings (VPC, storage, tracing, logging, dead letter, KMS, file system,
SnapStart) in one canonical shape, from lambda.yaml and from AWS alike.

A version freezes these with its code (README "promote": versions are immutable), so they
join the configuration that remote.managed_config reads, plan.desired_config wants, the
promote guard compares and a reused version must match. AWS omits or reorders what is at
its default (no VpcConfig, subnets in any order, no LoggingConfig on old functions): both
sides are normalised here so an unchanged function never shows a difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..awsrules.lambda_settings import DEFAULT_LOG_LEVEL, EPHEMERAL_MIN
from ..config.model import FunctionConfig
from ..config.settings import Logging

# The keys below, and the two whose sub-fields a plan lists one by one.
VERSION_SETTINGS = ("VpcConfig", "EphemeralStorage", "TracingConfig", "LoggingConfig", "DeadLetterConfig",
                    "KMSKeyArn", "FileSystemConfigs", "SnapStart")
EXPANDED_SETTINGS = ("VpcConfig", "LoggingConfig")
DEFAULTS: Mapping[str, Any] = {
    "EphemeralStorage": EPHEMERAL_MIN, "TracingConfig": "PassThrough", "DeadLetterConfig": None, "KMSKeyArn": None,
    "FileSystemConfigs": [], "SnapStart": "None",
}


def default_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_group_of(fn: FunctionConfig) -> str:
    """The log group the function writes to (and whose retention `logging.retention_days` sets)."""
    group = fn.settings.logging.group if fn.settings.logging else None
    return group or default_log_group(fn.name)


def _logging(log_format: str, application: str | None, system: str | None, group: str) -> dict[str, Any]:
    json_logs = log_format == "JSON"
    return {"LogFormat": log_format,
            "ApplicationLogLevel": (application or DEFAULT_LOG_LEVEL) if json_logs else None,
            "SystemLogLevel": (system or DEFAULT_LOG_LEVEL) if json_logs else None,
            "LogGroup": group}


def _vpc(subnets: Any, groups: Any, ipv6: Any) -> dict[str, Any]:
    return {"SubnetIds": sorted(subnets or []), "SecurityGroupIds": sorted(groups or []),
            "Ipv6AllowedForDualStack": bool(ipv6)}


def managed_settings(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The version-level settings of a GetFunction/ListVersions configuration."""
    vpc = configuration.get("VpcConfig") or {}
    logging = configuration.get("LoggingConfig") or {}
    return {
        "VpcConfig": _vpc(vpc.get("SubnetIds"), vpc.get("SecurityGroupIds"), vpc.get("Ipv6AllowedForDualStack")),
        "EphemeralStorage": (configuration.get("EphemeralStorage") or {}).get("Size") or EPHEMERAL_MIN,
        "TracingConfig": (configuration.get("TracingConfig") or {}).get("Mode") or "PassThrough",
        "LoggingConfig": _logging(logging.get("LogFormat") or "Text", logging.get("ApplicationLogLevel"),
                                  logging.get("SystemLogLevel"),
                                  logging.get("LogGroup") or default_log_group(configuration.get("FunctionName", ""))),
        "DeadLetterConfig": (configuration.get("DeadLetterConfig") or {}).get("TargetArn") or None,
        "KMSKeyArn": configuration.get("KMSKeyArn") or None,
        "FileSystemConfigs": [{"Arn": item["Arn"], "LocalMountPath": item["LocalMountPath"]}
                              for item in configuration.get("FileSystemConfigs") or []],
        "SnapStart": (configuration.get("SnapStart") or {}).get("ApplyOn") or "None",
    }


def desired_settings(fn: FunctionConfig) -> dict[str, Any]:
    """The version-level settings lambda.yaml asks for, shaped like managed_settings."""
    settings = fn.settings
    vpc = settings.vpc
    logging = settings.logging or Logging()
    return {
        "VpcConfig": _vpc(vpc.subnets, vpc.security_groups, vpc.ipv6) if vpc else _vpc([], [], False),
        "EphemeralStorage": settings.ephemeral_storage,
        "TracingConfig": "Active" if settings.tracing == "active" else "PassThrough",
        "LoggingConfig": _logging("JSON" if logging.format == "json" else "Text",
                                  logging.level.upper() if logging.level else None,
                                  logging.system_level.upper() if logging.system_level else None,
                                  logging.group or default_log_group(fn.name)),
        "DeadLetterConfig": settings.dead_letter,
        "KMSKeyArn": settings.kms_key,
        "FileSystemConfigs": ([{"Arn": settings.file_system.arn, "LocalMountPath": settings.file_system.mount}]
                              if settings.file_system else []),
        "SnapStart": "PublishedVersions" if settings.snap_start else "None",
    }


def settings_params(config: Mapping[str, Any], changed: frozenset[str] | None = None) -> dict[str, Any]:
    """CreateFunction/UpdateFunctionConfiguration parameters for the settings that are not at AWS's
    default, or that `changed` names (a setting going back to its default is sent as that default:
    empty VPC lists, an empty dead-letter or KMS ARN, ...)."""
    changed = changed or frozenset()

    def wanted(name: str) -> bool:
        return name in config and (name in changed or config[name] != default_of(name, config))

    params: dict[str, Any] = {}
    if wanted("VpcConfig"):
        vpc = config["VpcConfig"]
        params["VpcConfig"] = {"SubnetIds": list(vpc["SubnetIds"]), "SecurityGroupIds": list(vpc["SecurityGroupIds"])}
        if vpc["SubnetIds"]:
            params["VpcConfig"]["Ipv6AllowedForDualStack"] = vpc["Ipv6AllowedForDualStack"]
    if wanted("EphemeralStorage"):
        params["EphemeralStorage"] = {"Size": config["EphemeralStorage"]}
    if wanted("TracingConfig"):
        params["TracingConfig"] = {"Mode": config["TracingConfig"]}
    if wanted("LoggingConfig"):
        params["LoggingConfig"] = {k: v for k, v in config["LoggingConfig"].items() if v is not None}
    if wanted("DeadLetterConfig"):
        params["DeadLetterConfig"] = {"TargetArn": config["DeadLetterConfig"] or ""}
    if wanted("KMSKeyArn"):
        params["KMSKeyArn"] = config["KMSKeyArn"] or ""
    if wanted("FileSystemConfigs"):
        params["FileSystemConfigs"] = [dict(item) for item in config["FileSystemConfigs"]]
    if wanted("SnapStart"):
        params["SnapStart"] = {"ApplyOn": config["SnapStart"]}
    return params


def default_of(name: str, config: Mapping[str, Any]) -> Any:
    """AWS's default for one setting (the log group's depends on the function's name)."""
    if name == "VpcConfig":
        return _vpc([], [], False)
    if name == "LoggingConfig":
        group = config["LoggingConfig"]["LogGroup"]
        default = _logging("Text", None, None, group)
        return default if group.startswith("/aws/lambda/") else None  # a custom group is never the default
    return DEFAULTS[name]
