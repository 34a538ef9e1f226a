"""The fields lambda.yaml allows, each with its rule, and the JSON Schema built from them.

One table (FUNCTION_FIELDS) serves `validate` and `lambdadeploy schema`; trigger settings
come from each trigger kind's own table (triggers/*.py).
"""

from __future__ import annotations

import re
from typing import Any

from .. import runtimes
from ..fields import (
    INVALID,
    Boolean,
    Field,
    Integer,
    OneOf,
    Reporter,
    Rule,
    Text,
    TextList,
    TextMap,
    record_schema,
)
from ..triggers import registry
from .settings import SETTING_FIELDS

TOP_LEVEL_FIELDS = ("project", "region", "defaults", "aliases", "functions")
ARCHITECTURES = ("x86_64", "arm64")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
LAYER_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")  # Lambda's model: a letter, then at least one more
# Lambda sets these itself and rejects functions that try to.
RESERVED_ENV = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)
STRIP_OPTIONS = ("tests",)
# Lambda allows alias names of 128 characters, but each alias is also the tail of a tag key
# the tool keeps on the function ("lambdadeploy:triggers:ALIAS", 22 + name), and tag keys
# stop at 128: a longer alias could be created and then never marked.
ALIAS_NAME_MAX = 128 - len("lambdadeploy:triggers:")
ALIAS_NAME = re.compile(rf"^(?!\d+$)[A-Za-z0-9_-]{{1,{ALIAS_NAME_MAX}}}$")
NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # function keys and project names


class Role(Rule):
    """An IAM role ARN, or a role name in the deploying account."""

    def check(self, value: Any, report: Reporter) -> Any:
        text = Text().check(value, report)
        if text is INVALID:
            return INVALID
        if text.startswith("arn:"):
            if not ROLE_ARN.match(text):
                report(f"invalid role ARN {text!r}", "arn:aws:iam::123456789012:role/NAME, or a role name")
                return INVALID
        elif not ROLE_NAME.match(text):
            report(f"invalid role name {text!r}", "an IAM role name or ARN")
            return INVALID
        return text

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


class Environment(TextMap):
    """Environment variables: valid names, none that Lambda reserves."""

    def check(self, value: Any, report: Reporter) -> Any:
        result = super().check(value, report)
        if result is INVALID:
            return INVALID
        reserved = [key for key in result if key in RESERVED_ENV]
        for key in reserved:
            report.at(key)(f"{key} is reserved by Lambda", "pick another name")
        return INVALID if reserved else result


FUNCTION_FIELDS: tuple[Field, ...] = (
    Field("source", Text(), doc="folder with the code (default functions/<name>)"),
    Field("handler", Text(), doc="module.function inside source, e.g. app.handler"),
    Field("runtime", OneOf(runtimes.RUNTIMES), doc=f"default {runtimes.DEFAULT_RUNTIME}"),
    Field("architecture", OneOf(ARCHITECTURES), doc="default x86_64"),
    Field("memory", Integer(128, 10240, "MB"), doc="MB (default 128)"),
    Field("timeout", Integer(1, 900, "seconds"), doc="seconds (default 10)"),
    Field("role", Role(), doc="role ARN or name; omit for the project's basic role"),
    Field("description", Text(max_length=256)),
    Field("environment", Environment(Text(ENV_KEY, "a letter, then one or more letters, digits or _",
                                          what="variable name"))),
    Field("layers", TextList(Text(LAYER_ARN, "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION", what="layer ARN"),
                             max_items=5), doc="layer version ARNs, at most 5"),
    Field("tags", TextMap()),
    Field("exclude", TextList(), doc="gitignore-style patterns left out of the zip"),
    Field("requirements", Text(), doc="dependency manifest, relative to source"),
    Field("include_runtime_packages", Boolean(), doc="also pack what the runtime provides (boto3, @aws-sdk/*, ...)"),
    Field("strip", TextList(OneOf(STRIP_OPTIONS), single=True), doc="drop dependencies' test folders"),
    Field("s3_bucket", Text(), doc="upload packages over the direct-upload limit through this bucket"),
    *SETTING_FIELDS,  # vpc, logging, concurrency, ... (config/settings.py)
)
# test and triggers have their own structure, checked by validate.py.
FUNCTION_FIELD_NAMES: tuple[str, ...] = (*(f.name for f in FUNCTION_FIELDS), "test", "triggers")


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of lambda.yaml, for editors (yaml-language-server)."""
    trigger_variants = []
    for kind in registry.kinds():
        settings = record_schema(kind.settings.fields)
        settings["properties"]["alias"] = {"type": "string"}
        trigger_variants.append({
            "type": "object", "additionalProperties": False, "required": [kind.name],
            "properties": {kind.name: settings, "alias": {"type": "string"}},
        })
    function = record_schema(FUNCTION_FIELDS)
    # Both runtimes' handler shapes (Python's module.function, Node.js's path/file-name.export):
    # an editor should not flag what validate accepts; validate checks the runtime's own rule.
    function["properties"]["handler"]["pattern"] = r"^(?:[\w@.-]+/)*[\w@-]+(?:\.[A-Za-z_$][\w$]*)+$"
    function["properties"]["test"] = {
        "type": "object", "additionalProperties": False,
        "properties": {"payload": {"description": "JSON file relative to lambda.yaml, or inline"},
                       "expect": {"description": "subset the response must contain"}}}
    function["properties"]["triggers"] = {"type": "array", "items": {"oneOf": trigger_variants}}
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
