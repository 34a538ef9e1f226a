"""Packaging that cannot be fooled: bad requirements are input errors with a line, secret
files stay out of the zip (and the summary says so), the dependency cache is verified on
use, and a VCS requirement on a moving ref is never served stale. Offline: local wheels,
a local git repository, UV_OFFLINE=1.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingInputError
from lambdadeploy.packaging import build_artifact
from lambdadeploy.runtimes.python import deps

from ..e2e.test_requirements import make_local_package
from .packaging_support import make_wheel

HANDLER = "def handler(event, context):\n    return 1\n"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


def make_fn(root: Path, requirements: str | bytes | None = None, **fields: object) -> FunctionConfig:
    source = root / "src"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(HANDLER)
    manifest = None
    if requirements is not None:
        manifest = source / "requirements.txt"
        if isinstance(requirements, bytes):
            manifest.write_bytes(requirements)
        else:
            manifest.write_text(requirements)
    return FunctionConfig(key="fn", name="demo-fn", source=source, handler="app.handler", requirements=manifest,
                          **fields)  # type: ignore[arg-type]


def names(blob: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(blob)).namelist()


# --- 8. bad requirements are the user's input: exit 2, with the line and the reason ---------


@pytest.mark.parametrize(("line", "reason"), [
    ("requests>=>2", "no such comparison operator"),
    ("this is garbage !!", "Expected one of"),
    ("numpy[", "Missing closing bracket"),
    ("--bogus-flag", "Unexpected '-'"),
])
def test_invalid_requirement_lines_are_input_errors(tmp_path: Path, line: str, reason: str) -> None:
    fn = make_fn(tmp_path, f"# first\n\n{line}\n")
    with pytest.raises(PackagingInputError) as caught:
        build_artifact(fn, cache_dir=tmp_path / "cache")
    assert caught.value.exit_code == 2
    assert "requirements.txt:3" in caught.value.message and reason in caught.value.message, caught.value.message


@pytest.mark.parametrize("line", ["-e .", "--editable ./lib", "-e git+https://example.com/x.git#egg=x"])
def test_editable_requirements_are_refused(tmp_path: Path, line: str) -> None:
    fn = make_fn(tmp_path, f"six\n{line}\n")
    with pytest.raises(PackagingInputError) as caught:
        build_artifact(fn, cache_dir=tmp_path / "cache")
    assert "requirements.txt:2" in caught.value.message and "editable" in caught.value.message


def test_included_requirements_that_cannot_be_read(tmp_path: Path) -> None:
    fn = make_fn(tmp_path, "-r more.txt\n")
    (fn.source / "more.txt").write_bytes(b"six\ncaf\xe9\n")
    with pytest.raises(PackagingInputError) as caught:
        build_artifact(fn, cache_dir=tmp_path / "cache")
    assert "more.txt:2" in caught.value.message and "UTF-8" in caught.value.message
    (fn.source / "more.txt").unlink()
    (fn.source / "more.txt").mkdir()
    with pytest.raises(PackagingInputError) as caught:
        build_artifact(fn, cache_dir=tmp_path / "cache")
    assert "more.txt" in caught.value.message


def test_a_manifest_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    fn = make_fn(tmp_path, b"\xff\xfes\x00i\x00x\x00")
    with pytest.raises(PackagingInputError) as caught:
        build_artifact(fn, cache_dir=tmp_path / "cache")
    assert "requirements.txt:1" in caught.value.message


# --- 10. secret files never ship, and the summary says what was left out -------------------


SECRET_FILES = ["id_rsa", "id_ed25519", "keys/id_ecdsa", ".ssh/config", ".netrc", ".npmrc", ".pypirc",
                "credentials.json", "conf/credentials.json", ".git-credentials", "cert.pem", ".env"]


def test_private_keys_and_credential_files_are_left_out(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    for name in [*SECRET_FILES, "id_rsa.pub", "credentials.py", "keys/readme.txt"]:
        (fn.source / name).parent.mkdir(parents=True, exist_ok=True)
        (fn.source / name).write_text("secret\n")
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert names(artifact.zip_bytes) == ["app.py", "credentials.py", "id_rsa.pub", "keys/readme.txt"]
    assert artifact.left_out == (".env", ".git-credentials", ".netrc", ".npmrc", ".pypirc", ".ssh/", "cert.pem",
                                 "conf/credentials.json", "credentials.json", "id_ed25519", "id_rsa",
                                 "keys/id_ecdsa")


def test_lambdaignore_ships_one_on_purpose(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    for name in ("id_rsa", ".netrc", "credentials.json"):
        (fn.source / name).write_text("secret\n")
    (fn.source / ".lambdaignore").write_text("!credentials.json\n")
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert names(artifact.zip_bytes) == ["app.py", "credentials.json"]
    assert artifact.left_out == (".netrc", "id_rsa")


# --- 11. the dependency cache is verified on use --------------------------------------------


@pytest.fixture
def with_deps(tmp_path: Path) -> FunctionConfig:
    make_wheel(tmp_path / "wheels", "tinypkg", {"tinypkg/__init__.py": "VALUE = 42\n"})
    return make_fn(tmp_path, f"{tmp_path / 'wheels' / 'tinypkg-1.0-py3-none-any.whl'}\n")


def cache_entry(cache: Path) -> Path:
    (entry,) = [e for e in (cache / "deps").iterdir() if not e.name.startswith(".")]
    return entry


def fragment(cache: Path) -> Path:
    (found,) = cache_entry(cache).glob("deps-*.zip")
    return found


def test_a_corrupt_cached_fragment_is_rebuilt(tmp_path: Path, with_deps: FunctionConfig) -> None:
    cache = tmp_path / "cache"
    good = build_artifact(with_deps, cache_dir=cache)
    blob = bytearray(fragment(cache).read_bytes())
    blob[40] ^= 0xFF  # inside the first entry's compressed data
    fragment(cache).write_bytes(bytes(blob))
    messages: list[str] = []
    again = build_artifact(with_deps, cache_dir=cache, on_progress=messages.append)
    assert again.zip_bytes == good.zip_bytes
    assert zipfile.ZipFile(io.BytesIO(again.zip_bytes)).testzip() is None
    assert any(m.startswith("warning:") and "corrupt" in m for m in messages), messages


def test_a_truncated_cached_fragment_is_rebuilt(tmp_path: Path, with_deps: FunctionConfig) -> None:
    cache = tmp_path / "cache"
    good = build_artifact(with_deps, cache_dir=cache)
    fragment(cache).write_bytes(fragment(cache).read_bytes()[:50])
    messages: list[str] = []
    assert build_artifact(with_deps, cache_dir=cache, on_progress=messages.append).zip_bytes == good.zip_bytes
    assert any(m.startswith("warning:") for m in messages), messages


def test_an_edited_cached_install_is_reinstalled(tmp_path: Path, with_deps: FunctionConfig) -> None:
    cache = tmp_path / "cache"
    good = build_artifact(with_deps, cache_dir=cache)
    entry = cache_entry(cache)
    (entry / "site" / "tinypkg" / "__init__.py").write_text("VALUE = 'evil'\n")
    (entry / "site" / "tinypkg" / "extra.py").write_text("import os\n")
    for found in entry.glob("deps-*.zip"):
        found.unlink()  # the fragment is rebuilt from the install: that is when the install is checked
    messages: list[str] = []
    again = build_artifact(with_deps, cache_dir=cache, on_progress=messages.append)
    assert again.zip_bytes == good.zip_bytes
    assert any(m.startswith("warning:") and "reinstall" in m for m in messages), messages
    meta = json.loads((cache_entry(cache) / "meta.json").read_text())
    assert len(meta["site_sha256"]) == 64


def test_a_fragment_swapped_for_another_valid_zip_is_refused(tmp_path: Path, with_deps: FunctionConfig) -> None:
    cache = tmp_path / "cache"
    good = build_artifact(with_deps, cache_dir=cache)
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("tinypkg/__init__.py", "VALUE = 'evil'\n")
    fragment(cache).write_bytes(other.getvalue())  # a valid zip, but not what was cached
    assert build_artifact(with_deps, cache_dir=cache).zip_bytes == good.zip_bytes


# --- 12. VCS requirements: a pinned commit is cached, a moving ref is always installed ------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    make_local_package(folder, 1)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "one")
    return folder


def shipped_value(blob: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(blob)).read("shared/__init__.py")


def test_a_moving_git_ref_is_installed_afresh(tmp_path: Path, repo: Path) -> None:
    fn = make_fn(tmp_path, f"shared @ git+file://{repo}@main\n")
    cache = tmp_path / "cache"
    first = build_artifact(fn, cache_dir=cache)
    assert shipped_value(first.zip_bytes) == b"VALUE = 1\n"
    (repo / "shared" / "__init__.py").write_text("VALUE = 2\n")
    git(repo, "commit", "-qam", "two")
    messages: list[str] = []
    second = build_artifact(fn, cache_dir=cache, on_progress=messages.append)
    assert shipped_value(second.zip_bytes) == b"VALUE = 2\n"
    assert second.deps_from_cache is False
    assert any(m.startswith("warning:") and "@main" in m and "commit" in m for m in messages), messages
    assert not [e for e in (cache / "deps").iterdir()]  # nothing kept that could go stale


def test_a_pinned_commit_is_cached(tmp_path: Path, repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    fn = make_fn(tmp_path, f"git+file://{repo}@{commit}#egg=shared\n")
    first = build_artifact(fn, cache_dir=tmp_path / "cache")
    second = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert (first.deps_from_cache, second.deps_from_cache) == (False, True)
    assert shipped_value(second.zip_bytes) == b"VALUE = 1\n"


@pytest.mark.parametrize(("line", "moving"), [
    ("pkg @ git+https://github.com/o/r.git@v1.2", True),
    ("git+https://github.com/o/r.git#egg=pkg", True),
    ("git+ssh://git@github.com/o/r.git@main#egg=pkg", True),
    ("pkg @ git+ssh://git@github.com/o/r.git", True),
    ("hg+https://example.com/r@default#egg=pkg", True),
    (f"pkg @ git+https://github.com/o/r.git@{'a1' * 20}", False),
    (f"git+ssh://git@github.com/o/r.git@{'0f' * 20}#egg=pkg", False),
    ("requests==2.31.0", False),
    ("./libs/shared", False),
])
def test_which_vcs_requirements_can_move(tmp_path: Path, line: str, moving: bool) -> None:
    manifest = tmp_path / "requirements.txt"
    manifest.write_text(f"{line}\n")
    assert bool(deps.moving_vcs_requirements(manifest)) is moving
