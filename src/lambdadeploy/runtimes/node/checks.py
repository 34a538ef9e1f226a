"""The built package's handler check: the file is in the zip, parses, and exports the handler.

Parsing is `node --check` with this machine's Node.js, when there is one: when it is
older than the runtime, a syntax error may be newer syntax, so it is reported as a
warning rather than stopping the build (as for Python). The export check is static
(handler.py).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ...errors import PackagingInputError
from . import handler as handlers
from .interpreters import host_node
from .platform import node_major

CHECK_TIMEOUT_S = 30
_LOCATION = re.compile(r":(\d+)\s*$")


def check_package(function: str, handler: str, runtime: str, read: Callable[[str], bytes | None],
                  report: Callable[[str], None]) -> None:
    """Raise PackagingInputError when the handler in the built package cannot work."""
    module, path = handlers.split_handler(handler)
    found = handlers.find_module(handler, read)
    if found is None:
        if read(f"node_modules/{module}/package.json") is not None or _is_folder(module, read):
            return  # a dependency or a folder's index: resolved by Node.js itself, not checked here
        raise PackagingInputError(
            f"{function}: handler {handler!r} needs {module}.js (or {module}.mjs, {module}.cjs), and none is "
            "in the package",
            hint="fix `handler:` (path/file.export) or `source:`, and check the file is not excluded")
    name, text = found
    kind = handlers.module_kind(name, read)
    _syntax(function, handler, runtime, name, text, kind, report)
    if not handlers.may_export(text, kind, path[0]):
        names = handlers.exported_names(text)
        example = (f"export const {path[0]} = async (event, context) => {{ ... }}" if kind == "esm"
                   else f"exports.{path[0]} = async (event, context) => {{ ... }}")
        raise PackagingInputError(
            f"{function}: handler {handler!r}: {name} does not export {path[0]!r}"
            + (f" (it exports: {', '.join(names[:10])})" if names else ""),
            hint=f"export it, e.g. `{example}`" + (" (the file is an ES module)" if kind == "esm" else ""))
    for warning in handlers.style_warnings(text, path[0], runtime, node_major(runtime) or 0):
        report(f"warning: {warning}")


def _is_folder(module: str, read: Callable[[str], bytes | None]) -> bool:
    return any(read(f"{module}/{index}") is not None for index in ("index.js", "index.mjs", "index.cjs",
                                                                    "package.json"))


def _syntax(function: str, handler: str, runtime: str, name: str, text: str, kind: str,
            report: Callable[[str], None]) -> None:
    """`node --check` the handler file as the module kind it is; no Node.js here: not checked."""
    if kind == "cjs" and name.endswith(".js") and handlers.ESM_SYNTAX.search(text):
        return  # which way Node.js reads it depends on its version: leave it to the runtime
    node = host_node()
    if node is None:
        return
    with tempfile.TemporaryDirectory(prefix="lambdadeploy-check-") as folder:
        copy = Path(folder) / ("handler.mjs" if kind == "esm" else "handler.cjs")
        copy.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([node.path, "--check", str(copy)], capture_output=True, text=True,
                                  timeout=CHECK_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return
    if done.returncode == 0:
        return
    lines = done.stderr.strip().splitlines()
    message = next((line for line in lines if re.match(r"^\w*Error\b", line)), lines[-1] if lines else "")
    line = _LOCATION.search(lines[0]) if lines else None
    where = f"{name}, line {line.group(1)}" if line else name
    wanted = node_major(runtime) or 0
    if node.major < wanted:
        report(f"warning: {where} does not parse with Node.js {node.major} ({message}); not checked "
               f"against {runtime}")
        return
    raise PackagingInputError(f"{function}: handler {handler!r}: {where}: {message}",
                              hint="fix the syntax error; the function would fail on every invoke")
