"""Python handlers: the `module.function` string, its file in the source, and the built package's check.

Lambda imports `module` (dots or slashes for folders: `pkg.app`, `todos/handler`) from
the root of the package and calls `function` from it. Before anything is uploaded the
module must be in the zip, compile for the runtime, and bind the function's name.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ...errors import PackagingInputError

# Older CPython (e.g. 3.11.7; gh-106905) keeps the AST converter's recursion depth per
# interpreter, not per thread: two functions checked in parallel could fail ast.parse with
# "SystemError: AST constructor recursion depth mismatch". Our parses go one at a time (another
# library parsing in another thread at that moment, as werkzeug does once per URL rule, still could).
_AST_LOCK = threading.Lock()
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def split_handler(handler: str) -> tuple[str, str]:
    """('pkg/app', 'handler') for 'pkg.app.handler' or 'pkg/app.handler': the module as a path."""
    module, _, function = handler.rpartition(".")
    return module.replace(".", "/"), function


def handler_problem(handler: str) -> str | None:
    module, _, function = handler.rpartition(".")
    parts = [p for p in re.split(r"[./]", module)] if module else []
    if not module or not _IDENTIFIER.match(function) or not all(_IDENTIFIER.match(p) for p in parts):
        return f"invalid handler {handler!r}"
    return None


def module_candidates(handler: str) -> tuple[str, str]:
    base, _ = split_handler(handler)
    return f"{base}.py", f"{base}/__init__.py"


def handler_file_problem(source: Path, handler: str) -> tuple[str, str] | None:
    candidates = module_candidates(handler)
    if any((source / c).is_file() for c in candidates):
        return None
    return (f"handler module not found: {source / candidates[0]}",
            f"a file {candidates[0]} (or {candidates[1]}) inside {source}")


def check_package(function: str, handler: str, runtime: str, read: Callable[[str], bytes | None],
                  report: Callable[[str], None]) -> None:
    """The handler module must be in the zip and compile; else PackagingInputError.

    Compiled with this machine's Python. When it is older than the runtime, a
    syntax error may be newer syntax (e.g. 3.12 f-strings), so it is reported
    as a warning rather than stopping the build.
    """
    candidates = module_candidates(handler)
    name = next((c for c in candidates if read(c) is not None), None)
    if name is None:
        raise PackagingInputError(
            f"{function}: handler {handler!r} needs module {split_handler(handler)[0]!r}, but neither "
            f"{' nor '.join(candidates)} is in the package",
            hint="fix `handler:` (module.function) or `source:`, and check the file is not excluded",
        )
    source = read(name) or b""
    runtime_minor = _runtime_minor(runtime)
    try:
        if runtime_minor is not None and runtime_minor < sys.version_info.minor:
            # Catch syntax newer than the runtime understands (best effort, per ast docs).
            with _AST_LOCK:
                ast.parse(source, name, feature_version=(3, runtime_minor))
        compile(source, name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{name}, line {exc.lineno}" if exc.lineno else name
        if runtime_minor is not None and runtime_minor > sys.version_info.minor:
            report(
                f"warning: {where} does not compile with Python "
                f"{sys.version_info.major}.{sys.version_info.minor} ({exc.msg}); "
                f"not checked against {runtime}"
            )
            return
        raise PackagingInputError(
            f"{function}: handler {handler!r}: {where}: {exc.msg}",
            hint="fix the syntax error; the function would fail on every invoke",
        ) from None
    except ValueError as exc:  # e.g. null bytes in the source
        raise PackagingInputError(f"{function}: handler {handler!r}: {name}: {exc}") from None
    wanted = split_handler(handler)[1]
    with _AST_LOCK:
        tree = ast.parse(source, name)
    bound = module_level_names(tree)
    if bound is not None and wanted not in bound:
        defined = sorted(n for n in bound if not n.startswith("_"))
        raise PackagingInputError(
            f"{function}: handler {handler!r}: {name} defines no {wanted!r}",
            hint=("it defines: " + ", ".join(defined[:10])) if defined else "define the handler function there",
        )


def module_level_names(tree: ast.Module) -> set[str] | None:
    """Names a module binds when imported (defs, classes, assignments, imports, also inside
    module-level if/try/with blocks); None when it cannot be known statically (a star
    import or a module __getattr__), so the check never rejects a working handler."""
    names: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        match node:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
                names.add(name)
            case ast.Import(names=aliases) | ast.ImportFrom(names=aliases):
                for alias in aliases:
                    if alias.name == "*":
                        return None
                    names.add(alias.asname or alias.name.split(".")[0])
            case ast.Assign() | ast.AnnAssign() | ast.AugAssign():
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            case ast.If() | ast.Try() | ast.With() | ast.For() | ast.While():
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    names.update(n.target.id for n in ast.walk(tree)
                 if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name))
    return None if "__getattr__" in names else names


def _runtime_minor(runtime: str) -> int | None:
    major, _, minor = runtime.removeprefix("python").partition(".")
    return int(minor) if major == "3" and minor.isdigit() else None
