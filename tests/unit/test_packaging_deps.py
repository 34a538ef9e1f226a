"""Dependencies without the network: local wheels, the cache, pruning, concurrency, platform tags.

Requirements point at wheels built by hand in tmp_path and UV_OFFLINE=1 is
set, so uv (or pip) never reaches an index.
"""

from __future__ import annotations

import io
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingInputError
from lambdadeploy.packaging import Artifact, archive, build_artifact, zipfmt
from lambdadeploy.paths import default_cache_dir
from lambdadeploy.runtimes import DependencySpec
from lambdadeploy.runtimes.python import deps, installer
from lambdadeploy.runtimes.python.platform import target_for

from .packaging_support import make_wheel


def key_of(fn: FunctionConfig) -> str:
    """The dependency cache key of a function (its requirements for its platform)."""
    assert fn.requirements is not None
    spec = DependencySpec(fn.key, fn.requirements, fn.runtime, fn.architecture, fn.include_runtime_packages, fn.strip)
    return deps.dependency_key(spec, target_for(fn.runtime, fn.architecture))


HANDLER = "import tinypkg\n\ndef handler(event, context):\n    return tinypkg.VALUE\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """src/app.py importing tinypkg, and requirements.txt naming two local wheels."""
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    make_wheel(tmp_path / "wheels", "tinypkg", {
        "tinypkg/__init__.py": "VALUE = 42\n",
        "tinypkg/tests/test_value.py": "def test():\n    pass\n",
        "tinypkg/__pycache__/__init__.cpython-312.pyc": "junk",
    })  # fmt: skip
    make_wheel(tmp_path / "wheels", "boto3", {"boto3/__init__.py": "__version__ = '1.0'\n"})
    (tmp_path / "requirements.txt").write_text(
        "# local wheels, relative to this file\n"
        "./wheels/tinypkg-1.0-py3-none-any.whl\n"
        "./wheels/boto3-1.0-py3-none-any.whl\n"
    )
    return tmp_path


def make_fn(root: Path, **overrides: object) -> FunctionConfig:
    fields: dict[str, object] = {
        "key": "resize", "name": "demo-resize", "source": root / "src", "handler": "app.handler",
        "requirements": root / "requirements.txt", "architecture": "arm64",
    }  # fmt: skip
    fields.update(overrides)
    return FunctionConfig(**fields)  # type: ignore[arg-type]


def zip_names(blob: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(blob)).namelist()


def test_requirements_are_packed_and_pruned(project: Path) -> None:
    artifact = build_artifact(make_fn(project, strip=("tests",)), cache_dir=project / "cache")
    names = zip_names(artifact.zip_bytes)
    assert "tinypkg/__init__.py" in names and "app.py" in names
    assert "tinypkg-1.0.dist-info/METADATA" in names
    assert not [n for n in names if n.startswith("boto3")]  # the runtime provides it
    assert not [n for n in names if "tests/" in n or n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.endswith(("INSTALLER", "direct_url.json")) or n == ".lock"]
    assert artifact.deps_from_cache is False


def test_runtime_packages_and_tests_kept_when_asked(project: Path) -> None:
    fn = make_fn(project, include_runtime_packages=True)
    names = zip_names(build_artifact(fn, cache_dir=project / "cache").zip_bytes)
    assert "boto3/__init__.py" in names
    assert "tinypkg/tests/test_value.py" in names


def test_cache_hit_installs_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = make_fn(project)
    first = build_artifact(fn, cache_dir=project / "cache")

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("the installer ran on a cache hit")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    (project / "src" / "app.py").write_text(HANDLER + "# changed\n")
    second = build_artifact(fn, cache_dir=project / "cache")
    assert (first.deps_from_cache, second.deps_from_cache) == (False, True)
    assert second.sha256 != first.sha256  # own code changed
    (project / "src" / "app.py").write_text(HANDLER)
    assert build_artifact(fn, cache_dir=project / "cache").zip_bytes == first.zip_bytes


def test_rebuild_compresses_only_own_code(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = make_fn(project)
    build_artifact(fn, cache_dir=project / "cache")
    compressed: list[str] = []
    real = zipfmt.compress

    def counting(name: str, content: bytes, executable: bool) -> zipfmt.RawEntry:
        compressed.append(name)
        return real(name, content, executable)

    monkeypatch.setattr(zipfmt, "compress", counting)
    artifact = build_artifact(fn, cache_dir=project / "cache")
    assert compressed == ["app.py"]
    assert zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).testzip() is None


def test_default_cache_dir_is_used_from_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(project / "envcache"))
    assert default_cache_dir() == project / "envcache"
    build_artifact(make_fn(project))
    assert list((project / "envcache" / "deps").glob("*/site/tinypkg"))


def test_default_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDADEPLOY_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lambdadeploy"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "lambdadeploy"


def test_cache_key_follows_inputs(project: Path) -> None:
    fn = make_fn(project)
    base = key_of(fn)
    assert key_of(make_fn(project, architecture="x86_64")) != base
    assert key_of(make_fn(project, strip=("tests",))) != base
    assert key_of(make_fn(project, include_runtime_packages=True)) != base
    # an -r include is part of the key, and so is the content of a local wheel
    (project / "requirements.txt").write_text("-r more.txt\n")
    (project / "more.txt").write_text("./wheels/tinypkg-1.0-py3-none-any.whl\n")
    included = key_of(fn)
    (project / "more.txt").write_text("./wheels/tinypkg-1.0-py3-none-any.whl  # same, a comment\n")
    assert key_of(fn) != included
    (project / "more.txt").write_text("./wheels/tinypkg-1.0-py3-none-any.whl\n")
    assert key_of(fn) == included
    make_wheel(project / "wheels", "tinypkg", {"tinypkg/__init__.py": "VALUE = 43\n"})
    assert key_of(fn) != included


def test_missing_requirements_file_is_an_input_error(project: Path) -> None:
    fn = make_fn(project, requirements=project / "nope.txt")
    with pytest.raises(PackagingInputError, match=r"nope\.txt"):
        build_artifact(fn, cache_dir=project / "cache")


def test_concurrent_builds_of_the_same_requirements(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_installing = threading.Barrier(2, timeout=30)
    real_install = installer.install

    def racing_install(*args: object, **kwargs: object) -> None:
        both_installing.wait()  # both builds miss the cache and install at the same time
        real_install(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(installer, "install", racing_install)
    fn = make_fn(project)
    results: list[object] = [None, None]

    def build(i: int) -> None:
        try:
            results[i] = build_artifact(fn, cache_dir=project / "cache")
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    a, b = results
    assert isinstance(a, Artifact), a
    assert isinstance(b, Artifact), b
    assert a.zip_bytes == b.zip_bytes
    assert (a.deps_from_cache, b.deps_from_cache) == (False, False)  # both installed
    entries = list((project / "cache" / "deps").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".tmp-")
    assert len(list(entries[0].glob(f"{archive.FRAGMENT_PREFIX}*.zip"))) == 1


def test_pip_fallback_installs_the_same_files(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_uv = build_artifact(make_fn(project), cache_dir=project / "c1")
    monkeypatch.setattr(installer, "find_uv", lambda: None)
    messages: list[str] = []
    with_pip = build_artifact(
        make_fn(project), cache_dir=project / "c2", on_progress=messages.append
    )
    assert any("pip" in m for m in messages)
    own_and_packages = [n for n in zip_names(with_pip.zip_bytes) if "dist-info" not in n]
    assert own_and_packages == [n for n in zip_names(with_uv.zip_bytes) if "dist-info" not in n]


@pytest.mark.parametrize("use_pip", [False, True])
def test_wheel_for_another_platform_is_rejected_naming_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, use_pip: bool
) -> None:
    make_wheel(
        project / "wheels", "fastlib", {"fastlib/__init__.py": ""}, tag="cp312-cp312-win_amd64"
    )
    (project / "requirements.txt").write_text("./wheels/fastlib-1.0-cp312-cp312-win_amd64.whl\n")
    if use_pip:
        monkeypatch.setattr(installer, "find_uv", lambda: None)
    with pytest.raises(PackagingInputError) as err:
        build_artifact(make_fn(project), cache_dir=project / "cache")
    assert "fastlib" in err.value.message
    assert "python3.12/arm64" in err.value.message
    assert not list((project / "cache" / "deps").iterdir())  # nothing half-installed is left


def test_own_code_wins_over_a_dependency_file_and_is_reported(project: Path) -> None:
    (project / "src" / "tinypkg").mkdir()
    (project / "src" / "tinypkg" / "__init__.py").write_text("VALUE = 'mine'\n")
    messages: list[str] = []
    artifact = build_artifact(
        make_fn(project), cache_dir=project / "c", on_progress=messages.append
    )
    zf = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert zf.namelist().count("tinypkg/__init__.py") == 1
    assert zf.read("tinypkg/__init__.py") == b"VALUE = 'mine'\n"
    assert any("tinypkg/__init__.py" in m for m in messages)


def test_requirements_of_only_comments_install_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdadeploy.packaging import build_artifact
    from lambdadeploy.runtimes.python import installer as installer_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the installer must not run for an empty requirements file")

    monkeypatch.setattr(installer_module, "install", refuse)
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (source / "requirements.txt").write_text("# nothing yet\n\n")
    fn = FunctionConfig(key="f", name="f", source=source, handler="app.handler",
                        requirements=source / "requirements.txt")
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert artifact.deps_from_cache is None
    assert not (tmp_path / "cache" / "deps").exists()
