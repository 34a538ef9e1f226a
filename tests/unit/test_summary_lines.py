"""The one-line summary per function says what happened to the alias and to the smoke gate,
including the cases a deploy run rarely shows: a cancelled canary and a skipped smoke test.
No AWS: reports are built from plans and executions, as deploy.py builds them."""

from __future__ import annotations

from pathlib import Path

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.engine.deploy import report_of
from lambdadeploy.engine.plan import FunctionPlan
from lambdadeploy.engine.report import AliasOutcome, Execution, Failure, FunctionReport, StepRecord
from lambdadeploy.engine.steps import NEW_VERSION, MoveAlias, Publish, Smoke
from lambdadeploy.output import Output
from lambdadeploy.output.results import summary_line

FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")
OUT = Output(color=False, live=False)


def line(outcome: AliasOutcome, alias_from: str | None, alias_to: str | None, **fields) -> str:
    return summary_line(OUT, FunctionReport(FN, "prod", outcome, alias_from, alias_to, **fields))


def test_a_skipped_smoke_test_is_shouted_not_hidden() -> None:
    text = line(AliasOutcome.MOVED, "4", "5", version="5", published=True, smoke_skipped=True)
    assert text == "ok shop-api  version 5 (published)  prod: 4 -> 5  smoke SKIPPED (--skip-smoke)"


def test_a_cancelled_canary_reads_as_such() -> None:
    assert line(AliasOutcome.CANARY_CANCELLED, "4", "4", version="4") == (
        "ok shop-api  version 4  prod: 4 (canary cancelled)")


def test_moving_an_alias_onto_the_version_it_serves_is_a_cancelled_canary() -> None:
    # rollback of a canary: the alias stays on 4 and loses its weight; the report says so, not "moved".
    move = MoveAlias("shop-api", "prod", "4", "4", ())
    plan = FunctionPlan(FN, (move,), "prod", current_version="4", target_version="4")
    done = Execution((StepRecord(move, "4"),), (), "4", False, False, None, None, None)
    report = report_of(plan, done, None, False, 0.0)
    assert (report.outcome, report.alias_from, report.alias_to, report.alias_moved) == (
        AliasOutcome.CANARY_CANCELLED, "4", "4", True)
    assert summary_line(OUT, report) == "ok shop-api  version 4  prod: 4 (canary cancelled)"


def test_a_skipped_smoke_push_reports_the_skip_with_the_move() -> None:
    steps = (Publish("shop-api", "sha"), MoveAlias("shop-api", "prod", "4", NEW_VERSION, ("4",)))
    plan = FunctionPlan(FN, steps, "prod", current_version="4", target_version=NEW_VERSION)
    done = Execution(tuple(StepRecord(s, "5") for s in steps), (), "5", True, True, None, None, None)
    report = report_of(plan, done, None, True, 0.0)
    assert (report.outcome, report.version, report.alias_to, report.smoke, report.smoke_skipped) == (
        AliasOutcome.MOVED, "5", "5", None, True)
    assert summary_line(OUT, report) == (
        "ok shop-api  version 5 (published)  prod: 4 -> 5  smoke SKIPPED (--skip-smoke)")


def test_a_failed_function_says_the_alias_was_not_moved_why_and_what_was_left() -> None:
    text = line(AliasOutcome.NOT_MOVED, "4", "4",
                failure=Failure("shop-api: smoke test of version 5 failed\nsecond line", 1),
                not_done=(Smoke("shop-api", "5"), MoveAlias("shop-api", "prod", "4", "5", ("4",))))
    assert text.splitlines()[:3] == ["FAILED shop-api  prod: 4 (not moved)",
                                     "    shop-api: smoke test of version 5 failed", "    second line"]
    assert text.splitlines()[3] == "    not done: > smoke invoke version 5; ~ alias prod: 4 -> 5"
    assert line(AliasOutcome.NOT_MOVED, None, None, failure=Failure("boom", 1)) == (
        "FAILED shop-api  prod: (none) (not moved)\n    boom")


def test_an_unchanged_alias_and_a_canary_left_in_place() -> None:
    assert line(AliasOutcome.UNCHANGED, "4", "4") == "ok shop-api  prod: 4 (unchanged)"
    assert line(AliasOutcome.CANARY, "4", "4", version="5", canary_weight=0.1) == (
        "ok shop-api  version 5  prod: 4 with 10% on 5 (canary; `push --finish --alias prod` completes it, "
        "`rollback --alias prod` cancels it)")
