"""API Gateway HTTP APIs (apigatewayv2) whose routes invoke the function's alias.

`- http: {api: shop, routes: ["GET /items", "POST /items/{id}"], auth: none|iam|{jwt: ...}, cors: ...}`

How stages and aliases fit: an HTTP API's routes and integrations belong to the API, and
every stage serves all of them. So the API gets one stage per alias, named after it, that
deploys automatically and holds the stage variable `lambdadeployAlias` = the alias; each
function has one integration whose URI is `function:NAME:${stageVariables.lambdadeployAlias}`
(API Gateway's documented way to point stages at aliases). A request to stage `prod`
runs the prod alias. What is per alias: the stage, and the alias's invoke permissions
(one per route, SourceArn `API/STAGE/METHOD/path`); so the kind is `per_alias`, like
function URLs: each alias is fed by its own stage. What is shared: routes, integrations,
authorizers and CORS; `validate` refuses a route claimed twice, CORS that differs
between functions, and routes that differ between aliases of one function (each push
would undo the other's); to give aliases different routes, give them different APIs
(`api: shop-{{ alias }}`).

Ownership: the APIs and stages the tool creates carry the tag managed-by=lambdadeploy;
a function's integration is the one whose description starts `lambdadeploy-FUNCTION:`;
its routes are those targeting that integration; its JWT authorizers are named
`lambdadeploy-FUNCTION-HASH`; its statements `lambdadeploy-http-HASH-ALIAS`. Nothing
else on a shared API is touched. Custom domains (`domains:`, per alias) are http_domains.py's. The API (if the tool made it) goes when no route is
left on it; a stage the tool made goes when no lambdadeploy route is left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, ClassVar

from ..aws import AwsSession
from ..diff import FieldChange
from ..fields import Field, Record, Text, TextList
from .base import (
    MARK,
    PolicyScope,
    PreflightItem,
    Problem,
    ReadContext,
    SamEvent,
    Target,
    Trigger,
    TriggerKind,
    TriggerStep,
    TriggerUse,
    UseProblem,
    Wired,
    short_hash,
)
from .http_checks import check_aliases_agree, check_claims, check_cors
from .http_domains import Domain, DomainsRule, DomainState, check_domains, preflight_domains
from .http_settings import (
    API_NAME,
    DEFAULT_ROUTE,
    PRINCIPAL,
    STAGE_VARIABLE,
    ApiCors,
    Auth,
    AuthRule,
    HttpSettings,
    RouteKey,
    authorizer_name,
    source_arn,
    split_route,
)
from .http_state import ApiState, HttpState, RouteState, api_id_of, is_tool_stage, read_state
from .url import normal_cors

SID_PREFIX = f"{MARK}http-"


class HttpKind(TriggerKind):
    name: ClassVar[str] = "http"
    per_alias: ClassVar[bool] = True  # each alias is fed by its own stage
    summary: ClassVar[str] = ("routes of an API Gateway HTTP API (shared by functions), a stage per alias whose "
                              "integration runs that alias, JWT/IAM auth, CORS; invoke permission per route; "
                              "the URLs are printed")
    settings: ClassVar[Record] = Record((
        Field("api", Text(API_NAME, "1-128 letters, digits, . _ -", what="API name"), required=True,
              doc="the HTTP API's name; functions naming the same API share it"),
        Field("routes", TextList(RouteKey(), single=True, min_items=1), required=True,
              doc='route keys, e.g. ["GET /items", "POST /items/{id}", "$default"]'),
        Field("auth", AuthRule(), doc="none (default), iam, or {jwt: {issuer: URL, audience: [...], scopes: [...]}}"),
        Field("cors", ApiCors(), doc="the API's CORS: true, {allow_origins: [...], ...}, or false to remove it"),
        Field("domains", DomainsRule(), doc="custom domain per alias: {prod: {name: api.example.com, certificate: "
              "ACM ARN, path: v1}}; every function on the API says the same"),
    ), HttpSettings)

    def check(self, settings: HttpSettings, report: Any) -> None:
        twice = sorted({key for key in settings.routes if settings.routes.count(key) > 1})
        if twice:
            report("routes", f"route {twice[0]} is listed twice", None)

    def source(self, settings: HttpSettings) -> str:
        return f"api {settings.api} ({', '.join(settings.routes)})"

    def invoke_principal(self) -> str:
        return PRINCIPAL

    def owns_statement(self, sid: str) -> bool:
        return sid.startswith(SID_PREFIX)

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> HttpState:
        return read_state(ctx, triggers, self.owns_statement)

    def plan(self, target: Target, triggers: list[Trigger], observed: HttpState | None) -> list[TriggerStep]:
        state = observed or HttpState()
        wanted = wanted_routes(triggers)
        cors = {t.settings.api: t.settings.cors for t in triggers if t.settings.cors is not None}
        domain = {t.settings.api: t.settings.domains.get(target.alias) for t in triggers}
        phases: dict[str, list[TriggerStep]] = defaultdict(list)
        for name in sorted(set(wanted) | set(state.apis)):
            api = state.apis.get(name, ApiState(name))
            if api.ambiguous or not api.stage_usable:
                continue  # pre-flight says why; nothing is planned on an API we cannot tell apart
            for phase, steps in plan_api(target, api, wanted.get(name, {}), cors.get(name),
                                         domain.get(name), state.domains).items():
                phases[phase] += steps
        adds, removes = plan_permissions(target, wanted, state)
        return [*phases["first"], *adds, *phases["routes"], *phases["last"], *removes, *phases["release"]]

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        from .http_apply import apply_step  # the API Gateway writes: only a push needs them

        return apply_step(session, target, step)

    def wired(self, target: Target, observed: HttpState | None) -> list[Wired]:
        found = []
        for name, api in sorted((observed or HttpState()).apis.items()):
            if api.api_id is None or api.stage is None:
                continue
            for key, route in sorted(api.mine(target.function).items()):
                permitted = permission_sid(target, name, key) in (observed or HttpState()).statements
                found.append(Wired("http", target.alias, f"api {name} route {key}", route_auth(route),
                                   state=None if permitted else "no invoke permission for this alias",
                                   detail=route_url(api.stage_url(target.alias), key)))
            have = (observed or HttpState()).domains.get(api.domain or "")
            mapping = have.mapping_of(api.api_id, target.alias) if have else None
            if have is not None and mapping is not None:
                url = Domain(have.name, have.certificate or "", mapping.key).url
                found.append(Wired("http", target.alias, f"api {name} domain {have.name}",
                                   f"custom domain of stage {target.alias}", detail=url))
        return found

    def preflight(self, items: list[PreflightItem], region: str) -> list[Problem]:
        """What AWS would refuse or the tool cannot decide: an API name several APIs share, an alias's
        stage someone else made that does not run aliases, a route key another integration holds."""
        problems = []
        for item in items:
            names = {t.settings.api for t in item.triggers}
            observed: HttpState = item.observed or HttpState()
            problems += preflight_domains(item.key, item.target.alias, region,
                                          {t.settings.api: t.settings.domains.get(item.target.alias) for t in item.triggers},
                                          {n: a.api_id for n, a in observed.apis.items()}, observed.domains)
            for name, api in sorted(((item.observed or HttpState()).apis).items()):
                if name not in names:
                    continue
                if api.ambiguous:
                    problems.append(Problem(item.key, f"{api.ambiguous} HTTP APIs are named {name}; lambdadeploy "
                                            "cannot tell which one to wire", "rename or delete the others, or "
                                            "name another api"))
                elif not api.stage_usable:
                    problems.append(Problem(item.key, f"api {name} has a stage {item.target.alias} that lambdadeploy "
                                            f"did not make and that does not run the alias (it needs auto deploy "
                                            f"and the stage variable {STAGE_VARIABLE}={item.target.alias})",
                                            "delete that stage, or use another api"))
            for step in item.steps:
                if step.params.get("op") != "create_route":
                    continue
                api = (item.observed or HttpState()).apis.get(step.params["api"], ApiState(""))
                holder = next((r for r in api.routes if r.key == step.params["key"] and r.owner is None), None)
                if holder is not None:
                    problems.append(Problem(item.key, f"route {holder.key} of api {api.name} already exists and "
                                            f"is not lambdadeploy's (target integration {holder.integration}); API "
                                            "Gateway refuses a second route with the same key: ConflictException",
                                            "remove that route, or route another path"))
        return problems

    def check_uses(self, uses: list[TriggerUse]) -> list[UseProblem]:
        return check_claims(uses) + check_cors(uses) + check_aliases_agree(uses) + check_domains(uses)

    def sam_events(self, trigger: Trigger, function: str, alias: str) -> list[SamEvent]:
        settings: HttpSettings = trigger.settings
        events = []
        for key in settings.routes:
            method, path = split_route(key)
            properties: dict[str, Any] = {"ApiId": {"Ref": sam_api_id(settings.api)},
                                          "Method": method if key != DEFAULT_ROUTE else "ANY",
                                          "Path": path if key != DEFAULT_ROUTE else "$default",
                                          "PayloadFormatVersion": "2.0", "TimeoutInMillis": 30000}
            if settings.auth.type != "NONE":  # SAM takes Authorizer: NONE only beside a DefaultAuthorizer
                properties["Auth"] = sam_route_auth(settings.auth)
            events.append(SamEvent(f"Http {settings.api} {method} {path or 'default'}", "HttpApi", properties))
        return events

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        if not triggers:
            return []
        base = f"arn:{scope.partition}:apigateway:{scope.region}::"
        return [{"Sid": "ManageHttpApis", "Effect": "Allow",
                 "Action": ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST"],
                 "Resource": [f"{base}/apis", f"{base}/apis/*", f"{base}/domainnames", f"{base}/domainnames/*",
                              f"{base}/tags/*"]}]


# --- what is wanted --------------------------------------------------------------------


def wanted_routes(triggers: list[Trigger]) -> dict[str, dict[str, Auth]]:
    """API name -> route key -> its auth, for the alias's triggers."""
    wanted: dict[str, dict[str, Auth]] = defaultdict(dict)
    for trigger in triggers:
        for key in trigger.settings.routes:
            wanted[trigger.settings.api][key] = trigger.settings.auth
    return dict(wanted)


def permission_sid(target: Target, api: str, key: str) -> str:
    return target.sid(f"http-{short_hash(api, key)}")


def route_url(stage_url: str | None, key: str) -> str | None:
    if stage_url is None:
        return None
    return stage_url + ("/" if key == DEFAULT_ROUTE else split_route(key)[1])


def route_auth(route: RouteState) -> str:
    scopes = f", scopes {' '.join(route.scopes)}" if route.auth == "JWT" and route.scopes else ""
    return f"auth {route.auth}{scopes}"


def _step(action: str, op: str, api: str, what: str, summary: str, changes: tuple[FieldChange, ...] = (),
          **params: Any) -> TriggerStep:
    return TriggerStep("http", action, f"api {api}" + (f" {what}" if what else ""), summary, changes,
                       {"op": op, "api": api, **params})


# --- the plan ----------------------------------------------------------------------------


def plan_api(target: Target, api: ApiState, want: dict[str, Auth], cors: Any, domain: Domain | None = None,
             domains: Mapping[str, DomainState] | None = None) -> dict[str, list[TriggerStep]]:
    """Steps for one API, by phase: first (API, CORS, stage, authorizers, integration), routes
    (create and update, the custom domain), last (what this function no longer needs), release
    (the stage or API; it also unmaps the stage's domain)."""
    function, name = target.function, api.name
    phases: dict[str, list[TriggerStep]] = defaultdict(list)
    mine = api.mine(function)
    jwt = {authorizer_name(function, auth): auth for auth in want.values() if auth.type == "JWT"}
    if want:
        phases["first"] += _plan_api_itself(api, cors)
        if api.stage is None:
            phases["first"].append(_step("create", "create_stage", name, f"stage {target.alias}",
                                         f"auto-deployed, {STAGE_VARIABLE}={target.alias}"))
        phases["first"] += [_step("create", "create_authorizer", name, f"authorizer {n}", Auth.describe(a),
                                  auth=asdict(a)) for n, a in sorted(jwt.items()) if n not in api.authorizers]
        if api.integration is None:
            phases["first"].append(_step("create", "create_integration", name, "integration",
                                         f"Lambda proxy (format 2.0) to {function}:${{stageVariables.{STAGE_VARIABLE}}}"))
        for key, auth in sorted(want.items()):
            phases["routes"] += _plan_route(api, function, key, auth, mine.get(key))
        mapped, unmapped = _plan_domain(target, api, domain, domains or {})
        phases["routes"] += mapped
        phases["last"] += unmapped
    phases["last"] += [_step("delete", "delete_route", name, f"route {key}", route_auth(route), key=key)
                       for key, route in sorted(mine.items()) if key not in want]
    phases["last"] += [_step("delete", "delete_authorizer", name, f"authorizer {n}", "JWT", authorizer=n)
                       for n in sorted(api.authorizers) if n not in jwt]
    if not want and api.integration is not None:
        phases["last"].append(_step("delete", "delete_integration", name, "integration", f"Lambda proxy to {function}"))
    if not want and api.api_id is not None and (mine or _releasable(api, function)):
        what = "the API, if no route is left" if api.made_by_tool else f"stage {target.alias}, if no lambdadeploy route is left"
        phases["release"].append(_step("delete", "release", name, "" if api.made_by_tool else f"stage {target.alias}",
                                       f"delete {what}"))
    return phases


def _plan_api_itself(api: ApiState, cors: Any) -> list[TriggerStep]:
    if api.api_id is None:
        wanted = normal_cors(cors) if cors else {}
        summary = ("new HTTP API (shared: the first function of the push that needs it creates it)"
                   + (f", CORS {', '.join(sorted(wanted))}" if wanted else ""))
        return [_step("create", "create_api", api.name, "", summary, cors=wanted or None)]
    if cors is None:
        return []
    have, want = normal_cors(api.cors), normal_cors(cors) if cors else {}
    if have == want:
        return []
    change = (FieldChange("CorsConfiguration", have or None, want or None),)
    if not want:
        return [_step("delete", "delete_cors", api.name, "CORS", "remove the API's CORS", change)]
    return [_step("update", "set_cors", api.name, "CORS", ", ".join(sorted(want)), change, cors=want)]


def _plan_route(api: ApiState, function: str, key: str, auth: Auth, have: RouteState | None) -> list[TriggerStep]:
    params = {"key": key, "auth": asdict(auth)}
    if have is None:
        holder = next((r for r in api.routes if r.key == key), None)
        taken = f"; taken over from {holder.owner}" if holder is not None and holder.owner else ""
        return [_step("create", "create_route", api.name, f"route {key}", auth.describe() + taken, **params)]
    changes = []
    if have.auth != auth.type:
        changes.append(FieldChange("AuthorizationType", have.auth, auth.type))
    if auth.type == "JWT":
        wanted_authorizer = api.authorizers.get(authorizer_name(function, auth))
        if have.authorizer is None or have.authorizer != wanted_authorizer:
            changes.append(FieldChange("Authorizer", have.authorizer, authorizer_name(function, auth)))
        if have.scopes != auth.scopes:
            changes.append(FieldChange("AuthorizationScopes", list(have.scopes), list(auth.scopes)))
    if not changes:
        return []
    return [_step("update", "update_route", api.name, f"route {key}", auth.describe(), tuple(changes), **params)]


def _plan_domain(target: Target, api: ApiState, want: Domain | None,
                 domains: Mapping[str, DomainState]) -> tuple[list[TriggerStep], list[TriggerStep]]:
    """(create the domain and map the alias's stage to it, unmap the domain the stage had before)."""
    adds, removes = [], []
    if want is not None:
        have = domains.get(want.name, DomainState(want.name))
        if not have.exists:
            adds.append(_step("create", "create_domain", api.name, f"domain {want.name}",
                              f"regional, TLS 1.2, certificate {want.certificate}", domain=asdict(want)))
        mapping = have.mapping_of(api.api_id, target.alias)
        if mapping is None or mapping.key != want.path or api.domain != want.name:
            changes = (FieldChange("ApiMappingKey", mapping.key, want.path),) if mapping and mapping.key != want.path else ()
            adds.append(_step("create" if mapping is None else "update", "map_domain", api.name, f"domain {want.name} mapping",
                              f"{want.url} serves stage {target.alias}", changes, domain=asdict(want)))
    if api.domain and api.domain != (want.name if want else None):
        made = domains.get(api.domain, DomainState(api.domain)).made_by_tool
        removes.append(_step("delete", "unmap_domain", api.name, f"domain {api.domain} mapping",
                             f"remove its mapping to stage {target.alias}" + (", and the domain (lambdadeploy made it) "
                                                                              "once no mapping is left" if made else ""),
                             domain_name=api.domain))
    return adds, removes


def _releasable(api: ApiState, function: str) -> bool:
    """Whether, once this function's routes are gone, the API (made by the tool, no route left) or the
    alias's stage (made by the tool, no lambdadeploy route left) would go."""
    others = [r for r in api.routes if r.owner != function]
    if api.made_by_tool:
        return not others
    return api.stage is not None and is_tool_stage(api.stage) and not [r for r in others if r.owner]


def plan_permissions(target: Target, wanted: dict[str, dict[str, Auth]],
                     state: HttpState) -> tuple[list[TriggerStep], list[TriggerStep]]:
    """(statements to add or re-point, statements to remove) of the alias's resource policy: one per
    route, for the alias's stage of that route's API."""
    want: dict[str, tuple[str, str, str | None]] = {}
    for name, routes in wanted.items():
        api = state.apis.get(name, ApiState(name))
        for key in routes:
            arn = (source_arn(target.partition, target.region, target.account, api.api_id, target.alias, key)
                   if api.api_id else None)
            want[permission_sid(target, name, key)] = (name, key, arn)
    adds, removes = [], []
    for sid, (name, key, arn) in sorted(want.items(), key=lambda item: item[1][:2]):
        have = state.statements.get(sid)
        api = state.apis.get(name, ApiState(name))
        if api.ambiguous or not api.stage_usable:
            continue
        if have is None:
            adds.append(_step("create", "add_permission", name, f"permission {key}",
                              f"{PRINCIPAL} may invoke {target.alias}", sid=sid, key=key))
        elif arn is not None and have != arn:
            adds.append(_step("update", "replace_permission", name, f"permission {key}",
                              f"{PRINCIPAL} may invoke {target.alias}", (FieldChange("SourceArn", have, arn),),
                              sid=sid, key=key))
    ids = {api.api_id: name for name, api in state.apis.items() if api.api_id}
    for sid, arn in sorted(state.statements.items()):
        if sid not in want:
            name = ids.get(api_id_of(arn), api_id_of(arn) if arn else "?")
            where = arn.split(":", 5)[-1].split("/", 1)[-1] if arn else sid  # STAGE/METHOD/path
            removes.append(_step("delete", "remove_permission", name, f"permission {where}", f"{PRINCIPAL} may no "
                                 f"longer invoke {target.alias} from {arn or 'it'}", sid=sid))
    return adds, removes


# --- SAM ------------------------------------------------------------------------------------


def sam_api_id(api: str) -> str:
    """The logical id of the AWS::Serverless::HttpApi for an API name (letters and digits only)."""
    words = "".join(part[:1].upper() + part[1:] for part in "".join(c if c.isalnum() else " " for c in api).split())
    return f"{words or 'Api'}HttpApi"


def sam_authorizer(auth: Auth) -> str:
    """The name of a JWT authorizer in the HttpApi's Auth.Authorizers."""
    return f"Jwt{short_hash(auth.issuer, list(auth.audience))}"


def sam_route_auth(auth: Auth) -> dict[str, Any]:
    """An HttpApi event's Auth for an IAM or JWT route."""
    if auth.type == "AWS_IAM":
        return {"Authorizer": "AWS_IAM"}
    scoped = {"AuthorizationScopes": list(auth.scopes)} if auth.scopes else {}
    return {"Authorizer": sam_authorizer(auth), **scoped}
