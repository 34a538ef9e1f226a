"""HTTP APIs against moto: two functions share one API; push dev and prod; what a boto3 client
sees (API, stages, routes, integrations, invoke permissions); a second push changes nothing;
a removed route goes and only it; what others made on a shared API stays; the sandbox's
local serving of a stage URL runs the alias, behind the sandbox's front door."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client

from lambdadeploy.aws import AwsSession
from lambdadeploy.config import load
from lambdadeploy.engine.status import read_status
from lambdadeploy.engine.steps import SetPermission, WireTrigger
from lambdadeploy.local import http_apis
from lambdadeploy.local.credentials import SandboxCredentials
from lambdadeploy.local.guard import Guard, KeyRing
from lambdadeploy.local.timing import Clock, timing_named

from .conftest import push_alias

HANDLER = """\
import json
def handler(event, context):
    request = event.get("requestContext", {})
    return {"statusCode": 201 if request.get("http", {}).get("method") == "POST" else 200,
            "headers": {"x-fn": FN},
            "body": json.dumps({"alias": context.invoked_function_arn.rsplit(":", 1)[1], "route": event.get("routeKey"),
                                "path": event.get("pathParameters"), "query": event.get("queryStringParameters"),
                                "claims": request.get("authorizer")})}
"""
ISSUER = "https://issuer.example.com/"
CONFIG = """\
project: t
aliases: [dev, prod]
functions:
  list:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: [LIST_ROUTES], cors: {allow_origins: ["http://localhost:3000"]}}
  create:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: "POST /items", auth: {jwt: {issuer: "ISSUER", audience: [shop]}}}
"""


def write(root: Path, list_routes: str = '"GET /items", "GET /items/{id}"') -> Path:
    for name in ("list", "create"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text(HANDLER.replace("FN", repr(name)))
    (root / "lambda.yaml").write_text(CONFIG.replace("LIST_ROUTES", list_routes).replace("ISSUER", ISSUER))
    return root / "lambda.yaml"


def push(session: AwsSession, path: Path, alias: str) -> list[Any]:
    return push_alias(session, path, alias)


def wiring(reports: list[Any]) -> list[tuple[str, str, str]]:
    return sorted((r.function.key, s.step.change.action, s.step.change.resource) if isinstance(s.step, WireTrigger)
                  else (r.function.key, s.step.change.action, s.step.change.sid)
                  for r in reports for s in r.done if isinstance(s.step, WireTrigger | SetPermission))


def statements(session: AwsSession, function: str, alias: str) -> dict[str, str]:
    policy = json.loads(session.client("lambda").get_policy(FunctionName=function, Qualifier=alias)["Policy"])
    return {s["Sid"]: s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]
            if s["Sid"].startswith("lambdadeploy-http-") and s["Sid"].endswith(f"-{alias}")}


def the_api(session: AwsSession) -> dict[str, Any]:
    (api,) = session.client("apigatewayv2").get_apis()["Items"]
    return api


def routes(session: AwsSession, api_id: str) -> dict[str, dict[str, Any]]:
    return {r["RouteKey"]: r for r in session.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]}


def printed_urls(reports: list[Any]) -> dict[str, str]:
    """What push prints beside each trigger step: the URL a created stage or route answers at."""
    return {s.step.change.resource: s.detail for r in reports for s in r.done
            if isinstance(s.step, WireTrigger) and s.detail}


def test_two_functions_share_one_api_with_a_stage_per_alias(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path)
    dev = push(session, path, "dev")
    prod = push(session, path, "prod")

    client = session.client("apigatewayv2")
    api = the_api(session)
    api_id = api["ApiId"]
    assert (api["Name"], api["ProtocolType"], api["Tags"]) == ("shop", "HTTP", {"managed-by": "lambdadeploy"})
    assert api["CorsConfiguration"]["AllowOrigins"] == ["http://localhost:3000"]
    stages = {s["StageName"]: s for s in client.get_stages(ApiId=api_id)["Items"]}
    assert {name: (s["AutoDeploy"], s["StageVariables"]) for name, s in stages.items()} == {
        "dev": (True, {"lambdadeployAlias": "dev"}), "prod": (True, {"lambdadeployAlias": "prod"})}

    integrations = {i["IntegrationId"]: i for i in client.get_integrations(ApiId=api_id)["Items"]}
    assert len(integrations) == 2
    uri = {i["Description"].split(":")[0]: i["IntegrationUri"] for i in integrations.values()}
    account = session.account_id()
    assert uri["lambdadeploy-t-list"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:us-east-1:{account}:function:t-list:${{stageVariables.lambdadeployAlias}}/invocations")
    assert all((i["IntegrationType"], i["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0") for i in integrations.values())

    found = routes(session, api_id)
    assert sorted(found) == ["GET /items", "GET /items/{id}", "POST /items"]
    target = {key: integrations[r["Target"].removeprefix("integrations/")]["Description"].split(":")[0]
              for key, r in found.items()}
    assert target == {"GET /items": "lambdadeploy-t-list", "GET /items/{id}": "lambdadeploy-t-list",
                      "POST /items": "lambdadeploy-t-create"}
    assert found["POST /items"]["AuthorizationType"] == "JWT"
    authorizer = client.get_authorizer(ApiId=api_id, AuthorizerId=found["POST /items"]["AuthorizerId"])
    assert authorizer["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["shop"]}
    assert found["GET /items"]["AuthorizationType"] == "NONE"

    execute = f"arn:aws:execute-api:us-east-1:{account}:{api_id}"
    for alias in ("dev", "prod"):
        assert sorted(statements(session, "t-list", alias).values()) == [
            f"{execute}/{alias}/GET/items", f"{execute}/{alias}/GET/items/*"]
        assert list(statements(session, "t-create", alias).values()) == [f"{execute}/{alias}/POST/items"]

    # push printed the URL of each stage it made, and of the routes it made (shared: made by the first push)
    endpoint = api["ApiEndpoint"]
    assert printed_urls(dev) == {"api shop stage dev": f"{endpoint}/dev", "api shop route GET /items": f"{endpoint}/dev/items",
                                 "api shop route GET /items/{id}": f"{endpoint}/dev/items/{{id}}",
                                 "api shop route POST /items": f"{endpoint}/dev/items"}
    assert printed_urls(prod) == {"api shop stage prod": f"{endpoint}/prod"}

    # status shows each route with its URL, per alias
    status = read_status(session, load(path).functions[0])
    shown = sorted((w.alias, w.resource, w.detail, w.state) for w in status.triggers)
    assert shown == [(alias, f"api shop route {key}", f"{api['ApiEndpoint']}/{alias}{suffix}", None)
                     for alias in ("dev", "prod") for key, suffix in (("GET /items", "/items"),
                                                                       ("GET /items/{id}", "/items/{id}"))]


def test_a_second_push_changes_nothing_and_a_removed_route_goes_alone(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path)
    first = push(session, path, "dev")
    assert ("list", "create", "api shop route GET /items/{id}") in wiring(first)
    push(session, path, "prod")
    assert wiring(push(session, path, "dev")) == []
    assert wiring(push(session, path, "prod")) == []
    api_id = the_api(session)["ApiId"]
    before = routes(session, api_id)

    write(tmp_path, '"GET /items"')
    removed = wiring(push(session, path, "dev"))
    assert removed == [("list", "delete", "api shop permission dev/GET/items/*"),
                       ("list", "delete", "api shop route GET /items/{id}")]
    after = routes(session, api_id)
    assert sorted(after) == ["GET /items", "POST /items"]
    assert {k: (r["RouteId"], r["Target"]) for k, r in after.items()} == {
        k: (r["RouteId"], r["Target"]) for k, r in before.items() if k != "GET /items/{id}"}
    # prod's permission for the gone route goes with prod's next push; the route itself is gone for every stage
    assert wiring(push(session, path, "prod")) == [("list", "delete", "api shop permission prod/GET/items/*")]
    assert wiring(push(session, path, "dev")) == [] and wiring(push(session, path, "prod")) == []


def test_what_others_made_on_a_shared_api_stays_and_the_last_function_releases_it(
        session: AwsSession, tmp_path: Path) -> None:
    client = session.client("apigatewayv2")
    theirs = client.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]  # not the tool's: no managed-by tag
    mock = client.create_integration(ApiId=theirs, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                     IntegrationUri="https://example.com", PayloadFormatVersion="1.0")
    client.create_route(ApiId=theirs, RouteKey="GET /health", Target=f"integrations/{mock['IntegrationId']}")
    path = write(tmp_path)
    push(session, path, "dev")
    assert sorted(routes(session, theirs)) == ["GET /health", "GET /items", "GET /items/{id}", "POST /items"]

    (tmp_path / "lambda.yaml").write_text("project: t\naliases: [dev, prod]\nfunctions:\n"
                                          "  list: {handler: app.handler}\n  create: {handler: app.handler}\n")
    push(session, path, "dev")
    assert sorted(routes(session, theirs)) == ["GET /health"]
    assert [i["IntegrationId"] for i in client.get_integrations(ApiId=theirs)["Items"]] == [mock["IntegrationId"]]
    assert [s["StageName"] for s in client.get_stages(ApiId=theirs)["Items"]] == []  # the tool's dev stage went
    assert the_api(session)["ApiId"] == theirs  # their API stays
    assert statements_or_none(session, "t-list", "dev") == {}


def statements_or_none(session: AwsSession, function: str, alias: str) -> dict[str, str]:
    try:
        return statements(session, function, alias)
    except Exception:  # no policy at all
        return {}


def test_the_api_the_tool_made_is_deleted_when_no_route_is_left(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path)
    push(session, path, "dev")
    (tmp_path / "lambda.yaml").write_text("project: t\naliases: [dev, prod]\nfunctions:\n"
                                          "  list: {handler: app.handler}\n  create: {handler: app.handler}\n")
    push(session, path, "dev")
    assert session.client("apigatewayv2").get_apis()["Items"] == []


def token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


KEYS = KeyRing(SandboxCredentials.generate(), SandboxCredentials.generate("LDFN", with_token=True))


def guarded() -> Client:
    """The sandbox's front door (guard.py), with a stand-in for moto behind it."""
    return Client(Guard(lambda environ, start: (start("418 moto", []), [b"moto"])[1], KEYS, Clock(timing_named("off"))))


def signed(method: str, url: str, credentials: SandboxCredentials, service: str = "execute-api",
           body: bytes = b"") -> dict[str, str]:
    """The headers botocore's SigV4 signer adds for `credentials` (as awscurl or an SDK would)."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": "127.0.0.1"})
    SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
              service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


@pytest.fixture
def local_api(session: AwsSession, tmp_path: Path) -> tuple[Client, str]:
    path = write(tmp_path)
    push(session, path, "dev")
    push(session, path, "prod")
    return guarded(), f"/_api/{http_apis.token_for(KEYS.owner)}/{the_api(session)['ApiId']}"


def test_the_sandbox_serves_a_stage_url_through_the_alias_and_refuses_as_api_gateway(local_api: tuple[Client, str]) -> None:
    client, base = local_api
    answer = client.get(f"{base}/prod/items/42?tag=a&tag=b", headers={"Host": "127.0.0.1:4599"})
    assert (answer.status_code, answer.headers["x-fn"]) == (200, "list")
    assert json.loads(answer.get_data()) == {"alias": "prod", "route": "GET /items/{id}", "path": {"id": "42"},
                                 "query": {"tag": "a,b"}, "claims": None}
    assert json.loads(client.get(f"{base}/dev/items", headers={"Host": "localhost"}).get_data())["alias"] == "dev"
    # not under /_api/: an AWS call, which must be signed by the owner's keys (the URL's token is no key)
    assert client.get("/2015-03-31/functions", headers={"Host": "localhost"}).status_code == 403
    assert client.get("/2015-03-31/functions", headers=signed("GET", "http://127.0.0.1/2015-03-31/functions",
                                                              KEYS.owner, "lambda")).status_code == 418

    # where API Gateway refuses, the sandbox answers as it does
    host = {"Host": "localhost:4599"}
    assert client.get(f"{base}/dev/nothing", headers=host).get_json() == {"message": "Not Found"}
    assert client.get(f"{base}/qa/items", headers=host).status_code == 404
    assert client.post(f"{base}/dev/items", headers=host).status_code == 401  # JWT route, no token
    wrong = token({"iss": "https://other/", "aud": "shop", "exp": time.time() + 60})
    assert client.post(f"{base}/dev/items", headers={**host, "Authorization": f"Bearer {wrong}"}).status_code == 401
    good = token({"iss": ISSUER, "aud": "shop", "sub": "u1", "exp": time.time() + 60})
    created = client.post(f"{base}/dev/items", headers={**host, "Authorization": f"Bearer {good}"}, data=b"{}")
    assert created.status_code == 201
    assert json.loads(created.get_data())["claims"]["jwt"]["claims"]["sub"] == "u1"
    # API Gateway's 10 MB payload quota, before the function runs
    too_large = client.post(f"{base}/dev/items", headers={**host, "Authorization": f"Bearer {good}"},
                            data=b"x" * (10 * 1024 * 1024 + 1))
    assert (too_large.status_code, too_large.get_json()) == (413, {"message": "Request Entity Too Large"})
    # the owner-only front door: the URL's token, a loopback Host, no web page
    assert client.get(f"/_api/not-the-token/{base.rsplit('/', 1)[1]}/dev/items", headers=host).status_code == 403
    assert client.get(f"{base}/dev/items", headers={"Host": "attacker.example:4599"}).status_code == 403
    for browser in ({"Origin": "http://localhost:3000"}, {"Sec-Fetch-Site": "same-origin"}):
        refused = client.get(f"{base}/dev/items", headers={**host, **browser})
        assert refused.status_code == 403 and "web pages" in refused.get_json()["message"]


def test_the_url_token_is_made_from_the_owner_key_and_the_api_endpoint_carries_it(session: AwsSession,
                                                                                  tmp_path: Path) -> None:
    other = SandboxCredentials.generate()
    assert http_apis.token_for(KEYS.owner) == http_apis.token_for(KEYS.owner) != http_apis.token_for(other)
    assert len(http_apis.token_for(KEYS.owner)) >= 24  # 144 bits
    push(session, write(tmp_path), "dev")
    http_apis.install()
    http_apis.register("http://127.0.0.1:4599", http_apis.token_for(KEYS.owner))
    try:
        api = the_api(session)
        assert api["ApiEndpoint"] == f"http://127.0.0.1:4599/_api/{http_apis.token_for(KEYS.owner)}/{api['ApiId']}"
    finally:
        http_apis.unregister("http://127.0.0.1:4599")
    assert "execute-api" in the_api(session)["ApiEndpoint"]


def test_an_iam_route_needs_a_sigv4_signature_by_the_sandbox_keys(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace(f'auth: {{jwt: {{issuer: "{ISSUER}", audience: [shop]}}}}', "auth: iam"))
    push(session, path, "dev")
    client = guarded()
    route = f"/_api/{http_apis.token_for(KEYS.owner)}/{the_api(session)['ApiId']}/dev/items"
    url = f"http://127.0.0.1{route}"
    assert client.post(route, headers={"Host": "127.0.0.1"}, data=b"{}").status_code == 403
    forged = {"Host": "127.0.0.1", "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/execute-api/"
              "aws4_request, SignedHeaders=host, Signature=00", "X-Amz-Date": "20260101T000000Z"}
    assert client.post(route, headers=forged, data=b"{}").status_code == 403
    stranger = SandboxCredentials.generate()
    assert client.post(route, headers=signed("POST", url, stranger, body=b"{}"), data=b"{}").status_code == 403
    assert client.post(route, headers=signed("POST", url, KEYS.owner, "lambda", b"{}"), data=b"{}").status_code == 403
    for keys in (KEYS.owner, KEYS.functions):  # the owner, and code the sandbox runs
        answer = client.post(route, headers=signed("POST", url, keys, body=b"{}"), data=b"{}")
        assert answer.status_code == 201, answer.headers.get("x-lambdadeploy-reason")
        assert json.loads(answer.get_data())["claims"] == {"iam": {"accessKey": keys.access_key_id}}


def test_the_alias_permission_is_enforced(session: AwsSession, local_api: tuple[Client, str]) -> None:
    client, base = local_api
    host = {"Host": "127.0.0.1"}
    # without the alias's statement API Gateway cannot invoke it: 500, as on AWS
    for sid in statements(session, "t-list", "dev"):
        session.client("lambda").remove_permission(FunctionName="t-list", Qualifier="dev", StatementId=sid)
    refused = client.get(f"{base}/dev/items", headers=host)
    assert (refused.status_code, refused.get_json()) == (500, {"message": "Internal Server Error"})
    assert "no resource-policy statement" in refused.headers["x-lambdadeploy-reason"]
    assert client.get(f"{base}/prod/items", headers=host).status_code == 200



def test_a_route_moved_to_another_function_is_taken_over_in_one_push(session: AwsSession, tmp_path: Path) -> None:
    path = write(tmp_path)
    push(session, path, "dev")
    moved = CONFIG.replace("LIST_ROUTES", '"GET /items", "POST /items"').replace(
        'routes: "POST /items", auth: {jwt: {issuer: "ISSUER", audience: [shop]}}', 'routes: "DELETE /items"')
    (tmp_path / "lambda.yaml").write_text(moved)
    push(session, path, "dev")
    client = session.client("apigatewayv2")
    api_id = the_api(session)["ApiId"]
    owners = {i["IntegrationId"]: i["Description"].split(":")[0] for i in client.get_integrations(ApiId=api_id)["Items"]}
    found = routes(session, api_id)
    assert {k: owners[r["Target"].removeprefix("integrations/")] for k, r in found.items()} == {
        "GET /items": "lambdadeploy-t-list", "POST /items": "lambdadeploy-t-list", "DELETE /items": "lambdadeploy-t-create"}
    assert found["POST /items"]["AuthorizationType"] == "NONE"
    assert client.get_authorizers(ApiId=api_id)["Items"] == []  # create's JWT authorizer went with its last JWT route
    assert sorted(arn.split("/dev/")[1] for arn in statements(session, "t-list", "dev").values()) == [
        "GET/items", "POST/items"]
