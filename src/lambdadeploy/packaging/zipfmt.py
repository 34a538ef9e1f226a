"""A minimal, deterministic zip writer that takes already-compressed entries.

zipfile cannot add an entry whose data is already deflated, and that is what
makes rebuilds fast: the dependency tree is compressed once into a cached
fragment and its entries are copied raw into every later zip. Writing the
headers ourselves also pins every byte that zipfile would take from the
environment (timestamps, creator system, extra fields), so the same inputs
always give the same archive and the same CodeSha256.

Format: APPNOTE.TXT. Local headers carry sizes and CRC (no data descriptors),
no extra fields, a fixed 1980-01-01 00:00 timestamp and Unix permissions. Sizes
and offsets stay below 4 GiB (Lambda's own limits are far lower); only the
entry count may need the zip64 end records.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from ..errors import PackagingError

STORED = zipfile.ZIP_STORED
DEFLATED = zipfile.ZIP_DEFLATED
# zlib's default level: within a few percent of level 9's size at a fraction of its time.
COMPRESS_LEVEL = 6

_DOS_TIME = 0  # 00:00:00
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest date a zip can hold
_VERSION_NEEDED = 20  # 2.0: deflate
_VERSION_MADE_BY = (3 << 8) | 20  # 3 = Unix, so readers honour the permission bits
_UTF8_FLAG = 0x800
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_END64_LOCATOR = struct.Struct("<IIQI")
_MAX16 = 0xFFFF
_MAX32 = 0xFFFFFFFF


@dataclass(frozen=True)
class RawEntry:
    """One zip member with its data already in final (stored or deflated) form."""

    name: str
    method: int  # STORED or DEFLATED
    crc: int
    compressed_size: int
    size: int
    mode: int  # 0o644 or 0o755
    data: bytes | memoryview

    @property
    def record_size(self) -> int:
        """Bytes this entry adds to the archive: local header, data and central record."""
        name_len = len(self.name.encode("utf-8"))
        return _LOCAL.size + _CENTRAL.size + 2 * name_len + self.compressed_size


def compress(name: str, content: bytes, executable: bool) -> RawEntry:
    """An entry for content, deflated unless deflating does not make it smaller."""
    packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    deflated = packer.compress(content) + packer.flush()
    method, data = (DEFLATED, deflated) if len(deflated) < len(content) else (STORED, content)
    return RawEntry(
        name=name,
        method=method,
        crc=zlib.crc32(content),
        compressed_size=len(data),
        size=len(content),
        mode=0o755 if executable else 0o644,
        data=data,
    )


def archive_size(entries: list[RawEntry]) -> int:
    """The exact size write_zip will produce, so limits are checked before writing."""
    end = _END.size
    if len(entries) >= _MAX16:
        end += _END64.size + _END64_LOCATOR.size
    return sum(e.record_size for e in entries) + end


def write_zip(entries: list[RawEntry]) -> bytes:
    """A zip of entries, in the order given. Same entries, same bytes."""
    out = io.BytesIO()
    central = io.BytesIO()
    for e in entries:
        offset = out.tell()
        name = e.name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_FLAG
        if offset > _MAX32 or e.compressed_size > _MAX32 or e.size > _MAX32:
            raise PackagingError(f"{e.name}: too large for a zip without zip64 sizes")
        # Fields shared by the local header and the central record, in APPNOTE order:
        # method, time, date, crc-32, compressed size, size, name length.
        shared = (e.method, _DOS_TIME, _DOS_DATE, e.crc, e.compressed_size, e.size, len(name))
        out.write(_LOCAL.pack(0x04034B50, _VERSION_NEEDED, flags, *shared, 0))
        out.write(name)
        out.write(e.data)
        # extra length, comment length, disk number, internal attributes: all zero.
        attributes = (0o100000 | e.mode) << 16  # regular file, Unix permissions
        record = (0x02014B50, _VERSION_MADE_BY, _VERSION_NEEDED, flags, *shared, 0, 0, 0, 0)
        central.write(_CENTRAL.pack(*record, attributes, offset))
        central.write(name)
    cd_offset = out.tell()
    cd = central.getvalue()
    out.write(cd)
    count = len(entries)
    if count >= _MAX16:
        # More entries than the classic end record can count: add the zip64 end records.
        end64_offset = out.tell()
        out.write(
            _END64.pack(
                0x06064B50, _END64.size - 12, 45, 45, 0, 0, count, count, len(cd), cd_offset
            )
        )
        out.write(_END64_LOCATOR.pack(0x07064B50, 0, end64_offset, 1))
    out.write(
        _END.pack(0x06054B50, 0, 0, min(count, _MAX16), min(count, _MAX16), len(cd), cd_offset, 0)
    )
    return out.getvalue()


def read_entries(blob: bytes) -> list[RawEntry]:
    """The entries of a zip with their data still compressed, ready to copy raw.

    Meant for the fragments this module wrote; accepts any zip whose members are
    stored or deflated and not encrypted.
    """
    view = memoryview(blob)
    result: list[RawEntry] = []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.compress_type not in (STORED, DEFLATED) or info.flag_bits & 0x1:
                raise PackagingError(
                    f"{info.filename}: unsupported zip member (method or encryption)"
                )
            header = _LOCAL.unpack_from(blob, info.header_offset)
            start = info.header_offset + _LOCAL.size + header[9] + header[10]
            result.append(
                RawEntry(
                    name=info.filename,
                    method=info.compress_type,
                    crc=info.CRC,
                    compressed_size=info.compress_size,
                    size=info.file_size,
                    mode=0o755 if (info.external_attr >> 16) & 0o100 else 0o644,
                    data=view[start : start + info.compress_size],
                )
            )
    return result


def inflate(entry: RawEntry) -> bytes:
    """The uncompressed content of an entry (used to compile-check the handler)."""
    data = bytes(entry.data)
    return zlib.decompress(data, -15) if entry.method == DEFLATED else data
