"""Node.js functions through the CLI and a real `lambdadeploy sandbox` server (issue #17's must-holds).

The sandbox runs them with this machine's Node.js 20, so they are nodejs20.x functions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from .conftest import Sandbox, run_cli

TUTORIALS = {
    # The three styles the old tutorials use, each with a smoke test that checks its answer.
    "succeed": ("index.js", """
        exports.handler = function (event, context) {
          console.log('remaining', context.getRemainingTimeInMillis() > 0);
          context.succeed({ statusCode: 200, style: 'context.succeed', name: event.name });
        };"""),
    "callback": ("index.js", """
        exports.handler = (event, context, callback) => {
          setTimeout(() => callback(null, { statusCode: 200, style: 'callback', name: event.name }), 10);
        };"""),
    "async": ("index.mjs", """
        export const handler = async (event) => ({ statusCode: 200, style: 'async', name: event.name });"""),
    "boom": ("index.js", """
        exports.handler = async (event) => {
          console.log('about to fail');
          throw new RangeError('kaput ' + event.name);
        };"""),
}


def write_functions(root: Path, functions: dict[str, tuple[str, str]]) -> None:
    for key, (file, code) in functions.items():
        (root / "functions" / key / file).parent.mkdir(parents=True, exist_ok=True)
        (root / "functions" / key / file).write_text(textwrap.dedent(code).lstrip())


def test_tutorial_handlers_pass_their_smoke_tests_and_a_throwing_one_moves_no_alias(
        tmp_path: Path, sandbox_server: Sandbox) -> None:
    write_functions(tmp_path, TUTORIALS)
    expects = {key: ("{statusCode: 200, name: Ada}" if key == "boom" else f"{{statusCode: 200, style: {style}}}")
               for key, style in (("succeed", "context.succeed"), ("callback", "callback"), ("async", "async"),
                                  ("boom", ""))}
    (tmp_path / "lambda.yaml").write_text("project: tut\ndefaults: {runtime: nodejs20.x, handler: index.handler}\n"
                                          "functions:\n" + "".join(
        f"  {key}:\n    test: {{payload: {{name: Ada}}, expect: {expect}}}\n" for key, expect in expects.items()))

    result = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)

    assert result.code == 1, result.stderr
    report = {f["function"]: f for f in json.loads(result.stdout)["functions"]}
    lam = sandbox_server.client("lambda")
    for key in ("succeed", "callback", "async"):
        assert report[key]["smoke"]["passed"] is True, report[key]
        assert lam.get_alias(FunctionName=f"tut-{key}", Name="dev")["FunctionVersion"] == "1"
    failed = report["boom"]["smoke"]
    assert failed["passed"] is False and failed["function_error"] == "Unhandled"
    assert (failed["error_type"], failed["error_message"]) == ("RangeError", "kaput Ada")
    assert report["boom"]["alias"]["moved"] is False
    with pytest.raises(ClientError, match="ResourceNotFound"):
        lam.get_alias(FunctionName="tut-boom", Name="dev")
    # The published version answers with the Node.js error document, its log with the runtime's lines.
    answer = lam.invoke(FunctionName="tut-boom", Qualifier="1", Payload=b'{"name": "Bo"}', LogType="Tail")
    document = json.loads(answer["Payload"].read())
    assert answer["FunctionError"] == "Unhandled" and set(document) == {"errorType", "errorMessage", "trace"}
    assert document["trace"][0] == "RangeError: kaput Bo"
    assert "\tERROR\tInvoke Error \t{" in result.stderr and "\tINFO\tabout to fail" in result.stderr


def test_a_python_and_a_node_function_push_in_one_command(tmp_path: Path, sandbox_server: Sandbox) -> None:
    write_functions(tmp_path, {"web": ("src/app.mjs", "export const handler = async (e) => ({ lang: 'node', n: e.n });"),
                               "worker": ("app.py", "def handler(event, context):\n    return {'lang': 'python', 'n': event['n']}\n")})
    (tmp_path / "lambda.yaml").write_text(textwrap.dedent("""
        project: mixed
        functions:
          web:
            runtime: nodejs20.x
            handler: src/app.handler
            test: {payload: {n: 1}, expect: {lang: node, n: 1}}
          worker:
            runtime: python3.11
            handler: app.handler
            test: {payload: {n: 2}, expect: {lang: python, n: 2}}
    """))

    result = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)

    assert result.code == 0, result.stderr
    lam = sandbox_server.client("lambda")
    assert lam.get_function(FunctionName="mixed-web")["Configuration"]["Runtime"] == "nodejs20.x"
    assert lam.get_function(FunctionName="mixed-worker")["Configuration"]["Runtime"] == "python3.11"
    for name in ("mixed-web", "mixed-worker"):
        assert lam.get_alias(FunctionName=name, Name="dev")["FunctionVersion"] == "1"
    again = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert again.code == 0 and all(not f["published"] for f in json.loads(again.stdout)["functions"])


def test_invoke_local_runs_a_node_function(tmp_path: Path) -> None:
    write_functions(tmp_path, {"hello": ("index.js", """
        exports.handler = (event, context, callback) => {
          console.log('hello', event.name);
          callback(null, { greeting: 'hi ' + event.name, fn: context.functionName });
        };""")})
    (tmp_path / "lambda.yaml").write_text("project: loc\nfunctions:\n  hello:\n    runtime: nodejs20.x\n"
                                          "    handler: index.handler\n    test: {payload: {name: Ada}}\n")
    result = run_cli(["invoke", "hello", "--local"], tmp_path)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "hi Ada", "fn": "loc-hello"}
    assert "\tINFO\thello Ada" in result.stderr and "REPORT RequestId:" in result.stderr


def test_init_scaffolds_a_node_project_that_tests_validates_and_pushes(tmp_path: Path, sandbox_server: Sandbox) -> None:
    created = run_cli(["init", "shop", "--runtime", "nodejs22.x", "--function", "orders"], tmp_path)
    assert created.code == 0, created.stderr
    root = tmp_path / "shop"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        ".github/workflows/deploy.yml", ".lambdaignore", "README.md", "events/orders.json",
        "functions/orders/index.mjs", "functions/orders/package.json", "lambda.yaml", "tests/orders.test.mjs"]
    assert "runtime: nodejs22.x" in (root / "lambda.yaml").read_text()
    assert 'node-version: "22"' in (root / ".github/workflows/deploy.yml").read_text()
    assert "node --test tests/*.test.mjs" in (root / ".github/workflows/deploy.yml").read_text()
    node = shutil.which("node")
    assert node is not None
    tests = subprocess.run([node, "--test", "tests/orders.test.mjs"], cwd=root, capture_output=True, text=True,
                           timeout=60)
    assert tests.returncode == 0 and "# pass 1" in tests.stdout, tests.stdout + tests.stderr
    validated = run_cli(["validate"], root)
    assert validated.code == 0 and "valid, 1 function(s)" in validated.stderr
    # This machine runs Node.js 20, and the sandbox runs exactly the runtime's version: push as nodejs20.x.
    (root / "lambda.yaml").write_text((root / "lambda.yaml").read_text().replace("nodejs22.x", "nodejs20.x"))
    pushed = run_cli(["--sandbox", "push", "--alias", "dev"], root, sandbox_server)
    assert pushed.code == 0, pushed.stdout + pushed.stderr
    assert "ok shop-orders  version 1 (published)  dev: (none) -> 1" in pushed.stdout
