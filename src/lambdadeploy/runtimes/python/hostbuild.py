"""`--smoke-arch host`: the deployed package with its native distributions rebuilt for this machine.

An arm64 function's native wheels (Pillow, pydantic-core) cannot load on an x86_64
machine. To smoke-test the code anyway, every distribution that owns a foreign native
file is installed again, at the version the package pins (its ``.dist-info``), for the
same runtime and this machine's architecture, through the same installer and cache as
packaging (so the index comes from the usual uv settings, e.g. UV_INDEX_URL). The
result is a copy of the extracted package (hard links, so cheap) in which only those
distributions' files are replaced. What runs is then not the deployed artifact, and the
smoke result says so.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...paths import default_cache_dir, private_dir
from ..base import DependencySpec, RuntimeUnavailable
from . import deps


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    dist_info: str  # folder name, relative to the site
    files: frozenset[str]  # every path its RECORD lists, relative to the site


def rebuild_for_host(root: Path, runtime: str, architecture: str, native: Sequence[str],
                     report: Callable[[str], None]) -> Path:
    """A copy of ``root`` whose distributions owning any of ``native`` are reinstalled, same
    version, for ``architecture``. Raises RuntimeUnavailable when that cannot be done."""
    distributions = installed_distributions(root)
    owners = sorted({d for d in distributions for path in native if path in d.files}, key=lambda d: d.name)
    orphans = sorted(set(native) - {path for d in owners for path in d.files})
    if orphans:
        raise RuntimeUnavailable(
            f"cannot rebuild {orphans[0]} for {architecture}: no installed distribution in the package "
            "lists it (native code of your own, or vendored), so there is nothing to reinstall")
    pins = "".join(f"{d.name}=={d.version}\n" for d in owners)
    key = hashlib.sha256(f"{root.name}|{runtime}|{architecture}|{pins}".encode()).hexdigest()[:24]
    dest = root.parent / f"{root.name[:16]}-host-{key}"
    if dest.is_dir():
        return dest
    manifests = private_dir() / "host-builds"
    manifests.mkdir(exist_ok=True)
    manifest = manifests / f"{key}.txt"
    manifest.write_text(pins)
    spec = DependencySpec(function=f"--smoke-arch host ({runtime}/{architecture})", manifest=manifest,
                          runtime=runtime, architecture=architecture, include_runtime_packages=True)
    try:
        installed = deps.install_requirements(spec, default_cache_dir(), report)
    except Exception as error:  # the installer's typed errors, or an OS error: say what failed
        raise RuntimeUnavailable(
            f"cannot rebuild {', '.join(d.name + '==' + d.version for d in owners)} for {architecture}: "
            f"{getattr(error, 'message', error)}") from error
    rebuilt = {d.name: d for d in installed_distributions(installed.site)}
    tmp = Path(tempfile.mkdtemp(prefix=".host-", dir=root.parent))
    try:
        shutil.copytree(root, tmp, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)
        for owner in owners:
            deps.remove_distribution(tmp, tmp / owner.dist_info)
            replacement = rebuilt.get(owner.name)
            if replacement is None:
                raise RuntimeUnavailable(f"the installer gave no {owner.name} for {architecture}")
            for path in sorted(replacement.files | {f"{replacement.dist_info}/RECORD"}):
                source = installed.site / path
                if source.is_file() and (tmp / path).resolve().is_relative_to(tmp.resolve()):
                    (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(str(source), str(tmp / path))
        tmp.chmod(0o755)
        os.rename(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.is_dir():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def installed_distributions(site: Path) -> tuple[Distribution, ...]:
    """The distributions installed in a site folder, from their .dist-info METADATA and RECORD."""
    found = []
    for dist_info in sorted(site.glob("*.dist-info")):
        meta = _metadata(dist_info / "METADATA")
        if "name" not in meta or "version" not in meta:
            continue
        files: set[str] = set()
        try:
            with (dist_info / "RECORD").open(newline="", encoding="utf-8") as fh:
                files = {row[0] for row in csv.reader(fh) if row}
        except OSError:
            pass
        name = re.sub(r"[-_.]+", "-", meta["name"]).lower()
        found.append(Distribution(name, meta["version"], dist_info.name, frozenset(files)))
    return tuple(found)


def _metadata(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                break  # the headers end at the first blank line
            key, _, value = line.partition(":")
            if key.lower() in ("name", "version"):
                fields.setdefault(key.lower(), value.strip())
    except OSError:
        pass
    return fields


def _link_or_copy(source: str, dest: str) -> str:
    """A hard link (files are never edited in place), or a copy across file systems."""
    if os.path.lexists(dest):
        os.unlink(dest)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
    return dest
