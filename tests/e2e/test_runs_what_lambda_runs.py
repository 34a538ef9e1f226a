"""The sandbox runs what Lambda runs, or says plainly why it cannot (#14): layers, the runtime's
own packages, the runtime's own Python, foreign native code and --smoke-arch host, through the
CLI against a `lambdadeploy sandbox` server (or the one --sandbox starts in the CLI itself)."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.runtimes import DependencySpec
from lambdadeploy.runtimes.python import PythonRuntime

from ..unit.native_support import FOREIGN, HOST, host_wheel, native_wheel
from ..unit.packaging_support import make_wheel
from .conftest import Sandbox, run_cli


def write_function(root: Path, key: str, code: str, settings: str) -> str:
    source = root / "functions" / key
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(textwrap.dedent(code))
    return f"  {key}:\n    handler: app.handler\n" + textwrap.indent(textwrap.dedent(settings).strip(), "    ") + "\n"


def write_config(root: Path, project: str, *functions: str) -> None:
    (root / "lambda.yaml").write_text(f"project: {project}\naliases: [dev]\nfunctions:\n" + "".join(functions))


def smoke_of(result: Any, key: str) -> dict[str, Any]:
    document = json.loads(result.stdout)
    return next(f for f in document["functions"] if f["function"] == key)["smoke"]


def layer_zip(tmp_path: Path) -> bytes:
    """A layer built the way a user would: a requirements file installed by the project's installer
    for python3.12 (a local wheel, so no index is needed), under python/."""
    wheel = make_wheel(tmp_path / "wheels", "layerdep", {"layerdep/__init__.py": "WHERE = 'the layer'\n"})
    requirements = tmp_path / "layer" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text(f"{wheel}\n")
    spec = DependencySpec(function="layer", manifest=requirements, runtime="python3.12", architecture="x86_64")
    site = PythonRuntime().install(spec, tmp_path / "cache", lambda message: None).site
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(site.rglob("*")):
            if path.is_file():
                archive.write(path, "python/" + path.relative_to(site).as_posix())
    return buffer.getvalue()


def test_a_layer_dependency_and_pkg_resources_on_python311_pass_their_smoke_tests(
    sandbox_server: Sandbox, tmp_path: Path
) -> None:
    layer = sandbox_server.client("lambda").publish_layer_version(
        LayerName="deps", Content={"ZipFile": layer_zip(tmp_path)}, CompatibleRuntimes=["python3.12"])
    layered = write_function(tmp_path, "layered", """
        import layerdep
        def handler(event, context):
            return {"from": layerdep.WHERE}
    """, f"""
        runtime: python3.12
        layers: ["{layer['LayerVersionArn']}"]
        test: {{payload: {{}}, expect: {{from: the layer}}}}
    """)
    # Like AWS's blank-python sample: boto3 and pkg_resources come with python3.9-3.11.
    blank = write_function(tmp_path, "blank", """
        import json, os
        import boto3
        import pkg_resources
        def handler(event, context):
            return {"setuptools": pkg_resources.get_distribution("setuptools").version,
                    "boto3": boto3.__version__}
    """, "runtime: python3.11")
    write_config(tmp_path, "runs", layered, blank)

    result = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)

    assert result.code == 0, result.stdout + result.stderr
    assert smoke_of(result, "layered")["passed"] and smoke_of(result, "blank")["passed"]
    code = sandbox_server.client("lambda").get_function(FunctionName="runs-layered")
    assert code["Configuration"]["Layers"][0]["Arn"] == layer["LayerVersionArn"]


def hidden_interpreters(tmp_path: Path) -> dict[str, str | None]:
    """An environment where no Python 3.14 can be found, whatever this machine has."""
    return {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(tmp_path / "no-pyenv"),
            "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-uv-pythons"), "VIRTUAL_ENV": None}


def test_a_runtime_whose_python_is_missing_fails_its_smoke_test_saying_how_to_get_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fn = write_function(tmp_path, "new", """
        import os
        def handler(event, context):
            open(os.environ["MARKER"], "w").write("ran")
            return {"ok": True}
    """, f"runtime: python3.14\nenvironment: {{MARKER: '{marker}'}}")
    write_config(tmp_path, "py314", fn)

    result = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, env=hidden_interpreters(tmp_path))

    output = result.stdout + result.stderr
    assert result.code == 1, output
    assert "Sandbox.RuntimeUnavailable: runtime python3.14 needs a Python 3.14 interpreter" in output
    assert "uv python install 3.14" in output
    assert "dev: (none) (not moved)" in output
    assert "Traceback" not in output
    assert not marker.exists()  # no other Python ran it


NATIVE_APP = """
import fakenative
def handler(event, context):
    return {"build": fakenative.BUILD, "version": fakenative.VERSION}
"""


def native_project(tmp_path: Path) -> dict[str, str | None]:
    """An arm64 function needing fakenative 1.0 (native); the offline index has it for arm64 and
    for this machine (and a 2.0 that must not be picked)."""
    links = tmp_path / "links"
    native_wheel(links, FOREIGN)
    host_wheel(links, "1.0")
    host_wheel(links, "2.0")
    fn = write_function(tmp_path, "thumbs", NATIVE_APP, f"architecture: {FOREIGN}\ntest: {{payload: {{}}}}")
    (tmp_path / "functions" / "thumbs" / "requirements.txt").write_text("fakenative==1.0\n")
    write_config(tmp_path, "native", fn)
    return {"UV_FIND_LINKS": str(links), "UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "uv-cache")}


def test_foreign_native_code_fails_plainly_and_smoke_arch_host_runs_a_labelled_host_build(tmp_path: Path) -> None:
    env = native_project(tmp_path)

    refused = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, env=env)
    output = refused.stdout + refused.stderr
    assert refused.code == 1, output
    assert (f"Sandbox.ForeignArchitecture: cannot run {FOREIGN} native code on this {HOST} machine: "
            f"fakenative/_speedups.so is built for {FOREIGN}") in output
    assert "--smoke-arch host" in output and "(not moved)" in output

    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev", "--smoke-arch", "host"], tmp_path, env=env)
    assert pushed.code == 0, pushed.stdout + pushed.stderr
    smoke = smoke_of(pushed, "thumbs")
    assert smoke["passed"] and smoke["host_build"] == HOST
    assert "smoke passed in" in pushed.stderr and f"(host {HOST} build)" in pushed.stderr

    local = run_cli(["--json", "invoke", "thumbs", "--local", "--smoke-arch", "host"], tmp_path, env=env)
    assert local.code == 0, local.stdout + local.stderr
    document = json.loads(local.stdout)
    assert document["payload"] == {"build": HOST, "version": "1.0"} and document["host_build"] == HOST
    assert f"ran a host {HOST} build" in local.stderr


def test_smoke_arch_host_is_refused_against_aws(tmp_path: Path) -> None:
    write_config(tmp_path, "native", write_function(tmp_path, "fn", NATIVE_APP, "architecture: arm64"))

    result = run_cli(["push", "--alias", "dev", "--smoke-arch", "host"], tmp_path)

    assert result.code == 2
    assert "--smoke-arch host applies to the sandbox" in result.stderr


@pytest.mark.network
def test_a_real_arm64_wheel_is_refused_and_smoke_tested_as_a_host_build(tmp_path: Path) -> None:
    fn = write_function(tmp_path, "escape", """
        import markupsafe
        from markupsafe import _speedups  # the native extension, not the pure-Python fallback
        def handler(event, context):
            return {"escaped": str(markupsafe.escape("<b>")), "native": _speedups.__file__.endswith(".so")}
    """, """
        runtime: python3.12
        architecture: arm64
        test: {payload: {}, expect: {escaped: "&lt;b&gt;", native: true}}
    """)
    (tmp_path / "functions" / "escape" / "requirements.txt").write_text("markupsafe==3.0.2\n")
    write_config(tmp_path, "real", fn)
    env = {"UV_CACHE_DIR": str(tmp_path / "uv-cache")}

    refused = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, env=env)
    assert refused.code == 1, refused.stdout + refused.stderr
    assert ("Sandbox.ForeignArchitecture: cannot run arm64 native code on this x86_64 machine: markupsafe/"
            in refused.stdout)

    pushed = run_cli(["--sandbox", "--json", "push", "--alias", "dev", "--smoke-arch", "host"], tmp_path, env=env)
    assert pushed.code == 0, pushed.stdout + pushed.stderr
    assert smoke_of(pushed, "escape")["host_build"] == "x86_64"
