"""Python runtimes (python3.9 .. python3.14): the `Runtime` of runtimes/base.py for Python.

platform.py says which wheels fit a runtime and architecture, installer.py runs uv
(or pip) for that platform, deps.py caches installed trees, handler.py checks the
handler, interpreters.py finds a local interpreter, bootstrap.py runs one invocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from ...paths import private_dir
from ..base import (
    DependencySpec,
    InstalledDependencies,
    LocalLaunch,
    Report,
    Runtime,
    RuntimeVersion,
)
from . import deps, handler, hostbuild, interpreters

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


class PythonRuntime(Runtime):
    family: ClassVar[str] = "python"
    # AWS's "Runtime deprecation" table (deprecation = end of security patches).
    versions: ClassVar[tuple[RuntimeVersion, ...]] = (
        RuntimeVersion("python3.9", dt.date(2025, 12, 15)),
        RuntimeVersion("python3.10", dt.date(2026, 10, 31)),
        RuntimeVersion("python3.11", dt.date(2027, 6, 30)),
        RuntimeVersion("python3.12", dt.date(2028, 10, 31)),
        RuntimeVersion("python3.13", dt.date(2029, 6, 30)),
        RuntimeVersion("python3.14", dt.date(2029, 6, 30)),
    )
    manifest_name: ClassVar[str] = "requirements.txt"
    handler_example: ClassVar[str] = "app.handler"

    def handler_problem(self, handler_text: str) -> str | None:
        return handler.handler_problem(handler_text)

    def handler_file_problem(self, source: Path, handler_text: str) -> tuple[str, str] | None:
        return handler.handler_file_problem(source, handler_text)

    def declares_nothing(self, manifest: Path) -> bool:
        return deps.declares_nothing(manifest)

    def install(self, spec: DependencySpec, cache_dir: Path, report: Report) -> InstalledDependencies:
        return deps.install_requirements(spec, cache_dir, report)

    def check_package(self, function: str, handler_text: str, runtime: str,
                      read: Callable[[str], bytes | None], report: Report) -> None:
        handler.check_package(function, handler_text, runtime, read, report)

    def local_launch(self, runtime: str, architecture: str, memory: int = 128) -> LocalLaunch:
        interpreter = interpreters.find_interpreter(runtime)  # exactly the runtime's version, or raises
        argv = (interpreter.path, "-S", "-u", "-X", f"pycache_prefix={private_dir() / 'pycache'}", str(BOOTSTRAP))
        return LocalLaunch(
            argv=argv,
            runtime_paths=(str(interpreters.runtime_packages_dir(interpreter.version)),),
            spec_extra={
                # json.dumps escapes non-ASCII before Python 3.12's runtime, as awslambdaric did.
                "ensure_ascii": interpreter.version < (3, 12),
                # /var/lang/lib/pythonX.Y/site-packages: after the standard library, as on Lambda.
                "lang_site_paths": [str(p) for p in interpreters.lang_site_dirs(interpreter)],
            },
        )

    def host_build(self, root: Path, runtime: str, architecture: str, native: tuple[str, ...],
                   report: Report) -> Path:
        return hostbuild.rebuild_for_host(root, runtime, architecture, native, report)

    def layer_paths(self, runtime: str) -> tuple[str, ...]:
        major, minor = interpreters.runtime_version(runtime)
        return (f"python/lib/python{major}.{minor}/site-packages", "python")
