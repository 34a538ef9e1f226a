"""Secret values never reach any output, and secret files never reach the zip.

README (Reliability): values rendered from `{{ env.X }}` and variables named like
`*SECRET*`, `*TOKEN*`, `*PASSWORD*`, `*KEY*` are masked as `****` in every output.
Each of ten distinct secrets is checked on its own in every output of every
command, so masking nine of them and printing the tenth fails.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

from ..e2e.conftest import Sandbox, run_cli

# From the environment, under names that look harmless: only the env rule masks these.
FROM_ENV_PLAIN = {"GREETING": "greet-7d1e0c", "DATABASE_URL": "dburl-91c4e2", "SENTRY_DSN": "dsn-0f3b77"}
# From the environment under a secret-looking name: both rules apply.
FROM_ENV_NAMED = {"API_TOKEN": "tok-3f9a8b7c6d5e"}
# Written in lambda.yaml: only the name rule masks these (STRIPE_KEY only through `*KEY*`).
BY_NAME = {
    "STRIPE_KEY": "sk-live-4c8e2a",
    "DB_PASSWORD": "hunter2-not-from-env",
    "CLIENT_SECRET": "cs-b7d9e1f3",
    "GITHUB_CREDENTIAL": "cred-a1b2c3d4",
    "PRIVATE_CERT": "priv-e5f6a7b8",
    "DB_PASSWD": "pw-c9d0e1f2",
}
SECRETS = {**FROM_ENV_PLAIN, **FROM_ENV_NAMED, **BY_NAME}
assert len(set(SECRETS.values())) == 10
CI_ENV = {f"CI_{name}": value for name, value in {**FROM_ENV_PLAIN, **FROM_ENV_NAMED}.items()}

ENVIRONMENT_LINES = "\n".join(
    [f'      {name}: "{{{{ env.CI_{name} }}}}"' for name in {**FROM_ENV_PLAIN, **FROM_ENV_NAMED}]
    + [f"      {name}: {value}" for name, value in BY_NAME.items()]
    + ["      PLAIN: visible-value"]
)
CONFIG = f"""project: sec
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    environment:
{ENVIRONMENT_LINES}
    test: {{payload: {{}}, expect: {{plain: visible-value}}}}
"""
NAMES = [*SECRETS, "PLAIN"]
HANDLER = f"""import os

NAMES = {NAMES!r}

def handler(event, context):
    for name in NAMES:
        print(name, "is", os.environ[name])
    return {{name.lower(): os.environ[name] for name in NAMES}}
"""
FAILING_HANDLER = f"""import os

NAMES = {NAMES!r}

def handler(event, context):
    raise RuntimeError("cannot connect with " + " ".join(os.environ[n] for n in NAMES))
"""


def make_project(root: Path) -> Path:
    source = root / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text(HANDLER)
    (root / "lambda.yaml").write_text(CONFIG)
    return root


def assert_no_secret(outputs: list[tuple[list[str], str]]) -> None:
    for command, text in outputs:
        for name, value in SECRETS.items():
            assert value not in text, f"{name}'s value printed by {command}"


def test_every_secret_is_masked_in_every_output(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path)
    commands = [
        ["--sandbox", "plan", "--alias", "dev"],
        ["--sandbox", "--json", "plan", "--alias", "dev"],
        ["--sandbox", "--json", "push", "--alias", "dev"],
        ["--sandbox", "push", "--alias", "dev"],
        ["--sandbox", "status"],
        ["--sandbox", "--json", "status"],
        ["--sandbox", "invoke", "fn", "--alias", "dev"],
        ["--sandbox", "--json", "invoke", "fn", "--alias", "dev"],
        ["invoke", "fn", "--local"],
        ["--sandbox", "logs", "fn", "--since", "5m"],
        ["--sandbox", "--json", "logs", "fn", "--since", "5m"],
        ["validate", "--show"],
        ["--json", "validate"],
    ]
    outputs: list[tuple[list[str], str]] = []
    results = {}
    for command in commands:
        result = run_cli(command, root, sandbox_server, env=CI_ENV)
        assert result.code == 0, (command, result.stderr)
        results[" ".join(command)] = result
        outputs.append((command, result.stdout + result.stderr))

    # An error path: the smoke invoke raises with every value in its message and log tail.
    (root / "functions" / "fn" / "app.py").write_text(FAILING_HANDLER)
    for command in (["--sandbox", "push", "--alias", "dev"], ["--sandbox", "--json", "push", "--alias", "dev"],
                    ["--sandbox", "invoke", "fn", "--version", "2"]):
        failed = run_cli(command, root, sandbox_server, env=CI_ENV)
        assert failed.code == 1, (command, failed.stderr)
        assert "RuntimeError: cannot connect with" in failed.stdout + failed.stderr
        outputs.append((command, failed.stdout + failed.stderr))

    assert_no_secret(outputs)
    # Each value is there, masked: not merely absent because nothing was printed.
    shown = results["validate --show"].stdout
    for name in SECRETS:
        assert f"{name}: ****" in shown, name
    assert "PLAIN: visible-value" in shown
    environment = json.loads(results["--json validate"].stdout)["config"]["functions"]["fn"]["environment"]
    assert environment == {**dict.fromkeys(SECRETS, "****"), "PLAIN": "visible-value"}
    returned = json.loads(results["--sandbox invoke fn --alias dev"].stdout)
    assert returned == {**{name.lower(): "****" for name in SECRETS}, "plain": "visible-value"}
    logs = results["--sandbox logs fn --since 5m"].stdout
    for name in SECRETS:
        assert f"{name} is ****" in logs, name

    # The function itself still got the real values.
    client = sandbox_server.client("lambda")
    variables = client.get_function_configuration(FunctionName="sec-fn")["Environment"]["Variables"]
    assert {name: variables[name] for name in SECRETS} == SECRETS
    invoked = json.loads(client.invoke(FunctionName="sec-fn", Qualifier="dev")["Payload"].read())
    assert invoked["greeting"] == SECRETS["GREETING"] and invoked["stripe_key"] == SECRETS["STRIPE_KEY"]


def test_invalid_config_error_is_masked(tmp_path: Path) -> None:
    """A value from the environment quoted in a config error is masked like any other output."""
    root = make_project(tmp_path)
    (root / "lambda.yaml").write_text(CONFIG.replace(
        "    handler: app.handler\n", '    handler: app.handler\n    timeout: "{{ env.CI_GREETING }}"\n'))
    result = run_cli(["validate"], root, env=CI_ENV)
    assert result.code == 2, result.stderr
    assert "functions.fn.timeout: must be a whole number of seconds, got '****'" in result.stderr
    assert_no_secret([(["validate"], result.stdout + result.stderr)])


def test_verbose_traceback_is_masked(tmp_path: Path) -> None:
    """-v adds the traceback; the error text in it is masked as the message is."""
    root = make_project(tmp_path)
    (root / "lambda.yaml").write_text(CONFIG.replace(
        "    handler: app.handler\n", '    handler: app.handler\n    timeout: "{{ env.CI_GREETING }}"\n'))
    result = run_cli(["-v", "validate"], root, env=CI_ENV)
    assert result.code == 2, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "lambdadeploy.errors.ConfigError: 1 error in configuration" in result.stderr
    assert "got '****'" in result.stderr
    assert_no_secret([(["-v", "validate"], result.stdout + result.stderr)])


SECRET_FILES = (".env", ".env.production", "deploy.pem", "id.key", ".aws/credentials", "id_rsa", "id_ed25519",
                ".ssh/id_rsa", ".netrc", ".npmrc", ".pypirc", "credentials.json")


def test_secret_files_and_escaping_symlinks_never_reach_the_zip(tmp_path: Path, sandbox_server: Sandbox) -> None:
    source = tmp_path / "functions" / "fn"
    (source / ".aws").mkdir(parents=True)
    (source / ".ssh").mkdir()
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    for secret in SECRET_FILES:
        (source / secret).write_text("SECRET=1\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    os.symlink(outside, source / "link.txt")
    (tmp_path / "lambda.yaml").write_text("functions:\n  fn: {handler: app.handler}\n")
    result = run_cli(["package", "--out", "dist"], tmp_path)
    assert result.code == 0
    names = zipfile.ZipFile(io.BytesIO((tmp_path / "dist" / "fn.zip").read_bytes())).namelist()
    assert names == ["app.py"]
    # The summary says what was left out, and how to ship one on purpose.
    left_out = [".aws/", ".env", ".env.production", ".netrc", ".npmrc", ".pypirc", ".ssh/", "credentials.json",
                "deploy.pem", "id.key", "id_ed25519", "id_rsa"]
    assert f"left out 12 secret file(s): {', '.join(left_out)} (to ship one on purpose, add `!NAME` to " \
           ".lambdaignore)" in result.stdout
    packaged = json.loads(run_cli(["--json", "package", "--out", "dist"], tmp_path).stdout)
    assert packaged["functions"][0]["left_out"] == left_out
    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert pushed.code == 0, pushed.stderr
    assert json.loads(pushed.stdout)["functions"][0]["package"]["left_out"] == left_out

    (source / ".lambdaignore").write_text("!id_rsa\n")
    assert run_cli(["package", "--out", "dist"], tmp_path).code == 0
    names = zipfile.ZipFile(io.BytesIO((tmp_path / "dist" / "fn.zip").read_bytes())).namelist()
    assert names == ["app.py", "id_rsa"]
