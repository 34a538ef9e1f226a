"""The sandbox serves the HTTP APIs deployed to it, so `curl` against a stage URL runs the alias.

moto keeps HTTP APIs (apigatewayv2) but serves none of them. This module does, on the
sandbox's own loopback server, under a path of its own:

    http://127.0.0.1:4599/_api/TOKEN/API_ID/STAGE/path?query

and reports that prefix as each API's `ApiEndpoint`, so `push` and `status` print these
URLs with the same code that prints `https://ID.execute-api.REGION.amazonaws.com/STAGE`
on AWS.

Access: these requests pass the sandbox's front door (guard.py) like every other: a
loopback Host, no web page (an `Origin` or `Sec-Fetch-Site` header is refused, so CORS is
never exercised locally). What stands in for the SigV4 signature of the owner's keys is
TOKEN: an HMAC of a fixed label under the owner's secret key, so only someone who can read
the sandbox's credentials file (mode 0600), or was given a URL by its owner (an
`ApiEndpoint` is only answered to signed calls), can call an API; another local user
cannot guess it, and it changes with every sandbox start. Routes with `AWS_IAM` auth
also need a SigV4 signature (service execute-api) by one of the sandbox's own keys,
verified as API Gateway verifies it.

A request goes as on API Gateway: the stage, the most specific route (payload format
2.0 routing rules), the route's auth (JWT claims read but their signature NOT verified),
the integration's `${stageVariables.X}` resolved, the alias's resource policy checked for
an apigateway.amazonaws.com statement whose SourceArn matches, then the function runs
through the invoke seam and its result is mapped back to HTTP.

Also filled in for moto here: GetAuthorizers (missing in moto 5.2) and AWS's
ConflictException for a second route with the same key (moto accepts duplicates).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import http
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
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
from .credentials import SandboxCredentials
from .sigv4 import AuthProblem, Received, SecretLookup, verify

# API Gateway's HTTP API quota "Payload size: 10 MB" (not adjustable); the request is
# refused before the function runs (http-api-quotas in the developer guide).
PAYLOAD_LIMIT = 10 * 1024 * 1024
PREFIX = "/_api/"
_TOKEN_LABEL = b"lambdadeploy sandbox: HTTP API URLs"
_install_lock = threading.Lock()
_served_lock = threading.Lock()
_served: list[tuple[str, str]] = []  # (sandbox URL, its token) of the sandboxes running in this process
_MARKER = "_lambdadeploy_http_apis"


def token_for(owner: SandboxCredentials) -> str:
    """The secret part of a sandbox's API URLs: derived from its owner's secret key, so it is as
    private as the credentials file and new with every sandbox start."""
    digest = hmac.new(owner.secret_access_key.encode(), _TOKEN_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def register(url: str, token: str) -> None:
    """A sandbox serves at `url`: APIs report their endpoint there (the latest sandbox wins)."""
    with _served_lock:
        _served.append((url, token))


def unregister(url: str) -> None:
    with _served_lock:
        _served[:] = [pair for pair in _served if pair[0] != url]


def is_api_request(environ: dict[str, Any]) -> bool:
    return str(environ.get("PATH_INFO") or "").startswith(PREFIX)


def install() -> None:
    """Patch moto's apigatewayv2 (idempotent, process-wide): local ApiEndpoints while a sandbox
    serves, GetAuthorizers, UpdateStage (its description, auto deploy and stage variables; the
    variables map is taken as sent: lambdadeploy sends the whole map, which is right whether AWS
    merges or replaces), and ConflictException for a duplicate route key."""
    from moto.apigatewayv2.models import Api
    from moto.apigatewayv2.responses import ApiGatewayV2Response
    from moto.core.exceptions import JsonRESTError

    with _install_lock:
        if getattr(Api, _MARKER, False):
            return
        original_to_json, original_create_route = Api.to_json, Api.create_route

        def to_json(self: Any) -> dict[str, Any]:
            document = original_to_json(self)
            with _served_lock:
                latest = _served[-1] if _served else None
            if latest is not None:
                document["apiEndpoint"] = local_endpoint(*latest, self.api_id)
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

        def update_stage(self: Any) -> Any:
            api = self.apigatewayv2_backend.get_api(self.path.split("/")[-3])
            stage = api.get_stage(unquote(self.path.split("/")[-1]))
            body = json.loads(self.body or "{}")
            if "stageVariables" in body:
                stage.stage_variables = dict(body["stageVariables"] or {})
            for key, attribute in (("description", "description"), ("autoDeploy", "auto_deploy")):
                if key in body:
                    setattr(stage, attribute, body[key])
            return 200, {}, json.dumps(stage.to_json())

        Api.to_json = to_json
        ApiGatewayV2Response.update_stage = update_stage
        Api.create_route = create_route
        ApiGatewayV2Response.get_authorizers = get_authorizers
        setattr(Api, _MARKER, True)


def local_endpoint(base_url: str, token: str, api_id: str) -> str:
    return f"{base_url.rstrip('/')}{PREFIX}{token}/{api_id}"


def serve(environ: dict[str, Any], start_response: Any, token: str, lookup: SecretLookup) -> Iterable[bytes]:
    """Answer one request under /_api/ (the guard has screened its Host and origin)."""
    response = handle(environ, token, lookup)
    headers = [*response.headers, ("content-length", str(len(response.body))),
               ("apigw-requestid", uuid.uuid4().hex[:16])]
    start_response(f"{response.status} {http.HTTPStatus(response.status).phrase}", headers)
    return [response.body]


def _refused(status: int, message: str, reason: str) -> Response:
    """API Gateway's answer, with the sandbox's reason in a header of its own."""
    answer = error_response(status, message)
    return Response(answer.status, (*answer.headers, ("x-lambdadeploy-reason", reason)), answer.body)


def handle(environ: dict[str, Any], token: str, lookup: SecretLookup) -> Response:
    """One request to a local HTTP API: the URL's token, then API Gateway's pipeline in order,
    each stage answering as API Gateway does when it refuses."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    raw_path = raw.partition("?")[0] if raw.startswith("/") else str(environ.get("PATH_INFO") or "")
    parts = raw_path[len(PREFIX):].split("/", 2)
    if len(parts) < 2 or not hmac.compare_digest(parts[0].encode(), token.encode()):
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
    routed = match_route([r.route_key for r in api.routes.values()], method, unquote(path))
    if routed is None:
        return _refused(404, "Not Found", f"no route matches {method} {path}")
    route = next(r for r in api.routes.values() if r.route_key == routed[0])
    if _declared_length(environ) > PAYLOAD_LIMIT:
        _drain(environ)
        return _refused(413, "Request Entity Too Large",
                        f"HTTP APIs take payloads of at most {PAYLOAD_LIMIT} bytes (10 MB)")
    body = _body(environ)
    signed = Received(method, raw_path, str(environ.get("QUERY_STRING") or ""), dict(headers), body)
    authorizer, denied = _authorize(api, route, signed, lookup)
    if denied is not None:
        return denied
    request = Request(method, path, str(environ.get("QUERY_STRING") or ""), tuple(headers), body,
                      str(environ.get("REMOTE_ADDR") or "127.0.0.1"))
    routing = Routing(api.api_id, stage.name, routed[0], account, f"{api.api_id}.execute-api.{region}.amazonaws.com",
                      routed[1], dict(stage.stage_variables or {}), authorizer)
    return _invoke(account, region, api, stage, route, request, routing)


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


def _declared_length(environ: dict[str, Any]) -> int:
    length = str(environ.get("CONTENT_LENGTH") or "0")
    return int(length) if length.isdigit() else 0


def _drain(environ: dict[str, Any]) -> None:
    """Read and drop a refused body, so the connection stays usable without holding it."""
    stream, left = environ.get("wsgi.input"), _declared_length(environ)
    while stream is not None and left > 0 and (chunk := stream.read(min(left, 1 << 20))):
        left -= len(chunk)


def _body(environ: dict[str, Any]) -> bytes:
    size = _declared_length(environ)
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    return stream.read(size) if size else (stream.read() if environ.get("wsgi.input_terminated") else b"")


def _authorize(api: Any, route: Any, request: Received,
               lookup: SecretLookup) -> tuple[dict[str, Any] | None, Response | None]:
    """(the event's requestContext.authorizer, a refusal) for the route's auth type."""
    kind = route.authorization_type or "NONE"
    headers = request.headers
    if kind == "AWS_IAM":
        try:
            scope = verify(request, lookup)
        except AuthProblem as problem:
            return None, _refused(403, "Forbidden", f"the route needs AWS_IAM: a SigV4 signature by one of the "
                                  f"sandbox's keys ({problem})")
        if scope.service != "execute-api":
            return None, _refused(403, "Forbidden", f"signed for service {scope.service}, not execute-api")
        return {"iam": {"accessKey": scope.access_key_id}}, None
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
