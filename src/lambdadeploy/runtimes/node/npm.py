"""Run `npm ci` for the Lambda platform, and explain its failures.

The command is ``npm ci --omit=dev --os=linux --cpu=x64|arm64 --libc=glibc``: exactly the
lockfile's versions, production dependencies only, and the per-platform optional
packages of Lambda's OS and CPU rather than this machine's (``--os``/``--cpu`` exist
since npm 9.6, ``--libc`` since npm 10.3, so 10.3 is the minimum). Lifecycle scripts
run only when this machine is the target (Linux on the same CPU): a foreign target's
install scripts would build or download native code for this machine, so they are
skipped (``--ignore-scripts``) and deps.py checks what that leaves unbuilt.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ...errors import PackagingError, PackagingInputError
from .platform import Target

MIN_NPM = (10, 3, 0)
VERSION_TIMEOUT_S = 30

_OUT_OF_SYNC = re.compile(r"can only install packages when your package\.json and "
                          r"(package-lock\.json|npm-shrinkwrap\.json).{0,40}?are in sync")
_MISSING_FROM_LOCK = re.compile(r"Missing: (\S+) from lock file")
_NOT_FOUND = re.compile(r"404 Not Found - GET (\S+)|E404.*?'([^']+)' is not in this registry")
_BAD_PLATFORM = re.compile(r"Unsupported platform for (\S+): wanted (\{[^}]*\}) \(current: (\{[^}]*\})\)")
_NETWORK = re.compile(r"\b(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH)\b")
_AUTH = re.compile(r"\b(E401|E403|ENEEDAUTH)\b")


def find_npm() -> str:
    """The npm on PATH, at least MIN_NPM, or PackagingError saying what to install."""
    npm = shutil.which("npm")
    wanted = ".".join(map(str, MIN_NPM))
    if npm is None:
        raise PackagingError("npm is needed to install a Node.js function's package.json dependencies, "
                             "and it is not on PATH",
                             hint=f"install Node.js (it includes npm), or npm {wanted} or later")
    version = npm_version(npm)
    if version < MIN_NPM:
        found = ".".join(map(str, version)) if version != (0, 0, 0) else "unknown"
        raise PackagingError(f"npm {found} cannot install for another platform (--os/--cpu/--libc need npm "
                             f"{wanted} or later)", hint="upgrade it: `npm install -g npm@latest`")
    return npm


def npm_version(npm: str) -> tuple[int, int, int]:
    try:
        done = subprocess.run([npm, "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=_environment())
        parts = [int(re.match(r"\d+", x).group()) for x in done.stdout.strip().split(".")[:3]]  # type: ignore[union-attr]
        major, minor, patch = [*parts, 0, 0, 0][:3]
        return major, minor, patch
    except (OSError, subprocess.SubprocessError, AttributeError, ValueError):
        return (0, 0, 0)


def command(npm: str, target: Target, *, run_scripts: bool) -> list[str]:
    """The install command: the lockfile, production only, for the target platform."""
    return [npm, "ci", "--omit=dev", *target.npm_platform, "--no-audit", "--no-fund", "--no-progress",
            "--loglevel=error", *([] if run_scripts else ["--ignore-scripts"])]


def ci(npm: str, folder: Path, target: Target, key: str, *, run_scripts: bool) -> None:
    """Install `folder`'s package.json + lockfile into folder/node_modules for the target."""
    try:
        done = subprocess.run(command(npm, target, run_scripts=run_scripts), cwd=folder, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, env=_environment())
    except OSError as exc:
        raise PackagingError(f"{key}: could not run npm: {exc}") from exc
    if done.returncode != 0:
        raise failure(" ".join(done.stderr.split()), done.stderr, target, key)


def failure(flat: str, stderr: str, target: Target, key: str) -> Exception:
    """The error for a failed `npm ci`; flat is stderr with whitespace collapsed, for matching."""
    if m := _OUT_OF_SYNC.search(flat):
        missing = sorted(set(_MISSING_FROM_LOCK.findall(flat)))
        return PackagingInputError(
            f"{key}: package.json and {m.group(1)} are out of sync"
            + (f" (missing from the lockfile: {', '.join(missing[:5])})" if missing else ""),
            hint="run `npm install` in the function's folder and commit the updated lockfile")
    if m := _BAD_PLATFORM.search(flat):
        return PackagingInputError(
            f"{key}: {m.group(1)} does not run on Lambda's {target.label} (it wants {m.group(2)})",
            hint="pick a package (or version) that supports linux, or change `architecture:`")
    if m := _NOT_FOUND.search(flat):
        return PackagingInputError(f"{key}: the registry has no {m.group(1) or m.group(2)}" + _tail(stderr),
                                   hint="check the name and version in package.json and the lockfile")
    if _AUTH.search(flat):
        return PackagingInputError(f"{key}: the npm registry refused the credentials" + _tail(stderr),
                                   hint="check the registry token (an .npmrc next to package.json is read, "
                                        "never packed)")
    if _NETWORK.search(flat):
        return PackagingError(f"{key}: npm could not reach the registry" + _tail(stderr),
                              hint="check the network or the registry in .npmrc, then build again")
    return PackagingError(f"{key}: `npm ci` failed for {target.label}" + _tail(stderr))


def _tail(stderr: str, lines: int = 15) -> str:
    kept = [line for line in stderr.strip().splitlines() if line.strip()][-lines:]
    return (":\n" + "\n".join("    " + line for line in kept)) if kept else ""


def _environment() -> dict[str, str]:
    """This process's environment, without npm's nags; the user's npm settings still apply."""
    env = dict(os.environ)
    env.update({"npm_config_update_notifier": "false", "npm_config_fund": "false",
                "npm_config_audit": "false"})
    return env
