"""Turn the parsed lambda.yaml document into a Project, collecting every problem on the way.

Each problem names the file, the line, the field path and what is allowed, and all of
them are reported at once (ConfigError), so a user fixes the file in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .. import runtimes
from ..awsrules.lambda_api import ENVIRONMENT_LIMIT, environment_size, tag_violations
from ..errors import ConfigError, ConfigIssue
from ..fields import INVALID, Reporter, closest
from ..triggers import registry
from ..triggers.base import Trigger
from . import layout
from .model import FunctionConfig, Project, SmokeTest
from .rules import (
    ALIAS_NAME,
    ALIAS_NAME_MAX,
    FUNCTION_FIELD_NAMES,
    FUNCTION_FIELDS,
    NAME,
    TOP_LEVEL_FIELDS,
)
from .settings import (
    SETTING_NAMES,
    SETTINGS_MARKER_PREFIX,
    FunctionSettings,
    check_settings,
    merge_environment,
)

FUNCTION_NAME_LIMIT = 64
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invoke payload limit
MAX_MANIFEST_BYTES = 1024 * 1024
# Function fields whose checked value is turned into something else before it reaches the model.
DERIVED_FIELDS = ("source", "handler", "runtime", "requirements", "include")


class Validator:
    """Checks one document; `issues` collects what is wrong, `warnings` what is only worth saying."""

    def __init__(self, path: Path, lines: dict[tuple[str, ...], int]) -> None:
        self.path = path
        self.lines = lines
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []
        self.report = Reporter(self._sink)

    def _sink(self, where: tuple[str, ...], message: str, hint: str | None) -> None:
        line = None
        for end in range(len(where), 0, -1):
            if where[:end] in self.lines:
                line = self.lines[where[:end]]
                break
        self.issues.append(ConfigIssue(self.path, line, ".".join(where), message, hint))

    def error(self, where: tuple[str, ...], message: str, hint: str | None = None) -> None:
        self._sink(where, message, hint)

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
        self._unknown_keys(defaults, ("defaults",), FUNCTION_FIELD_NAMES)
        functions = document.get("functions")
        layer_keys = {str(k) for k in document["layers"]} if isinstance(document.get("layers"), dict) else set()
        result: list[FunctionConfig] = []
        if not isinstance(functions, dict) or not functions:
            self.error(("functions",), "must list at least one function", "functions: {hello: {handler: app.handler}}")
        else:
            for key, spec in functions.items():
                if not isinstance(key, str | int) or isinstance(key, bool):
                    self.error(("functions", str(key)), f"invalid function name {key!r}",
                               "a name of letters, digits, - and _ (quote it if YAML reads it as something else)")
                    continue
                function = self._function(str(key), spec, defaults, name, aliases, layer_keys)
                if function is not None:
                    result.append(function)
        layers = layout.project_layers(document.get("layers"), result, name, self.path.parent, self.report,
                                       self.warnings.append)
        if self.issues:
            raise ConfigError(self.issues)
        result, layers = layout.with_layout(result, layers, self.path)
        return Project(self.path, tuple(result), aliases, name, region, tuple(self.warnings), layers=layers)

    def _aliases(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.error(("aliases",), "must be a non-empty list of alias names", "aliases: [dev, prod]")
            return ()
        for index, alias in enumerate(value):
            if not isinstance(alias, str) or not ALIAS_NAME.match(alias):
                self.error(("aliases", str(index)), f"invalid alias name {alias!r}",
                           f"1-{ALIAS_NAME_MAX} letters, digits, - or _, not only digits")
        # Only names that passed go on: the others are reported once, here, not again as tags.
        return tuple(a for a in value if isinstance(a, str) and ALIAS_NAME.match(a))

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

    def _function(self, key: str, spec: Any, defaults: dict, project: str | None,
                  aliases: tuple[str, ...], layer_keys: set[str]) -> FunctionConfig | None:
        where = ("functions", key)
        if not NAME.match(key):
            self.error(where, f"invalid function name {key!r}", "letters, digits, - and _")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            self.error(where, "must be a mapping of function fields", "e.g. {handler: app.handler}")
            return None
        self._unknown_keys(spec, where, FUNCTION_FIELD_NAMES)
        merged = {**defaults, **spec}

        def origin(field: str) -> tuple[str, ...]:
            return (*where, field) if field in spec else ("defaults", field)

        before = len(self.issues)
        values = self._fields(spec, defaults, where, origin)
        full_name = f"{project}-{key}" if project else key
        if len(full_name) > FUNCTION_NAME_LIMIT:
            self.error(where, f"function name {full_name!r} is longer than {FUNCTION_NAME_LIMIT} characters")
        runtime_name = values.get("runtime", runtimes.DEFAULT_RUNTIME)
        runtime = runtimes.find(runtime_name)
        self._deprecation(key, runtime, runtime_name)
        source = self.path.parent / values.get("source", f"functions/{key}")
        if not source.is_dir():
            self.error(origin("source") if "source" in merged else where, f"source folder not found: {source}")
        handler = values.get("handler")
        if "handler" not in merged:
            self.error(where, "missing field `handler`", "module.function inside source, e.g. app.handler")
        elif handler is not None and runtime is not None:
            self._handler(runtime, handler, source, origin("handler"))
            if source.is_dir():
                self.warnings += [f"{key}: {w}" for w in runtime.handler_warnings(source, handler, runtime_name)]
        settings = self._settings(values, merged, runtime_name, origin, aliases)
        self._aws_limits(values, origin, aliases, settings)
        for index, message, hint in layout.layer_ref_problems(values.get("layers", ()), layer_keys):
            self.error((*origin("layers"), str(index)), message, hint)
        include = layout.include_paths(values.get("include", ()), source, self.path.parent, origin("include"),
                                       self.error) if source.is_dir() else ()
        manifest = self._manifest(values.get("requirements"), source,
                                  origin("requirements") if "requirements" in merged else where, runtime)
        test = self._test(merged.get("test"), where if "test" in spec else ("defaults",))
        triggers = self._triggers(merged.get("triggers") or [], origin("triggers"), aliases)
        if len(self.issues) > before or handler is None:
            return None
        # Fields whose value the model takes as checked (FunctionConfig has the defaults).
        plain = {name: value for name, value in values.items() if name not in DERIVED_FIELDS + SETTING_NAMES}
        return FunctionConfig(key=key, name=full_name, source=source.resolve(), handler=handler, runtime=runtime_name,
                              requirements=manifest, test=test, triggers=triggers, line=self.lines.get(where),
                              include=include, settings=settings, **plain)

    def _fields(self, spec: dict, defaults: dict, where: tuple[str, ...], origin: Any) -> dict[str, Any]:
        """The function's fields (FUNCTION_FIELDS) that are valid, each checked where it is written."""
        merged = {**defaults, **spec}
        values: dict[str, Any] = {}
        for field in FUNCTION_FIELDS:
            if field.name == "environment":  # merged, not replaced: each side checked where it is written
                environment = merge_environment([(defaults.get("environment"), Reporter(self._sink, ("defaults", field.name))),
                                                 (spec.get("environment"), Reporter(self._sink, (*where, field.name)))],
                                                field.rule)
                if environment is not None and environment is not INVALID:
                    values[field.name] = environment
                continue
            if merged.get(field.name) is None:
                continue
            checked = field.rule.check(merged[field.name], Reporter(self._sink, origin(field.name)))
            if checked is not INVALID:
                values[field.name] = checked
        return values

    def _settings(self, values: dict[str, Any], merged: dict, runtime: str, origin: Any,
                  aliases: tuple[str, ...]) -> FunctionSettings:
        """The function's settings (config/settings.py), checked across fields once each field is valid."""
        settings = FunctionSettings.from_fields(values)
        if all(name in values for name in SETTING_NAMES if merged.get(name) is not None):
            check_settings(settings, runtime, values.get("role"), aliases,
                           lambda field, *path: Reporter(self._sink, (*origin(field), *path)))
        return settings

    def _aws_limits(self, values: dict[str, Any], origin: Any, aliases: tuple[str, ...],
                    settings: FunctionSettings) -> None:
        """Limits Lambda applies to a whole field (botocore's models do not state them)."""
        environment = values.get("environment") or {}
        if environment_size(environment) > ENVIRONMENT_LIMIT:
            self.error(origin("environment"),
                       f"the variables take {environment_size(environment)} bytes as JSON; Lambda allows "
                       f"{ENVIRONMENT_LIMIT} in all", "move large values to SSM Parameter Store or Secrets Manager")
        # The tool's own tags count too: managed-by, the description's digest, and one trigger
        # marker per alias (engine/plan.py desired_tags, engine/triggers.py).
        own = {"managed-by": "lambdadeploy", "lambdadeploy:description": "none",
               **{f"lambdadeploy:triggers:{alias}": "none" for alias in aliases}}
        if settings.marked:  # the settings the tool reconciles per alias (engine/settings_plan.py)
            own.update({SETTINGS_MARKER_PREFIX + alias: "none" for alias in aliases})
        for problem in tag_violations({**values.get("tags", {}), **own}):
            self.error(origin("tags"), problem, f"lambdadeploy keeps {len(own)} tags of its own")

    def _handler(self, runtime: runtimes.Runtime, handler: str, source: Path, where: tuple[str, ...]) -> None:
        problem = runtime.handler_problem(handler)
        if problem:
            self.error(where, problem, f"module.function, e.g. {runtime.handler_example}")
        elif source.is_dir() and (missing := runtime.handler_file_problem(source, handler)):
            self.error(where, *missing)

    def _deprecation(self, key: str, runtime: runtimes.Runtime | None, name: str) -> None:
        version = runtime.version(name) if runtime else None
        if version and version.deprecated and version.deprecated <= dt.date.today():
            newest = runtime.versions[-1].name if runtime else name
            self.warnings.append(f"{key}: runtime {name} was deprecated by AWS on {version.deprecated.isoformat()}; "
                                 f"move to a supported one such as {newest}")

    def _manifest(self, value: str | None, source: Path, where: tuple[str, ...],
                  runtime: runtimes.Runtime | None) -> Path | None:
        if value is None:
            if runtime is None:
                return None
            default = source / runtime.manifest_name
            if not default.is_file():
                return None
            path = default
        else:
            path = source / value
            if path.is_dir():
                self.error(where, f"requirements path {path} is a folder, not a file", "a file relative to source")
                return None
            if not path.is_file():
                self.error(where, f"requirements file not found: {path}", "a path relative to source")
                return None
        problem = text_file_problem(path)
        if problem:
            self.error(where, problem, "save it as UTF-8 text")
            return None
        if runtime is not None and (problem := runtime.manifest_problem(path)):
            self.error(where, *problem)
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
                self.error((*where, "payload"), f"payload file not found: {payload_file}",
                           "a JSON file relative to lambda.yaml, or an inline mapping")
                return None
            if payload_file.stat().st_size > MAX_PAYLOAD_BYTES:
                self.error((*where, "payload"), f"{payload_file} is larger than Lambda's 6 MB invoke payload limit")
                return None
            try:
                payload = json.loads(payload_file.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                self.error((*where, "payload"), f"{payload_file} is not valid JSON: {exc}")
                return None
            except RecursionError:
                self.error((*where, "payload"), f"{payload_file} is nested too deeply to read",
                           "a smoke-test event of at most a few hundred levels")
                return None
        return SmokeTest(payload=payload, expect=value.get("expect"), payload_file=payload_file)

    def _triggers(self, value: Any, where: tuple[str, ...], aliases: tuple[str, ...]) -> tuple[Trigger, ...]:
        """Each entry is a one-key mapping naming the kind: `- s3: {bucket: uploads}`, with an optional
        `alias:` beside the kind or inside its settings."""
        if not isinstance(value, list):
            self.error(where, "must be a list of triggers", "e.g. - s3: {bucket: uploads}")
            return ()
        known = registry.names()
        triggers = []
        for index, entry in enumerate(value):
            at = (*where, str(index))
            if not isinstance(entry, dict) or len([k for k in entry if k != "alias"]) != 1:
                self.error(at, "each trigger is a mapping with one kind", "kinds: " + ", ".join(known))
                continue
            name = next(k for k in entry if k != "alias")
            if name not in known:
                guess = closest(str(name), list(known))
                self.error((*at, str(name)), f"unknown trigger kind {name!r}",
                           f"did you mean {guess}?" if guess else "kinds: " + ", ".join(known))
                continue
            kind = registry.kind(name)
            raw = entry[name] if entry[name] is not None else {}
            alias = entry.get("alias")
            if isinstance(raw, dict) and "alias" in raw:
                alias = raw["alias"]
                raw = {k: v for k, v in raw.items() if k != "alias"}
            if alias is not None and alias not in aliases:
                self.error((*at, "alias"), f"alias {alias!r} is not one of the project's aliases",
                           "aliases: " + ", ".join(aliases))
                continue
            report = Reporter(self._sink, (*at, name))
            before = len(self.issues)
            settings = kind.settings.check(raw, report)
            if settings is INVALID:
                continue
            kind.check(settings, lambda field, message, hint=None, r=report: r.at(field)(message, hint))
            if len(self.issues) == before:
                triggers.append(Trigger(name, settings, alias, self.lines.get(at)))
        return tuple(triggers)


def text_file_problem(path: Path) -> str | None:
    """Why a dependency manifest cannot be read as UTF-8 text (with the line), or None."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if len(data) > MAX_MANIFEST_BYTES:
        return f"{path} is larger than {MAX_MANIFEST_BYTES // 1024 // 1024} MB"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{path} is UTF-16 (line 1); it must be UTF-8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"{path} is not UTF-8 text (line {line})"
    return None
