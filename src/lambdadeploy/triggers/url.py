"""The alias's function URL: auth type, CORS, and the public permissions for auth NONE.

The tool owns the function URL of the aliases it manages: with no `url` trigger for an
alias, an existing URL on that alias is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..aws import AwsNotFound, AwsSession
from ..diff import FieldChange
from ..fields import INVALID, Field, OneOf, Record, Reporter, Rule, type_name
from .base import Grant, PolicyScope, ReadContext, Target, Trigger, TriggerKind, TriggerStep, Wired

# lambda.yaml's snake_case CORS keys -> the API's; the API's own names are accepted too.
CORS_KEYS = {
    "allow_credentials": "AllowCredentials",
    "allow_headers": "AllowHeaders",
    "allow_methods": "AllowMethods",
    "allow_origins": "AllowOrigins",
    "expose_headers": "ExposeHeaders",
    "max_age": "MaxAge",
}


class Cors(Rule):
    """`true` (every origin) or a mapping of CORS settings, into the API's Cors shape."""

    def check(self, value: Any, report: Reporter) -> Any:
        if value is True:
            return {"AllowOrigins": ["*"]}
        if not isinstance(value, dict):
            report(f"cors must be true or a mapping, not {type_name(value)}",
                   'e.g. cors: {allow_origins: ["https://example.com"], allow_methods: [GET]}')
            return INVALID
        known = {**CORS_KEYS, **{v: v for v in CORS_KEYS.values()}}
        unknown = [str(k) for k in value if k not in known]
        if unknown:
            report.at(unknown[0])("unknown CORS setting", "allowed: " + ", ".join(CORS_KEYS))
            return INVALID
        result = {}
        for key, item in value.items():
            name = known[key]
            result[name] = [item] if isinstance(item, str) and name != "MaxAge" else item
        return normal_cors(result)

    @property
    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"const": True}, {"type": "object", "additionalProperties": False,
                                             "properties": {k: {} for k in (*CORS_KEYS, *CORS_KEYS.values())}}]}


@dataclass(frozen=True)
class UrlSettings:
    auth: str = "NONE"
    cors: Any = None  # the API's Cors mapping, normalised


@dataclass(frozen=True)
class UrlState:
    config: dict[str, Any] | None  # GetFunctionUrlConfig, or None when the alias has no URL


class UrlKind(TriggerKind):
    name: ClassVar[str] = "url"
    per_alias: ClassVar[bool] = True
    summary: ClassVar[str] = ("a function URL on the alias (auth `NONE` or `AWS_IAM`, optional CORS), and for "
                              "`NONE` the public invoke permissions; the URL is printed")
    settings: ClassVar[Record] = Record((
        Field("auth", OneOf(("NONE", "AWS_IAM")), doc="NONE (public) or AWS_IAM (default NONE)"),
        Field("cors", Cors(), doc="true, or {allow_origins: [...], allow_methods: [...], ...}"),
    ), UrlSettings)

    def source(self, settings: UrlSettings) -> str:
        return f"function URL (auth {settings.auth})"

    def invoke_principal(self) -> str:
        return "*"

    def grants(self, target: Target, triggers: list[Trigger]) -> list[Grant]:
        if not triggers or triggers[0].settings.auth != "NONE":
            return []
        # Public URLs need both statements since October 2025: InvokeFunctionUrl for the URL
        # and InvokeFunction restricted to calls that come through the URL.
        return [
            Grant(target.sid("url"), "url", "*", "anyone, through the URL", action="lambda:InvokeFunctionUrl",
                  extra={"FunctionUrlAuthType": "NONE"}),
            Grant(target.sid("urlinvoke"), "url", "*", "anyone, through the URL", action="lambda:InvokeFunction",
                  extra={"InvokedViaFunctionUrl": True}),
        ]

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> UrlState:
        if not ctx.target.exists:
            return UrlState(None)
        try:
            return UrlState(ctx.client("lambda").get_function_url_config(
                FunctionName=ctx.target.function, Qualifier=ctx.target.alias))
        except AwsNotFound:
            return UrlState(None)

    def plan(self, target: Target, triggers: list[Trigger], observed: UrlState) -> list[TriggerStep]:
        have = observed.config
        if not triggers:
            if have is None:
                return []
            return [TriggerStep("url", "delete", "function URL", f"auth {have.get('AuthType')}",
                                params={"url": have.get("FunctionUrl")})]
        settings: UrlSettings = triggers[0].settings
        cors = settings.cors or {}
        if have is None:
            return [TriggerStep("url", "create", "function URL", describe(settings.auth, cors),
                                params={"AuthType": settings.auth, "Cors": cors})]
        current = {"AuthType": have.get("AuthType"), "Cors": normal_cors(have.get("Cors"))}
        wanted = {"AuthType": settings.auth, "Cors": cors}
        changes = tuple(FieldChange(k, current[k], wanted[k]) for k in wanted if current[k] != wanted[k])
        if not changes:
            return []
        return [TriggerStep("url", "update", "function URL", describe(settings.auth, cors), changes, wanted)]

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        client = session.client("lambda")
        where = {"FunctionName": target.function, "Qualifier": target.alias}
        if step.action == "delete":
            client.delete_function_url_config(**where)
            return str(step.params.get("url") or "") or None
        if step.action == "create":
            extra = {"Cors": step.params["Cors"]} if step.params["Cors"] else {}
            return client.create_function_url_config(**where, AuthType=step.params["AuthType"], **extra)["FunctionUrl"]
        return client.update_function_url_config(**where, AuthType=step.params["AuthType"],
                                                 Cors=step.params["Cors"])["FunctionUrl"]

    def wired(self, target: Target, observed: UrlState) -> list[Wired]:
        have = observed.config
        if have is None:
            return []
        return [Wired("url", target.alias, "function URL",
                      describe(str(have.get("AuthType")), normal_cors(have.get("Cors"))), detail=have.get("FunctionUrl"))]

    def sam_function_properties(self, trigger: Trigger) -> dict[str, Any]:
        url: dict[str, Any] = {"AuthType": trigger.settings.auth}
        if trigger.settings.cors:
            url["Cors"] = dict(trigger.settings.cors)
        return {"FunctionUrlConfig": url}

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        if not triggers:
            return []
        return [{"Sid": "ConfigureFunctionUrls", "Effect": "Allow",
                 "Action": ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
                 "Resource": list(scope.function_resources)}]


def normal_cors(cors: dict[str, Any] | None) -> dict[str, Any]:
    """CORS without empty fields, lists sorted: what AWS answers and what was asked compare equal."""
    normal = {}
    for key, value in (cors or {}).items():
        if value in (None, [], False, 0, ""):
            continue
        normal[key] = sorted(value) if isinstance(value, list) else value
    return normal


def describe(auth: str, cors: dict[str, Any]) -> str:
    text = f"auth {auth}"
    return text + f", CORS {', '.join(sorted(cors))}" if cors else text
