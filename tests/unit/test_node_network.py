"""Real npm installs from the registry for Lambda's platform (issue #17). Deselect with -m "not network".

Both tests share one npm cache (module-scoped: with --dist loadfile they run in one worker),
so each tarball is fetched once per run. Lockfiles are made here with npm itself, as a user
would (`npm install --package-lock-only`).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.local.native import host_architecture, host_runs_elf
from lambdadeploy.local.runner import run_handler
from lambdadeploy.packaging import build_artifact
from lambdadeploy.runtimes.elf import elf_architecture

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def npm_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("npm-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("npm_config_cache", str(cache))
        yield cache


def function(root: Path, manifest: dict, code: str, **fields: object) -> FunctionConfig:
    """A Node function whose package.json is `manifest`, with a lockfile npm writes for it."""
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "fn", "version": "1.0.0", "private": True, **manifest}))
    (root / "index.js").write_text(code)
    npm = shutil.which("npm")
    assert npm is not None
    locked = subprocess.run([npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
                            cwd=root, capture_output=True, text=True, timeout=300)
    assert locked.returncode == 0, locked.stderr
    return FunctionConfig(key="fn", name="demo-fn", source=root, handler="index.handler",
                          requirements=root / "package.json", **fields)  # type: ignore[arg-type]


def test_production_dependencies_ship_for_lambda_and_the_zip_is_reproducible(tmp_path: Path, npm_cache: Path) -> None:
    fn = function(tmp_path / "src", {
        "dependencies": {"uuid": "9.0.1", "@aws-sdk/util-arn-parser": "3.723.0"},
        "devDependencies": {"is-number": "7.0.0"},
    }, "const { v4 } = require('uuid');\nexports.handler = async () => ({ id: v4() });\n",
        runtime="nodejs20.x")
    (tmp_path / "src" / "node_modules" / "is-number").mkdir(parents=True)  # a developer's local install
    (tmp_path / "src" / "node_modules" / "is-number" / "index.js").write_text("module.exports = 1;")

    first = build_artifact(fn, cache_dir=tmp_path / "cache")
    names = zipfile.ZipFile(io.BytesIO(first.zip_bytes)).namelist()
    assert "node_modules/uuid/package.json" in names and "index.js" in names
    assert not [n for n in names if n.startswith(("node_modules/is-number", "node_modules/@aws-sdk",
                                                  "node_modules/tslib", "node_modules/.bin"))]
    assert first.deps_from_cache is False

    again = build_artifact(fn, cache_dir=tmp_path / "cache")
    fresh = build_artifact(fn, cache_dir=tmp_path / "another-cache")  # npm ci again, into an empty cache
    assert again.deps_from_cache is True and fresh.deps_from_cache is False
    assert again.zip_bytes == first.zip_bytes == fresh.zip_bytes

    result = run_handler(first.zip_bytes, handler="index.handler", runtime="nodejs20.x", event={}, timeout=10,
                         memory=128, environment={}, function_name="demo-fn")
    assert result.function_error is None and len(json.loads(result.payload)["id"]) == 36


def test_sharp_for_arm64_ships_the_linux_arm64_binary_not_this_machines(tmp_path: Path, npm_cache: Path) -> None:
    fn = function(tmp_path / "src", {"dependencies": {"sharp": "0.34.5"}},
                  "const sharp = require('sharp');\nexports.handler = async () => sharp.versions;\n",
                  runtime="nodejs20.x", architecture="arm64")
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    archive = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    platforms = sorted({n.split("/")[2] for n in archive.namelist() if n.startswith("node_modules/@img/sharp-")})
    assert platforms == ["sharp-libvips-linux-arm64", "sharp-linux-arm64"]
    binary = "node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64.node"
    (tmp_path / "addon.node").write_bytes(archive.read(binary))
    assert elf_architecture(tmp_path / "addon.node") == "arm64"

    # An x86_64 machine cannot load it: the sandbox says so instead of failing to import; arm64 Linux runs it.
    result = run_handler(artifact.zip_bytes, handler="index.handler", runtime="nodejs20.x", event={}, timeout=10,
                         memory=256, environment={}, function_name="demo-fn", architecture="arm64")
    answer = json.loads(result.payload)
    if host_architecture() == "arm64" and host_runs_elf():
        assert result.function_error is None and "vips" in answer
    else:
        assert answer["errorType"] == "Sandbox.ForeignArchitecture"
        assert "node_modules/@img/sharp-libvips-linux-arm64/lib/libvips-cpp.so" in answer["errorMessage"]
        assert "--smoke-arch host" not in answer["errorMessage"]  # Node.js packages are not rebuilt for the host


def test_a_node_project_layer_installs_into_the_versions_folder_and_the_function_requires_it(
        tmp_path: Path, npm_cache: Path) -> None:
    """A `layers:` entry with a package.json: npm's tree goes to nodejs/nodeNN/node_modules (on
    NODE_PATH), and a function that ships no dependency of its own requires it from the layer."""
    from lambdadeploy.config.model import LayerConfig
    from lambdadeploy.packaging import build_layer

    deps = function(tmp_path / "deps", {"dependencies": {"uuid": "9.0.1"}}, "")
    layer = LayerConfig(key="deps", name="demo-deps", runtimes=("nodejs20.x",), architectures=("x86_64",),
                        requirements=deps.requirements)
    built = build_layer(layer, cache_dir=tmp_path / "cache")
    names = zipfile.ZipFile(io.BytesIO(built.zip_bytes)).namelist()
    assert "nodejs/node20/node_modules/uuid/package.json" in names
    assert not [n for n in names if not n.startswith("nodejs/node20/node_modules/")]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.js", "const { v4 } = require('uuid');\nexports.handler = async () => ({ id: v4() });\n")
    result = run_handler(code.getvalue(), handler="index.handler", runtime="nodejs20.x", event={}, timeout=10,
                         memory=128, environment={}, function_name="demo-fn", layers=[built.zip_bytes])
    assert result.function_error is None and len(json.loads(result.payload)["id"]) == 36
