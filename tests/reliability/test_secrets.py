"""Secret values never reach any output, and secret files never reach the zip."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

from ..e2e.conftest import Sandbox, run_cli

FROM_ENV = "tok-3f9a8b7c6d5e"
BY_NAME = "hunter2-not-from-env"
CONFIG = f"""project: sec
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    environment:
      API_TOKEN: "{{{{ env.SECRET_FROM_CI }}}}"
      DB_PASSWORD: {BY_NAME}
      PLAIN: visible-value
    test: {{payload: {{}}}}
"""


def test_secrets_are_masked_in_every_output(tmp_path: Path, sandbox_server: Sandbox) -> None:
    source = tmp_path / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text(
        "import os\n\ndef handler(event, context):\n"
        "    print('token is', os.environ['API_TOKEN'], 'password is', os.environ['DB_PASSWORD'])\n"
        "    return {'token': os.environ['API_TOKEN'], 'plain': os.environ['PLAIN']}\n"
    )
    (tmp_path / "lambda.yaml").write_text(CONFIG)
    env = {"SECRET_FROM_CI": FROM_ENV}
    commands = [
        ["--sandbox", "--json", "plan", "--alias", "dev"],
        ["--sandbox", "--json", "push", "--alias", "dev"],
        ["--sandbox", "push", "--alias", "dev"],
        ["--sandbox", "--json", "status"],
        ["--sandbox", "invoke", "fn", "--alias", "dev"],
        ["--sandbox", "--json", "invoke", "fn", "--alias", "dev"],
        ["--sandbox", "logs", "fn", "--since", "5m"],
        ["--sandbox", "--json", "logs", "fn", "--since", "5m"],
        ["validate", "--show"],
        ["--json", "validate"],
    ]
    outputs = []
    for command in commands:
        result = run_cli(command, tmp_path, sandbox_server, env=env)
        assert result.code == 0, (command, result.stderr)
        outputs.append((command, result.stdout + result.stderr))
    for command, text in outputs:
        assert FROM_ENV not in text, command
        assert BY_NAME not in text, command
    everything = "\n".join(text for _, text in outputs)
    assert "****" in everything and "visible-value" in everything
    # The function itself still got the real values.
    client = sandbox_server.client("lambda")
    variables = client.get_function_configuration(FunctionName="sec-fn")["Environment"]["Variables"]
    assert variables["API_TOKEN"] == FROM_ENV and variables["DB_PASSWORD"] == BY_NAME
    invoked = json.loads(client.invoke(FunctionName="sec-fn", Qualifier="dev")["Payload"].read())
    assert invoked["token"] == FROM_ENV


def test_secret_files_and_escaping_symlinks_never_reach_the_zip(tmp_path: Path) -> None:
    source = tmp_path / "functions" / "fn"
    (source / ".aws").mkdir(parents=True)
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    for secret in (".env", ".env.production", "deploy.pem", "id.key", ".aws/credentials"):
        (source / secret).write_text("SECRET=1\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    os.symlink(outside, source / "link.txt")
    (tmp_path / "lambda.yaml").write_text("functions:\n  fn: {handler: app.handler}\n")
    assert run_cli(["package", "--out", "dist"], tmp_path).code == 0
    names = zipfile.ZipFile(io.BytesIO((tmp_path / "dist" / "fn.zip").read_bytes())).namelist()
    assert names == ["app.py"]
