"""One event source feeds one alias of a function.

A trigger without `alias:` is wired to whichever alias is pushed. If its source renders
the same for every alias (`bucket: uploads`), dev and prod would both be wired to it:
S3 refuses the second, overlapping notification; a queue or stream gets two competing
consumers (dev code eats prod's messages); a topic or a schedule fires both. So each
alias is rendered, and a source that would feed two aliases of one function is refused
at `validate`, naming the source and the two ways out. Function URLs are per alias by
nature and exempt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ..errors import ConfigError, ConfigIssue
from ..triggers import registry
from .model import Project


def sources_by_alias(project: Project, alias: str) -> dict[tuple[str, str, str], tuple[int | None, str]]:
    """(function key, kind, source) -> (line, field path), for every source that feeds `alias`."""
    found: dict[tuple[str, str, str], tuple[int | None, str]] = {}
    for fn in project.functions:
        for index, trigger in enumerate(fn.triggers):
            kind = registry.kind(trigger.kind)
            if trigger.alias not in (None, alias) or kind.per_alias:
                continue
            found[(fn.key, trigger.kind, kind.source(trigger.settings))] = (
                trigger.line, f"functions.{fn.key}.triggers.{index}.{trigger.kind}")
    return found


def check_one_source_per_alias(project: Project, alias: str, render: Callable[[str], Project]) -> list[str]:
    """Raise ConfigError for a source that feeds two aliases of one function. `project` is the
    rendering for `alias`; `render(other)` renders the file for another alias. Returns warnings
    for aliases whose rendering failed (they are checked when that alias is targeted)."""
    needs_check = any(t.alias is None and not registry.kind(t.kind).per_alias
                      for fn in project.functions for t in fn.triggers)
    if not needs_check or len(project.aliases) < 2:
        return []
    fed: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    lines = sources_by_alias(project, alias)
    for source in lines:
        fed[source].append(alias)
    warnings = []
    for other in project.aliases:
        if other == alias:
            continue
        try:
            rendered = render(other)
        except ConfigError as error:
            warnings.append(f"could not check which sources feed alias {other}: "
                            f"{_masked(error.issues[0].render(), error.secret_values)}")
            continue
        for source in sources_by_alias(rendered, other):
            fed[source].append(other)
    issues = []
    for (function, kind, source), aliases in fed.items():
        if len(aliases) < 2 or (function, kind, source) not in lines:
            continue
        line, field = lines[(function, kind, source)]
        issues.append(ConfigIssue(
            project.config_file, line, field,
            f"the {kind} trigger's {source} would feed aliases {' and '.join(aliases)}: one event source feeds "
            "one alias of a function",
            f"add `alias: {aliases[-1]}` to the trigger, or make its source alias-specific "
            "(e.g. a name with {{ alias }} in it)"))
    if issues:
        error = ConfigError(issues)
        error.secret_values = project.secret_values  # a source may quote a secret (input: {token: ...})
        raise error
    return warnings


def _masked(text: str, secrets: frozenset[str]) -> str:
    """The warning outlives this rendering, whose secrets the printer may not know: mask here."""
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "****")
    return text
