"""Read the local git repository with the `git` command (no library): the commit a build comes
from, whether its files have uncommitted changes, and the commits between two versions.

Every answer degrades to "unknown" (None) rather than failing a deploy: no git installed, not a
repository, a commit this clone does not have. Reads only: GIT_OPTIONAL_LOCKS=0 keeps `git
status` from taking the index lock while an editor or another git command works.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config.model import FunctionConfig

TIMEOUT = 10  # seconds; a git that hangs (a network file system) must not hang a deploy


@dataclass(frozen=True)
class GitState:
    commit: str  # short sha of HEAD
    dirty: bool  # the paths asked about have uncommitted changes (untracked files count)


def _git(folder: Path, *args: str) -> str | None:
    """git's standard output, or None when git is missing or fails."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def read_state(folder: Path, paths: Sequence[Path] = (),
               counts: Callable[[Path, bool], bool] | None = None) -> GitState | None:
    """HEAD of the repository holding `folder`, and whether `paths` (default: all of it) differ
    from it; None outside a repository (or one without a commit yet). `counts(path, is_folder)`
    says whether a changed path matters (default: every one does)."""
    folder = folder if folder.is_dir() else folder.parent
    head = _git(folder, "rev-parse", "--short", "HEAD")
    root = _git(folder, "rev-parse", "--show-toplevel")
    if not head or not head.strip() or not root:
        return None
    status = ("status", "--porcelain", "-z", "--untracked-files=normal", "--")
    changes = _git(folder, *status, *(str(p.resolve()) for p in paths))
    if changes is None and paths:  # a path outside this repository: judge the folder alone
        changes = _git(folder, *status, ".")
    changed = _changed_paths(Path(root.strip()), changes or "")
    return GitState(head.strip(), any(counts is None or counts(path, is_folder) for path, is_folder in changed))


def _changed_paths(root: Path, porcelain: str) -> list[tuple[Path, bool]]:
    """(path, is_folder) of each entry of `git status --porcelain -z` (paths relative to the
    repository root; a rename or copy also names its origin, which changed too). An untracked
    folder is one entry ending in /."""
    found = []
    entries = iter(porcelain.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        name = entry[3:]
        found.append(((root / name).resolve(), name.endswith("/")))
        if entry[0] in "RC":
            origin = next(entries, "")
            if origin:
                found.append(((root / origin).resolve(), False))
    return found


def function_state(fn: FunctionConfig, config_file: Path) -> GitState | None:
    """The git state of what one function's version is built from: its packed source files,
    its dependency files (a manifest outside the source folder included) and lambda.yaml."""
    from ..packaging.build import build_inputs

    inputs, packed = build_inputs(fn)
    config = config_file.resolve()
    return read_state(fn.source, (*inputs, config_file), lambda path, is_folder: path == config or packed(path, is_folder))


def has_commit(folder: Path, commit: str) -> bool:
    return _git(folder, "cat-file", "-e", f"{commit}^{{commit}}") is not None


def commits_between(folder: Path, base: str, head: str) -> tuple[str, ...] | None:
    """`git log --oneline base..head`: the commits head has and base has not, newest first;
    None when either commit is not in the local repository."""
    if not (has_commit(folder, base) and has_commit(folder, head)):
        return None
    out = _git(folder, "log", "--oneline", "--no-decorate", "--no-color", f"{base}..{head}")
    return None if out is None else tuple(line for line in out.splitlines() if line.strip())
