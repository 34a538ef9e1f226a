"""The fields lambda.yaml allows and the rule that checks each one.

A rule takes the raw value and a `report(message, hint)` callback; it returns the
checked (possibly converted) value, or None after reporting what is wrong.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

Report = Callable[..., None]
Rule = Callable[[Any, Report], Any]

TOP_LEVEL_FIELDS = ("project", "region", "defaults", "aliases", "functions")
RUNTIMES = tuple(f"python3.{minor}" for minor in range(9, 15))
ARCHITECTURES = ("x86_64", "arm64")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
LAYER_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Lambda sets these itself and rejects functions that try to.
RESERVED_ENV = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)
STRIP_OPTIONS = ("tests",)
ALIAS_NAME = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")
NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # function keys and project names


def closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The valid name a typo most likely meant, if any is close enough."""
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return matches[0] if matches else None


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def string(value: Any, report: Report) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        report(f"must be a string, got {_type_name(value)}")
        return None
    return str(value)


def one_of(choices: tuple[str, ...]) -> Rule:
    def rule(value: Any, report: Report) -> str | None:
        if value not in choices:
            guess = closest(str(value), choices)
            hint = f"did you mean {guess}?" if guess else None
            report(f"{value!r} is not allowed; allowed: {', '.join(choices)}", hint)
            return None
        return str(value)

    return rule


def integer(low: int, high: int, unit: str) -> Rule:
    def rule(value: Any, report: Report) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            report(f"must be a whole number of {unit}, got {value!r}", f"{low}..{high}")
            return None
        if not low <= value <= high:
            report(f"{value} is out of range", f"allowed: {low}..{high} {unit}")
            return None
        return value

    return rule


def boolean(value: Any, report: Report) -> bool | None:
    if not isinstance(value, bool):
        report(f"must be true or false, got {value!r}")
        return None
    return value


def string_list(value: Any, report: Report) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report("must be a list of strings")
        return None
    return list(value)


def handler(value: Any, report: Report) -> str | None:
    text = string(value, report)
    if text is None:
        return None
    parts = text.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        report(f"invalid handler {text!r}", "module.function, e.g. app.handler or pkg.app.handler")
        return None
    return text


def role(value: Any, report: Report) -> str | None:
    text = string(value, report)
    if text is None:
        return None
    if text.startswith("arn:"):
        if not ROLE_ARN.match(text):
            report(f"invalid role ARN {text!r}", "arn:aws:iam::123456789012:role/NAME, or a role name")
            return None
    elif not ROLE_NAME.match(text):
        report(f"invalid role name {text!r}", "an IAM role name or ARN")
        return None
    return text


def layers(value: Any, report: Report) -> list[str] | None:
    items = string_list(value, report)
    if items is None:
        return None
    bad = [item for item in items if not LAYER_ARN.match(item)]
    if bad:
        report(f"invalid layer ARN {bad[0]!r}", "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION")
        return None
    if len(items) > 5:
        report(f"{len(items)} layers; Lambda allows at most 5")
        return None
    return items


def environment(value: Any, report: Report) -> dict[str, str] | None:
    if not isinstance(value, dict):
        report("must be a mapping of NAME: value")
        return None
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_KEY.match(key):
            report(f"invalid variable name {key!r}", "a letter, then letters, digits or _")
            return None
        if key in RESERVED_ENV:
            report(f"{key} is reserved by Lambda", "pick another name")
            return None
        if isinstance(item, dict | list) or item is None:
            report(f"{key}: value must be a string or number, got {_type_name(item)}")
            return None
        result[key] = str(item).lower() if isinstance(item, bool) else str(item)
    return result


def tags(value: Any, report: Report) -> dict[str, str] | None:
    if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
        report("must be a mapping of key: value strings")
        return None
    return {str(k): str(v) for k, v in value.items()}


def strip(value: Any, report: Report) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or any(item not in STRIP_OPTIONS for item in items):
        report(f"invalid strip value {value!r}", "allowed: " + ", ".join(STRIP_OPTIONS))
        return None
    return list(items)


FIELD_RULES: dict[str, Rule] = {
    "source": string,
    "handler": handler,
    "runtime": one_of(RUNTIMES),
    "architecture": one_of(ARCHITECTURES),
    "memory": integer(128, 10240, "MB"),
    "timeout": integer(1, 900, "seconds"),
    "role": role,
    "description": string,
    "environment": environment,
    "layers": layers,
    "tags": tags,
    "exclude": string_list,
    "requirements": string,
    "include_runtime_packages": boolean,
    "strip": strip,
    "s3_bucket": string,
}
# test and triggers have their own structure and are checked by config.py / triggers_config.py.
FUNCTION_FIELDS = (*FIELD_RULES, "test", "triggers")


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of lambda.yaml, for editors (yaml-language-server)."""
    from .triggers_config import KINDS

    string_map = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
    trigger_variants = []
    for kind, (required, optional) in KINDS.items():
        settings = {name: {} for name in (*required, *optional, "alias")}
        trigger_variants.append({
            "type": "object", "additionalProperties": False, "required": [kind],
            "properties": {kind: {"type": "object", "required": list(required), "properties": settings,
                                  "additionalProperties": False}, "alias": {"type": "string"}},
        })
    function = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "source": {"type": "string", "description": "folder with the code (default functions/<name>)"},
            "handler": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$",
                        "description": "module.function inside source"},
            "runtime": {"enum": list(RUNTIMES)},
            "architecture": {"enum": list(ARCHITECTURES)},
            "memory": {"type": "integer", "minimum": 128, "maximum": 10240, "description": "MB"},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 900, "description": "seconds"},
            "role": {"type": "string", "description": "role ARN or name; omit for the project's basic role"},
            "description": {"type": "string"},
            "environment": string_map,
            "layers": {"type": "array", "maxItems": 5, "items": {"type": "string", "pattern": LAYER_ARN.pattern}},
            "tags": string_map,
            "exclude": {"type": "array", "items": {"type": "string"}},
            "requirements": {"type": "string"},
            "include_runtime_packages": {"type": "boolean"},
            "strip": {"type": "array", "items": {"enum": list(STRIP_OPTIONS)}},
            "s3_bucket": {"type": "string"},
            "test": {"type": "object", "additionalProperties": False,
                     "properties": {"payload": {"description": "JSON file relative to lambda.yaml, or inline"},
                                    "expect": {"description": "subset the response must contain"}}},
            "triggers": {"type": "array", "items": {"oneOf": trigger_variants}},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lambdadeploy lambda.yaml",
        "type": "object",
        "additionalProperties": False,
        "required": ["functions"],
        "properties": {
            "project": {"type": "string", "pattern": NAME.pattern},
            "region": {"type": "string"},
            "aliases": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": ALIAS_NAME.pattern}},
            "defaults": function,
            "functions": {"type": "object", "minProperties": 1,
                          "propertyNames": {"pattern": NAME.pattern},
                          "additionalProperties": {**function, "required": ["handler"]}},
        },
    }
