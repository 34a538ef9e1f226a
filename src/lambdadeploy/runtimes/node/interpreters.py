"""Which `node` runs a Node.js function locally: exactly the runtime's major version, or none.

A function deployed as ``nodejs22.x`` runs under a Node.js 22 on this machine and never
under another major version (a different V8 changes syntax, globals and the handler
contract: nodejs24.x has no callback handlers). ``find_node`` looks, in order, at
``node`` and ``nodeNN`` on PATH, then the installs of the usual version managers (nvm,
fnm, volta, asdf, n), runs each candidate to read its version (a version manager's shim
may answer for another version), and keeps the real binary it reports
(``process.execPath``), so a shim cannot switch versions in the function's folder. With
none it raises RuntimeUnavailable naming the version and how to install it; it never
downloads Node.js itself (that would leave the package registries in the middle of a
smoke test, and fail offline).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..base import RuntimeUnavailable
from .platform import node_major

PROBE_TIMEOUT_S = 10
_PROBE = "process.stdout.write(process.versions.node + '\\n' + process.execPath)"
_VERSION_DIR = re.compile(r"^v?\d+\.\d+\.\d+")
_lock = threading.Lock()
_found: dict[int, Node] = {}  # major -> node; misses are looked up again


@dataclass(frozen=True)
class Node:
    """A working Node.js: its real binary and its version."""

    path: str
    version: tuple[int, int, int]

    @property
    def major(self) -> int:
        return self.version[0]


def find_node(runtime: str) -> Node:
    """A working node of exactly the runtime's major version (see the module docstring)."""
    major = node_major(runtime)
    if major is None:
        raise RuntimeUnavailable(f"{runtime!r} is not a Node.js runtime")
    with _lock:
        if major in _found:
            return _found[major]
        found = next(filter(None, (probe(c, major) for c in candidates(major))), None)
        if found is None:
            raise RuntimeUnavailable(missing_message(runtime, major), hint=install_hint(major))
        _found[major] = found
        return found


def host_node() -> Node | None:
    """The `node` on PATH, whatever its version (for checks that only need some Node.js)."""
    return _probe_once(shutil.which("node"))


@functools.lru_cache(maxsize=8)
def _probe_once(node: str | None) -> Node | None:
    return probe(node, None)  # one run per binary and process: packaging checks many handlers


def missing_message(runtime: str, major: int) -> str:
    return (f"runtime {runtime} needs Node.js {major} and this machine has none (looked for node and "
            f"node{major} on PATH and in nvm, fnm, volta, asdf and n installs); the sandbox never runs "
            f"a function under another Node.js version")


def install_hint(major: int) -> str:
    return (f"install it with `nvm install {major}` (or `fnm install {major}`, `volta install node@{major}`), "
            "then invoke again")


def candidates(major: int) -> Iterator[str | None]:
    """Where to look, in order (lazily: the managers' folders are listed only when PATH fails)."""
    yield shutil.which("node")
    yield shutil.which(f"node{major}")
    home = Path.home()
    managers = (
        (os.environ.get("NVM_DIR") or home / ".nvm", f"versions/node/v{major}.*/bin/node"),
        (os.environ.get("FNM_DIR") or home / ".local/share/fnm", f"node-versions/v{major}.*/installation/bin/node"),
        (home / ".fnm", f"node-versions/v{major}.*/installation/bin/node"),
        (os.environ.get("VOLTA_HOME") or home / ".volta", f"tools/image/node/{major}.*/bin/node"),
        (os.environ.get("ASDF_DATA_DIR") or home / ".asdf", f"installs/nodejs/{major}.*/bin/node"),
        (os.environ.get("N_PREFIX") or "/usr/local", f"n/versions/node/{major}.*/bin/node"),
    )
    for root, pattern in managers:
        found = sorted(Path(root).glob(pattern), key=_version_key, reverse=True)
        yield from (str(p) for p in found)


def _version_key(path: Path) -> list[int]:
    """[22, 11, 0] for .../v22.11.0/bin/node: newest install first."""
    folder = next((p for p in reversed(path.parts) if _VERSION_DIR.match(p)), "0")
    return [int(x) if x.isdigit() else 0 for x in folder.lstrip("v").split(".")]


def probe(node: str | None, major: int | None) -> Node | None:
    """Run the candidate: its version (of ``major`` if given) and its real binary, or None."""
    if not node:
        return None
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    try:
        done = subprocess.run([node, "-e", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2:
        return None
    try:
        version = tuple(int(x) for x in lines[0].strip().split(".")[:3])
    except ValueError:
        return None
    if len(version) != 3 or (major is not None and version[0] != major):
        return None
    return Node(lines[1].strip() or node, version)  # type: ignore[arg-type]
