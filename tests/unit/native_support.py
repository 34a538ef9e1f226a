"""Fake native wheels for the architecture tests: ELF headers, no compiler needed."""

from __future__ import annotations

from pathlib import Path

from lambdadeploy.local import native

from .packaging_support import make_wheel

HOST = native.host_architecture()
FOREIGN = "arm64" if HOST != "arm64" else "x86_64"
WHEEL_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
ELF_MACHINE = {"arm64": 183, "x86_64": 62}


def elf(architecture: str) -> bytes:
    """The header of a 64-bit little-endian ELF shared object for `architecture` (enough to be
    recognised; not loadable)."""
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += (3).to_bytes(2, "little") + ELF_MACHINE[architecture].to_bytes(2, "little")
    return header + bytes(44)


def native_wheel(folder: Path, architecture: str, version: str = "1.0") -> Path:
    """fakenative, whose import needs its `_speedups` extension (built for `architecture`)."""
    return make_wheel(folder, "fakenative", {
        "fakenative/__init__.py": f"from . import _speedups\nBUILD = {architecture!r}\nVERSION = {version!r}\n",
        "fakenative/_speedups.so": elf(architecture),
    }, tag=f"py3-none-manylinux_2_17_{WHEEL_MACHINE[architecture]}", version=version)


def host_wheel(folder: Path, version: str) -> Path:
    """fakenative as an index would serve it for this machine (its `_speedups` is Python here,
    so the test needs no compiler)."""
    return make_wheel(folder, "fakenative", {
        "fakenative/__init__.py": f"from . import _speedups\nBUILD = {HOST!r}\nVERSION = {version!r}\n",
        "fakenative/_speedups.py": "",
    }, tag=f"py3-none-manylinux_2_17_{WHEEL_MACHINE[HOST]}", version=version)
