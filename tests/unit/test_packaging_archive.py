"""The zip itself: determinism, permissions, handler check, size limits, zip format."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingError, PackagingInputError
from lambdadeploy.packaging import build_artifact, limits, zipfmt

from .packaging_support import make_fn, write

HANDLER = "def handler(event, context):\n    return event\n"


FILES = {
    "app.py": HANDLER,
    "lib/__init__.py": "",
    "lib/util.py": "def f():\n    return 2\n" * 50,
    "run.sh": "#!/bin/sh\necho hi\n",
    "data/blob.bin": bytes(range(256)) * 40,
}


def test_same_inputs_give_same_bytes_whatever_order_and_mtimes(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for rel in FILES:
        write(first, rel, FILES[rel])
    for rel in reversed(list(FILES)):
        write(second, rel, FILES[rel])
    for i, path in enumerate(p for p in second.rglob("*") if p.is_file()):
        os.utime(path, (1_000_000_000 + i * 7777, 1_500_000_000 + i * 3333))
        path.chmod(0o600)  # permissions are normalised: only the exec bit counts
    a = build_artifact(make_fn(first), cache_dir=tmp_path / "c1")
    b = build_artifact(make_fn(second), cache_dir=tmp_path / "c2")
    assert a.zip_bytes == b.zip_bytes
    assert a.sha256 == b.sha256
    assert a.sha256 == base64.b64encode(hashlib.sha256(a.zip_bytes).digest()).decode()
    assert a.sha256_hex == hashlib.sha256(a.zip_bytes).hexdigest()
    zf = zipfile.ZipFile(io.BytesIO(a.zip_bytes))
    assert zf.namelist() == sorted(FILES)
    assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert (a.file_count, a.zipped_size) == (len(FILES), len(a.zip_bytes))
    assert a.unzipped_size == sum(len(c) for c in FILES.values())
    assert a.deps_from_cache is None


def test_exec_bit_is_kept_and_other_modes_normalised(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for rel, content in FILES.items():
        write(src, rel, content)
    (src / "run.sh").chmod(0o700)
    (src / "app.py").chmod(0o666)
    artifact = build_artifact(make_fn(src), cache_dir=tmp_path / "c")
    modes = {
        i.filename: (i.external_attr >> 16) & 0o777
        for i in zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).infolist()
    }
    assert modes["run.sh"] == 0o755
    assert modes["app.py"] == 0o644
    assert modes["lib/util.py"] == 0o644


def test_zip_is_valid_for_zipfile_and_unzip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for rel, content in FILES.items():
        write(src, rel, content)
    write(src, "empty.txt", "")
    write(src, "ünïcode/naïve.py", "x = 'é'\n")
    artifact = build_artifact(make_fn(src), cache_dir=tmp_path / "c")
    zf = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert zf.testzip() is None
    assert zf.read("ünïcode/naïve.py") == "x = 'é'\n".encode()
    assert zf.read("data/blob.bin") == FILES["data/blob.bin"]
    assert zf.getinfo("lib/util.py").compress_type == zipfile.ZIP_DEFLATED
    if shutil.which("unzip"):
        out = tmp_path / "a.zip"
        out.write_bytes(artifact.zip_bytes)
        subprocess.run(["unzip", "-tq", str(out)], check=True, capture_output=True)


def test_zip64_end_records_when_entries_exceed_65535() -> None:
    entries = [zipfmt.compress(f"m/{i:05d}.txt", b"", False) for i in range(65_540)]
    blob = zipfmt.write_zip(entries)
    assert len(blob) == zipfmt.archive_size(entries)
    zf = zipfile.ZipFile(io.BytesIO(blob))
    assert len(zf.infolist()) == 65_540
    assert zf.infolist()[-1].filename == "m/65539.txt"


def test_raw_entries_round_trip_through_a_fragment() -> None:
    entries = [zipfmt.compress("a.py", b"print(1)\n" * 100, False), zipfmt.compress("b", b"", True)]
    copied = zipfmt.read_entries(zipfmt.write_zip(entries))
    assert zipfmt.write_zip(copied) == zipfmt.write_zip(entries)
    assert [zipfmt.inflate(e) for e in copied] == [b"print(1)\n" * 100, b""]


@pytest.mark.parametrize(
    ("handler", "files", "runtime"),
    [
        ("app.handler", {"app.py": HANDLER}, "python3.12"),
        ("app.handler", {"app/__init__.py": HANDLER}, "python3.12"),
        ("pkg.app.handler", {"pkg/app.py": HANDLER}, "python3.12"),
        # newer runtime than this Python: 3.12-only syntax must not block the build
        ("app.handler", {"app.py": "type Alias = int\n" + HANDLER}, "python3.14"),
    ],
)
def test_handler_module_found(
    tmp_path: Path, handler: str, files: dict[str, str], runtime: str
) -> None:
    for rel, content in files.items():
        write(tmp_path / "src", rel, content)
    fn = make_fn(tmp_path / "src", handler=handler, runtime=runtime)
    assert build_artifact(fn, cache_dir=tmp_path / "c").file_count == 1


def test_missing_handler_module_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path / "src", "main.py", HANDLER)
    fn = make_fn(tmp_path / "src", handler="pkg.app.handler")
    with pytest.raises(PackagingInputError) as err:
        build_artifact(fn, cache_dir=tmp_path / "c")
    assert "pkg.app.handler" in err.value.message
    assert "pkg/app.py" in err.value.message
    assert err.value.exit_code == 2


def test_excluded_handler_counts_as_missing(tmp_path: Path) -> None:
    write(tmp_path / "src", "app.py", HANDLER)
    fn = make_fn(tmp_path / "src", exclude=("app.py",))
    with pytest.raises(PackagingInputError, match=r"app\.py"):
        build_artifact(fn, cache_dir=tmp_path / "c")


def test_handler_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "src", "app.py", "import os\n\ndef handler(event, context)\n    return 1\n")
    runtime = f"python3.{sys.version_info.minor}"
    fn = make_fn(tmp_path / "src", runtime=runtime)
    with pytest.raises(PackagingInputError) as err:
        build_artifact(fn, cache_dir=tmp_path / "c")
    assert "app.handler" in err.value.message
    assert "app.py, line 3" in err.value.message


def test_syntax_newer_than_an_older_runtime_is_caught(tmp_path: Path) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("needs a Python newer than the python3.10 runtime")
    # except* is 3.11 syntax: fine for this Python, not for python3.10
    source = "def handler(event, context):\n    try:\n        pass\n    except* ValueError:\n        pass\n"
    write(tmp_path / "src", "app.py", source)
    fn = make_fn(tmp_path / "src", runtime="python3.10")
    with pytest.raises(PackagingInputError, match=r"app\.py"):
        build_artifact(fn, cache_dir=tmp_path / "c")


def big_project(root: Path) -> None:
    write(root, "app.py", HANDLER)
    write(root, "models/weights.bin", os.urandom(300_000))
    write(root, "models/extra.bin", os.urandom(100_000))
    write(root, "assets.bin", os.urandom(150_000))
    write(root, "small.txt", "tiny")


def test_unzipped_limit_lists_largest_contributors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_project(tmp_path / "src")
    monkeypatch.setattr(limits, "MAX_UNZIPPED_BYTES", 200_000)
    with pytest.raises(PackagingError) as err:
        build_artifact(make_fn(tmp_path / "src", s3_bucket="b"), cache_dir=tmp_path / "c")
    text = err.value.render()
    assert err.value.exit_code == 1
    assert "unzipped" in text
    assert text.index("models/ (your code)") < text.index("assets.bin (your code)")
    assert "0.4 MB" in text  # models/ is 400,000 bytes
    assert "layers" in text and "strip" in text and "exclude" in text


def test_zipped_limit_without_s3_bucket_fails_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_project(tmp_path / "src")
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 100_000)
    with pytest.raises(PackagingError) as err:
        build_artifact(make_fn(tmp_path / "src"), cache_dir=tmp_path / "c")
    text = err.value.render()
    assert "zipped" in text and "s3_bucket" in text
    assert "models/ (your code)" in text


def test_zipped_limit_with_s3_bucket_means_upload_through_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_project(tmp_path / "src")
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 100_000)
    artifact = build_artifact(
        make_fn(tmp_path / "src", s3_bucket="deploys"), cache_dir=tmp_path / "c"
    )
    assert artifact.needs_s3
    assert artifact.zipped_size > 100_000
    assert zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).testzip() is None
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 50 * 1024 * 1024)
    again = build_artifact(make_fn(tmp_path / "src", s3_bucket="deploys"), cache_dir=tmp_path / "c")
    assert not again.needs_s3
    assert again.zip_bytes == artifact.zip_bytes


def test_contributors_group_dependencies_by_top_level_package() -> None:
    def entry(name: str, size: int) -> zipfmt.RawEntry:
        return zipfmt.RawEntry(name, zipfmt.STORED, 0, size, size, 0o644, b"")

    entries = [
        entry("numpy/core/a.so", 500), entry("numpy.libs/libopenblas.so", 300),
        entry("numpy-2.1.0.dist-info/RECORD", 10), entry("six.py", 20),
        entry("app.py", 5), entry("pkg/mod.py", 30),
    ]  # fmt: skip
    ranked = limits.contributors(entries, {"app.py", "pkg/mod.py"}, lambda e: e.size)
    assert ranked == [
        ("numpy (dependency)", 810), ("pkg/ (your code)", 30),
        ("six (dependency)", 20), ("app.py (your code)", 5),
    ]  # fmt: skip


@pytest.mark.parametrize(("source", "ok"), [
    ("def handler(event, context):\n    return 1\n", True),
    ("async def handler(event, context):\n    return 1\n", True),
    ("from mangum import Mangum\napp = object()\nhandler = Mangum(app)\n", True),
    ("from .impl import handler\n", True),
    ("try:\n    from fast import handler\nexcept ImportError:\n    def handler(e, c):\n        return 0\n", True),
    ("if True:\n    handler = lambda e, c: 1\n", True),
    ("from helpers import *\n", True),  # cannot know statically: never rejected
    ("def __getattr__(name):\n    return lambda e, c: 1\n", True),
    ("def handle(event, context):\n    return 1\n", False),
    ("class Handler:\n    pass\n", False),
])
def test_handler_function_must_be_defined_in_its_module(tmp_path: Path, source: str, ok: bool) -> None:
    from lambdadeploy.errors import PackagingInputError
    from lambdadeploy.packaging import build_artifact

    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(source)
    fn = FunctionConfig(key="f", name="f", source=src, handler="app.handler")
    if ok:
        assert build_artifact(fn, cache_dir=tmp_path / "c").file_count == 1
    else:
        with pytest.raises(PackagingInputError, match="defines no 'handler'") as caught:
            build_artifact(fn, cache_dir=tmp_path / "c")
        assert caught.value.exit_code == 2
