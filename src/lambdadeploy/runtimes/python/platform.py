"""The Lambda platform a function's dependencies are installed for.

Lambda runs python3.9-3.11 on Amazon Linux 2 (glibc 2.26) and python3.12+ on
Amazon Linux 2023 (glibc 2.34). Wheels are chosen for that OS, the runtime's
Python version and the function's architecture, never for the machine running
lambdadeploy: a wheel built for this laptop may not import on Lambda.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import PackagingInputError

# AL2's glibc is 2.26, but uv offers no platform between manylinux_2_17 and 2_28 and
# wheels tagged 2_18..2_26 are rare, so AL2 runtimes get manylinux_2_17
# (manylinux2014) wheels, as the README's Packaging section says; pip is then given the same tags.
_AL2_GLIBC = (2, 17)
_AL2023_GLIBC = (2, 34)
_FIRST_AL2023_MINOR = 12

_ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
_RUNTIME_RE = re.compile(r"^python3\.(\d+)$")
# Legacy aliases for the manylinux_2_x tags they stand for (PEP 600).
_LEGACY_ALIASES = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


@dataclass(frozen=True)
class Target:
    """The platform to install for: Python version, CPU and glibc of the Lambda runtime."""

    runtime: str  # 'python3.12', as written in lambda.yaml, for messages
    architecture: str  # 'x86_64' | 'arm64', as written in lambda.yaml, for messages
    minor: int  # Python 3.<minor>
    machine: str  # 'x86_64' | 'aarch64', as wheel tags spell it
    glibc: tuple[int, int]

    @property
    def python_version(self) -> str:
        return f"3.{self.minor}"

    @property
    def manylinux_tag(self) -> str:
        """The newest platform tag the runtime supports, e.g. 'manylinux_2_34_aarch64'."""
        return f"manylinux_{self.glibc[0]}_{self.glibc[1]}_{self.machine}"

    @property
    def uv_platform(self) -> str:
        """The value for uv's --python-platform, e.g. 'aarch64-manylinux_2_34'."""
        return f"{self.machine}-manylinux_{self.glibc[0]}_{self.glibc[1]}"

    @property
    def label(self) -> str:
        """How messages name the target, e.g. 'python3.12/arm64'."""
        return f"{self.runtime}/{self.architecture}"

    def platform_tags(self) -> list[str]:
        """Every manylinux platform tag the runtime accepts, newest first.

        pip's --platform does not expand manylinux_2_x to older glibc versions
        itself, so the fallback installer is given the whole list.
        """
        # aarch64 manylinux wheels start at manylinux2014 (glibc 2.17).
        oldest = 17 if self.machine == "aarch64" else 5
        tags: list[str] = []
        for minor in range(self.glibc[1], oldest - 1, -1):
            tags.append(f"manylinux_2_{minor}_{self.machine}")
            legacy = _LEGACY_ALIASES.get((2, minor))
            if legacy:
                tags.append(f"{legacy}_{self.machine}")
        return tags


def target_for(runtime: str, architecture: str, function: str = "") -> Target:
    """The install target of a function, from its runtime and architecture."""
    where = f"{function}: " if function else ""
    m = _RUNTIME_RE.match(runtime)
    if not m:
        raise PackagingInputError(
            f"{where}runtime {runtime!r} is not a Python runtime lambdadeploy can package for",
            hint="use a runtime like python3.12",
        )
    if architecture not in _ARCHES:
        raise PackagingInputError(
            f"{where}architecture {architecture!r} is not one Lambda supports",
            hint="use x86_64 or arm64",
        )
    minor = int(m.group(1))
    glibc = _AL2023_GLIBC if minor >= _FIRST_AL2023_MINOR else _AL2_GLIBC
    return Target(runtime, architecture, minor, _ARCHES[architecture], glibc)
