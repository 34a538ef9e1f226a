"""Real installs from PyPI for a foreign platform. Deselect with -m "not network".

All tests share one cache (module-scoped: with --dist loadfile they run in one
worker), so each package is fetched once per run.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingInputError
from lambdadeploy.packaging import build_artifact, limits

pytestmark = pytest.mark.network

HANDLER = "def handler(event, context):\n    return 1\n"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambdadeploy-cache")


def function(tmp_path: Path, requirements: str, **overrides: object) -> FunctionConfig:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    (tmp_path / "requirements.txt").write_text(requirements)
    fields: dict[str, object] = {
        "key": "fn",
        "name": "demo-fn",
        "source": tmp_path / "src",
        "handler": "app.handler",
        "requirements": tmp_path / "requirements.txt",
    }
    fields.update(overrides)
    return FunctionConfig(**fields)  # type: ignore[arg-type]


def test_numpy_for_arm64_gets_aarch64_extension_modules(tmp_path: Path, cache_dir: Path) -> None:
    fn = function(tmp_path, "numpy\n", runtime="python3.12", architecture="arm64")
    artifact = build_artifact(fn, cache_dir=cache_dir)
    names = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).namelist()
    extensions = [n for n in names if n.endswith(".so") and n.startswith("numpy/")]
    assert extensions
    assert all("cpython-312-aarch64-linux-gnu" in n for n in extensions if "cpython" in n)
    assert not [n for n in names if "x86_64" in n]


def test_data_stack_fits_and_leaves_boto3_to_the_runtime(tmp_path: Path, cache_dir: Path) -> None:
    reqs = "pandas\nnumpy\nrequests\nboto3\n"
    fn = function(tmp_path, reqs, runtime="python3.12", architecture="x86_64")
    artifact = build_artifact(fn, cache_dir=cache_dir)
    zf = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    names = zf.namelist()
    assert artifact.zipped_size < limits.MAX_DIRECT_UPLOAD_BYTES
    assert not artifact.needs_s3
    assert "pandas/__init__.py" in names and "requests/__init__.py" in names
    tops = {n.split("/")[0].split("-")[0].lower() for n in names}
    assert not tops & {"boto3", "botocore", "s3transfer", "jmespath"}
    assert zf.testzip() is None
    again = build_artifact(fn, cache_dir=cache_dir)
    assert again.deps_from_cache and again.sha256 == artifact.sha256


def test_pure_python_sdist_only_package_is_built(tmp_path: Path, cache_dir: Path) -> None:
    fn = function(tmp_path, "docopt==0.6.2\n", runtime="python3.11", architecture="arm64")
    names = zipfile.ZipFile(
        io.BytesIO(build_artifact(fn, cache_dir=cache_dir).zip_bytes)
    ).namelist()
    assert "docopt.py" in names


def test_native_pin_without_wheel_fails_naming_it(tmp_path: Path, cache_dir: Path) -> None:
    fn = function(tmp_path, "numpy==1.21.0\n", runtime="python3.12", architecture="x86_64")
    with pytest.raises(PackagingInputError) as err:
        build_artifact(fn, cache_dir=cache_dir)
    message = err.value.message
    assert "numpy==1.21.0" in message and "python3.12" in message and "x86_64" in message
