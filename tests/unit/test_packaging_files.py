"""Which source files go into the zip: built-in excludes, .lambdaignore, exclude, symlinks."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingInputError
from lambdadeploy.packaging import build_artifact
from lambdadeploy.packaging.files import select_files

from .packaging_support import make_fn, write


def names(fn: FunctionConfig, tmp_path: Path) -> list[str]:
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    return zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).namelist()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(root, "app.py", "def handler(event, context):\n    return event\n")
    write(root, "lib/util.py")
    return root


def test_builtin_excludes_never_reach_the_zip(src: Path, tmp_path: Path) -> None:
    for rel in (
        ".env", ".env.production", "config/.env", "server.pem", "id.key", ".DS_Store",
        ".git/config", ".venv/lib/x.py", "__pycache__/app.cpython-312.pyc", "lib/util.pyc",
        "lib/__pycache__/util.cpython-312.pyc", ".aws/credentials", ".lambdadeploy/state",
    ):  # fmt: skip
        write(src, rel)
    write(src, ".envrc")  # not .env nor .env.*: kept
    assert names(make_fn(src), tmp_path) == [".envrc", "app.py", "lib/util.py"]


def test_lambdaignore_and_exclude_apply_in_gitignore_syntax(src: Path, tmp_path: Path) -> None:
    write(src, "docs/guide.md")
    write(src, "data/big.csv")
    write(src, "data/keep.csv")
    write(src, "notes.txt")
    write(src, "certs/ca.pem")
    write(src, ".lambdaignore", "docs/\n*.csv\n!data/keep.csv\n!certs/ca.pem\n")
    fn = make_fn(src, exclude=("notes.txt",))
    assert names(fn, tmp_path) == ["app.py", "certs/ca.pem", "data/keep.csv", "lib/util.py"]


def test_symlink_to_a_file_outside_source_is_skipped_and_reported(
    src: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path, "outside/secret.txt", "TOKEN")
    os.symlink(secret, src / "secret.txt")
    os.symlink(secret.parent, src / "outside_dir")
    messages: list[str] = []
    artifact = build_artifact(make_fn(src), cache_dir=tmp_path / "c", on_progress=messages.append)
    zf = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert zf.namelist() == ["app.py", "lib/util.py"]
    assert any("secret.txt" in m and "outside" in m for m in messages)


def test_symlink_inside_source_is_packed_with_its_target_content(src: Path, tmp_path: Path) -> None:
    write(src, "shared/config.json", '{"a": 1}')
    os.symlink(src / "shared" / "config.json", src / "config.json")
    os.symlink("..", src / "lib" / "loop")  # a cycle must not hang the walk
    artifact = build_artifact(make_fn(src), cache_dir=tmp_path / "c")
    zf = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert zf.read("config.json") == b'{"a": 1}'
    assert all("loop/loop" not in n for n in zf.namelist())


def test_arcnames_are_relative_and_sorted(src: Path) -> None:
    write(src, "b/z.py")
    write(src, "a/y.py")
    arcnames = [f.arcname for f in select_files(make_fn(src))]
    assert arcnames == sorted(arcnames)
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in arcnames)


def test_missing_source_folder_is_an_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(PackagingInputError) as err:
        build_artifact(make_fn(missing), cache_dir=tmp_path / "c")
    assert str(missing) in err.value.message
    assert err.value.exit_code == 2


def test_non_utf8_file_name_is_an_input_error_unless_excluded(src: Path, tmp_path: Path) -> None:
    bad = os.fsencode(src) + b"/caf\xe9.txt"
    with open(bad, "wb") as fh:
        fh.write(b"x")
    with pytest.raises(PackagingInputError, match="UTF-8"):
        select_files(make_fn(src))
    assert [f.arcname for f in select_files(make_fn(src, exclude=("*.txt",)))] == [
        "app.py",
        "lib/util.py",
    ]
