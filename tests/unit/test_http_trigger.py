"""The http trigger without AWS: settings as validate checks them, routes claimed across functions
and aliases, API Gateway's route selection, the execute-api ARN of a permission, payload format
2.0 both ways, and the plan from an observation."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambdadeploy.config import load
from lambdadeploy.config.load import RenderContext
from lambdadeploy.errors import ConfigError
from lambdadeploy.triggers.base import PreflightItem, Target, short_hash
from lambdadeploy.triggers.http import HttpKind
from lambdadeploy.triggers.http_events import (
    Request,
    Routing,
    http_response,
    parse_request_line,
    request_event,
)
from lambdadeploy.triggers.http_settings import match_route, route_problem, source_arn
from lambdadeploy.triggers.http_state import ApiState, HttpState, RouteState
from lambdadeploy.triggers.registry import make_trigger


def project(root: Path, functions: str, aliases: str = "[dev, prod]") -> Path:
    for name in ("list", "create", "other"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = root / "lambda.yaml"
    path.write_text(f"project: t\naliases: {aliases}\nfunctions:\n{functions}")
    return path


SHARED = """\
  list:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: ["GET /items", "POST /items"]}
  create:
    handler: app.handler
    triggers:
      - http:
          api: shop
          routes: ["POST /items"]
"""


def test_a_route_claimed_by_two_functions_is_exit_2_at_validate_with_both_lines(tmp_path: Path) -> None:
    path = project(tmp_path, SHARED)
    done = subprocess.run([sys.executable, "-m", "lambdadeploy", "-c", str(path), "validate"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert (f"{path}:11: functions.create.triggers.0.http.routes: route POST /items of api shop is also claimed by "
            "functions.list.triggers.0.http (line 7): a route invokes one function") in done.stderr
    assert "Traceback" not in done.stderr


def test_the_same_route_on_two_apis_or_on_one_api_per_alias_is_fine(tmp_path: Path) -> None:
    two_apis = SHARED.replace("api: shop\n", "api: admin\n")
    assert len(load(project(tmp_path, two_apis)).functions) == 2
    per_alias = SHARED.replace("api: shop, routes", 'api: "shop-{{ alias }}", routes').replace("api: shop\n", "api: admin\n")
    assert len(load(project(tmp_path, per_alias)).functions) == 2


def test_routes_that_differ_between_aliases_on_one_api_are_refused(tmp_path: Path) -> None:
    functions = """\
  list:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: ["GET /items"]}
      - http: {api: shop, routes: ["GET /admin"], alias: prod}
"""
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions), RenderContext(alias="dev"))
    (issue,) = caught.value.issues
    assert issue.field == "functions.list.triggers.0.http" and issue.line == 7
    assert "api shop differ between aliases (for dev: GET /items; for prod: GET /admin, GET /items)" in issue.message
    assert 'api: "shop-{{ alias }}"' in (issue.hint or "")
    # an API for prod alone is fine: dev has no routes on it to disagree
    alone = functions.replace('      - http: {api: shop, routes: ["GET /items"]}\n', "")
    assert load(project(tmp_path, alone), RenderContext(alias="dev")).functions[0].triggers[0].alias == "prod"


def test_cors_that_differs_between_functions_of_one_api_is_refused(tmp_path: Path) -> None:
    functions = SHARED.replace('"POST /items"]}', '"DELETE /items"], cors: true}').replace(
        "          routes: [\"POST /items\"]\n", "          routes: [\"POST /items\"]\n          cors: {allow_origins: [https://a.example]}\n")
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions))
    (issue,) = caught.value.issues
    assert issue.field == "functions.create.triggers.0.http.cors"
    assert "the CORS of api shop differs from functions.list.triggers.0.http (line 7)" in issue.message


@pytest.mark.parametrize(("settings", "field", "message"), [
    ({"api": "shop", "routes": ["FETCH /items"]}, "routes.0", "'FETCH' is not a method"),
    ({"api": "shop", "routes": ["GET items"]}, "routes.0", "the path must start with /"),
    ({"api": "shop", "routes": ["GET /items?x=1"]}, "routes.0", "no query string"),
    ({"api": "shop", "routes": ["GET /{proxy+}/more"]}, "routes.0", "must be the last segment"),
    ({"api": "shop", "routes": ["GET /items/{id}.json"]}, "routes.0", "neither text nor a whole {parameter}"),
    ({"api": "shop", "routes": ["GET /a/{id}/{id}"]}, "routes.0", "appears twice"),
    ({"api": "shop", "routes": ["GET /a", "GET  /a"]}, "routes", "route GET /a is listed twice"),
    ({"api": "shop", "routes": []}, "routes", "needs at least 1 item"),
    ({"api": "my shop", "routes": ["GET /"]}, "api", "invalid API name"),
    ({"api": "shop", "routes": ["GET /"], "auth": "cognito"}, "auth", "auth must be none, iam or {jwt"),
    ({"api": "shop", "routes": ["GET /"], "auth": {"jwt": {"issuer": "http://x", "audience": ["a"]}}},
     "auth.jwt.issuer", "https:// URL"),
    ({"api": "shop", "routes": ["GET /"], "auth": {"jwt": {"issuer": "https://x", "audience": []}}},
     "auth.jwt.audience", "at least one"),
])
def test_settings_are_checked_at_their_field(tmp_path: Path, settings: dict, field: str, message: str) -> None:
    functions = f"  list:\n    handler: app.handler\n    triggers:\n      - http: {json.dumps(settings)}\n"
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions))
    (issue,) = caught.value.issues
    assert issue.field == f"functions.list.triggers.0.http.{field}" and issue.line == 7
    assert message in issue.message


def test_settings_are_normalised() -> None:
    trigger = make_trigger("http", {"api": "shop", "routes": "GET  /items", "auth": {
        "jwt": {"issuer": "https://i/", "audience": "b", "scopes": ["w", "r", "w"]}}, "cors": False})
    assert trigger.settings.routes == ("GET /items",)
    assert (trigger.settings.auth.type, trigger.settings.auth.audience, trigger.settings.auth.scopes) == (
        "JWT", ("b",), ("r", "w"))
    assert trigger.settings.cors is False
    assert make_trigger("http", {"api": "shop", "routes": ["$default"], "auth": "iam"}).settings.auth.type == "AWS_IAM"
    assert route_problem("ANY /{proxy+}") is None and route_problem("GET /") is None


def test_route_selection_follows_api_gateway() -> None:
    keys = ["GET /items", "GET /items/{id}", "ANY /items/{id}", "GET /{proxy+}", "POST /items", "$default"]
    assert match_route(keys, "GET", "/items") == ("GET /items", {})
    assert match_route(keys, "GET", "/items/7") == ("GET /items/{id}", {"id": "7"})
    assert match_route(keys, "DELETE", "/items/7") == ("ANY /items/{id}", {"id": "7"})
    assert match_route(keys, "GET", "/a/b/c") == ("GET /{proxy+}", {"proxy": "a/b/c"})
    assert match_route(keys, "PUT", "/elsewhere") == ("$default", {})
    assert match_route(["GET /items"], "PUT", "/items") is None
    assert match_route(["GET /items/{id}"], "GET", "/items/") is None  # an empty segment is no parameter


def test_the_permission_names_the_api_stage_method_and_path_with_parameters_as_stars() -> None:
    arn = source_arn("aws", "eu-west-1", "123456789012", "abc", "prod", "GET /items/{id}/tags/{tag}")
    assert arn == "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/items/*/tags/*"
    assert source_arn("aws", "r", "1", "abc", "dev", "ANY /{proxy+}").endswith("abc/dev/*/*")
    assert source_arn("aws", "r", "1", "abc", "dev", "$default").endswith("abc/dev/$default")


ROUTING = Routing("abc", "dev", "GET /items/{id}", "123456789012", "abc.execute-api.us-east-1.amazonaws.com",
                  {"id": "a%20b"}, {"lambdadeployAlias": "dev"})


def test_a_request_becomes_a_payload_2_event() -> None:
    request = Request("GET", "/items/a%20b", "x=1&x=2&y=", (("User-Agent", "curl/8"), ("X-Multi", "1"), ("X-Multi", "2"),
                                                           ("Cookie", "a=1; b=2")), b"")
    event = request_event(request, ROUTING, now=0)
    assert event["version"] == "2.0" and event["routeKey"] == "GET /items/{id}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/dev/items/a%20b", "x=1&x=2&y=")
    assert event["headers"] == {"user-agent": "curl/8", "x-multi": "1,2"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["pathParameters"] == {"id": "a b"}
    assert event["stageVariables"] == {"lambdadeployAlias": "dev"}
    assert event["requestContext"]["http"] == {"method": "GET", "path": "/dev/items/a%20b", "protocol": "HTTP/1.1",
                                               "sourceIp": "127.0.0.1", "userAgent": "curl/8"}
    assert (event["requestContext"]["stage"], event["requestContext"]["timeEpoch"]) == ("dev", 0)
    assert "body" not in event and event["isBase64Encoded"] is False


def test_a_binary_body_is_base64_and_text_is_not() -> None:
    binary = request_event(Request("POST", "/x", body=b"\xff\x00", headers=(("content-type", "image/png"),)), ROUTING)
    assert (binary["body"], binary["isBase64Encoded"]) == (base64.b64encode(b"\xff\x00").decode(), True)
    text = request_event(Request("POST", "/x", body=b'{"a": 1}', headers=(("content-type", "application/json"),)), ROUTING)
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)


def test_a_result_becomes_an_http_response() -> None:
    full = http_response(json.dumps({"statusCode": 404, "headers": {"X-A": "b"}, "cookies": ["s=1"],
                                     "body": "missing"}).encode())
    assert (full.status, full.headers, full.body) == (404, (("x-a", "b"), ("set-cookie", "s=1")), b"missing")
    encoded = http_response(json.dumps({"statusCode": 200, "isBase64Encoded": True,
                                        "body": base64.b64encode(b"\x01\x02").decode()}).encode())
    assert encoded.body == b"\x01\x02"
    inferred = http_response(b'{"ok": true}')  # no statusCode: 200, JSON, the result itself
    assert (inferred.status, inferred.headers, inferred.body) == (200, (("content-type", "application/json"),),
                                                                  b'{"ok": true}')
    assert http_response(b'"plain"').body == b'"plain"'


def test_request_lines() -> None:
    assert parse_request_line("get /items?x=1") == ("GET", "/items", "x=1")
    for wrong in ("GET", "GET items", "ANY /x", "FETCH /x", "GET /a /b"):
        with pytest.raises(ValueError):
            parse_request_line(wrong)


TARGET = Target("t-list", "dev", "arn:aws:lambda:us-east-1:123456789012:function:t-list:dev", exists=True)


def plan(triggers: list, state: HttpState) -> list[tuple[str, str, str]]:
    return [(s.action, s.params["op"], s.resource) for s in HttpKind().plan(TARGET, triggers, state)]


def test_a_first_plan_creates_the_api_stage_integration_permissions_and_routes() -> None:
    trigger = make_trigger("http", {"api": "shop", "routes": ["GET /items"], "cors": True})
    assert plan([trigger], HttpState()) == [
        ("create", "create_api", "api shop"), ("create", "create_stage", "api shop stage dev"),
        ("create", "create_integration", "api shop integration"),
        ("create", "add_permission", "api shop permission GET /items"),
        ("create", "create_route", "api shop route GET /items")]


def test_a_plan_changes_auth_in_place_and_leaves_others_routes() -> None:
    route = RouteState("GET /items", "r1", "i1", "t-list", "NONE")
    theirs = RouteState("GET /other", "r2", "i2", None, "NONE")
    api = ApiState("shop", "abc", "https://abc", True, stage={"StageName": "dev", "Tags": {"managed-by": "lambdadeploy"}},
                   integration="i1", routes=(route, theirs))
    sid = TARGET.sid("http-" + short_hash("shop", "GET /items"))
    state = HttpState({"shop": api}, {sid: "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/items"})
    same = make_trigger("http", {"api": "shop", "routes": ["GET /items"]})
    assert plan([same], state) == []
    iam = make_trigger("http", {"api": "shop", "routes": ["GET /items"], "auth": "iam"})
    (step,) = HttpKind().plan(TARGET, [iam], state)
    assert (step.params["op"], [(c.field, c.old, c.new) for c in step.changes]) == (
        "update_route", [("AuthorizationType", "NONE", "AWS_IAM")])
    # the API was recreated (another id): the permission is re-pointed
    moved = HttpState({"shop": api}, {sid: "arn:aws:execute-api:us-east-1:123456789012:old/dev/GET/items"})
    assert plan([same], moved) == [("update", "replace_permission", "api shop permission GET /items")]
    # no trigger: this function's route, integration and permission go, then the API if nothing is left
    assert plan([], state) == [("delete", "delete_route", "api shop route GET /items"),
                               ("delete", "delete_integration", "api shop integration"),
                               ("delete", "remove_permission", "api shop permission dev/GET/items"),
                               ("delete", "release", "api shop")]


def test_a_route_someone_else_holds_stops_the_push_at_preflight() -> None:
    theirs = RouteState("GET /items", "r2", "i2", None, "NONE")
    state = HttpState({"shop": ApiState("shop", "abc", "https://abc", False, routes=(theirs,))})
    trigger = make_trigger("http", {"api": "shop", "routes": ["GET /items"]})
    steps = tuple(HttpKind().plan(TARGET, [trigger], state))
    (problem,) = HttpKind().preflight([PreflightItem("t-list", "list", 3, TARGET, (trigger,), state, steps)], "us-east-1")
    assert "route GET /items of api shop already exists and is not lambdadeploy's" in problem.message
    twice = HttpState({"shop": ApiState("shop", ambiguous=2)})
    (problem,) = HttpKind().preflight([PreflightItem("t-list", "list", 3, TARGET, (trigger,), twice, ())], "us-east-1")
    assert problem.message.startswith("2 HTTP APIs are named shop")
    assert plan([trigger], twice) == []  # nothing planned on an API that cannot be told apart


def test_cors_that_differs_between_aliases_of_one_api_is_refused(tmp_path: Path) -> None:
    functions = ("  list:\n    handler: app.handler\n    triggers:\n"
                 '      - http: {api: shop, routes: ["GET /items"], cors: {allow_origins: ["https://{{ alias }}.example"]}}\n')
    with pytest.raises(ConfigError) as caught:
        load(project(tmp_path, functions), RenderContext(alias="dev"))
    (issue,) = caught.value.issues
    assert ("the CORS of api shop for alias prod differs from functions.list.triggers.0.http (line 7) for alias dev"
            in issue.message)
    per_alias = functions.replace("api: shop", 'api: "shop-{{ alias }}"')
    assert load(project(tmp_path, per_alias), RenderContext(alias="dev")).functions


def test_validate_show_writes_the_settings_back_as_the_file_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from lambdadeploy.cli import main

    jwt = '{jwt: {issuer: "https://i.example/", audience: [a], scopes: [r]}}'
    functions = (f"  list:\n    handler: app.handler\n    triggers:\n      - http: {{api: shop, routes: [GET /a], auth: {jwt}}}\n"
                 "      - http: {api: shop, routes: [GET /b], auth: iam, cors: false}\n")
    with pytest.raises(SystemExit) as exited:
        main(["-c", str(project(tmp_path, functions)), "validate", "--show"])
    assert exited.value.code in (0, None)
    shown = yaml.safe_load(capsys.readouterr().out)["functions"]["list"]["triggers"]
    assert [(t["routes"], t["auth"], t.get("cors")) for t in shown] == [
        (["GET /a"], {"jwt": {"issuer": "https://i.example/", "audience": ["a"], "scopes": ["r"]}}, None),
        (["GET /b"], "iam", False)]
