"""The runtime seam: what lambdadeploy needs to know and do for one language family.

A `Runtime` (runtimes/python, runtimes/node) answers, for the runtimes it covers:
which identifiers exist and when AWS deprecates them; whether a handler string is
well formed and its file exists; how dependencies are installed for the Lambda
platform (into the shared content-addressed cache, runtimes/cache.py); how the
built package's handler is checked; which packages the managed runtime already
provides; and how one invocation is launched on this machine (the local runner and
the sandbox). Nothing outside runtimes/ knows which language a function is in.

Runtimes sit below config/ and packaging/: their methods take plain values, never
the project model, so config can ask them while it validates.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import LambdaDeployError

Report = Callable[[str], None]

# How a smoke invoke asks the sandbox for `--smoke-arch host` (a key of its ClientContext's
# "custom" map), and the response header by which the sandbox says it ran such a build.
SMOKE_ARCH_CONTEXT_KEY = "lambdadeploy-smoke-arch"
HOST_BUILD_HEADER = "x-lambdadeploy-host-build"


@dataclass(frozen=True)
class RuntimeVersion:
    """One Lambda runtime identifier, e.g. python3.12, and the date AWS deprecates it."""

    name: str
    deprecated: dt.date | None = None


@dataclass(frozen=True)
class DependencySpec:
    """What to install for one function: its manifest, for its runtime and architecture."""

    function: str  # the function's key in lambda.yaml, for messages
    manifest: Path  # e.g. requirements.txt
    runtime: str
    architecture: str  # x86_64 | arm64
    include_runtime_packages: bool = False
    strip: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstalledDependencies:
    """An installed dependency tree in the cache: `site` is what goes at the root of the zip."""

    key: str
    entry: Path
    from_cache: bool
    notes: tuple[str, ...] = ()  # things worth telling the user (e.g. a pin left out)

    @property
    def site(self) -> Path:
        return self.entry / "site"


@dataclass(frozen=True)
class LocalLaunch:
    """How to start one invocation locally: the command (spec and result files are appended),
    the stand-in of the runtime's own directory, and runtime-specific fields for the bootstrap."""

    argv: tuple[str, ...]
    runtime_paths: tuple[str, ...] = ()
    spec_extra: Mapping[str, Any] = field(default_factory=dict)


class RuntimeUnavailable(LambdaDeployError):
    """This machine cannot run the runtime (no matching interpreter, foreign architecture)."""


class Runtime(ABC):
    """One language family's runtimes."""

    family: ClassVar[str]
    versions: ClassVar[tuple[RuntimeVersion, ...]]
    manifest_name: ClassVar[str]  # the dependency manifest looked for in `source`
    handler_example: ClassVar[str]
    scaffold: ClassVar[str] = "project"  # the folder of templates/ that `init` renders for it

    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.versions)

    def version(self, name: str) -> RuntimeVersion | None:
        return next((v for v in self.versions if v.name == name), None)

    @abstractmethod
    def handler_problem(self, handler: str) -> str | None:
        """Why the handler string is malformed, or None."""

    @abstractmethod
    def handler_file_problem(self, source: Path, handler: str) -> tuple[str, str] | None:
        """(message, hint) when the handler's file is not in `source`, else None."""

    def handler_warnings(self, source: Path, handler: str, runtime: str) -> tuple[str, ...]:
        """What `validate` should warn about the handler file for this runtime version (a handler
        style the runtime no longer supports, read statically); nothing by default."""
        return ()

    def manifest_problem(self, manifest: Path) -> tuple[str, str] | None:
        """(message, hint) when the manifest cannot be installed (checked at validate), else None."""
        return None

    def source_excludes(self, manifest: Path | None) -> tuple[str, ...]:
        """gitignore patterns of `source` never packed for this runtime, applied after the
        function's own `exclude` (so they cannot be re-included); `manifest` is the dependency
        manifest, or None when the function has none."""
        return ()

    def dependency_files(self, manifest: Path) -> tuple[Path, ...]:
        """The files that decide what the dependency install puts in the package (the manifest,
        and a lockfile where the runtime reads one): provenance counts their changes."""
        return (manifest,)

    @abstractmethod
    def declares_nothing(self, manifest: Path) -> bool:
        """True when the manifest lists no dependency (nothing to install)."""

    @abstractmethod
    def install(self, spec: DependencySpec, cache_dir: Path, report: Report) -> InstalledDependencies:
        """The dependencies installed for the Lambda platform, from the cache when possible."""

    @abstractmethod
    def check_package(self, function: str, handler: str, runtime: str, read: Callable[[str], bytes | None],
                      report: Report) -> None:
        """Raise PackagingInputError when the handler in the built package cannot work;
        `read(name)` gives a file of the package, or None."""

    @abstractmethod
    def local_launch(self, runtime: str, architecture: str, memory: int = 128) -> LocalLaunch:
        """How to run one invocation of this runtime here, or RuntimeUnavailable; `memory` (MB)
        for runtimes that size their interpreter from it (Node.js's heap)."""

    def host_build(self, root: Path, runtime: str, architecture: str, native: tuple[str, ...],
                   report: Report) -> Path:
        """A copy of the extracted package ``root`` in which what owns the ``native`` files (paths
        relative to root) is rebuilt, at the same versions, for ``architecture`` (--smoke-arch host)."""
        raise RuntimeUnavailable(f"{self.family} runtimes cannot rebuild native code for {architecture}")

    def builds_for_host(self) -> bool:
        """Whether this family implements host_build (so --smoke-arch host is worth suggesting)."""
        return type(self).host_build is not Runtime.host_build

    def layer_paths(self, runtime: str) -> tuple[str, ...]:
        """Folders inside /opt (the function's layers) that the runtime puts on its import path,
        in the runtime's order; bin/ (PATH) and lib/ (LD_LIBRARY_PATH) hold for every runtime."""
        return ()
