"""Project layers in plans, pure: whether to publish, how functions name the version, what prune
keeps; and how plan and push show them. No AWS."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from lambdadeploy.config.model import FunctionConfig, LayerConfig
from lambdadeploy.engine import layers
from lambdadeploy.engine.layers import LayerVersionState, RemoteLayer
from lambdadeploy.engine.plan import (
    NEW_VERSION,
    MoveAlias,
    Smoke,
    UpdateConfig,
    desired_config,
    plan_promote,
    plan_push,
)
from lambdadeploy.engine.remote import AliasState, RemoteFunction, VersionState
from lambdadeploy.engine.report import LayerOutcome, LayerPlanReport, ProjectPlan
from lambdadeploy.engine.steps import PublishLayer
from lambdadeploy.output import Output
from lambdadeploy.output.results import plan_document, render_plan, results_document
from lambdadeploy.packaging import LayerArtifact
from lambdadeploy.packaging.layers import version_description

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
DEPS = LayerConfig(key="deps", name="shop-deps", runtimes=("python3.12",), architectures=("x86_64",),
                   source=Path("/p/layers/deps"), description="shared code")
FN = FunctionConfig(key="api", name="shop-api", source=Path("/p/functions/api"), handler="app.handler",
                    layers=("deps", f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:theirs:4"))


def artifact(sha: str = "c2hhMQ==") -> LayerArtifact:
    return LayerArtifact("deps", b"zip", sha, "ab", 3, 10, 1, None, 0.1, False)


def arn(version: int | str, name: str = "shop-deps") -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:{version}"


def version(number: int, sha: str | None, *, runtimes: tuple[str, ...] = ("python3.12",),
            description: str | None = None) -> LayerVersionState:
    return LayerVersionState(arn(number), number, description if description is not None else
                             version_description(DEPS, sha or "other"), runtimes, ("x86_64",), sha)


def plan(remote: RemoteLayer, sha: str = "c2hhMQ==") -> layers.LayerPlan:
    return layers.plan_layer(DEPS, artifact(sha), remote, REGION, ACCOUNT, "aws")


def test_the_version_description_carries_the_content_hash_within_awss_limit() -> None:
    text = version_description(dataclasses.replace(DEPS, description="d" * 191), "A" * 43 + "=")
    assert text.endswith("lambdadeploy:sha256=" + "A" * 43 + "=") and len(text) == 256
    assert version_description(dataclasses.replace(DEPS, description=""), "x=") == "lambdadeploy:sha256=x="


def test_a_new_layer_is_published_and_functions_plan_the_new_version() -> None:
    planned = plan(RemoteLayer("shop-deps"))
    assert planned.step == PublishLayer("deps", "shop-deps", "c2hhMQ==", "shared code lambdadeploy:sha256=c2hhMQ==",
                                        ("python3.12",), ("x86_64",), None, 3)
    assert planned.arn == arn(NEW_VERSION)
    resolved = layers.resolve(FN, {"deps": planned.arn})
    assert resolved.layers == (arn(NEW_VERSION), FN.layers[1])


def test_the_newest_version_with_this_content_is_reused() -> None:
    remote = RemoteLayer("shop-deps", (version(1, "c2hhMQ=="), version(2, "other"), version(3, "c2hhMQ==")))
    assert plan(remote) == layers.LayerPlan(DEPS, artifact(), arn(3), None)


def test_a_description_that_lies_about_the_content_is_not_trusted() -> None:
    """The description finds the candidate; GetLayerVersion's CodeSha256 must confirm it."""
    lying = LayerVersionState(arn(5), 5, version_description(DEPS, "c2hhMQ=="), ("python3.12",), ("x86_64",), "else")
    planned = plan(RemoteLayer("shop-deps", (lying,)))
    assert planned.step is not None and planned.step.latest == "5"


def test_other_runtimes_or_architectures_need_a_new_version() -> None:
    remote = RemoteLayer("shop-deps", (version(1, "c2hhMQ==", runtimes=("python3.11", "python3.12")),))
    assert plan(remote).step is not None
    other_arch = dataclasses.replace(version(2, "c2hhMQ=="), architectures=("arm64",))
    assert plan(RemoteLayer("shop-deps", (other_arch,))).step is not None


def test_the_placeholder_becomes_the_published_version_everywhere_in_the_plan() -> None:
    fn = layers.resolve(FN, {"deps": arn(NEW_VERSION)})
    old = {**desired_config(layers.resolve(FN, {"deps": arn(1)}), ROLE)}
    remote = RemoteFunction(fn.name, True, arn="f", config=old, code_sha256="code",
                            versions=(VersionState("1", "code", old),), aliases={"dev": AliasState("dev", "1")})
    planned = plan_push(fn, "code", ROLE, remote, "dev")
    (update,) = [s for s in planned.steps if isinstance(s, UpdateConfig)]
    assert [c.field for c in update.changes] == ["Layers"]
    done = layers.with_published(planned, {arn(NEW_VERSION): arn(2)})
    (update,) = [s for s in done.steps if isinstance(s, UpdateConfig)]
    assert update.config["Layers"] == [arn(2), FN.layers[1]]
    assert update.changes[0].new == [arn(2), FN.layers[1]] and update.changes[0].old == [arn(1), FN.layers[1]]
    assert done.function.layers == (arn(2), FN.layers[1])
    assert layers.with_published(planned, {}) is planned


def test_promote_takes_the_layer_version_the_source_alias_serves() -> None:
    """A layer version is content, like the code, which promote does not compare either."""
    served = desired_config(layers.resolve(FN, {"deps": arn(7)}), ROLE)
    remote = RemoteFunction(FN.name, True, arn="f", config=served, code_sha256="c",
                            versions=(VersionState("3", "c", served),), aliases={"dev": AliasState("dev", "3")})
    resolved = layers.resolve_as_served(FN, {"deps": "shop-deps"}, served["Layers"])
    promoted = plan_promote(resolved, ROLE, remote, "dev", "prod")
    assert [type(s) for s in promoted.steps] == [Smoke, MoveAlias]
    skipped = plan_promote(resolved, ROLE, remote, "dev", "prod", skip_smoke=True)
    assert [type(s) for s in skipped.steps] == [MoveAlias]
    # A version without the project's layer does not fit.
    bare = layers.resolve_as_served(FN, {"deps": "shop-deps"}, [FN.layers[1]])
    conflict = plan_promote(bare, ROLE, remote, "dev", "prod")
    assert [c.field for c in conflict.changes] == ["Layers"]


def test_prune_keeps_what_latest_aliases_and_canaries_use() -> None:
    def config(*versions: int) -> dict:
        return {"Layers": [arn(v) for v in versions]}

    remote_fn = RemoteFunction("shop-api", True, config=config(6), versions=(
        VersionState("1", "c", config(1)), VersionState("2", "c", config(2)), VersionState("3", "c", config(3)),
        VersionState("4", "c", config(4))),
        aliases={"prod": AliasState("prod", "2", weights={"3": 0.1}), "dev": AliasState("dev", "9")})
    used = layers.used_versions([remote_fn, RemoteFunction("gone", False)])
    assert used == {arn(6), arn(2), arn(3)}
    remote = RemoteLayer("shop-deps", tuple(version(n, None) for n in range(1, 8)))
    assert layers.plan_layer_prune(remote, used, keep=1) == (1, 4, 5)
    assert layers.plan_layer_prune(remote, used, keep=0) == (1, 4, 5, 7)


def test_plan_and_push_show_layer_publishes() -> None:
    published = plan(RemoteLayer("shop-deps", (version(1, "old"),)))
    project_plan = ProjectPlan("dev", (), (), (), (LayerPlanReport(DEPS, published),))
    assert project_plan.has_changes
    out = Output(json_mode=False, color=False)
    lines: list[str] = []
    out.result = lines.append  # type: ignore[method-assign]
    render_plan(out, project_plan)
    assert lines[0] == "layers:\n  + layer deps: version (new) of shop-deps (after version 1), for python3.12 x86_64"
    assert lines[-1] == "Plan: 1 to add, 0 to change, 0 to remove."
    document = plan_document(project_plan)
    assert document["layers"][0]["publish"] is True and document["summary"]["add"] == 1
    assert document["layers"][0]["steps"][0]["kind"] == "publish_layer"
    unchanged = ProjectPlan("dev", (), (), (), (LayerPlanReport(DEPS, plan(RemoteLayer("x", (version(4, "c2hhMQ=="),)))),))
    assert not unchanged.has_changes
    results = results_document("push", [], (), (), [LayerOutcome(DEPS, arn(2), True, artifact())])
    assert json.loads(json.dumps(results))["layers"] == [{
        "layer": "deps", "name": "shop-deps", "version_arn": arn(2), "published": True, "error": None,
        "package": {"zipped_bytes": 3, "unzipped_bytes": 10, "files": 1, "sha256": "c2hhMQ==",
                    "dependencies_from_cache": None, "left_out": [], "notes": []}}]
