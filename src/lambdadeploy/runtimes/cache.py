"""The content-addressed cache of installed dependency trees, shared by every runtime.

An entry is `CACHE/deps/KEY/` holding `site/` (the installed tree), `meta.json` (what it
was installed for, and `site_sha256`, the digest of the tree as installed) and whatever
files are derived from it. An install goes into a fresh temporary folder inside the cache
and is renamed into place in one step, so readers never see half a tree; when two
processes install the same key at once, the first rename wins and the other discards its
copy. Temporary folders a crashed build left behind are removed after a day.

Nothing in the cache is trusted blindly: `verify_entry` recomputes the tree's digest
before anything is derived from it, and a bad entry is discarded (renamed away in one
step, then removed) so the next install replaces it. A transient entry (`.fresh-*`,
for requirements whose content can change without their text changing) serves one build
and is then released.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

STALE_TEMP_SECONDS = 24 * 3600


def cached_entry(cache_dir: Path, key: str) -> Path | None:
    """The entry folder for `key` when a complete install is cached, else None. An entry with
    no readable digest (a crash, an older format, an edit) is discarded."""
    entry = cache_dir / "deps" / key
    if not (entry / "site").is_dir():
        return None
    if _recorded_digest(entry) is None:
        discard_entry(entry)
        return None
    return entry


def install_entry(cache_dir: Path, key: str, install: Callable[[Path], None], meta: dict[str, Any],
                  *, transient: bool = False) -> Path:
    """Run `install(site)` into a temporary entry and move it into place as `key`'s entry
    (or, transient, as an entry of its own for one build: see release_entry)."""
    root = cache_dir / "deps"
    entry = root / (f".fresh-{key}-{uuid.uuid4().hex}" if transient else key)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(root)
    temp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        site = temp / "site"
        site.mkdir(parents=True)
        install(site)
        record = {**meta, "created": int(time.time()), "site_sha256": tree_digest(site)}
        (temp / "meta.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        try:
            os.rename(temp, entry)
        except OSError:
            if not (entry / "site").is_dir():
                raise
            # Another build installed the same key meanwhile: theirs is as good as ours.
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return entry


def verify_entry(entry: Path) -> bool:
    """Whether the entry's installed tree is still exactly what was installed."""
    recorded = _recorded_digest(entry)
    return recorded is not None and tree_digest(entry / "site") == recorded


def discard_entry(entry: Path) -> None:
    """Remove an entry; renamed away first, so no reader ever sees half of it."""
    trash = entry.parent / f".tmp-{uuid.uuid4().hex}"
    try:
        os.rename(entry, trash)
    except OSError:
        return  # already gone (another build discarded it)
    shutil.rmtree(trash, ignore_errors=True)


def release_entry(entry: Path) -> None:
    """Done with an entry: a transient one is removed, a cached one stays."""
    if entry.name.startswith(".fresh-"):
        shutil.rmtree(entry, ignore_errors=True)


def tree_digest(site: Path) -> str:
    """sha256 over every path, kind, executable bit and content (a link: its target) under `site`."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(site):
        dirs.sort()
        base = Path(folder)
        for name in sorted([*files, *(d for d in dirs if (base / d).is_symlink())]):
            path = base / name
            relative = path.relative_to(site).as_posix().encode("utf-8", "surrogateescape")
            if path.is_symlink():
                digest.update(b"L" + relative + b"\0" + os.fsencode(os.readlink(path)) + b"\0")
                continue
            try:
                mode = path.stat().st_mode
                data = path.read_bytes()
            except OSError:
                data, mode = b"", 0
            digest.update(b"F" + relative + b"\0" + (b"x" if mode & 0o100 else b"-"))
            digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _recorded_digest(entry: Path) -> str | None:
    try:
        value = json.loads((entry / "meta.json").read_text(encoding="utf-8")).get("site_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) == 64 else None


def _remove_stale_temps(root: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in [*root.glob(".tmp-*"), *root.glob(".fresh-*")]:
        try:
            if temp.stat().st_mtime < cutoff:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            pass
