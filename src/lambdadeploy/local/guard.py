"""The sandbox's front door: what every request passes before moto sees it.

In order, as AWS's own front ends do:

1. owner-only transport: the Host must be a loopback name (no DNS rebinding), no browser
   (`Origin`, `Sec-Fetch-Site`), and moto's `/moto-api/` control endpoints are not served;
   a local HTTP API URL (`/_api/TOKEN/...`, http_apis.py) is answered here, its TOKEN (made
   from the owner's secret key) standing in for the signature so that `curl` works;
2. the request size caps (Lambda's 69,905,067-byte code upload, 6 MB synchronous invoke): 413;
3. the SigV4 signature, by a key this sandbox made (sigv4.py): 403 otherwise;
4. the service model's limits on the operation's input (limits.py): 400 ValidationException
   (or the service's own code for it);
5. AWS's semantic rules (behaviour.py), the function's RevisionId precondition (revisions.py)
   and timing (timing.py);

then moto answers; its answer gets the function's RevisionId, and timing may show a new
version as Pending in it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .. import __version__
from ..aws.models import service_model
from ..awsrules import Violation, lambda_api
from . import behaviour, http_apis, limits
from .credentials import SandboxCredentials
from .operations import Call, identify
from .probe import PROBE_PATH
from .revisions import ANSWERS as REVISION_ANSWERS
from .revisions import Revisions
from .sigv4 import AuthProblem, scope_of, verify
from .timing import Clock, metrics_delay
from .wire import Answer, Incoming, auth_violation, error, protocol_of, service_for
from .world import World

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Services whose every input is checked against the model, and the code each answers with.
# Lambda, EventBridge, IAM and STS codes are confirmed from AWS answers; CloudWatch Logs answers
# InvalidParameterException with the same text; SNS, CloudWatch (query: ValidationError) and
# SQS (ValidationException) follow their protocol's convention, unconfirmed.
VALIDATION_CODES = {
    "lambda": "ValidationException", "events": "ValidationException", "logs": "InvalidParameterException",
    "iam": "ValidationError", "sts": "ValidationError", "sns": "ValidationError",
    "cloudwatch": "ValidationError", "sqs": "ValidationException",
}
# What else is understood (its operation and input read) for semantic rules, without model limits.
UNDERSTOOD = {*VALIDATION_CODES, "s3"}
# Lambda calls whose answers the sandbox rewrites: timing (a version shown Pending), revisions.
_ANSWERED = frozenset({"PublishVersion", "CreateFunction", "UpdateFunctionCode", "GetFunctionConfiguration",
                       "GetFunction", "ListVersionsByFunction", *REVISION_ANSWERS})
_CHUNK = 1 << 20
_log = logging.getLogger("lambdadeploy.sandbox")


@dataclass(frozen=True)
class KeyRing:
    """The key pairs the sandbox accepts: the owner's, and the one its functions run with."""

    owner: SandboxCredentials
    functions: SandboxCredentials

    def lookup(self, access_key_id: str) -> tuple[str, str | None] | None:
        for pair in (self.owner, self.functions):
            if access_key_id == pair.access_key_id:
                return pair.secret_access_key, pair.session_token
        return None


class Guard:
    """WSGI middleware in front of moto's application."""

    def __init__(self, app: Callable[..., Iterable[bytes]], keys: KeyRing, clock: Clock) -> None:
        self.app = app
        self.keys = keys
        self.clock = clock
        self.revisions = Revisions()
        self.api_token = http_apis.token_for(keys.owner)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        refusal = screen(environ)
        if refusal is not None:
            return refusal.start(start_response)
        if environ.get("PATH_INFO") == PROBE_PATH and environ.get("REQUEST_METHOD") == "GET":
            return self._probe().start(start_response)
        if http_apis.is_api_request(environ):
            return http_apis.serve(environ, start_response, self.api_token, self.keys.lookup)
        request, too_large = _read(environ)
        if too_large is not None:
            return error("rest-json", too_large).start(start_response)
        scope = scope_of(request.received())
        service = service_for(scope.service) if scope else ""
        model = service_model(service) if service in UNDERSTOOD else None
        protocol = protocol_of(request, model)
        try:
            verify(request.received(), self.keys.lookup)
        except AuthProblem as problem:
            return error(protocol, auth_violation(problem.kind, protocol, problem.detail), model).start(start_response)
        call, refusal = self._understand(request, model, protocol, scope.region if scope else "")
        if refusal is not None:
            return error(protocol, refusal, model).start(start_response)
        environ["wsgi.input"] = io.BytesIO(request.body)
        environ["CONTENT_LENGTH"] = str(len(request.body))
        with metrics_delay(self.clock.timing.metrics_delay):
            if call is not None and call.service == "lambda" and call.name in _ANSWERED:
                return self._forward_answered(call, environ, start_response)
            return self.app(environ, start_response)

    def _understand(self, request: Incoming, model: Any, protocol: str,
                    region: str) -> tuple[Call | None, Violation | None]:
        """The call (if its service is understood) and why AWS would refuse it. A fault in these
        checks lets the request through to moto, logged: access was checked already, and a bug
        here must not stop a deploy that AWS would take."""
        if model is None:
            return None, None
        try:
            call = identify(request, model, protocol, region)
            return call, self._refusal(call) if call is not None else None
        except Exception:
            _log.exception("lambdadeploy sandbox: could not check %s %s; passing it to moto unchecked",
                           request.method, request.raw_path)
            return None, None

    def _refusal(self, call: Call) -> Violation | None:
        """Why AWS would refuse this call (model limits, then rules, then timing), or None."""
        code = VALIDATION_CODES.get(call.service)
        if code is not None and call.protocol in ("json", "rest-json", "query"):
            found = limits.violations(call.operation.input_shape, call.params)
            if found:
                return Violation(code, limits.validation_message(found))
        world = World(call.region)
        return behaviour.check(call, world) or self.revisions.refusal(call) or self.clock.before(call, world)

    def _forward_answered(self, call: Call, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Forward to moto, then give its answer the RevisionId and timing AWS's would have."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.update(status=status, headers=headers)
            return lambda data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(captured["status"]).split()[0])
        for rewrite in (self.revisions.answer, self.clock.after):
            replaced = rewrite(call, status, body)
            if replaced is not None:
                body = replaced
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _probe(self) -> Answer:
        """How `--sandbox` recognises a running sandbox, and whose it is (by key id only)."""
        document = {"service": "lambdadeploy-sandbox", "version": __version__,
                    "access_key_id": self.keys.owner.access_key_id, "timing": self.clock.timing.name}
        return Answer(200, (("Content-Type", "application/json"),), json.dumps(document).encode())


def screen(environ: Mapping[str, Any]) -> Answer | None:
    """Refuse what no local SDK sends: a foreign Host, a browser's request, moto's control API."""
    host = str(environ.get("HTTP_HOST") or "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.lower() not in LOOPBACK_NAMES:
        return _refused(f"Host {host!r} is not a loopback name; the sandbox answers 127.0.0.1, localhost "
                        "and [::1] only (DNS rebinding protection)")
    # Browsers send Origin on cross-origin requests and Sec-Fetch-Site on every request; SDKs send
    # neither (Node's fetch sends Sec-Fetch-Mode only, which is no sign of a web page).
    if environ.get("HTTP_ORIGIN") is not None or environ.get("HTTP_SEC_FETCH_SITE") is not None:
        return _refused("requests from web pages (an Origin or Sec-Fetch-Site header) are refused: the "
                        "sandbox runs code as its user")
    path = unquote(str(environ.get("PATH_INFO") or ""))
    if path.startswith("/moto-api"):
        return Answer(404, (("Content-Type", "text/plain"),), b"Not Found")
    return None


def _refused(message: str) -> Answer:
    body = json.dumps({"__type": "AccessDeniedException", "message": f"lambdadeploy sandbox: {message}"})
    return Answer(403, (("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")),
                  body.encode())


def _read(environ: dict[str, Any]) -> tuple[Incoming, Violation | None]:
    """The whole request; a body over Lambda's cap is read and dropped, and answered 413."""
    method = str(environ.get("REQUEST_METHOD") or "GET")
    raw_uri = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
    raw_path, _, raw_query = raw_uri.partition("?")
    if raw_path.startswith(("http://", "https://")):  # an absolute-form request target
        raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
    headers = _headers(environ)
    length = int(environ.get("CONTENT_LENGTH") or 0) if str(environ.get("CONTENT_LENGTH") or "0").isdigit() else 0
    stream = environ["wsgi.input"]
    cap = _size_cap(method, raw_path, headers)
    if cap is not None and length > cap[0]:
        while length > 0:
            chunk = stream.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
        return Incoming.build(method, raw_path, raw_query, headers, b""), cap[1]
    if length:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    return Incoming.build(method, raw_path, raw_query, headers, body), None


def _size_cap(method: str, raw_path: str, headers: Mapping[str, str]) -> tuple[int, Violation] | None:
    if "/lambda/aws4_request" not in headers.get("authorization", ""):
        return None
    path = raw_path.rstrip("/")
    if method == "POST" and path == "/2015-03-31/functions":
        return lambda_api.REQUEST_LIMIT, lambda_api.request_too_large("CreateFunction")
    if method == "PUT" and path.startswith("/2015-03-31/functions/") and path.endswith("/code"):
        return lambda_api.REQUEST_LIMIT, lambda_api.request_too_large("UpdateFunctionCode")
    if method == "POST" and path.startswith("/2015-03-31/functions/") and path.endswith("/invocations") \
            and headers.get("x-amz-invocation-type", "RequestResponse") == "RequestResponse":
        return lambda_api.INVOKE_PAYLOAD_LIMIT, lambda_api.invoke_too_large()
    return None


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """Lower-case header names; those with underscores (S3 metadata) as moto's handler kept them."""
    preserved = environ.get("moto.preserved_header_names") or {}
    headers = {str(preserved.get(key) or key[5:].replace("_", "-")).lower(): str(value)
               for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return headers
