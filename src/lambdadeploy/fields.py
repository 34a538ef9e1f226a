"""Typed fields of lambda.yaml: one definition gives both the check and the JSON Schema.

A rule checks one raw YAML value and returns it converted (e.g. to a tuple or a frozen
dataclass), or INVALID after reporting what is wrong through a `Reporter`, which
knows where in the document the value sits. Function fields (config/rules.py) and
every trigger kind's settings (triggers/*.py) are tables of these rules, so
`validate`, the settings dataclasses and `lambdadeploy schema` cannot disagree.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()

Sink = Callable[[tuple[str, ...], str, "str | None"], None]


class Reporter:
    """Reports problems of the value at `where` (a field path such as functions.resize.memory)."""

    def __init__(self, sink: Sink, where: tuple[str, ...] = ()) -> None:
        self.sink = sink
        self.where = where

    def __call__(self, message: str, hint: str | None = None) -> None:
        self.sink(self.where, message, hint)

    def at(self, *names: str) -> Reporter:
        return Reporter(self.sink, (*self.where, *names))


def closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The valid name a typo most likely meant, if any is close enough."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


class Rule:
    """A check of one value and its JSON Schema."""

    def check(self, value: Any, report: Reporter) -> Any:
        raise NotImplementedError

    @property
    def schema(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Text(Rule):
    """A string (numbers are accepted and written as text), optionally matching a pattern."""

    pattern: re.Pattern[str] | None = None
    hint: str | None = None
    max_length: int | None = None
    what: str = "value"

    def check(self, value: Any, report: Reporter) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            report(f"must be a string, got {type_name(value)}")
            return INVALID
        text = str(value)
        if self.max_length is not None and len(text) > self.max_length:
            report(f"is {len(text)} characters long; at most {self.max_length} are allowed")
            return INVALID
        if self.pattern is not None and not self.pattern.match(text):
            report(f"invalid {self.what} {text!r}", self.hint)
            return INVALID
        return text

    @property
    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.pattern is not None:
            schema["pattern"] = self.pattern.pattern
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return schema


@dataclass(frozen=True)
class Integer(Rule):
    low: int
    high: int
    unit: str = ""

    def check(self, value: Any, report: Reporter) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            report(f"must be a whole number{' of ' + self.unit if self.unit else ''}, got {value!r}",
                   f"{self.low}..{self.high}")
            return INVALID
        if not self.low <= value <= self.high:
            report(f"{value} is out of range", f"allowed: {self.low}..{self.high} {self.unit}".rstrip())
            return INVALID
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class Boolean(Rule):
    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, bool):
            report(f"must be true or false, got {value!r}")
            return INVALID
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class OneOf(Rule):
    choices: tuple[str, ...]

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, str) or value not in self.choices:
            guess = closest(str(value), self.choices)
            report(f"{value!r} is not allowed; allowed: {', '.join(self.choices)}",
                   f"did you mean {guess}?" if guess else None)
            return INVALID
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@dataclass(frozen=True)
class TextList(Rule):
    """A list of strings (as a tuple); `single=True` also takes one string for a one-item list."""

    item: Rule = Text()
    max_items: int | None = None
    single: bool = False
    min_items: int = 0

    def check(self, value: Any, report: Reporter) -> Any:
        if self.single and isinstance(value, str):
            # One string written for a one-item list: a problem is the field's, not an item's.
            checked = self.item.check(value, report)
            return INVALID if checked is INVALID else (checked,)
        if not isinstance(value, list):
            report(f"must be a list, got {type_name(value)}")
            return INVALID
        if self.max_items is not None and len(value) > self.max_items:
            report(f"{len(value)} items; at most {self.max_items} are allowed")
            return INVALID
        if len(value) < self.min_items:
            report(f"needs at least {self.min_items} item{'s' if self.min_items != 1 else ''}")
            return INVALID
        items = [self.item.check(v, report.at(str(i))) for i, v in enumerate(value)]
        return INVALID if any(i is INVALID for i in items) else tuple(items)

    @property
    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.schema}
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return {"oneOf": [schema, self.item.schema]} if self.single else schema


@dataclass(frozen=True)
class TextMap(Rule):
    """A mapping of names to scalar values, all kept as strings (true/false as `true`/`false`)."""

    key: Rule = Text()
    what: str = "value"

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, dict):
            report(f"must be a mapping of NAME: {self.what}, got {type_name(value)}")
            return INVALID
        result: dict[str, str] = {}
        ok = True
        for key, item in value.items():
            at = report.at(str(key))
            if self.key.check(key, at) is INVALID:
                ok = False
                continue
            if isinstance(item, dict | list) or item is None:
                at(f"must be a string or number, got {type_name(item)}")
                ok = False
                continue
            result[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
        return result if ok else INVALID

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}


@dataclass(frozen=True)
class Json(Rule):
    """Any JSON value (a schedule's input, an SNS filter policy)."""

    description: str = ""

    def check(self, value: Any, report: Reporter) -> Any:
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"description": self.description} if self.description else {}


@dataclass(frozen=True)
class Field:
    """One named field of a record: its rule, whether it must be there, and a line of help."""

    name: str
    rule: Rule
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Record(Rule):
    """A mapping with known fields, checked into a frozen dataclass `make` (missing: its defaults).

    A field whose value is null counts as not set. Unknown keys are reported with the closest
    known name; every problem is reported, not just the first."""

    fields: tuple[Field, ...]
    make: type
    what: str = "settings"

    def check(self, value: Any, report: Reporter) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            report(f"{self.what} must be a mapping, got {type_name(value)}")
            return INVALID
        known = {f.name: f for f in self.fields}
        ok = True
        for key in value:
            if key not in known:
                guess = closest(str(key), list(known))
                report.at(str(key))("unknown setting", f"did you mean {guess}?" if guess
                                     else "allowed: " + ", ".join(known))
                ok = False
        values: dict[str, Any] = {}
        for field in self.fields:
            raw = value.get(field.name)
            if raw is None:
                if field.required:
                    report.at(field.name)(f"missing `{field.name}`", field.doc or None)
                    ok = False
                continue
            checked = field.rule.check(raw, report.at(field.name))
            if checked is INVALID:
                ok = False
            else:
                values[field.name] = checked
        return self.make(**values) if ok else INVALID

    @property
    def schema(self) -> dict[str, Any]:
        return record_schema(self.fields)


def record_schema(fields: tuple[Field, ...] | list[Field]) -> dict[str, Any]:
    properties = {}
    for field in fields:
        schema = dict(field.rule.schema)
        if field.doc:
            schema["description"] = field.doc
        properties[field.name] = schema
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def as_mapping(settings: Any) -> dict[str, Any]:
    """A settings dataclass as a plain mapping of the fields that are set (for --show and JSON)."""
    result = {}
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        elif hasattr(value, "as_config"):  # a checked value that reads back as the file wrote it
            value = value.as_config()
        result[item.name] = value
    return result
