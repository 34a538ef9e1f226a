"""How the project's layout shapes its packages: `include:` paths, the project's layers, and
what never ships.

- `include:` copies folders or files from elsewhere in the project (a sibling `shared/`) into
  a function's zip; a path that leaves the folder of lambda.yaml is refused.
- `layers:` (top level) defines layers built from the project; functions name them in their
  `layers:` list next to ARNs. A layer's compatible runtimes and architectures are what it
  gives, else those of the functions that use it.
- Whatever the source folder, a zip never gets lambda.yaml, the other functions' and the
  layers' folders, or the smoke-test payload files (`source: .` packs the project root).

Pure checks of paths and values; problems go to the validator's `error(where, message, hint)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from .. import runtimes
from ..fields import INVALID, Record, Reporter
from .model import FunctionConfig, IncludePath, LayerConfig
from .rules import ARCHITECTURES, LAYER_FIELDS, LAYER_NAME_LIMIT, NAME

Error = Callable[..., None]  # error(where, message, hint=None)
IGNORE_FILE = ".lambdaignore"
EVENTS_FOLDER = "events"


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def include_paths(entries: tuple[tuple[str, str | None], ...], source: Path, root: Path,
                  where: tuple[str, ...], error: Error) -> tuple[IncludePath, ...]:
    """`include:` entries as absolute paths (relative to source) and their place in the zip."""
    result: list[IncludePath] = []
    targets: dict[str, int] = {}
    for index, (raw, to) in enumerate(entries):
        at = (*where, str(index))
        path = (source / raw).resolve()
        if not inside(path, root):
            error(at, f"{raw!r} leads outside the project folder ({root})",
                  "include paths inside the folder of lambda.yaml; copy or link what lives elsewhere into it")
            continue
        if not path.exists():
            error(at, f"include path not found: {path}", "a folder or file relative to the function's source")
            continue
        if path == source.resolve():
            error(at, "includes the function's own source folder", "name a folder or file next to it")
            continue
        target = to if to is not None else path.name
        problem = _target_problem(target)
        if problem:
            error((*at, "to") if to is not None else at, problem, "a relative path inside the zip, e.g. `shared` or `lib/db`")
            continue
        clean = PurePosixPath(target).as_posix()
        if clean in targets:
            error(at, f"`{clean}` is already the target of include entry {targets[clean]}",
                  "give each entry its own `to:`")
            continue
        targets[clean] = index
        result.append(IncludePath(path, clean))
    return tuple(result)


def _target_problem(target: str) -> str | None:
    parts = PurePosixPath(target.replace("\\", "/")).parts
    if not parts or target.startswith("/") or ".." in parts or parts == (".",):
        return f"invalid place in the zip {target!r}"
    return None


def layer_ref_problems(refs: tuple[str, ...], known: set[str]) -> list[tuple[int, str, str]]:
    """(index, message, hint) of each `layers:` entry that is neither an ARN nor a project layer,
    and of a project layer named twice."""
    problems = []
    seen: set[str] = set()
    for index, ref in enumerate(refs):
        if ref.startswith("arn:"):
            continue
        if ref not in known:
            problems.append((index, f"unknown layer {ref!r}", "project layers: " + ", ".join(sorted(known))
                             if known else "define it under the top-level `layers:`, or give a layer version ARN"))
        elif ref in seen:
            problems.append((index, f"layer {ref!r} is listed twice", "list each layer once"))
        seen.add(ref)
    return problems


def project_layers(value: Any, functions: list[FunctionConfig], project: str | None, root: Path,
                   report: Reporter, warn: Callable[[str], None]) -> tuple[LayerConfig, ...]:
    """The top-level `layers:` mapping checked into LayerConfigs (unused layers are warned about
    and left out: nothing says which runtime to build them for)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        report.at("layers")("must be a mapping of layer names to settings",
                            "layers: {deps: {requirements: layers/deps/requirements.txt}}")
        return ()
    result = []
    for key, spec in value.items():
        at = report.at("layers", str(key))
        if not isinstance(key, str) or not NAME.match(key):
            at(f"invalid layer name {key!r}", "letters, digits, - and _")
            continue
        name = f"{project}-{key}" if project else key
        if len(name) > LAYER_NAME_LIMIT:
            at(f"layer name {name!r} is longer than {LAYER_NAME_LIMIT} characters")
            continue
        settings = Record(LAYER_FIELDS, dict, "layer settings").check(spec, at)
        if settings is INVALID:
            continue
        if "requirements" not in settings and "source" not in settings:
            at("a layer needs `requirements:` or `source:` (or both)",
               "{requirements: layers/deps/requirements.txt} or {source: layers/common}")
            continue
        users = [fn for fn in functions if key in fn.layers]
        if not users and "runtimes" not in settings:
            warn(f"layer {key} is not used by any function (and names no `runtimes:`): it is not built")
            continue
        layer = _layer(key, name, settings, users, root, at)
        if layer is not None:
            result.append(layer)
    return tuple(result)


def _layer_path(settings: dict[str, Any], field: str, root: Path, at: Reporter, exists: Callable[[Path], bool],
                what: str, hint: str) -> tuple[Path | None, bool]:
    """A layer's path setting resolved against the project folder, and whether it is usable
    (inside that folder and present); a problem is reported at the field."""
    if field not in settings:
        return None, True
    path = (root / settings[field]).resolve()
    if not inside(path, root):
        at.at(field)(f"{settings[field]!r} leads outside the project folder ({root})")
        return path, False
    if not exists(path):
        at.at(field)(f"{what} not found: {path}", hint)
        return path, False
    return path, True


def _layer(key: str, name: str, settings: dict[str, Any], users: list[FunctionConfig], root: Path,
           at: Reporter) -> LayerConfig | None:
    """Long because each check names its own field: paths, then runtimes, then architectures."""
    source, source_ok = _layer_path(settings, "source", root, at, Path.is_dir, "layer source folder",
                                    "a folder relative to lambda.yaml")
    requirements, requirements_ok = _layer_path(settings, "requirements", root, at, Path.is_file,
                                                "requirements file", "a file relative to lambda.yaml")
    ok = source_ok and requirements_ok
    order = {name: index for index, name in enumerate(runtimes.RUNTIMES)}
    given = settings.get("runtimes")
    wanted = tuple(sorted({fn.runtime for fn in users}, key=order.__getitem__))
    layer_runtimes = tuple(dict.fromkeys(given)) if given else wanted
    for fn in users:
        if fn.runtime not in layer_runtimes:
            at.at("runtimes")(f"function {fn.key} ({fn.runtime}) uses this layer, which is built for "
                              f"{', '.join(layer_runtimes)} only", f"add {fn.runtime}, or leave `runtimes:` out")
            ok = False
    families = {runtimes.family_of(r).family for r in layer_runtimes}
    if len(families) > 1:
        at.at("runtimes")(f"runtimes of different languages ({', '.join(layer_runtimes)})",
                          "one layer per language: Lambda reads python/ and nodejs/ from different places")
        ok = False
    elif layer_runtimes:
        family = runtimes.family_of(layer_runtimes[0])
        try:
            family.layer_prefix(layer_runtimes[0])
        except runtimes.RuntimeUnavailable as error:
            at(error.message, error.hint)
            ok = False
        # The manifest's own rules (Node.js: a lockfile when it lists dependencies) at validate, as for functions.
        if requirements is not None and requirements.is_file() and (problem := family.manifest_problem(requirements)):
            at.at("requirements")(*problem)
            ok = False
    given_arch = settings.get("architectures")
    used_arch = tuple(a for a in ARCHITECTURES if any(fn.architecture == a for fn in users))
    architectures = tuple(dict.fromkeys(given_arch)) if given_arch else used_arch or ("x86_64",)
    for fn in users:
        if fn.architecture not in architectures:
            at.at("architectures")(f"function {fn.key} ({fn.architecture}) uses this layer, which is built "
                                   f"for {', '.join(architectures)} only", "add it, or leave `architectures:` out")
            ok = False
    if requirements is not None and len(architectures) > 1:
        at.at("architectures" if given_arch else "requirements")(
            f"functions of both architectures use this layer ({', '.join(fn.key + ' ' + fn.architecture for fn in users)}), "
            "and installed dependencies (native wheels) are built for one",
            "define one layer per architecture, or give the functions one architecture")
        ok = False
    if not ok:
        return None
    plain = {k: v for k, v in settings.items() if k not in ("source", "requirements", "runtimes", "architectures")}
    return LayerConfig(key=key, name=name, runtimes=layer_runtimes, architectures=architectures, source=source,
                       requirements=requirements, **plain)


def with_layout(functions: list[FunctionConfig], layers: tuple[LayerConfig, ...], config_file: Path
                ) -> tuple[list[FunctionConfig], tuple[LayerConfig, ...]]:
    """Functions and layers with what the project keeps out of their zips (never_pack) and the
    project's .lambdaignore (project_ignore)."""
    root = config_file.parent.resolve()
    ignore = root / IGNORE_FILE
    project_ignore = ignore.resolve() if ignore.is_file() else None
    folders = [fn.source for fn in functions] + [layer.source for layer in layers if layer.source is not None]
    payloads = [fn.test.payload_file for fn in functions if fn.test and fn.test.payload_file]
    common = [config_file.resolve(), *payloads]

    def never(own: Path | None, included: tuple[Path, ...]) -> tuple[Path, ...]:
        paths = common + [f for f in folders if own is None or not inside(own, f)]
        if own == root:  # `source: .`: the smoke-test events `init` puts in events/ are test data
            paths.append(root / EVENTS_FOLDER)
        # What an include names explicitly is packed, even if it is, say, another function's folder.
        return tuple(sorted({p for p in paths if not any(inside(p, i) for i in included)}))

    functions = [dataclasses.replace(fn, project_ignore=project_ignore,
                                     never_pack=never(fn.source, tuple(i.path for i in fn.include)))
                 for fn in functions]
    layers = tuple(dataclasses.replace(layer, project_ignore=project_ignore, never_pack=never(layer.source, ()))
                   for layer in layers)
    return functions, layers
