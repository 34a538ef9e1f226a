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

A setting that GetFunction does not return (an alias's provisioned concurrency or event
invoke configuration) registers an `ExtraRead` in EXTRA_READS: the fast path reads it only
when lambda.yaml sets it for the alias or the tags say the remote has it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from ..aws import AwsNotFound, AwsSession
from ..aws.client import Client
from ..config.model import FunctionConfig
from .history import AliasHistory

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
    }


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
    concurrency: Mapping[str, Any] = field(default_factory=dict)  # GetFunction's Concurrency
    settings: Mapping[str, Any] = field(default_factory=dict)  # ExtraRead name -> what was read
    # FULL: `versions` and `aliases` are complete. Otherwise they hold what was read: the
    # served version (and candidates for reuse), the pushed alias; `config`, `code_sha256`
    # and `revision_id` describe $LATEST only from CHANGE on.
    depth: Depth = Depth.FULL

    def matching_version(self, code_sha256: str, config: Mapping[str, Any], prefer: str | None = None) -> str | None:
        """The newest known published version with exactly this code and configuration
        (`prefer`, the version an alias serves, when it is one of them: no move needed)."""
        ordered = sorted(self.versions, key=lambda v: (v.version == prefer, int(v.version)), reverse=True)
        for version in ordered:
            if version.code_sha256 == code_sha256 and dict(version.config) == dict(config):
                return version.version
        return None

    def version(self, number: str) -> VersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def alias_arn(self, alias: str) -> str:
        """The alias's ARN as AWS spells it: the function's ARN and the alias name."""
        return f"{self.arn}:{alias}"


@dataclass(frozen=True)
class ExtraRead:
    """A setting GetFunction does not return, read by its own API (the seam for alias-level
    settings such as provisioned concurrency or an event invoke configuration).

    The fast path calls `read(client, function, alias)` only when `wanted(fn, alias)` (lambda.yaml
    sets it) or `present(tags, alias)` (a marker the executor tagged when it wrote the setting:
    the remote has it); the value lands in `RemoteFunction.settings[name]` for plan.py to
    compare. Without either, the setting is taken as absent and costs no request."""

    name: str
    wanted: Callable[[FunctionConfig, str], bool]
    present: Callable[[Mapping[str, str], str], bool]
    read: Callable[[Client, str, str], Any]


EXTRA_READS: list[ExtraRead] = []


def _unqualified_arn(arn: str) -> str:
    """`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` without the qualifier."""
    return ":".join(arn.split(":")[:7])


def _version_of(configuration: Mapping[str, Any]) -> VersionState:
    return VersionState(version=str(configuration.get("Version")), code_sha256=configuration.get("CodeSha256", ""),
                        config=managed_config(configuration), code_size=configuration.get("CodeSize", 0),
                        last_modified=configuration.get("LastModified", ""))


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
        tags=response.get("Tags") or {}, concurrency=response.get("Concurrency") or {}, depth=depth)


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
    function) does not exist, GetFunction of $LATEST; plus the ExtraReads that apply."""
    client = session.client("lambda")
    try:
        response = client.get_function(FunctionName=fn.name, Qualifier=alias)
    except AwsNotFound:
        try:
            response = client.get_function(FunctionName=fn.name)
        except AwsNotFound:
            return RemoteFunction(name=fn.name, exists=False, depth=Depth.FULL)
        # No alias yet: this answer is $LATEST, the next depth's first read.
        return replace(_from_get_function(fn.name, response, Depth.SERVED), settings=_extra(client, fn, alias, {}))
    served = _version_of(response["Configuration"])
    remote = _from_get_function(fn.name, response, Depth.SERVED)
    return replace(remote, versions=(served,), aliases={alias: AliasState(alias, served.version)},
                   settings=_extra(client, fn, alias, remote.tags))


def _extra(client: Client, fn: FunctionConfig, alias: str, tags: Mapping[str, str]) -> dict[str, Any]:
    return {extra.name: extra.read(client, fn.name, alias) for extra in EXTRA_READS
            if extra.wanted(fn, alias) or extra.present(tags, alias)}


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
    return replace(latest, depth=Depth.CHANGE, aliases=aliases, settings=remote.settings,
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
