"""Ending every process an invocation started, however it tried to get away.

Three layers, because each one alone has a hole:

1. the process group: the bootstrap starts in a session of its own, so ``killpg`` ends
   it and every child that kept its group (POSIX, so this holds on macOS too);
2. the process tree (Linux): the bootstrap is a child subreaper, so a double-forked,
   ``setsid()`` daemon is re-parented to it rather than to init and stays in its tree.
   ``end_tree`` freezes that tree with SIGSTOP until it stops growing (a stopped
   process cannot fork), then kills it. The bootstrap does the same from inside
   before it exits (runtimes/python/bootstrap.py);
3. the environment marker (Linux): every process of the invocation inherits
   ``LAMBDADEPLOY_INVOCATION=<request id>`` unless it replaced its environment;
   ``sweep`` kills any process of this user that still carries it, e.g. one orphaned
   when the bootstrap itself died abruptly.

Without /proc (macOS) only the first layer holds: a daemon that calls ``setsid()``
outlives the invocation there.
"""

from __future__ import annotations

import contextlib
import os
import signal

MARKER = "LAMBDADEPLOY_INVOCATION"
_HAVE_PROC = os.path.isdir("/proc/self")
_ROUNDS = 100  # bounded: a fork bomb is slowed by SIGSTOP, not allowed to hang the caller


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def end_tree(root: int) -> None:
    """Kill ``root`` and every process below it (Linux), freezing them first so none escapes."""
    if not _HAVE_PROC:
        return
    frozen: set[int] = set()
    for _ in range(_ROUNDS):
        tree = {root, *descendants(root)} - frozen
        if not tree:
            break
        for pid in tree:
            _signal(pid, signal.SIGSTOP)
        frozen |= tree
    for pid in frozen:
        _signal(pid, signal.SIGKILL)


def sweep(marker_value: str) -> int:
    """Kill every process of this user whose environment carries the invocation's marker;
    returns how many were found (Linux; 0 elsewhere)."""
    if not _HAVE_PROC:
        return 0
    needle = f"{MARKER}={marker_value}".encode()
    found = 0
    for _ in range(_ROUNDS):
        marked = [pid for pid in _pids() if _carries(pid, needle)]
        if not marked:
            break
        found += len(marked)
        for pid in marked:
            _signal(pid, signal.SIGKILL)
    return found


def descendants(root: int) -> list[int]:
    """Live processes below ``root`` (zombies left out: they are dead already)."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        parent = _parent(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    if _HAVE_PROC:
        return _parent(pid) is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    """The parent of a live process, None for a zombie or a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 2 or fields[0] in (b"Z", b"X"):
        return None
    return int(fields[1])


def _carries(pid: int, needle: bytes) -> bool:
    if pid == os.getpid():
        return False
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return needle in f.read().split(b"\0")
    except OSError:  # another user's process, or gone
        return False


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
