"""`package --watch`'s pieces without a process: what a snapshot sees change, the polling loop,
and the verified-fragment memo that spares a resident process re-verifying its dependencies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambdadeploy.packaging import archive, zipfmt
from lambdadeploy.packaging.watch import MISSING, changed_keys, snapshot, watch


def test_a_snapshot_sees_edits_in_place_replacements_new_and_removed_files(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "util.py").write_text("y = 2\n")
    first = snapshot([tmp_path])
    assert set(first) == {str(tmp_path / "app.py"), str(tmp_path / "lib" / "util.py")}

    (tmp_path / "app.py").write_text("x = 10\n")  # in place, new size
    second = snapshot([tmp_path])
    assert changed_keys({"f": first}, {"f": second}) == ["f"]

    same_size = tmp_path / "lib" / "util.py"
    replacement = tmp_path / ".util.py.swp"
    replacement.write_text("y = 3\n")
    info = same_size.stat()
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size and time: only the inode differs
    os.replace(replacement, same_size)
    third = snapshot([tmp_path])
    assert third[str(same_size)] != second[str(same_size)]

    (tmp_path / "new.py").write_text("")
    (tmp_path / "app.py").unlink()
    fourth = snapshot([tmp_path])
    assert str(tmp_path / "new.py") in fourth and str(tmp_path / "app.py") not in fourth
    assert snapshot([tmp_path / "requirements.txt"]) == {str(tmp_path / "requirements.txt"): MISSING}


def test_a_snapshot_skips_what_the_package_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    (tmp_path / "app.py").write_text("")
    (tmp_path / "notes.md").write_text("")
    seen_folders = []

    def packed(path: Path, is_folder: bool) -> bool:
        if is_folder:
            seen_folders.append(path.name)
        return path.name not in ("__pycache__", "notes.md")

    assert list(snapshot([tmp_path], packed)) == [str(tmp_path / "app.py")]
    assert seen_folders == ["__pycache__"]  # asked once, and not entered


def test_the_loop_rebuilds_what_changed_once_it_settles_and_stops_when_asked() -> None:
    a1, a2, a3 = {"x": (1, 1, 1)}, {"x": (0, 2, 1)}, {"x": (9, 3, 1)}
    polls = iter([{"function a": a1, "config": {}},        # nothing changed
                  {"function a": a2, "config": {}},        # a truncated ...
                  {"function a": a3, "config": {}},        # ... then written: not settled yet
                  {"function a": a3, "config": {}},        # settled: one rebuild
                  {"function a": a3, "config": {"c": (1, 1, 1)}},  # config changed
                  {"function a": a3, "config": {"c": (1, 1, 1)}}])  # settled
    rebuilt: list[list[str]] = []
    sleeps: list[float] = []
    # stopping() is asked before each poll, before each settling poll and before each rebuild.
    stop_after = iter([False] * 8 + [True])
    built_from = {"function a": a1, "config": {}}  # taken before the first build
    watch(lambda: next(polls), rebuilt.append, lambda: next(stop_after), built_from, poll_seconds=0.5,
          sleep=sleeps.append, settle_seconds=0.1)
    assert rebuilt == [["function a"], ["config"]]
    assert sleeps == [0.5, 0.5, 0.1, 0.1, 0.5, 0.1]


@pytest.fixture
def fragment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    blob = zipfmt.write_zip([zipfmt.compress("pkg/mod.py", b"VALUE = 1\n" * 100, False)])
    path = tmp_path / archive._fragment_name(blob)
    path.write_bytes(blob)
    archive._verified.pop(path, None)
    monkeypatch.setattr(archive, "_keep_verified", [True])  # as `package --watch` asks
    return path


def test_a_fragment_is_verified_once_per_process_while_its_file_is_unchanged(
        fragment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    verify = archive._read_and_verify
    monkeypatch.setattr(archive, "_read_and_verify", lambda path: reads.append(path) or verify(path))
    first = archive._verified_entries(fragment)
    again = archive._verified_entries(fragment)
    assert first is not None and again is first
    assert reads == [fragment]


def test_without_watch_a_fragment_is_verified_at_every_use(fragment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "_keep_verified", [False])  # a push or a single `package`
    reads: list[Path] = []
    verify = archive._read_and_verify
    monkeypatch.setattr(archive, "_read_and_verify", lambda path: reads.append(path) or verify(path))
    assert archive._verified_entries(fragment) is not None
    assert archive._verified_entries(fragment) is not None
    assert reads == [fragment, fragment] and fragment not in archive._verified


def test_a_fragment_changed_after_its_verification_is_verified_again_and_refused(fragment: Path) -> None:
    assert archive._verified_entries(fragment) is not None
    corrupt = bytearray(fragment.read_bytes())
    corrupt[40] ^= 0xFF
    info = fragment.stat()
    fragment.write_bytes(bytes(corrupt))  # same size; its times (and ctime, always) change
    os.utime(fragment, ns=(info.st_atime_ns, info.st_mtime_ns))  # even with mtime put back
    assert archive._verified_entries(fragment) is None


def test_the_memo_holds_at_most_its_byte_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "_verified", {})
    monkeypatch.setattr(archive, "_keep_verified", [True])
    paths = []
    for n in range(3):
        blob = zipfmt.write_zip([zipfmt.compress(f"m{n}.py", os.urandom(1000), False)])
        path = tmp_path / archive._fragment_name(blob)
        path.write_bytes(blob)
        paths.append(path)
    monkeypatch.setattr(archive, "VERIFIED_CACHE_BYTES", 2 * paths[0].stat().st_size + 10)
    for path in paths:
        assert archive._verified_entries(path) is not None
    assert list(archive._verified) == paths[1:]  # the oldest went first


def test_replace_output_puts_the_new_zip_in_place_whether_or_not_one_was_there(tmp_path: Path) -> None:
    from lambdadeploy.packaging.files import replace_output

    target = tmp_path / "fn.zip"
    for content in (b"first", b"second"):
        new = tmp_path / ".fn.zip.partial"
        new.write_bytes(content)
        replace_output(new, target)
        assert target.read_bytes() == content and not new.exists()
