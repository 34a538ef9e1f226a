"""Issue 16's shared code and project layers, through the CLI and a real `lambdadeploy sandbox`
server, checked with a separate boto3 client: functions importing shared/ via include:, a layer
built from the project (its own code and a requirement) imported by a smoke test, an unchanged
push that publishes nothing, `source: .` with a handler in a subfolder, prune of layer versions,
invoke and logs without a function name, promote --skip-smoke."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from ..unit.packaging_support import make_wheel
from .conftest import Sandbox, run_cli

SHARED_HANDLER = textwrap.dedent('''
    from shared import db
    import helpers
    import tinylib

    def handler(event, context):
        return {{"statusCode": 200, "who": "{name}", "table": db.TABLE, "helper": helpers.NAME,
                "lib": tinylib.VALUE}}
''')

CONFIG = textwrap.dedent('''
    project: {project}
    aliases: [dev, prod]
    defaults:
      layers: [common, deps]
    functions:
      orders:
        handler: app.handler
        include: [../../shared]
        test: {{payload: {{}}, expect: {{who: orders, table: {table}, helper: {helper}, lib: 7}}}}
      users:
        handler: app.handler
        include: [{{from: ../../shared, to: shared}}]
        test: {{payload: {{}}, expect: {{who: users, table: {table}, helper: {helper}, lib: 7}}}}
    layers:
      common: {{source: layers/common, description: shared helpers}}
      deps: {{requirements: layers/deps/requirements.txt}}
''')


def make_project(root: Path, project: str, table: str = "orders", helper: str = "v1") -> None:
    for name in ("orders", "users"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text(SHARED_HANDLER.format(name=name))
    (root / "shared").mkdir(exist_ok=True)
    (root / "shared" / "__init__.py").write_text("")
    (root / "shared" / "db.py").write_text(f"TABLE = {table!r}\n")
    (root / "layers" / "common").mkdir(parents=True, exist_ok=True)
    (root / "layers" / "common" / "helpers.py").write_text(f"NAME = {helper!r}\n")
    (root / "layers" / "deps").mkdir(parents=True, exist_ok=True)
    if not (root / "wheels").is_dir():  # built once: a rebuilt wheel is other bytes (zip times), a new install
        make_wheel(root / "wheels", "tinylib", {"tinylib/__init__.py": "VALUE = 7\n"})
    (root / "layers" / "deps" / "requirements.txt").write_text("../../wheels/tinylib-1.0-py3-none-any.whl\n")
    (root / "lambda.yaml").write_text(CONFIG.format(project=project, table=table, helper=helper))


OFFLINE = {"UV_OFFLINE": "1", "PIP_NO_INDEX": "1"}


def push(root: Path, sandbox: Sandbox, *extra: str) -> dict:
    result = run_cli(["--sandbox", "--json", "push", "--alias", "dev", *extra], root, sandbox,
                     env={**OFFLINE, "UV_CACHE_DIR": str(root / ".uv-cache")})
    assert result.code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def layer_versions(sandbox: Sandbox, name: str) -> list[int]:
    return sorted(v["Version"] for v in sandbox.client("lambda").list_layer_versions(LayerName=name)["LayerVersions"])


def test_shared_code_and_project_layers_pass_their_smoke_tests(tmp_path: Path, sandbox_server: Sandbox) -> None:
    make_project(tmp_path, "sh")
    first = push(tmp_path, sandbox_server)
    assert {(f["function"], f["version"], f["smoke"]["passed"]) for f in first["functions"]} == {
        ("orders", "1", True), ("users", "1", True)}
    assert [(layer["layer"], layer["published"]) for layer in first["layers"]] == [("common", True), ("deps", True)]
    assert layer_versions(sandbox_server, "sh-common") == [1] and layer_versions(sandbox_server, "sh-deps") == [1]
    lam = sandbox_server.client("lambda")
    response = lam.invoke(FunctionName="sh-users", Qualifier="dev", Payload=b"{}")
    assert json.loads(response["Payload"].read()) == {"statusCode": 200, "who": "users", "table": "orders",
                                                      "helper": "v1", "lib": 7}
    assert lam.get_layer_version(LayerName="sh-deps", VersionNumber=1)["CompatibleRuntimes"] == ["python3.12"]

    # A second push with nothing changed publishes nothing: no layer version, no function version.
    again = push(tmp_path, sandbox_server)
    assert [layer["published"] for layer in again["layers"]] == [False, False]
    assert [(f["published"], f["uploaded"], f["alias"]["outcome"]) for f in again["functions"]] == [
        (False, False, "unchanged"), (False, False, "unchanged")]
    assert layer_versions(sandbox_server, "sh-common") == [1] and layer_versions(sandbox_server, "sh-deps") == [1]

    # Shared code changed: both functions get new code; the layers stay.
    make_project(tmp_path, "sh", table="users")
    shared = push(tmp_path, sandbox_server)
    assert [(f["version"], f["uploaded"]) for f in shared["functions"]] == [("2", True), ("2", True)]
    assert [layer["published"] for layer in shared["layers"]] == [False, False]

    # The layer's code changed: one new layer version, new function versions with the same code.
    make_project(tmp_path, "sh", table="users", helper="v2")
    plan = run_cli(["--sandbox", "plan", "--alias", "dev"], tmp_path, sandbox_server, env=OFFLINE)
    assert "+ layer common: version (new) of sh-common (after version 1)" in plan.stdout
    assert "layer deps: up to date (1 of sh-deps)" in plan.stdout
    changed = push(tmp_path, sandbox_server)
    assert [(f["version"], f["uploaded"], f["smoke"]["passed"]) for f in changed["functions"]] == [
        ("3", False, True), ("3", False, True)]
    assert layer_versions(sandbox_server, "sh-common") == [1, 2]

    # prune: layer version 1 is used by no alias and no $LATEST any more.
    pruned = run_cli(["--sandbox", "--json", "prune", "--keep", "0", "--yes"], tmp_path, sandbox_server)
    assert pruned.code == 0, pruned.stderr
    assert json.loads(pruned.stdout)["deleted_layer_versions"] == {"common": [1]}
    assert layer_versions(sandbox_server, "sh-common") == [2] and layer_versions(sandbox_server, "sh-deps") == [1]


ROOT_CONFIG = textwrap.dedent('''
    project: {project}
    aliases: [dev, prod]
    functions:
      todos:
        source: .
        handler: todos/handler.lambda_handler
        test: {{payload: events/list.json, expect: {{statusCode: 200}}}}
''')


def test_source_dot_with_a_handler_in_a_subfolder_end_to_end(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """AWS's sample layout: lambda.yaml at the root, `todos/handler.lambda_handler`, events/; a
    `package --out dist` before the push must not end up in the deployed zip."""
    (tmp_path / "todos").mkdir()
    (tmp_path / "todos" / "__init__.py").write_text("")
    (tmp_path / "todos" / "store.py").write_text("ITEMS = ['milk']\n")
    (tmp_path / "todos" / "handler.py").write_text(
        "from todos import store\n\ndef lambda_handler(event, context):\n"
        "    return {'statusCode': 200, 'items': store.ITEMS}\n")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "list.json").write_text("{}")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_todos.py").write_text("def test():\n    pass\n")
    (tmp_path / ".lambdaignore").write_text("tests/\n")
    (tmp_path / "lambda.yaml").write_text(ROOT_CONFIG.format(project="td"))
    packaged = [run_cli(["--json", "package", "--out", "dist"], tmp_path) for _ in range(2)]
    first, second = (json.loads(p.stdout)["functions"][0] for p in packaged)
    assert first["sha256"] == second["sha256"] and first["files"] == 3  # the first zip is not in the second
    assert "left out dist/" in packaged[1].stderr and "left out lambda.yaml" in packaged[1].stderr

    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    (fn,) = json.loads(pushed.stdout)["functions"]
    assert fn["smoke"]["passed"] and fn["package"]["files"] == 3  # todos/__init__, handler, store
    lam = sandbox_server.client("lambda")
    assert lam.get_function_configuration(FunctionName="td-todos")["Handler"] == "todos/handler.lambda_handler"

    # One function: invoke and logs need no name.
    invoked = run_cli(["--sandbox", "--json", "invoke", "--alias", "dev"], tmp_path, sandbox_server)
    assert invoked.code == 0, invoked.stderr
    assert json.loads(invoked.stdout)["payload"] == {"statusCode": 200, "items": ["milk"]}
    logs = run_cli(["--sandbox", "--json", "logs", "--since", "10m"], tmp_path, sandbox_server)
    assert logs.code == 0 and json.loads(logs.stdout)["function"] == "todos"


def test_promote_skip_smoke_moves_without_invoking_and_says_so(tmp_path: Path, sandbox_server: Sandbox) -> None:
    (tmp_path / "functions" / "fn").mkdir(parents=True)
    (tmp_path / "functions" / "fn" / "app.py").write_text(
        "import os\n\ndef handler(event, context):\n"
        "    if context.invoked_function_arn.endswith(':prod'):\n        raise RuntimeError('prod smoke')\n"
        "    return {'ok': True}\n")
    (tmp_path / "lambda.yaml").write_text("project: ps\naliases: [dev, prod]\nfunctions:\n  fn: {handler: app.handler}\n")
    assert run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server).code == 0
    # The smoke test of promote invokes the version itself, so it passes; --skip-smoke runs none.
    promoted = run_cli(["--sandbox", "--json", "promote", "--from", "dev", "--to", "prod", "--skip-smoke"],
                       tmp_path, sandbox_server)
    assert promoted.code == 0, promoted.stderr
    (fn,) = json.loads(promoted.stdout)["functions"]
    assert fn["smoke"] is None and fn["smoke_skipped"] is True
    assert [s["kind"] for s in fn["steps"]][:1] == ["move_alias"]
    human = run_cli(["--sandbox", "promote", "--from", "dev", "--to", "prod", "--skip-smoke"], tmp_path, sandbox_server)
    assert "smoke SKIPPED (--skip-smoke)" in human.stdout
    alias = sandbox_server.client("lambda").get_alias(FunctionName="ps-fn", Name="prod")
    assert alias["FunctionVersion"] == "1" and "skipped" in alias["Description"]
    several = tmp_path / "two"
    (several / "functions" / "a").mkdir(parents=True)
    (several / "functions" / "a" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (several / "lambda.yaml").write_text("functions:\n  a: {handler: app.handler}\n  b: {handler: app.handler, "
                                         "source: functions/a}\n")
    refused = run_cli(["--sandbox", "invoke"], several, sandbox_server)
    assert refused.code == 2 and "invoke needs a function name" in refused.stderr
