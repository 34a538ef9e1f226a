"""Run the installer (uv, else pip) for a foreign platform, and explain its failures.

Strategy with uv: install with `--only-binary :all:` so nothing is compiled on
this machine for the wrong OS. When that fails because a package has no usable
wheel, ask the index whether that package publishes platform-specific wheels at
all: if it does, it is native code with no wheel for our target, and we fail at
once naming it (building it here would take minutes and still produce a wheel
for the wrong platform). If it ships only an sdist, it is most likely pure
Python: retry with building allowed for just that package (`--no-binary NAME`).
uv itself rejects a built wheel that is not compatible with the target, so a
native sdist-only package still fails, naming the package. When the index
cannot be asked (offline, private index), building is allowed and uv's check
remains the safety net. Local folders named in the requirements are always built.

pip is the fallback when uv is not available. pip cannot build sdists for a
foreign platform (`--platform` requires `--only-binary=:all:`), so with pip,
sdist-only packages are an error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ...errors import PackagingError, PackagingInputError
from .platform import Target

DEFAULT_INDEX = "https://pypi.org/simple"
MAX_BUILD_ROUNDS = 5  # each round discovers one more sdist-only package
INDEX_TIMEOUT_SECONDS = 10

_NEEDS_WHEEL = re.compile(
    r"Wheels are required for `([^`]+)` because building from source is disabled"
)
_LOCAL_BUILD = re.compile(
    r"Building source distributions is disabled, but attempted to build `([^`]+)`"
)
_INCOMPATIBLE_BUILD = re.compile(r"The built wheel `([^`]+)` is not compatible")
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([^`=\s]+)")
_PIP_NO_MATCH = re.compile(r"No matching distribution found for ([^\s;]+)")
_PIP_WRONG_WHEEL = re.compile(r"(\S+\.whl) is not a supported wheel on this platform")
_UV_WRONG_PATH = re.compile(
    r"A path \((.+?)\) dependency is incompatible with the current platform"
)
# The requirements text itself is wrong: a spec uv cannot parse, an unknown option line.
_UV_PARSE = re.compile(r"Couldn't parse requirement in `([^`]+)` at position (\d+)")
_UV_BAD_LINE = re.compile(r"or the start of a requirement: (\S+?):(\d+):\d+")
_UV_NOT_A_PROJECT = re.compile(r"`([^`]+)` does not appear to be a Python project")
_PIP_INVALID = re.compile(r"Invalid requirement: .*?(?:\(from line (\d+) of (\S+?)\))")


def find_uv() -> str | None:
    """The uv binary shipped with the `uv` package, or None when it is not usable."""
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


def install(
    requirements: Path,
    dest: Path,
    target: Target,
    key: str,
    report: Callable[[str], None],
    *,
    rebuild_local: bool = False,
) -> None:
    """Install requirements (and their dependencies) into dest for the target platform.

    Relative paths in the requirements file are taken from its own folder: the
    installer runs there. rebuild_local: build local package folders afresh rather
    than take uv's cached build (`--reinstall`, which unlike `--refresh` also works
    with UV_OFFLINE).
    """
    uv_bin = find_uv()
    if uv_bin is None:
        report("uv not available, installing with pip")
        _install_with_pip(requirements, dest, target, key)
    else:
        _install_with_uv(uv_bin, requirements, dest, target, key, report, rebuild_local)


def _install_with_uv(
    uv_bin: str,
    requirements: Path,
    dest: Path,
    target: Target,
    key: str,
    report: Callable[[str], None],
    rebuild_local: bool = False,
) -> None:
    may_build: set[str] = set()
    for _ in range(MAX_BUILD_ROUNDS):
        cmd = [
            uv_bin, "pip", "install", "--quiet", "--no-progress",
            "--python", sys.executable,  # builds sdists; never decides the target
            "--target", str(dest),
            "--python-platform", target.uv_platform,
            "--python-version", target.python_version,
            "--only-binary", ":all:",
            # Copies, not hard links into uv's own cache: a file edited in our cache entry must
            # not edit uv's cache too (a reinstall would bring the edit back).
            "--link-mode", "copy",
            *(["--reinstall"] if rebuild_local else []),
            *[arg for name in sorted(may_build) for arg in ("--no-binary", name)],
            "-r", str(requirements),
        ]  # fmt: skip
        proc = _run(cmd, requirements.parent)
        if proc.returncode == 0:
            return
        # uv wraps long lines; match on the text with whitespace collapsed.
        flat = " ".join(proc.stderr.split())
        # Local folders and source URLs named in the requirements: the user asked for
        # exactly this source, so it is built (the index knows nothing about it).
        local = {m.group(1) for m in _LOCAL_BUILD.finditer(flat)} - may_build
        wanted = {m.group(1) for m in _NEEDS_WHEEL.finditer(flat)} - may_build
        if not wanted and not local:
            raise _uv_failure(flat, proc.stderr, requirements, target, key)
        for name in sorted(wanted):
            version = _pinned_version(flat, name)
            if publishes_binary_wheels(name, version, _index_url(requirements)):
                raise native_without_wheel(name, version, target, key)
        report(f"building {', '.join(sorted(wanted | local))} from source")
        may_build |= wanted | local
    raise PackagingError(f"{key}: too many packages need building from source ({len(may_build)})")


def _install_with_pip(requirements: Path, dest: Path, target: Target, key: str) -> None:
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-input", "--no-compile", "--target", str(dest),
        "--implementation", "cp", "--python-version", target.python_version,
        "--only-binary=:all:",
        *[f"--platform={tag}" for tag in target.platform_tags()],
        "-r", str(requirements),
    ]  # fmt: skip
    proc = _run(cmd, requirements.parent)
    if proc.returncode == 0:
        return
    flat = " ".join(proc.stderr.split())
    m = _PIP_INVALID.search(flat)
    if m:
        raise PackagingInputError(f"{key}: {m.group(2)}:{m.group(1)}: invalid requirement" + _tail(proc.stderr),
                                  hint=REQUIREMENT_HINT)
    m = _PIP_NO_MATCH.search(flat) or _PIP_WRONG_WHEEL.search(flat)
    if m:
        raise PackagingInputError(
            f"{key}: {m.group(1)} has no wheel for {target.label} ({target.manylinux_tag})"
            + _tail(proc.stderr),
            hint="pin a version that publishes one; or install uv, which can also build "
            "pure-Python packages that ship only source",
        )
    raise PackagingError(f"{key}: pip could not install {requirements}" + _tail(proc.stderr))


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PackagingError(f"could not run {cmd[0]}: {exc}") from exc


def native_without_wheel(
    name: str, version: str | None, target: Target, key: str
) -> PackagingInputError:
    """The error for a package that needs a compiled wheel the target cannot get."""
    what = f"{name}=={version}" if version else name
    return PackagingInputError(
        f"{key}: {what} has no wheel for {target.label} ({target.manylinux_tag}, "
        f"CPython {target.python_version}) and is not pure Python, so it cannot be built here",
        hint=f"pin a version of {name} that publishes a wheel for this runtime and "
        "architecture, or change `runtime:` / `architecture:`",
    )


REQUIREMENT_HINT = "one requirement per line, e.g. `requests==2.32.3` (PEP 508), or -r/-c FILE"


def _uv_failure(flat: str, stderr: str, requirements: Path, target: Target, key: str) -> Exception:
    """The error for a failed uv run; flat is stderr with whitespace collapsed, for matching."""
    problem = _input_problem(flat, requirements)
    if problem is not None:
        return PackagingInputError(f"{key}: {problem}" + _tail(stderr), hint=REQUIREMENT_HINT)
    m = _INCOMPATIBLE_BUILD.search(flat)
    if m:
        name, version = m.group(1).split("-")[:2]
        return native_without_wheel(name, version, target, key)
    m = _UV_WRONG_PATH.search(flat)
    if m:
        return PackagingInputError(
            f"{key}: {m.group(1)} is not built for {target.label} ({target.manylinux_tag})"
            + _tail(stderr),
            hint="use a wheel built for this runtime and architecture, or the package's source",
        )
    m = _FAILED_BUILD.search(flat)
    if m:
        return PackagingInputError(
            f"{key}: {m.group(1)} ships only source and failed to build for {target.label}"
            + _tail(stderr),
            hint="pin a version that publishes a wheel for this runtime and architecture",
        )
    if "No solution found" in flat or "not found" in flat.lower():
        return PackagingInputError(
            f"{key}: the requirements in {requirements} cannot be installed for "
            f"{target.label} ({target.manylinux_tag})" + _tail(stderr),
            hint="check the package names and pins; the message above names the package",
        )
    return PackagingError(f"{key}: installing {requirements} failed" + _tail(stderr))


def _input_problem(flat: str, requirements: Path) -> str | None:
    """`FILE:LINE: what is wrong` when uv failed on the requirements text itself."""
    m = _UV_PARSE.search(flat)
    if m:
        path = requirements.parent / m.group(1)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"{path}: invalid requirement"
        return f"{path}:{text.count(chr(10), 0, int(m.group(2))) + 1}: invalid requirement"
    m = _UV_BAD_LINE.search(flat)
    if m:
        return f"{requirements.parent / m.group(1)}:{m.group(2)}: not a requirement or a known option"
    m = _UV_NOT_A_PROJECT.search(flat)
    if m:
        return f"{m.group(1)} (named in {requirements}) is not a Python package folder"
    return None


def _tail(stderr: str, lines: int = 20) -> str:
    """The useful end of an installer's output, indented under our message."""
    kept = [line for line in stderr.strip().splitlines() if line.strip()][-lines:]
    return (":\n" + "\n".join("    " + line for line in kept)) if kept else ""


def _pinned_version(stderr: str, name: str) -> str | None:
    m = re.search(rf"\b{re.escape(name)}==([^\s,]+) has no usable wheels", stderr)
    return m.group(1) if m else None


def _index_url(requirements: Path) -> str:
    """The index uv will use: `-i/--index-url` in the file, else uv's or pip's env, else PyPI."""
    try:
        text = requirements.read_text(encoding="utf-8")
    except OSError:
        text = ""
    m = re.search(r"^\s*(?:-i|--index-url|--default-index)[\s=]+(\S+)", text, re.MULTILINE)
    if m:
        return m.group(1)
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if os.environ.get(var):
            return os.environ[var]
    return DEFAULT_INDEX


def publishes_binary_wheels(name: str, version: str | None, index_url: str) -> bool | None:
    """Whether the project publishes platform-specific wheels (for version, else any version).

    None when the index cannot tell us; callers then let the build decide.
    """
    files = index_files(name, index_url)
    if files is None:
        return None
    prefix = _canonical(name)
    for filename in files:
        if not filename.endswith(".whl"):
            continue
        parts = filename[:-4].split("-")
        if len(parts) < 5 or _canonical(parts[0]) != prefix:
            continue
        if version is not None and parts[1] != version:
            continue
        if not filename.endswith("-none-any.whl"):
            return True
    return False


def index_files(name: str, index_url: str) -> list[str] | None:
    """The file names the simple index lists for a project (PEP 691 JSON or PEP 503 HTML)."""
    url = f"{index_url.rstrip('/')}/{_canonical(name)}/"
    import urllib.request  # only when a wheel is missing: keeps every build's start-up lean

    request = urllib.request.Request(
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=INDEX_TIMEOUT_SECONDS) as response:
            body = response.read().decode("utf-8", "replace")
            kind = response.headers.get("Content-Type", "")
    except (OSError, ValueError):
        return None
    if "json" in kind:
        try:
            return [f["filename"] for f in json.loads(body).get("files", [])]
        except (ValueError, KeyError, TypeError):
            return None
    return re.findall(r"<a\b[^>]*>\s*([^<]+?)\s*</a>", body)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
