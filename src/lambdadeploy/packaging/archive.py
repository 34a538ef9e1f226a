"""The deterministic zip: own code compressed per build, dependencies copied raw.

The dependency tree rarely changes between builds, the function's code often.
So the dependency tree is compressed once into a zip fragment stored next to
it in the cache, and each build copies those entries into the new zip without
decompressing or recompressing them; only the function's own files are
compressed. Raw copies are only as good as the cached bytes, so the fragment is
content-addressed and verified on every use (see dependency_entries). Entries are sorted by name, timestamps fixed and permissions
normalised (see zipfmt), so the bytes depend on file names, contents and
executable bits only.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import uuid
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import PackagingError
from . import zipfmt
from .files import SourceFile, walk_tree
from .zipfmt import RawEntry

FRAGMENT_PREFIX = "deps-"  # deps-<sha256 of the fragment>.zip: the name says what the bytes must hash to
# zlib releases the GIL, so threads compress in parallel: about 1.7x faster on
# two cores for a 50 MB dependency tree. Below this much data a pool is not worth it.
PARALLEL_MIN_BYTES = 1024 * 1024


def source_entries(files: Sequence[SourceFile]) -> list[RawEntry]:
    """Compressed entries for the function's own files, in the order given."""
    return _compress_all([(f.arcname, f.path, f.executable) for f in files])


def dependency_entries(site: Path, entry: Path, verify_site: Callable[[], bool],
                       report: Callable[[str], None]) -> list[RawEntry] | None:
    """Entries of an installed tree, from its cached zip fragment (built on first use); None
    when the installed tree itself no longer matches its digest (the caller reinstalls).

    The fragment is named by the sha256 of its bytes and checked against it on every use:
    corrupt, truncated or swapped bytes are never copied into a zip; such a fragment is
    rebuilt, with a warning. It is built only from a tree that passes verify_site, written
    to a temporary name and renamed into place, so concurrent builds never read a partial
    one; they may both write it, with identical content.
    """
    for fragment in sorted(entry.glob(f"{FRAGMENT_PREFIX}*.zip")):
        entries = _verified_entries(fragment)
        if entries is not None:
            return entries
        report(f"warning: the cached zip of the dependencies ({fragment}) is corrupt; rebuilt it")
        fragment.unlink(missing_ok=True)
    if not verify_site():
        return None
    files = sorted(walk_tree(site), key=lambda f: f.arcname)
    blob = zipfmt.write_zip(source_entries(files))
    temp = entry / f".{FRAGMENT_PREFIX}{uuid.uuid4().hex}"
    temp.write_bytes(blob)
    os.replace(temp, entry / _fragment_name(blob))
    return zipfmt.read_entries(blob)


# Fragments this process has verified, by path, with the file's identity when it was read, for a
# long-running process (`package --watch`) that rebuilds the same functions: it verifies each
# fragment once, not once per build. Off unless asked for (keep_verified_fragments), since each
# holds its bytes: a push of many functions should not keep them all. Capped, oldest first out.
VERIFIED_CACHE_BYTES = 256 * 1024 * 1024
_verified: dict[Path, tuple[tuple[int, int, int, int], int, list[RawEntry]]] = {}
_verified_lock = threading.Lock()
_keep_verified = [False]


def keep_verified_fragments() -> None:
    """From now on, remember verified fragments (see above); for `package --watch`."""
    _keep_verified[0] = True


def _verified_entries(fragment: Path) -> list[RawEntry] | None:
    """The fragment's entries if its bytes hash to its name, else None. A fragment already
    verified by this process is used again while its file is the same one (inode, size, change
    and modification times): any write to it, or a new file in its place, is verified anew."""
    try:
        info = fragment.stat()
    except OSError:
        return None
    identity = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _verified_lock:
        known = _verified.get(fragment)
    if known is not None and known[0] == identity:
        return known[2]
    entries = _read_and_verify(fragment)
    if entries is not None and _keep_verified[0] and info.st_size <= VERIFIED_CACHE_BYTES:
        with _verified_lock:
            _verified.pop(fragment, None)
            _verified[fragment] = (identity, info.st_size, entries)
            while sum(size for _, size, _ in _verified.values()) > VERIFIED_CACHE_BYTES:
                del _verified[next(iter(_verified))]
    return entries


def _read_and_verify(fragment: Path) -> list[RawEntry] | None:
    """The fragment's entries if its bytes hash to its name, else None. The digest is computed
    on another thread while this one reads the zip's directory (sha256 releases the GIL): a
    build pays for the longer of the two, not both. Entries of a fragment that fails the
    check are never returned, whatever its directory said."""
    blob = fragment.read_bytes()
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_fragment_name, blob)
        try:
            entries: list[RawEntry] | None = zipfmt.read_entries(blob)
        except (PackagingError, ValueError, struct.error, zipfile.BadZipFile):
            entries = None  # corrupt bytes may not parse; the digest decides what they are
        intact = fragment.name == digest.result()
    if not intact:
        return None
    return entries if entries is not None else zipfmt.read_entries(blob)  # raises what it is


def _fragment_name(blob: bytes) -> str:
    return f"{FRAGMENT_PREFIX}{hashlib.sha256(blob).hexdigest()}.zip"


def merge(own: list[RawEntry], deps: list[RawEntry]) -> tuple[list[RawEntry], list[str]]:
    """All entries sorted by name; where own code and a dependency share a path, own code wins.

    Returns the entries and the dependency paths that own code shadowed.
    """
    own_names = {e.name for e in own}
    shadowed = [e.name for e in deps if e.name in own_names]
    kept = [e for e in deps if e.name not in own_names]
    return sorted(own + kept, key=lambda e: e.name), shadowed


def _compress_all(items: list[tuple[str, Path, bool]]) -> list[RawEntry]:
    def one(item: tuple[str, Path, bool]) -> RawEntry:
        name, path, executable = item
        return zipfmt.compress(name, path.read_bytes(), executable)

    total = sum(_size(path) for _, path, _ in items)
    workers = min(4, os.cpu_count() or 1)
    if total < PARALLEL_MIN_BYTES or workers < 2 or len(items) < 2:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, items))  # map keeps input order: output stays deterministic


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
