"""What an alias's `http` triggers see of their HTTP APIs, read once before planning.

Per API name: the API (found by name; the one the tool made when several share it), its
routes (all of them, each with the function whose integration it targets, if the tool
made that integration), this function's integration and JWT authorizers, and the stage
named after the alias. Plus this alias's invoke statements for API Gateway, which tell
which APIs it was wired to before (to clean up an API the file no longer names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws import AwsNotFound
from .base import MARK, ReadContext, Trigger, statement_source_arn
from .http_domains import DomainState, read_domain, remembered_domain
from .http_settings import OWNER_TAGS, STAGE_VARIABLE, integration_owner


@dataclass(frozen=True)
class RouteState:
    key: str
    route_id: str
    integration: str | None  # the integration it targets
    owner: str | None  # the function whose lambdadeploy integration it targets; None: not the tool's
    auth: str = "NONE"
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiState:
    """One HTTP API as this function and alias see it (api_id None: no API of that name yet)."""

    name: str
    api_id: str | None = None
    endpoint: str | None = None
    made_by_tool: bool = False
    ambiguous: int = 0  # >1: that many HTTP APIs share the name and none is distinctly the tool's
    cors: Mapping[str, Any] | None = None
    stage: Mapping[str, Any] | None = None  # the alias's stage as GetStage answers, or None
    integration: str | None = None  # this function's integration
    routes: tuple[RouteState, ...] = ()
    authorizers: Mapping[str, str] = field(default_factory=dict)  # this function's: name -> id

    def mine(self, function: str) -> dict[str, RouteState]:
        return {r.key: r for r in self.routes if r.owner == function}

    @property
    def domain(self) -> str | None:
        """The custom domain the tool mapped the alias's stage to, as the stage remembers it."""
        return remembered_domain(self.stage)

    def stage_url(self, stage: str) -> str | None:
        return f"{self.endpoint}/{stage}" if self.endpoint else None

    @property
    def stage_usable(self) -> bool:
        """Whether the alias's stage (if any) serves the tool's integrations: its own, or one that
        deploys automatically and names the alias in the stage variable."""
        if self.stage is None or is_tool_stage(self.stage):
            return True
        variables = self.stage.get("StageVariables") or {}
        return bool(self.stage.get("AutoDeploy")) and variables.get(STAGE_VARIABLE) == self.stage.get("StageName")


@dataclass(frozen=True)
class HttpState:
    apis: Mapping[str, ApiState] = field(default_factory=dict)
    statements: Mapping[str, str] = field(default_factory=dict)  # this alias's http statements: Sid -> SourceArn
    domains: Mapping[str, DomainState] = field(default_factory=dict)  # wanted and remembered custom domains


def is_tool_stage(stage: Mapping[str, Any]) -> bool:
    return all((stage.get("Tags") or {}).get(k) == v for k, v in OWNER_TAGS.items())


def is_tool_api(api: Mapping[str, Any]) -> bool:
    return all((api.get("Tags") or {}).get(k) == v for k, v in OWNER_TAGS.items())


def api_id_of(arn: str) -> str:
    """The API id in an execute-api ARN (arn:aws:execute-api:REGION:ACCOUNT:ID/STAGE/...)."""
    return arn.split(":", 5)[-1].split("/", 1)[0]


def choose(candidates: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, int]:
    """The API to use among those with one name: the only one, or the only one the tool made;
    else (None, how many there are)."""
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), 0
    made = [a for a in candidates if is_tool_api(a)]
    return (made[0], 0) if len(made) == 1 else (None, len(candidates))


def read_state(ctx: ReadContext, triggers: list[Trigger], owns: Any) -> HttpState:
    """The APIs the triggers name, and those this alias's statements show it was wired to."""
    statements = {sid: statement_source_arn(s) or "" for sid, s in ctx.statements.items() if owns(sid)}
    wanted = {t.settings.api for t in triggers}
    if not wanted and not statements:
        return HttpState()
    client = ctx.client("apigatewayv2")
    apis = ctx.memo("apigatewayv2:apis", lambda: [a for page in client.pages("get_apis")
                                                  for a in page.get("Items") or [] if a.get("ProtocolType") == "HTTP"])
    previous = {api_id_of(arn) for arn in statements.values() if arn}
    names = wanted | {a["Name"] for a in apis if a["ApiId"] in previous}
    found = {}
    for name in sorted(names):
        api, ambiguous = choose([a for a in apis if a.get("Name") == name])
        found[name] = _api_state(ctx, name, api) if api else ApiState(name, ambiguous=ambiguous)
    domains = {d.name for t in triggers for d in [t.settings.domains.get(ctx.target.alias)] if d}
    domains |= {api.domain for api in found.values() if api.domain}
    return HttpState(found, statements, {name: read_domain(client, name, OWNER_TAGS) for name in sorted(domains)})


def _api_state(ctx: ReadContext, name: str, api: dict[str, Any]) -> ApiState:
    client, api_id, function = ctx.client("apigatewayv2"), api["ApiId"], ctx.target.function
    integrations = [i for page in client.pages("get_integrations", ApiId=api_id) for i in page.get("Items") or []]
    owners = {i["IntegrationId"]: integration_owner(i.get("Description")) for i in integrations}
    routes = tuple(
        RouteState(r["RouteKey"], r["RouteId"], target, owners.get(target) if target else None,
                   r.get("AuthorizationType") or "NONE", r.get("AuthorizerId") or None,
                   tuple(sorted(r.get("AuthorizationScopes") or ())))
        for page in client.pages("get_routes", ApiId=api_id) for r in page.get("Items") or []
        for target in [_integration_of(r.get("Target"))])
    own_authorizer = re.compile(rf"^{re.escape(MARK + function)}-[0-9a-f]{{8}}$")
    authorizers = {a["Name"]: a["AuthorizerId"] for page in client.pages("get_authorizers", ApiId=api_id)
                   for a in page.get("Items") or [] if own_authorizer.match(a.get("Name") or "")}
    try:
        stage = client.get_stage(ApiId=api_id, StageName=ctx.target.alias)
    except AwsNotFound:
        stage = None
    mine = next((i for i, owner in owners.items() if owner == function), None)
    return ApiState(name, api_id, api.get("ApiEndpoint"), is_tool_api(api), 0, api.get("CorsConfiguration") or None,
                    {k: v for k, v in stage.items() if k != "ResponseMetadata"} if stage else None,
                    mine, routes, authorizers)


def _integration_of(target: str | None) -> str | None:
    return target.removeprefix("integrations/") if target and target.startswith("integrations/") else None
