"""HTTP API payload format 2.0: the event a request becomes, and the HTTP response a function's
result becomes. Pure; used by `invoke --http` and by the sandbox's local HTTP APIs.

As API Gateway does: header names lower case, repeated headers and query parameters
joined with commas, cookies in their own list, `rawPath` with the stage's name in front for
a named stage, a body that is not text base64-encoded. A result without `statusCode` is a
200 JSON response of the result itself.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from .http_settings import METHODS, match_route

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "+json", "+xml")


@dataclass(frozen=True)
class Request:
    """An HTTP request as API Gateway receives it."""

    method: str
    path: str  # without the stage
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class Routing:
    """Where the request went: the API, stage, matched route and what the route adds."""

    api_id: str
    stage: str
    route_key: str
    account: str
    domain: str
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    authorizer: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def parse_request_line(text: str) -> tuple[str, str, str]:
    """("GET", "/items", "x=1") from "GET /items?x=1"; ValueError says what is wrong."""
    parts = text.split()
    if len(parts) != 2 or parts[0].upper() not in METHODS or parts[0].upper() == "ANY" or not parts[1].startswith("/"):
        raise ValueError(f"{text!r} is not METHOD /path[?query], e.g. 'GET /items?limit=2'")
    path, _, query = parts[1].partition("?")
    return parts[0].upper(), path, query


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def _is_text(headers: Mapping[str, str], body: bytes) -> bool:
    content_type = headers.get("content-type", "").lower()
    if content_type and not any(kind in content_type for kind in TEXT_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def request_event(request: Request, routing: Routing, now: float | None = None) -> dict[str, Any]:
    """The payload format 2.0 event for `request` routed by `routing`."""
    now = time.time() if now is None else now
    headers = _joined(((k, v) for k, v in request.headers if k.lower() != "cookie"), lower=True)
    cookies = [c.strip() for k, v in request.headers if k.lower() == "cookie" for c in v.split(";") if c.strip()]
    raw_path = request.path if routing.stage == "$default" else f"/{routing.stage}{request.path}"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
    context: dict[str, Any] = {
        "accountId": routing.account, "apiId": routing.api_id, "domainName": routing.domain,
        "domainPrefix": routing.domain.split(".")[0],
        "http": {"method": request.method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": request.source_ip,
                 "userAgent": headers.get("user-agent", "")},
        "requestId": str(uuid.uuid4()), "routeKey": routing.route_key, "stage": routing.stage,
        "time": stamp, "timeEpoch": int(now * 1000),
    }
    if routing.authorizer is not None:
        context["authorizer"] = dict(routing.authorizer)
    event: dict[str, Any] = {"version": "2.0", "routeKey": routing.route_key, "rawPath": raw_path,
                             "rawQueryString": request.query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _joined(parse_qsl(request.query, keep_blank_values=True))
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if request.body:
        text = _is_text(headers, request.body)
        event["body"] = request.body.decode("utf-8") if text else base64.b64encode(request.body).decode("ascii")
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    if routing.path_parameters:
        event["pathParameters"] = {k: unquote(v) for k, v in routing.path_parameters.items()}
    if routing.stage_variables:
        event["stageVariables"] = dict(routing.stage_variables)
    return event


def http_response(payload: bytes) -> Response:
    """The HTTP response API Gateway makes of a function's result (format 2.0)."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        return error_response(502, "Internal Server Error")  # not JSON: API Gateway cannot map it
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(200, (("content-type", "application/json"),), payload)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return error_response(500, "Internal Server Error")
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(str(body))
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    return Response(status, tuple(headers), data)


def error_response(status: int, message: str) -> Response:
    """API Gateway's own answers: {"message": "Not Found"} and the like."""
    body = json.dumps({"message": message}).encode()
    return Response(status, (("content-type", "application/json"),), body)


def try_event(line: str, headers: Iterable[str], body: bytes, routes: Iterable[str], stage: str,
              region: str) -> tuple[dict[str, Any], bool]:
    """The event `invoke --http 'GET /items?x=1'` sends: the request routed by the function's own
    routes (False when none matches: then as the $default route), on API `local`, stage `stage`.
    ValueError says what is wrong with the request line or a header."""
    method, path, query = parse_request_line(line)
    pairs = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header {header!r} is not 'Name: value'")
        pairs.append((name.strip(), value.strip()))
    if not any(name.lower() == "user-agent" for name, _ in pairs):
        pairs.append(("user-agent", "lambdadeploy-invoke"))
    matched = match_route(tuple(routes), method, path)
    route, params = matched if matched is not None else ("$default", {})
    routing = Routing("local", stage, route, "000000000000", f"local.execute-api.{region}.amazonaws.com", params)
    return request_event(Request(method, path, query, tuple(pairs), body), routing), matched is not None
