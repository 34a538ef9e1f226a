"""Results for people and for machines: plans, deploy summaries, and their --json documents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..engine.report import AliasOutcome, Finding, FunctionPlanReport, FunctionReport, ProjectPlan
from ..engine.setting_steps import SETTING_STEPS
from ..engine.smoke import PRICES_DATE, SmokeResult, cost_per_million, right_sizing_hint
from ..engine.steps import SetPermission, WireTrigger
from ..packaging import left_out_text
from . import steps as step_view
from .console import Output, human_size


def render_plan(out: Output, plan: ProjectPlan) -> None:
    """Terraform-style: the execution role's steps once, each function's steps with the fields
    they change, the pre-flight findings, then a summary line."""
    total: Counter[str] = Counter()
    if plan.role_steps:
        out.result("execution role:")
        for step in plan.role_steps:
            out.result("\n".join("  " + line for line in step_view.lines(step)))
        total += step_view.counts(plan.role_steps)
    for report in plan.functions:
        out.result(_function_plan_text(report))
        if report.plan is not None:
            total += step_view.counts(report.plan.steps)
    render_findings(out, plan.findings)
    runs = f", {total['run']} to run" if total["run"] else ""
    out.result(f"Plan: {step_view.counts_text(total)}{runs}.")


def render_findings(out: Output, findings: Sequence[Finding]) -> None:
    """Pre-flight findings: errors (push stops on them) and warnings."""
    for finding in findings:
        where = f"{finding.function}: " if finding.function else ""
        hint = f" (hint: {finding.hint})" if finding.hint else ""
        (out.error if finding.level == "error" else out.warn)(f"{where}{finding.message}{hint}")


def _function_plan_text(report: FunctionPlanReport) -> str:
    name = report.function.name
    if report.plan is None:
        return f"{name}: cannot plan: {report.failure.message if report.failure else ''}"
    if not report.plan.steps:
        return f"{name}: up to date (alias {report.alias} -> {report.plan.target_version})"
    body = [f"  {line}" for step in report.plan.steps for line in step_view.lines(step)]
    return f"{name} ({step_view.counts_text(step_view.counts(report.plan.steps))}):\n" + "\n".join(body)


def plan_document(plan: ProjectPlan) -> dict[str, Any]:
    total: Counter[str] = Counter(step_view.counts(plan.role_steps))
    functions = []
    for report in plan.functions:
        steps = report.plan.steps if report.plan else ()
        total += step_view.counts(steps)
        functions.append({
            "function": report.function.key, "name": report.function.name, "ok": report.ok,
            "steps": [step_view.document(s) for s in steps],
            "alias_version": report.plan.current_version if report.plan else None,
            "error": report.failure.message if report.failure else None,
        })
    return {
        "command": "plan", "ok": plan.ok, "alias": plan.alias,
        "role": [step_view.document(s) for s in plan.role_steps],
        "functions": functions,
        "findings": findings_document(plan.findings),
        "summary": {"add": total["add"], "change": total["change"], "remove": total["remove"], "run": total["run"]},
    }


def findings_document(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"function": f.function, "level": f.level, "message": f.message, "hint": f.hint} for f in findings]


def render_reports(out: Output, command: str, reports: Sequence[FunctionReport], role_done: Sequence[Any] = (),
                   findings: Sequence[Finding] = ()) -> None:
    for report in reports:
        out.result(summary_line(out, report))
        if report.smoke and report.smoke.report and report.ok:
            hint = right_sizing_hint(report.smoke.report)
            if hint:
                out.result(f"    hint: {hint}")
        if report.artifact and report.artifact.left_out:
            out.result(f"    {left_out_text(report.artifact.left_out)}")
        for record in report.done:
            if isinstance(record.step, (WireTrigger, SetPermission, *SETTING_STEPS)):
                line = step_view.one_line(record.step, record.version)
                out.result(f"    {line}" + (f" ({record.detail})" if record.detail else ""))
        if report.conflict:
            for change in report.conflict.changes:
                out.result(f"    {change.field}: {change.old} -> {change.new}")
    out.document(results_document(command, reports, role_done, findings))


def summary_line(out: Output, r: FunctionReport) -> str:
    status = out.style("ok", fg="green") if r.ok else out.style("FAILED", fg="red", bold=True)
    parts = [f"{status} {out.style(r.function.name, bold=True)}"]
    if r.version:
        parts.append(f"version {r.version}" + (" (published)" if r.published else ""))
    match r.outcome:
        case AliasOutcome.CANARY:
            parts.append(f"{r.alias}: {r.alias_from} with {r.canary_weight:.0%} on {r.version} (canary; "
                         f"`push --finish --alias {r.alias}` completes it, `rollback --alias {r.alias}` cancels it)")
        case AliasOutcome.CANARY_CANCELLED:
            parts.append(f"{r.alias}: {r.alias_to} (canary cancelled)")
        case AliasOutcome.MOVED:
            parts.append(f"{r.alias}: {r.alias_from or '(none)'} -> {r.alias_to}")
        case AliasOutcome.UNCHANGED:
            parts.append(f"{r.alias}: {r.alias_to or r.alias_from} (unchanged)")
        case AliasOutcome.NOT_MOVED:
            parts.append(f"{r.alias}: {r.alias_from or '(none)'} (not moved)")
    if r.artifact:
        parts.append(f"package {human_size(r.artifact.zipped_size)}" + ("" if r.uploaded else " (not uploaded)"))
    if r.smoke_skipped:
        parts.append("smoke SKIPPED (" + ("reserved_concurrency 0 throttles every invoke" if r.function.settings.throttled
                                          else "--skip-smoke") + ")")
    elif r.smoke:
        parts.append("smoke " + smoke_text(r.smoke, r.function.architecture))
    line = "  ".join(parts)
    if r.failure:
        line += "\n    " + r.failure.message.replace("\n", "\n    ")
        if r.not_done:
            line += "\n    not done: " + "; ".join(step_view.one_line(s) for s in r.not_done)
    if r.smoke and not r.smoke.passed and r.smoke.log_tail:
        line += "\n    log tail:\n" + "\n".join("      " + s for s in r.smoke.log_tail.rstrip().splitlines()[-30:])
    return line


def smoke_text(smoke: SmokeResult, architecture: str) -> str:
    text = smoke.describe()
    if smoke.report:
        rep = smoke.report
        text += f" (billed {rep.billed_ms} ms, {rep.max_memory_mb} of {rep.memory_mb} MB"
        text += f", ${cost_per_million(rep, architecture):.2f} per 1M invokes)"
    return text


def smoke_document(smoke: SmokeResult | None, architecture: str) -> dict[str, Any] | None:
    if smoke is None:
        return None
    report = smoke.report
    return {
        "passed": smoke.passed,
        "version": smoke.version,
        "function_error": smoke.function_error,
        "error_type": smoke.error_type,
        "error_message": smoke.error_message,
        "mismatch": smoke.mismatch,
        "host_build": smoke.host_build,
        "duration_ms": report.duration_ms if report else None,
        "billed_duration_ms": report.billed_ms if report else None,
        "memory_mb": report.memory_mb if report else None,
        "max_memory_used_mb": report.max_memory_mb if report else None,
        "cost_per_million_usd": round(cost_per_million(report, architecture), 4) if report else None,
        "prices_date": PRICES_DATE,
    }


def results_document(command: str, reports: Sequence[FunctionReport], role_done: Sequence[Any] = (),
                     findings: Sequence[Finding] = ()) -> dict[str, Any]:
    """`findings`: push's pre-flight findings (what stopped it, or its warnings)."""
    return {
        "command": command,
        "ok": all(r.ok for r in reports),
        "role": [step_view.document(s) for s in role_done],
        "findings": findings_document(findings),
        "functions": [
            {
                "function": r.function.key,
                "name": r.function.name,
                "ok": r.ok,
                "version": r.version,
                "published": r.published,
                "uploaded": r.uploaded,
                "alias": {"name": r.alias, "from": r.alias_from, "to": r.alias_to, "outcome": r.outcome.value,
                          "moved": r.outcome in (AliasOutcome.MOVED, AliasOutcome.CANARY_CANCELLED),
                          "canary_weight": r.canary_weight},
                "package": None if r.artifact is None else {
                    "zipped_bytes": r.artifact.zipped_size,
                    "unzipped_bytes": r.artifact.unzipped_size,
                    "files": r.artifact.file_count,
                    "sha256": r.artifact.sha256,
                    "dependencies_from_cache": r.artifact.deps_from_cache,
                    "left_out": list(r.artifact.left_out),
                },
                "smoke": smoke_document(r.smoke, r.function.architecture),
                "smoke_skipped": r.smoke_skipped,
                "steps": [step_view.document(s.step, s.version, s.detail) for s in r.done],
                "not_done": [step_view.document(s) for s in r.not_done],
                "conflict": None if r.conflict is None else [
                    {"field": c.field, "from": c.old, "to": c.new} for c in r.conflict.changes
                ],
                "error": r.failure.message if r.failure else None,
                "seconds": round(r.seconds, 3),
            }
            for r in reports
        ],
    }
