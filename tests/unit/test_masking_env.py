"""Values a lambda.yaml template reads from the environment are masked in all output,
whichever way the template reads them (env.NAME, env["NAME"] or env.get("NAME"))."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lambdadeploy.config import RenderContext, load


def test_values_read_with_env_get_are_secret_values_but_defaults_are_not(tmp_path: Path) -> None:
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = tmp_path / "lambda.yaml"
    path.write_text(textwrap.dedent("""
        functions:
          hello:
            handler: app.handler
            environment:
              DSN: "{{ env.get('DATABASE_URL') }}"
              REGION_NAME: "{{ env.get('NOT_SET', 'eu-west-1-default') }}"
              STAGE: "{{ env['STAGE_NAME'] }}"
    """).lstrip())
    env = {"DATABASE_URL": "postgres://app:s3cret-pw@db/app", "STAGE_NAME": "production"}
    project = load(path, RenderContext(alias="prod", env=env))
    assert dict(project.functions[0].environment) == {
        "DSN": "postgres://app:s3cret-pw@db/app", "REGION_NAME": "eu-west-1-default", "STAGE": "production"}
    assert project.secret_values == {"postgres://app:s3cret-pw@db/app", "production"}
