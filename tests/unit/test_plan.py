"""Planning is pure: desired vs remote state -> steps. No AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.engine.plan import (
    NEW_VERSION,
    CreateFunction,
    MoveAlias,
    PromoteConflict,
    Publish,
    Rollout,
    ShiftTraffic,
    Smoke,
    UpdateConfig,
    UpdateTags,
    UploadCode,
    UseVersion,
    Watch,
    desired_config,
    desired_tags,
    plan_promote,
    plan_push,
    plan_rollback,
)
from lambdadeploy.engine.remote import AliasHistory, AliasState, RemoteFunction, VersionState
from lambdadeploy.errors import InvalidInputError

ROLE = "arn:aws:iam::123456789012:role/r"
FN = FunctionConfig(key="hello", name="demo-hello", source=Path("/src"), handler="app.handler",
                    environment={"GREETING": "hi"})


def deployed(sha: str = "sha1", versions: dict[str, str] | None = None, aliases: dict[str, str] | None = None,
             fn: FunctionConfig = FN, history: dict[str, tuple[str, ...]] | None = None) -> RemoteFunction:
    config = desired_config(fn, ROLE)
    versions = versions if versions is not None else {"1": sha}
    return RemoteFunction(
        name=fn.name, exists=True, config=config, code_sha256=sha, tags=desired_tags(fn),
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{fn.name}",
        versions=tuple(VersionState(v, s, config) for v, s in versions.items()),
        aliases={a: AliasState(a, v, history=AliasHistory((history or {}).get(a, ())))
                 for a, v in (aliases or {}).items()},
    )


def kinds(plan) -> list[type]:
    return [type(step) for step in plan.steps]


def test_new_function_is_created_published_smoked_and_aliased() -> None:
    plan = plan_push(FN, "sha1", ROLE, RemoteFunction(FN.name, exists=False), "dev")
    assert kinds(plan) == [CreateFunction, Publish, Smoke, MoveAlias]
    move = plan.steps[-1]
    assert move.from_version is None and move.to_version == NEW_VERSION


def test_unchanged_push_does_nothing() -> None:
    plan = plan_push(FN, "sha1", ROLE, deployed(aliases={"dev": "1"}), "dev")
    assert plan.steps == () and plan.target_version == "1"
    assert not plan.uploads and not plan.publishes


def test_code_change_uploads_publishes_and_moves_alias_with_history() -> None:
    remote = deployed(aliases={"dev": "1"}, history={"dev": ("0",)})
    plan = plan_push(FN, "sha2", ROLE, remote, "dev")
    assert kinds(plan) == [UploadCode, Publish, Smoke, MoveAlias]
    move = plan.steps[-1]
    assert (move.from_version, move.to_version, move.previous) == ("1", NEW_VERSION, ("1", "0"))


def test_config_change_lists_fields() -> None:
    changed = FunctionConfig(**{**FN.__dict__, "memory": 512, "environment": {"GREETING": "yo"}})
    plan = plan_push(changed, "sha1", ROLE, deployed(aliases={"dev": "1"}), "dev")
    assert kinds(plan) == [UpdateConfig, Publish, Smoke, MoveAlias]
    fields = {(c.field, c.old, c.new) for c in plan.steps[0].changes}
    assert fields == {("MemorySize", 128, 512), ("Environment.GREETING", "hi", "yo")}


def test_second_alias_reuses_existing_version_after_smoke() -> None:
    plan = plan_push(FN, "sha1", ROLE, deployed(aliases={"dev": "1"}), "prod")
    assert kinds(plan) == [UseVersion, Smoke, MoveAlias]
    assert plan.target_version == "1" and not plan.publishes


def test_skip_smoke_omits_the_smoke_step() -> None:
    plan = plan_push(FN, "sha2", ROLE, deployed(aliases={"dev": "1"}), "dev", skip_smoke=True)
    assert Smoke not in kinds(plan) and MoveAlias in kinds(plan)


def test_alias_move_is_always_last() -> None:
    for remote in (RemoteFunction(FN.name, exists=False), deployed(aliases={"dev": "1"})):
        plan = plan_push(FN, "sha9", ROLE, remote, "dev")
        assert isinstance(plan.steps[-1], MoveAlias)
        assert kinds(plan).index(Smoke) < kinds(plan).index(MoveAlias)


def test_canary_is_smoke_tested_before_any_traffic_shifts() -> None:
    remote = deployed(aliases={"prod": "1"})
    left = plan_push(FN, "sha2", ROLE, remote, "prod", rollout=Rollout(10))
    assert kinds(left) == [UploadCode, Publish, Smoke, ShiftTraffic]
    assert left.steps[-1].weight == 0.1 and left.steps[-1].stable == "1"
    watched = plan_push(FN, "sha2", ROLE, remote, "prod", rollout=Rollout(10, watch_seconds=60))
    assert kinds(watched) == [UploadCode, Publish, Smoke, ShiftTraffic, Watch, MoveAlias]
    linear = plan_push(FN, "sha2", ROLE, remote, "prod", rollout=Rollout(40, watch_seconds=60, linear_step=40))
    assert kinds(linear) == [UploadCode, Publish, Smoke, ShiftTraffic, Watch, ShiftTraffic, Watch, MoveAlias]
    assert [s.weight for s in linear.steps if isinstance(s, ShiftTraffic)] == [0.4, 0.8]
    reused = plan_push(FN, "sha2", ROLE, deployed("sha2", {"1": "sha1", "2": "sha2"}, {"prod": "1"}), "prod",
                       rollout=Rollout(10))
    assert kinds(reused) == [UseVersion, Smoke, ShiftTraffic]
    assert reused.steps[1].version == "2" and reused.steps[2].canary == "2"


def test_promote_moves_to_source_version_after_smoke() -> None:
    remote = deployed(versions={"1": "a", "2": "b"}, aliases={"dev": "2", "prod": "1"})
    plan = plan_promote(FN, ROLE, remote, "dev", "prod")
    assert kinds(plan) == [Smoke, MoveAlias]
    assert plan.steps[-1].to_version == "2" and plan.steps[-1].from_version == "1"


def test_promote_refuses_when_configuration_differs() -> None:
    remote = deployed(aliases={"dev": "1"})
    for_prod = FunctionConfig(**{**FN.__dict__, "environment": {"GREETING": "hi", "STAGE": "prod"}})
    result = plan_promote(for_prod, ROLE, remote, "dev", "prod")
    assert isinstance(result, PromoteConflict)
    assert [(c.field, c.old, c.new) for c in result.changes] == [("Environment.STAGE", None, "prod")]
    forced = plan_promote(for_prod, ROLE, remote, "dev", "prod", force=True)
    assert kinds(forced) == [Smoke, MoveAlias]


def test_promote_from_missing_alias_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        plan_promote(FN, ROLE, deployed(), "dev", "prod")


def test_rollback_uses_recorded_history_then_pops_it() -> None:
    remote = deployed(versions={"1": "a", "2": "b", "3": "c"}, aliases={"prod": "3"}, history={"prod": ("1", "2")})
    plan = plan_rollback(FN, remote, "prod")
    move = plan.steps[-1]
    assert (move.from_version, move.to_version, move.previous) == ("3", "1", ("2",))


def test_rollback_without_history_takes_highest_lower_version() -> None:
    remote = deployed(versions={"1": "a", "2": "b", "3": "c"}, aliases={"prod": "3"})
    assert plan_rollback(FN, remote, "prod").target_version == "2"


def test_rollback_to_explicit_version_and_unknown_version() -> None:
    remote = deployed(versions={"1": "a", "2": "b"}, aliases={"prod": "2"})
    plan = plan_rollback(FN, remote, "prod", "1")
    assert plan.steps[-1].previous == ("2",)
    with pytest.raises(InvalidInputError):
        plan_rollback(FN, remote, "prod", "9")


def test_rollback_with_nothing_earlier_is_an_error() -> None:
    with pytest.raises(InvalidInputError):
        plan_rollback(FN, deployed(aliases={"prod": "1"}), "prod")


def test_alias_history_round_trips_and_ignores_foreign_descriptions() -> None:
    history = AliasHistory(("3", "2"), "v4 passed in 5 ms")
    assert AliasHistory.decode(history.encode()) == history
    assert len(AliasHistory(tuple(str(i) for i in range(50)), "x" * 40).encode()) <= 256
    assert AliasHistory.decode("hand-written description") == AliasHistory()


def test_prune_keeps_newest_and_everything_an_alias_or_weight_points_to() -> None:
    from lambdadeploy.engine.plan import plan_prune

    remote = deployed(versions={str(i): f"s{i}" for i in range(1, 9)}, aliases={"prod": "2", "dev": "7"})
    remote = RemoteFunction(**{**remote.__dict__, "aliases": {
        **remote.aliases, "prod": AliasState("prod", "2", weights={"4": 0.1})}})
    assert plan_prune(remote, keep=2) == ("1", "3", "5", "6")
    assert plan_prune(remote, keep=0) == ("1", "3", "5", "6", "8")
    assert plan_prune(RemoteFunction("x", exists=False), keep=1) == ()


def test_tags_follow_lambda_yaml_without_a_new_version() -> None:
    remote = RemoteFunction(**{**deployed(aliases={"dev": "1"}).__dict__,
                               "tags": {"managed-by": "lambdadeploy", "lambdadeploy:description": "none",
                                        "team": "old", "stale": "x",
                                        "lambdadeploy:triggers:dev": "none", "aws:cloudformation:x": "y"}})
    tagged = FunctionConfig(**{**FN.__dict__, "tags": {"team": "media"}})
    plan = plan_push(tagged, "sha1", ROLE, remote, "dev")
    assert kinds(plan) == [UpdateTags] and not plan.publishes
    (step,) = plan.steps
    assert dict(step.set_tags) == {"team": "media"} and step.remove == ("stale",)
