"""Which files of a function's source folder go into its zip.

Everything under `source`, minus built-in excludes (secrets: private keys and
credential files; VCS and cache folders), minus `.lambdaignore` in the source
folder, minus the function's `exclude` patterns; all three in gitignore syntax,
in that order, so a later `!pattern` can deliberately re-include something an
earlier rule left out (e.g. a CA bundle `.pem` the function needs). The secret
files left out are reported, so nobody wonders where one went. A symlink that points outside
`source` is never followed: it could pull in anything on the build machine.
"""

from __future__ import annotations

import os
import stat
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


@dataclass(frozen=True)
class SourceFile:
    """One file to pack: its name inside the zip and where its content is read from."""

    arcname: str  # posix, relative, never absolute and never containing '..'
    path: Path  # the file to read; for a symlink inside the tree, its target
    executable: bool


def exclusion_spec(fn: FunctionConfig) -> pathspec.GitIgnoreSpec:
    """Built-in excludes, then .lambdaignore, then `exclude`, as one gitignore-style spec."""
    lines = list(BUILTIN_EXCLUDES)
    ignore_file = fn.source / IGNORE_FILE
    if ignore_file.is_file():
        lines += ignore_file.read_text(encoding="utf-8").splitlines()
    lines += fn.exclude
    return pathspec.GitIgnoreSpec.from_lines(lines)


def select_files(
    fn: FunctionConfig,
    on_skip: Callable[[str], None] | None = None,
    on_left_out: Callable[[str], None] | None = None,
) -> list[SourceFile]:
    """The function's own files to pack, sorted by arcname.

    on_skip hears about symlinks left out because they lead outside `source`; on_left_out
    about each secret file (or folder, ending in /) the built-in excludes kept out.
    """
    if not fn.source.is_dir():
        what = "does not exist" if not fn.source.exists() else "is not a folder"
        raise PackagingInputError(
            f"{fn.key}: source folder {fn.source} {what}",
            hint="fix `source:` in lambda.yaml (it is relative to lambda.yaml)",
        )
    spec = exclusion_spec(fn)
    return sorted(walk_tree(fn.source, spec, on_skip, on_left_out), key=lambda f: f.arcname)


def walk_tree(
    root: Path,
    spec: pathspec.PathSpec | None = None,
    on_skip: Callable[[str], None] | None = None,
    on_left_out: Callable[[str], None] | None = None,
) -> Iterator[SourceFile]:
    """Every regular file under root that spec does not exclude, symlinks resolved.

    Symlinks (to files or folders) are followed only when their target lies
    inside root; links leading outside, broken links and special files are skipped.
    """
    real_root = os.path.realpath(root)
    yield from _walk(root, "", real_root, spec, (on_skip, on_left_out), frozenset({real_root}))


def _walk(
    folder: Path,
    prefix: str,
    real_root: str,
    spec: pathspec.PathSpec | None,
    hooks: tuple[Callable[[str], None] | None, Callable[[str], None] | None],
    ancestors: frozenset[str],
) -> Iterator[SourceFile]:
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
                    on_skip(f"skipped symlink {arcname}: it points outside the source folder")
                continue
            target = Path(real)
        try:
            st = target.stat()
        except OSError:  # broken symlink, or removed while we walk
            continue
        if stat.S_ISDIR(st.st_mode):
            if spec is not None and spec.match_file(arcname + "/"):
                _left_out(arcname + "/", on_left_out)
                continue  # prune: gitignore cannot re-include inside an excluded folder
            _check_name(arcname, folder)
            real_dir = os.path.realpath(target)
            if real_dir in ancestors:  # a link back up the tree: stop the cycle
                continue
            yield from _walk(
                target, arcname + "/", real_root, spec, hooks, ancestors | {real_dir}
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
