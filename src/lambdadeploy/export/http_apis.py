"""The HTTP APIs of the exported stack: one AWS::Serverless::HttpApi per API name, and its URL.

The functions' `HttpApi` events (triggers/http.py) refer to these by logical id. A stack
serves one alias, so each API has the one stage named after it (push keeps one API with a
stage per alias; a stack per alias gets an API per stack). Auth is the union of the
triggers': each JWT issuer and audience an authorizer, IAM enabled when a route uses it;
CORS as the triggers set it (validate has checked that they agree). The alias's custom domain
(`domains:`) is the HttpApi's `Domain` (SAM takes one per HttpApi, and a stack serves one
alias, so one fits): a REGIONAL, TLS 1.2 domain name whose BasePath is the path.
"""

from __future__ import annotations

from typing import Any

from ..config.model import Project
from ..triggers.http import sam_api_id, sam_authorizer
from ..triggers.url import CORS_KEYS


def resources(project: Project, alias: str) -> dict[str, Any]:
    """The HttpApi resources for the http triggers of `project` (already narrowed to `alias`)."""
    apis: dict[str, dict[str, Any]] = {}
    for fn in project.functions:
        for trigger in fn.triggers:
            if trigger.kind != "http":
                continue
            settings = trigger.settings
            api = apis.setdefault(settings.api, {"Name": settings.api, "StageName": alias,
                                                 "Tags": {"managed-by": "cloudformation"}})
            if settings.cors:
                api["CorsConfiguration"] = {key: value for key, value in settings.cors.items()
                                            if key in CORS_KEYS.values()}
            domain = settings.domains.get(alias)
            if domain is not None:
                api["Domain"] = {"DomainName": domain.name, "CertificateArn": domain.certificate,
                                 "EndpointConfiguration": "REGIONAL", "SecurityPolicy": "TLS_1_2",
                                 **({"BasePath": [domain.path]} if domain.path else {})}
            auth = settings.auth
            if auth.type == "AWS_IAM":
                api.setdefault("Auth", {})["EnableIamAuthorizer"] = True
            elif auth.type == "JWT":
                api.setdefault("Auth", {}).setdefault("Authorizers", {})[sam_authorizer(auth)] = {
                    "IdentitySource": "$request.header.Authorization",
                    "JwtConfiguration": {"issuer": auth.issuer, "audience": list(auth.audience)},
                }
    return {sam_api_id(name): {"Type": "AWS::Serverless::HttpApi", "Properties": properties}
            for name, properties in sorted(apis.items())}


def outputs(project: Project, alias: str) -> dict[str, Any]:
    """Each API's stage URL, as push prints it."""
    names = sorted({t.settings.api for fn in project.functions for t in fn.triggers if t.kind == "http"})
    found = {f"{sam_api_id(name)}Url": {
        "Description": f"HTTP API {name}, stage {alias}",
        "Value": {"Fn::Sub": "https://${" + sam_api_id(name) + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
                  + alias}} for name in names}
    for fn in project.functions:
        for trigger in fn.triggers:
            domain = trigger.settings.domains.get(alias) if trigger.kind == "http" else None
            if domain is not None:
                found[f"{sam_api_id(trigger.settings.api)}DomainUrl"] = {
                    "Description": f"HTTP API {trigger.settings.api}, stage {alias}, at its custom domain",
                    "Value": domain.url}
    return found
