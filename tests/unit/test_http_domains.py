"""Custom domains of the http trigger without AWS: the `domains` setting as validate checks it
(domain name, ACM certificate ARN, path), the rules across functions and aliases (one domain per
API and alias, one path of a domain per stage, one certificate per domain), the plan from an
observation, and pre-flight on the certificate's region."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambdadeploy.config import load
from lambdadeploy.config.load import RenderContext
from lambdadeploy.errors import ConfigError
from lambdadeploy.triggers.base import PreflightItem, Target
from lambdadeploy.triggers.http import HttpKind
from lambdadeploy.triggers.http_domains import Domain, DomainState, MappingState
from lambdadeploy.triggers.http_state import ApiState, HttpState
from lambdadeploy.triggers.registry import make_trigger

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
PROD = {"name": "api.example.com", "certificate": CERT, "path": "v1"}
DEV = {"name": "dev-api.example.com", "certificate": CERT}


def project(root: Path, functions: str) -> Path:
    for name in ("list", "create"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = root / "lambda.yaml"
    path.write_text(f"project: t\naliases: [dev, prod]\nfunctions:\n{functions}")
    return path


def two(list_domains: dict | None, create_domains: dict | None) -> str:
    def http(route: str, domains: dict | None) -> str:
        extra = f", \"domains\": {json.dumps(domains)}" if domains is not None else ""
        return f'{{"api": "shop", "routes": ["{route}"]{extra}}}'
    return (f"  list:\n    handler: app.handler\n    triggers:\n      - http: {http('GET /items', list_domains)}\n"
            f"  create:\n    handler: app.handler\n    triggers:\n      - http: {http('POST /items', create_domains)}\n")


def test_the_setting_reads_back_as_written_and_names_each_alias_domain() -> None:
    trigger = make_trigger("http", {"api": "shop", "routes": ["GET /"], "domains": {"prod": PROD, "dev": {
        **DEV, "name": "Dev-API.example.com"}}})
    domains = trigger.settings.domains
    assert domains.get("prod") == Domain("api.example.com", CERT, "v1")
    assert domains.get("dev").url == "https://dev-api.example.com" and domains.get("prod").url == "https://api.example.com/v1"
    assert domains.get("test") is None
    assert domains.as_config() == {"dev": DEV, "prod": PROD}


@pytest.mark.parametrize(("domains", "field", "message"), [
    ({"prod": {"name": "api", "certificate": CERT}}, "domains.prod.name", "at least two labels"),
    ({"prod": {"name": "api_x.example.com", "certificate": CERT}}, "domains.prod.name", "label 'api_x'"),
    ({"prod": {"name": "*.example.com", "certificate": CERT}}, "domains.prod.name", "wildcard"),
    ({"prod": {"name": "a" * 64 + ".example.com", "certificate": CERT}}, "domains.prod.name", "1-63"),
    ({"prod": {"name": ("a" * 60 + ".") * 5 + "com", "certificate": CERT}}, "domains.prod.name", "at most 253"),
    ({"prod": {"name": "api.example.com", "certificate": "arn:aws:iam::123456789012:server-certificate/x"}},
     "domains.prod.certificate", "ACM certificate ARN"),
    ({"prod": {"name": "api.example.com"}}, "domains.prod.certificate", "ACM certificate ARN"),
    ({"prod": {**PROD, "path": "/v1"}}, "domains.prod.path", "without a leading or trailing /"),
    ({"prod": {**PROD, "path": "v1//x"}}, "domains.prod.path", "not be empty"),
    ({"prod": {**PROD, "path": "v1?x"}}, "domains.prod.path", "letters, digits and $-_.+!*'()"),
    ({"prod": {**PROD, "stage": "x"}}, "domains.prod.stage", "unknown setting"),
    ({"prod": "api.example.com"}, "domains.prod", "must be a mapping with name and certificate"),
    ({"prod": PROD, "dev": PROD}, "domains.dev", "is also alias prod's"),
    ("api.example.com", "domains", "must be a mapping from alias to domain"),
])
def test_settings_are_checked_at_their_field(tmp_path: Path, domains: object, field: str, message: str) -> None:
    settings = {"api": "shop", "routes": ["GET /"], "domains": domains}
    functions = f"  list:\n    handler: app.handler\n    triggers:\n      - http: {json.dumps(settings)}\n"
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions))
    (issue,) = caught.value.issues
    assert issue.field == f"functions.list.triggers.0.http.{field}" and issue.line == 7
    assert message in issue.message


def test_two_functions_of_one_api_that_disagree_on_the_domain_are_exit_2_with_both_lines(tmp_path: Path) -> None:
    path = project(tmp_path, two({"prod": PROD}, {"prod": {**PROD, "path": "v2"}}))
    done = subprocess.run([sys.executable, "-m", "lambdadeploy", "-c", str(path), "validate"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert (f"{path}:11: functions.create.triggers.0.http.domains: for alias prod, api shop gets "
            "https://api.example.com/v2 here but https://api.example.com/v1 at functions.list.triggers.0.http "
            "(line 7)") in done.stderr
    assert "Traceback" not in done.stderr


def test_a_function_that_leaves_the_domain_out_disagrees_and_the_same_domains_agree(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, two({"prod": PROD}, None)), RenderContext(alias="prod"))
    (issue,) = caught.value.issues
    assert "gets no domain here but https://api.example.com/v1" in issue.message and issue.line == 11
    both = {"prod": PROD, "dev": DEV}
    assert len(load(project(tmp_path, two(both, both))).functions) == 2


def test_one_path_of_a_domain_serves_one_api_and_a_domain_has_one_certificate(tmp_path: Path) -> None:
    other = two({"prod": PROD}, {"prod": PROD}).replace('"api": "shop", "routes": ["POST', '"api": "admin", "routes": ["POST')
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, other), RenderContext(alias="prod"))
    assert "https://api.example.com/v1 is also api shop's" in caught.value.issues[0].message
    recert = {"prod": {**PROD, "path": "admin", "certificate": CERT.replace("1111", "9999")}}
    other = two({"prod": PROD}, recert).replace('"api": "shop", "routes": ["POST', '"api": "admin", "routes": ["POST')
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, other), RenderContext(alias="prod"))
    assert "domain api.example.com has another certificate" in caught.value.issues[0].message


def test_a_domain_for_an_alias_the_trigger_does_not_serve_is_refused(tmp_path: Path) -> None:
    functions = ('  list:\n    handler: app.handler\n    triggers:\n      - http: {"api": "shop", "routes": ["GET /"], '
                 f'"alias": "prod", "domains": {json.dumps({"dev": DEV})}}}\n')
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions), RenderContext(alias="prod"))
    assert "domains names alias dev, which this trigger does not serve (it serves prod)" in caught.value.issues[0].message


TARGET = Target("t-list", "prod", "arn:aws:lambda:us-east-1:123456789012:function:t-list:prod", True)


def trigger(domains: dict | None) -> object:
    return make_trigger("http", {"api": "shop", "routes": ["GET /items"], **({"domains": domains} if domains else {})})


def observed(stage_domain: str | None, domains: dict[str, DomainState]) -> HttpState:
    variables = {"lambdadeployAlias": "prod", **({"lambdadeployDomain": stage_domain} if stage_domain else {})}
    stage = {"StageName": "prod", "AutoDeploy": True, "StageVariables": variables, "Tags": {"managed-by": "lambdadeploy"}}
    from lambdadeploy.triggers.http_state import RouteState
    api = ApiState("shop", "abc123", "https://abc123.execute-api.us-east-1.amazonaws.com", True, stage=stage,
                   integration="i1", routes=(RouteState("GET /items", "r1", "i1", "t-list"),))
    sid = HttpKind().plan(TARGET, [trigger(None)], HttpState({"shop": api}))  # the permission the alias needs
    statements = {s.params["sid"]: "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/items"
                  for s in sid if s.params.get("op") == "add_permission"}
    return HttpState({"shop": api}, statements, domains)


def ops(steps: list) -> list[tuple[str, str, str]]:
    return [(s.params["op"], s.action, s.resource) for s in steps]


def test_the_plan_creates_and_maps_then_nothing_then_moves_the_path_then_unmaps() -> None:
    kind = HttpKind()
    assert ops(kind.plan(TARGET, [trigger({"prod": PROD})], observed(None, {}))) == [
        ("create_domain", "create", "api shop domain api.example.com"),
        ("map_domain", "create", "api shop domain api.example.com mapping")]
    done = DomainState("api.example.com", True, True, CERT, "REGIONAL", (MappingState("m1", "abc123", "prod", "v1"),))
    assert kind.plan(TARGET, [trigger({"prod": PROD})], observed("api.example.com", {"api.example.com": done})) == []
    moved = kind.plan(TARGET, [trigger({"prod": {**PROD, "path": "v2"}})],
                      observed("api.example.com", {"api.example.com": done}))
    assert ops(moved) == [("map_domain", "update", "api shop domain api.example.com mapping")]
    assert [(c.field, c.old, c.new) for c in moved[0].changes] == [("ApiMappingKey", "v1", "v2")]
    gone = kind.plan(TARGET, [trigger(None)], observed("api.example.com", {"api.example.com": done}))
    assert ops(gone) == [("unmap_domain", "delete", "api shop domain api.example.com mapping")]
    assert "and the domain (lambdadeploy made it) once no mapping is left" in gone[0].summary
    # a mapping someone made that is exactly what lambda.yaml says is adopted (remembered on the stage)
    assert ops(kind.plan(TARGET, [trigger({"prod": PROD})], observed(None, {"api.example.com": done}))) == [
        ("map_domain", "update", "api shop domain api.example.com mapping")]


def test_preflight_refuses_a_certificate_of_another_region_and_a_non_regional_domain() -> None:
    kind = HttpKind()
    far = {"prod": {**PROD, "certificate": CERT.replace("us-east-1", "eu-west-1")}}
    item = PreflightItem("t-list", "list", 3, TARGET, (trigger(far),), observed(None, {}), ())
    (problem,) = kind.preflight([item], "us-east-1")
    assert problem.level == "error" and "is in eu-west-1, but the API is in us-east-1" in problem.message
    edge = DomainState("api.example.com", True, False, CERT, "EDGE")
    item = PreflightItem("t-list", "list", 3, TARGET, (trigger({"prod": PROD}),),
                         observed(None, {"api.example.com": edge}), ())
    (problem,) = kind.preflight([item], "us-east-1")
    assert "exists as a EDGE domain name; HTTP APIs map only to REGIONAL ones" in problem.message
    recert = DomainState("api.example.com", True, False, CERT.replace("1111", "2222"), "REGIONAL")
    item = PreflightItem("t-list", "list", 3, TARGET, (trigger({"prod": PROD}),),
                         observed(None, {"api.example.com": recert}), ())
    (problem,) = kind.preflight([item], "us-east-1")
    assert problem.level == "warning" and "lambdadeploy maps onto it but does not change it" in problem.message
