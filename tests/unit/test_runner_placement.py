"""What an invocation runs in: layers where Lambda puts them, and native code for another CPU
either refused plainly or, with smoke_arch="host", rebuilt at the same pinned versions."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.local.runner import Invocation, run_handler

from .native_support import FOREIGN, HOST, elf, host_wheel, native_wheel
from .test_runner import RUNTIME


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def installed(wheel: Path) -> dict[str, bytes]:
    """A wheel's files as an install puts them at the root of a package."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


APP = """
import os
def handler(event, context):
    open(os.environ["RAN"], "w").write("ran")
    import fakenative
    return {"build": fakenative.BUILD, "version": fakenative.VERSION}
"""


def app() -> str:
    return f"# {uuid.uuid4()}\n{APP}"  # a unique package each time


def run(zip_bytes: bytes, ran: Path, **overrides: Any) -> Invocation:
    options: dict[str, Any] = {"handler": "app.handler", "runtime": RUNTIME, "event": {}, "timeout": 5,
                               "memory": 256, "environment": {"RAN": str(ran)}, "function_name": "f",
                               "architecture": FOREIGN}
    options.update(overrides)
    return run_handler(zip_bytes, **options)


@pytest.fixture
def foreign_package(tmp_path: Path) -> bytes:
    wheel = native_wheel(tmp_path / "built", FOREIGN)
    return make_zip({"app.py": app(), **installed(wheel)})


@pytest.fixture
def host_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline index (uv's find-links) with fakenative 1.0 and 2.0 for this machine."""
    links = tmp_path / "links"
    host_wheel(links, "1.0")
    host_wheel(links, "2.0")
    monkeypatch.setenv("UV_FIND_LINKS", str(links))
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    return links


def test_foreign_native_code_fails_with_the_architecture_message_and_runs_nothing(
    foreign_package: bytes, tmp_path: Path
) -> None:
    invocation = run(foreign_package, tmp_path / "ran")

    assert invocation.function_error == "Unhandled"
    error = json.loads(invocation.payload)
    assert error["errorType"] == "Sandbox.ForeignArchitecture"
    assert error["errorMessage"].startswith(f"cannot run {FOREIGN} native code on this {HOST} machine: "
                                            f"fakenative/_speedups.so is built for {FOREIGN}")
    assert "--smoke-arch host" in error["errorMessage"]
    assert invocation.host_build is None
    assert not (tmp_path / "ran").exists()


def test_pure_python_of_another_architecture_simply_runs(tmp_path: Path) -> None:
    code = "def handler(event, context):\n    return 'pure'\n"
    invocation = run(make_zip({"app.py": f"# {uuid.uuid4()}\n{code}"}), tmp_path / "ran")

    assert invocation.function_error is None and json.loads(invocation.payload) == "pure"


def test_smoke_arch_host_runs_the_same_pinned_versions_built_for_this_machine(
    foreign_package: bytes, host_index: Path, tmp_path: Path
) -> None:
    invocation = run(foreign_package, tmp_path / "ran", smoke_arch="host")

    assert invocation.function_error is None, invocation.payload
    # 1.0 as pinned in the package, although the index has 2.0 too.
    assert json.loads(invocation.payload) == {"build": HOST, "version": "1.0"}
    assert invocation.host_build == HOST
    again = run(foreign_package, tmp_path / "ran", smoke_arch="host")  # the rebuilt package is reused
    assert json.loads(again.payload) == {"build": HOST, "version": "1.0"}


def test_native_code_of_no_distribution_cannot_be_rebuilt(host_index: Path, tmp_path: Path) -> None:
    package = make_zip({"app.py": app(), "vendored/_fast.so": elf(FOREIGN)})

    invocation = run(package, tmp_path / "ran", smoke_arch="host")

    error = json.loads(invocation.payload)
    assert error["errorType"] == "Sandbox.RuntimeUnavailable"
    assert f"cannot rebuild vendored/_fast.so for {HOST}" in error["errorMessage"]
    assert not (tmp_path / "ran").exists()


# --- layers -------------------------------------------------------------------------------

LAYER_APP = """
import os, sys
import shared, only_in_site, own
def handler(event, context):
    return {
        "shared": shared.WHO, "site": only_in_site.WHO, "own": own.WHO,
        "path": sys.path[:4],
        "PATH": os.environ["PATH"].split(os.pathsep)[-1],
        "LD_LIBRARY_PATH": os.environ["LD_LIBRARY_PATH"].split(os.pathsep),
        "tool": os.path.exists(os.path.join(os.environ["PATH"].split(os.pathsep)[-1], "tool")),
    }
"""


def test_layers_are_where_lambda_puts_them_in_the_functions_order(tmp_path: Path) -> None:
    minor = RUNTIME.removeprefix("python")
    site = f"python/lib/python{minor}/site-packages"
    first = make_zip({"python/shared.py": "WHO = 'first layer'\n", "python/own.py": "WHO = 'layer'\n",
                      "bin/tool": "#!/bin/sh\n", "lib/libfirst.so.txt": "", f"{site}/only_in_site.py": "WHO = 1\n"})
    second = make_zip({"python/shared.py": "WHO = 'second layer'\n"})
    package = make_zip({"app.py": f"# {uuid.uuid4()}\n{LAYER_APP}", "own.py": "WHO = 'package'\n"})

    invocation = run(package, tmp_path / "ran", architecture=HOST, layers=[first, second])

    assert invocation.function_error is None, invocation.payload
    result = json.loads(invocation.payload)
    assert result["shared"] == "second layer"  # a later layer replaces an earlier one's file
    assert result["own"] == "package"  # /var/task comes before /opt
    assert result["site"] == 1
    task, opt_site, opt_python = result["path"][:3]
    opt = Path(opt_python).parent
    assert opt_site == str(opt / site) and opt_python == str(opt / "python")
    assert result["path"][3].startswith(str(Path(task).parent.parent))  # then /var/runtime's stand-in
    assert result["PATH"] == str(opt / "bin") and result["tool"]
    assert result["LD_LIBRARY_PATH"] == [task, f"{task}/lib", str(opt / "lib")]
    assert (opt / "lib" / "libfirst.so.txt").exists()


def test_foreign_native_code_in_a_layer_fails_even_with_smoke_arch_host(
    host_index: Path, tmp_path: Path
) -> None:
    layer = make_zip({"python/fakenative/__init__.py": "", "python/fakenative/_speedups.so": elf(FOREIGN)})
    package = make_zip({"app.py": app()})

    invocation = run(package, tmp_path / "ran", layers=[layer], smoke_arch="host")

    error = json.loads(invocation.payload)
    assert error["errorType"] == "Sandbox.ForeignArchitecture"
    assert f"layer file python/fakenative/_speedups.so is built for {FOREIGN}" in error["errorMessage"]
    assert "not its layers'" in error["errorMessage"]
