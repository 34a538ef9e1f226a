"""Commands that change what aliases serve: plan, push, promote, rollback."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import click

from ..errors import InvalidInputError
from .app import App, check_alias, finish_results, functions_argument, stop_on_signals
from .durations import parse_duration

if TYPE_CHECKING:
    from ..engine.plan import Rollout

EXIT_CHANGES_PENDING = 3  # plan --detailed-exitcode
SMOKE_ARCHES = ("function", "host")  # as local/placement.py names them (imported lazily there)


@click.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to plan for.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when there are changes (like terraform).")
@click.pass_obj
def plan(app: App, names: tuple[str, ...], alias: str, detailed_exitcode: bool) -> None:
    """Show what `push` would change, writing nothing."""
    from ..output.results import plan_document, render_plan

    project = app.project(alias)
    check_alias(project, alias)
    planned = app.deployer(project).plan(app.functions(project, names), alias)
    render_plan(app.out, planned)
    app.out.document(plan_document(planned))
    failed = [r.failure.exit_code for r in planned.functions if r.failure]
    if planned.errors:
        failed.append(2)
    if failed:
        raise click.exceptions.Exit(max(failed))
    if detailed_exitcode and planned.has_changes:
        raise click.exceptions.Exit(EXIT_CHANGES_PENDING)


METRICS_DELAY_ENV = "LAMBDADEPLOY_METRICS_DELAY"
# CloudWatch gets Lambda's metrics 1-3 minutes late; the sandbox's arrive within seconds.
METRICS_DELAY_AWS, METRICS_DELAY_SANDBOX = 180, 2


def metrics_delay(sandbox: bool) -> int:
    """How long the last canary watch keeps looking after its window: $LAMBDADEPLOY_METRICS_DELAY seconds,
    else 3 minutes on AWS and 2 seconds against the sandbox."""
    value = os.environ.get(METRICS_DELAY_ENV)
    if value is None:
        return METRICS_DELAY_SANDBOX if sandbox else METRICS_DELAY_AWS
    if not value.isdigit():
        raise InvalidInputError(f"{METRICS_DELAY_ENV}={value!r} is not a whole number of seconds")
    return int(value)


def parse_rollout(canary: float | None, watch: str | None, alarms: tuple[str, ...],
                  linear: str | None, delay: int = METRICS_DELAY_AWS) -> Rollout | None:
    """--canary PCT [--watch D] [--alarm NAME]... or --linear STEP/INTERVAL, checked together."""
    from ..engine.plan import Rollout

    if linear is not None:
        if canary is not None or watch is not None:
            raise InvalidInputError("--linear STEP/INTERVAL replaces --canary and --watch; use one or the other")
        match = re.fullmatch(r"(\d+(?:\.\d+)?)/(\S+)", linear)
        if not match or not 0 < float(match[1]) < 100:
            raise InvalidInputError(f"--linear {linear!r}: expected PERCENT/INTERVAL, e.g. 10/1m")
        step = float(match[1])
        return Rollout(step, parse_duration(match[2], "--linear interval"), alarms, linear_step=step,
                       metrics_delay=delay)
    if canary is None:
        if watch is not None or alarms:
            raise InvalidInputError("--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)")
        return None
    return Rollout(canary, parse_duration(watch, "--watch") if watch else 0, alarms, metrics_delay=delay)


@click.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to move once the smoke test passes.")
@click.option("--skip-smoke", is_flag=True, help="Move the alias without a smoke invoke (shown in the summary).")
@click.option("--parallel", type=click.IntRange(1, 64), default=None,
              help="Functions deployed at once (default 16; AWS's request quotas are kept whatever the number).")
@click.option("--canary", type=click.FloatRange(0, 100, min_open=True, max_open=True),
              help="Send PCT percent of the alias's traffic to the new version; the rest stays.")
@click.option("--watch", help="With --canary: watch the new version's errors and the alarms this long (e.g. 5m), "
              "plus 3 minutes for late metrics, then move the alias fully, or take the weight away on trouble.")
@click.option("--alarm", "alarms", multiple=True, help="A CloudWatch alarm that fails the canary (repeatable).")
@click.option("--linear", help="Shift STEP percent more every INTERVAL, watching in between (e.g. 10/1m).")
@click.option("--finish", is_flag=True, help="Complete a canary left in place: move the alias fully.")
@click.option("--smoke-arch", type=click.Choice(SMOKE_ARCHES), default="function", show_default=True,
              help="Sandbox only. host: smoke-test native code rebuilt, same pinned versions, for this "
              "machine's CPU when it cannot run the function's (labelled in the summary).")
@click.option("--yes", is_flag=True, help="Accepted for scripts; push never asks.")
@click.pass_obj
def push(app: App, names: tuple[str, ...], alias: str, skip_smoke: bool, parallel: int | None, canary: float | None,
         watch: str | None, alarms: tuple[str, ...], linear: str | None, finish: bool, smoke_arch: str,
         yes: bool) -> None:
    """Package, update, publish, smoke-test, then move the alias (or start a canary)."""
    if smoke_arch == "host" and not (app.sandbox or app.settings.endpoint_url):
        raise InvalidInputError("--smoke-arch host applies to the sandbox (--sandbox): AWS runs the "
                                "function's architecture itself")
    project = app.project(alias)
    check_alias(project, alias)
    functions = app.functions(project, names)
    deployer = app.deployer(project, parallel)
    deployer.smoke_arch = smoke_arch
    if finish:
        if canary is not None or watch or alarms or linear or skip_smoke:
            raise InvalidInputError("--finish completes an existing canary; it takes no other push options")
        with stop_on_signals(deployer, app.out):
            results = deployer.finish(functions, alias)
        return finish_results(app, "push", results)
    rollout = parse_rollout(canary, watch, alarms, linear, metrics_delay(app.sandbox))
    with stop_on_signals(deployer, app.out):
        result = deployer.push(functions, alias, skip_smoke=skip_smoke, rollout=rollout)
    if result.plan.findings:
        from ..output.results import render_findings

        render_findings(app.out, result.plan.findings)
    finish_results(app, "push", result.reports, result.role_done, tuple(result.plan.findings), result.layers)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


@click.command()
@functions_argument
@click.option("--from", "source", required=True, help="The alias whose version to take.")
@click.option("--to", "target", required=True, help="The alias to move.")
@click.option("--force", is_flag=True, help="Promote even when the configuration for --to differs.")
@click.option("--skip-smoke", is_flag=True, help="Move the alias without a smoke invoke (shown in the summary).")
@click.pass_obj
def promote(app: App, names: tuple[str, ...], source: str, target: str, force: bool, skip_smoke: bool) -> None:
    """Point alias --to at the version alias --from serves, after a smoke invoke."""
    project = app.project(target)
    check_alias(project, source, "--from")
    check_alias(project, target, "--to")
    deployer = app.deployer(project)
    with stop_on_signals(deployer, app.out):
        results = deployer.promote(app.functions(project, names), source, target, force=force, skip_smoke=skip_smoke)
    if any(r.conflict for r in results):
        app.out.info(
            "versions are immutable (code and configuration). Either make those values alias-independent "
            "(a handler can read its alias from context.invoked_function_arn), or run "
            f"`lambdadeploy push --alias {target}` from the same commit; --force promotes anyway."
        )
    if force:
        app.out.warn("--force: promoted without checking that the configuration fits the target alias")
    finish_results(app, "promote", results)


@click.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to move back.")
@click.option("--to", "to_version", help="The version to move to (default: the one before the last move).")
@click.pass_obj
def rollback(app: App, names: tuple[str, ...], alias: str, to_version: str | None) -> None:
    """Move an alias back to an earlier version, without rebuilding."""
    project = app.project(alias)
    check_alias(project, alias)
    if to_version is not None and not to_version.isdigit():
        raise InvalidInputError(f"--to {to_version!r} is not a version number", hint="e.g. --to 7")
    deployer = app.deployer(project)
    with stop_on_signals(deployer, app.out):
        results = deployer.rollback(app.functions(project, names), alias, to_version)
    finish_results(app, "rollback", results)
