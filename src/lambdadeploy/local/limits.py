"""The service model's limits on every input, checked as AWS's front ends check them.

botocore checks few constraints client-side (required members, types, minimums); AWS also
refuses lengths over the maximum, values out of range, strings that do not match the
member's pattern (a Java regex applied to the whole value) and values outside an enum.
Each violation is reported in AWS's words:

    1 validation error detected: Value 'x...x' at 'description' failed to satisfy
    constraint: Member must have length less than or equal to 256

The path names members with their first letter lower-cased, list elements as
`tags.3.member.value` (1-based), and a sensitive value is not echoed ("Value at 'x'").
A list or map whose scalar elements break their constraints is reported at the list, with
the element's constraints ("Member must satisfy constraint: [...]", "Map value must satisfy
constraint: [...]"), as Lambda does. Texts confirmed from AWS answers: the length, pattern,
enum, null, list-element and map-value forms; the map-key form follows the same pattern.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

_PROPERTY = re.compile(r"\\([pP])\{(?:Is)?(\w+)\}")
# Java's POSIX-like properties, as Java defines them for US-ASCII.
_ASCII_PROPERTIES = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0B\\f\\r",
}


def validation_message(violations: list[str]) -> str:
    count = len(violations)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(violations)


def violations(shape: Any, value: Any) -> list[str]:
    """Every constraint of `shape` (an operation's input) that `value` breaks, in AWS's words."""
    if shape is None:
        return []
    return list(_check(shape, value, "", sensitive=False))


def _check(shape: Any, value: Any, path: str, sensitive: bool) -> Iterator[str]:
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict) or getattr(shape, "is_document_type", False):
            return
        for name, member in shape.members.items():
            member_path = f"{path}.{_java_name(name)}" if path else _java_name(name)
            if name not in value or value[name] is None:
                if name in shape.required_members:
                    yield _fail(None, member_path, "Member must not be null", False)
                continue
            yield from _check(member, value[name], member_path, sensitive)
        return
    if kind == "list" and isinstance(value, list):
        yield from _length(shape, value, path, sensitive)
        member = shape.member
        if member.type_name == "structure":
            for index, item in enumerate(value, 1):
                yield from _check(member, item, f"{path}.{index}.member", sensitive)
        elif any(item is None or _scalar_failures(member, item) for item in value):
            constraints = [*_constraints(member), "Member must not be null"]
            yield _fail(value, path, f"Member must satisfy constraint: [{', '.join(constraints)}]", sensitive)
        return
    if kind == "map" and isinstance(value, dict):
        yield from _length(shape, value, path, sensitive)
        if any(_scalar_failures(shape.key, key) for key in value):
            yield _fail(value, path, f"Map keys must satisfy constraint: [{', '.join(_constraints(shape.key))}]",
                        sensitive or bool(shape.key.metadata.get("sensitive")))
        if shape.value.type_name in ("structure", "list", "map"):
            for key, item in value.items():
                yield from _check(shape.value, item, f"{path}.{key}", sensitive)
        elif any(_scalar_failures(shape.value, item) for item in value.values()):
            yield _fail(value, path, f"Map value must satisfy constraint: [{', '.join(_constraints(shape.value))}]",
                        sensitive or bool(shape.value.metadata.get("sensitive")))
        return
    for failure in _scalar_failures(shape, value):
        yield _fail(value, path, failure, sensitive)


def _length(shape: Any, value: Any, path: str, sensitive: bool) -> Iterator[str]:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if maximum is not None and len(value) > maximum:
        yield _fail(value, path, f"Member must have length less than or equal to {maximum}", sensitive)
    if minimum is not None and len(value) < minimum:
        yield _fail(value, path, f"Member must have length greater than or equal to {minimum}", sensitive)


def _scalar_failures(shape: Any, value: Any) -> list[str]:
    """The constraints a string, blob or number breaks (in AWS's words)."""
    metadata, kind, found = shape.metadata, shape.type_name, []
    minimum, maximum = metadata.get("min"), metadata.get("max")
    if kind == "string" and isinstance(value, str):
        pattern = metadata.get("pattern")
        if pattern is not None:
            compiled = java_pattern(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                found.append(f"Member must satisfy regular expression pattern: {pattern}")
        enum = metadata.get("enum") if isinstance(shape.metadata, dict) else None
        enum = enum or getattr(shape, "enum", None)
        if enum and value not in enum:
            found.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        found += _bounds(len(value), minimum, maximum, "length")
    elif kind == "blob" and isinstance(value, (str, bytes)):
        length = value.decoded_length() if hasattr(value, "decoded_length") else len(value)
        found += _bounds(length, minimum, maximum, "length")
    elif kind in ("integer", "long", "short", "byte", "float", "double") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        found += _bounds(value, minimum, maximum, "value")
    return found


def _bounds(measure: float, minimum: Any, maximum: Any, what: str) -> list[str]:
    found = []
    if minimum is not None and measure < minimum:
        found.append(f"Member must have {what} greater than or equal to {minimum}")
    if maximum is not None and measure > maximum:
        found.append(f"Member must have {what} less than or equal to {maximum}")
    return found


def _constraints(shape: Any) -> list[str]:
    """Every constraint of a scalar shape, as AWS lists them for a list's or map's elements."""
    metadata, listed = shape.metadata, []
    word = "value" if shape.type_name not in ("string", "blob") else "length"
    if metadata.get("max") is not None:
        listed.append(f"Member must have {word} less than or equal to {metadata['max']}")
    if metadata.get("min") is not None:
        listed.append(f"Member must have {word} greater than or equal to {metadata['min']}")
    if metadata.get("pattern") is not None:
        listed.append(f"Member must satisfy regular expression pattern: {metadata['pattern']}")
    enum = getattr(shape, "enum", None)
    if enum:
        listed.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    return listed


def _fail(value: Any, path: str, constraint: str, sensitive: bool) -> str:
    if sensitive:
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    shown = "null" if value is None else f"'{_java_text(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _java_name(member: str) -> str:
    return member[:1].lower() + member[1:]


def _java_text(value: Any) -> str:
    """A value as Java's toString shows it: [a, b] for lists, {k=v} for maps, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_java_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --- Java regular expressions in Python ------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def java_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's Java pattern as a Python regex (None when it cannot be translated faithfully:
    then the pattern is not enforced rather than enforced wrongly).

    Java differs from Python's `re` where the models use it: `\\p{L}`-style Unicode
    categories (expanded to ranges), `\\w`, `\\d` and `\\s` that are ASCII-only, and a `-`
    after a class shorthand inside brackets (`[\\w-_]`), which Java reads as a literal."""
    translated = _PROPERTY.sub(_property_class, pattern)
    translated = re.sub(r"(\\[wdsWDS])-(?=[^\]])", r"\1\\-", translated)
    if "\x00UNSUPPORTED" in translated:
        return None
    try:
        return re.compile(translated, re.ASCII)
    except re.error:
        return None


def _property_class(match: re.Match[str]) -> str:
    negate, name = match.group(1) == "P", match.group(2)
    ranges = _ASCII_PROPERTIES.get(name) or _category_ranges(name)
    if not ranges:
        return "\x00UNSUPPORTED"
    inside = _inside_brackets(match.string, match.start())
    if inside:
        return "\x00UNSUPPORTED" if negate else ranges  # [^...] in a class cannot be expressed
    return f"[{'^' if negate else ''}{ranges}]"


def _inside_brackets(pattern: str, position: int) -> bool:
    depth, index = 0, 0
    while index < position:
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        index += 1
    return depth > 0


def _category_ranges(category: str) -> str:
    """A bracket-class body of every code point in a Unicode general category ("L", "Zs", ...)."""
    if not re.fullmatch(r"[A-Z][a-z]?", category):
        return ""
    ranges = _all_category_ranges().get(category, [])
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


@functools.lru_cache(maxsize=1)
def _all_category_ranges() -> dict[str, list[tuple[int, int]]]:
    """Code point ranges of every general category and category group, in one pass over the
    planes that have assigned characters (0-3 and the tags of plane 14; 4-13 are unassigned,
    15-16 private use, which no letter, number or separator class includes)."""
    found: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    for low, high in ((0, 0x40000), (0xE0000, 0xE1000)):
        start, current = low, category(chr(low))
        for code in range(low + 1, high):
            kind = category(chr(code))
            if kind != current:
                _add_span(found, current, start, code - 1)
                start, current = code, kind
        _add_span(found, current, start, high - 1)
    return found


def _add_span(found: dict[str, list[tuple[int, int]]], category: str, start: int, end: int) -> None:
    for name in (category, category[0]):
        spans = found.setdefault(name, [])
        if spans and spans[-1][1] == start - 1:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))


def _escape(code: int | None) -> str:
    return f"\\U{code:08x}"
