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
from .history import AliasHistory
from .provenance import Source


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
