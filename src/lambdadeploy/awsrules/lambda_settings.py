"""Lambda's rules for a function's settings beyond code and memory (VPC, logging, SnapStart,
concurrency, destinations, file systems), as AWS documents and enforces them.

The service model states the simple limits (enums, ranges, patterns); these are the ones it
does not: values CloudWatch accepts for retention, which settings exclude each other, which
ARNs may be a destination. config/settings.py checks lambda.yaml against them before any
write; the sandbox (local/lambda_settings.py) refuses the same requests the way AWS does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import Violation

# CloudWatch Logs' PutRetentionPolicy: retentionInDays takes only these (the service model says so
# in prose; the Days shape itself has no enum).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)
LOG_FORMATS = ("JSON", "Text")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
DEFAULT_LOG_LEVEL = "INFO"  # what Lambda sets for both levels when JSON is chosen without them
# Ephemeral storage (/tmp): the developer guide's range. The service model allows 32768 for
# Lambda Managed Instances, which this tool does not deploy to.
EPHEMERAL_MIN, EPHEMERAL_MAX = 512, 10240
SNAPSTART_EPHEMERAL_MAX = 512
ASYNC_RETRIES = (0, 2)
ASYNC_EVENT_AGE = (60, 21600)  # seconds
VPC_SUBNETS_MAX = 16
VPC_SECURITY_GROUPS_MAX = 5
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
MOUNT_PATH = re.compile(r"^/mnt/[a-zA-Z0-9\-_.]+$")
MOUNT_PATH_MAX = 160
ACCESS_POINT_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"access-point/fsap-[a-f0-9]{17}$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
RUNTIME_VERSION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}::runtime:.+$")
UPDATE_RUNTIME_ON = {"auto": "Auto", "function_update": "FunctionUpdate", "manual": "Manual"}
ARN = re.compile(r"^arn:(aws[a-zA-Z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$")
# Destinations of asynchronous invocations, by the ARN's service (docs: "Capturing records of
# asynchronous invocations"): an S3 bucket only for failures.
DESTINATION_SERVICES = {"sqs": "SQS", "sns": "SNS", "lambda": "Lambda", "events": "EventBridge", "s3": "S3"}
FAILURE_ONLY_SERVICES = ("s3",)
DEAD_LETTER_SERVICES = {"sqs": "SQS", "sns": "SNS"}
# SnapStart runs on these managed runtimes only (python3.12+, java11+, dotnet8+).
SNAPSTART_RUNTIMES = re.compile(r"^(python3\.(1[2-9]|[2-9]\d)|java(1[1-9]|[2-9]\d)|dotnet([89]|\d\d))$")
UNRESERVED_MINIMUM = 100  # Lambda keeps this much of the account's concurrency unreserved


def arn_service(arn: str) -> str | None:
    """The service an ARN names (sqs, sns, lambda, ...), or None when it is no ARN."""
    match = ARN.match(arn)
    return match.group(2) if match else None


def destination_problem(arn: str, on_failure: bool) -> str | None:
    """Why `arn` cannot be an asynchronous-invocation destination, or None."""
    service = arn_service(arn)
    if service not in DESTINATION_SERVICES:
        return "must be the ARN of an SQS queue, SNS topic, Lambda function or EventBridge event bus" + (
            ", or an S3 bucket" if on_failure else "")
    if service in FAILURE_ONLY_SERVICES and not on_failure:
        return "an S3 bucket can only receive failed invocations (on_failure)"
    return None


def dead_letter_problem(arn: str) -> str | None:
    if arn_service(arn) not in DEAD_LETTER_SERVICES:
        return "must be the ARN of an SQS queue or an SNS topic"
    return None


def snap_start_supported(runtime: str) -> bool:
    return bool(SNAPSTART_RUNTIMES.match(runtime))


def snap_start_conflicts(runtime: str, ephemeral_storage: int, file_systems: int,
                         provisioned: bool) -> list[str]:
    """What SnapStart cannot be combined with (docs: "Supported features and limitations")."""
    found = []
    if not snap_start_supported(runtime):
        found.append(f"SnapStart does not support the runtime {runtime} (python3.12 or later, java11 or later, "
                     "dotnet8 or later)")
    if ephemeral_storage > SNAPSTART_EPHEMERAL_MAX:
        found.append(f"SnapStart does not support ephemeral storage greater than {SNAPSTART_EPHEMERAL_MAX} MB")
    if file_systems:
        found.append("SnapStart does not support Amazon EFS file systems")
    if provisioned:
        found.append("SnapStart does not support provisioned concurrency")
    return found


def logging_violation(config: Mapping[str, object]) -> Violation | None:
    """A LoggingConfig that sets log levels with the Text format (levels filter JSON logs only)."""
    if config.get("LogFormat", "Text") != "JSON" and (config.get("ApplicationLogLevel")
                                                       or config.get("SystemLogLevel")):
        return Violation("InvalidParameterValueException",
                         "Log levels (ApplicationLogLevel, SystemLogLevel) can be set only when LogFormat is JSON")
    return None


def retention_violation(days: object) -> Violation | None:
    if days in RETENTION_DAYS:
        return None
    allowed = ", ".join(str(d) for d in RETENTION_DAYS)
    return Violation("InvalidParameterException",
                     f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                     f"constraint: Member must satisfy enum value set: [{allowed}]")


def provisioned_violation(requested: int, others: int, reserved: int | None) -> Violation | None:
    """Provisioned concurrency counts against the function's reserved concurrency, all aliases together."""
    if reserved is not None and requested + others > reserved:
        return Violation("InvalidParameterValueException",
                         "Requested Provisioned Concurrency should not be greater than the "
                         "reservedConcurrentExecution for function")
    return None
