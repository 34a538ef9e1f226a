"""The writes of the `http` kind, one planned step at a time.

Several functions of one push may share an API, and whichever needs it first creates it.
So every step runs under a lock per (region, API name) in this process, and re-reads what
it acts on: the API is found by name (or created by a step that needs it), the function's
integration and authorizers are found by their marks (or created), a route is deleted
only while it still targets this function's integration, and the API or stage is
released only when no route (or no lambdadeploy route) is left on it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..aws import AwsNotFound, AwsSession
from ..errors import AwsError
from .base import PermissionStep, Target, TriggerStep
from .http_domains import (
    NO_DOMAIN,
    Domain,
    domain_lock,
    ensure_domain,
    map_stage,
    remember,
    remembered_domain,
    unmap_stage,
)
from .http_settings import (
    INTEGRATION_TIMEOUT_MS,
    OWNER_TAGS,
    PRINCIPAL,
    STAGE_VARIABLE,
    Auth,
    authorizer_name,
    integration_description,
    integration_owner,
    integration_uri,
    source_arn,
)
from .http_state import choose, is_tool_api, is_tool_stage
from .permissions import apply_permission

_LOCKS: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def _lock(region: str, api: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS[(region, api)]


class RouteConflict(AwsError):
    """A route key the tool must create is held by an integration someone else made."""


class Api:
    """One API by name, as a step sees it under the lock: found, or made on demand."""

    def __init__(self, session: AwsSession, target: Target, name: str) -> None:
        self.session = session
        self.client = session.client("apigatewayv2")
        self.target = target
        self.name = name
        self._found: dict[str, Any] | None = None

    def find(self) -> dict[str, Any] | None:
        if self._found is None:
            apis = [a for page in self.client.pages("get_apis") for a in page.get("Items") or []
                    if a.get("ProtocolType") == "HTTP" and a.get("Name") == self.name]
            self._found = choose(apis)[0]
        return self._found

    def ensure(self, cors: dict[str, Any] | None = None) -> dict[str, Any]:
        found = self.find()
        if found is None:
            extra = {"CorsConfiguration": cors} if cors else {}
            found = self._found = self.client.create_api(Name=self.name, ProtocolType="HTTP", Tags=dict(OWNER_TAGS),
                                                         Description="made by lambdadeploy", **extra)
        return found

    @property
    def id(self) -> str:
        return self.ensure()["ApiId"]

    def routes(self) -> list[dict[str, Any]]:
        return [r for page in self.client.pages("get_routes", ApiId=self.id) for r in page.get("Items") or []]

    def integrations(self) -> list[dict[str, Any]]:
        return [i for page in self.client.pages("get_integrations", ApiId=self.id) for i in page.get("Items") or []]

    def integration(self, create: bool = True) -> str | None:
        """This function's integration id (made when missing and `create`)."""
        function = self.target.function
        found = next((i["IntegrationId"] for i in self.integrations()
                      if integration_owner(i.get("Description")) == function), None)
        if found is None and create:
            found = self.client.create_integration(
                ApiId=self.id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
                IntegrationUri=integration_uri(self.target.arn.rpartition(":")[0]),
                TimeoutInMillis=INTEGRATION_TIMEOUT_MS, Description=integration_description(function))["IntegrationId"]
        return found

    def authorizer(self, name: str, auth: Auth | None) -> str | None:
        """The id of the function's JWT authorizer `name` (made from `auth` when missing and given)."""
        found = next((a["AuthorizerId"] for page in self.client.pages("get_authorizers", ApiId=self.id)
                      for a in page.get("Items") or [] if a.get("Name") == name), None)
        if found is None and auth is not None:
            found = self.client.create_authorizer(
                ApiId=self.id, Name=name, AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
                JwtConfiguration={"Issuer": auth.issuer, "Audience": list(auth.audience)})["AuthorizerId"]
        return found

    def stage(self) -> dict[str, Any] | None:
        try:
            return self.client.get_stage(ApiId=self.id, StageName=self.target.alias)
        except AwsNotFound:
            return None

    def url(self, path: str = "") -> str:
        return f"{self.ensure().get('ApiEndpoint')}/{self.target.alias}{path}"


def apply_step(session: AwsSession, target: Target, step: TriggerStep) -> str | None:
    """Make one step so, under the API's lock; returns the URL a created stage or route answers at."""
    params = step.params
    with _lock(session.region, params["api"]):
        return OPERATIONS[params["op"]](Api(session, target, params["api"]), params)


def _create_api(api: Api, params: dict[str, Any]) -> str | None:
    existed = api.find() is not None
    api.ensure(params.get("cors"))
    if existed and params.get("cors"):
        api.client.update_api(ApiId=api.id, CorsConfiguration=params["cors"])
    return None


def _set_cors(api: Api, params: dict[str, Any]) -> str | None:
    api.client.update_api(ApiId=api.id, CorsConfiguration=params["cors"])
    return None


def _delete_cors(api: Api, params: dict[str, Any]) -> str | None:
    if api.find() is not None:
        api.client.delete_cors_configuration(ApiId=api.id)
    return None


def _create_stage(api: Api, params: dict[str, Any]) -> str | None:
    if api.stage() is None:
        alias = api.target.alias
        api.client.create_stage(ApiId=api.id, StageName=alias, AutoDeploy=True, StageVariables={STAGE_VARIABLE: alias},
                                Tags=dict(OWNER_TAGS), Description=f"alias {alias} (made by lambdadeploy)")
    return api.url()


def _create_authorizer(api: Api, params: dict[str, Any]) -> str | None:
    auth = Auth(**{**params["auth"], "audience": tuple(params["auth"]["audience"])})
    api.authorizer(authorizer_name(api.target.function, auth), auth)
    return None


def _create_integration(api: Api, params: dict[str, Any]) -> str | None:
    api.integration()
    return None


def _put_route(api: Api, params: dict[str, Any]) -> str | None:
    """Create or update the route: it targets this function's integration with the wanted auth. A
    route another lambdadeploy function held is taken over (validate gave it to this one); one that
    someone else made is a conflict, as on AWS."""
    raw = params["auth"]
    auth = Auth(raw["type"], raw["issuer"], tuple(raw["audience"]), tuple(raw["scopes"]))
    integration = api.integration()
    owners = {i["IntegrationId"]: integration_owner(i.get("Description")) for i in api.integrations()}
    settings: dict[str, Any] = {"Target": f"integrations/{integration}", "AuthorizationType": auth.type}
    if auth.type == "JWT":
        settings["AuthorizerId"] = api.authorizer(authorizer_name(api.target.function, auth), auth)
        settings["AuthorizationScopes"] = list(auth.scopes)
    existing = next((r for r in api.routes() if r.get("RouteKey") == params["key"]), None)
    if existing is None:
        api.client.create_route(ApiId=api.id, RouteKey=params["key"], **settings)
    elif owners.get(str(existing.get("Target", "")).removeprefix("integrations/")) is None:
        raise RouteConflict(f"route {params['key']} of api {api.name} is held by an integration lambdadeploy did not "
                            f"make ({existing.get('Target')})", hint="remove that route, or route another path")
    else:
        if auth.type != "JWT" and existing.get("AuthorizerId"):
            settings.update(AuthorizerId="", AuthorizationScopes=[])
        api.client.update_route(ApiId=api.id, RouteId=existing["RouteId"], **settings)
    return api.url("/" if params["key"] == "$default" else params["key"].split(" ", 1)[1])


def _delete_route(api: Api, params: dict[str, Any]) -> str | None:
    if api.find() is None:
        return None
    integration = api.integration(create=False)
    for route in api.routes():
        if route.get("RouteKey") == params["key"] and integration and route.get("Target") == f"integrations/{integration}":
            api.client.delete_route(ApiId=api.id, RouteId=route["RouteId"])
    return None


def _delete_authorizer(api: Api, params: dict[str, Any]) -> str | None:
    if api.find() is None:
        return None
    found = api.authorizer(params["authorizer"], None)
    if found and not any(r.get("AuthorizerId") == found for r in api.routes()):
        api.client.delete_authorizer(ApiId=api.id, AuthorizerId=found)
    return None


def _delete_integration(api: Api, params: dict[str, Any]) -> str | None:
    if api.find() is None:
        return None
    found = api.integration(create=False)
    if found and not any(r.get("Target") == f"integrations/{found}" for r in api.routes()):
        api.client.delete_integration(ApiId=api.id, IntegrationId=found)
    return None


def _release(api: Api, params: dict[str, Any]) -> str | None:
    """Delete the API when the tool made it and no route is left; else the alias's stage when the tool
    made it and no lambdadeploy route is left. Decided here, under the lock, on what is there now."""
    found = api.find()
    if found is None:
        return None
    routes = api.routes()
    if is_tool_api(found):
        if not routes:
            for stage in [s for page in api.client.pages("get_stages", ApiId=api.id) for s in page.get("Items") or []]:
                _unmap(api, stage, remembered_domain(stage))
            api.client.delete_api(ApiId=api.id)
        return None
    owners = {i["IntegrationId"]: integration_owner(i.get("Description")) for i in api.integrations()}
    ours = [r for r in routes if owners.get(str(r.get("Target", "")).removeprefix("integrations/"))]
    stage = api.stage()
    if stage is not None and is_tool_stage(stage) and not ours:
        _unmap(api, stage, remembered_domain(stage))
        api.client.delete_stage(ApiId=api.id, StageName=api.target.alias)
    return None


def _create_domain(api: Api, params: dict[str, Any]) -> str | None:
    domain = Domain(**params["domain"])
    with domain_lock(api.session.region, domain.name):
        ensure_domain(api.client, domain.name, domain.certificate, OWNER_TAGS)
    return None


def _map_domain(api: Api, params: dict[str, Any]) -> str | None:
    """Map the alias's stage at the domain's path (creating the domain if a concurrent release took
    it), then record the domain on the stage so a later push can find the mapping again."""
    domain = Domain(**params["domain"])
    with domain_lock(api.session.region, domain.name):
        ensure_domain(api.client, domain.name, domain.certificate, OWNER_TAGS)
        map_stage(api.client, domain, api.id, api.target.alias)
    stage = api.stage()
    if stage is not None:
        remember(api.client, api.id, stage, domain.name)
    return domain.url


def _unmap_domain(api: Api, params: dict[str, Any]) -> str | None:
    if api.find() is not None:
        stage = api.stage()
        if stage is not None:
            _unmap(api, stage, params["domain_name"])
    return None


def _unmap(api: Api, stage: dict[str, Any], name: str | None) -> None:
    """Remove the domain's mapping to the stage (and the domain, if the tool made it and none is left),
    and forget it on the stage unless the stage already names another domain."""
    if name is None:
        return
    with domain_lock(api.session.region, name):
        unmap_stage(api.client, name, api.id, stage["StageName"], OWNER_TAGS)
    if remembered_domain(stage) == name:
        remember(api.client, api.id, stage, NO_DOMAIN)


def _permission(api: Api, params: dict[str, Any], action: str) -> str | None:
    target = api.target
    if action in ("delete", "replace"):
        apply_permission(api.session, PermissionStep(
            "http", "delete", params["sid"], PRINCIPAL, api.name,
            {"FunctionName": target.arn, "StatementId": params["sid"]}))
    if action in ("create", "replace"):
        arn = source_arn(target.partition, target.region, target.account, api.id, target.alias, params["key"])
        apply_permission(api.session, PermissionStep(
            "http", "create", params["sid"], PRINCIPAL, api.name,
            {"FunctionName": target.arn, "StatementId": params["sid"], "Action": "lambda:InvokeFunction",
             "Principal": PRINCIPAL, "SourceArn": arn}))
    return None


OPERATIONS: dict[str, Callable[[Api, dict[str, Any]], str | None]] = {
    "create_api": _create_api,
    "set_cors": _set_cors,
    "delete_cors": _delete_cors,
    "create_stage": _create_stage,
    "create_authorizer": _create_authorizer,
    "create_integration": _create_integration,
    "create_route": _put_route,
    "update_route": _put_route,
    "delete_route": _delete_route,
    "delete_authorizer": _delete_authorizer,
    "delete_integration": _delete_integration,
    "release": _release,
    "create_domain": _create_domain,
    "map_domain": _map_domain,
    "unmap_domain": _unmap_domain,
    "add_permission": lambda api, params: _permission(api, params, "create"),
    "replace_permission": lambda api, params: _permission(api, params, "replace"),
    "remove_permission": lambda api, params: _permission(api, params, "delete"),
}
