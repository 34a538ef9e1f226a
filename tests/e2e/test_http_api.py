"""HTTP APIs through the CLI and a real `lambdadeploy sandbox`: push prints each route's URL, the
smoke test sends an HTTP API event, `curl` (urllib here) against the printed URL runs the alias,
`status` lists the endpoints, and `invoke --http` builds the payload 2.0 event."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from .conftest import Sandbox, run_cli

HANDLER = """\
import json
def handler(event, context):
    alias = context.invoked_function_arn.rsplit(":", 1)[1]
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-alias": alias},
            "body": json.dumps({"route": event["routeKey"], "path": event["rawPath"],
                                "query": event.get("queryStringParameters"), "id": (event.get("pathParameters") or {}).get("id"),
                                "body": event.get("body")})}
"""
EVENT = {"version": "2.0", "routeKey": "GET /items", "rawPath": "/dev/items", "rawQueryString": "",
         "headers": {"accept": "*/*"}, "requestContext": {"http": {"method": "GET", "path": "/dev/items"},
                                                         "stage": "dev", "routeKey": "GET /items"},
         "isBase64Encoded": False}


def write(root: Path) -> None:
    (root / "functions" / "items").mkdir(parents=True)
    (root / "functions" / "items" / "app.py").write_text(HANDLER)
    (root / "events").mkdir()
    (root / "events" / "items.json").write_text(json.dumps(EVENT))
    (root / "lambda.yaml").write_text(
        "project: web\naliases: [dev, prod]\nfunctions:\n  items:\n    handler: app.handler\n"
        "    test: {payload: events/items.json, expect: {statusCode: 200, body: {route: GET /items}}}\n"
        '    triggers:\n      - http: {api: web, routes: ["GET /items", "GET /items/{id}", "POST /items"]}\n')


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_push_prints_the_local_url_and_a_request_to_it_runs_the_alias(tmp_path: Path, sandbox_server: Sandbox) -> None:
    write(tmp_path)
    pushed = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    assert "smoke passed" in pushed.stdout  # the HTTP API event of events/items.json, matched on its body
    urls = re.findall(r"route GET /items -> dev: auth NONE \((http://\S+)\)", pushed.stdout)
    assert len(urls) == 1, pushed.stdout
    url = urls[0]
    assert url.startswith(f"{sandbox_server.url}/_api/") and url.endswith("/dev/items")

    status, headers, body = fetch(url + "?tag=a&tag=b")
    assert (status, headers["x-alias"]) == (200, "dev")
    assert json.loads(body) == {"route": "GET /items", "path": "/dev/items", "query": {"tag": "a,b"}, "id": None,
                                "body": None}
    status, _, body = fetch(url + "/42")
    assert (status, json.loads(body)["id"]) == (200, "42")
    status, _, body = fetch(url, data=b"hello")
    assert (status, json.loads(body)["body"]) == (200, "hello")
    status, _, body = fetch(url.replace("/dev/items", "/dev/elsewhere"))
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    secret = url.split("/_api/", 1)[1].split("/", 1)[0]
    assert fetch(url.replace(secret, "guess"))[0] == 403
    assert fetch(url, headers={"Origin": "http://localhost:3000"})[0] == 403  # no web pages, as for every call
    assert fetch(url.replace("127.0.0.1", "localhost"))[0] == 200

    shown = run_cli(["--sandbox", "status"], tmp_path, sandbox_server)
    assert f"trigger http api web route GET /items: auth NONE ({url}) -> dev" in shown.stdout, shown.stdout

    again = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert again.code == 0 and "trigger http" not in again.stdout + again.stderr, again.stdout


def test_invoke_http_builds_the_payload_2_event(tmp_path: Path, sandbox_server: Sandbox) -> None:
    write(tmp_path)
    assert run_cli(["--sandbox", "push", "--alias", "prod"], tmp_path, sandbox_server).code == 0
    done = run_cli(["--sandbox", "invoke", "items", "--alias", "prod", "--http", "GET /items/7?x=1&x=2"],
                   tmp_path, sandbox_server)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout) == {"route": "GET /items/{id}", "path": "/prod/items/7", "query": {"x": "1,2"},
                                       "id": "7", "body": None}
    assert "HTTP 200" in done.stderr and "x-alias: prod" in done.stderr

    posted = run_cli(["--json", "invoke", "items", "--local", "--http", "POST /items", "-H", "Content-Type: text/plain",
                      "--payload", "-"], tmp_path, stdin="a body")
    document = json.loads(posted.stdout)
    assert document["http"]["status"] == 200
    assert json.loads(document["http"]["body"])["body"] == "a body"

    unmatched = run_cli(["invoke", "items", "--local", "--http", "DELETE /items"], tmp_path)
    assert unmatched.code == 0 and "no http route of the function matches 'DELETE /items'" in unmatched.stderr
    assert json.loads(unmatched.stdout)["route"] == "$default"
    for bad in (["--http", "GET items"], ["--http", "GET /items", "-H", "no colon"], ["-H", "A: b"]):
        refused = run_cli(["invoke", "items", "--local", *bad], tmp_path)
        assert refused.code == 2 and "Traceback" not in refused.stderr, refused.stderr


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


def test_a_custom_domain_is_created_mapped_and_shown_by_status_json(tmp_path: Path, sandbox_server: Sandbox) -> None:
    write(tmp_path)
    text = (tmp_path / "lambda.yaml").read_text().replace(
        '"POST /items"]}', f'"POST /items"], domains: {{dev: {{name: dev-api.example.com, certificate: "{CERT}", '
        'path: shop}}}')
    (tmp_path / "lambda.yaml").write_text(text)
    pushed = run_cli(["--sandbox", "--region", "us-east-1", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    assert "domain dev-api.example.com" in pushed.stdout and "https://dev-api.example.com/shop" in pushed.stdout

    shown = run_cli(["--sandbox", "--region", "us-east-1", "--json", "status"], tmp_path, sandbox_server)
    assert shown.code == 0, shown.stderr
    triggers = [t for fn in json.loads(shown.stdout)["functions"] for t in fn["triggers"]]
    (domain,) = [t for t in triggers if "domain" in t["resource"]]
    assert (domain["alias"], domain["resource"], domain["detail"]) == (
        "dev", "api web domain dev-api.example.com", "https://dev-api.example.com/shop")
    assert any(t["resource"] == "api web route GET /items" and "/_api/" in t["detail"] for t in triggers)

    again = run_cli(["--sandbox", "--region", "us-east-1", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert again.code == 0 and "domain" not in again.stdout, again.stdout
