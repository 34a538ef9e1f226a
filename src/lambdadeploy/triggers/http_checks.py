"""The http kind's rules across functions and aliases, checked at `validate` (`check_uses`):
a route belongs to one function, an API has one CORS configuration, and a function's routes
on an API are the same for every alias (an HTTP API's routes are shared by its stages)."""

from __future__ import annotations

from collections import defaultdict

from .base import TriggerUse, UseProblem
from .http_settings import Auth
from .url import normal_cors


def check_claims(uses: list[TriggerUse]) -> list[UseProblem]:
    """A route of an API belongs to one function: claimed twice is an error naming both places."""
    problems = []
    claimed: dict[tuple[str, str, str], TriggerUse] = {}
    for use in uses:
        for key in use.trigger.settings.routes:
            first = claimed.setdefault((use.alias, use.trigger.settings.api, key), use)
            if first is not use and (first.function, first.index) != (use.function, use.index):
                problems.append(UseProblem(use, f"route {key} of api {use.trigger.settings.api} is also claimed by "
                                           f"{first.place}: a route invokes one function",
                                           "keep the route in one function's triggers", "routes"))
    return problems


def check_cors(uses: list[TriggerUse]) -> list[UseProblem]:
    """An API has one CORS configuration, whatever the alias: every trigger that sets it must say the same."""
    problems = []
    seen: dict[str, TriggerUse] = {}
    reported: set[tuple[str, int]] = set()  # one problem per trigger, whichever alias shows it first
    for use in uses:
        cors = use.trigger.settings.cors
        if cors is None:
            continue
        first = seen.setdefault(use.trigger.settings.api, use)
        if first is not use and normal_cors(first.trigger.settings.cors or {}) != normal_cors(cors or {}) \
                and (use.function, use.index) not in reported:
            reported.add((use.function, use.index))
            aliases = f" for alias {use.alias}" if use.alias != first.alias else ""
            problems.append(UseProblem(use, f"the CORS of api {use.trigger.settings.api}{aliases} differs from "
                                       f"{first.place}{f' for alias {first.alias}' if aliases else ''}: an API has "
                                       "one CORS configuration", "set the same cors on both, or on one of them only",
                                       "cors"))
    return problems


def check_aliases_agree(uses: list[TriggerUse]) -> list[UseProblem]:
    """Routes are the API's and every stage serves them, so a function's routes on one API must be
    the same for every alias that has any (else each push would undo the other alias's)."""
    by_alias: dict[tuple[str, str], dict[str, dict[str, Auth]]] = defaultdict(lambda: defaultdict(dict))
    first_use: dict[tuple[str, str], TriggerUse] = {}
    for use in uses:
        place = (use.function, use.trigger.settings.api)
        first_use.setdefault(place, use)
        for key in use.trigger.settings.routes:
            by_alias[place][use.alias][key] = use.trigger.settings.auth
    problems = []
    for (function, api), routes in by_alias.items():
        shapes = {alias: sorted((k, a.describe()) for k, a in r.items()) for alias, r in routes.items()}
        if len({tuple(s) for s in shapes.values()}) > 1:
            described = "; ".join(f"for {alias}: {', '.join(k for k, _ in s)}" for alias, s in shapes.items())
            problems.append(UseProblem(first_use[(function, api)],
                                       f"the routes (or their auth) of api {api} differ between aliases ({described}), "
                                       "but an HTTP API's routes are shared by all its stages",
                                       f"route the same for every alias, or an API per alias: api: \"{api}-{{{{ alias }}}}\""))
    return problems
