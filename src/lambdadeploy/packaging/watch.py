"""What `package --watch` watches: the files a build reads, compared poll by poll.

Polling the files' identities (size, modification time, inode) every POLL_SECONDS needs no
dependency and no OS-specific API, and costs a few system calls per file; a function's own
folder is small (dependencies are installed into the cache, not watched). An editor that
saves by writing a new file and renaming it changes the inode; one that writes in place
changes the size or the modification time.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

POLL_SECONDS = 0.01
# After a change, how long a poll waits to see whether the save goes on: the writes of one
# save (truncate then write, a temporary file renamed) come microseconds apart.
SETTLE_SECONDS = 0.003

# path -> (size, modification time in ns, inode); a missing input is (-1, -1, -1): its
# appearance is a change too.
Snapshot = dict[str, tuple[int, int, int]]
MISSING = (-1, -1, -1)


def snapshot(roots: Iterable[Path], packed: Callable[[Path, bool], bool] | None = None) -> Snapshot:
    """The identity of every file under `roots` (files or folders) that `packed` keeps
    (folders it refuses are not entered)."""
    found: Snapshot = {}
    for root in roots:
        try:
            info = root.stat()
        except OSError:
            found[str(root)] = MISSING
            continue
        if not stat.S_ISDIR(info.st_mode):
            found[str(root)] = (info.st_size, info.st_mtime_ns, info.st_ino)
            continue
        for folder, subfolders, files in os.walk(root):
            base = Path(folder)
            if packed is not None:
                subfolders[:] = sorted(d for d in subfolders if packed(base / d, True))
            for name in files:
                path = base / name
                if packed is not None and not packed(path, False):
                    continue
                try:
                    info = path.stat()
                except OSError:
                    continue  # gone between listing and looking: the next poll sees it missing
                found[str(path)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


def changed_keys(before: Mapping[str, Snapshot], after: Mapping[str, Snapshot]) -> list[str]:
    """The keys (a function, a layer, the config) whose snapshot differs, sorted."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def watch(inputs: Callable[[], dict[str, Snapshot]], rebuild: Callable[[list[str]], None],
          stopping: Callable[[], bool], built_from: dict[str, Snapshot], poll_seconds: float = POLL_SECONDS,
          sleep: Callable[[float], None] = time.sleep, settle_seconds: float = SETTLE_SECONDS) -> None:
    """Poll `inputs()` until `stopping()`; call `rebuild(keys)` with what changed since
    `built_from`, the snapshot taken before the first build, once a poll sees no further
    change. Each snapshot is taken before the rebuild it triggers, so an edit made while a
    build runs is seen at the next poll."""
    last = built_from
    while not stopping():
        sleep(poll_seconds)
        current = inputs()
        keys = set(changed_keys(last, current))
        # A save is often more than one write (truncate, then write; or several files): wait
        # until a poll sees nothing new, so one save is one rebuild of the finished files.
        while keys and not stopping():
            sleep(settle_seconds)
            settled = inputs()
            more = changed_keys(current, settled)
            current = settled
            if not more:
                break
            keys.update(more)
        last = current
        if keys and not stopping():
            rebuild(sorted(keys))
