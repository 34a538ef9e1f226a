"""A function's requirements, installed for its Lambda platform, in a content-addressed cache.

The cache key covers everything that changes the installed tree: the
requirements file and the files it pulls in (`-r`/`-c` includes, local wheels,
sdists and package folders), the runtime, the architecture,
include_runtime_packages, strip and FORMAT_VERSION. A hit installs nothing:
no installer process is started.

Limit: the key is the requirements *text*. An unpinned `requests` stays at the
version first installed until the file changes (pin versions, or clear the
cache). Index settings from the environment (UV_INDEX_URL, ...) are not in the
key either. A VCS requirement is different: its text names a ref, and only a full
commit hash pins content. One on a branch or tag (or no ref) is never served from
the cache: it is installed afresh for every build (uv resolves the ref again), into a
transient entry, with a warning that pinning a commit makes it cacheable.

Editable requirements (`-e`) are refused: they install a link to a folder of this
machine, which does not exist in Lambda.

Entries live in the cache shared by every runtime (runtimes/cache.py), which
makes concurrent installs safe.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import PackagingInputError
from ..base import DependencySpec, InstalledDependencies
from ..cache import cached_entry, install_entry
from . import installer
from .platform import Target, target_for

# Bump when the layout or content of cache entries changes (pruning rules, fragment format).
FORMAT_VERSION = "2"  # 2: entries record their tree's digest; fragments are content-addressed
# Packages the Lambda Python runtime already provides, left out unless asked for.
RUNTIME_PROVIDED_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath")

# Installer bookkeeping: differs between uv and pip, and direct_url.json holds
# paths of this machine. Nothing at runtime reads them.
_INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json")
_TARGET_LOCK = ".lock"  # uv's lock file for a --target folder
_TEST_FOLDERS = ("tests", "test")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(.+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s+|=)(.+)$")
_ARCHIVE = re.compile(r"\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar)$")
_SKIP_IN_LOCAL_TREES = {".git", "__pycache__", ".venv", "build", "dist", ".tox", ".mypy_cache"}
_VCS = re.compile(r"^(?:git|hg|svn|bzr)\+[a-z]+://(?P<rest>.+)$")
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def install_requirements(spec: DependencySpec, cache_dir: Path, report: Callable[[str], None]) -> InstalledDependencies:
    """The function's requirements installed for its platform, from the cache when possible."""
    check_requirements(spec.manifest)
    target = target_for(spec.runtime, spec.architecture, spec.function)
    key = dependency_key(spec, target)
    moving = moving_vcs_requirements(spec.manifest)
    if moving:
        report(f"warning: {moving[0]} is not pinned to a commit, so its content can change: installed afresh "
               f"for every build (pin a full commit hash, @<40 hex digits>, to cache it)")
    else:
        entry = cached_entry(cache_dir, key)
        if entry is not None:
            report(f"dependencies for {target.label} from cache")
            return InstalledDependencies(key, entry, from_cache=True)
    count = _count_requirements(spec.manifest)
    report(f"installing {count} requirement{'s' if count != 1 else ''} for {target.label}")

    def install(site: Path) -> None:
        # uv reuses its build of a package folder until the folder's pyproject.toml (or
        # setup.py/setup.cfg) changes; our key covers the whole folder, so a miss rebuilds it.
        installer.install(spec.manifest, site, target, spec.function, report,
                          rebuild_local=bool(local_folders(spec.manifest)))
        prune(site, spec)

    entry = install_entry(cache_dir, key, install, _meta(spec, target), transient=bool(moving))
    return InstalledDependencies(key, entry, from_cache=False)


def _lines(path: Path, seen: set[Path], where: str = "") -> Iterator[tuple[Path, int, str]]:
    """(file, line number, requirement text) of a requirements file and the -r/-c files it
    includes, comments removed; PackagingInputError naming the file and line for a file that
    cannot be read as UTF-8 text."""
    real = path.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackagingInputError(f"{where}cannot read requirements file {path}: {exc.strerror or exc}",
                                  hint="fix `requirements:` in lambda.yaml, or the -r line that names it") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PackagingInputError(f"{path}:{line}: requirements file is not UTF-8 text",
                                  hint="save it as UTF-8") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        m = _INCLUDE.match(line)
        if m:
            yield from _lines(path.parent / m.group(1).strip(), seen, f"{path}:{number}: ")
            continue
        yield path, number, line


def check_requirements(manifest: Path) -> None:
    """Refuse what can never be packaged, before any installer runs: unreadable files, `-e`."""
    for path, number, line in _lines(manifest, set()):
        if _EDITABLE.match(line):
            raise PackagingInputError(
                f"{path}:{number}: `{line}` is an editable install, which links to a folder on this "
                "machine; that folder does not exist in Lambda",
                hint="list the folder or URL without -e (e.g. `./libs/shared`) to package its code")


def moving_vcs_requirements(manifest: Path) -> list[str]:
    """The VCS requirements whose content can change while their text does not: a branch, a
    tag, or no ref at all (only a full commit hash pins the content)."""
    moving = []
    for _, _, line in _lines(manifest, set()):
        spec = line.split(" @ ", 1)[1].strip() if " @ " in line else line
        m = _VCS.match(spec.split(";", 1)[0].strip())
        if m is None:
            continue
        path = m.group("rest").split("#", 1)[0]
        path = path.split("/", 1)[1] if "/" in path else ""  # past user@host
        ref = path.rsplit("@", 1)[1] if "@" in path else ""
        if not _COMMIT.fullmatch(ref):
            moving.append(line)
    return moving


def dependency_key(spec: DependencySpec, target: Target) -> str:
    """The cache key: a hash of everything that decides the installed tree."""
    digest = hashlib.sha256()
    for part in (
        f"format={FORMAT_VERSION}",
        f"python={target.python_version}",
        f"platform={target.manylinux_tag}",
        f"runtime-packages={spec.include_runtime_packages}",
        f"strip={sorted(set(spec.strip))}",
    ):
        digest.update(part.encode() + b"\0")
    for label, data in _requirement_inputs(spec.manifest, spec.manifest.parent, set()):
        digest.update(label.encode("utf-8", "surrogateescape") + b"\0" + data + b"\0")
    return digest.hexdigest()[:40]


def local_folders(requirements: Path) -> list[Path]:
    """The package folders the requirements (and the files they include) install from."""
    folders: list[Path] = []
    for _ in _requirement_inputs(requirements, requirements.parent, set(), folders):
        pass
    return folders


def _requirement_inputs(
    path: Path, base: Path, seen: set[Path], folders: list[Path] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(label, content) of a requirements file and of every local file it refers to;
    the local package folders among them are also appended to `folders`.

    `-r`/`-c` paths are relative to the including file, as pip and uv read
    them; package paths are relative to `base`, the folder the installer runs in.
    """
    real = path.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise PackagingInputError(
            f"cannot read requirements file {path}: {exc.strerror or exc}",
            hint="fix `requirements:` in lambda.yaml, or the -r line that names it",
        ) from exc
    yield f"requirements:{path.name}", text
    for raw in text.decode("utf-8", "replace").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        m = _INCLUDE.match(line)
        if m:
            yield from _requirement_inputs(path.parent / m.group(1).strip(), base, seen, folders)
            continue
        m = _EDITABLE.match(line)
        local = _local_path(m.group(1).strip() if m else line, base)
        if local is not None:
            if folders is not None and local.is_dir():
                folders.append(local)
            yield f"local:{local.name}", _content_hash(local)


def _local_path(spec: str, base: Path) -> Path | None:
    """The local file or folder a requirement line installs from, if it names one."""
    if " @ " in spec:
        spec = spec.split(" @ ", 1)[1].strip()
    spec = spec.split(";", 1)[0].strip()
    if spec.startswith("file:"):
        spec = re.sub(r"^file:(//)?", "", spec)
    elif not (spec.startswith((".", "/", "~")) or _ARCHIVE.search(spec)):
        return None
    path = (base / os.path.expanduser(spec)).resolve()
    return path if path.exists() else None


def _content_hash(path: Path) -> bytes:
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.digest()
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_IN_LOCAL_TREES)
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            file = Path(folder, name)
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.digest()


def prune(site: Path, spec: DependencySpec) -> None:
    """Remove from an installed tree what must not or need not ship.

    Runtime-provided packages (unless asked for), bytecode caches (the runtime
    writes its own), installer bookkeeping, console scripts (they point at this
    machine's Python) and, with strip: [tests], packages' own test suites.
    Files are only ever unlinked, never edited: uv hard-links them from its cache.
    """
    for dist_info in sorted(site.glob("*.dist-info")):
        for name in _INSTALLER_FILES:
            (dist_info / name).unlink(missing_ok=True)
        if not spec.include_runtime_packages and _dist_name(dist_info) in RUNTIME_PROVIDED_PACKAGES:
            remove_distribution(site, dist_info)
    (site / _TARGET_LOCK).unlink(missing_ok=True)
    scripts = site / "bin"
    if scripts.is_dir() and not (scripts / "__init__.py").exists():
        shutil.rmtree(scripts)
    strip_tests = "tests" in spec.strip
    for folder, dirs, files in os.walk(site, topdown=True):
        for d in list(dirs):
            if d == "__pycache__" or (strip_tests and d in _TEST_FOLDERS):
                shutil.rmtree(Path(folder, d))
                dirs.remove(d)
        for name in files:
            if name.endswith((".pyc", ".pyo")):
                Path(folder, name).unlink()


def _dist_name(dist_info: Path) -> str:
    try:
        for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
            if line.startswith("Name:"):
                return re.sub(r"[-_.]+", "-", line[5:].strip()).lower()
    except OSError:
        pass
    return dist_info.name.split("-")[0].replace("_", "-").lower()


def remove_distribution(site: Path, dist_info: Path) -> None:
    """Delete every file a distribution installed (per its RECORD), then its metadata."""
    record = dist_info / "RECORD"
    real_site = site.resolve()
    parents: set[Path] = set()
    if record.is_file():
        with record.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                if not row:
                    continue
                path = (site / row[0]).resolve()
                if real_site not in path.parents:
                    continue  # never delete outside the tree, whatever RECORD says
                path.unlink(missing_ok=True)
                parents.update(p for p in path.parents if real_site in p.parents)
    for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(dist_info, ignore_errors=True)


def declares_nothing(path: Path) -> bool:
    """True for a requirements file of only comments and blank lines (a fresh scaffold's):
    there is nothing to install, so no installer runs and no cache entry is made."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return all(not line.strip() or line.lstrip().startswith("#") for line in lines)


def _count_requirements(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith(("#", "-")))


def _meta(spec: DependencySpec, target: Target) -> dict[str, object]:
    """What an entry was installed for, for whoever looks inside the cache."""
    return {
        "format": FORMAT_VERSION,
        "requirements": str(spec.manifest),
        "runtime": target.runtime,
        "architecture": target.architecture,
        "platform": target.manylinux_tag,
        "include_runtime_packages": spec.include_runtime_packages,
        "strip": sorted(set(spec.strip)),
    }
