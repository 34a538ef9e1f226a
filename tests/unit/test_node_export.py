"""The SAM export and the CI user's policy cover Node.js functions (issue #17): the same
runtime, handler and package as `push`, a template that passes the SAM transform and cfn-lint,
and a policy scoped to the Node function like any other."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

from lambdadeploy.config import load
from lambdadeploy.export import CODE_DIR_NAME, write_export
from lambdadeploy.iam.ci_policy import ci_policy
from lambdadeploy.packaging import build_artifact

from .test_export import lint_all


@pytest.fixture
def mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "functions" / "web" / "src").mkdir(parents=True)
    (tmp_path / "functions" / "web" / "src" / "app.mjs").write_text("export const handler = async () => ({statusCode: 200});\n")
    (tmp_path / "functions" / "web" / "package.json").write_text('{"name": "web", "devDependencies": {"jest": "29"}}')
    (tmp_path / "functions" / "jobs").mkdir(parents=True)
    (tmp_path / "functions" / "jobs" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text(textwrap.dedent("""
        project: shop
        functions:
          web:
            runtime: nodejs22.x
            architecture: arm64
            handler: src/app.handler
            triggers:
              - url: {auth: NONE}
          jobs:
            runtime: python3.12
            handler: app.handler
    """))
    return load(tmp_path / "lambda.yaml")


def test_the_sam_export_carries_node_functions(mixed, tmp_path: Path) -> None:
    out = tmp_path / "deploy" / "template.yaml"
    template = yaml.safe_load(write_export(mixed, "dev", out))
    web = template["Resources"]["WebFunction"]["Properties"]
    assert (web["Runtime"], web["Handler"], web["Architectures"]) == ("nodejs22.x", "src/app.handler", ["arm64"])
    exported = next((tmp_path / "deploy" / CODE_DIR_NAME).glob("shop-web-*.zip"))
    assert zipfile.ZipFile(io.BytesIO(exported.read_bytes())).namelist() == ["package.json", "src/app.mjs"]
    assert exported.read_bytes() == build_artifact(mixed.functions[0]).zip_bytes  # what push would deploy
    assert lint_all(out) == []


def test_the_ci_policy_scopes_the_node_function_like_any_other(mixed) -> None:
    policy = ci_policy(mixed, "123456789012", "us-east-1")
    deploy = next(s for s in policy["Statement"] if s["Sid"] == "DeployFunctions")
    assert "arn:aws:lambda:us-east-1:123456789012:function:shop-web" in deploy["Resource"]
    assert "arn:aws:lambda:us-east-1:123456789012:function:shop-jobs" in deploy["Resource"]
