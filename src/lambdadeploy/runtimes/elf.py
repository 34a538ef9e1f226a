"""Which CPU an ELF file (a `.so` library, a `.node` addon, an executable) is built for.

The ELF header's ``e_machine`` field names the architecture. Packaging asks (did the
installer fetch Lambda's binaries?) and so does the sandbox (can this machine load them?).
"""

from __future__ import annotations

from pathlib import Path

# ELF e_machine values, named as Lambda names architectures where it has a name for them.
ELF_MACHINES = {3: "x86", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64",
                183: "arm64", 243: "riscv64"}  # fmt: skip


def elf_architecture(path: Path) -> str | None:
    """The architecture an ELF file is built for, or None when it is not ELF."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = "big" if header[5] == 2 else "little"
    machine = int.from_bytes(header[18:20], order)
    return ELF_MACHINES.get(machine, f"machine {machine}")
