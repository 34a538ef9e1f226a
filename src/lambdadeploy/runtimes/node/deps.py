"""A function's package.json dependencies, installed for its Lambda platform, in the shared cache.

The manifest is package.json; the versions come from its lockfile (npm-shrinkwrap.json or
package-lock.json, as npm reads them), installed with `npm ci` (npm.py). A package.json
that lists dependencies without a lockfile is refused: an install without one resolves
versions anew on every machine, so neither the zip nor the cache key would be
reproducible (`npm install` in the function's folder writes the lockfile to commit).

The cache key covers package.json, the lockfile, the runtime, Lambda's OS/CPU/libc,
include_runtime_packages, strip, whether install scripts ran, and FORMAT_VERSION. The tree
is `site/node_modules`, so node_modules sits at the root of the zip next to the code, where
Lambda's Node.js resolves it.

What is removed from the installed tree: the AWS SDK for JavaScript v3 that every nodejs
runtime ships (packages of the ``@aws-sdk/`` scope at the top of node_modules, and the
packages only they need, read from the lockfile), unless include_runtime_packages;
node_modules/.bin (links to this machine's tools), npm's hidden lockfile, any .npmrc; with
strip: [tests], packages' own test folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ...errors import PackagingInputError
from ..base import DependencySpec, InstalledDependencies
from ..cache import cached_entry, install_entry
from ..elf import elf_architecture
from . import npm
from .platform import Target, target_for

FORMAT_VERSION = "1"
LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")  # the order npm prefers them in
RUNTIME_PROVIDED_SCOPES = ("@aws-sdk/",)
DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")
_LOCAL_PREFIXES = ("file:", "link:", "./", "../", "/", "~/")
_TEST_FOLDERS = ("test", "tests", "__tests__")
_NATIVE_BUILDERS = ("node-gyp", "prebuild-install", "node-pre-gyp", "cmake-js")
_HOST_CPUS = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
def read_manifest(path: Path, function: str = "") -> dict[str, Any]:
    """package.json as a mapping, or PackagingInputError saying what is wrong with it."""
    where = f"{function}: " if function else ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackagingInputError(f"{where}cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise PackagingInputError(f"{where}{path} is not valid JSON: {exc}",
                                  hint="fix package.json (npm itself would refuse it)") from exc
    if not isinstance(data, dict):
        raise PackagingInputError(f"{where}{path} must be a JSON object")
    return data


def dependencies(manifest: dict[str, Any]) -> dict[str, str]:
    """What ships: dependencies, optionalDependencies and peerDependencies (npm installs peers)."""
    found: dict[str, str] = {}
    for field in DEPENDENCY_FIELDS:
        value = manifest.get(field)
        if isinstance(value, dict):
            found.update({str(k): str(v) for k, v in value.items()})
    return found


def declares_nothing(path: Path) -> bool:
    """True for a package.json without production dependencies (devDependencies never ship)."""
    try:
        return not dependencies(read_manifest(path))
    except PackagingInputError:
        return False  # let install() report what is wrong


def lockfile(manifest: Path) -> Path | None:
    return next((manifest.parent / n for n in LOCKFILES if (manifest.parent / n).is_file()), None)


def manifest_problem(path: Path) -> tuple[str, str] | None:
    """(message, hint) when package.json cannot be installed reproducibly, else None."""
    try:
        manifest = read_manifest(path)
    except PackagingInputError as error:
        return error.message, error.hint or "fix package.json"
    if manifest.get("workspaces"):
        return (f"{path} declares npm workspaces, which lambdadeploy does not install",
                "point `source:` at one workspace package with its own package.json and lockfile")
    local = sorted(name for name, spec in dependencies(manifest).items() if spec.startswith(_LOCAL_PREFIXES))
    if local:
        return (f"{path}: {', '.join(local)} {'is a' if len(local) == 1 else 'are'} local (file:) "
                "dependenc" + ("y" if len(local) == 1 else "ies") + ", which lambdadeploy does not install",
                "publish it to a registry (a private one works, with an .npmrc next to package.json), "
                "or copy its code into the function's folder")
    if dependencies(manifest) and lockfile(path) is None:
        others = [n for n in ("yarn.lock", "pnpm-lock.yaml") if (path.parent / n).is_file()]
        return (f"{path} lists dependencies but there is no package-lock.json (or npm-shrinkwrap.json) "
                "next to it" + (f"; {others[0]} is not read" if others else ""),
                f"run `npm install --package-lock-only` in {path.parent} and commit package-lock.json: "
                "without a lockfile the versions (and the zip) would change from build to build")
    return None


def install_dependencies(spec: DependencySpec, cache_dir: Path, report: Callable[[str], None]) -> InstalledDependencies:
    """The function's dependencies installed for its platform, from the cache when possible."""
    target = target_for(spec.runtime, spec.architecture, spec.function)
    problem = manifest_problem(spec.manifest)
    if problem:
        raise PackagingInputError(f"{spec.function}: {problem[0]}", hint=problem[1])
    manifest = read_manifest(spec.manifest, spec.function)
    lock = lockfile(spec.manifest)
    assert lock is not None  # manifest_problem refuses dependencies without one
    run_scripts = host_is(target)
    key = dependency_key(spec, target, lock, run_scripts)
    entry = cached_entry(cache_dir, key)
    if entry is not None:
        report(f"npm dependencies for {target.label} from cache")
        return InstalledDependencies(key, entry, from_cache=True)
    count = len(dependencies(manifest))
    report(f"installing {count} npm dependenc{'ies' if count != 1 else 'y'} for {target.label} ({lock.name})")
    npm_bin = npm.find_npm()

    def install(site: Path) -> None:
        work = site.parent / "npm"
        work.mkdir()
        # Only what npm needs: never the project's own lifecycle scripts (prepare: tsc, husky...).
        (work / "package.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "scripts"}))
        shutil.copyfile(lock, work / lock.name)
        if (spec.manifest.parent / ".npmrc").is_file():  # registry and token: read, never packed
            shutil.copyfile(spec.manifest.parent / ".npmrc", work / ".npmrc")
        npm.ci(npm_bin, work, target, spec.function, run_scripts=run_scripts)
        if (work / "node_modules").is_dir():
            os.rename(work / "node_modules", site / "node_modules")
        shutil.rmtree(work)
        prune(site, spec, _read_json(lock), report)
        if not run_scripts:
            check_unbuilt(site, target, spec.function, report)

    entry = install_entry(cache_dir, key, install, _meta(spec, target, lock, run_scripts))
    return InstalledDependencies(key, entry, from_cache=False)


def host_is(target: Target) -> bool:
    """Whether this machine is the target platform, so install scripts build the right code."""
    return sys.platform.startswith("linux") and _HOST_CPUS.get(platform.machine().lower()) == target.cpu


def dependency_key(spec: DependencySpec, target: Target, lock: Path, run_scripts: bool) -> str:
    """The cache key: a hash of everything that decides the installed tree."""
    digest = hashlib.sha256()
    for part in (
        f"format={FORMAT_VERSION}", f"runtime={target.runtime}",
        f"platform={target.os}-{target.cpu}-{target.libc}",
        f"runtime-packages={spec.include_runtime_packages}", f"strip={sorted(set(spec.strip))}",
        f"scripts={run_scripts}",
    ):
        digest.update(part.encode() + b"\0")
    for path in (spec.manifest, lock):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "node-" + digest.hexdigest()[:40]


def prune(site: Path, spec: DependencySpec, lock: dict[str, Any], report: Callable[[str], None]) -> None:
    """Remove what must not or need not ship (see the module docstring)."""
    modules = site / "node_modules"
    if not modules.is_dir():
        return
    (modules / ".package-lock.json").unlink(missing_ok=True)
    shutil.rmtree(modules / ".cache", ignore_errors=True)
    if not spec.include_runtime_packages:
        left_out = runtime_provided(modules, lock)
        for name in left_out:
            shutil.rmtree(modules / name)
        if left_out:
            sdk = [n for n in left_out if n.startswith(RUNTIME_PROVIDED_SCOPES)]
            report(f"left out {len(sdk)} package(s) the nodejs runtime provides ({', '.join(sdk[:3])}"
                   f"{', ...' if len(sdk) > 3 else ''}) and {len(left_out) - len(sdk)} only they need; "
                   "include_runtime_packages: true ships them")
    strip_tests = "tests" in spec.strip
    for folder, dirs, files in os.walk(modules, topdown=True):
        here = Path(folder)
        for name in files:
            if name == ".npmrc":
                (here / name).unlink()
        for d in list(dirs):
            package_root = here.name == "node_modules" or (here.name.startswith("@") and here.parent.name == "node_modules")
            if (d == ".bin" and here.name == "node_modules") or (strip_tests and d in _TEST_FOLDERS
                                                                and not package_root):
                shutil.rmtree(here / d)
                dirs.remove(d)
    for scope in [p for p in modules.iterdir() if p.name.startswith("@") and p.is_dir() and not any(p.iterdir())]:
        scope.rmdir()


def runtime_provided(modules: Path, lock: dict[str, Any]) -> list[str]:
    """Top-level packages to leave out: the runtime's SDK and what nothing else needs (by lockfile)."""
    installed = sorted(_top_level(modules))
    packages = lock.get("packages")
    if not isinstance(packages, dict) or "" not in packages:  # lockfile v1: the scope only
        return [n for n in installed if n.startswith(RUNTIME_PROVIDED_SCOPES)]
    needed: set[str] = set()
    todo = [("", name) for name in _names(packages[""])]
    while todo:
        origin, name = todo.pop()
        path = _resolve(packages, origin, name)
        if path is None or path in needed:
            continue
        if path == f"node_modules/{name}" and name.startswith(RUNTIME_PROVIDED_SCOPES):
            continue  # the runtime provides it, whoever asks
        needed.add(path)
        todo.extend((path, dep) for dep in _names(packages[path]))
    left_out = [n for n in installed if f"node_modules/{n}" not in needed]
    # Only what the SDK pulled in goes with it: without an SDK package nothing is removed.
    return left_out if any(n.startswith(RUNTIME_PROVIDED_SCOPES) for n in left_out) else []


def _names(meta: Any) -> Iterator[str]:
    if isinstance(meta, dict):
        for field in DEPENDENCY_FIELDS:
            if isinstance(meta.get(field), dict):
                yield from meta[field]


def _resolve(packages: dict[str, Any], origin: str, name: str) -> str | None:
    """Where Node.js finds `name` required from the package at `origin`: the nearest node_modules up."""
    base = origin
    while True:
        candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        base = base[: base.rfind("node_modules/")].rstrip("/")


def _top_level(modules: Path) -> Iterator[str]:
    for entry in modules.iterdir():
        if entry.name.startswith("@") and entry.is_dir():
            yield from (f"{entry.name}/{p.name}" for p in entry.iterdir() if p.is_dir())
        elif entry.is_dir() and not entry.name.startswith("."):
            yield entry.name


def check_unbuilt(site: Path, target: Target, function: str, report: Callable[[str], None]) -> None:
    """After an install without scripts: refuse packages whose native code only an install script
    would have built (for this machine, not the target); mention the other skipped scripts."""
    unbuilt, skipped = [], []
    for folder, manifest in _packages(site / "node_modules"):
        scripts = manifest.get("scripts") if isinstance(manifest.get("scripts"), dict) else {}
        commands = " ".join(str(scripts.get(k, "")) for k in ("preinstall", "install", "postinstall"))
        gyp = (folder / "binding.gyp").is_file() or manifest.get("gypfile") is True
        if not commands.strip() and not gyp:
            continue
        name = str(manifest.get("name") or folder.name)
        if _has_native_for(folder, target) or (folder / "prebuilds" / f"linux-{target.cpu}").is_dir():
            continue
        (unbuilt if gyp or any(b in commands for b in _NATIVE_BUILDERS) else skipped).append(name)
    if unbuilt:
        raise PackagingInputError(
            f"{function}: {', '.join(sorted(unbuilt))} build{'s' if len(unbuilt) == 1 else ''} native code in an "
            f"install script, which would build it for this machine, not for Lambda's {target.label}",
            hint=f"use a version that ships prebuilt linux-{target.cpu} binaries, package on a "
                 f"Linux {target.architecture} machine (or in CI there), or change `architecture:`")
    if skipped:
        report(f"install scripts of {', '.join(sorted(skipped))} were not run (they would run for this "
               f"machine, not for {target.label})")


def _packages(modules: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every installed package folder (nested node_modules included) with its package.json."""
    if not modules.is_dir():
        return
    for name in _top_level(modules):
        folder = modules / name
        manifest = _read_json(folder / "package.json")
        if manifest:
            yield folder, manifest
        yield from _packages(folder / "node_modules")


def _has_native_for(folder: Path, target: Target) -> bool:
    for path in folder.rglob("*.node"):
        if "node_modules" not in path.relative_to(folder).parts and elf_architecture(path) == target.architecture:
            return True
    return False


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _meta(spec: DependencySpec, target: Target, lock: Path, run_scripts: bool) -> dict[str, object]:
    """What an entry was installed for, for whoever looks inside the cache."""
    return {
        "format": FORMAT_VERSION, "manifest": str(spec.manifest), "lockfile": lock.name,
        "runtime": target.runtime, "architecture": target.architecture,
        "platform": f"{target.os}-{target.cpu}-{target.libc}", "install_scripts": run_scripts,
        "include_runtime_packages": spec.include_runtime_packages, "strip": sorted(set(spec.strip)),
    }
