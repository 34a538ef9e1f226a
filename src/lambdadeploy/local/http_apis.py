"""The sandbox serves the HTTP APIs deployed to it, so `curl` against a stage URL runs the alias.

moto keeps HTTP APIs (apigatewayv2) but serves none of them. This module does, on the
sandbox's own loopback server, under a path of its own:

    http://127.0.0.1:4599/_api/TOKEN/API_ID/STAGE/path?query

and reports that prefix as each API's `ApiEndpoint`, so `push` and `status` print these
URLs with the same code that prints `https://ID.execute-api.REGION.amazonaws.com/STAGE`
on AWS. TOKEN is a secret made when the sandbox starts: AWS calls to the sandbox are for
its owner only, and an HTTP API runs the owner's code, so a URL is a capability (whoever
holds it may call the API, as with a real API's URL) that another local user, or a web
page that did not get it from the owner, cannot guess. The Host must also be a loopback
name (no DNS rebinding). Browsers may call it when the API's CORS allows their origin.

A request goes as on API Gateway: the stage, the most specific route (payload format
2.0 routing rules), CORS preflight answered by the API, the route's auth (JWT claims
read but their signature NOT verified; AWS_IAM needs a SigV4 Authorization header that is
NOT verified), the integration's `${stageVariables.X}` resolved, the alias's resource
policy checked for an apigateway.amazonaws.com statement whose SourceArn matches, then
the function runs through the invoke seam and its result is mapped back to HTTP.

Also filled in for moto here: GetAuthorizers (missing in moto 5.2) and AWS's
ConflictException for a second route with the same key (moto accepts duplicates).
"""

from __future__ import annotations

import base64
import fnmatch
import hmac
import http
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from ..triggers.http_events import (
    Request,
    Response,
    Routing,
    error_response,
    http_response,
    request_event,
)
from ..triggers.http_settings import PRINCIPAL, function_of_uri, match_route
from .seam import running_urls

PREFIX = "/_api/"
TOKEN = secrets.token_urlsafe(16)  # per sandbox process: the capability in every local API URL
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_install_lock = threading.Lock()
_MARKER = "_lambdadeploy_http_apis"


def install() -> None:
    """Patch moto's apigatewayv2 (idempotent, process-wide): local ApiEndpoints while a sandbox
    serves, GetAuthorizers, and ConflictException for a duplicate route key."""
    from moto.apigatewayv2.models import Api
    from moto.apigatewayv2.responses import ApiGatewayV2Response
    from moto.core.exceptions import JsonRESTError

    with _install_lock:
        if getattr(Api, _MARKER, False):
            return
        original_to_json, original_create_route = Api.to_json, Api.create_route

        def to_json(self: Any) -> dict[str, Any]:
            document = original_to_json(self)
            if running_urls:
                document["apiEndpoint"] = local_endpoint(running_urls[-1], self.api_id)
            return document

        def create_route(self: Any, *args: Any, **kwargs: Any) -> Any:
            key = kwargs.get("route_key")
            if any(route.route_key == key for route in self.routes.values()):
                error = JsonRESTError("ConflictException", f"Unable to create route {key}. The route already exists.")
                error.code = 409
                raise error
            return original_create_route(self, *args, **kwargs)

        def get_authorizers(self: Any) -> Any:
            api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
            return 200, {}, json.dumps({"items": [a.to_json() for a in api.authorizers.values()]})

        Api.to_json = to_json
        Api.create_route = create_route
        ApiGatewayV2Response.get_authorizers = get_authorizers
        setattr(Api, _MARKER, True)


def local_endpoint(base_url: str, api_id: str) -> str:
    return f"{base_url.rstrip('/')}{PREFIX}{TOKEN}/{api_id}"


def front(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: requests under /_api/ are HTTP API calls; everything else goes to `app`."""

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO") or "").startswith(PREFIX):
            return app(environ, start_response)
        response = handle(environ)
        headers = [*response.headers, ("content-length", str(len(response.body))),
                   ("apigw-requestid", uuid.uuid4().hex[:16])]
        start_response(f"{response.status} {http.HTTPStatus(response.status).phrase}", headers)
        return [response.body]

    return serve


def _refused(status: int, message: str, reason: str) -> Response:
    """API Gateway's answer, with the sandbox's reason in a header of its own."""
    answer = error_response(status, message)
    return Response(answer.status, (*answer.headers, ("x-lambdadeploy-reason", reason)), answer.body)


def handle(environ: dict[str, Any]) -> Response:
    """One request to a local HTTP API. Long because it is API Gateway's pipeline in order, each
    stage answering as API Gateway does when it refuses."""
    host = str(environ.get("HTTP_HOST") or "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.lower() not in LOOPBACK_NAMES:
        return _refused(403, "Forbidden", f"Host {host!r} is not a loopback name (DNS rebinding protection)")
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    raw_path = raw.partition("?")[0] if raw.startswith("/") else str(environ.get("PATH_INFO") or "")
    parts = raw_path[len(PREFIX):].split("/", 2)
    if len(parts) < 2 or not hmac.compare_digest(parts[0].encode(), TOKEN.encode()):
        return _refused(403, "Forbidden", "not this sandbox's API URL (its secret part differs)")
    found = find_api(parts[1])
    if found is None:
        return _refused(404, "Not Found", f"no HTTP API {parts[1]} in this sandbox")
    account, region, api = found
    stage, path = _stage_and_path(api, "/" + (parts[2] if len(parts) > 2 else ""))
    if stage is None:
        return _refused(404, "Not Found", "no such stage")
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    headers = _headers(environ)
    origin = dict(headers).get("origin")
    if method == "OPTIONS" and origin and api.cors_configuration and dict(headers).get("access-control-request-method"):
        return _preflight(api.cors_configuration, origin)
    routed = match_route([r.route_key for r in api.routes.values()], method, unquote(path))
    if routed is None:
        return _refused(404, "Not Found", f"no route matches {method} {path}")
    route = next(r for r in api.routes.values() if r.route_key == routed[0])
    authorizer, denied = _authorize(api, route, dict(headers))
    if denied is not None:
        return denied
    request = Request(method, path, str(environ.get("QUERY_STRING") or ""), tuple(headers), _body(environ),
                      str(environ.get("REMOTE_ADDR") or "127.0.0.1"))
    routing = Routing(api.api_id, stage.name, routed[0], account, f"{api.api_id}.execute-api.{region}.amazonaws.com",
                      routed[1], dict(stage.stage_variables or {}), authorizer)
    response = _invoke(account, region, api, stage, route, request, routing)
    return _with_cors(response, api.cors_configuration, origin)


def find_api(api_id: str) -> tuple[str, str, Any] | None:
    """(account, region, moto's Api) for an API id, in whichever account and region holds it."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account, regions in list(apigatewayv2_backends.items()):
        for region, backend in list(regions.items()):
            if api_id in backend.apis and backend.apis[api_id].protocol_type == "HTTP":
                return account, region, backend.apis[api_id]
    return None


def _stage_and_path(api: Any, rest: str) -> tuple[Any, str]:
    """The stage named by the first path segment, else the $default stage serving the whole path."""
    first, _, tail = rest[1:].partition("/")
    if first in api.stages and first != "$default":
        return api.stages[first], "/" + tail
    return api.stages.get("$default"), rest


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(key[5:].replace("_", "-").lower(), str(value)) for key, value in environ.items()
               if key.startswith("HTTP_")]
    if environ.get("CONTENT_TYPE"):
        headers.append(("content-type", str(environ["CONTENT_TYPE"])))
    return headers


def _body(environ: dict[str, Any]) -> bytes:
    length = str(environ.get("CONTENT_LENGTH") or "0")
    size = int(length) if length.isdigit() else 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    return stream.read(size) if size else (stream.read() if environ.get("wsgi.input_terminated") else b"")


def _authorize(api: Any, route: Any, headers: dict[str, str]) -> tuple[dict[str, Any] | None, Response | None]:
    """(the event's requestContext.authorizer, a refusal) for the route's auth type."""
    kind = route.authorization_type or "NONE"
    if kind == "AWS_IAM":
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return None, _refused(403, "Forbidden", "the route needs AWS_IAM: a SigV4 Authorization header (the "
                                  "sandbox checks that it is there, not the signature)")
        return {"iam": {}}, None
    if kind != "JWT":
        return None, None
    authorizer = api.authorizers.get(route.authorizer_id)
    config = {k.lower(): v for k, v in ((authorizer.jwt_config if authorizer else None) or {}).items()}
    claims = _claims(headers.get("authorization", ""))
    if claims is None:
        return None, _refused(401, "Unauthorized", "the route needs a JWT in the Authorization header")
    audience = set(config.get("audience") or [])
    given = claims.get("aud") or claims.get("client_id") or []
    given = {given} if isinstance(given, str) else set(given)
    if claims.get("iss") != config.get("issuer") or not audience & given or float(claims.get("exp", 0)) < time.time():
        return None, _refused(401, "Unauthorized", "the token's iss, aud (or client_id) or exp does not pass "
                              "(the sandbox reads the claims; it does not verify the signature)")
    scopes = str(claims.get("scope") or "").split()
    if route.authorization_scopes and not set(route.authorization_scopes) & set(scopes):
        return None, _refused(403, "Forbidden", "the token has none of the route's scopes")
    return {"jwt": {"claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()},
                    "scopes": scopes or None}}, None


def _claims(authorization: str) -> dict[str, Any] | None:
    token = authorization.removeprefix("Bearer ").strip()
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def _invoke(account: str, region: str, api: Any, stage: Any, route: Any, request: Request,
            routing: Routing) -> Response:
    """Run the route's Lambda proxy integration through the alias, as API Gateway would."""
    from moto.awslambda.models import lambda_backends

    integration = api.integrations.get(str(route.target or "").removeprefix("integrations/"))
    if integration is None or integration.integration_type != "AWS_PROXY":
        return _refused(500, "Internal Server Error", "the sandbox runs Lambda proxy integrations only")
    uri = re.sub(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}",
                 lambda m: str((stage.stage_variables or {}).get(m.group(1), "")), integration.integration_uri or "")
    arn = function_of_uri(uri)
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        return _refused(500, "Internal Server Error", f"integration URI {uri} names no function")
    name, qualifier = parts[6], (parts[7] if len(parts) > 7 and parts[7] else None)
    backend = lambda_backends[account][region]
    called = f"arn:{parts[1]}:execute-api:{region}:{account}:{api.api_id}/{stage.name}/" + (
        "$default" if routing.route_key == "$default" else f"{request.method}{request.path}")
    if not _permitted(backend, name, qualifier, called):
        return _refused(500, "Internal Server Error", f"{name}:{qualifier} has no resource-policy statement letting "
                        f"{PRINCIPAL} invoke it from {called}")
    response_headers: dict[str, Any] = {}
    try:
        payload = backend.invoke(name, qualifier, json.dumps(request_event(request, routing)), {}, response_headers)
    except Exception as error:  # moto's errors for a missing function or alias
        return _refused(500, "Internal Server Error", f"invoking {arn}: {error}")
    if response_headers.get("x-amz-function-error"):
        return _refused(500, "Internal Server Error", "the function raised (see its logs)")
    return http_response(payload if isinstance(payload, bytes) else str(payload or "").encode())


def _permitted(backend: Any, name: str, qualifier: str | None, called: str) -> bool:
    try:
        policy = json.loads(json.loads(backend.get_policy(name, qualifier))["Policy"])  # as GetPolicy answers
    except Exception:  # no policy, or no such function: not permitted
        return False
    for statement in policy.get("Statement") or []:
        principal = json.dumps(statement.get("Principal"))
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if statement.get("Effect") != "Allow" or PRINCIPAL not in principal:
            continue
        if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
            continue
        sources = [value for operator in (statement.get("Condition") or {}).values()
                   for key, value in (operator or {}).items() if key.lower() == "aws:sourcearn"]
        patterns = [p for value in sources for p in ([value] if isinstance(value, str) else value)]
        if not patterns or any(fnmatch.fnmatchcase(called, p) for p in patterns):
            return True
    return False


def _cors_value(cors: dict[str, Any], name: str) -> Any:
    return cors.get(name) or cors.get(name[:1].lower() + name[1:])


def _origin_allowed(cors: dict[str, Any], origin: str) -> str | None:
    allowed = _cors_value(cors, "AllowOrigins") or []
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def _preflight(cors: dict[str, Any], origin: str) -> Response:
    """API Gateway answers a CORS preflight itself when the API has CORS, whatever the routes."""
    allowed = _origin_allowed(cors, origin)
    if allowed is None:
        return Response(204, (), b"")
    headers = [("access-control-allow-origin", allowed)]
    for name, header in (("AllowMethods", "access-control-allow-methods"), ("AllowHeaders", "access-control-allow-headers")):
        if _cors_value(cors, name):
            headers.append((header, ",".join(_cors_value(cors, name))))
    if _cors_value(cors, "MaxAge"):
        headers.append(("access-control-max-age", str(_cors_value(cors, "MaxAge"))))
    if _cors_value(cors, "AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    return Response(204, tuple(headers), b"")


def _with_cors(response: Response, cors: dict[str, Any] | None, origin: str | None) -> Response:
    if not cors or not origin or _origin_allowed(cors, origin) is None:
        return response
    extra = [("access-control-allow-origin", str(_origin_allowed(cors, origin)))]
    if _cors_value(cors, "ExposeHeaders"):
        extra.append(("access-control-expose-headers", ",".join(_cors_value(cors, "ExposeHeaders"))))
    if _cors_value(cors, "AllowCredentials"):
        extra.append(("access-control-allow-credentials", "true"))
    return Response(response.status, (*response.headers, *extra), response.body)
