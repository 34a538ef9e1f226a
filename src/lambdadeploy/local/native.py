"""Native code in a package, and whether this machine can load it.

Lambda runs Linux on x86_64 or arm64; a package's native code (``.so`` libraries and
executables) is ELF for one of them. Loading another architecture's ELF here fails
with an ImportError that looks like a packaging bug, so before an invocation the
runner asks ``foreign_code`` which native files this machine cannot run, and says so
plainly instead. The ELF header's ``e_machine`` field names the architecture.
"""

from __future__ import annotations

import functools
import os
import platform
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ..runtimes.elf import elf_architecture

_MACHINE_NAMES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class NativeFile:
    path: str  # relative to the folder scanned
    architecture: str  # "x86_64", "arm64", ... (see runtimes/elf.py)


def host_architecture() -> str:
    """This machine's CPU, as Lambda names it (x86_64, arm64), or as the OS names it."""
    machine = platform.machine().lower()
    return _MACHINE_NAMES.get(machine, machine)


def host_runs_elf() -> bool:
    """Linux loads ELF; macOS and Windows load none of a Lambda package's native code."""
    return sys.platform.startswith("linux")


def host_label() -> str:
    """'x86_64', or 'macOS arm64' where the OS is not Linux."""
    if host_runs_elf():
        return host_architecture()
    system = {"darwin": "macOS", "win32": "Windows"}.get(sys.platform, sys.platform)
    return f"{system} {host_architecture()}"


def foreign_code(root: Path) -> tuple[NativeFile, ...]:
    """The native files under ``root`` that this machine cannot load."""
    host = host_architecture()
    return tuple(f for f in native_files(root) if not host_runs_elf() or f.architecture != host)


@functools.lru_cache(maxsize=256)
def native_files(root: Path) -> tuple[NativeFile, ...]:
    """Every ELF file under ``root`` that is a shared library or executable (cached: the
    extracted artifacts and layers it is asked about never change)."""
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                continue
            if ".so" in name or name.endswith(".node") or mode & 0o111:  # .node: Node.js addons
                architecture = elf_architecture(path)
                if architecture is not None:
                    found.append(NativeFile(path.relative_to(root).as_posix(), architecture))
    return tuple(sorted(found, key=lambda f: f.path))


