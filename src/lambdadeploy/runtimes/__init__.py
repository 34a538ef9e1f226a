"""The runtimes lambdadeploy deploys: one `Runtime` per language family (see base.py).

`find(name)` gives the Runtime serving an identifier such as python3.12; RUNTIMES lists
them in the order they are documented. Adding a family = one package + one line here.
"""

from __future__ import annotations

from .base import (
    HOST_BUILD_HEADER,
    SMOKE_ARCH_CONTEXT_KEY,
    DependencySpec,
    InstalledDependencies,
    LocalLaunch,
    Runtime,
    RuntimeUnavailable,
    RuntimeVersion,
)
from .node import NodeRuntime
from .python import PythonRuntime

FAMILIES: tuple[Runtime, ...] = (PythonRuntime(), NodeRuntime())
RUNTIMES: tuple[str, ...] = tuple(name for family in FAMILIES for name in family.names())
DEFAULT_RUNTIME = "python3.12"


def find(name: str) -> Runtime | None:
    """The Runtime that serves `name`, or None for an identifier lambdadeploy does not know."""
    return next((family for family in FAMILIES if name in family.names()), None)


def family_of(name: str) -> Runtime:
    """Like find(), for a name that validation already accepted."""
    runtime = find(name)
    if runtime is None:
        raise RuntimeUnavailable(f"unknown runtime {name!r}", hint="runtimes: " + ", ".join(RUNTIMES))
    return runtime


__all__ = [
    "DEFAULT_RUNTIME",
    "FAMILIES",
    "HOST_BUILD_HEADER",
    "RUNTIMES",
    "SMOKE_ARCH_CONTEXT_KEY",
    "DependencySpec",
    "InstalledDependencies",
    "LocalLaunch",
    "Runtime",
    "RuntimeUnavailable",
    "RuntimeVersion",
    "family_of",
    "find",
]
