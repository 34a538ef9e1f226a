"""Parse the rendered lambda.yaml: one pass that keeps line numbers, bounded, strict, and
puts the template's outside values (template.py placeholders) back as data.

libyaml scans (fast), our composer builds the node tree and enforces the limits as it goes:
at most MAX_DEPTH levels of nesting and MAX_NODES nodes, counting what aliases expand to
(a "billion laughs" document is refused at once, and so is an alias inside its own anchor).
A key given twice in one mapping is an error (YAML says keys are unique; PyYAML would keep
the last silently). Then each placeholder is replaced inside its scalar: as text, and a
plain (unquoted) scalar is then read as YAML reads one (`memory: {{ env.MEM }}` is a
number); a plain scalar that is exactly one placeholder of a list or of `tojson` output
becomes that value. The values never pass through the YAML parser, so they cannot add
structure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from ..errors import ConfigError, ConfigIssue
from .template import DataText, Placeholders

try:  # libyaml scans ~6x faster than PyYAML's pure-Python scanner
    from yaml._yaml import CParser as _EventSource
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventSource(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

MAX_DEPTH = 64
MAX_NODES = 100_000
_STR = "tag:yaml.org,2002:str"
_VALUE_TAG = "!lambdadeploy/value"
_MERGE = "tag:yaml.org,2002:merge"


class _Limit(yaml.MarkedYAMLError):
    pass


@dataclass(frozen=True)
class Parsed:
    document: Any
    lines: dict[tuple[str, ...], int]  # field path -> line of its key (1-based)


class _Loader(Composer, SafeConstructor, Resolver):
    """Composer over libyaml's events, counting depth and nodes; SafeConstructor for values."""

    def __init__(self, text: str, placeholders: Placeholders | None) -> None:
        self._events = _EventSource(text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.placeholders = placeholders
        self.depth = 0
        self.nodes = 0
        self.plain: set[int] = set()  # ids of plain scalars with no explicit tag
        self.values: list[Any] = []
        self.tagged: set[int] = set()  # ids of the nodes _put_back turned into computed values

    def check_event(self, *choices: Any) -> bool:
        return self._events.check_event(*choices)

    def peek_event(self) -> Any:
        return self._events.peek_event()

    def get_event(self) -> Any:
        return self._events.get_event()

    def dispose(self) -> None:
        self._events = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Limit(problem=f"more than {MAX_NODES} values", problem_mark=event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise _Limit(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=event.start_mark)
        plain = isinstance(event, yaml.ScalarEvent) and event.tag is None and event.implicit[0]
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if plain:
            self.plain.add(id(node))
        return node

    def construct_value(self, node: yaml.ScalarNode) -> Any:
        if id(node) not in self.tagged:  # the tag written in the file itself: not ours
            raise yaml.constructor.ConstructorError(None, None, f"unknown tag {node.tag!r}", node.start_mark)
        return self.values[int(node.value)]


_Loader.add_constructor(_VALUE_TAG, _Loader.construct_value)


def parse(path: Path, text: str, placeholders: Placeholders | None = None) -> Parsed:
    """The document and the line of each field, or ConfigError with the line of the problem."""
    try:
        loader = _Loader(text, placeholders)
    except UnicodeEncodeError as error:  # a lone surrogate (from a template escape)
        line = text.count("\n", 0, error.start) + 1
        raise ConfigError.single(path, line, "", "invalid YAML: the text holds an invalid character "
                                 f"(a lone surrogate, U+{ord(text[error.start]):04X})") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(None, {})
        _check_expansion(node)
        if placeholders is not None and placeholders.values:
            _put_back(loader, node, placeholders)
        lines, duplicates = _line_map(loader, node)
        if duplicates:
            raise ConfigError([ConfigIssue(path, line, ".".join(where), "duplicate key: it is already set above",
                                           "each key may appear once in a mapping") for where, line in duplicates])
        document = loader.construct_document(node)
    except yaml.YAMLError as error:
        raise _yaml_error(path, text, error) from None
    finally:
        loader.dispose()
    return Parsed(document, lines)


def _yaml_error(path: Path, text: str, error: yaml.YAMLError) -> ConfigError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    line = mark.line + 1 if mark else None
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML refuses: a byte position, no mark
        line = text.encode("utf-8", "surrogatepass").count(b"\n", 0, error.position) + 1
        problem = f"unacceptable character #x{error.character:04x}: {error.reason}" \
            if isinstance(error.character, int) else str(error.reason)
    if line is not None:  # libyaml may place an error at end of input one line past the last
        line = min(line, text.count("\n") + 1)
    return ConfigError.single(path, line, "", f"invalid YAML: {problem}")


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that expand past MAX_NODES values or MAX_DEPTH levels, or into themselves.

    Post-order over the distinct nodes (an alias is the same node object as its anchor), so
    the work is proportional to the file, not to what it expands to."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = list(_children(node))
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_NODES or depth[key] > MAX_DEPTH:
                what = f"more than {MAX_NODES} values" if size[key] > MAX_NODES else f"more than {MAX_DEPTH} levels"
                raise _Limit(problem=f"aliases expand to {what}", problem_mark=node.start_mark)
            continue
        if key in size:
            continue
        if key in on_path:
            raise _Limit(problem="an alias refers to a value that contains it", problem_mark=node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _put_back(loader: _Loader, root: yaml.Node, placeholders: Placeholders) -> None:
    """Replace each placeholder in the scalars by its value (see the module docstring)."""
    pattern = placeholders.pattern
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(_children(node))
        if not isinstance(node, yaml.ScalarNode) or "__9" not in node.value:
            continue
        whole = pattern.fullmatch(node.value)
        if whole and id(node) in loader.plain:
            value = placeholders.values[int(whole.group(1))]
            if isinstance(value, DataText) and value._json:
                try:
                    value = json.loads(value)
                except ValueError:
                    value = str(value)
                if isinstance(value, str):  # a JSON string is text, whatever it spells
                    node.tag, node.value = _STR, value
                    continue
            if not isinstance(value, str):
                loader.values.append(_plain(value))
                node.tag, node.value = _VALUE_TAG, str(len(loader.values) - 1)
                loader.tagged.add(id(node))
                continue
        text = pattern.sub(lambda m: str(placeholders.values[int(m.group(1))]), node.value)
        node.value = text
        if id(node) in loader.plain:  # read as YAML reads an unquoted scalar: number, bool, null, text
            node.tag = loader.resolve(yaml.ScalarNode, text, (True, False))


def _plain(value: Any) -> Any:
    """A value computed in the template as plain data (str, list, dict), for the document."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _line_map(loader: _Loader, root: yaml.Node) -> tuple[dict[tuple[str, ...], int], list[tuple[tuple[str, ...], int]]]:
    """Each field path (('functions', 'resize', 'memory')) -> the 1-based line of its key, and
    the keys set twice in one mapping. Keys are named as the validator sees them (`~` is None)."""
    lines: dict[tuple[str, ...], int] = {}
    duplicates: list[tuple[tuple[str, ...], int]] = []
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    stack.append((value_node, path))
                    continue
                name = _key_name(loader, key_node)
                child = (*path, name)
                if isinstance(key_node, yaml.ScalarNode):
                    if (key_node.tag, name) in seen:
                        duplicates.append((child, key_node.start_mark.line + 1))
                    seen.add((key_node.tag, name))
                lines.setdefault(child, key_node.start_mark.line + 1)
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, str(index))
                lines.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))
    return lines, duplicates


def _key_name(loader: _Loader, node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        try:
            return str(loader.construct_object(node))
        except (yaml.YAMLError, ValueError, TypeError):
            return str(node.value)
    return str(node.value)
