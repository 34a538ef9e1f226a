"""Which files of a function's source folder (and of its `include:` paths) go into its zip.

Everything under `source`, minus built-in excludes (secrets: private keys and
credential files; VCS and cache folders), minus the `.lambdaignore` next to lambda.yaml,
minus `.lambdaignore` in the source folder, minus the function's `exclude` patterns; all
in gitignore syntax matched against paths inside the zip, in that order, so a later
`!pattern` can deliberately re-include something an earlier rule left out (e.g. a CA
bundle `.pem` the function needs). The secret files left out are reported, so nobody
wonders where one went. A symlink that points outside the tree being walked (`source`,
or an included folder) is never followed: it could pull in anything on the build machine.

Some paths are never packed, whatever the patterns say (`source: .` packs the project
root): what config/layout.py lists in `never_pack` (lambda.yaml, the other functions'
and the layers' folders, smoke-test payloads), and folders tagged as regenerable output
with a CACHEDIR.TAG (the dependency cache, `package --out` and `export` folders write one,
as cargo's target/ does).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ..config.model import FunctionConfig
from ..errors import PackagingInputError

# Secrets that must not ship by accident: private keys and credential files. Whatever these
# leave out is named in the package summary; `!NAME` in .lambdaignore ships one on purpose.
SECRET_EXCLUDES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".ssh/",
    ".aws/",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "credentials.json",
)
BUILTIN_EXCLUDES = (
    ".git/",
    "__pycache__/",
    "*.pyc",
    ".venv/",
    *SECRET_EXCLUDES,
    ".lambdadeploy/",
    ".DS_Store",
    # Packaging instructions, not code: no reason to ship them.
    "/.lambdaignore",
)
IGNORE_FILE = ".lambdaignore"
_SECRETS = pathspec.GitIgnoreSpec.from_lines(SECRET_EXCLUDES)
# The Cache Directory Tagging Specification (bford.info/cachedir): a folder holding this file
# with this signature has regenerable content; tar --exclude-caches and backup tools skip it.
CACHEDIR_TAG = "CACHEDIR.TAG"
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"


def tag_as_output(folder: Path, what: str) -> None:
    """Mark a folder the tool writes (cache, package output) so no build ever packs it."""
    tag = folder / CACHEDIR_TAG
    if not tag.exists():
        tag.write_bytes(CACHEDIR_SIGNATURE + f"\n# {what}, written by lambdadeploy; never packed.\n".encode())


def replace_output(new: Path, target: Path) -> None:
    """Rename `new` over `target` (atomic: a reader sees the old file or the new one), and let
    the old file's space go on another thread. Renaming over a file frees its pages at once,
    about 25 ms for a 30 MB zip, which `package --watch` would add to every rebuild; holding the
    old file open makes the rename cheap, and closing it later does the freeing."""
    try:
        old = os.open(target, os.O_RDONLY)
    except OSError:
        old = None
    os.replace(new, target)
    if old is not None:
        threading.Thread(target=os.close, args=(old,), name="release-old-zip", daemon=True).start()


def _is_tagged(folder: Path) -> bool:
    try:
        with open(folder / CACHEDIR_TAG, "rb") as handle:
            return handle.read(len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False


@dataclass(frozen=True)
class Fence:
    """What a walk never yields, whatever the patterns say: these real paths (and what is
    under them), and folders tagged with a CACHEDIR.TAG."""

    paths: frozenset[str] = frozenset()

    def keeps_out(self, path: Path, is_dir: bool) -> bool:
        return str(path) in self.paths or (is_dir and _is_tagged(path))


@dataclass(frozen=True)
class SourceFile:
    """One file to pack: its name inside the zip and where its content is read from."""

    arcname: str  # posix, relative, never absolute and never containing '..'
    path: Path  # the file to read; for a symlink inside the tree, its target
    executable: bool


def ignore_lines(source: Path, project_ignore: Path | None, exclude: tuple[str, ...]) -> list[str]:
    """Built-in excludes, the project's .lambdaignore, the source's .lambdaignore, `exclude`."""
    lines = list(BUILTIN_EXCLUDES)
    for ignore_file in dict.fromkeys(p for p in (project_ignore, source / IGNORE_FILE) if p is not None):
        if ignore_file.is_file():
            lines += ignore_file.read_text(encoding="utf-8").splitlines()
    lines += exclude
    return lines


def exclusion_spec(fn: FunctionConfig) -> pathspec.GitIgnoreSpec:
    """The function's gitignore-style spec (see ignore_lines)."""
    return pathspec.GitIgnoreSpec.from_lines(ignore_lines(fn.source, fn.project_ignore, fn.exclude))


def select_files(
    fn: FunctionConfig,
    on_skip: Callable[[str], None] | None = None,
    on_left_out: Callable[[str], None] | None = None,
    never: tuple[Path, ...] = (),
) -> list[SourceFile]:
    """The function's own files and its `include:` paths, sorted by arcname.

    on_skip hears about symlinks left out because they lead outside the tree walked, and
    about what is never packed; on_left_out about each secret file (or folder, ending in /)
    the built-in excludes kept out. `never`: more paths to keep out (the dependency cache).
    """
    if not fn.source.is_dir():
        what = "does not exist" if not fn.source.exists() else "is not a folder"
        raise PackagingInputError(
            f"{fn.key}: source folder {fn.source} {what}",
            hint="fix `source:` in lambda.yaml (it is relative to lambda.yaml)",
        )
    spec = exclusion_spec(fn)
    fence = Fence(frozenset(str(p) for p in (*fn.never_pack, *never)))
    files = list(walk_tree(fn.source, spec, on_skip, on_left_out, fence=fence))
    for include in fn.include:
        files += _included(include.path, include.to, spec, fence, on_skip, on_left_out)
    return _without_duplicates(fn.key, files)


def _included(path: Path, to: str, spec: pathspec.PathSpec, fence: Fence, on_skip: Callable[[str], None] | None,
              on_left_out: Callable[[str], None] | None) -> list[SourceFile]:
    """An `include:` path as files at `to` in the zip, under the same patterns as the source."""
    if path.is_dir():
        return list(walk_tree(path, spec, on_skip, on_left_out, fence=fence, prefix=to + "/"))
    if spec.match_file(to):
        _left_out(to, on_left_out)
        return []
    _check_name(to, path.parent)
    return [SourceFile(to, path, bool(path.stat().st_mode & stat.S_IXUSR))]


def _without_duplicates(function: str, files: list[SourceFile]) -> list[SourceFile]:
    """Sorted by arcname; one path reached twice (an include inside the source) counts once,
    two different files for one place in the zip are an error."""
    chosen: dict[str, SourceFile] = {}
    for file in files:
        other = chosen.setdefault(file.arcname, file)
        if other is not file and os.path.realpath(other.path) != os.path.realpath(file.path):
            raise PackagingInputError(
                f"{function}: two files would be {file.arcname} in the zip: {other.path} and {file.path}",
                hint="give the `include:` entry another place with {from: PATH, to: DIR}")
    return sorted(chosen.values(), key=lambda f: f.arcname)


def walk_tree(
    root: Path,
    spec: pathspec.PathSpec | None = None,
    on_skip: Callable[[str], None] | None = None,
    on_left_out: Callable[[str], None] | None = None,
    *,
    fence: Fence | None = None,
    prefix: str = "",
) -> Iterator[SourceFile]:
    """Every regular file under root that spec does not exclude, symlinks resolved, named
    `prefix` + its path below root.

    Symlinks (to files or folders) are followed only when their target lies
    inside root; links leading outside, broken links and special files are skipped.
    What the fence keeps out is skipped whatever the spec says.
    """
    real_root = os.path.realpath(root)
    yield from _walk(root, prefix, real_root, spec, (on_skip, on_left_out), frozenset({real_root}), fence)


def _walk(
    folder: Path,
    prefix: str,
    real_root: str,
    spec: pathspec.PathSpec | None,
    hooks: tuple[Callable[[str], None] | None, Callable[[str], None] | None],
    ancestors: frozenset[str],
    fence: Fence | None = None,
) -> Iterator[SourceFile]:
    """Long because each kind of entry (symlink, folder, file) has its own rules, in this order."""
    on_skip, on_left_out = hooks
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        arcname = prefix + entry.name
        target = Path(entry.path)
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not _inside(real, real_root):
                if on_skip:
                    on_skip(f"skipped symlink {arcname}: it points outside {real_root}")
                continue
            target = Path(real)
        try:
            st = target.stat()
        except OSError:  # broken symlink, or removed while we walk
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        if fence is not None and fence.keeps_out(target, is_dir):
            if on_skip:
                on_skip(f"left out {arcname}{'/' if is_dir else ''}: never packed (lambda.yaml, test payloads, "
                        "other functions' and layers' folders, lambdadeploy's own output)")
            continue
        if is_dir:
            if spec is not None and spec.match_file(arcname + "/"):
                _left_out(arcname + "/", on_left_out)
                continue  # prune: gitignore cannot re-include inside an excluded folder
            _check_name(arcname, folder)
            real_dir = os.path.realpath(target)
            if real_dir in ancestors:  # a link back up the tree: stop the cycle
                continue
            yield from _walk(
                target, arcname + "/", real_root, spec, hooks, ancestors | {real_dir}, fence
            )
        elif stat.S_ISREG(st.st_mode):
            if spec is not None and spec.match_file(arcname):
                _left_out(arcname, on_left_out)
                continue
            _check_name(arcname, folder)
            yield SourceFile(arcname, target, bool(st.st_mode & stat.S_IXUSR))


def _left_out(arcname: str, on_left_out: Callable[[str], None] | None) -> None:
    if on_left_out is not None and _SECRETS.match_file(arcname):
        on_left_out(arcname)


def _check_name(arcname: str, folder: Path) -> None:
    """Zip names are UTF-8; a name that is not decodes to surrogates and cannot be stored."""
    try:
        arcname.encode("utf-8")
    except UnicodeEncodeError:
        raise PackagingInputError(
            f"file name {os.fsencode(arcname)!r} in {folder} is not valid UTF-8",
            hint="rename the file, or exclude it",
        ) from None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
