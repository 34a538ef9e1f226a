"""Operator commands through the CLI and a sandbox server: init, plan, status, prune, logs, schema, --json."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from .conftest import Sandbox, run_cli

TWO_FUNCTIONS = textwrap.dedent('''
    project: {project}
    aliases: [dev, prod]
    functions:
      one: {{handler: app.handler, test: {{payload: {{}}}}}}
      two: {{handler: app.handler, memory: 256}}
''')


def two_function_project(root: Path, project: str, body: str = "return {'n': 1}") -> Path:
    for name in ("one", "two"):
        source = root / "functions" / name
        source.mkdir(parents=True, exist_ok=True)
        (source / "app.py").write_text(f"def handler(event, context):\n    print('ERROR something', flush=True)\n    {body}\n")
    (root / "lambda.yaml").write_text(TWO_FUNCTIONS.format(project=project))
    return root


def sandbox_state(sandbox: Sandbox, prefix: str) -> dict:
    """Everything a push could have written, for before/after comparisons."""
    client = sandbox.client("lambda")
    state = {}
    for fn in client.list_functions()["Functions"]:
        name = fn["FunctionName"]
        if not name.startswith(prefix):
            continue
        versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
        aliases = {a["Name"]: a["FunctionVersion"] for a in client.list_aliases(FunctionName=name)["Aliases"]}
        state[name] = (fn["CodeSha256"], fn["MemorySize"], versions, aliases)
    return state


def test_init_validate_push_untouched(tmp_path: Path, sandbox_server: Sandbox) -> None:
    created = run_cli(["init", "shop", "--function", "resize"], tmp_path)
    assert created.code == 0, created.stderr
    root = tmp_path / "shop"
    for path in ("lambda.yaml", "functions/resize/app.py", "events/resize.json", ".lambdaignore",
                 ".github/workflows/deploy.yml", "tests/test_resize.py", "README.md"):
        assert (root / path).is_file(), path
    assert "${{ secrets.AWS_DEPLOY_ROLE_ARN }}" in (root / ".github/workflows/deploy.yml").read_text()
    assert run_cli(["validate"], root).code == 0
    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], root, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    (fn,) = json.loads(pushed.stdout)["functions"]
    assert fn["name"] == "shop-resize" and fn["smoke"]["passed"]
    again = run_cli(["init", "shop"], tmp_path)
    assert again.code == 2 and "would overwrite" in again.stderr
    assert run_cli(["init", "shop", "--function", "resize", "--force"], tmp_path).code == 0


def test_plan_writes_nothing_and_lists_changes(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = two_function_project(tmp_path, "plan")
    before = sandbox_state(sandbox_server, "plan-")
    planned = run_cli(["--sandbox", "--json", "plan", "--alias", "dev", "--detailed-exitcode"], root, sandbox_server)
    assert planned.code == 3, planned.stderr
    document = json.loads(planned.stdout)
    assert [f["name"] for f in document["functions"]] == ["plan-one", "plan-two"]
    assert [step["kind"] for step in document["role"]] == ["create_role", "attach_role_policy"]
    assert [step["kind"] for step in document["functions"][0]["steps"]][:2] == ["create_function", "publish"]
    assert document["summary"]["add"] > 0 and document["summary"]["remove"] == 0
    assert sandbox_state(sandbox_server, "plan-") == before == {}
    iam_roles = [r["RoleName"] for r in sandbox_server.client("iam").list_roles()["Roles"]]
    assert "plan-lambda-exec" not in iam_roles

    assert run_cli(["--sandbox", "push", "--alias", "dev"], root, sandbox_server).code == 0
    after_push = sandbox_state(sandbox_server, "plan-")
    (root / "lambda.yaml").write_text(TWO_FUNCTIONS.format(project="plan").replace("memory: 256", "memory: 512"))
    changed = run_cli(["--sandbox", "plan", "--alias", "dev", "--detailed-exitcode"], root, sandbox_server)
    assert changed.code == 3
    assert "  ~ configuration\n      ~ MemorySize: 256 -> 512\n" in changed.stdout
    assert "~ alias dev: 1 -> (new)" in changed.stdout
    assert "plan-one: up to date" in changed.stdout and "Plan: 1 to add, 2 to change, 0 to remove, 1 to run." in changed.stdout
    assert sandbox_state(sandbox_server, "plan-") == after_push
    (root / "lambda.yaml").write_text(TWO_FUNCTIONS.format(project="plan"))
    clean = run_cli(["--sandbox", "plan", "--alias", "dev", "--detailed-exitcode"], root, sandbox_server)
    assert clean.code == 0 and clean.stdout.count("up to date") == 2
    assert "Plan: 0 to add, 0 to change, 0 to remove." in clean.stdout


def test_json_of_push_and_status_names_every_function(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = two_function_project(tmp_path, "json")
    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], root, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    names = {f["name"] for f in json.loads(pushed.stdout)["functions"]}
    assert names == {"json-one", "json-two"}
    status = run_cli(["--sandbox", "--json", "status"], root, sandbox_server)
    assert {f["name"] for f in json.loads(status.stdout)["functions"]} == names
    human = run_cli(["--sandbox", "status"], root, sandbox_server)
    assert "json-one: 1 version(s)" in human.stdout and "dev -> 1" in human.stdout


def test_prune_keeps_alias_versions(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = two_function_project(tmp_path, "prune", "return 1")
    assert run_cli(["--sandbox", "push", "--alias", "dev", "one"], root, sandbox_server).code == 0
    for n in range(2, 6):
        (root / "functions" / "one" / "app.py").write_text(f"def handler(event, context):\n    return {n}\n")
        if n == 3:
            assert run_cli(["--sandbox", "promote", "--from", "dev", "--to", "prod", "one"], root, sandbox_server).code == 0
        assert run_cli(["--sandbox", "push", "--alias", "dev", "one"], root, sandbox_server).code == 0
    client = sandbox_server.client("lambda")
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName="prune-one")["Versions"]][1:] == \
        ["1", "2", "3", "4", "5"]
    refused = run_cli(["--sandbox", "prune", "--keep", "1", "one"], root, sandbox_server)
    assert refused.code == 2 and "--yes" in refused.stderr
    pruned = run_cli(["--sandbox", "--json", "prune", "--keep", "1", "--yes", "one"], root, sandbox_server)
    assert pruned.code == 0, pruned.stderr
    assert json.loads(pruned.stdout)["deleted"] == {"one": ["1", "3", "4"]}
    remaining = [v["Version"] for v in client.list_versions_by_function(FunctionName="prune-one")["Versions"]][1:]
    assert remaining == ["2", "5"]  # prod -> 2, dev -> 5 (also the newest)


def test_logs_show_handler_output_and_report(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = two_function_project(tmp_path, "logs")
    assert run_cli(["--sandbox", "push", "--alias", "dev", "one"], root, sandbox_server).code == 0
    shown = run_cli(["--sandbox", "logs", "one", "--alias", "dev", "--since", "5m"], root, sandbox_server)
    assert shown.code == 0, shown.stderr
    assert "ERROR something" in shown.stdout and "REPORT" in shown.stdout and "MB used" in shown.stdout
    bad = run_cli(["--sandbox", "logs", "one", "--since", "yesterday"], root, sandbox_server)
    assert bad.code == 2 and "--since" in bad.stderr


def test_schema_is_json_schema(tmp_path: Path) -> None:
    result = run_cli(["schema"], tmp_path)
    schema = json.loads(result.stdout)
    assert schema["properties"]["functions"]["additionalProperties"]["properties"]["memory"]["maximum"] == 10240


def test_canary_through_the_cli(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = two_function_project(tmp_path, "can")
    assert run_cli(["--sandbox", "push", "--alias", "prod", "one"], root, sandbox_server).code == 0
    (root / "functions" / "one" / "app.py").write_text("def handler(event, context):\n    return 2\n")
    started = run_cli(["--sandbox", "--json", "push", "--alias", "prod", "one", "--canary", "10"], root, sandbox_server)
    assert started.code == 0, started.stderr
    (fn,) = json.loads(started.stdout)["functions"]
    assert fn["alias"]["canary_weight"] == 0.1 and fn["alias"]["moved"] is False
    status = run_cli(["--sandbox", "status", "one"], root, sandbox_server)
    assert "prod -> 1, 10% on version 2" in status.stdout
    finished = run_cli(["--sandbox", "push", "--alias", "prod", "one", "--finish"], root, sandbox_server)
    assert finished.code == 0 and "prod: 1 -> 2" in finished.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--watch", "5m"], "--watch and --alarm need --canary"),
    (["--canary", "10", "--watch", "soon"], "--watch 'soon' is not a duration"),
    (["--linear", "10"], "expected PERCENT/INTERVAL"),
    (["--linear", "10/1m", "--canary", "5"], "--linear STEP/INTERVAL replaces --canary"),
    (["--canary", "150"], "150"),
    (["--finish", "--canary", "10"], "--finish completes an existing canary"),
])
def test_bad_rollout_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    root = two_function_project(tmp_path, "badopt")
    result = run_cli(["push", "--alias", "prod", *args], root)
    assert result.code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_plan_of_a_changed_function_and_trigger_is_structured(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """`plan --json` carries typed steps; the human plan marks them + ~ - with the fields that change."""
    root = two_function_project(tmp_path, "shape")
    (root / "lambda.yaml").write_text(TWO_FUNCTIONS.format(project="shape").replace(
        "two: {handler: app.handler, memory: 256}",
        "two:\n    handler: app.handler\n    memory: 256\n    triggers: [{schedule: {expression: 'rate(1 hour)', alias: dev}}]"))
    assert run_cli(["--sandbox", "push", "--alias", "dev"], root, sandbox_server).code == 0
    (root / "lambda.yaml").write_text((root / "lambda.yaml").read_text().replace("memory: 256", "memory: 512")
                                      .replace("rate(1 hour)", "rate(2 hours)"))
    planned = run_cli(["--sandbox", "--json", "plan", "--alias", "dev"], root, sandbox_server)
    assert planned.code == 0, planned.stderr
    (one, two) = json.loads(planned.stdout)["functions"]
    assert one["steps"] == []
    kinds = [step["kind"] for step in two["steps"]]
    assert kinds[:4] == ["update_config", "publish", "smoke", "move_alias"], kinds
    assert two["steps"][0]["changes"] == [{"field": "MemorySize", "old": 256, "new": 512}]
    wiring = [(s["kind"], s.get("trigger"), s["marker"]) for s in two["steps"][4:]]
    assert wiring == [("permission", "schedule", "+"), ("trigger", "schedule", "+"), ("trigger", "schedule", "-"),
                      ("permission", "schedule", "-")]
    human = run_cli(["--sandbox", "plan", "--alias", "dev"], root, sandbox_server).stdout
    assert "shape-two (3 to add, 2 to change, 2 to remove):" in human
    assert "      ~ MemorySize: 256 -> 512\n" in human
    assert "  + trigger schedule rule lambdadeploy-shape-two-dev-" in human and "schedule rate(2 hours)" in human
    assert "  - trigger schedule rule lambdadeploy-shape-two-dev-" in human
    assert human.rstrip().endswith("Plan: 3 to add, 2 to change, 2 to remove, 1 to run.")
