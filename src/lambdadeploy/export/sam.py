"""Pure: a Project and one alias -> an AWS SAM template (a dict) of the same deploy.

Per function an AWS::Serverless::Function with the deployed FunctionName, its
configuration, `AutoPublishAlias` (the alias the CLI would move) with
`AutoPublishAliasAllProperties` (a new version whenever code *or* configuration
changes, as lambdadeploy does), a `DeploymentPreference`, and the triggers of that
alias as SAM events. S3 triggers name buckets that live outside the stack, which
SAM's S3 event cannot do; they are wired by a small custom resource instead (see
s3_notifications.py). Secret values become NoEcho parameters (secrets.py). Intrinsic functions are written in their long form
({"Ref": ...}, {"Fn::GetAtt": [...]}) so the dict dumps with yaml.safe_dump.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config.model import FunctionConfig, Project, Trigger
from ..errors import InvalidInputError
from ..iam.execution_role import (
    default_role_functions,
    default_role_name,
    role_spec,
    uses_default_role,
)
from ..triggers import registry
from . import http_apis, s3_notifications
from .cfn import logical_name, role_arn, unique
from .sam_settings import (
    own_role_id,
    own_roles,
    role_resource,
    settings_properties,
    settings_resources,
)
from .secrets import hide_secrets

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
EXECUTION_ROLE_ID = "ExecutionRole"
CANARY_CONFIG_ID = "CanaryDeploymentConfig"
# SAM's predefined canary types: 10 percent first, the rest after N minutes.
PREDEFINED_CANARY_MINUTES = (5, 10, 15, 30)


@dataclass(frozen=True)
class CanarySettings:
    """Shift `percent` of the alias's traffic to the new version, the rest `minutes` later."""

    percent: int = 10
    minutes: int = 5

    def __post_init__(self) -> None:
        if int(self.percent) != self.percent or not 1 <= self.percent <= 99:
            raise InvalidInputError(f"canary percent {self.percent} is not supported by CodeDeploy",
                                    hint="a whole number of percent, 1..99")
        if int(self.minutes) != self.minutes or self.minutes < 1:
            raise InvalidInputError(f"canary interval of {self.minutes} minutes is not supported by CodeDeploy",
                                    hint="whole minutes, at least 1")

    @classmethod
    def from_seconds(cls, percent: float, seconds: float | None) -> CanarySettings:
        """From `--canary PCT --watch DURATION`: CodeDeploy counts whole minutes, so round up."""
        minutes = 5 if seconds is None else max(1, -(-int(seconds) // 60))
        return cls(int(percent) if float(percent).is_integer() else percent, minutes)  # type: ignore[arg-type]

    @property
    def predefined(self) -> str | None:
        """SAM's name for this canary when it has one (Canary10Percent5Minutes ...), else None."""
        if self.percent == 10 and self.minutes in PREDEFINED_CANARY_MINUTES:
            return f"Canary10Percent{self.minutes}Minutes"
        return None


def sam_template(
    project: Project,
    alias: str,
    code_uris: Mapping[str, str],
    *,
    canary: CanarySettings | None = None,
    keep_names: bool = True,
    code_sha256: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SAM template that deploys `project` as `push --alias ALIAS` would (code_uris: key -> CodeUri).

    keep_names=False leaves FunctionName out, so CloudFormation generates names (a parallel
    stack next to the functions lambdadeploy created, see the migration notes). Secret values
    (project.secret_values: read from `env`, or under a name like *_TOKEN/*_PASSWORD), wherever
    they appear, become NoEcho parameters instead of text in the file (secrets.py).
    code_sha256 (key -> CodeSha256) is recorded in the Metadata."""
    require_alias(project, alias)
    missing = [fn.key for fn in project.functions if fn.key not in code_uris]
    if missing:
        raise InvalidInputError("no code location for " + ", ".join(missing))
    project = for_alias(project, alias)
    ids = function_ids(project)
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    if uses_default_role(project):
        resources[EXECUTION_ROLE_ID] = execution_role(project)
    resources.update(own_roles(project, ids))  # functions with policies: (sam_settings.py)
    if canary is not None and canary.predefined is None:
        resources[CANARY_CONFIG_ID] = canary_config(canary)
    for fn in project.functions:
        resources[ids[fn.key]] = function_resource(fn, alias, code_uris[fn.key], canary, keep_names)
        if fn.role is None and fn.settings.policies:
            resources[ids[fn.key]]["Properties"]["Role"] = {"Fn::GetAtt": [own_role_id(ids[fn.key]), "Arn"]}
        outputs.update(function_outputs(fn, ids[fn.key], alias))
    resources.update(s3_notifications.resources(project, alias, ids))
    resources.update(http_apis.resources(project, alias))
    outputs.update(http_apis.outputs(project, alias))
    resources.update(settings_resources(project, ids, keep_names))  # log groups with a retention
    where = f"project {project.project}" if project.project else str(project.config_file.name)
    info = metadata(project, alias, ids)
    for key, sha in (code_sha256 or {}).items():
        info["functions"][key]["codeSha256"] = sha
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": SAM_TRANSFORM,
        "Description": f"lambdadeploy export of {where}, alias {alias}"[:1024],
        "Metadata": {"lambdadeploy": info},
        "Resources": resources,
        "Outputs": outputs,
    }
    # Secrets (read from `env`, or under a *_TOKEN-like name) become NoEcho parameters.
    return hide_secrets(template, project.secret_values)


def function_outputs(fn: FunctionConfig, logical_id: str, alias: str) -> dict[str, Any]:
    """The stack's outputs for one function: its alias ARN, and its URL when it has one."""
    outputs = {f"{logical_id}AliasArn": {"Description": f"{fn.name}:{alias}", "Value": {"Ref": f"{logical_id}.Alias"}}}
    if any(t.kind == "url" for t in fn.triggers):
        outputs[f"{logical_id}UrlEndpoint"] = {
            "Description": f"function URL of {fn.name}:{alias}",
            "Value": {"Fn::GetAtt": [f"{logical_id}Url", "FunctionUrl"]},
        }
    return outputs


def require_alias(project: Project, alias: str) -> None:
    if alias not in project.aliases:
        raise InvalidInputError(f"alias {alias!r} is not one of the aliases in {project.config_file}",
                                hint="aliases: " + ", ".join(project.aliases))


def for_alias(project: Project, alias: str) -> Project:
    """The project with only the triggers that apply to `alias` (no `alias:`, or this one)."""
    functions = tuple(replace(fn, triggers=fn.triggers_for(alias)) for fn in project.functions)
    return replace(project, functions=functions)


def function_ids(project: Project) -> dict[str, str]:
    """Function key -> logical id, e.g. resize -> ResizeFunction (numbered when two keys collide)."""
    taken = {EXECUTION_ROLE_ID, CANARY_CONFIG_ID, s3_notifications.HANDLER_ID, s3_notifications.HANDLER_ROLE_ID}
    return {fn.key: unique(logical_name(fn.key) + "Function", taken) for fn in project.functions}


def execution_role(project: Project) -> dict[str, Any]:
    """The project's role, as the CLI's PROJECT-lambda-exec: basic logging plus reading queues/streams
    (and what its functions' settings need). CloudFormation names it (a fixed name would clash with
    the role the CLI created)."""
    return role_resource(role_spec(default_role_name(project), default_role_functions(project)), project)


def role_of(fn: FunctionConfig) -> Any:
    if fn.role is None:
        return {"Fn::GetAtt": [EXECUTION_ROLE_ID, "Arn"]}
    if fn.role.startswith("arn:"):
        return fn.role
    return role_arn(fn.role)


def canary_config(canary: CanarySettings) -> dict[str, Any]:
    """A CodeDeploy config for a canary SAM has no predefined type for (e.g. 25% for 10 minutes)."""
    return {
        "Type": "AWS::CodeDeploy::DeploymentConfig",
        "Properties": {
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": {
                "Type": "TimeBasedCanary",
                "TimeBasedCanary": {"CanaryPercentage": int(canary.percent), "CanaryInterval": int(canary.minutes)},
            },
        },
    }


def deployment_preference(canary: CanarySettings | None) -> dict[str, Any]:
    if canary is None:
        return {"Type": "AllAtOnce"}
    return {"Type": canary.predefined or {"Ref": CANARY_CONFIG_ID}}


def function_resource(fn: FunctionConfig, alias: str, code_uri: str, canary: CanarySettings | None,
                      keep_names: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if keep_names:
        properties["FunctionName"] = fn.name
    properties.update({
        "CodeUri": code_uri,
        "Handler": fn.handler,
        "Runtime": fn.runtime,
        "Architectures": [fn.architecture],
        "MemorySize": fn.memory,
        "Timeout": fn.timeout,
        "Role": role_of(fn),
    })
    if fn.description:
        properties["Description"] = fn.description
    if fn.environment:
        properties["Environment"] = {"Variables": {str(k): str(v) for k, v in fn.environment.items()}}
    if fn.layers:
        properties["Layers"] = list(fn.layers)
    if fn.tags:
        properties["Tags"] = {str(k): str(v) for k, v in fn.tags.items()}
    properties["AutoPublishAlias"] = alias
    properties["AutoPublishAliasAllProperties"] = True
    properties["DeploymentPreference"] = deployment_preference(canary)
    events = function_events(fn, alias)
    if events:
        properties["Events"] = events
    for trigger in fn.triggers:
        properties.update(registry.kind(trigger.kind).sam_function_properties(trigger))
    properties.update(settings_properties(fn, alias))  # vpc, logging, concurrency, ... (sam_settings.py)
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


def function_events(fn: FunctionConfig, alias: str) -> dict[str, Any]:
    """SAM events named for their source (SqsJobs, SnsThumbs); kinds without one (s3: a custom
    resource; url: FunctionUrlConfig) are wired otherwise."""
    events: dict[str, Any] = {}
    taken: set[str] = set()
    for trigger in fn.triggers:
        for event in registry.kind(trigger.kind).sam_events(trigger, fn.name, alias):
            events[unique(logical_name(event.name), taken)] = {"Type": event.type, "Properties": dict(event.properties)}
    return events


def describe_trigger(trigger: Trigger) -> str:
    """One line per trigger for the template's Metadata, e.g. `sqs queue arn:aws:sqs:...:jobs`."""
    return f"{trigger.kind} {registry.kind(trigger.kind).source(trigger.settings)}"


def metadata(project: Project, alias: str, ids: Mapping[str, str]) -> dict[str, Any]:
    """What was exported, readable in the template: each function, its alias and its triggers."""
    return {
        "project": project.project,
        "alias": alias,
        "functions": {
            fn.key: {
                "name": fn.name,
                "logicalId": ids[fn.key],
                "alias": alias,
                "triggers": [describe_trigger(t) for t in fn.triggers],
            }
            for fn in project.functions
        },
    }
