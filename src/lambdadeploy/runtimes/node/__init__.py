"""Node.js runtimes (nodejs18.x .. nodejs24.x): the `Runtime` of runtimes/base.py for Node.js.

platform.py says what a runtime and architecture install for, npm.py runs `npm ci` for
that platform, deps.py caches installed trees and leaves out what the runtime provides,
handler.py reads handler strings and files, checks.py checks the built package,
interpreters.py finds a local `node`, bootstrap.cjs runs one invocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from ...errors import PackagingInputError
from ...paths import private_dir
from ..base import (
    DependencySpec,
    InstalledDependencies,
    LocalLaunch,
    Report,
    Runtime,
    RuntimeVersion,
)
from . import checks, deps, handler, interpreters
from .platform import node_major

BOOTSTRAP = Path(__file__).with_name("bootstrap.cjs")


class NodeRuntime(Runtime):
    family: ClassVar[str] = "node"
    # AWS's "Lambda runtimes" table (deprecation = end of security patches; creating and then
    # updating functions is blocked a few months later: nodejs18.x since 2025-10-01 / 2025-11-11).
    versions: ClassVar[tuple[RuntimeVersion, ...]] = (
        RuntimeVersion("nodejs18.x", dt.date(2025, 9, 1)),
        RuntimeVersion("nodejs20.x", dt.date(2026, 4, 30)),
        RuntimeVersion("nodejs22.x", dt.date(2027, 4, 30)),
        RuntimeVersion("nodejs24.x", dt.date(2028, 4, 30)),
    )
    manifest_name: ClassVar[str] = "package.json"
    handler_example: ClassVar[str] = "index.handler"
    scaffold: ClassVar[str] = "node"

    def handler_problem(self, handler_text: str) -> str | None:
        return handler.handler_problem(handler_text)

    def handler_file_problem(self, source: Path, handler_text: str) -> tuple[str, str] | None:
        return handler.handler_file_problem(source, handler_text, _dependency_names(source / self.manifest_name))

    def handler_warnings(self, source: Path, handler_text: str, runtime: str) -> tuple[str, ...]:
        found = handler.find_module(handler_text, lambda name: _read(source / name))
        if found is None:
            return ()
        export = handler.split_handler(handler_text)[1][0]
        return tuple(handler.style_warnings(found[1], export, runtime, node_major(runtime) or 0))

    def manifest_problem(self, manifest: Path) -> tuple[str, str] | None:
        return deps.manifest_problem(manifest)

    def dependency_files(self, manifest: Path) -> tuple[Path, ...]:
        return (manifest, *(manifest.parent / name for name in deps.LOCKFILES))  # npm ci installs the lockfile

    def declares_nothing(self, manifest: Path) -> bool:
        return deps.declares_nothing(manifest)

    def source_excludes(self, manifest: Path | None) -> tuple[str, ...]:
        # The function's own node_modules (dev dependencies, this machine's binaries) is replaced by
        # the install for Lambda; .npmrc holds registry tokens. Neither is ever packed.
        return ("/node_modules/", ".npmrc") if manifest is not None else (".npmrc",)

    def install(self, spec: DependencySpec, cache_dir: Path, report: Report) -> InstalledDependencies:
        return deps.install_dependencies(spec, cache_dir, report)

    def check_package(self, function: str, handler_text: str, runtime: str,
                      read: Callable[[str], bytes | None], report: Report) -> None:
        checks.check_package(function, handler_text, runtime, read, report)

    def local_launch(self, runtime: str, architecture: str, memory: int = 128) -> LocalLaunch:
        node = interpreters.find_node(runtime)  # exactly the runtime's major version, or raises
        # Lambda's bootstrap: a tenth of the memory for V8's new space (half of it per semi-space),
        # the rest for the old space; so the heap collects before the memory limit is reached.
        new_space = memory // 10
        argv = (node.path, "--expose-gc", "--max-http-header-size=81920",
                f"--max-semi-space-size={max(1, new_space // 2)}", f"--max-old-space-size={memory - new_space}",
                str(BOOTSTRAP))
        return LocalLaunch(argv=argv, runtime_paths=(str(_runtime_dir()),),
                           spec_extra={"callbacks": node.major < handler.FIRST_WITHOUT_CALLBACKS})

    def layer_paths(self, runtime: str) -> tuple[str, ...]:
        return (f"nodejs/node{node_major(runtime)}/node_modules", "nodejs/node_modules")


def _runtime_dir() -> Path:
    """The stand-in of /var/runtime: empty (this machine has no copy of the runtime's AWS SDK)."""
    folder = private_dir() / "node-runtime"
    (folder / "node_modules").mkdir(parents=True, exist_ok=True)
    return folder


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _dependency_names(manifest: Path) -> set[str]:
    try:
        return set(deps.dependencies(deps.read_manifest(manifest)))
    except PackagingInputError:
        return set()
