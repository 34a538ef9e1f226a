"""Requests as the sandbox receives them, and AWS's error answers in each wire protocol.

AWS services speak one of four protocols that matter here: `rest-json` (Lambda), `json`
(EventBridge, CloudWatch Logs, SQS, CloudWatch with current SDKs; X-Amz-Target names the
operation), `query` (IAM, SNS, STS, and SQS/CloudWatch with older SDKs; an Action=...
form) and `rest-xml` (S3). An error must come back in the protocol of the request, with
AWS's code, status and message, so that every SDK parses it as it parses AWS's own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from ..awsrules import Violation
from .sigv4 import Received

# The signing name in a SigV4 scope -> botocore's service name, where they differ.
SERVICE_OF_SIGNING_NAME = {"monitoring": "cloudwatch", "eventbridge": "events"}
STATUS_TEXT = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               413: "Request Entity Too Large", 500: "Internal Server Error"}


@dataclass(frozen=True)
class Incoming:
    """One HTTP request, read whole: what signature checks, validation and rules look at."""

    method: str
    raw_path: str  # as sent, percent-encoded
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    query: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
              body: bytes) -> Incoming:
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        return cls(method.upper(), raw_path, raw_query, headers, body, query)

    def received(self) -> Received:
        return Received(self.method, self.raw_path, self.raw_query, self.headers, self.body)

    def form(self) -> dict[str, str]:
        """The Action=... fields of a query-protocol request (body, or query string for GET)."""
        content_type = self.headers.get("content-type", "")
        fields: dict[str, str] = {key: values[0] for key, values in self.query.items()}
        if content_type.startswith("application/x-www-form-urlencoded") and self.body:
            fields.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return fields

    def json_body(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return None


def protocol_of(request: Incoming, service_model: Any | None) -> str:
    """The protocol this request speaks (an SDK may use an older one the service still takes)."""
    content_type = request.headers.get("content-type", "")
    if "cbor" in content_type or request.headers.get("smithy-protocol"):
        return "smithy-rpc-v2-cbor"
    if request.headers.get("x-amz-target"):
        return "json"
    form = content_type.startswith("application/x-www-form-urlencoded") or "Action" in request.query
    if form and (service_model is None or service_model.metadata.get("protocol") != "rest-xml"):
        return "query"
    if service_model is not None:
        protocols = service_model.metadata.get("protocols") or [service_model.metadata.get("protocol")]
        rest = [p for p in protocols if p and p.startswith("rest-")]
        if rest:
            return rest[0]
        return str(service_model.metadata.get("protocol"))
    return "rest-json" if request.raw_path[:3] == "/20" else "rest-xml"


def service_for(signing_name: str) -> str:
    return SERVICE_OF_SIGNING_NAME.get(signing_name, signing_name)


# --- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer the sandbox gives itself, instead of moto's."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def start(self, start_response: Any) -> Iterable[bytes]:
        start_response(f"{self.status} {STATUS_TEXT.get(self.status, 'Error')}",
                       [*self.headers, ("Content-Length", str(len(self.body)))])
        return [self.body]


def error(protocol: str, violation: Violation, service_model: Any | None = None) -> Answer:
    """AWS's error answer for `violation` in `protocol`."""
    request_id = str(uuid.uuid4())
    code, message, status = violation.code, violation.message, violation.status
    common = (("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id))
    if protocol == "rest-json":
        body = json.dumps({"Type": "User" if status < 500 else "Service", "message": message}).encode()
        return Answer(status, (("Content-Type", "application/json"), ("x-amzn-ErrorType", code), *common), body)
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        version = (service_model.metadata.get("jsonVersion") if service_model is not None else None) or "1.1"
        headers: list[tuple[str, str]] = [("Content-Type", f"application/x-amz-json-{version}"), *common]
        if service_model is not None and service_model.metadata.get("awsQueryCompatible") is not None:
            headers.append(("x-amzn-query-error", f"{code};Sender"))  # how query-era SDKs read the code
        body = json.dumps({"__type": code, "message": message}).encode()
        return Answer(status, tuple(headers), body)
    if protocol == "query":
        namespace = (service_model.metadata.get("xmlNamespace") if service_model is not None else None) or ""
        xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
        kind = "Sender" if status < 500 else "Receiver"
        body = (f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>").encode()
        return Answer(status, (("Content-Type", "text/xml"), *common), body)
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>").encode()
    return Answer(status, (("Content-Type", "application/xml"), *common), body)


# --- AWS's answers to requests that are not signed by the owner --------------------------------

_SIGNATURE_TEXT = ("The request signature we calculated does not match the signature you provided. "
                   "Check your AWS Secret Access Key and signing method. Consult the service documentation "
                   "for details.")
_TOKEN_TEXT = "The security token included in the request is invalid."


def auth_violation(kind: str, protocol: str, detail: str = "") -> Violation:
    """What AWS answers, per protocol, for a request it cannot attribute to a valid key."""
    if protocol == "rest-xml":  # S3's own codes and texts
        return {
            "missing": Violation("AccessDenied", "Access Denied", 403),
            "unknown-key": Violation("InvalidAccessKeyId",
                                     "The AWS Access Key Id you provided does not exist in our records.", 403),
            "token": Violation("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
            "expired": Violation("AccessDenied", "Request has expired", 403),
        }.get(kind, Violation("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                       "signature you provided. Check your key and signing method.",
                              403))
    query = protocol == "query"
    if kind == "missing":
        return (Violation("MissingAuthenticationToken", "Request is missing Authentication Token", 403) if query
                else Violation("MissingAuthenticationTokenException", "Missing Authentication Token", 403))
    if kind in ("unknown-key", "token"):
        return Violation("InvalidClientTokenId" if query else "UnrecognizedClientException", _TOKEN_TEXT, 403)
    if kind == "expired":
        return Violation("SignatureDoesNotMatch" if query else "InvalidSignatureException", detail, 403)
    if kind == "malformed":
        return Violation("IncompleteSignature" if query else "IncompleteSignatureException",
                         detail or "Authorization header requires a Credential, SignedHeaders and Signature", 400)
    return Violation("SignatureDoesNotMatch" if query else "InvalidSignatureException", _SIGNATURE_TEXT, 403)
