"""Load lambda.yaml: read it, render it (rendering.py), parse it keeping line numbers
(parse.py), then validate it (validate.py).

Validation collects every problem before failing, so a user fixes the file in one pass;
each problem names the file, the line, the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InvalidInputError
from .across import check_across_functions
from .aliases import check_one_source_per_alias
from .model import Project
from .parse import parse
from .read import read_config_text
from .rendering import render as render_template
from .secrets import SECRET_KEY, secret_values
from .template import MIN_SECRET_LENGTH, Env, Lazy
from .validate import Validator

DEFAULT_CONFIG = Path("lambda.yaml")


@dataclass
class RenderContext:
    """What the template may use. region/account_id are callables so they cost nothing unless used."""

    alias: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    region: Callable[[], str] = lambda: "us-east-1"
    account_id: Callable[[], str] = lambda: "123456789012"


def render(path: Path, context: RenderContext, aliases_hint: str | None = None) -> str:
    """The config file rendered, with outside values put back as text (for tools that want
    the text; load() keeps them out of the YAML instead)."""
    path = path.resolve()
    rendered = render_template(path, read_config_text(path), _variables(context, aliases_hint))
    pattern = rendered.placeholders.pattern
    return pattern.sub(lambda m: str(rendered.placeholders.values[int(m.group(1))]), rendered.text)


def _variables(context: RenderContext, aliases_hint: str | None) -> dict[str, Any]:
    return {
        "alias": context.alias if context.alias is not None else (aliases_hint or "dev"),
        "env": Env(context.env),
        "region": Lazy(context.region, "region"),
        "account_id": Lazy(context.account_id, "account_id"),
    }


def _first_alias(raw: str) -> str | None:
    """The first entry of `aliases:` read from the raw text: the `alias` variable's default."""
    match = re.search(r"^aliases:\s*\[\s*([A-Za-z0-9_-]+)", raw, re.MULTILINE) or re.search(
        r"^aliases:\s*\n\s*-\s*([A-Za-z0-9_-]+)", raw, re.MULTILINE
    )
    return match.group(1) if match else None


def load(path: Path, context: RenderContext | None = None, *, across_aliases: bool = True) -> Project:
    """Read, render, parse and validate a lambda.yaml into a Project, or raise ConfigError.

    across_aliases: also render the file for the other aliases, to refuse an event source that
    would feed two aliases of a function (config/aliases.py)."""
    path = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
    if not path.is_file():
        raise InvalidInputError(
            f"config file not found: {path}",
            hint="pass -c/--config PATH, or run `lambdadeploy init` to create one",
        )
    raw = read_config_text(path)
    rendered = render_template(path, raw, _variables(context or RenderContext(), _first_alias(raw)))
    # Whatever came from the environment may be a secret, and so is text computed from it.
    env_used = set(rendered.env_read) | rendered.placeholders.secrets()
    document: Any = None
    try:
        parsed = parse(path, rendered.text, rendered.placeholders)
        document = parsed.document
        project = Validator(path, parsed.lines).project(document)
    except ConfigError as exc:
        # An issue may quote a value read from the environment, or one written under a
        # secret-looking name: the CLI masks these.
        exc.secret_values = frozenset(v for v in env_used | _named_secrets(document) if len(v) >= MIN_SECRET_LENGTH)
        raise
    project = dataclasses.replace(project, secret_values=frozenset(secret_values(project, env_used)))
    if across_aliases:
        context = context or RenderContext()
        alias = context.alias or project.aliases[0]
        rendered: dict[str, Project] = {}

        def render_for(other: str) -> Project:
            if other not in rendered:
                rendered[other] = load(path, dataclasses.replace(context, alias=other), across_aliases=False)
            return rendered[other]

        warnings = check_one_source_per_alias(project, alias, render_for)
        check_across_functions(project, alias, render_for)
        project = dataclasses.replace(project, warnings=(*project.warnings, *warnings))
    return project


def _named_secrets(document: Any) -> set[str]:
    """Values of `environment` entries named like secrets, read from the raw document (for
    masking a ConfigError, when there is no valid Project to ask)."""
    found: set[str] = set()
    if not isinstance(document, dict):
        return found
    specs = [document.get("defaults")]
    functions = document.get("functions")
    if isinstance(functions, dict):
        specs += list(functions.values())
    for spec in specs:
        environment = spec.get("environment") if isinstance(spec, dict) else None
        if isinstance(environment, dict):
            found.update(str(v) for k, v in environment.items()
                         if SECRET_KEY.search(str(k)) and isinstance(v, str | int | float))
    return found
