"""Load lambda.yaml: render it with Jinja2, parse it keeping line numbers, validate it.

Validation collects every problem before failing, so a user fixes the file in one
pass; each problem names the file, the line, the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .errors import ConfigError, ConfigIssue, InvalidInputError
from .model import FunctionConfig, Project, SmokeTest
from .schema import ALIAS_NAME, FIELD_RULES, FUNCTION_FIELDS, NAME, TOP_LEVEL_FIELDS, closest
from .triggers_config import parse_triggers

DEFAULT_CONFIG = Path("lambda.yaml")

# Lambda's Python runtimes and the date AWS deprecates each (AWS "Runtime deprecation" table).
RUNTIME_DEPRECATION = {
    "python3.9": dt.date(2025, 12, 15),
    "python3.10": dt.date(2026, 10, 31),
    "python3.11": dt.date(2027, 6, 30),
    "python3.12": dt.date(2028, 10, 31),
    "python3.13": dt.date(2029, 6, 30),
    "python3.14": dt.date(2029, 6, 30),
}


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


def load(path: Path, context: RenderContext | None = None) -> Project:
    """Read, render, parse and validate a lambda.yaml into a Project, or raise ConfigError."""
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
        exc.secret_values = frozenset(v for v in env_used if len(v) >= MIN_SECRET_LENGTH)
        raise
    return dataclasses.replace(project, secret_values=frozenset(secret_values(project, env_used)))


SECRET_KEY = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
MIN_SECRET_LENGTH = 4  # masking "1" or "on" everywhere would garble output and protect nothing


def secret_values(project: Project, env_used: set[str]) -> set[str]:
    """Values never to print: whatever came from the environment, and environment
    variables of functions whose names say secret, token, password or key."""
    values = set(env_used)
    for fn in project.functions:
        values.update(v for k, v in fn.environment.items() if SECRET_KEY.search(k))
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


class Validator:
    """Turns the parsed document into a Project, collecting every issue on the way."""

    def __init__(self, path: Path, lines: dict[tuple[str, ...], int]) -> None:
        self.path = path
        self.lines = lines
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []

    def error(self, where: tuple[str, ...], message: str, hint: str | None = None) -> None:
        line = None
        for end in range(len(where), 0, -1):
            if where[:end] in self.lines:
                line = self.lines[where[:end]]
                break
        self.issues.append(ConfigIssue(self.path, line, ".".join(where), message, hint))

    def project(self, document: Any) -> Project:
        if not isinstance(document, dict):
            self.error((), "the file must be a mapping with at least `functions:`")
            raise ConfigError(self.issues)
        self._unknown_keys(document, (), TOP_LEVEL_FIELDS)
        name = self._optional_str(document, ("project",))
        if name is not None and not NAME.match(name):
            self.error(("project",), f"invalid project name {name!r}", "letters, digits, - and _")
        region = self._optional_str(document, ("region",))
        aliases = self._aliases(document.get("aliases", ["dev", "prod"]))
        defaults = document.get("defaults") or {}
        if not isinstance(defaults, dict):
            self.error(("defaults",), "must be a mapping of function fields")
            defaults = {}
        self._unknown_keys(defaults, ("defaults",), FUNCTION_FIELDS)
        functions = document.get("functions")
        result: list[FunctionConfig] = []
        if not isinstance(functions, dict) or not functions:
            self.error(("functions",), "must list at least one function", "functions: {hello: {handler: app.handler}}")
        else:
            for key, spec in functions.items():
                function = self._function(str(key), spec, defaults, name)
                if function is not None:
                    result.append(function)
        if self.issues:
            raise ConfigError(self.issues)
        return Project(self.path, tuple(result), aliases, name, region, tuple(self.warnings))

    def _aliases(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.error(("aliases",), "must be a non-empty list of alias names", "aliases: [dev, prod]")
            return ()
        for index, alias in enumerate(value):
            if not isinstance(alias, str) or not ALIAS_NAME.match(alias):
                self.error(
                    ("aliases", str(index)),
                    f"invalid alias name {alias!r}",
                    "1-128 letters, digits, - or _, not only digits",
                )
        return tuple(str(a) for a in value)

    def _unknown_keys(self, mapping: dict, where: tuple[str, ...], allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                suggestion = closest(str(key), allowed)
                hint = f"did you mean `{suggestion}`?" if suggestion else "allowed: " + ", ".join(allowed)
                self.error((*where, str(key)), "unknown field", hint)

    def _optional_str(self, mapping: dict, where: tuple[str, ...]) -> str | None:
        value = mapping.get(where[-1])
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(where, f"must be a string, got {type(value).__name__}")
            return None
        return str(value)

    def _function(
        self, key: str, spec: Any, defaults: dict, project: str | None
    ) -> FunctionConfig | None:
        where = ("functions", key)
        if not NAME.match(key):
            self.error(where, f"invalid function name {key!r}", "letters, digits, - and _")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            self.error(where, "must be a mapping of function fields", "e.g. {handler: app.handler}")
            return None
        self._unknown_keys(spec, where, FUNCTION_FIELDS)
        merged = {**defaults, **spec}
        values: dict[str, Any] = {}
        before = len(self.issues)
        for name, rule in FIELD_RULES.items():
            if name not in merged:
                continue
            origin = where if name in spec else ("defaults",)
            checked = rule(merged[name], lambda msg, hint=None, o=origin, n=name: self.error((*o, n), msg, hint))
            if checked is not None:
                values[name] = checked
        full_name = f"{project}-{key}" if project else key
        if len(full_name) > 64:
            self.error(where, f"function name {full_name!r} is longer than 64 characters")
        runtime = values.get("runtime", "python3.12")
        deprecated = RUNTIME_DEPRECATION.get(runtime)
        if deprecated and deprecated <= dt.date.today():
            self.warnings.append(
                f"{key}: runtime {runtime} was deprecated by AWS on {deprecated.isoformat()}; "
                "move to python3.12 or later"
            )
        source = self.path.parent / values.get("source", f"functions/{key}")
        if not source.is_dir():
            self.error((*where, "source") if "source" in spec else where, f"source folder not found: {source}")
        handler = values.get("handler")
        if handler is None and "handler" not in merged:
            self.error(where, "missing field `handler`", "module.function inside source, e.g. app.handler")
        elif handler and source.is_dir() and not _module_exists(source, handler.rsplit(".", 1)[0]):
            module = handler.rsplit(".", 1)[0].replace(".", "/")
            self.error(
                (*where, "handler") if "handler" in spec else ("defaults", "handler"),
                f"handler module not found: {source / module}.py",
                f"a file {module}.py (or {module}/__init__.py) inside {source}",
            )
        requirements = self._requirements(values.get("requirements"), source,
                                          where if "requirements" in spec else ("defaults",))
        test = self._test(merged.get("test"), where if "test" in spec else ("defaults",))
        triggers = parse_triggers(
            merged.get("triggers") or [],
            (*(where if "triggers" in spec else ("defaults",)), "triggers"),
            self.error,
            self.lines,
        )
        if len(self.issues) > before or handler is None:
            return None
        return FunctionConfig(
            key=key,
            name=full_name,
            source=source.resolve(),
            handler=handler,
            runtime=runtime,
            architecture=values.get("architecture", "x86_64"),
            memory=values.get("memory", 128),
            timeout=values.get("timeout", 10),
            role=values.get("role"),
            description=values.get("description", ""),
            environment=values.get("environment", {}),
            layers=tuple(values.get("layers", ())),
            tags=values.get("tags", {}),
            exclude=tuple(values.get("exclude", ())),
            requirements=requirements,
            include_runtime_packages=values.get("include_runtime_packages", False),
            strip=tuple(values.get("strip", ())),
            s3_bucket=values.get("s3_bucket"),
            test=test,
            triggers=triggers,
            line=self.lines.get(where),
        )

    def _requirements(self, value: str | None, source: Path, where: tuple[str, ...]) -> Path | None:
        if value is None:
            default = source / "requirements.txt"
            return default.resolve() if default.is_file() else None
        path = source / value
        if not path.is_file():
            self.error((*where, "requirements"), f"requirements file not found: {path}", "a path relative to source")
            return None
        return path.resolve()

    def _test(self, value: Any, where: tuple[str, ...]) -> SmokeTest | None:
        if value is None:
            return None
        where = (*where, "test")
        if not isinstance(value, dict):
            self.error(where, "must be a mapping with `payload` and optional `expect`")
            return None
        self._unknown_keys(value, where, ("payload", "expect"))
        payload = value.get("payload", {})
        payload_file = None
        if isinstance(payload, str):
            payload_file = (self.path.parent / payload).resolve()
            if not payload_file.is_file():
                self.error((*where, "payload"), f"payload file not found: {payload_file}", "a JSON file relative to lambda.yaml, or an inline mapping")
                return None
            try:
                payload = json.loads(payload_file.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self.error((*where, "payload"), f"{payload_file} is not valid JSON: {exc}")
                return None
        return SmokeTest(payload=payload, expect=value.get("expect"), payload_file=payload_file)


def _module_exists(source: Path, module: str) -> bool:
    relative = Path(*module.split("."))
    return (source / relative).with_suffix(".py").is_file() or (source / relative / "__init__.py").is_file()
