"""Load lambda.yaml: render it with Jinja2, parse it keeping line numbers, then validate it.

Validation (validate.py) collects every problem before failing, so a user fixes the
file in one pass; each problem names the file, the line, the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from ..errors import ConfigError, InvalidInputError
from .aliases import check_one_source_per_alias
from .model import Project
from .secrets import MIN_SECRET_LENGTH, secret_values
from .validate import Validator

DEFAULT_CONFIG = Path("lambda.yaml")


class _Lazy:
    """A template value computed only when the template uses it (account_id costs an STS call)."""

    def __init__(self, compute: Callable[[], str]) -> None:
        self._compute = compute
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = self._compute()
        return self._value

    __html__ = __str__


class _RecordingEnv(dict):
    """The template's `env`: remembers which values the template read, so they can be masked."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        value = super().__getitem__(key)
        self.used.add(value)
        return value

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        if key in self:
            return self[key]
        return default


@dataclass
class RenderContext:
    """What the template may use. region/account_id are callables so they cost nothing unless used."""

    alias: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    region: Callable[[], str] = lambda: "us-east-1"
    account_id: Callable[[], str] = lambda: "123456789012"


def render(path: Path, context: RenderContext, aliases_hint: str | None = None,
           env_used: set[str] | None = None) -> str:
    """Render the config file as a Jinja2 template with StrictUndefined.

    Values the template read from `env` are added to `env_used` (they may be secrets)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env = _RecordingEnv(context.env)
    variables = {
        "alias": context.alias if context.alias is not None else (aliases_hint or "dev"),
        "env": env,
        "region": _Lazy(context.region),
        "account_id": _Lazy(context.account_id),
    }
    try:
        rendered = environment.get_template(path.name).render(variables)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError.single(path, exc.lineno, "", f"template syntax error: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError.single(
            path,
            _template_line(exc, path),
            "",
            f"template error: {exc.message}",
            "variables are alias, env (e.g. env.HOME), region, account_id; "
            "use {{ env.X | default('...') }} for optional ones",
        ) from exc
    if env_used is not None:
        env_used.update(env.used)
    return rendered


def _template_line(exc: BaseException, path: Path) -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    import traceback

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return lines[-1] if lines else None


def _first_alias(raw: str) -> str | None:
    """The first entry of `aliases:` read from the raw text: the `alias` variable's default."""
    match = re.search(r"^aliases:\s*\[\s*([A-Za-z0-9_-]+)", raw, re.MULTILINE) or re.search(
        r"^aliases:\s*\n\s*-\s*([A-Za-z0-9_-]+)", raw, re.MULTILINE
    )
    return match.group(1) if match else None


def _line_map(node: yaml.Node, path: tuple[str, ...] = (), out: dict | None = None) -> dict:
    """Map each field path (('functions', 'resize', 'memory')) to the 1-based line of its key."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _line_map(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, str(index))
            out[child] = item.start_mark.line + 1
            _line_map(item, child, out)
    return out


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
    raw = path.read_text(encoding="utf-8")
    env_used: set[str] = set()
    rendered = render(path, context or RenderContext(), _first_alias(raw), env_used)
    try:
        # One parse: the node tree gives the line numbers, the same tree gives the values.
        loader = yaml.SafeLoader(rendered)
        try:
            node = loader.get_single_node()
            document = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses: no mark, a position
            line = rendered.count("\n", 0, exc.position) + 1
            problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise ConfigError.single(path, line, "", f"invalid YAML: {problem}") from exc
    try:
        project = Validator(path, _line_map(node) if node is not None else {}).project(document)
    except ConfigError as exc:
        # An issue may quote a value read from the environment: the CLI masks these.
        exc.secret_values = frozenset(v for v in env_used if len(v) >= MIN_SECRET_LENGTH)
        raise
    project = dataclasses.replace(project, secret_values=frozenset(secret_values(project, env_used)))
    if across_aliases:
        context = context or RenderContext()
        alias = context.alias or project.aliases[0]
        warnings = check_one_source_per_alias(
            project, alias, lambda other: load(path, dataclasses.replace(context, alias=other), across_aliases=False))
        project = dataclasses.replace(project, warnings=(*project.warnings, *warnings))
    return project
