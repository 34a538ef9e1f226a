"""The whole deploy path through the CLI and a real `lambdadeploy sandbox` server,
checked with a separate boto3 client (SPEC sections 1, 5, 6; issue 2's must-holds)."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from .conftest import Sandbox, run_cli

HANDLER = textwrap.dedent('''
    import os

    CODE_VERSION = "{code_version}"

    def handler(event, context):
        print("adding", event["a"], "and", event["b"])
        return {{"statusCode": 200, "sum": event["a"] + event["b"], "code": CODE_VERSION,
                "greeting": os.environ["GREETING"]}}
''')

CONFIG = textwrap.dedent('''
    project: {project}
    aliases: [dev, prod]
    functions:
      adder:
        handler: app.handler
        environment: {{GREETING: hi}}
        test:
          payload: {{a: 2, b: 3}}
          expect: {{statusCode: 200, sum: 5}}
''')


def make_project(root: Path, project: str, code_version: str = "v1") -> Path:
    source = root / "functions" / "adder"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(HANDLER.format(code_version=code_version))
    (root / "lambda.yaml").write_text(CONFIG.format(project=project))
    return root


def push(root: Path, sandbox: Sandbox, *extra: str):
    return run_cli(["--sandbox", "--json", "push", "--alias", "dev", *extra], root, sandbox)


def alias_version(sandbox: Sandbox, name: str, alias: str) -> str:
    return sandbox.client("lambda").get_alias(FunctionName=name, Name=alias)["FunctionVersion"]


def published_versions(sandbox: Sandbox, name: str) -> list[str]:
    versions = sandbox.client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in versions if v["Version"] != "$LATEST"]


def test_push_repush_change_promote_rollback_invoke(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "flow")
    name = "flow-adder"

    first = push(root, sandbox_server)
    assert first.code == 0, first.stderr
    document = json.loads(first.stdout)
    (fn,) = document["functions"]
    assert (fn["version"], fn["published"], fn["uploaded"]) == ("1", True, True)
    assert fn["smoke"]["passed"] and fn["smoke"]["billed_duration_ms"] >= 1
    assert published_versions(sandbox_server, name) == ["1"]
    assert alias_version(sandbox_server, name, "dev") == "1"

    again = push(root, sandbox_server)
    assert again.code == 0, again.stderr
    (fn,) = json.loads(again.stdout)["functions"]
    assert (fn["published"], fn["uploaded"], fn["alias"]["moved"]) == (False, False, False)
    assert fn["steps"] == []
    assert published_versions(sandbox_server, name) == ["1"]

    make_project(tmp_path, "flow", code_version="v2")
    changed = push(root, sandbox_server)
    assert changed.code == 0, changed.stderr
    (fn,) = json.loads(changed.stdout)["functions"]
    assert (fn["version"], fn["alias"]["from"], fn["alias"]["to"]) == ("2", "1", "2")
    assert published_versions(sandbox_server, name) == ["1", "2"]
    assert alias_version(sandbox_server, name, "dev") == "2"
    assert "dev: 1 -> 2" in changed.stderr  # the human summary goes to stderr under --json

    promoted = run_cli(["--sandbox", "promote", "--from", "dev", "--to", "prod"], root, sandbox_server)
    assert promoted.code == 0, promoted.stderr
    assert alias_version(sandbox_server, name, "prod") == "2"

    rolled = run_cli(["--sandbox", "rollback", "--alias", "dev"], root, sandbox_server)
    assert rolled.code == 0, rolled.stderr
    assert alias_version(sandbox_server, name, "dev") == "1"
    assert alias_version(sandbox_server, name, "prod") == "2"

    (root / "event.json").write_text('{"a": 40, "b": 2}')
    invoked = run_cli(["--sandbox", "invoke", "adder", "--alias", "dev", "--payload", "event.json"], root, sandbox_server)
    assert invoked.code == 0, invoked.stderr
    result = json.loads(invoked.stdout)
    assert result == {"statusCode": 200, "sum": 42, "code": "v1", "greeting": "hi"}
    assert "adding 40 and 2" in invoked.stderr and "REPORT RequestId" in invoked.stderr

    from_stdin = run_cli(["--sandbox", "invoke", "adder", "--alias", "prod", "--payload", "-"], root,
                         sandbox_server, stdin='{"a": 1, "b": 1}')
    assert json.loads(from_stdin.stdout)["code"] == "v2" and json.loads(from_stdin.stdout)["sum"] == 2

    status = run_cli(["--sandbox", "--json", "status"], root, sandbox_server)
    assert status.code == 0, status.stderr
    (state,) = json.loads(status.stdout)["functions"]
    assert state["versions"] == ["1", "2"]
    assert state["aliases"]["dev"]["version"] == "1" and state["aliases"]["prod"]["version"] == "2"


def test_raising_handler_fails_push_and_moves_no_alias(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "boom")
    assert push(root, sandbox_server).code == 0
    source = root / "functions" / "adder" / "app.py"
    source.write_text("def handler(event, context):\n    print('about to fail')\n    raise ValueError('kaput')\n")

    failed = run_cli(["--sandbox", "push", "--alias", "dev"], root, sandbox_server)
    assert failed.code == 1
    assert "ValueError" in failed.stdout and "kaput" in failed.stdout
    assert "about to fail" in failed.stdout and "Traceback" in failed.stdout  # the log tail
    assert "Traceback" not in failed.stderr  # our own code did not crash
    assert alias_version(sandbox_server, "boom-adder", "dev") == "1"


def test_deployed_code_sha_equals_package_output(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "sha")
    packaged = run_cli(["package", "--out", "dist"], root)
    assert packaged.code == 0, packaged.stderr
    zip_bytes = (root / "dist" / "sha-adder.zip").read_bytes()
    assert push(root, sandbox_server).code == 0
    deployed = sandbox_server.client("lambda").get_function(FunctionName="sha-adder")["Configuration"]
    assert deployed["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def test_expectation_mismatch_fails_and_alias_stays(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "expect")
    assert push(root, sandbox_server).code == 0
    (root / "functions" / "adder" / "app.py").write_text(
        "def handler(event, context):\n    return {'statusCode': 500, 'sum': 5}\n")
    failed = push(root, sandbox_server)
    assert failed.code == 1
    (fn,) = json.loads(failed.stdout)["functions"]
    assert fn["smoke"]["passed"] is False and "statusCode" in fn["smoke"]["mismatch"]
    assert fn["alias"]["moved"] is False
    assert alias_version(sandbox_server, "expect-adder", "dev") == "1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["push"], "Missing option '--alias'"),
        (["push", "--alias", "qa"], "--alias 'qa' is not one of the aliases"),
        (["invoke", "nope"], "unknown function 'nope'"),
        (["-c", "missing.yaml", "validate"], "config file not found"),
        (["rollback", "--alias", "dev", "--to", "latest"], "is not a version number"),
    ],
)
def test_bad_cli_input_exits_2_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    root = make_project(tmp_path, "bad")
    result = run_cli(args, root)
    assert result.code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_config_exits_2_naming_file_line_field(tmp_path: Path) -> None:
    root = make_project(tmp_path, "cfg")
    (root / "lambda.yaml").write_text("functions:\n  adder:\n    handler: app.handler\n    memory: 99999\n")
    result = run_cli(["--sandbox", "push", "--alias", "dev"], root)
    assert result.code == 2
    assert "lambda.yaml:4: functions.adder.memory: 99999 is out of range (allowed: 128..10240 MB)" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_payload_is_invalid_input(tmp_path: Path) -> None:
    root = make_project(tmp_path, "payload")
    (root / "bad.json").write_text("{nope")
    result = run_cli(["invoke", "adder", "--local", "--payload", "bad.json"], root)
    assert result.code == 2 and "not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_invoke_local_runs_the_handler_without_aws(tmp_path: Path) -> None:
    root = make_project(tmp_path, "local", code_version="local")
    result = run_cli(["invoke", "adder", "--local"], root)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["sum"] == 5 and json.loads(result.stdout)["code"] == "local"


def test_a_preflight_error_stops_push_with_exit_2_and_nothing_written(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """What AWS would refuse mid-push (S3 notifies only functions in its own region) is found
    before the first write, by the CLI a user runs: exit 2, the finding in text and JSON."""
    sandbox_server.client("s3").create_bucket(Bucket="e2e-faraway", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})
    root = make_project(tmp_path, "e2epre")
    config = root / "lambda.yaml"
    config.write_text(config.read_text() + "    triggers: [{s3: {bucket: e2e-faraway, alias: dev}}]\n")
    result = push(root, sandbox_server)
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "bucket e2e-faraway is in eu-west-1" in result.stderr
    document = json.loads(result.stdout)
    assert [f["level"] for f in document["findings"]] == ["error"]
    assert "e2e-faraway" in document["findings"][0]["message"]
    functions = sandbox_server.client("lambda").list_functions()["Functions"]
    assert not [f for f in functions if f["FunctionName"].startswith("e2epre-")]
