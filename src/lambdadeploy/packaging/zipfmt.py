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

Speed matters here because a rebuild is mostly this module: an entry read from
a zip this module wrote keeps its whole local record (header, name, data) as one
slice, which write_zip copies as is, and the archive is joined once from those
slices instead of being written piece by piece.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One zip member with its data already in final (stored or deflated) form."""

    name: str
    method: int  # STORED or DEFLATED
    crc: int
    compressed_size: int
    size: int
    mode: int  # 0o644 or 0o755
    data: bytes | memoryview
    # The local header, name and data exactly as write_zip would write them, when the entry
    # was read from a zip laid out by this module: copied in one piece while the header and
    # name still match the fields (write_zip checks). Not compared.
    local_record: bytes | memoryview | None = field(default=None, compare=False, repr=False)

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
    parts: list[bytes | memoryview] = []
    central: list[bytes] = []
    offset = 0
    local, central_pack, local_size = _LOCAL.pack, _CENTRAL.pack, _LOCAL.size  # hot loop: 1,000s of entries
    for e in entries:
        name = e.name.encode("utf-8")
        size, compressed_size = e.size, e.compressed_size
        if offset > _MAX32 or compressed_size > _MAX32 or size > _MAX32:
            raise PackagingError(f"{e.name}: too large for a zip without zip64 sizes")
        # Fields shared by the local header and the central record, in APPNOTE order:
        # method, time, date, crc-32, compressed size, size, name length.
        flags = 0 if name.isascii() else _UTF8_FLAG
        shared = (e.method, _DOS_TIME, _DOS_DATE, e.crc, compressed_size, size, len(name))
        header = local(0x04034B50, _VERSION_NEEDED, flags, *shared, 0)
        record = e.local_record
        end = local_size + len(name)
        # A local record read from a zip of ours is copied whole while it still says what the
        # entry's fields say; an entry renamed (a layer's folder prefix) is written anew.
        if record is not None and len(record) == end + compressed_size and record[:end] == header + name:
            parts.append(record)
        else:
            parts += (header, name, e.data)
        # extra length, comment length, disk number, internal attributes: all zero; then the
        # external attributes: a regular file with its Unix permissions.
        central += (central_pack(0x02014B50, _VERSION_MADE_BY, _VERSION_NEEDED, flags, *shared, 0, 0, 0, 0,
                                 (0o100000 | e.mode) << 16, offset), name)
        offset += end + compressed_size
    cd_offset = offset
    cd = b"".join(central)
    parts.append(cd)
    count = len(entries)
    if count >= _MAX16:
        # More entries than the classic end record can count: add the zip64 end records.
        end64_offset = cd_offset + len(cd)
        parts.append(
            _END64.pack(
                0x06064B50, _END64.size - 12, 45, 45, 0, 0, count, count, len(cd), cd_offset
            )
        )
        parts.append(_END64_LOCATOR.pack(0x07064B50, 0, end64_offset, 1))
    parts.append(
        _END.pack(0x06054B50, 0, 0, min(count, _MAX16), min(count, _MAX16), len(cd), cd_offset, 0)
    )
    return b"".join(parts)


def read_entries(blob: bytes) -> list[RawEntry]:
    """The entries of a zip with their data still compressed, ready to copy raw.

    Meant for the fragments this module wrote, which are read straight from their central
    directory; accepts any zip whose members are stored or deflated and not encrypted (an
    archive comment, zip64 fields or an odd name take zipfile's slower reading).
    """
    entries = _read_own_layout(blob)
    return entries if entries is not None else _read_with_zipfile(blob)


def _read_own_layout(blob: bytes) -> list[RawEntry] | None:
    """read_entries for a zip without comment or zip64 fields, whose names zipfile would not
    alter; None for any other zip. An entry whose local record is byte for byte what
    write_zip writes keeps it as local_record."""
    if len(blob) < _END.size:
        return None
    signature, _, _, _, count, cd_size, cd_offset, comment = _END.unpack_from(blob, len(blob) - _END.size)
    if signature != 0x06054B50 or comment or count == _MAX16 or cd_offset + cd_size != len(blob) - _END.size:
        return None
    view = memoryview(blob)
    result: list[RawEntry] = []
    position = cd_offset
    for _ in range(count):
        if position + _CENTRAL.size > len(blob):
            return None
        (signature, _, _, flags, method, _, _, crc, compressed_size, size, name_len, extra_len,
         comment_len, _, _, attributes, offset) = _CENTRAL.unpack_from(blob, position)
        raw_name = bytes(view[position + _CENTRAL.size:position + _CENTRAL.size + name_len])
        position += _CENTRAL.size + name_len + extra_len + comment_len
        if signature != 0x02014B50 or _MAX32 in (compressed_size, size, offset) or b"\x00" in raw_name:
            return None
        # ASCII reads the same either way; decoding it as cp437 would import that codec.
        name = raw_name.decode("utf-8" if flags & _UTF8_FLAG or raw_name.isascii() else "cp437")
        if name.endswith("/"):
            continue
        if method not in (STORED, DEFLATED) or flags & 0x1:
            raise PackagingError(f"{name}: unsupported zip member (method or encryption)")
        header = _LOCAL.unpack_from(blob, offset)
        start = offset + _LOCAL.size + header[9] + header[10]
        own_flags = 0 if raw_name.isascii() else _UTF8_FLAG
        ours = (0x04034B50, _VERSION_NEEDED, own_flags, method, _DOS_TIME, _DOS_DATE, crc, compressed_size,
                size, name_len, 0)
        whole = header == ours and own_flags == flags and view[offset + _LOCAL.size:start] == raw_name
        entry = RawEntry(name, method, crc, compressed_size, size, 0o755 if (attributes >> 16) & 0o100 else 0o644,
                         view[start:start + compressed_size], view[offset:start + compressed_size] if whole else None)
        result.append(entry)
    return result


def _read_with_zipfile(blob: bytes) -> list[RawEntry]:
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
