"""The Lambda platform a Node.js function's dependencies are installed for.

Every nodejs runtime runs on Linux with glibc (nodejs18.x on Amazon Linux 2,
nodejs20.x and later on Amazon Linux 2023), on x86_64 (npm's `x64`) or arm64. npm
picks a package's per-platform optional dependencies (sharp's `@img/sharp-linux-arm64`,
esbuild's `@esbuild/linux-x64`) by `--os`, `--cpu` and `--libc`, so those are set from
the function, never from the machine running lambdadeploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import PackagingInputError

_RUNTIME_RE = re.compile(r"^nodejs(\d+)\.x$")
_CPUS = {"x86_64": "x64", "arm64": "arm64"}


@dataclass(frozen=True)
class Target:
    """What to install for: the runtime's Node.js major version and Lambda's OS, CPU and libc."""

    runtime: str  # 'nodejs22.x', as written in lambda.yaml
    architecture: str  # 'x86_64' | 'arm64', as written in lambda.yaml
    major: int
    cpu: str  # npm's name: 'x64' | 'arm64'
    os: str = "linux"
    libc: str = "glibc"

    @property
    def label(self) -> str:
        """How messages name the target, e.g. 'nodejs22.x/arm64'."""
        return f"{self.runtime}/{self.architecture}"

    @property
    def npm_platform(self) -> tuple[str, ...]:
        """npm's flags selecting per-platform optional dependencies for this target."""
        return (f"--os={self.os}", f"--cpu={self.cpu}", f"--libc={self.libc}")


def node_major(runtime: str) -> int | None:
    """22 for 'nodejs22.x'; None for a name that is not a Node.js runtime."""
    m = _RUNTIME_RE.match(runtime)
    return int(m.group(1)) if m else None


def target_for(runtime: str, architecture: str, function: str = "") -> Target:
    """The install target of a function, from its runtime and architecture."""
    where = f"{function}: " if function else ""
    major = node_major(runtime)
    if major is None:
        raise PackagingInputError(f"{where}runtime {runtime!r} is not a Node.js runtime",
                                  hint="use a runtime like nodejs22.x")
    if architecture not in _CPUS:
        raise PackagingInputError(f"{where}architecture {architecture!r} is not one Lambda supports",
                                  hint="use x86_64 or arm64")
    return Target(runtime, architecture, major, _CPUS[architecture])
