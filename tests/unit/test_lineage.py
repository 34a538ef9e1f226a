"""history and diff from one read of a function: moves newest first with the commit each version
recorded; what differs between two aliases' versions, secrets never shown."""

from __future__ import annotations

import pytest

from lambdadeploy.engine.history import AliasHistory, Move
from lambdadeploy.engine.lineage import MASK, alias_diff, alias_history, when
from lambdadeploy.engine.plan import desired_config
from lambdadeploy.engine.provenance import Source
from lambdadeploy.engine.remote import AliasState, RemoteFunction, VersionState
from lambdadeploy.errors import InvalidInputError

from .test_plan import FN, ROLE

CONFIG = desired_config(FN, ROLE)
NOW = Move("3", "20250610T1234Z", "push", "ok", "alice")


def function(aliases: dict[str, AliasState], versions: dict[str, tuple[str, dict, str]]) -> RemoteFunction:
    return RemoteFunction(name="shop-api", exists=True, aliases=aliases, versions=tuple(
        VersionState(v, sha, config, description=description) for v, (sha, config, description) in versions.items()))


def test_history_is_the_moves_newest_first_with_each_versions_commit() -> None:
    history = AliasHistory((Move("2", "20250609T0900Z", "promote", "ok", "bob"), "1"), "v3 passed", NOW)
    remote = function({"prod": AliasState("prod", "3", history=history)}, {
        "2": ("b", CONFIG, "lambdadeploy git=bbbbbbb"), "3": ("c", CONFIG, "lambdadeploy git=ccccccc+dirty")})
    rows = alias_history(remote, "prod")
    assert [(r.version, r.source.label if r.source else None, r.exists, r.serving) for r in rows] == [
        ("3", "ccccccc+dirty", True, True), ("2", "bbbbbbb", True, False), ("1", None, False, False)]
    assert rows[0].move == NOW and when(rows[0].move) == "2025-06-10T12:34Z" and when(rows[2].move) is None
    assert alias_history(remote, "dev") == ()


def test_an_alias_moved_by_something_else_shows_that_move_unrecorded() -> None:
    remote = function({"prod": AliasState("prod", "4", history=AliasHistory(("2",), None, NOW))},
                      {"4": ("d", CONFIG, "published by hand")})
    rows = alias_history(remote, "prod")
    assert [(r.version, r.move.detailed, r.source) for r in rows] == [("4", False, None), ("2", False, None)]


def test_diff_lists_configuration_and_code_differences_from_the_first_alias_to_the_second() -> None:
    bigger = {**CONFIG, "MemorySize": 512, "Description": "not compared",
              "Environment": {**CONFIG["Environment"], "API_TOKEN": "s3cr3t-dev", "ONLY_DEV": "1"}}
    prod_env = {**CONFIG, "Environment": {**CONFIG["Environment"], "API_TOKEN": "s3cr3t-prod"}}
    remote = function({"dev": AliasState("dev", "2"), "prod": AliasState("prod", "1", weights={"2": 0.1})},
                      {"1": ("a", prod_env, "lambdadeploy git=aaaaaaa"), "2": ("b", bigger, "lambdadeploy git=bbbbbbb")})
    found = alias_diff(remote, "dev", "prod")
    assert not found.same_version and not found.same_code
    assert {c.field: (c.old, c.new) for c in found.changes} == {
        "MemorySize": (512, CONFIG["MemorySize"]), "Environment.API_TOKEN": (MASK, MASK),
        "Environment.ONLY_DEV": ("1", None)}
    assert (found.first.source, found.second.source) == (Source("bbbbbbb"), Source("aaaaaaa"))
    assert found.second.weights == {"2": 0.1}
    assert alias_diff(remote, "dev", "dev").same_version


def test_diff_of_an_alias_that_does_not_exist_says_how_to_make_it() -> None:
    with pytest.raises(InvalidInputError, match="alias 'prod' does not exist"):
        alias_diff(function({"dev": AliasState("dev", "1")}, {"1": ("a", CONFIG, "")}), "dev", "prod")


def test_diff_against_an_unlisted_version_compares_no_configuration() -> None:
    found = alias_diff(function({"dev": AliasState("dev", "$LATEST"), "prod": AliasState("prod", "1")},
                                {"1": ("a", CONFIG, "")}), "dev", "prod")
    assert found.first.config is None and found.changes == ()
