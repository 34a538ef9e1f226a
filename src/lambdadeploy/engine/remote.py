"""Read what exists in AWS for a function: configuration, code sha, versions, aliases.

It returns frozen snapshots; plan.py compares them with the desired state without
touching AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..aws import AwsNotFound, AwsSession
from ..config.model import FunctionConfig
from ..config.settings import SETTINGS_MARKER_PREFIX
from .history import AliasHistory
from .provenance import Source
from .settings_config import managed_settings


def managed_config(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """From a GetFunction/ListVersions configuration, in one canonical shape, the fields a
    version freezes (README "promote": versions are immutable) and lambda.yaml controls."""
    return {
        "Runtime": configuration.get("Runtime"),
        "Handler": configuration.get("Handler"),
        "Role": configuration.get("Role"),
        "MemorySize": configuration.get("MemorySize"),
        "Timeout": configuration.get("Timeout"),
        "Description": configuration.get("Description") or "",
        "Environment": dict((configuration.get("Environment") or {}).get("Variables") or {}),
        "Layers": [layer["Arn"] if isinstance(layer, dict) else layer for layer in configuration.get("Layers") or []],
        "Architectures": list(configuration.get("Architectures") or ["x86_64"]),
        **managed_settings(configuration),  # vpc, storage, tracing, logging, ... (settings_config.py)
    }


def version_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a version is besides its code: a managed_config without `Description`. A version's
    description is where push records its provenance (engine/provenance.py), and lambda.yaml's
    `description` documents the function ($LATEST): neither decides whether a version is reused."""
    return {name: value for name, value in config.items() if name != "Description"}


@dataclass(frozen=True)
class AliasState:
    name: str
    version: str
    revision_id: str | None = None
    history: AliasHistory = field(default_factory=AliasHistory)
    weights: Mapping[str, float] = field(default_factory=dict)  # canary: version -> weight


@dataclass(frozen=True)
class VersionState:
    version: str
    code_sha256: str
    config: Mapping[str, Any]
    code_size: int = 0
    last_modified: str = ""
    description: str = ""  # the version's own description: for a push, where it came from

    @property
    def source(self) -> Source | None:
        """The commit, CI run and pusher recorded at publish; None for a version published otherwise."""
        return Source.parse(self.description)


@dataclass(frozen=True)
class RemoteFunction:
    """A function as it exists in AWS; `exists=False` when it does not."""

    name: str
    exists: bool
    arn: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    code_sha256: str | None = None
    code_size: int = 0
    last_modified: str = ""
    revision_id: str | None = None
    versions: tuple[VersionState, ...] = ()
    aliases: Mapping[str, AliasState] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None  # GetFunction's Concurrency: function-level, not in a version

    def matching_version(self, code_sha256: str, config: Mapping[str, Any]) -> str | None:
        """The newest published version with exactly this code and configuration (compared as
        version_config: never the description, which records provenance)."""
        wanted = version_config(config)
        for version in sorted(self.versions, key=lambda v: int(v.version), reverse=True):
            if version.code_sha256 == code_sha256 and version_config(version.config) == wanted:
                return version.version
        return None

    def version(self, number: str) -> VersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def alias_arn(self, alias: str) -> str:
        """The alias's ARN as AWS spells it: the function's ARN and the alias name."""
        return f"{self.arn}:{alias}"


def read_function(session: AwsSession, name: str) -> RemoteFunction:
    """GetFunction, the versions and the aliases, read at the same time (one round trip's
    latency instead of three; a missing function makes the other two fail, which is fine)."""
    client = session.client("lambda")
    with ThreadPoolExecutor(max_workers=3) as pool:
        function = pool.submit(client.get_function, FunctionName=name)
        versions = pool.submit(read_versions, session, name)
        aliases = pool.submit(read_aliases, session, name)
        try:
            response = function.result()
        except AwsNotFound:
            return RemoteFunction(name=name, exists=False)
        configuration = response["Configuration"]
        return RemoteFunction(
            name=name,
            exists=True,
            arn=configuration.get("FunctionArn", ""),
            config=managed_config(configuration),
            code_sha256=configuration.get("CodeSha256"),
            code_size=configuration.get("CodeSize", 0),
            last_modified=configuration.get("LastModified", ""),
            revision_id=configuration.get("RevisionId"),
            versions=versions.result(),
            aliases=aliases.result(),
            tags=response.get("Tags") or {},
            reserved_concurrency=(response.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
        )


def read_versions(session: AwsSession, name: str) -> tuple[VersionState, ...]:
    client = session.client("lambda")
    versions = []
    for page in client.pages("list_versions_by_function", FunctionName=name):
        for item in page["Versions"]:
            if item["Version"] == "$LATEST":
                continue
            versions.append(
                VersionState(
                    version=item["Version"],
                    code_sha256=item.get("CodeSha256", ""),
                    config=version_config(managed_config(item)),
                    code_size=item.get("CodeSize", 0),
                    last_modified=item.get("LastModified", ""),
                    description=item.get("Description") or "",
                )
            )
    return tuple(sorted(versions, key=lambda v: int(v.version)))


def read_aliases(session: AwsSession, name: str) -> dict[str, AliasState]:
    client = session.client("lambda")
    aliases = {}
    for page in client.pages("list_aliases", FunctionName=name):
        for item in page["Aliases"]:
            weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            aliases[item["Name"]] = AliasState(
                name=item["Name"],
                version=item["FunctionVersion"],
                revision_id=item.get("RevisionId"),
                history=AliasHistory.decode(item.get("Description")),
                weights={str(k): float(v) for k, v in weights.items()},
            )
    return aliases


# --- settings outside the version --------------------------------------------------------
# Asynchronous invocation and provisioned concurrency live on the alias, log retention on the
# log group, the runtime update mode on $LATEST: none is in GetFunction's answer, so each is
# one more call. A push makes it only while lambda.yaml sets the setting or the alias's marker
# tag (SETTINGS_MARKER_PREFIX + alias) says the last push managed it (so a setting removed
# from lambda.yaml is still found and removed). Reserved concurrency needs no call: GetFunction
# returns it (RemoteFunction.reserved_concurrency).

SETTING_KINDS = ("async", "provisioned", "retention", "runtime")


@dataclass(frozen=True)
class ProvisionedState:
    requested: int
    allocated: int
    status: str  # IN_PROGRESS | READY | FAILED
    reason: str = ""


@dataclass(frozen=True)
class LogGroupState:
    name: str
    exists: bool
    retention_days: int | None = None


@dataclass(frozen=True)
class SettingsState:
    """What one alias's push found of the settings outside the version (None: not read, or none)."""

    alias: str
    arn: str  # the function's ARN (tagged with the marker)
    marked: frozenset[str] = frozenset()  # kinds the alias's marker tag lists
    read: frozenset[str] = frozenset()  # kinds read this time
    async_config: Mapping[str, Any] | None = None  # canonical: see async_state()
    provisioned: ProvisionedState | None = None
    log_group: LogGroupState | None = None
    runtime: Mapping[str, Any] | None = None  # {"UpdateRuntimeOn", "RuntimeVersionArn"}


def marked_kinds(tags: Mapping[str, str], alias: str) -> frozenset[str]:
    return frozenset(tags.get(SETTINGS_MARKER_PREFIX + alias, "").split()) & frozenset(SETTING_KINDS)


def wanted_kinds(fn: FunctionConfig, alias: str) -> frozenset[str]:
    """The kinds lambda.yaml sets for this alias."""
    settings = fn.settings
    wanted = {"async": settings.async_invoke is not None, "provisioned": alias in settings.provisioned_concurrency,
              "retention": settings.log_retention is not None, "runtime": settings.runtime_management is not None}
    return frozenset(kind for kind, yes in wanted.items() if yes)


def async_state(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A GetFunctionEventInvokeConfig answer in the canonical shape lambda.yaml's `async` plans against."""
    if config is None:
        return None
    destinations = config.get("DestinationConfig") or {}
    return {"MaximumRetryAttempts": config.get("MaximumRetryAttempts"),
            "MaximumEventAgeInSeconds": config.get("MaximumEventAgeInSeconds"),
            "OnSuccess": (destinations.get("OnSuccess") or {}).get("Destination") or None,
            "OnFailure": (destinations.get("OnFailure") or {}).get("Destination") or None}


def read_settings(session: AwsSession, fn: FunctionConfig, remote: RemoteFunction, alias: str,
                  arn: str, log_group: str) -> SettingsState:
    """Read the settings outside the version that lambda.yaml or the marker names, in parallel:
    GetFunctionEventInvokeConfig and GetProvisionedConcurrencyConfig (alias), DescribeLogGroups,
    GetRuntimeManagementConfig ($LATEST)."""
    marked = marked_kinds(remote.tags, alias)
    kinds = wanted_kinds(fn, alias) | marked
    alias_exists = remote.exists and alias in remote.aliases
    reads = {kind for kind in kinds if kind == "retention" or (kind == "runtime" and remote.exists)
             or (kind in ("async", "provisioned") and alias_exists)}
    client = session.client("lambda")

    def provisioned() -> ProvisionedState | None:
        try:
            answer = client.get_provisioned_concurrency_config(FunctionName=fn.name, Qualifier=alias)
        except AwsNotFound:  # ProvisionedConcurrencyConfigNotFoundException is a 404
            return None
        return ProvisionedState(answer.get("RequestedProvisionedConcurrentExecutions") or 0,
                                answer.get("AllocatedProvisionedConcurrentExecutions") or 0,
                                answer.get("Status", ""), answer.get("StatusReason") or "")

    def async_config() -> dict[str, Any] | None:
        try:
            return async_state(client.get_function_event_invoke_config(FunctionName=fn.name, Qualifier=alias))
        except AwsNotFound:
            return None

    def group() -> LogGroupState:
        logs = session.client("logs")
        for page in logs.pages("describe_log_groups", logGroupNamePrefix=log_group):
            for item in page.get("logGroups", []):
                if item.get("logGroupName") == log_group:
                    return LogGroupState(log_group, True, item.get("retentionInDays"))
        return LogGroupState(log_group, False)

    def runtime() -> dict[str, Any]:
        answer = client.get_runtime_management_config(FunctionName=fn.name)
        return {"UpdateRuntimeOn": answer.get("UpdateRuntimeOn", "Auto"),
                "RuntimeVersionArn": answer.get("RuntimeVersionArn") or None}

    calls = {"async": async_config, "provisioned": provisioned, "retention": group, "runtime": runtime}
    with ThreadPoolExecutor(max_workers=max(1, len(reads))) as pool:
        found = {kind: pool.submit(calls[kind]) for kind in reads}
        results = {kind: future.result() for kind, future in found.items()}
    return SettingsState(alias, arn, marked, frozenset(reads), results.get("async"), results.get("provisioned"),
                         results.get("retention"), results.get("runtime"))
