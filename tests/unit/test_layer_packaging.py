"""Project layers packaged like functions, through the runtime seam; Lambda's limits for a function
and its layers; a pinned boto3 is named when left out; `package` writes a zip over 50 MB. No AWS;
requirements are local wheels with UV_OFFLINE=1."""

from __future__ import annotations

import io
import json
import os
import textwrap
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.cli import main
from lambdadeploy.config import load
from lambdadeploy.config.model import LayerConfig
from lambdadeploy.errors import PackagingError
from lambdadeploy.packaging import build_artifact, build_layer, check_function_with_layers, limits
from lambdadeploy.runtimes import Runtime, RuntimeUnavailable
from lambdadeploy.runtimes.node import NodeRuntime
from lambdadeploy.runtimes.python import PythonRuntime

from .packaging_support import make_wheel, write


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline uv with a find-links folder of hand-made wheels (tinylib, boto3, botocore)."""
    links = tmp_path / "links"
    make_wheel(links, "tinylib", {"tinylib/__init__.py": "VALUE = 7\n"})
    make_wheel(links, "boto3", {"boto3/__init__.py": "__version__ = '1.34.0'\n"}, version="1.34.0")
    make_wheel(links, "botocore", {"botocore/__init__.py": ""}, version="1.34.0")
    for name, value in {"UV_OFFLINE": "1", "PIP_NO_INDEX": "1", "UV_FIND_LINKS": str(links),
                        "UV_CACHE_DIR": str(tmp_path / "uv-cache")}.items():
        monkeypatch.setenv(name, value)
    return links


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in-process (so tests can lower the limits): exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def names(blob: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(blob)).namelist()


def layer(tmp_path: Path, **fields: object) -> LayerConfig:
    values: dict[str, object] = {"key": "deps", "name": "shop-deps", "runtimes": ("python3.12",),
                                 "architectures": ("x86_64",)}
    values.update(fields)
    return LayerConfig(**values)  # type: ignore[arg-type]


def test_the_runtime_says_where_layer_content_goes() -> None:
    python = PythonRuntime()
    assert python.layer_prefix("python3.12") == "python/"
    assert python.layer_prefix("python3.11", dependencies=True) == "python/lib/python3.11/site-packages/"

    class NoLayers(PythonRuntime):
        family = "other"
        layer_prefix = Runtime.layer_prefix  # what a family that has not said gets

    with pytest.raises(RuntimeUnavailable, match="other runtimes cannot build project layers yet"):
        NoLayers().layer_prefix("python3.12")
    node = NodeRuntime()  # AWS's Node.js layer paths, both on NODE_PATH
    assert node.layer_prefix("nodejs20.x") == "nodejs/node_modules/"
    assert node.layer_prefix("nodejs22.x", dependencies=True) == "nodejs/node22/"
    assert node.layer_paths("nodejs22.x") == ("nodejs/node22/node_modules", "nodejs/node_modules")


def test_a_node_source_layer_goes_under_nodejs_node_modules(tmp_path: Path) -> None:
    write(tmp_path, "layers/common/helpers.js", "exports.X = 1;\n")
    write(tmp_path, "layers/common/.npmrc", "//registry.npmjs.org/:_authToken=secret\n")
    write(tmp_path, "layers/sam/nodejs/node_modules/helpers/index.js", "exports.X = 1;\n")  # SAM's layout
    spec = layer(tmp_path, source=tmp_path / "layers/common", runtimes=("nodejs20.x",))
    assert names(build_layer(spec, cache_dir=tmp_path / "cache").zip_bytes) == ["nodejs/node_modules/helpers.js"]
    laid_out = layer(tmp_path, source=tmp_path / "layers/sam", runtimes=("nodejs20.x",))
    assert names(build_layer(laid_out, cache_dir=tmp_path / "cache").zip_bytes) == [
        "nodejs/node_modules/helpers/index.js"]


def test_a_source_layer_goes_under_python_and_is_deterministic(tmp_path: Path) -> None:
    write(tmp_path, "layers/common/helpers.py", "X = 1\n")
    write(tmp_path, "layers/common/pkg/__init__.py", "")
    write(tmp_path, "layers/common/.env", "SECRET=1\n")
    write(tmp_path, "layers/common/notes.md", "# notes\n")
    spec = layer(tmp_path, source=tmp_path / "layers/common", exclude=("/notes.md",))  # paths in the source
    first = build_layer(spec, cache_dir=tmp_path / "cache")
    assert names(first.zip_bytes) == ["python/helpers.py", "python/pkg/__init__.py"]
    assert first.left_out == (".env",) and first.deps_from_cache is None
    assert build_layer(spec, cache_dir=tmp_path / "cache").zip_bytes == first.zip_bytes


def test_a_layer_folder_already_laid_out_is_packed_as_it_is(tmp_path: Path) -> None:
    write(tmp_path, "layers/sam/python/helpers.py", "X = 1\n")  # SAM's ContentUri layout
    built = build_layer(layer(tmp_path, source=tmp_path / "layers/sam"), cache_dir=tmp_path / "cache")
    assert names(built.zip_bytes) == ["python/helpers.py"]


def test_requirements_are_installed_for_each_runtime_in_its_own_folder(tmp_path: Path, offline: Path) -> None:
    write(tmp_path, "layers/deps/requirements.txt", "tinylib==1.0\n")
    write(tmp_path, "layers/deps/src/mine.py", "Y = 2\n")
    spec = layer(tmp_path, requirements=tmp_path / "layers/deps/requirements.txt", source=tmp_path / "layers/deps/src",
                 runtimes=("python3.11", "python3.12"))
    built = build_layer(spec, cache_dir=tmp_path / "cache")
    listed = names(built.zip_bytes)
    assert "python/mine.py" in listed
    for version in ("3.11", "3.12"):
        assert f"python/lib/python{version}/site-packages/tinylib/__init__.py" in listed
    assert built.deps_from_cache is False
    again = build_layer(spec, cache_dir=tmp_path / "cache")
    assert again.deps_from_cache is True and again.sha256 == built.sha256


def test_a_pinned_boto3_left_out_is_named_with_the_way_to_keep_it(tmp_path: Path, offline: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "src/app.py", "def handler(event, context):\n    return 1\n")
    write(tmp_path, "src/requirements.txt", "tinylib==1.0\nboto3==1.34.0  # pinned for local tests\nbotocore==1.34.0\n")
    (tmp_path / "lambda.yaml").write_text("functions:\n  api: {handler: app.handler, source: src}\n")
    (fn,) = load(tmp_path / "lambda.yaml").functions
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert not [n for n in names(artifact.zip_bytes) if n.startswith(("boto3", "botocore"))]
    (note,) = artifact.notes
    assert "boto3==1.34.0, botocore==1.34.0" in note and "include_runtime_packages: true" in note
    assert build_artifact(fn, cache_dir=tmp_path / "cache").notes == artifact.notes  # from the cache too
    kept = build_artifact(fn.__class__(**{**fn.__dict__, "include_runtime_packages": True}), cache_dir=tmp_path / "c2")
    assert kept.notes == () and "boto3/__init__.py" in names(kept.zip_bytes)

    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run_main(["-c", str(tmp_path / "lambda.yaml"), "package", "--out", str(tmp_path / "d")], capsys)
    assert code == 0, err
    assert "note: left out boto3==1.34.0, botocore==1.34.0" in out


def test_the_250_mb_counts_the_function_and_its_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "functions/api/app.py", "def handler(event, context):\n    return 1\n" + "# pad\n" * 3000)
    write(tmp_path, "layers/big/blob.txt", "0123456789" * 3000)
    (tmp_path / "lambda.yaml").write_text(textwrap.dedent("""
        functions:
          api: {handler: app.handler, layers: [big]}
        layers:
          big: {source: layers/big}
    """))
    project = load(tmp_path / "lambda.yaml")
    monkeypatch.setattr(limits, "MAX_UNZIPPED_BYTES", 40_000)  # each fits alone, not together
    artifact = build_artifact(project.functions[0], cache_dir=tmp_path / "cache")
    built = {"big": build_layer(project.layers[0], cache_dir=tmp_path / "cache")}
    with pytest.raises(PackagingError) as caught:
        check_function_with_layers(project.functions[0], artifact, built)
    message = caught.value.render()
    assert "the package and its layers are" in message and "layer big" in message
    assert "a layer" not in message.split("hint:")[1].replace("moving code into a layer does not help", "")
    assert "does not help" in message


def test_the_250_mb_error_no_longer_suggests_a_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "src/app.py", "def handler(event, context):\n    return 1\n")
    write(tmp_path, "src/data.txt", "x" * 5000)
    monkeypatch.setattr(limits, "MAX_UNZIPPED_BYTES", 1000)
    from .packaging_support import make_fn

    with pytest.raises(PackagingError) as caught:
        build_artifact(make_fn(tmp_path / "src"), cache_dir=tmp_path / "cache")
    hint = caught.value.hint or ""
    assert "`layers:`" not in hint and "does not help" in hint


def test_package_writes_a_zip_over_the_direct_upload_limit_and_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """50 MB matters when uploading (push); `package` uploads nothing, so it writes the zip and says so."""
    write(tmp_path, "functions/api/app.py", "def handler(event, context):\n    return 1\n")
    write(tmp_path, "functions/api/blob.bin", os.urandom(16_000))  # incompressible
    (tmp_path / "lambda.yaml").write_text("functions:\n  api: {handler: app.handler}\n")
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 2000)
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "dist"
    code, stdout, stderr = run_main(["-c", str(tmp_path / "lambda.yaml"), "--json", "package", "--out", str(out)], capsys)
    assert code == 0, stderr
    assert (out / "api.zip").stat().st_size > 2000
    assert "push will need `s3_bucket:`" in stderr
    assert json.loads(stdout)["ok"] is True
    # push refuses it (the limit is about the upload).
    from .packaging_support import make_fn

    with pytest.raises(PackagingError, match="direct upload"):
        build_artifact(make_fn(tmp_path / "functions/api"), cache_dir=tmp_path / "cache")


def test_package_refuses_an_out_folder_that_is_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "app.py", "def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text("functions:\n  api: {handler: app.handler, source: .}\n")
    code, _, err = run_main(["-c", str(tmp_path / "lambda.yaml"), "package", "--out", str(tmp_path)], capsys)
    assert code == 2 and "is the source folder of function api" in err
    assert not list(tmp_path.glob("*.zip"))
