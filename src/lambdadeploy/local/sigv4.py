"""Checking an AWS signature as AWS does, on the server side.

Signature Version 4: the signature is recomputed from the request as received (method,
path, query, the headers the client listed in SignedHeaders, the payload hash) and the
secret of the key id it names, following AWS's published algorithm (the one botocore's
auth.SigV4Auth implements for clients). Both forms are checked: the Authorization header and
the presigned query string (X-Amz-Signature). The payload is bound by its SHA-256 unless the
client declared UNSIGNED-PAYLOAD or a STREAMING-* body (S3); the chunk signatures of a
streaming body are not checked, the headers and the seed signature are.

S3 also still takes Signature Version 2 (HMAC-SHA1), which boto3 uses for presigned S3 URLs
to custom endpoints (`?AWSAccessKeyId=...&Signature=...&Expires=...`); both of its forms are
checked the same way (botocore's auth.HmacV1Auth and HmacV1QueryAuth, redone).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)  # AWS refuses a request signed longer ago (or ahead) than this
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AuthProblem(Exception):
    """Why a request is not accepted as signed by a known key.

    kind: "missing" (not signed at all), "unknown-key", "token" (a session token that is not the
    key's), "signature" (wrong secret or a request changed after signing), "expired", "malformed".
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Scope:
    """Who signed, and for what: the key id and the credential scope it signed with."""

    access_key_id: str
    date: str
    region: str
    service: str


@dataclass(frozen=True)
class Received:
    """A request as it arrived: the raw path and query (percent-encoded, as sent), lower-cased
    header names with their values, and the body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes


# (secret, session token or None) for a key id, or None when the key is unknown
SecretLookup = Callable[[str], "tuple[str, str | None] | None"]


def scope_of(request: Received) -> Scope | None:
    """The credential scope a request claims (None when it is not signed), unverified."""
    if _v2_parts(request) is not None:
        return _V2_SCOPE
    try:
        credential, _, _, _ = _signature_parts(request)
    except AuthProblem:
        return None
    return _parse_credential(credential)


def verify(request: Received, lookup: SecretLookup, now: dt.datetime | None = None) -> Scope:
    """The verified scope of a signed request; raises AuthProblem otherwise."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if (v2 := _v2_parts(request)) is not None:
        return _verify_v2(request, lookup, now, *v2)
    credential, signed_headers, signature, amz_date = _signature_parts(request)
    scope = _parse_credential(credential)
    if scope is None:
        raise AuthProblem("malformed", "Credential is not KEY/DATE/REGION/SERVICE/aws4_request")
    known = lookup(scope.access_key_id)
    if known is None:
        raise AuthProblem("unknown-key", scope.access_key_id)
    secret, token = known
    sent_token = request.headers.get("x-amz-security-token") or _query(request).get("X-Amz-Security-Token")
    if (sent_token or None) != token:
        raise AuthProblem("token")
    _check_time(request, amz_date, now)
    expected = signature_of(request, scope, secret, signed_headers, amz_date)
    if not hmac.compare_digest(expected, signature.lower()):
        raise AuthProblem("signature")
    _check_payload(request)
    return scope


def signature_of(request: Received, scope: Scope, secret: str, signed_headers: list[str], amz_date: str) -> str:
    """The hex signature of the request by that secret (the client's computation, redone)."""
    canonical = "\n".join([
        request.method.upper(),
        _canonical_uri(request.raw_path, scope.service),
        _canonical_query(request.raw_query),
        "".join(f"{name}:{_trim(request.headers.get(name, ''))}\n" for name in signed_headers),
        ";".join(signed_headers),
        _payload_hash(request, scope.service),
    ])
    credential_scope = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, credential_scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (scope.date, scope.region, scope.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _query(request: Received) -> dict[str, str]:
    pairs = (pair.partition("=") for pair in request.raw_query.split("&") if pair)
    return {unquote(key): unquote(value) for key, _, value in pairs}


def _signature_parts(request: Received) -> tuple[str, list[str], str, str]:
    """(Credential, SignedHeaders, Signature, X-Amz-Date) from the header or the query string."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise AuthProblem("malformed", f"unsupported authorization {algorithm or authorization[:20]!r}")
        fields = {}
        for part in rest.split(","):
            key, _, value = part.strip().partition("=")
            fields[key] = value
        amz_date = request.headers.get("x-amz-date", "")
        if not all(fields.get(k) for k in ("Credential", "SignedHeaders", "Signature")) or not amz_date:
            raise AuthProblem("malformed", "Authorization lacks Credential, SignedHeaders, Signature or X-Amz-Date")
        return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"], amz_date
    query = _query(request)
    if "X-Amz-Signature" in query:
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise AuthProblem("malformed", "unsupported X-Amz-Algorithm")
        return (query.get("X-Amz-Credential", ""), query.get("X-Amz-SignedHeaders", "").split(";"),
                query["X-Amz-Signature"], query.get("X-Amz-Date", ""))
    raise AuthProblem("missing")


def _parse_credential(credential: str) -> Scope | None:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        return None
    return Scope(*parts[:4])


def _check_time(request: Received, amz_date: str, now: dt.datetime) -> None:
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise AuthProblem("malformed", f"X-Amz-Date {amz_date!r}") from None
    query = _query(request)
    if "X-Amz-Signature" in query and not request.headers.get("authorization"):
        expires = query.get("X-Amz-Expires", "")
        if not expires.isdigit() or now > signed_at + dt.timedelta(seconds=int(expires)):
            raise AuthProblem("expired", "the presigned URL has expired")
        return
    if abs(now - signed_at) > MAX_SKEW:
        raise AuthProblem("expired", f"Signature expired: {amz_date} is now earlier than "
                                     f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')}")


def _check_payload(request: Received) -> None:
    """A declared payload hash must be the body's (unless the client declared it unsigned)."""
    declared = request.headers.get("x-amz-content-sha256", "")
    if len(declared) == 64 and declared != hashlib.sha256(request.body).hexdigest():
        raise AuthProblem("signature", "x-amz-content-sha256 is not the hash of the body")


def _payload_hash(request: Received, service: str) -> str:
    declared = request.headers.get("x-amz-content-sha256")
    if declared:
        return declared
    if service == "s3" and "X-Amz-Signature" in _query(request) and not request.headers.get("authorization"):
        return "UNSIGNED-PAYLOAD"  # presigned S3 URLs never sign the body
    return hashlib.sha256(request.body).hexdigest()


def _canonical_uri(raw_path: str, service: str) -> str:
    path = raw_path or "/"
    if service == "s3":
        return path  # S3 signs the path as sent, without normalising it
    return quote(_remove_dot_segments(path), safe="/~")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, and empty segments dropped, as AWS (and botocore) normalise."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    last = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + last


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for pair in raw_query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if key == "X-Amz-Signature":
            continue
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def _trim(value: str) -> str:
    return " ".join(value.split())


# --- S3's Signature Version 2 ---------------------------------------------------------------

_V2_SCOPE_SERVICE = "s3"
_V2_SCOPE = Scope("", "", "us-east-1", _V2_SCOPE_SERVICE)
# The query parameters S3 includes in a V2 string to sign (botocore's HmacV1Auth.QSAOfInterest).
_V2_SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type",
    "object-lock",
})


def _v2_parts(request: Received) -> tuple[str, str, str, bool] | None:
    """(key id, signature, date or expiry, presigned?) of a V2-signed request, else None."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("AWS ") and ":" in authorization:
        key, _, signature = authorization[4:].strip().rpartition(":")
        return key, signature, request.headers.get("date", ""), False
    query = _query(request)
    if not authorization and "AWSAccessKeyId" in query and "Signature" in query:
        return query["AWSAccessKeyId"], query["Signature"], query.get("Expires", ""), True
    return None


def _verify_v2(request: Received, lookup: SecretLookup, now: dt.datetime, key: str, signature: str,
               when: str, presigned: bool) -> Scope:
    known = lookup(key)
    if known is None:
        raise AuthProblem("unknown-key", key)
    secret, token = known
    query = _query(request)
    sent_token = request.headers.get("x-amz-security-token") or query.get("x-amz-security-token")
    if (sent_token or None) != token:
        raise AuthProblem("token")
    if presigned and (not when.isdigit() or now.timestamp() > int(when)):
        raise AuthProblem("expired", "Request has expired")
    digest = hmac.new(secret.encode(), _v2_string_to_sign(request, when, presigned).encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
        raise AuthProblem("signature")
    return Scope(key, "", "us-east-1", _V2_SCOPE_SERVICE)


def _v2_string_to_sign(request: Received, when: str, presigned: bool) -> str:
    query = _query(request) if presigned else {}
    standard = [query.get(name) or request.headers.get(name, "") for name in ("content-md5", "content-type")]
    custom = {name: value for name, value in request.headers.items() if name.startswith("x-amz-")}
    custom.update({name.lower(): value for name, value in query.items() if name.lower().startswith("x-amz-")})
    lines = [request.method.upper(), *(value.strip() for value in standard), when]
    lines += [f"{name}:{custom[name].strip()}" for name in sorted(custom)]
    pairs = [pair.split("=", 1) for pair in request.raw_query.split("&") if pair]
    kept = sorted(([p[0], unquote(p[1])] if len(p) > 1 else p for p in pairs if p[0] in _V2_SUBRESOURCES),
                  key=lambda p: p[0])
    resource = request.raw_path + ("?" + "&".join("=".join(p) for p in kept) if kept else "")
    return "\n".join([*lines, resource])
