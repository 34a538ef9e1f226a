"""`export --format sam` of HTTP API triggers: one AWS::Serverless::HttpApi per API, HttpApi events
per route, checked by the real SAM transform and cfn-lint, and wired to the alias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lambdadeploy.config import load
from lambdadeploy.config.load import RenderContext
from lambdadeploy.config.model import Project
from lambdadeploy.export import write_export

from .test_export import lint_all, sam_transform

LAMBDA_YAML = """\
project: shop
aliases: [dev, prod]
functions:
  list:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: ["GET /items", "GET /items/{id}", "$default"],
               cors: {allow_origins: ["https://shop.example"], max_age: 600}}
  create:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: "POST /items", auth: {jwt: {issuer: "https://id.example.com/", audience: [shop],
                                                             scopes: [write]}}}
      - http: {api: shop, routes: "DELETE /items/{id}", auth: iam}
      - http: {api: "admin-{{ alias }}", routes: "GET /stats", alias: prod}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("list", "create"):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "lambda.yaml").write_text(LAMBDA_YAML)
    return load(tmp_path / "lambda.yaml")


@pytest.mark.parametrize("alias", ["dev", "prod"])
def test_the_template_passes_the_sam_transform_and_cfn_lint(config: Project, tmp_path: Path, alias: str) -> None:
    out = tmp_path / "template.yaml"
    rendered = load(config.config_file, RenderContext(alias=alias))  # as `export --alias` renders it
    template = yaml.safe_load(write_export(rendered, alias, out))
    apis = {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::HttpApi"}
    assert sorted(apis) == (["AdminProdHttpApi", "ShopHttpApi"] if alias == "prod" else ["ShopHttpApi"])
    shop = apis["ShopHttpApi"]
    assert (shop["Name"], shop["StageName"]) == ("shop", alias)
    assert shop["CorsConfiguration"] == {"AllowOrigins": ["https://shop.example"], "MaxAge": 600}
    assert shop["Auth"]["EnableIamAuthorizer"] is True
    (jwt,) = shop["Auth"]["Authorizers"].values()
    assert jwt["JwtConfiguration"] == {"issuer": "https://id.example.com/", "audience": ["shop"]}
    events = template["Resources"]["CreateFunction"]["Properties"]["Events"]
    assert {e["Properties"]["Path"]: e["Properties"].get("Auth") for e in events.values()
            if e["Properties"]["ApiId"] == {"Ref": "ShopHttpApi"}} == {
        "/items": {"Authorizer": next(iter(shop["Auth"]["Authorizers"])), "AuthorizationScopes": ["write"]},
        "/items/{id}": {"Authorizer": "AWS_IAM"}}
    assert template["Outputs"]["ShopHttpApiUrl"]["Value"]["Fn::Sub"].endswith(f"/{alias}")
    assert lint_all(out) == []


def test_the_transform_routes_each_path_to_the_alias_and_permits_it(config: Project, tmp_path: Path) -> None:
    prod = load(config.config_file, RenderContext(alias="prod"))
    resources = sam_transform(yaml.safe_load(write_export(prod, "prod", tmp_path / "t.yaml")))["Resources"]
    body = resources["ShopHttpApi"]["Properties"]["Body"]
    uris = {(path, method): op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            for path, methods in body["paths"].items() for method, op in methods.items()}
    assert uris[("/items", "get")].endswith("${ListFunctionAliasprod}/invocations")
    assert uris[("/items", "post")].endswith("${CreateFunctionAliasprod}/invocations")
    assert uris[("$default", "x-amazon-apigateway-any-method")].endswith("${ListFunctionAliasprod}/invocations")
    assert resources["ShopHttpApiprodStage"]["Properties"]["StageName"] == "prod"
    permissions = {json.dumps(r["Properties"]["SourceArn"]): r["Properties"]["FunctionName"]
                   for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"}
    assert {"Ref": "CreateFunctionAliasprod"} in permissions.values()
    assert all(name["Ref"].endswith("Aliasprod") for name in permissions.values())


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(("alias", "path"), [("prod", "v1"), ("dev", "")])
def test_the_alias_domain_is_the_http_api_domain_and_passes_the_transform_and_cfn_lint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alias: str, path: str) -> None:
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "functions" / "list").mkdir(parents=True)
    (tmp_path / "functions" / "list" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    domains = (f"{{prod: {{name: api.example.com, certificate: \"{CERT}\", path: v1}}, "
               f"dev: {{name: dev-api.example.com, certificate: \"{CERT}\"}}}}")
    (tmp_path / "lambda.yaml").write_text("project: shop\naliases: [dev, prod]\nfunctions:\n  list:\n"
                                          "    handler: app.handler\n    triggers:\n"
                                          f"      - http: {{api: shop, routes: \"GET /items\", domains: {domains}}}\n")
    out = tmp_path / "template.yaml"
    rendered = load(tmp_path / "lambda.yaml", RenderContext(alias=alias))
    template = yaml.safe_load(write_export(rendered, alias, out))
    name = "api.example.com" if alias == "prod" else "dev-api.example.com"
    expected = {"DomainName": name, "CertificateArn": CERT, "EndpointConfiguration": "REGIONAL",
                "SecurityPolicy": "TLS_1_2", **({"BasePath": [path]} if path else {})}
    assert template["Resources"]["ShopHttpApi"]["Properties"]["Domain"] == expected
    assert template["Outputs"]["ShopHttpApiDomainUrl"]["Value"] == f"https://{name}/{path}".rstrip("/")
    assert lint_all(out) == []
    resources = sam_transform(yaml.safe_load(out.read_text()))["Resources"]
    (domain,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::DomainName"]
    assert domain["DomainName"] == name
    assert domain["DomainNameConfigurations"][0]["EndpointType"] == "REGIONAL"
    (mapping,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::ApiMapping"]
    assert mapping.get("ApiMappingKey", "") == path and mapping["Stage"]
