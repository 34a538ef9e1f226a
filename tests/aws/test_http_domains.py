"""Custom domains of HTTP APIs against moto: push dev and prod with a domain each; what a boto3
client sees (domain names, their tags, the API mappings on the alias stages and paths); a second
push writes nothing; removing a domain removes the tool's mapping and the domain it made, never
one it did not make; a certificate of another region stops the push before any write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdadeploy.aws import AwsSession
from lambdadeploy.config import load
from lambdadeploy.config.load import RenderContext
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.status import read_status
from lambdadeploy.engine.steps import WireTrigger

from .conftest import push_alias

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
OTHER_REGION_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
DOMAINS = ("{prod: {name: api.example.com, certificate: CERT, path: v1}, "
           "dev: {name: dev-api.example.com, certificate: CERT}}")


def write(root: Path, domains: str | None = DOMAINS, cert: str = CERT) -> Path:
    setting = f", domains: {domains.replace('CERT', cert)}" if domains else ""
    for name in ("list", "create"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    (root / "lambda.yaml").write_text(
        "project: t\naliases: [dev, prod]\nfunctions:\n"
        f"  list:\n    handler: app.handler\n    triggers:\n      - http: {{api: shop, routes: \"GET /items\"{setting}}}\n"
        f"  create:\n    handler: app.handler\n    triggers:\n      - http: {{api: shop, routes: \"POST /items\"{setting}}}\n")
    return root / "lambda.yaml"


def push(session: AwsSession, path: Path, alias: str) -> list[Any]:
    return push_alias(session, path, alias)


def domain_steps(reports: list[Any]) -> list[tuple[str, str, str]]:
    return sorted((r.function.key, s.step.change.action, s.step.change.resource) for r in reports for s in r.done
                  if isinstance(s.step, WireTrigger) and " domain " in s.step.change.resource)


def mappings(session: AwsSession) -> dict[str, list[tuple[str, str, str]]]:
    client = session.client("apigatewayv2")
    return {d["DomainName"]: sorted((m["ApiId"], m["Stage"], m.get("ApiMappingKey") or "")
                                    for m in client.get_api_mappings(DomainName=d["DomainName"])["Items"])
            for d in client.get_domain_names()["Items"]}


def api_id(session: AwsSession) -> str:
    (api,) = session.client("apigatewayv2").get_apis()["Items"]
    return api["ApiId"]


def test_push_maps_each_alias_stage_to_its_domain_and_a_second_push_writes_nothing(session: AwsSession,
                                                                                   tmp_path: Path) -> None:
    path = write(tmp_path)
    dev = push(session, path, "dev")
    prod = push(session, path, "prod")
    client = session.client("apigatewayv2")
    api = api_id(session)
    assert mappings(session) == {"dev-api.example.com": [(api, "dev", "")], "api.example.com": [(api, "prod", "v1")]}
    for item in client.get_domain_names()["Items"]:
        assert item["Tags"] == {"managed-by": "lambdadeploy"}
        assert item["DomainNameConfigurations"] == [{"CertificateArn": CERT, "EndpointType": "REGIONAL",
                                                     "SecurityPolicy": "TLS_1_2"}]
    # both functions planned the domain; the first created and mapped it, the second found it done
    assert ("list", "create", "api shop domain dev-api.example.com") in domain_steps(dev)
    assert [s for s in domain_steps(prod) if s[1] == "create"] != []
    # push printed the custom URL beside the mapping
    urls = {s.detail for r in prod for s in r.done if isinstance(s.step, WireTrigger) and s.detail}
    assert "https://api.example.com/v1" in urls

    assert domain_steps(push(session, path, "dev")) == [] and domain_steps(push(session, path, "prod")) == []

    status = read_status(session, load(path).functions[0])
    shown = sorted((w.alias, w.resource, w.detail) for w in status.triggers if " domain " in w.resource)
    assert shown == [("dev", "api shop domain dev-api.example.com", "https://dev-api.example.com"),
                     ("prod", "api shop domain api.example.com", "https://api.example.com/v1")]


def test_a_changed_path_moves_the_mapping_and_a_removed_domain_goes_with_its_mapping(session: AwsSession,
                                                                                     tmp_path: Path) -> None:
    path = write(tmp_path)
    push(session, path, "dev")
    push(session, path, "prod")
    api = api_id(session)
    write(tmp_path, DOMAINS.replace("path: v1", "path: v2/shop"))
    push(session, path, "prod")
    assert mappings(session)["api.example.com"] == [(api, "prod", "v2/shop")]

    write(tmp_path, "{prod: {name: api.example.com, certificate: CERT, path: v2/shop}}")
    removed = domain_steps(push(session, path, "dev"))
    assert removed == [("create", "delete", "api shop domain dev-api.example.com mapping"),
                       ("list", "delete", "api shop domain dev-api.example.com mapping")]
    assert mappings(session) == {"api.example.com": [(api, "prod", "v2/shop")]}  # the tool's dev domain is gone
    assert domain_steps(push(session, path, "dev")) == []
    stage = session.client("apigatewayv2").get_stage(ApiId=api, StageName="dev")
    assert stage["StageVariables"] == {"lambdadeployAlias": "dev", "lambdadeployDomain": "none"}


def test_a_domain_the_tool_did_not_make_is_mapped_onto_and_never_deleted(session: AwsSession, tmp_path: Path) -> None:
    client = session.client("apigatewayv2")
    client.create_domain_name(DomainName="dev-api.example.com", DomainNameConfigurations=[
        {"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
    path = write(tmp_path)
    push(session, path, "dev")
    api = api_id(session)
    assert mappings(session) == {"dev-api.example.com": [(api, "dev", "")]}
    assert "Tags" not in client.get_domain_name(DomainName="dev-api.example.com") or \
        client.get_domain_name(DomainName="dev-api.example.com")["Tags"] == {}

    write(tmp_path, domains=None)
    push(session, path, "dev")
    assert mappings(session) == {"dev-api.example.com": []}  # the mapping went, their domain stays


def test_a_certificate_of_another_region_stops_the_push_before_any_write(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path, cert=OTHER_REGION_CERT)
    project = load(path, RenderContext(alias="dev"))
    pushed = Deployer(session, project, lambda event: None).push(project.functions, "dev")
    assert pushed.exit_code == 2 and not pushed.ok
    assert {e.message for e in pushed.plan.errors} == {
        "the certificate of domain dev-api.example.com (api shop, alias dev) is in eu-west-1, but the API is in "
        "us-east-1: a regional custom domain takes an ACM certificate of its own region"}
    assert session.client("apigatewayv2").get_apis()["Items"] == []
    assert session.client("apigatewayv2").get_domain_names()["Items"] == []
    assert session.client("lambda").list_functions()["Functions"] == []


def test_a_path_another_stage_holds_stops_the_push_at_preflight(session: AwsSession, tmp_path: Path) -> None:
    client = session.client("apigatewayv2")
    other = client.create_api(Name="other", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=other, StageName="live")
    client.create_domain_name(DomainName="dev-api.example.com", DomainNameConfigurations=[
        {"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
    client.create_api_mapping(DomainName="dev-api.example.com", ApiId=other, Stage="live")
    path = write(tmp_path)
    push(session, path, "prod")  # prod's domain is free
    project = load(path, RenderContext(alias="dev"))
    pushed = Deployer(session, project, lambda event: None).push(project.functions, "dev")
    assert pushed.exit_code == 2
    assert all("ConflictException" in e.message for e in pushed.plan.errors) and pushed.plan.errors
    assert mappings(session)["dev-api.example.com"] == [(other, "live", "")]


def test_an_api_released_by_the_last_function_takes_its_mappings_and_the_tool_domains(session: AwsSession,
                                                                                      tmp_path: Path) -> None:
    client = session.client("apigatewayv2")
    client.create_domain_name(DomainName="api.example.com", DomainNameConfigurations=[
        {"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])  # someone else's
    path = write(tmp_path)
    push(session, path, "dev")
    push(session, path, "prod")
    (tmp_path / "lambda.yaml").write_text("project: t\naliases: [dev, prod]\nfunctions:\n"
                                          "  list: {handler: app.handler}\n  create: {handler: app.handler}\n")
    push(session, path, "prod")  # no route left: the API goes, and with it both stages' mappings
    assert client.get_apis()["Items"] == []
    assert mappings(session) == {"api.example.com": []}  # the tool's dev domain went; theirs stays
