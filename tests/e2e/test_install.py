"""The light install (#19): `pip install .` into a fresh venv brings only what deploying needs
(no moto, at most 15 packages), deploys to an AWS-compatible endpoint as it is, and answers
--sandbox with exit 2 and the command that installs the sandbox extra.

One venv per run, made without pip's own seed (`--without-pip`, driven by this interpreter's
pip through `--python`), so what it holds is exactly what `pip install .` brought; pip's
cache makes the install take seconds once warm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CliResult, Sandbox, cli_environment

REPO = Path(__file__).resolve().parents[2]
HINT = "error: the sandbox is not installed: pip install 'lambdadeploy[sandbox]'\n"
CORE_LIMIT = 15

pytestmark = pytest.mark.network  # a cold pip cache downloads the core's wheels


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = tmp_path_factory.mktemp("core") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(REPO)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    yield venv


def installed(venv: Path) -> dict[str, str]:
    listing = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "list",
                              "--format=json"], capture_output=True, text=True, check=True)
    return {p["name"].lower(): p["version"] for p in json.loads(listing.stdout)}


def run_core(venv: Path, args: list[str], cwd: Path, sandbox: Sandbox | None = None) -> CliResult:
    # --endpoint-url to a sandbox server: sign with the keys only it accepts, as any AWS client would.
    environment = cli_environment(cwd, sandbox, sandbox.credentials.environment() if sandbox else None)
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    process = subprocess.run([str(venv / "bin" / "lambdadeploy"), *args], cwd=cwd, env=environment,
                             capture_output=True, text=True, timeout=300)
    return CliResult(process.returncode, process.stdout, process.stderr)


def project(root: Path) -> Path:
    (root / "functions" / "hello").mkdir(parents=True)
    (root / "functions" / "hello" / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (root / "lambda.yaml").write_text(
        "project: light\nfunctions:\n  hello:\n    handler: app.handler\n    test:\n      payload: {}\n"
        "      expect: {ok: true}\n")
    return root


def test_the_core_install_is_light_and_has_no_moto(core_venv: Path) -> None:
    packages = installed(core_venv)
    assert "lambdadeploy" in packages and "boto3" in packages and "uv" in packages
    assert not {"moto", "flask", "werkzeug", "cfn-lint", "docker"} & set(packages), sorted(packages)
    assert len(packages) <= CORE_LIMIT, sorted(packages)


def test_the_sandbox_without_its_extra_exits_2_with_the_install_command(core_venv: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_core(core_venv, ["--sandbox", "validate"], root)
    assert (result.code, result.stdout, result.stderr) == (2, "", HINT)
    as_json = run_core(core_venv, ["--json", "--sandbox", "validate"], root)
    document = json.loads(as_json.stdout)
    assert as_json.code == 2 and document["ok"] is False and "lambdadeploy[sandbox]" in as_json.stdout
    served = run_core(core_venv, ["sandbox", "--port", "45992"], root)
    assert (served.code, served.stderr) == (2, HINT)


def test_the_core_install_deploys_to_an_endpoint(core_venv: Path, tmp_path: Path, sandbox_server: Sandbox) -> None:
    """Everything but the sandbox works without the extra: here a push to an AWS-compatible
    endpoint (a sandbox server run by the test's own interpreter), smoke test included."""
    root = project(tmp_path)
    result = run_core(core_venv, ["--endpoint-url", sandbox_server.url, "push", "--alias", "dev"], root,
                      sandbox_server)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok light-hello  version 1 (published)  dev: (none) -> 1"), result.stdout
