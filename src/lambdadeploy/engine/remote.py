"""Read what exists in AWS for a function: configuration, code sha, versions, aliases.

It returns frozen snapshots; plan.py compares them with the desired state without
touching AWS. Two ways to read, for AWS's request quotas (aws/quotas.py: GetFunction 100
per second, every other control-plane API 15 per second for the whole account):

- `read_function` reads everything (GetFunction, every version, every alias), for status,
  promote, rollback and prune, which need the lists;
- a push reads in depths, each only when the one before is not enough (deploy.py
  decides, from the plan): `read_served` is one GetFunction(Qualifier=ALIAS), which
  returns the version the alias serves with its configuration and code sha, the
  function's tags and its reserved concurrency, at the 100-per-second quota: all an
  unchanged function needs (the fast path). `read_for_change` adds $LATEST (GetFunction),
  the aliases (one ListAliases: their versions, histories, weights and RevisionIds) and the
  versions worth reusing (those any alias serves or recorded before, by GetFunction);
  `with_all_versions` lists every version, only when $LATEST already holds what lambda.yaml
  asks for and no known version does (a push interrupted between upload and alias move).

The settings GetFunction does not return (an alias's provisioned concurrency or event
invoke configuration, log retention, runtime management) are read by `read_settings`, on
every depth, only when lambda.yaml sets them for the alias or the marker tag says the
last push managed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from ..aws import AwsNotFound, AwsSession
from ..config.model import FunctionConfig
from ..config.settings import SETTINGS_MARKER_PREFIX
from .history import AliasHistory
from .provenance import Source
from .settings_config import managed_settings

REUSE_HISTORY = 5  # how many versions an alias recorded before are worth checking for reuse


class Depth(Enum):
    """How much of a function a snapshot holds."""

    SERVED = "served"  # one GetFunction(Qualifier=ALIAS): the served version, tags, concurrency
    CHANGE = "change"  # + $LATEST, the alias itself, and the versions worth reusing
    FULL = "full"  # every version and every alias


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
    # FULL: `versions` and `aliases` are complete. Otherwise they hold what was read: the
    # served version (and candidates for reuse), the aliases; `config`, `code_sha256`
    # and `revision_id` describe $LATEST only from CHANGE on.
    depth: Depth = Depth.FULL

    def matching_version(self, code_sha256: str, config: Mapping[str, Any], prefer: str | None = None) -> str | None:
        """The newest known published version with exactly this code and configuration
        (`prefer`, the version an alias serves, when it is one of them: no move needed),
        compared as version_config: never the description, which records provenance."""
        wanted = version_config(config)
        ordered = sorted(self.versions, key=lambda v: (v.version == prefer, int(v.version)), reverse=True)
        for version in ordered:
            if version.code_sha256 == code_sha256 and version_config(version.config) == wanted:
                return version.version
        return None

    def version(self, number: str) -> VersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def alias_arn(self, alias: str) -> str:
        """The alias's ARN as AWS spells it: the function's ARN and the alias name."""
        return f"{self.arn}:{alias}"


def _unqualified_arn(arn: str) -> str:
    """`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` without the qualifier."""
    return ":".join(arn.split(":")[:7])


def _version_of(configuration: Mapping[str, Any]) -> VersionState:
    return VersionState(version=str(configuration.get("Version")), code_sha256=configuration.get("CodeSha256", ""),
                        config=version_config(managed_config(configuration)), code_size=configuration.get("CodeSize", 0),
                        last_modified=configuration.get("LastModified", ""),
                        description=configuration.get("Description") or "")


def _from_get_function(name: str, response: Mapping[str, Any], depth: Depth) -> RemoteFunction:
    """A snapshot from one GetFunction answer; unqualified, it describes $LATEST."""
    configuration = response["Configuration"]
    latest = configuration.get("Version", "$LATEST") == "$LATEST"
    return RemoteFunction(
        name=name, exists=True, arn=_unqualified_arn(configuration.get("FunctionArn", "")),
        config=managed_config(configuration) if latest else {},
        code_sha256=configuration.get("CodeSha256") if latest else None,
        code_size=configuration.get("CodeSize", 0), last_modified=configuration.get("LastModified", ""),
        revision_id=configuration.get("RevisionId") if latest else None,
        tags=response.get("Tags") or {},
        reserved_concurrency=(response.get("Concurrency") or {}).get("ReservedConcurrentExecutions"), depth=depth)


def read_function(session: AwsSession, name: str) -> RemoteFunction:
    """GetFunction, every version and every alias, read at the same time (one round trip's
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
        return replace(_from_get_function(name, response, Depth.FULL), versions=versions.result(),
                       aliases=aliases.result())


def read_served(session: AwsSession, fn: FunctionConfig, alias: str) -> RemoteFunction:
    """The fast path's one read: GetFunction(Qualifier=ALIAS), or when the alias (or the
    function) does not exist, GetFunction of $LATEST."""
    client = session.client("lambda")
    try:
        response = client.get_function(FunctionName=fn.name, Qualifier=alias)
    except AwsNotFound:
        try:
            response = client.get_function(FunctionName=fn.name)
        except AwsNotFound:
            return RemoteFunction(name=fn.name, exists=False, depth=Depth.FULL)
        # No alias yet: this answer is $LATEST, the next depth's first read.
        return _from_get_function(fn.name, response, Depth.SERVED)
    served = _version_of(response["Configuration"])
    remote = _from_get_function(fn.name, response, Depth.SERVED)
    return replace(remote, versions=(served,), aliases={alias: AliasState(alias, served.version)})


def read_for_change(session: AwsSession, remote: RemoteFunction, alias: str, other_aliases: tuple[str, ...]
                    ) -> RemoteFunction:
    """What a push that changes something needs beyond `read_served`: $LATEST (its RevisionId
    guards the writes), the aliases (ListAliases: each one's version, weights, history and
    RevisionId in one request, the only one here on the 15-per-second budget), and the
    versions worth reusing, each by GetFunction: those any alias serves or routes to and the
    last REUSE_HISTORY each alias recorded. Every alias's history counts, not only the pushed
    one's: a new prod asking for what dev served before reuses that version (README
    guarantee 5). `other_aliases` is kept for callers; every alias is listed anyway."""
    client = session.client("lambda")
    name = remote.name
    latest = remote if remote.code_sha256 is not None else _from_get_function(
        name, client.get_function(FunctionName=name), Depth.CHANGE)
    aliases = {**remote.aliases, **read_aliases(session, name)}
    known = {v.version for v in remote.versions}
    wanted: list[str] = []
    for state in aliases.values():
        wanted += [v for v in (state.version, *state.weights, *state.history.previous[:REUSE_HISTORY])
                   if v not in known and v != "$LATEST"]

    def version(qualifier: str) -> VersionState | None:
        try:
            return _version_of(client.get_function(FunctionName=name, Qualifier=qualifier)["Configuration"])
        except AwsNotFound:  # an alias not created yet, a version deleted since (prune)
            return None

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(wanted)))) as pool:
        found = [v for v in pool.map(version, dict.fromkeys(wanted)) if v is not None]
    versions = {v.version: v for v in (*remote.versions, *found)}
    return replace(latest, depth=Depth.CHANGE, aliases=aliases,
                   versions=tuple(sorted(versions.values(), key=lambda v: int(v.version))))


def with_all_versions(session: AwsSession, remote: RemoteFunction) -> RemoteFunction:
    """The snapshot with every published version listed (ListVersionsByFunction, every page)."""
    listed = {v.version: v for v in (*remote.versions, *read_versions(session, remote.name))}
    return replace(remote, versions=tuple(sorted(listed.values(), key=lambda v: int(v.version))))


def read_versions(session: AwsSession, name: str) -> tuple[VersionState, ...]:
    client = session.client("lambda")
    versions = [_version_of(item) for page in client.pages("list_versions_by_function", FunctionName=name)
                for item in page["Versions"] if item["Version"] != "$LATEST"]
    return tuple(sorted(versions, key=lambda v: int(v.version)))


def _alias_state(item: Mapping[str, Any]) -> AliasState:
    weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(name=item["Name"], version=item["FunctionVersion"], revision_id=item.get("RevisionId"),
                      history=AliasHistory.decode(item.get("Description")),
                      weights={str(k): float(v) for k, v in weights.items()})


def read_aliases(session: AwsSession, name: str) -> dict[str, AliasState]:
    client = session.client("lambda")
    return {item["Name"]: _alias_state(item) for page in client.pages("list_aliases", FunctionName=name)
            for item in page["Aliases"]}


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
