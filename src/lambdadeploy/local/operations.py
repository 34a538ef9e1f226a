"""Which operation a request is, and its input, read with botocore's service model.

This is what an AWS front end does before validating: match the request to an operation
(X-Amz-Target for `json`, Action for `query`, method and requestUri template for `rest-json`
and `rest-xml`) and read every input member from where the protocol puts it (URI labels,
query string, headers, JSON or XML body, form fields). The result maps member names to
values, typed as the model says; members the request does not carry are absent.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from .wire import Incoming

_INTEGERS = ("integer", "long", "short", "byte")
_FLOATS = ("float", "double")


@dataclass(frozen=True)
class Call:
    """A request understood: its service, protocol, operation and input (by member name)."""

    service: str
    protocol: str
    region: str
    operation: Any  # botocore OperationModel
    params: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.operation.name)


def identify(request: Incoming, model: Any, protocol: str, region: str) -> Call | None:
    """The operation and its input, or None when the request matches no operation of `model`."""
    if protocol == "json":
        target = request.headers.get("x-amz-target", "")
        operation = _operation(model, target.rpartition(".")[2])
        body = request.json_body()
        if operation is None or not isinstance(body, dict):
            return None
        return Call(model.service_name, protocol, region, operation, _from_json(operation.input_shape, body))
    if protocol == "query":
        form = request.form()
        operation = _operation(model, form.get("Action", ""))
        if operation is None:
            return None
        params = _from_form(operation.input_shape, form, "") if operation.input_shape is not None else {}
        return Call(model.service_name, protocol, region, operation, params or {})
    if protocol in ("rest-json", "rest-xml"):
        matched = _match_rest(model, request)
        if matched is None:
            return None
        operation, labels = matched
        return Call(model.service_name, protocol, region, operation, _from_rest(operation, request, labels, protocol))
    return None


def _operation(model: Any, name: str) -> Any:
    return model.operation_model(name) if name in model.operation_names else None


# --- rest protocols: the operation by method and URI template --------------------------------


@functools.lru_cache(maxsize=16)
def _templates(model: Any) -> tuple[tuple[str, re.Pattern[str], frozenset[str], tuple[int, int], str], ...]:
    """(method, path regex, required query keys, rank, operation) for each operation; the rank
    prefers longer literal paths, then current operations over deprecated twins on one URI."""
    found = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        http = operation.http
        path, _, query = http.get("requestUri", "/").partition("?")
        literal, pattern = 0, ""
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                label = piece[1:-1]
                greedy = label.endswith("+")
                pattern += f"(?P<{_group(label.rstrip('+'))}>{'.+' if greedy else '[^/]+'})"
            else:
                literal += len(piece)
                pattern += re.escape(piece)
        keys = frozenset(part.partition("=")[0] for part in query.split("&") if part)
        rank = (literal, 0 if getattr(operation, "deprecated", False) else 1)
        found.append((http.get("method", "POST"), re.compile(pattern.rstrip("/") + "/?"), keys, rank, name))
    return tuple(found)


def _group(label: str) -> str:
    return "L_" + re.sub(r"\W", "_", label)


def _match_rest(model: Any, request: Incoming) -> tuple[Any, dict[str, str]] | None:
    best: tuple[tuple[int, tuple[int, int]], Any, dict[str, str]] | None = None
    for method, pattern, keys, rank, name in _templates(model):
        if method != request.method or not keys <= set(request.query):
            continue
        match = pattern.fullmatch(request.raw_path)
        if match is None:
            continue
        score = (len(keys), rank)
        if best is None or score > best[0]:
            best = (score, name, {k: unquote(v) for k, v in match.groupdict().items()})
    if best is None:
        return None
    return model.operation_model(best[1]), best[2]


def _from_rest(operation: Any, request: Incoming, labels: Mapping[str, str], protocol: str) -> dict[str, Any]:
    shape = operation.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and _group(wire) in labels:
            params[name] = _scalar(member, labels[_group(wire)])
        elif location == "querystring" and member.type_name == "map":
            params[name] = {k: v[0] for k, v in request.query.items()}
        elif location == "querystring" and wire in request.query:
            values = request.query[wire]
            params[name] = ([_scalar(member.member, v) for v in values] if member.type_name == "list"
                            else _scalar(member, values[0]))
        elif location == "header" and wire.lower() in request.headers:
            params[name] = _scalar(member, request.headers[wire.lower()])
        elif location == "headers":
            prefix = wire.lower()
            params[name] = {k[len(prefix):]: v for k, v in request.headers.items() if k.startswith(prefix)}
    payload = shape.serialization.get("payload")
    if payload:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            if request.body:
                params[payload] = request.body
        elif request.body:
            params[payload] = _body(member, request.body, protocol)
    elif request.body:
        body = _body(shape, request.body, protocol)
        params.update({k: v for k, v in body.items()
                       if not shape.members[k].serialization.get("location")})
    return params


def _body(shape: Any, body: bytes, protocol: str) -> dict[str, Any]:
    if protocol == "rest-json":
        import json

        try:
            document = json.loads(body)
        except ValueError:
            return {}
        return _from_json(shape, document) if isinstance(document, dict) else {}
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    return _from_xml(shape, root)


# --- the value readers, one per wire format --------------------------------------------------


def _from_json(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict) and not getattr(shape, "is_document_type", False):
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value and value[wire] is not None:
                out[name] = _from_json(member, value[wire])
        return out
    if kind == "list" and isinstance(value, list):
        return [_from_json(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _from_json(shape.value, item) for key, item in value.items()}
    if kind == "blob" and isinstance(value, str):
        return _Blob(value)
    return value


def _from_form(shape: Any, form: Mapping[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            full = f"{prefix}.{key}" if prefix else key
            if _present(form, full):
                out[name] = _from_form(member, form, full)
        return out
    if kind == "list":
        if form.get(prefix) == "":
            return []
        base = prefix if shape.serialization.get("flattened") else \
            f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items, index = [], 1
        while _present(form, f"{base}.{index}"):
            items.append(_from_form(shape.member, form, f"{base}.{index}"))
            index += 1
        return items
    if kind == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries, index = {}, 1
        while _present(form, f"{base}.{index}"):
            key = form.get(f"{base}.{index}.{key_name}", "")
            entries[key] = _from_form(shape.value, form, f"{base}.{index}.{value_name}")
            index += 1
        return entries
    return _scalar(shape, form.get(prefix, ""))


def _present(form: Mapping[str, str], key: str) -> bool:
    return key in form or any(name.startswith(key + ".") for name in form)


def _from_xml(shape: Any, node: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                tag = member.member.serialization.get("name", wire)
                items = [child for child in node if _tag(child) == tag]
                if items:
                    out[name] = [_from_xml(member.member, child) for child in items]
                continue
            child = next((c for c in node if _tag(c) == wire), None)
            if child is not None:
                out[name] = _from_xml(member, child)
        return out
    if kind == "list":
        return [_from_xml(shape.member, child) for child in node]
    return _scalar(shape, node.text or "")


def _tag(node: ElementTree.Element) -> str:
    return node.tag.rpartition("}")[2]


def _scalar(shape: Any, text: str) -> Any:
    """A value read from text (a URI label, header, query or form field, XML), typed."""
    kind = shape.type_name
    try:
        if kind in _INTEGERS:
            return int(text)
        if kind in _FLOATS:
            return float(text)
    except ValueError:
        return text  # not a number: AWS reports that differently; leave it to the service
    if kind == "boolean":
        return text.lower() == "true" if text.lower() in ("true", "false") else text
    if kind == "blob":
        return _Blob(text)
    return text


class _Blob(str):
    """A base64 blob as sent; its length is that of the bytes it encodes."""

    def decoded_length(self) -> int:
        try:
            return len(base64.b64decode(self, validate=False))
        except ValueError:
            return len(self)
