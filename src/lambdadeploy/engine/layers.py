"""Project layers in AWS: read their versions, plan (pure) whether to publish, publish, prune.

A layer version is immutable, so whether a new one is needed is a question of content: each
version the tool publishes carries the sha256 of its zip in its description (where it survives
on AWS, with no local state), e.g. `Shared code lambdadeploy:sha256=BASE64`. A push lists the
layer's versions (ListLayerVersions), takes the newest whose description, compatible runtimes
and architectures are exactly what this build would publish, confirms its content with
GetLayerVersion (`Content.CodeSha256`), and reuses it; otherwise it publishes one. Functions
name layers by key; `resolve` turns the names into version ARNs, a placeholder ending in
`:(new)` standing for a version this push publishes until `with_published` fills it in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..aws import AwsNotFound, AwsSession
from ..config.model import FunctionConfig, LayerConfig
from ..diff import FieldChange
from ..packaging import LayerArtifact
from ..packaging.layers import version_description as description
from .plan import FunctionPlan
from .remote import RemoteFunction
from .steps import NEW_VERSION, CreateFunction, PublishLayer, UpdateConfig


@dataclass(frozen=True)
class LayerVersionState:
    arn: str
    version: int
    description: str = ""
    runtimes: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    code_sha256: str | None = None  # read (GetLayerVersion) only for the version a push would reuse


@dataclass(frozen=True)
class RemoteLayer:
    name: str
    versions: tuple[LayerVersionState, ...] = ()  # oldest first


@dataclass(frozen=True)
class LayerPlan:
    """What a push does about one layer: reuse `arn`, or publish (`step`) and use the new version."""

    layer: LayerConfig
    artifact: LayerArtifact
    arn: str  # a version ARN, or the placeholder ending in :(new) when `step` publishes one
    step: PublishLayer | None


def layer_arn(name: str, version: str, region: str, account: str, partition: str) -> str:
    return f"arn:{partition}:lambda:{region}:{account}:layer:{name}:{version}"


def read_layer(session: AwsSession, name: str, wanted_description: str | None = None) -> RemoteLayer:
    """The layer's versions; the newest with `wanted_description` also gets its content hash."""
    client = session.client("lambda")
    versions = []
    try:
        for page in client.pages("list_layer_versions", LayerName=name):
            for item in page.get("LayerVersions") or []:
                versions.append(LayerVersionState(
                    arn=item["LayerVersionArn"], version=int(item["Version"]), description=item.get("Description") or "",
                    runtimes=tuple(item.get("CompatibleRuntimes") or ()),
                    architectures=tuple(item.get("CompatibleArchitectures") or ())))
    except AwsNotFound:
        versions = []
    versions.sort(key=lambda v: v.version)
    candidates = [v for v in versions if wanted_description is not None and v.description == wanted_description]
    if candidates:
        newest = candidates[-1]
        try:
            content = client.get_layer_version(LayerName=name, VersionNumber=newest.version).get("Content") or {}
        except AwsNotFound:  # deleted meanwhile
            content = {}
        versions[versions.index(newest)] = dataclasses.replace(newest, code_sha256=content.get("CodeSha256") or "")
    return RemoteLayer(name, tuple(versions))


def plan_layer(layer: LayerConfig, artifact: LayerArtifact, remote: RemoteLayer, region: str, account: str,
               partition: str) -> LayerPlan:
    """Reuse the newest version with exactly this content, runtimes and architectures, else publish."""
    wanted = description(layer, artifact.sha256)
    for version in reversed(remote.versions):
        if (version.description == wanted and version.code_sha256 == artifact.sha256
                and sorted(version.runtimes) == sorted(layer.runtimes)
                and sorted(version.architectures) == sorted(layer.architectures)):
            return LayerPlan(layer, artifact, version.arn, None)
    latest = str(remote.versions[-1].version) if remote.versions else None
    step = PublishLayer(layer.key, layer.name, artifact.sha256, wanted, layer.runtimes, layer.architectures, latest,
                        artifact.zipped_size)
    return LayerPlan(layer, artifact, layer_arn(layer.name, NEW_VERSION, region, account, partition), step)


def resolve(fn: FunctionConfig, arns: Mapping[str, str]) -> FunctionConfig:
    """The function with its project layers named by version ARN (ARNs it lists stay as they are)."""
    if not any(ref in arns for ref in fn.layers):
        return fn
    return dataclasses.replace(fn, layers=tuple(arns.get(ref, ref) for ref in fn.layers))


def resolve_as_served(fn: FunctionConfig, names: Mapping[str, str], served: Iterable[str]) -> FunctionConfig:
    """For promote: the function with each project layer (key -> LayerName in `names`) named by the
    version of it that `served` (a published version's layer ARNs) uses. A layer version's content
    is like the code, which promote does not compare either; a different layer is still a difference."""
    by_name = {arn.split(":")[6]: arn for arn in served if arn.count(":") == 7}
    arns = {key: by_name.get(name, f"(a version of layer {name})") for key, name in names.items()}
    return resolve(fn, arns)


def with_published(plan: FunctionPlan, published: Mapping[str, str]) -> FunctionPlan:
    """The plan with each placeholder ARN (`...:(new)`) replaced by the version just published."""
    if not published:
        return plan

    def swap(layers: Iterable[str] | None) -> list[str] | None:
        return None if layers is None else [published.get(arn, arn) for arn in layers]

    steps = []
    for step in plan.steps:
        if isinstance(step, CreateFunction | UpdateConfig) and "Layers" in step.config:
            config = {**step.config, "Layers": swap(step.config["Layers"])}
            if isinstance(step, CreateFunction):
                step = dataclasses.replace(step, config=config)
            else:
                changes = tuple(FieldChange(c.field, c.old, swap(c.new)) if c.field == "Layers" else c
                                for c in step.changes)
                step = dataclasses.replace(step, config=config, changes=changes)
        steps.append(step)
    function = dataclasses.replace(plan.function, layers=tuple(published.get(a, a) for a in plan.function.layers))
    return dataclasses.replace(plan, function=function, steps=tuple(steps))


def publish(session: AwsSession, step: PublishLayer, artifact: LayerArtifact, s3_bucket: str | None) -> str:
    """Publish the layer version; its ARN."""
    client = session.client("lambda")
    if artifact.needs_s3 and s3_bucket:
        key = f"lambdadeploy/layers/{step.name}/{artifact.sha256_hex}.zip"
        session.client("s3").put_object(Bucket=s3_bucket, Key=key, Body=artifact.zip_bytes)
        content = {"S3Bucket": s3_bucket, "S3Key": key}
    else:
        content = {"ZipFile": artifact.zip_bytes}
    response = client.publish_layer_version(
        LayerName=step.name, Description=step.description, Content=content,
        CompatibleRuntimes=list(step.runtimes), CompatibleArchitectures=list(step.architectures))
    return response["LayerVersionArn"]


def used_versions(remotes: Iterable[RemoteFunction]) -> set[str]:
    """Layer version ARNs that $LATEST, an alias or a canary weight of these functions uses."""
    used: set[str] = set()
    for remote in remotes:
        if not remote.exists:
            continue
        used.update(remote.config.get("Layers") or [])
        served = {a.version for a in remote.aliases.values()} | {v for a in remote.aliases.values() for v in a.weights}
        for number in served:
            version = remote.version(number)
            if version is not None:
                used.update(version.config.get("Layers") or [])
    return used


def plan_layer_prune(remote: RemoteLayer, used: set[str], keep: int) -> tuple[int, ...]:
    """Versions to delete: all but the newest `keep`, never one that $LATEST, an alias or a
    canary weight uses (a function version that keeps an older layer version keeps working:
    Lambda keeps the content of a deleted layer version for the functions that use it)."""
    newest = {v.version for v in remote.versions[-keep:]} if keep > 0 else set()
    return tuple(v.version for v in remote.versions if v.version not in newest and v.arn not in used)
