"""A function's settings beyond code, memory and environment: VPC, storage, tracing, logging,
dead letter, asynchronous invocation, concurrency, SnapStart, KMS, file system, runtime
management and the IAM statements it needs.

Each is a field of lambda.yaml (in `defaults:` or per function; the function's value
replaces the default's, except `environment`, which merges), checked by the rules below
against AWS's limits (awsrules/lambda_settings.py) and then across fields
(`check_settings`). The checked values make one frozen `FunctionSettings`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..awsrules import lambda_settings as aws
from ..fields import (
    INVALID,
    Boolean,
    Field,
    Integer,
    Record,
    Reporter,
    Rule,
    Text,
    TextList,
    type_name,
)

ARN_HINT = "arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE"
ROLE_POLICY_LIMIT = 10240  # IAM: characters of a role's inline policies, whitespace not counted
IAM_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
IAM_RESOURCE = re.compile(r"^(\*|arn:[^\s]+)$")
# Function tag `lambdadeploy:settings:ALIAS`: the settings outside the version (asynchronous
# invocation, provisioned concurrency, log retention, runtime management) that the last push
# of ALIAS managed, so a push reads them only while lambda.yaml or the tag names them.
SETTINGS_MARKER_PREFIX = "lambdadeploy:settings:"
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


@dataclass(frozen=True)
class Vpc:
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    ipv6: bool = False


@dataclass(frozen=True)
class Logging:
    format: str = "text"  # json | text
    level: str | None = None  # application log level (JSON only)
    system_level: str | None = None  # Lambda's own log level (JSON only)
    group: str | None = None  # default /aws/lambda/NAME
    retention_days: int | None = None  # None: the tool leaves the group's retention alone


@dataclass(frozen=True)
class AsyncInvoke:
    retries: int | None = None
    max_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class FileSystem:
    arn: str
    mount: str


@dataclass(frozen=True)
class RuntimeManagement:
    update: str = "auto"  # auto | function_update | manual
    version_arn: str | None = None


@dataclass(frozen=True)
class FunctionSettings:
    """The settings of one function; each default is AWS's own (what an unset field means)."""

    vpc: Vpc | None = None
    ephemeral_storage: int = aws.EPHEMERAL_MIN
    tracing: str = "passthrough"
    logging: Logging | None = None
    dead_letter: str | None = None
    async_invoke: AsyncInvoke | None = None  # `async:` in lambda.yaml
    reserved_concurrency: int | None = None
    provisioned_concurrency: Mapping[str, int] = field(default_factory=dict)  # alias -> executions
    snap_start: bool = False
    kms_key: str | None = None
    file_system: FileSystem | None = None
    runtime_management: RuntimeManagement | None = None
    policies: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_fields(cls, values: Mapping[str, Any]) -> FunctionSettings:
        """From checked lambda.yaml fields (`async` is a Python keyword: it becomes async_invoke)."""
        given = {("async_invoke" if name == "async" else name): values[name] for name in SETTING_NAMES
                 if name in values}
        return cls(**given)

    @property
    def log_retention(self) -> int | None:
        return self.logging.retention_days if self.logging else None

    def document(self) -> dict[str, Any]:
        """The settings that differ from AWS's defaults, spelt as in lambda.yaml (validate --show, --json)."""
        default = FunctionSettings()
        result = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value != getattr(default, item.name):
                result["async" if item.name == "async_invoke" else item.name] = _plain(value)
        return result

    @property
    def throttled(self) -> bool:
        """reserved_concurrency 0: Lambda refuses every invocation (so no smoke test can run)."""
        return self.reserved_concurrency == 0

    @property
    def marked(self) -> bool:
        """Whether the function uses a setting that a marker tag tracks (SETTINGS_MARKER_PREFIX)."""
        return bool(self.async_invoke or self.provisioned_concurrency or self.log_retention is not None
                    or self.runtime_management)


def _plain(value: Any) -> Any:
    """A settings value as plain data: dataclasses as mappings of their set fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(v) for f in dataclasses.fields(value) if (v := getattr(value, f.name)) is not None}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Choice(Rule):
    """One of a few words, in any case (`json`, `JSON`); kept in lower case."""

    def __init__(self, *choices: str) -> None:
        self.choices = choices

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, str) or value.lower() not in self.choices:
            report(f"{value!r} is not allowed; allowed: {', '.join(self.choices)}")
            return INVALID
        return value.lower()

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": sorted({*self.choices, *(c.upper() for c in self.choices)})}


class OneNumberOf(Rule):
    """A whole number from a fixed list (CloudWatch's retention periods)."""

    def __init__(self, allowed: tuple[int, ...], unit: str) -> None:
        self.allowed = allowed
        self.unit = unit

    def check(self, value: Any, report: Reporter) -> Any:
        if isinstance(value, bool) or value not in self.allowed:
            report(f"{value!r} is not a period CloudWatch Logs accepts",
                   f"{self.unit}: " + ", ".join(str(v) for v in self.allowed))
            return INVALID
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.allowed)}


class Arn(Rule):
    """An ARN, with a check of what it may point at (`problem(arn)` says why not, or None)."""

    def __init__(self, problem: Callable[[str], str | None] | None = None, pattern: re.Pattern[str] | None = None,
                 hint: str = ARN_HINT) -> None:
        self.problem = problem
        self.pattern = pattern
        self.hint = hint

    def check(self, value: Any, report: Reporter) -> Any:
        text = Text(max_length=350 if self.problem else 10000).check(value, report)
        if text is INVALID:
            return INVALID
        if not (self.pattern or aws.ARN).match(text):
            report(f"invalid ARN {text!r}", self.hint)
            return INVALID
        why = self.problem(text) if self.problem else None
        if why:
            report(f"{text!r}: {why}")
            return INVALID
        return text

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": (self.pattern or aws.ARN).pattern}


class AliasCounts(Rule):
    """provisioned_concurrency: ALIAS: executions (1 or more)."""

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, dict):
            report(f"must be a mapping of ALIAS: executions, got {type_name(value)}", "e.g. {prod: 5}")
            return INVALID
        counts = {str(alias): Integer(1, 100000, "executions").check(count, report.at(str(alias)))
                  for alias, count in value.items()}
        return INVALID if INVALID in counts.values() else counts

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}


class Statements(Rule):
    """IAM policy statements: Action and Resource (or NotAction/NotResource), Effect (default Allow)."""

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, list) or not value:
            report(f"must be a list of IAM statements, got {type_name(value)}",
                   "- {Action: [dynamodb:GetItem], Resource: arn:aws:dynamodb:REGION:ACCOUNT:table/T}")
            return INVALID
        statements = [self._statement(item, report.at(str(index))) for index, item in enumerate(value)]
        if INVALID in statements:
            return INVALID
        size = len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))
        if size > ROLE_POLICY_LIMIT:
            report(f"the statements take {size} characters; IAM allows {ROLE_POLICY_LIMIT} for a role's inline "
                   "policies", "use wildcards or a managed policy on a role of your own (role:)")
            return INVALID
        return tuple(statements)

    def _statement(self, item: Any, report: Reporter) -> Any:
        if not isinstance(item, dict):
            report(f"must be a mapping, got {type_name(item)}")
            return INVALID
        ok = True
        for key in item:
            if key not in STATEMENT_KEYS:
                report.at(str(key))("unknown statement key", "allowed: " + ", ".join(STATEMENT_KEYS))
                ok = False
        result: dict[str, Any] = {"Effect": item.get("Effect", "Allow")}
        if result["Effect"] not in ("Allow", "Deny"):
            report.at("Effect")(f"{result['Effect']!r} is not allowed; allowed: Allow, Deny")
            ok = False
        for pair, pattern, what in ((("Action", "NotAction"), IAM_ACTION, "service:Action, e.g. dynamodb:GetItem"),
                                    (("Resource", "NotResource"), IAM_RESOURCE, "an ARN or *")):
            present = [key for key in pair if key in item]
            if len(present) != 1:
                report(f"needs exactly one of {' or '.join(pair)}", what)
                ok = False
                continue
            checked = TextList(Text(pattern, what, what=pair[0].lower()), min_items=1,
                               single=True).check(item[present[0]], report.at(present[0]))
            ok = ok and checked is not INVALID
            if checked is not INVALID:
                result[present[0]] = checked[0] if isinstance(item[present[0]], str) else list(checked)
        if "Condition" in item:
            if not isinstance(item["Condition"], dict):
                report.at("Condition")("must be a mapping of operator: {key: value}")
                ok = False
            else:
                result["Condition"] = item["Condition"]
        if "Sid" in item:
            sid = Text(re.compile(r"^[A-Za-z0-9]+$"), "letters and digits").check(item["Sid"], report.at("Sid"))
            ok = ok and sid is not INVALID
            result["Sid"] = sid
        return result if ok else INVALID

    @property
    def schema(self) -> dict[str, Any]:
        text_or_list = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        return {"type": "array", "items": {"type": "object", "additionalProperties": False, "properties": {
            "Sid": {"type": "string"}, "Effect": {"enum": ["Allow", "Deny"]}, "Action": text_or_list,
            "NotAction": text_or_list, "Resource": text_or_list, "NotResource": text_or_list,
            "Condition": {"type": "object"}}}}


VPC = Record((
    Field("subnets", TextList(Text(aws.SUBNET_ID, "subnet-0123456789abcdef0", what="subnet id"), min_items=1,
                              max_items=aws.VPC_SUBNETS_MAX), required=True, doc="subnet ids (1..16)"),
    Field("security_groups", TextList(Text(aws.SECURITY_GROUP_ID, "sg-0123456789abcdef0", what="security group id"),
                                      min_items=1, max_items=aws.VPC_SECURITY_GROUPS_MAX), required=True,
          doc="security group ids (1..5)"),
    Field("ipv6", Boolean(), doc="allow IPv6 traffic on dual-stack subnets"),
), Vpc, "vpc")
LOGGING = Record((
    Field("format", Choice("json", "text"), doc="json or text (default text)"),
    Field("level", Choice(*(level.lower() for level in aws.APPLICATION_LOG_LEVELS)),
          doc="application log level, JSON logs only"),
    Field("system_level", Choice(*(level.lower() for level in aws.SYSTEM_LOG_LEVELS)),
          doc="Lambda's own log level, JSON logs only"),
    Field("group", Text(aws.LOG_GROUP, "letters, digits and . - _ / #, at most 512", what="log group name"),
          doc="log group (default /aws/lambda/NAME)"),
    Field("retention_days", OneNumberOf(aws.RETENTION_DAYS, "days"), doc="the log group's retention"),
), Logging, "logging")
ASYNC = Record((
    Field("retries", Integer(*aws.ASYNC_RETRIES, "retries"), doc="0..2 (AWS's default 2)"),
    Field("max_event_age", Integer(*aws.ASYNC_EVENT_AGE, "seconds"), doc="60..21600 seconds"),
    Field("on_success", Arn(lambda arn: aws.destination_problem(arn, False)), doc="destination ARN"),
    Field("on_failure", Arn(lambda arn: aws.destination_problem(arn, True)), doc="destination ARN"),
), AsyncInvoke, "async")
FILE_SYSTEM = Record((
    Field("arn", Arn(pattern=aws.ACCESS_POINT_ARN, hint="arn:aws:elasticfilesystem:REGION:ACCOUNT:"
                                                         "access-point/fsap-0123456789abcdef0"),
          required=True, doc="EFS access point ARN"),
    Field("mount", Text(aws.MOUNT_PATH, "/mnt/NAME", max_length=aws.MOUNT_PATH_MAX, what="mount path"),
          required=True, doc="/mnt/NAME"),
), FileSystem, "file_system")
RUNTIME_MANAGEMENT = Record((
    Field("update", Choice(*aws.UPDATE_RUNTIME_ON), doc="auto, function_update or manual"),
    Field("version_arn", Arn(pattern=aws.RUNTIME_VERSION_ARN, hint="arn:aws:lambda:REGION::runtime:ID"),
          doc="the runtime version (manual only)"),
), RuntimeManagement, "runtime_management")

SETTING_FIELDS: tuple[Field, ...] = (
    Field("vpc", VPC, doc="{subnets: [...], security_groups: [...], ipv6: false}"),
    Field("ephemeral_storage", Integer(aws.EPHEMERAL_MIN, aws.EPHEMERAL_MAX, "MB"), doc="/tmp in MB (512..10240)"),
    Field("tracing", Choice("active", "passthrough"), doc="X-Ray tracing: active or passthrough"),
    Field("logging", LOGGING, doc="{format, level, system_level, group, retention_days}"),
    Field("dead_letter", Arn(aws.dead_letter_problem), doc="SQS queue or SNS topic ARN"),
    Field("async", ASYNC, doc="asynchronous invocation of the alias: {retries, max_event_age, on_success, "
                              "on_failure}"),
    Field("reserved_concurrency", Integer(0, 100000, "executions"), doc="0 throttles every invocation"),
    Field("provisioned_concurrency", AliasCounts(), doc="ALIAS: executions"),
    Field("snap_start", Boolean(), doc="SnapStart on published versions (python3.12+)"),
    Field("kms_key", Arn(pattern=aws.KMS_KEY_ARN, hint="arn:aws:kms:REGION:ACCOUNT:key/ID"),
          doc="KMS key for the environment at rest"),
    Field("file_system", FILE_SYSTEM, doc="{arn: EFS access point ARN, mount: /mnt/NAME} (needs vpc)"),
    Field("runtime_management", RUNTIME_MANAGEMENT, doc="{update: auto|function_update|manual, version_arn}"),
    Field("policies", Statements(), doc="IAM statements for the function's own role PROJECT-FUNCTION-exec"),
)
SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in SETTING_FIELDS)


def check_settings(settings: FunctionSettings, runtime: str, role: str | None, aliases: tuple[str, ...],
                   at: Callable[..., Reporter]) -> None:
    """The rules that span fields; `at(field, *path)` reports where `field` was written.

    Long because it is one list of AWS's cross-field rules, each a few lines."""
    logging = settings.logging
    if logging and logging.format != "json":
        for name in ("level", "system_level"):
            if getattr(logging, name):
                at("logging", name)("log levels apply to JSON logs only", "add `format: json`")
    if settings.file_system and settings.vpc is None:
        at("file_system")("a file system is reached through a VPC: `vpc:` is missing",
                          "vpc: {subnets: [...], security_groups: [...]} in the file system's VPC")
    if settings.snap_start:
        conflicts = aws.snap_start_conflicts(runtime, settings.ephemeral_storage, int(settings.file_system is not None),
                                             bool(settings.provisioned_concurrency))
        for problem in conflicts:
            at("snap_start")(problem, "remove snap_start, or the setting it excludes")
    for alias in settings.provisioned_concurrency:
        if alias not in aliases:
            at("provisioned_concurrency", alias)(f"alias {alias!r} is not one of the project's aliases",
                                                 "aliases: " + ", ".join(aliases))
    provisioned = sum(settings.provisioned_concurrency.values())
    reserved = settings.reserved_concurrency
    if reserved is not None and provisioned > reserved:
        at("provisioned_concurrency")(f"{provisioned} provisioned executions in all, more than "
                                      f"reserved_concurrency {reserved}",
                                      "provisioned concurrency counts against the function's reserved concurrency")
    manual = settings.runtime_management
    if manual and (manual.update == "manual") != (manual.version_arn is not None):
        at("runtime_management")("`version_arn` goes with `update: manual`, and only with it",
                                 "update: manual, version_arn: arn:aws:lambda:REGION::runtime:ID")
    if settings.policies and role is not None:
        at("policies")("policies: go on the function's own role, which `role:` replaces",
                       "remove `role:` (or set `role: null` under the function), or add the statements to that role")


def merge_environment(sides: list[tuple[Any, Reporter]], rule: Rule) -> Any:
    """`defaults.environment` merged with the function's (later sides win, as SAM's Globals do),
    each side checked where it is written; None when neither sets any."""
    checked = [rule.check(value, report) for value, report in sides if value is not None]
    if not checked:
        return None
    if any(side is INVALID for side in checked):
        return INVALID
    merged: dict[str, str] = {}
    for side in checked:
        merged.update(side)
    return merged
