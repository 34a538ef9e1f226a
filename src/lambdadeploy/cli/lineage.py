"""Commands that answer "what runs where, from which commit": history and diff (status is in
inspecting.py and uses the same helpers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..output.steps import value_text
from .app import App, check_alias, functions_argument

if TYPE_CHECKING:  # imported on use, like every command that reads AWS
    from ..engine.history import Move
    from ..engine.lineage import AliasDiff, HistoryRow, Served
    from ..engine.provenance import Source


def source_text(source: Source | None, exists: bool = True) -> str:
    """`abc1234`, `abc1234+dirty`, `no git`; `?` when nothing was recorded, `pruned` when gone."""
    if not exists:
        return "pruned"
    return source.label if source is not None else "?"


def source_document(source: Source | None) -> dict[str, Any]:
    return {"commit": source.commit if source else None, "dirty": source.dirty if source else None,
            "ci": source.ci if source else None, "published_by": source.by if source else None}


def _utc(at: str) -> str:
    """`2025-06-10T12:34Z` as printed: `2025-06-10 12:34 UTC`."""
    return at.replace("T", " ").replace("Z", " UTC")


def move_text(move: Move) -> str:
    """`moved 2025-06-10 12:34 UTC by alice (push, smoke ok)`, or what is not known."""
    from ..engine.lineage import when

    at = when(move)
    if at is None:
        return "moved (no record)"
    text = f"moved {_utc(at)}" + (f" by {move.by}" if move.by else "")
    return text + f" ({move.how or '-'}, smoke {move.smoke or '-'})"


def move_document(move: Move) -> dict[str, Any]:
    from ..engine.lineage import when

    return {"at": when(move), "how": move.how, "smoke": move.smoke, "by": move.by}


@click.command()
@functions_argument
@click.option("--alias", required=True, help="The alias whose moves to list.")
@click.pass_obj
def history(app: App, names: tuple[str, ...], alias: str) -> None:
    """The alias's recorded moves, newest first: version, commit, when, how, smoke result, who."""
    from ..engine.lineage import alias_history
    from ..engine.remote import read_function

    project = app.project(alias)
    check_alias(project, alias)
    session = app.session(project)
    documents = []
    for fn in app.functions(project, names):
        remote = read_function(session, fn.name)
        rows = alias_history(remote, alias)
        if not rows:
            app.out.result(f"{fn.name}: " + (f"alias {alias} does not exist" if remote.exists else "not deployed"))
        else:
            app.out.result(f"{fn.name} ({alias}, newest first):")
            for row in rows:
                app.out.result(_history_line(row))
        documents.append({"function": fn.key, "name": fn.name, "exists": bool(rows),
                          "moves": [_history_document(row) for row in rows]})
    app.out.document({"command": "history", "ok": True, "alias": alias, "functions": documents})


def _history_line(row: HistoryRow) -> str:
    from ..engine.lineage import when

    at = when(row.move)
    details = "(no record of this move)" if at is None else (
        f"{_utc(at)}  {row.move.how or '-':<8} smoke {row.move.smoke or '-':<4}"
        + (f"  by {row.move.by}" if row.move.by else ""))
    mark = "  <- serving" if row.serving else ""
    return f"  {row.version:>4}  {source_text(row.source, row.exists):<14} {details}{mark}"


def _history_document(row: HistoryRow) -> dict[str, Any]:
    return {"version": row.version, "serving": row.serving, "exists": row.exists,
            **source_document(row.source), **move_document(row.move)}


@click.command()
@click.argument("first", metavar="ALIAS_A")
@click.argument("second", metavar="ALIAS_B")
@functions_argument
@click.pass_obj
def diff(app: App, first: str, second: str, names: tuple[str, ...]) -> None:
    """What differs between what two aliases serve: configuration, code, and the commits between."""
    from ..engine.lineage import alias_diff
    from ..engine.remote import read_function

    project = app.project(first)
    check_alias(project, first, "ALIAS_A")
    check_alias(app.project(second), second, "ALIAS_B")  # rendered too: its secret values get masked
    session = app.session(project)
    documents = []
    for fn in app.functions(project, names):
        found = alias_diff(read_function(session, fn.name), first, second)
        commits = _commits(app, found)
        for line in _diff_lines(found, commits):
            app.out.result(line)
        documents.append(_diff_document(fn.key, found, commits))
    app.out.document({"command": "diff", "ok": True, "from": first, "to": second, "functions": documents})


def _commits(app: App, found: AliasDiff) -> dict[str, tuple[str, ...] | None]:
    """The commits each side has that the other has not (`git log A..B --oneline`), when both
    versions recorded a commit that the local repository holds; None otherwise."""
    from ..engine.git import commits_between

    a, b = found.first.source, found.second.source
    if found.same_version:
        return {"first_only": (), "second_only": ()}
    if a is None or b is None or a.commit is None or b.commit is None:
        return {"first_only": None, "second_only": None}
    folder = app.config_path.resolve().parent
    return {"first_only": commits_between(folder, b.commit, a.commit),
            "second_only": commits_between(folder, a.commit, b.commit)}


def _served_text(side: Served) -> str:
    weights = "".join(f", {w:.0%} on {v}" for v, w in side.weights.items())
    listed = side.config is not None or side.version == "$LATEST"
    return f"{side.alias} -> {side.version} ({source_text(side.source, listed)}{weights})"


def _diff_lines(found: AliasDiff, commits: dict[str, tuple[str, ...] | None]) -> list[str]:
    a, b = found.first, found.second
    lines = [f"{found.function}: {_served_text(a)}, {_served_text(b)}"]
    if found.same_version:
        return [*lines, f"  same version: {a.alias} and {b.alias} serve the same code and configuration"]
    lines.append("  code: same" if found.same_code else f"  code: sha256 {a.code_sha256 or '?'} ({a.alias}) vs "
                 f"{b.code_sha256 or '?'} ({b.alias})")
    if a.config is None or b.config is None:
        lines.append("  configuration: unknown (a version that is not published cannot be compared)")
    elif not found.changes:
        lines.append("  configuration: same")
    else:
        lines.append(f"  configuration ({a.alias} -> {b.alias}):")
        lines += [f"    ~ {c.field}: {value_text(c.old)} -> {value_text(c.new)}" for c in found.changes]
    for key, ahead, behind in (("first_only", a, b), ("second_only", b, a)):
        listed = commits[key]
        if listed is None:
            continue
        lines.append(f"  commits in {ahead.alias} not in {behind.alias}: {len(listed) or 'none'}")
        lines += [f"    {line}" for line in listed]
    if commits["first_only"] is None:
        lines.append(f"  commits: {_why_no_range(a, b)}")
    for side in (a, b):
        if side.source is not None and side.source.dirty:
            lines.append(f"  note: {side.alias}'s version was built with uncommitted changes (+dirty)")
    return lines


def _why_no_range(a: Served, b: Served) -> str:
    for side in (a, b):
        if side.source is None:
            return f"unknown: version {side.version} ({side.alias}) has no recorded commit"
        if side.source.commit is None:
            return f"unknown: version {side.version} ({side.alias}) was not built from a git repository"
    return f"unknown: {a.source.commit if a.source else '?'} or {b.source.commit if b.source else '?'} " \
           "is not in this repository (git fetch?)"


def _diff_document(key: str, found: AliasDiff, commits: dict[str, tuple[str, ...] | None]) -> dict[str, Any]:
    def side(s: Served) -> dict[str, Any]:
        return {"alias": s.alias, "version": s.version, "code_sha256": s.code_sha256, "weights": dict(s.weights),
                **source_document(s.source)}

    return {"function": key, "name": found.function, "from": side(found.first), "to": side(found.second),
            "same_version": found.same_version, "same_code": found.same_code,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in found.changes],
            # from_only: in the first alias's commit, not the second's (`git log TO..FROM`); None: unknown.
            "commits": {"from_only": _listed(commits["first_only"]), "to_only": _listed(commits["second_only"])}}


def _listed(lines: tuple[str, ...] | None) -> list[dict[str, str]] | None:
    if lines is None:
        return None
    return [{"commit": line.split(" ", 1)[0], "subject": line.split(" ", 1)[1] if " " in line else ""}
            for line in lines]
