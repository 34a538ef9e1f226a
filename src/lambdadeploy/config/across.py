"""Rules that span functions and aliases, owned by the trigger kinds (`TriggerKind.check_uses`).

Some sources are shared by several functions of a project, such as an HTTP API whose
routes come from many functions. Whether two functions claim the same route, or one
function's routes differ between aliases, shows only across the whole file rendered for
every alias, so each kind that has such rules is handed all its triggers at once, and
its problems are reported like any other validate error (file, line, field).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigError, ConfigIssue
from ..triggers import registry
from ..triggers.base import TriggerKind, TriggerUse
from .model import Project


def check_across_functions(project: Project, alias: str, render: Callable[[str], Project]) -> None:
    """Raise ConfigError for what a kind's `check_uses` finds. `project` is the rendering for
    `alias`; `render(other)` renders the file for another alias (renderings that fail are
    skipped: they are reported when that alias is targeted)."""
    kinds = [kind for kind in registry.kinds() if type(kind).check_uses is not TriggerKind.check_uses
             and any(t.kind == kind.name for fn in project.functions for t in fn.triggers)]
    if not kinds:
        return
    renderings = [(alias, project)]
    for other in project.aliases:
        if other != alias:
            try:
                renderings.append((other, render(other)))
            except ConfigError:
                continue
    issues: dict[tuple[str, str], ConfigIssue] = {}
    for kind in kinds:
        uses = [TriggerUse(name, fn.key, index, trigger)
                for name, rendered in renderings for fn in rendered.functions
                for index, trigger in enumerate(fn.triggers) if trigger.kind == kind.name and trigger.alias in (None, name)]
        for problem in kind.check_uses(uses):
            field = problem.use.field + (f".{problem.at}" if problem.at else "")
            issues.setdefault((field, problem.message), ConfigIssue(
                project.config_file, problem.use.trigger.line, field, problem.message, problem.hint))
    if issues:
        error = ConfigError(list(issues.values()))
        error.secret_values = project.secret_values  # an API name or route may be rendered from a secret
        raise error
