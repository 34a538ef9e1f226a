"""The one-line summary per function says what happened to the alias and to the smoke gate,
including the cases a deploy run rarely shows: a cancelled canary and a skipped smoke test."""

from __future__ import annotations

from pathlib import Path

from lambdadeploy.deploy import FunctionResult
from lambdadeploy.model import FunctionConfig
from lambdadeploy.output import Output

FN = FunctionConfig(
    key="api", name="shop-api", source=Path("/src"), handler="app.handler")


def line(**fields) -> str:
    return Output(color=False, live=False)._summary_line(FunctionResult(FN, "prod", **fields))


def test_a_skipped_smoke_test_is_shouted_not_hidden() -> None:
    text = line(version="5", published=True, alias_from="4", alias_to="5", alias_moved=True, smoke_skipped=True)
    assert text == "ok shop-api  version 5 (published)  prod: 4 -> 5  smoke SKIPPED (--skip-smoke)"


def test_a_cancelled_canary_reads_as_such() -> None:
    assert line(version="4", alias_from="4", alias_to="4", alias_moved=True) == (
        "ok shop-api  version 4  prod: 4 (canary cancelled)")


def test_a_failed_function_says_the_alias_was_not_moved_and_why() -> None:
    text = line(ok=False, alias_from="4", error="shop-api: smoke test of version 5 failed\nsecond line")
    assert text == ("FAILED shop-api  prod: 4 (not moved)\n"
                    "    shop-api: smoke test of version 5 failed\n    second line")
    assert line(ok=False) == "FAILED shop-api  prod: (none) (not moved)"


def test_an_unchanged_alias_and_a_canary_left_in_place() -> None:
    assert line(alias_from="4", alias_to="4") == "ok shop-api  prod: 4 (unchanged)"
    assert line(version="5", alias_from="4", canary_weight=0.1) == (
        "ok shop-api  version 5  prod: 4 with 10% on 5 (canary; `push --finish --alias prod` completes it, "
        "`rollback --alias prod` cancels it)")
