"""Node.js handlers: the `path/module.export` string, its file, and a static look at its exports.

Lambda's Node.js runtime splits ``src/app.handler`` at the first dot of its last path
part: module ``src/app``, export ``handler`` (further dots walk nested properties). It
loads, from the package root, ``src/app`` then ``src/app.js``, ``.mjs`` and ``.cjs``: a
``.mjs`` file is an ES module, ``.cjs`` CommonJS, and ``.js`` follows the ``type`` of the
nearest package.json above it (``"module"``: ES module).

The export check reads the text, it does not run it: it refuses a handler only when no
form of exporting the name is in the file (``export const handler``, ``export {
handler }``, ``exports.handler =``, ``module.exports = { handler }``...) and nothing in it
could export names the check cannot see (``export * from``, ``module.exports =
require(...)``, ``Object.assign(exports, ...)``, computed keys). So an obviously missing
export (a typo in the handler, a function never exported) stops the build, and a working
handler never does. The same reading finds what nodejs24.x removed: callback handlers
(three parameters) and ``context.succeed/fail/done``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

IDENT = r"[A-Za-z_$][\w$]*"
_HANDLER = re.compile(rf"^(?:[\w@.-]+/)*[\w@-]+\.{IDENT}(?:\.{IDENT})*$")
EXTENSIONS = ("", ".js", ".mjs", ".cjs")  # the runtime's lookup order
# nodejs24.x: no callback-style handlers, no context.succeed/fail/done (the context has no such methods).
FIRST_WITHOUT_CALLBACKS = 24
_CONTEXT_METHOD = re.compile(r"\b(?:context|ctx)\s*\.\s*(succeed|fail|done|callbackWaitsForEmptyEventLoop)\b")
ESM_SYNTAX = re.compile(r"^\s*(?:export\s+[\w{*]|import\s+[\w{*'\"])", re.MULTILINE)

Read = Callable[[str], "bytes | None"]


def split_handler(handler: str) -> tuple[str, tuple[str, ...]]:
    """('src/app', ('handler',)) for 'src/app.handler': the module path and the export path."""
    folder, _, base = handler.rpartition("/")
    module, _, rest = base.partition(".")
    return (f"{folder}/{module}" if folder else module), tuple(rest.split("."))


def handler_problem(handler: str) -> str | None:
    if ".." in handler.split("/") or handler.startswith("/") or not _HANDLER.match(handler):
        return f"invalid handler {handler!r}"
    return None


def candidates(handler: str) -> tuple[str, ...]:
    module, _ = split_handler(handler)
    return tuple(module + ext for ext in EXTENSIONS)


def handler_file_problem(source: Path, handler: str, dependencies: set[str]) -> tuple[str, str] | None:
    module, _ = split_handler(handler)
    if any((source / c).exists() for c in candidates(handler)) or module in dependencies:
        return None  # a folder (its index.js) or, as the runtime allows, a dependency's name
    return (f"handler module not found: {source / module}.js (nor .mjs, .cjs)",
            f"a file {module}.js, {module}.mjs or {module}.cjs inside {source}")


def find_module(handler: str, read: Read) -> tuple[str, str] | None:
    """(name, text) of the file the runtime would load, or None when no candidate file exists."""
    for name in candidates(handler):
        data = read(name)
        if data is not None:
            return name, data.decode("utf-8", errors="replace")
    return None


def module_kind(name: str, read: Read) -> str:
    """"esm" or "cjs": by extension, else the `type` of the nearest package.json above the file."""
    if name.endswith(".mjs"):
        return "esm"
    if not name.endswith(".js"):
        return "cjs"
    parts = name.split("/")[:-1]
    while True:
        if parts and parts[-1] == "node_modules":
            return "cjs"
        data = read("/".join([*parts, "package.json"]))
        if data is not None:
            try:
                manifest = json.loads(data)
            except ValueError:
                return "cjs"  # the runtime ignores an unreadable package.json too
            return "esm" if isinstance(manifest, dict) and manifest.get("type") == "module" else "cjs"
        if not parts:
            return "cjs"
        parts.pop()


def may_export(text: str, kind: str, name: str) -> bool:
    """False only when the file certainly does not export `name` (see the module docstring)."""
    if kind == "esm" or ESM_SYNTAX.search(text):  # a CommonJS-scope .js with ESM syntax: Node detects it
        if _esm_may_export(text, name):
            return True
        if kind == "esm":
            return False
    return _cjs_may_export(text, name)


def _esm_may_export(text: str, name: str) -> bool:
    n = re.escape(name)
    patterns = (
        rf"\bexport\s+(?:async\s+)?function\s*\*?\s*{n}\b",
        rf"\bexport\s+class\s+{n}\b",
        rf"\bexport\s+(?:const|let|var)\b[^;]*?\b{n}\b",  # also `export const a = 1, handler = ...`
        rf"\bexport\s*\{{[^}}]*\b{n}\b[^}}]*\}}",
        r"\bexport\s*\*\s*from\b",  # re-exports everything of another module: cannot tell
        rf"\bexport\s*\*\s*as\s+{n}\b",
    )
    return any(re.search(p, text) for p in patterns)


def _cjs_may_export(text: str, name: str) -> bool:
    n = re.escape(name)
    named = (
        rf"\bexports\s*\.\s*{n}\s*=",
        rf"\bexports\s*\[\s*['\"`]{n}['\"`]\s*\]\s*=",
        rf"defineProperty\(\s*(?:module\.)?exports\s*,\s*['\"`]{n}['\"`]",
        rf"\bmodule\.exports\s*=\s*\{{[\s\S]*(?:\b{n}\b|\.\.\.)",  # an object literal naming it, or spreading
        rf"\b__export\(\s*[\w$]+\s*,\s*\{{[\s\S]*\b{n}\b",  # esbuild/tsup output
    )
    unknown = (
        r"\bmodule\.exports\s*=\s*(?!\{)",  # = require(...), an identifier, a function or class
        r"Object\.assign\(\s*(?:module\.)?exports\b",
        r"\b(?:module\.)?exports\s*\[\s*(?!['\"`])",  # computed key
        r"__exportStar|__reExport|_exportStar|\b_export\(",
    )
    return any(re.search(p, text) for p in (*named, *unknown))


def exported_names(text: str) -> list[str]:
    """The names the file visibly exports, for messages (best effort)."""
    found = re.findall(rf"\bexport\s+(?:async\s+)?(?:function\s*\*?|class|const|let|var)\s*({IDENT})", text)
    for group in re.findall(r"\bexport\s*\{([^}]*)\}", text):
        found += [part.split(" as ")[-1].strip() for part in group.split(",") if part.strip()]
    found += re.findall(rf"\bexports\s*\.\s*({IDENT})\s*=", text)
    return sorted(set(found) - {"default"})


def parameter_count(text: str, name: str) -> int | None:
    """Function.length of the function `name` is bound to, read from its definition; None if not found."""
    n = re.escape(name)
    for pattern in (
        rf"\bfunction\s*\*?\s*{n}\s*\(",
        rf"\b{n}\s*[:=]\s*(?:async\s+)?function\b[^(]*\(",
        rf"\b{n}\s*[:=]\s*(?:async\s*)?\((?=[^)]*\)\s*=>)",
    ):
        m = re.search(pattern, text)
        if m:
            return _length(_parameters(text, m.end()))
    if re.search(rf"\b{n}\s*[:=]\s*(?:async\s+)?{IDENT}\s*=>", text):
        return 1
    return None


def _parameters(text: str, start: int) -> list[str]:
    """The top-level comma-separated parameters from just after '(' to its matching ')'."""
    depth, current, params = 0, "", []
    for ch in text[start:]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        params.append(current.strip())
    return params


def _length(params: list[str]) -> int:
    """As Function.length: the parameters before the first default value or rest parameter."""
    count = 0
    for param in params:
        if param.startswith("...") or "=" in param.replace("=>", ""):
            break
        count += 1
    return count


def style_warnings(text: str, name: str, runtime: str, major: int) -> list[str]:
    """What the runtime's contract does not support, read from the handler file (static)."""
    if major < FIRST_WITHOUT_CALLBACKS:
        return []
    warnings = []
    params = parameter_count(text, name)
    if params is not None and params >= 3:
        warnings.append(
            f"handler `{name}` takes {params} parameters (event, context, callback): {runtime} has no "
            "callback-style handlers and fails every invoke with Runtime.CallbackHandlerDeprecated; "
            "make it `async (event, context)` and return the result")
    used = sorted(set(_CONTEXT_METHOD.findall(text)))
    if used:
        warnings.append(f"the handler file uses context.{', context.'.join(used)}, which {runtime} no longer "
                        "provides; return the result (or throw) from an async handler instead")
    return warnings
