"""The content-addressed cache of installed dependency trees, shared by every runtime.

An entry is `CACHE/deps/KEY/` holding `site/` (the installed tree) and whatever files
are derived from it. An install goes into a fresh temporary folder inside the cache
and is renamed into place in one step, so readers never see half a tree; when two
processes install the same key at once, the first rename wins and the other
discards its copy. Temporary folders a crashed build left behind are removed after
a day.
"""

from __future__ import annotations

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
    """The entry folder for `key` when a complete install is cached, else None."""
    entry = cache_dir / "deps" / key
    return entry if (entry / "site").is_dir() else None


def install_entry(cache_dir: Path, key: str, install: Callable[[Path], None], meta: dict[str, Any]) -> Path:
    """Run `install(site)` into a temporary entry and move it into place as `key`'s entry."""
    root = cache_dir / "deps"
    entry = root / key
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(root)
    temp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        site = temp / "site"
        site.mkdir(parents=True)
        install(site)
        (temp / "meta.json").write_text(json.dumps({**meta, "created": int(time.time())}, indent=2),
                                        encoding="utf-8")
        try:
            os.rename(temp, entry)
        except OSError:
            if not (entry / "site").is_dir():
                raise
            # Another build installed the same key meanwhile: theirs is as good as ours.
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return entry


def _remove_stale_temps(root: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in root.glob(".tmp-*"):
        try:
            if temp.stat().st_mtime < cutoff:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            pass
