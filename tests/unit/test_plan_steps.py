"""Planning, step for step: every field of every step and of the plan, for each path through
plan_push, plan_finish, plan_promote, plan_rollback and plan_prune.

test_plan.py checks the shape of plans; these pin their content, so that a step aimed at the
wrong function, alias or version cannot pass (found by the mutation run, docs/mutation.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.engine.plan import (
    NEW_VERSION,
    CreateFunction,
    FieldChange,
    FunctionPlan,
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
    plan_finish,
    plan_promote,
    plan_prune,
    plan_push,
    plan_rollback,
    tag_changes,
)
from lambdadeploy.engine.remote import (
    AliasHistory,
    AliasState,
    RemoteFunction,
    VersionState,
    managed_config,
)
from lambdadeploy.engine.settings_config import managed_settings
from lambdadeploy.errors import InvalidInputError

ROLE = "arn:aws:iam::123456789012:role/app"
FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler",
                    environment={"STAGE": "dev"})
ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-api"
GONE = RemoteFunction(FN.name, exists=False)


def alias(name: str, version: str, *previous: str, weights: dict[str, float] | None = None) -> AliasState:
    return AliasState(name, version, history=AliasHistory(previous), weights=weights or {})


def remote(versions: dict[str, str] | None = None, *aliases: AliasState, sha: str = "sha1",
           fn: FunctionConfig = FN, config: dict | None = None) -> RemoteFunction:
    """A deployed function whose $LATEST and versions all have fn's configuration (or `config`)."""
    config = config if config is not None else desired_config(fn, ROLE)
    versions = versions if versions is not None else {"1": sha}
    return RemoteFunction(
        name=fn.name, exists=True, arn=ARN, config=config, code_sha256=sha, tags=desired_tags(fn),
        versions=tuple(VersionState(v, s, config) for v, s in versions.items()),
        aliases={a.name: a for a in aliases},
    )


def changed(**fields) -> FunctionConfig:
    return FunctionConfig(**{**FN.__dict__, **fields})


# -- desired configuration -------------------------------------------------------------

def test_desired_config_is_shaped_like_the_configuration_read_back() -> None:
    fn = changed(runtime="python3.13", architecture="arm64", memory=512, timeout=30, description="orders",
                 layers=("arn:aws:lambda:us-east-1:123456789012:layer:deps:3",))
    expected = {
        "Runtime": "python3.13", "Handler": "app.handler", "Role": ROLE, "MemorySize": 512, "Timeout": 30,
        "Description": "orders", "Environment": {"STAGE": "dev"},
        "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"], "Architectures": ["arm64"],
        **managed_settings({"FunctionName": "shop-api"}),  # VPC, logging, ... at AWS's defaults
    }
    assert desired_config(fn, ROLE) == expected
    # What GetFunction returns for that function reads back as the same thing: no spurious diff.
    configuration = {
        "FunctionName": "shop-api", "Runtime": "python3.13", "Handler": "app.handler", "Role": ROLE,
        "MemorySize": 512, "Timeout": 30, "Description": "orders", "CodeSha256": "abc", "Version": "$LATEST",
        "Environment": {"Variables": {"STAGE": "dev"}},
        "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3", "CodeSize": 10}],
        "Architectures": ["arm64"],
    }
    assert managed_config(configuration) == expected


def test_managed_config_fills_what_aws_leaves_out() -> None:
    assert managed_config({"Runtime": "python3.12", "Handler": "a.b", "Role": ROLE, "MemorySize": 128,
                           "Timeout": 3}) == {
        "Runtime": "python3.12", "Handler": "a.b", "Role": ROLE, "MemorySize": 128, "Timeout": 3,
        "Description": "", "Environment": {}, "Layers": [], "Architectures": ["x86_64"], **managed_settings({}),
    }
    # Present but empty or null is the same as absent; layers may come as plain ARNs.
    blank = managed_config({"Description": None, "Environment": {"Variables": None}, "Layers": ["arn:l:1"],
                            "Architectures": []})
    assert (blank["Description"], blank["Environment"], blank["Layers"], blank["Architectures"]) == (
        "", {}, ["arn:l:1"], ["x86_64"])
    assert managed_config({"Environment": {}})["Environment"] == {}
    assert managed_config({})["Runtime"] is None


# -- push ------------------------------------------------------------------------------

def test_first_push_creates_publishes_smokes_and_creates_the_alias() -> None:
    plan = plan_push(FN, "sha1", ROLE, GONE, "dev")
    assert plan == FunctionPlan(FN, (
        CreateFunction("shop-api", desired_config(FN, ROLE)),
        Publish("shop-api", "sha1"),
        Smoke("shop-api", NEW_VERSION),
        MoveAlias("shop-api", "dev", None, NEW_VERSION, ()),
    ), "dev", None, NEW_VERSION)
    assert plan.uploads and plan.publishes


def test_first_push_with_a_rollout_simply_creates_the_alias() -> None:
    plan = plan_push(FN, "sha1", ROLE, GONE, "prod", rollout=Rollout(10, watch_seconds=60))
    assert plan.steps[-1] == MoveAlias("shop-api", "prod", None, NEW_VERSION, ())
    assert not any(isinstance(s, ShiftTraffic | Watch) for s in plan.steps)


def test_new_code_uploads_publishes_and_records_where_the_alias_was() -> None:
    plan = plan_push(FN, "sha2", ROLE, remote(None, alias("dev", "1", "0")), "dev")
    assert plan == FunctionPlan(FN, (
        UploadCode("shop-api", "sha1", "sha2", "x86_64"),
        Publish("shop-api", "sha2"),
        Smoke("shop-api", NEW_VERSION),
        MoveAlias("shop-api", "dev", "1", NEW_VERSION, ("1", "0")),
    ), "dev", "1", NEW_VERSION)
    assert plan.uploads and plan.publishes


def test_new_configuration_updates_it_without_an_upload() -> None:
    fn = changed(memory=512, environment={"STAGE": "prod", "NEW": "1"})
    plan = plan_push(fn, "sha1", ROLE, remote(None, alias("dev", "1")), "dev")
    assert plan == FunctionPlan(fn, (
        UpdateConfig("shop-api", (
            FieldChange("MemorySize", 128, 512),
            FieldChange("Environment.NEW", None, "1"),
            FieldChange("Environment.STAGE", "dev", "prod"),
        ), desired_config(fn, ROLE)),
        Publish("shop-api", "sha1"),
        Smoke("shop-api", NEW_VERSION),
        MoveAlias("shop-api", "dev", "1", NEW_VERSION, ("1",)),
    ), "dev", "1", NEW_VERSION)
    assert not plan.uploads and plan.publishes


def test_a_new_architecture_is_a_code_upload_not_a_configuration_update() -> None:
    fn = changed(architecture="arm64")
    plan = plan_push(fn, "sha1", ROLE, remote(None, alias("dev", "1")), "dev")
    assert plan.steps[:2] == (UploadCode("shop-api", "sha1", "sha1", "arm64"), Publish("shop-api", "sha1"))
    assert not any(isinstance(s, UpdateConfig) for s in plan.steps)


def test_new_configuration_and_code_update_then_upload() -> None:
    fn = changed(timeout=60)
    steps = plan_push(fn, "sha2", ROLE, remote(None, alias("dev", "1")), "dev").steps
    assert steps[:3] == (
        UpdateConfig("shop-api", (FieldChange("Timeout", 10, 60),), desired_config(fn, ROLE)),
        UploadCode("shop-api", "sha1", "sha2", "x86_64"),
        Publish("shop-api", "sha2"),
    )


def test_a_version_with_this_code_and_configuration_is_reused() -> None:
    plan = plan_push(FN, "sha1", ROLE, remote(None, alias("dev", "1")), "prod")
    assert plan == FunctionPlan(FN, (
        UseVersion("shop-api", "1"),
        Smoke("shop-api", "1"),
        MoveAlias("shop-api", "prod", None, "1", ()),
    ), "prod", None, "1")
    assert not plan.uploads and not plan.publishes


def test_the_newest_matching_version_is_reused() -> None:
    versions = {"2": "sha1", "9": "sha1", "10": "sha1", "11": "other"}
    assert remote(versions).matching_version("sha1", desired_config(FN, ROLE)) == "10"
    assert remote(versions).matching_version("sha1", {**desired_config(FN, ROLE), "Timeout": 3}) is None
    assert plan_push(FN, "sha1", ROLE, remote(versions), "dev").target_version == "10"


def test_an_alias_already_there_gives_an_empty_plan() -> None:
    assert plan_push(FN, "sha1", ROLE, remote(None, alias("dev", "1")), "dev") == FunctionPlan(
        FN, (), "dev", "1", "1")


def test_an_alias_with_a_canary_on_it_is_moved_wholly_even_when_it_serves_this_code() -> None:
    current = alias("prod", "1", "0", weights={"2": 0.1})
    plan = plan_push(FN, "sha1", ROLE, remote({"1": "sha1", "2": "sha2"}, current), "prod",
                     rollout=Rollout(10, watch_seconds=60))
    assert plan == FunctionPlan(FN, (
        UseVersion("shop-api", "1"),
        Smoke("shop-api", "1"),
        MoveAlias("shop-api", "prod", "1", "1", ("1", "0")),
    ), "prod", "1", "1")


def test_skip_smoke_plans_no_smoke_step_and_nothing_else_changes() -> None:
    plan = plan_push(FN, "sha2", ROLE, remote(None, alias("dev", "1")), "dev", skip_smoke=True)
    assert plan.steps == (
        UploadCode("shop-api", "sha1", "sha2", "x86_64"),
        Publish("shop-api", "sha2"),
        MoveAlias("shop-api", "dev", "1", NEW_VERSION, ("1",)),
    )


def test_tags_come_first_and_name_the_function_arn() -> None:
    tagged = changed(tags={"team": "web"})
    plan = plan_push(tagged, "sha2", ROLE, remote(None, alias("dev", "1")), "dev")
    assert plan.steps[0] == UpdateTags("shop-api", ARN, {"team": "web"}, (), {})
    assert isinstance(plan.steps[1], UploadCode)


def test_tag_changes_sets_removes_or_does_nothing() -> None:
    base = remote()
    assert tag_changes(FN, base) is None
    assert tag_changes(changed(tags={"team": "web"}), base) == UpdateTags("shop-api", ARN, {"team": "web"}, (), {})
    stale = RemoteFunction(**{**base.__dict__, "tags": {**base.tags, "old": "x", "aws:cloudformation:stack": "s"}})
    assert tag_changes(FN, stale) == UpdateTags("shop-api", ARN, {}, ("old",), {"old": "x"})
    unmanaged = RemoteFunction(**{**base.__dict__, "tags": {}})
    assert tag_changes(FN, unmanaged) == UpdateTags(
        "shop-api", ARN, {"managed-by": "lambdadeploy", "lambdadeploy:description": "none"}, (), {})
    # A new description changes the digest tag, the one thing the fast path's read can see of it.
    described = changed(description="resizes images")
    (digest,) = tag_changes(described, base).set_tags.items()
    assert digest[0] == "lambdadeploy:description" and digest[1] not in ("none", base.tags[digest[0]])


def test_a_canary_without_watch_stops_after_shifting_traffic() -> None:
    plan = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1")), "prod", rollout=Rollout(10))
    assert plan == FunctionPlan(FN, (
        UploadCode("shop-api", "sha1", "sha2", "x86_64"),
        Publish("shop-api", "sha2"),
        Smoke("shop-api", NEW_VERSION),
        ShiftTraffic("shop-api", "prod", "1", NEW_VERSION, 0.1),
    ), "prod", "1", NEW_VERSION)


def test_a_watched_canary_shifts_watches_then_moves_the_alias() -> None:
    rollout = Rollout(10, watch_seconds=60, alarms=("errors-high",))
    plan = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1", "0")), "prod", rollout=rollout)
    assert plan.steps[2:] == (
        Smoke("shop-api", NEW_VERSION),
        ShiftTraffic("shop-api", "prod", "1", NEW_VERSION, 0.1),
        Watch("shop-api", "prod", "1", NEW_VERSION, 60, ("errors-high",), settle_seconds=180),
        MoveAlias("shop-api", "prod", "1", NEW_VERSION, ("1", "0")),
    )
    assert (plan.current_version, plan.target_version) == ("1", NEW_VERSION)


def test_a_canary_to_a_version_already_published_names_it() -> None:
    plan = plan_push(FN, "sha2", ROLE, remote({"1": "sha1", "2": "sha2"}, alias("prod", "1")), "prod",
                     rollout=Rollout(25, watch_seconds=5))
    assert plan.steps == (
        UseVersion("shop-api", "2"),
        Smoke("shop-api", "2"),
        ShiftTraffic("shop-api", "prod", "1", "2", 0.25),
        Watch("shop-api", "prod", "1", "2", 5, (), settle_seconds=180),
        MoveAlias("shop-api", "prod", "1", "2", ("1",)),
    )


def test_a_linear_rollout_adds_its_step_until_short_of_100_percent() -> None:
    rollout = Rollout(10, watch_seconds=30, linear_step=30)
    steps = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1")), "prod", rollout=rollout).steps
    shifts = [s.weight for s in steps if isinstance(s, ShiftTraffic)]
    assert shifts == [0.1, 0.4, 0.7]  # 100 % is the final alias move, not a shift
    assert [type(s) for s in steps[3:]] == [ShiftTraffic, Watch] * 3 + [MoveAlias]
    # Weights are kept to four decimals, as Lambda's routing config takes them.
    odd = Rollout(5, watch_seconds=1, linear_step=100 / 3)
    steps = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1")), "prod", rollout=odd).steps
    assert [s.weight for s in steps if isinstance(s, ShiftTraffic)] == [0.05, 0.3833, 0.7167]


# -- finish ----------------------------------------------------------------------------

def test_finish_moves_the_alias_wholly_to_the_canary() -> None:
    current = alias("prod", "3", "2", weights={"4": 0.1})
    plan = plan_finish(FN, remote({"2": "a", "3": "b", "4": "c"}, current), "prod")
    assert plan == FunctionPlan(FN, (MoveAlias("shop-api", "prod", "3", "4", ("3", "2")),), "prod", "3", "4")


def test_finish_takes_the_highest_canary_version() -> None:
    current = alias("prod", "3", weights={"9": 0.1, "10": 0.1})
    assert plan_finish(FN, remote(None, current), "prod").target_version == "10"


def test_finish_without_a_canary_does_nothing() -> None:
    assert plan_finish(FN, remote(None, alias("prod", "3")), "prod") == FunctionPlan(FN, (), "prod", "3", "3")
    assert plan_finish(FN, remote(None), "prod") == FunctionPlan(FN, (), "prod", None, "")
    assert plan_finish(FN, GONE, "prod") == FunctionPlan(FN, (), "prod", None, "")


# -- promote ---------------------------------------------------------------------------

def test_promote_smokes_the_source_version_then_moves_the_target_alias() -> None:
    state = remote({"1": "a", "2": "b"}, alias("dev", "2"), alias("prod", "1", "0"))
    assert plan_promote(FN, ROLE, state, "dev", "prod") == FunctionPlan(FN, (
        Smoke("shop-api", "2"),
        MoveAlias("shop-api", "prod", "1", "2", ("1", "0")),
    ), "prod", "1", "2")


def test_promote_to_an_alias_that_does_not_exist_creates_it() -> None:
    state = remote({"1": "a"}, alias("dev", "1"))
    assert plan_promote(FN, ROLE, state, "dev", "prod") == FunctionPlan(FN, (
        Smoke("shop-api", "1"),
        MoveAlias("shop-api", "prod", None, "1", ()),
    ), "prod", None, "1")


def test_promote_to_an_alias_already_there_does_nothing_unless_it_carries_a_canary() -> None:
    state = remote({"1": "a", "2": "b"}, alias("dev", "1"), alias("prod", "1"))
    assert plan_promote(FN, ROLE, state, "dev", "prod") == FunctionPlan(FN, (), "prod", "1", "1")
    canary = remote({"1": "a", "2": "b"}, alias("dev", "1"), alias("prod", "1", weights={"2": 0.1}))
    assert plan_promote(FN, ROLE, canary, "dev", "prod").steps == (
        Smoke("shop-api", "1"), MoveAlias("shop-api", "prod", "1", "1", ("1",)))


def test_promote_conflict_names_the_function_version_and_fields() -> None:
    state = remote({"1": "a", "2": "b"}, alias("dev", "2"))
    result = plan_promote(changed(memory=256), ROLE, state, "dev", "prod")
    assert result == PromoteConflict("shop-api", "2", (FieldChange("MemorySize", 128, 256),))


def test_promote_ignores_the_architecture_which_is_part_of_the_code() -> None:
    state = remote({"1": "a"}, alias("dev", "1"))
    assert isinstance(plan_promote(changed(architecture="arm64"), ROLE, state, "dev", "prod"), FunctionPlan)


def test_promote_from_an_alias_on_an_unlisted_version_compares_against_nothing() -> None:
    state = remote({"1": "a"}, alias("dev", "$LATEST"))
    result = plan_promote(FN, ROLE, state, "dev", "prod")
    assert isinstance(result, PromoteConflict) and result.version == "$LATEST"
    assert {c.field for c in result.changes} >= {"Runtime", "Handler", "Role", "Environment.STAGE"}


def test_promote_from_a_missing_alias_says_how_to_create_it() -> None:
    for state in (remote(None, alias("prod", "1")), GONE):
        with pytest.raises(InvalidInputError) as caught:
            plan_promote(FN, ROLE, state, "dev", "prod")
        assert caught.value.message == "shop-api: alias 'dev' does not exist"
        assert caught.value.hint == "push it first: lambdadeploy push --alias dev"


# -- rollback --------------------------------------------------------------------------

def test_rollback_of_a_canary_puts_all_traffic_back_on_the_stable_version() -> None:
    state = remote({"2": "a", "3": "b", "4": "c"}, alias("prod", "3", "2", weights={"4": 0.1}))
    assert plan_rollback(FN, state, "prod") == FunctionPlan(
        FN, (MoveAlias("shop-api", "prod", "3", "3", ("2",)),), "prod", "3", "3")


def test_rollback_of_a_canary_to_a_named_version_goes_there() -> None:
    state = remote({"2": "a", "3": "b", "4": "c"}, alias("prod", "3", "2", weights={"4": 0.1}))
    assert plan_rollback(FN, state, "prod", "2") == FunctionPlan(
        FN, (MoveAlias("shop-api", "prod", "3", "2", ("3", "2")),), "prod", "3", "2")


def test_rollback_pops_the_recorded_history() -> None:
    state = remote({"1": "a", "2": "b", "3": "c"}, alias("prod", "3", "1", "2"))
    assert plan_rollback(FN, state, "prod") == FunctionPlan(
        FN, (MoveAlias("shop-api", "prod", "3", "1", ("2",)),), "prod", "3", "1")


def test_rollback_to_a_named_version_pushes_the_current_one_on_the_history() -> None:
    state = remote({"1": "a", "2": "b", "3": "c"}, alias("prod", "3", "2", "1"))
    assert plan_rollback(FN, state, "prod", "1") == FunctionPlan(
        FN, (MoveAlias("shop-api", "prod", "3", "1", ("3", "2", "1")),), "prod", "3", "1")


def test_rollback_to_where_the_alias_already_is_does_nothing() -> None:
    state = remote({"1": "a", "2": "b"}, alias("prod", "2", "1"))
    assert plan_rollback(FN, state, "prod", "2") == FunctionPlan(FN, (), "prod", "2", "2")


def test_rollback_without_history_takes_the_highest_version_below() -> None:
    state = remote({str(v): f"s{v}" for v in range(1, 6)}, alias("prod", "4"))
    assert plan_rollback(FN, state, "prod") == FunctionPlan(
        FN, (MoveAlias("shop-api", "prod", "4", "3", ()),), "prod", "4", "3")


def test_rollback_with_nothing_to_go_back_to_says_so() -> None:
    for current in ("1", "$LATEST"):
        with pytest.raises(InvalidInputError) as caught:
            plan_rollback(FN, remote({"1": "a"}, alias("prod", current)), "prod")
        assert caught.value.message == (
            f"shop-api: alias prod is at version {current} and no earlier version exists")


def test_rollback_to_an_unknown_version_lists_the_published_ones() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_rollback(FN, remote({"1": "a", "2": "b"}, alias("prod", "2")), "prod", "9")
    assert caught.value.message == "shop-api: version 9 does not exist"
    assert caught.value.hint == "published versions: 1, 2"
    with pytest.raises(InvalidInputError) as caught:
        plan_rollback(FN, remote({}, alias("prod", "$LATEST")), "prod", "9")
    assert caught.value.hint == "published versions: none"


def test_rollback_of_a_missing_alias_or_function_is_invalid_input() -> None:
    for state in (remote(None), GONE):
        with pytest.raises(InvalidInputError) as caught:
            plan_rollback(FN, state, "prod")
        assert caught.value.message == "shop-api: alias 'prod' does not exist; nothing to roll back"


# -- prune -----------------------------------------------------------------------------

def test_prune_orders_versions_as_numbers() -> None:
    state = remote({str(v): f"s{v}" for v in range(1, 13)}, alias("prod", "2"))
    assert plan_prune(state, keep=1) == ("1", "3", "4", "5", "6", "7", "8", "9", "10", "11")
    assert plan_prune(state, keep=3) == ("1", "3", "4", "5", "6", "7", "8", "9")


def test_only_the_last_watch_waits_for_late_metrics() -> None:
    rollout = Rollout(10, watch_seconds=30, linear_step=30, metrics_delay=120)
    steps = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1")), "prod", rollout=rollout).steps
    assert [s.settle_seconds for s in steps if isinstance(s, Watch)] == [0, 0, 120]


def test_trigger_steps_are_added_after_the_plan_s_own_and_nothing_else_changes() -> None:
    plan = plan_push(FN, "sha2", ROLE, remote(None, alias("prod", "1")), "prod")
    extra = (Smoke("shop-api", "9"),)  # any step: deploy.py adds the trigger kinds' steps this way
    assert plan.with_steps(extra) == FunctionPlan(FN, (*plan.steps, *extra), "prod", "1", NEW_VERSION)
    assert plan.with_steps(()) == plan
