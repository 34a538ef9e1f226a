"""Where an invocation runs: the extracted package (/var/task), its layers (/opt), and
whether this machine can run their native code.

An arm64 function whose package is pure Python runs here as it is: the bytecode is the
same on every CPU. One with arm64 native code cannot load on an x86_64 machine (nor
any Linux native code on macOS), and no emulation is attempted: qemu-user would also
need an arm64 Python of the runtime's version and an arm64 C library, which this tool
cannot provide. The invocation then fails with ``Sandbox.ForeignArchitecture`` naming
the files, unless ``--smoke-arch host`` asked to run the same pinned versions rebuilt
for this machine (runtimes: ``Runtime.host_build``); the result then says which build ran.
Layers are not rebuilt: foreign native code in a layer always fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..runtimes import Runtime, RuntimeUnavailable
from . import native
from .artifacts import extract_artifact, extract_layers

SMOKE_ARCHES = ("function", "host")  # run what was deployed / rebuild native code for this machine


class ForeignArchitecture(RuntimeUnavailable):
    """The package has native code for another CPU than this machine's."""

    error_type = "Sandbox.ForeignArchitecture"


@dataclass(frozen=True)
class Placement:
    task_root: Path
    opt_root: Path | None  # the /opt stand-in, when the function has layers
    host_build: str | None = None  # the architecture native code was rebuilt for (--smoke-arch host)


def place(family: Runtime, zip_bytes: bytes, layer_zips: Sequence[bytes], *, runtime: str, architecture: str,
          smoke_arch: str = "function", report: Callable[[str], None] = lambda _: None) -> Placement:
    """Extract the package and layers; check (or rebuild) native code for this machine."""
    task_root = extract_artifact(zip_bytes)
    opt_root = extract_layers(layer_zips) if layer_zips else None
    if native.host_runs_elf() and architecture == native.host_architecture():
        return Placement(task_root, opt_root)  # what Lambda would load, this machine loads
    in_package = native.foreign_code(task_root)
    in_layers = native.foreign_code(opt_root) if opt_root else ()
    if not in_package and not in_layers:
        return Placement(task_root, opt_root)  # pure Python runs the same on any CPU
    host = native.host_architecture()
    if smoke_arch == "host" and native.host_runs_elf() and not in_layers:
        rebuilt = family.host_build(task_root, runtime, host, tuple(f.path for f in in_package), report)
        return Placement(rebuilt, opt_root, host)
    raise ForeignArchitecture(_message(in_package, in_layers, smoke_arch),
                              hint=_hint(architecture, host, in_layers, family.builds_for_host()))


def _message(in_package: Sequence[native.NativeFile], in_layers: Sequence[native.NativeFile],
             smoke_arch: str) -> str:
    files = [*in_package, *in_layers]
    arches = sorted({f.architecture for f in files})
    first = ("layer file " if not in_package else "") + files[0].path
    more = f" and {len(files) - 1} more" if len(files) > 1 else ""
    text = (f"cannot run {'/'.join(arches)} native code on this {native.host_label()} machine: "
            f"{first}{more} {'is' if not more else 'are'} built for {arches[0]}, and no emulation is used")
    if smoke_arch == "host" and in_layers:
        text += "; --smoke-arch host rebuilds the function's own dependencies, not its layers'"
    return text


def _hint(architecture: str, host: str, in_layers: Sequence[native.NativeFile], rebuilds: bool = True) -> str:
    elsewhere = f"or smoke-test on an {architecture} machine"
    if in_layers or not native.host_runs_elf() or not rebuilds:
        return elsewhere
    return (f"--smoke-arch host (push, invoke --local) runs the same pinned versions built for {host} "
            f"and labels the result so; {elsewhere}")
