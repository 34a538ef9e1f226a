"""What an `http` trigger says, checked: the API's name, route keys, auth and CORS; and the
pure rules of HTTP API routes (matching a request to a route, the execute-api ARN a route's
invoke permission names).

Route keys are API Gateway's: `$default`, or `METHOD /path` with METHOD one of GET, POST,
PUT, PATCH, DELETE, HEAD, OPTIONS or ANY, and path segments that are literal text, a whole
`{param}`, or a final greedy `{param+}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..fields import INVALID, Reporter, Rule, type_name
from .base import MARK, short_hash
from .http_domains import Domains
from .url import Cors

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
DEFAULT_ROUTE = "$default"
API_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LITERAL = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$")
_PARAM = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")


@dataclass(frozen=True)
class Auth:
    """How a route is authorised: NONE, AWS_IAM, or JWT (a JWT authorizer: issuer and audience;
    `scopes` the route requires)."""

    type: str = "NONE"
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def as_config(self) -> Any:
        """As lambda.yaml writes it (for `validate --show`)."""
        if self.type != "JWT":
            return "iam" if self.type == "AWS_IAM" else "none"
        jwt: dict[str, Any] = {"issuer": self.issuer, "audience": list(self.audience)}
        return {"jwt": {**jwt, "scopes": list(self.scopes)} if self.scopes else jwt}

    def describe(self) -> str:
        if self.type != "JWT":
            return f"auth {self.type}"
        scopes = f", scopes {' '.join(self.scopes)}" if self.scopes else ""
        return f"auth JWT ({self.issuer}, audience {' '.join(self.audience)}{scopes})"


@dataclass(frozen=True)
class HttpSettings:
    api: str
    routes: tuple[str, ...]
    auth: Auth = Auth()
    cors: Any = None  # None: leave the API's CORS alone; False: remove it; else the API's Cors mapping
    domains: Domains = field(default_factory=Domains)  # alias -> custom domain of the alias's stage (http_domains.py)


def route_problem(key: str) -> str | None:
    """Why `key` is not an HTTP API route key, or None."""
    if key == DEFAULT_ROUTE:
        return None
    method, _, path = key.partition(" ")
    if method not in METHODS:
        return f"{method!r} is not a method; allowed: {', '.join(METHODS)}, or the route $default"
    if not path.startswith("/") or " " in path:
        return "the path must start with / (e.g. GET /items/{id})"
    if "?" in path or "#" in path:
        return "a route's path has no query string; API Gateway routes on the path alone"
    if path == "/":
        return None
    segments = path[1:].split("/")
    names = []
    for index, segment in enumerate(segments):
        param = _PARAM.match(segment)
        if param:
            names.append(param.group(1))
            if param.group(2) and index != len(segments) - 1:
                return f"the greedy parameter {segment} must be the last segment"
        elif not _LITERAL.match(segment) or "{" in segment or "}" in segment:
            return f"segment {segment!r} is neither text nor a whole {{parameter}}"
    if len(set(names)) != len(names):
        return "a path parameter name appears twice"
    return None


class RouteKey(Rule):
    """One route key, e.g. `GET /items/{id}` or `$default`."""

    def check(self, value: Any, report: Reporter) -> Any:
        if not isinstance(value, str):
            report(f"must be a route such as \"GET /items\", got {type_name(value)}")
            return INVALID
        key = " ".join(value.split())
        problem = route_problem(key)
        if problem:
            report(f"invalid route {value!r}: {problem}", "METHOD /path, e.g. GET /items/{id}, or $default")
            return INVALID
        return key

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^(\$default|(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /.*)$"}


class AuthRule(Rule):
    """`none` (default), `iam`, or `{jwt: {issuer: https://..., audience: [...], scopes: [...]}}`."""

    def check(self, value: Any, report: Reporter) -> Any:
        if isinstance(value, str) and value.lower() in ("none", "iam"):
            return Auth("NONE" if value.lower() == "none" else "AWS_IAM")
        example = "e.g. auth: {jwt: {issuer: https://example.auth0.com/, audience: [my-api]}}"
        if not isinstance(value, dict):
            shown = repr(value) if isinstance(value, str) else type_name(value)
            report(f"auth must be none, iam or {{jwt: {{...}}}}, got {shown}", example)
            return INVALID
        unknown = [str(k) for k in value if k != "jwt"]
        if unknown:
            report.at(unknown[0])("unknown setting", "allowed: jwt (or auth: none, auth: iam)")
            return INVALID
        if not isinstance(value.get("jwt"), dict):
            report.at("jwt")("must be a mapping with issuer and audience", example)
            return INVALID
        jwt, at = value["jwt"], report.at("jwt")
        unknown = [str(k) for k in jwt if k not in ("issuer", "audience", "scopes")]
        if unknown:
            at.at(unknown[0])("unknown setting", "allowed: issuer, audience, scopes")
            return INVALID
        issuer = jwt.get("issuer")
        if not isinstance(issuer, str) or not issuer.startswith("https://"):
            at.at("issuer")("must be the token issuer's https:// URL", "e.g. https://cognito-idp.REGION.amazonaws.com/POOL")
            return INVALID
        lists = {}
        for name, least in (("audience", 1), ("scopes", 0)):
            raw = jwt.get(name, [])
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list) or len(raw) < least or not all(isinstance(x, str) and x for x in raw):
                at.at(name)(f"must be a list of strings{' (at least one)' if least else ''}")
                return INVALID
            lists[name] = tuple(sorted(set(raw)))
        return Auth("JWT", issuer, lists["audience"], lists["scopes"])

    @property
    def schema(self) -> dict[str, Any]:
        jwt = {"type": "object", "additionalProperties": False, "required": ["issuer", "audience"],
               "properties": {"issuer": {"type": "string"}, "audience": {"type": "array", "items": {"type": "string"}},
                              "scopes": {"type": "array", "items": {"type": "string"}}}}
        return {"oneOf": [{"enum": ["none", "iam"]},
                          {"type": "object", "additionalProperties": False, "properties": {"jwt": jwt}}]}


class ApiCors(Cors):
    """The API's CORS: like a function URL's, plus `false` to remove it."""

    def check(self, value: Any, report: Reporter) -> Any:
        return False if value is False else super().check(value, report)

    @property
    def schema(self) -> dict[str, Any]:
        schema = super().schema
        return {"oneOf": [{"const": False}, *schema["oneOf"]]}


# --- routes at request time ----------------------------------------------------------


def split_route(key: str) -> tuple[str, str]:
    """("GET", "/items/{id}") from "GET /items/{id}"; ("ANY", "") for $default."""
    if key == DEFAULT_ROUTE:
        return "ANY", ""
    method, _, path = key.partition(" ")
    return method, path


def _match_path(pattern: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """How specifically `pattern` matches `path` (per segment: 2 text, 1 parameter, 0 greedy),
    and the path parameters; None when it does not match."""
    wanted = pattern.strip("/").split("/") if pattern != "/" else [""]
    given = path.strip("/").split("/") if path not in ("", "/") else [""]
    score: list[int] = []
    params: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        param = _PARAM.match(segment)
        if param and param.group(2):
            rest = given[index:]
            if not rest or rest == [""]:
                return None
            params[param.group(1)] = "/".join(rest)
            return (*score, 0), params
        if index >= len(given):
            return None
        if param:
            if not given[index]:
                return None
            params[param.group(1)] = given[index]
            score.append(1)
        elif segment != given[index]:
            return None
        else:
            score.append(2)
    if len(given) != len(wanted):
        return None
    return tuple(score), params


def match_route(keys: list[str] | tuple[str, ...], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route API Gateway picks for a request: the most specific path (text over
    {param} over {greedy+}, segment by segment), a named method over ANY, else $default."""
    best: tuple[tuple[tuple[int, ...], int], str, dict[str, str]] | None = None
    for key in keys:
        if key == DEFAULT_ROUTE:
            continue
        route_method, pattern = split_route(key)
        if route_method not in (method.upper(), "ANY"):
            continue
        found = _match_path(pattern, path)
        if found is None:
            continue
        rank = (found[0], 1 if route_method != "ANY" else 0)
        if best is None or rank > best[0]:
            best = (rank, key, found[1])
    if best is not None:
        return best[1], best[2]
    return (DEFAULT_ROUTE, {}) if DEFAULT_ROUTE in keys else None


def source_arn(partition: str, region: str, account: str, api_id: str, stage: str, key: str) -> str:
    """The execute-api ARN that an invoke permission for one route names, as SAM writes it:
    `API/STAGE/METHOD/path` with each {param} as `*` (ANY: `*`); `API/STAGE/$default`."""
    base = f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}"
    if key == DEFAULT_ROUTE:
        return f"{base}/{DEFAULT_ROUTE}"
    method, path = split_route(key)
    path = re.sub(r"\{[^}]+\}", "*", path)
    return f"{base}/{'*' if method == 'ANY' else method}{path if path != '/' else '/'}"


# --- what marks the tool's own parts of an API ---------------------------------------------

STAGE_VARIABLE = "lambdadeployAlias"  # each stage's alias; integrations invoke function:NAME:${stageVariables...}
OWNER_TAGS = {"managed-by": "lambdadeploy"}  # on the APIs and stages the tool creates
INTEGRATION_TIMEOUT_MS = 30000  # HTTP APIs allow at most 30 s
PRINCIPAL = "apigateway.amazonaws.com"


def integration_mark(function: str) -> str:
    """The first word of the description of the function's integration: how it is found again."""
    return f"{MARK}{function}"


def integration_description(function: str) -> str:
    return (f"{integration_mark(function)}: routes of Lambda function {function}; the alias is the stage's "
            f"{STAGE_VARIABLE} variable (made by lambdadeploy)")


def integration_owner(description: str | None) -> str | None:
    """The function an integration was made for, if the tool made it."""
    first = (description or "").split(":", 1)[0]
    return first.removeprefix(MARK) if first.startswith(MARK) else None


def integration_uri(function_arn: str) -> str:
    """The Lambda proxy URI whose alias is the stage's variable, as API Gateway documents it for
    stage variables: arn:...:apigateway:REGION:lambda:path/2015-03-31/functions/FN:${stageVariables.X}/invocations."""
    partition, region = function_arn.split(":")[1], function_arn.split(":")[3]
    return (f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}:${{stageVariables.{STAGE_VARIABLE}}}/invocations")


def function_of_uri(uri: str) -> str:
    """The function ARN (qualifier included) inside a Lambda proxy URI, or the URI itself when it is one."""
    if ":lambda:path/" in uri and "/functions/" in uri:
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")
    return uri


def authorizer_name(function: str, auth: Auth) -> str:
    """The function's JWT authorizer for one issuer and audience (one per function: its own to delete)."""
    return f"{MARK}{function}-{short_hash(auth.issuer, list(auth.audience))}"
