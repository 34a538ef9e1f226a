"""The zip writer's layout, byte for byte where zipfile does not look, and read_entries'
limits on the zips it accepts. test_packaging_archive.py covers the round trips."""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import zipfile
import zlib

import pytest

from lambdadeploy.errors import PackagingError
from lambdadeploy.packaging.zipfmt import (
    DEFLATED,
    STORED,
    RawEntry,
    archive_size,
    compress,
    inflate,
    read_entries,
    write_zip,
)

END = struct.Struct("<IHHHHIIH")
END64 = struct.Struct("<IQHHIIQQQQ")


def test_incompressible_content_is_stored_as_is() -> None:
    noise = os.urandom(2000)
    entry = compress("blob.bin", noise, executable=False)
    assert (entry.method, bytes(entry.data), entry.size, entry.compressed_size) == (STORED, noise, 2000, 2000)
    assert compress("empty.py", b"", executable=True).method == STORED
    text = compress("app.py", b"print('hi')\n" * 100, executable=False)
    assert text.method == DEFLATED and text.compressed_size < text.size and inflate(text) == b"print('hi')\n" * 100


def test_headers_pin_every_field_a_reader_could_take_from_the_environment() -> None:
    blob = write_zip([compress("app.py", b"x = 1\n", False), compress("bin/run", b"#!/bin/sh\n", True)])
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.create_system, info.create_version, info.extract_version) == (3, 20, 20)
            assert (info.volume, info.internal_attr, info.extra, info.comment) == (0, 0, b"", b"")
            assert info.flag_bits == 0
        assert [i.external_attr >> 16 for i in zf.infolist()] == [0o100644, 0o100755]
    # One end record, for one disk, with no archive comment after it.
    assert END.unpack(blob[-END.size:]) == (0x06054B50, 0, 0, 2, 2, END.unpack(blob[-END.size:])[5],
                                            END.unpack(blob[-END.size:])[6], 0)
    assert len(blob) == archive_size([compress("app.py", b"x = 1\n", False), compress("bin/run", b"#!/bin/sh\n", True)])


def test_non_ascii_names_are_flagged_utf8() -> None:
    blob = write_zip([compress("données/é.py", b"", False), compress("plain.py", b"", False)])
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert [(i.filename, i.flag_bits & 0x800) for i in zf.infolist()] == [("données/é.py", 0x800), ("plain.py", 0)]


@pytest.mark.parametrize(("compressed_size", "size"), [(2**32, 1), (1, 2**32)])
def test_sizes_beyond_zip32_are_refused(compressed_size: int, size: int) -> None:
    entry = RawEntry("huge.bin", STORED, 0, compressed_size, size, 0o644, b"")
    with pytest.raises(PackagingError, match=r"^huge.bin: too large for a zip without zip64 sizes$"):
        write_zip([entry])


def test_65535_entries_need_the_zip64_end_records() -> None:
    entries = [compress(f"f{i}", b"", False) for i in range(0xFFFF)]
    blob = write_zip(entries)
    assert len(blob) == archive_size(entries)
    end = END.unpack(blob[-END.size:])
    assert end[3:5] == (0xFFFF, 0xFFFF)  # "see the zip64 record"
    locator_at = len(blob) - END.size - 20
    end64_at = struct.unpack_from("<IIQI", blob, locator_at)[2]
    record = END64.unpack_from(blob, end64_at)
    assert record[:8] == (0x06064B50, END64.size - 12, 45, 45, 0, 0, 0xFFFF, 0xFFFF)
    assert struct.unpack_from("<IIQI", blob, locator_at) == (0x07064B50, 0, end64_at, 1)
    assert len(zipfile.ZipFile(io.BytesIO(blob)).infolist()) == 0xFFFF


def zip_of(*members: tuple[zipfile.ZipInfo | str, bytes], compression: int = zipfile.ZIP_DEFLATED,
           level: int | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression, compresslevel=level) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return out.getvalue()


def test_read_entries_skips_folders_and_keeps_data_compressed() -> None:
    blob = zip_of(("pkg/", b""), ("pkg/a.py", b"a = 1\n" * 50), ("pkg/sub/", b""), ("pkg/b.py", b"b"))
    entries = read_entries(blob)
    assert [e.name for e in entries] == ["pkg/a.py", "pkg/b.py"]
    assert [inflate(e) for e in entries] == [b"a = 1\n" * 50, b"b"]
    assert entries[0].crc == zlib.crc32(b"a = 1\n" * 50)


def test_read_entries_finds_the_data_after_a_local_extra_field() -> None:
    info = zipfile.ZipInfo("app.py")
    info.extra = struct.pack("<HH", 0xCAFE, 4) + b"1234"
    (entry,) = read_entries(zip_of((info, b"x = 1\n")))
    assert inflate(entry) == b"x = 1\n"


def test_read_entries_reads_the_owner_exec_bit_only() -> None:
    members = []
    for name, mode in (("plain", 0o644), ("owner-x", 0o744), ("others-x", 0o645)):
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o100000 | mode) << 16
        members.append((info, b""))
    assert [e.mode for e in read_entries(zip_of(*members))] == [0o644, 0o755, 0o644]


def with_flags(blob: bytes, bits: int) -> bytes:
    """The zip with `bits` set in the general purpose flags of its local and central headers."""
    patched = bytearray(blob)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        patched[patched.index(signature) + offset] |= bits
    return bytes(patched)


def test_read_entries_accepts_any_deflate_level() -> None:
    blob = with_flags(zip_of(("a.py", b"a" * 1000)), 0x2)  # bits 1-2: the level deflate used
    assert zipfile.ZipFile(io.BytesIO(blob)).infolist()[0].flag_bits == 0x2
    assert inflate(read_entries(blob)[0]) == b"a" * 1000


def test_read_entries_refuses_other_methods_and_encryption() -> None:
    with pytest.raises(PackagingError, match=r"^a.py: unsupported zip member \(method or encryption\)$"):
        read_entries(zip_of(("a.py", b"a" * 100), compression=zipfile.ZIP_BZIP2))
    with pytest.raises(PackagingError, match="unsupported zip member"):
        read_entries(with_flags(zip_of(("a.py", b"a" * 100)), 0x1))  # encrypted


def test_entries_read_back_from_an_own_zip_are_copied_whole_and_give_the_same_bytes() -> None:
    entries = [compress("a/x.py", b"x = 1\n" * 40, False), compress("b\u00e9.bin", os.urandom(300), True),
               compress("run.sh", b"#!/bin/sh\n", True)]
    blob = write_zip(entries)
    read = read_entries(blob)
    assert all(e.local_record is not None for e in read)
    assert read == entries  # local_record is not compared: same members
    assert write_zip(read) == blob
    # Mixed with freshly compressed entries, in a new order: the same bytes either way.
    extra = compress("a/new.py", b"y = 2\n", False)
    mixed = [read[2], extra, read[0], read[1]]
    assert write_zip(mixed) == write_zip([entries[2], extra, entries[0], entries[1]])


def test_an_entry_read_back_and_renamed_is_written_under_its_new_name() -> None:
    (entry,) = read_entries(write_zip([compress("uuid/index.js", b"module.exports = 1\n" * 20, False)]))
    renamed = dataclasses.replace(entry, name="nodejs/node_modules/uuid/index.js")  # a layer's prefix
    blob = write_zip([renamed])
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert zf.testzip() is None
        assert zf.read("nodejs/node_modules/uuid/index.js") == b"module.exports = 1\n" * 20
    assert blob == write_zip([compress("nodejs/node_modules/uuid/index.js", b"module.exports = 1\n" * 20, False)])


def test_entries_of_a_foreign_zip_are_rewritten_and_read_as_zipfile_reads_them() -> None:
    blob = zip_of(("pkg/a.py", b"a = 1\n" * 50), ("pkg/b.txt", b"b"))
    read = read_entries(blob)
    assert all(e.local_record is None for e in read)  # zipfile's headers are not ours
    with zipfile.ZipFile(io.BytesIO(write_zip(read))) as zf:
        assert zf.testzip() is None
        assert zf.read("pkg/a.py") == b"a = 1\n" * 50


def test_a_zip_with_an_archive_comment_is_read_through_zipfile() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a.py", b"a = 1\n")
        zf.comment = b"made elsewhere"
    (entry,) = read_entries(out.getvalue())
    assert (entry.name, inflate(entry)) == ("a.py", b"a = 1\n")
