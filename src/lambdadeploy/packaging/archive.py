"""The deterministic zip: own code compressed per build, dependencies copied raw.

The dependency tree rarely changes between builds, the function's code often.
So the dependency tree is compressed once into a zip fragment stored next to
it in the cache, and each build copies those entries into the new zip without
decompressing or recompressing them; only the function's own files are
compressed. Entries are sorted by name, timestamps fixed and permissions
normalised (see zipfmt), so the bytes depend on file names, contents and
executable bits only.
"""

from __future__ import annotations

import ast
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lambdadeploy.errors import PackagingInputError
from lambdadeploy.model import FunctionConfig
from lambdadeploy.packaging import zipfmt
from lambdadeploy.packaging.files import SourceFile, walk_tree
from lambdadeploy.packaging.zipfmt import RawEntry

FRAGMENT_NAME = "deps.zip"
# zlib releases the GIL, so threads compress in parallel: about 1.7x faster on
# two cores for a 50 MB dependency tree. Below this much data a pool is not worth it.
PARALLEL_MIN_BYTES = 1024 * 1024


def source_entries(files: Sequence[SourceFile]) -> list[RawEntry]:
    """Compressed entries for the function's own files, in the order given."""
    return _compress_all([(f.arcname, f.path, f.executable) for f in files])


def dependency_entries(site: Path, fragment: Path) -> list[RawEntry]:
    """Entries of an installed tree, from its cached zip fragment (built on first use).

    The fragment is written to a temporary name and renamed into place, so
    concurrent builds never read a partial one; they may both write it, with
    identical content.
    """
    if not fragment.is_file():
        files = sorted(walk_tree(site), key=lambda f: f.arcname)
        blob = zipfmt.write_zip(source_entries(files))
        temp = fragment.with_name(f".{fragment.name}.{uuid.uuid4().hex}")
        temp.write_bytes(blob)
        os.replace(temp, fragment)
    return zipfmt.read_entries(fragment.read_bytes())


def merge(own: list[RawEntry], deps: list[RawEntry]) -> tuple[list[RawEntry], list[str]]:
    """All entries sorted by name; where own code and a dependency share a path, own code wins.

    Returns the entries and the dependency paths that own code shadowed.
    """
    own_names = {e.name for e in own}
    shadowed = [e.name for e in deps if e.name in own_names]
    kept = [e for e in deps if e.name not in own_names]
    return sorted(own + kept, key=lambda e: e.name), shadowed


def check_handler(
    fn: FunctionConfig, entries: list[RawEntry], report: Callable[[str], None]
) -> None:
    """The handler module must be in the zip and compile; else PackagingInputError.

    Compiled with this machine's Python. When it is older than the runtime, a
    syntax error may be newer syntax (e.g. 3.12 f-strings), so it is reported
    as a warning rather than stopping the build.
    """
    module = fn.handler_module
    base = module.replace(".", "/")
    candidates = (f"{base}.py", f"{base}/__init__.py")
    by_name = {e.name: e for e in entries}
    found = next((by_name[c] for c in candidates if c in by_name), None)
    if found is None:
        raise PackagingInputError(
            f"{fn.key}: handler {fn.handler!r} needs module {module!r}, but neither "
            f"{' nor '.join(candidates)} is in the package (source: {fn.source})",
            hint="fix `handler:` (module.function) or `source:`, and check the file is not excluded",
        )
    source = zipfmt.inflate(found)
    runtime_minor = _runtime_minor(fn)
    try:
        if runtime_minor is not None and runtime_minor < sys.version_info.minor:
            # Catch syntax newer than the runtime understands (best effort, per ast docs).
            ast.parse(source, found.name, feature_version=(3, runtime_minor))
        compile(source, found.name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{found.name}, line {exc.lineno}" if exc.lineno else found.name
        if runtime_minor is not None and runtime_minor > sys.version_info.minor:
            report(
                f"warning: {where} does not compile with Python "
                f"{sys.version_info.major}.{sys.version_info.minor} ({exc.msg}); "
                f"not checked against {fn.runtime}"
            )
            return
        raise PackagingInputError(
            f"{fn.key}: handler {fn.handler!r}: {where}: {exc.msg}",
            hint="fix the syntax error; the function would fail on every invoke",
        ) from None
    except ValueError as exc:  # e.g. null bytes in the source
        raise PackagingInputError(
            f"{fn.key}: handler {fn.handler!r}: {found.name}: {exc}"
        ) from None
    function = fn.handler.rsplit(".", 1)[1]
    bound = module_level_names(ast.parse(source, found.name))
    if bound is not None and function not in bound:
        defined = sorted(n for n in bound if not n.startswith("_"))
        raise PackagingInputError(
            f"{fn.key}: handler {fn.handler!r}: {found.name} defines no {function!r}",
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


def _runtime_minor(fn: FunctionConfig) -> int | None:
    major, _, minor = fn.python_version.partition(".")
    return int(minor) if major == "3" and minor.isdigit() else None


def _compress_all(items: list[tuple[str, Path, bool]]) -> list[RawEntry]:
    def one(item: tuple[str, Path, bool]) -> RawEntry:
        name, path, executable = item
        return zipfmt.compress(name, path.read_bytes(), executable)

    total = sum(_size(path) for _, path, _ in items)
    workers = min(4, os.cpu_count() or 1)
    if total < PARALLEL_MIN_BYTES or workers < 2 or len(items) < 2:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, items))  # map keeps input order: output stays deterministic


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
