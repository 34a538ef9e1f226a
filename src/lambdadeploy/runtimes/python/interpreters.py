"""Which Python runs a function locally, and what its managed runtime provides.

A function deployed as ``python3.12`` should run under a Python 3.12 on this machine,
not whatever runs lambdadeploy, so ``interpreter_for`` looks for one that really works
(``pythonX.Y`` on PATH, then pyenv installs, each probed because pyenv shims exist
yet fail) and falls back to the current interpreter. Lambda's managed runtime also
ships boto3 and its dependencies in ``/var/runtime``; ``runtime_packages_dir`` mimics
that with a cached directory linking only those packages from this installation,
and only the ones whose Requires-Python admits the chosen interpreter, so a handler
sees the same importable packages as on Lambda and nothing else installed here.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ...paths import private_dir

# What the managed runtime provides besides the standard library (/var/runtime): boto3 and
# its own dependencies. Wider on purpose than deps.RUNTIME_PROVIDED_PACKAGES, which lists
# what packaging leaves out (only those four: a user pinning urllib3 ships it).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

_probe_lock = threading.Lock()


def runtime_version(runtime: str) -> tuple[int, int]:
    """The (major, minor) a runtime such as "python3.12" names; this Python's if it names none."""
    try:
        major, minor = runtime.removeprefix("python").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return sys.version_info[:2]


@functools.cache
def interpreter_for(runtime: str) -> str:
    """An interpreter of the runtime's Python version that really runs, else sys.executable."""
    major, minor = runtime_version(runtime)
    wanted = f"{major}.{minor}"
    if sys.version_info[:2] == (major, minor):
        return sys.executable
    candidates = [shutil.which(f"python{wanted}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installs = sorted(
        pyenv_root.glob(f"versions/{wanted}.*/bin/python{wanted}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")],
        reverse=True,
    )
    candidates += [str(p) for p in installs]
    with _probe_lock:
        for candidate in candidates:
            if candidate and _reports_version(candidate, wanted):
                return candidate
    return sys.executable


def interpreter_version(python: str, runtime: str) -> tuple[int, int]:
    """The version that ``python`` (chosen by interpreter_for) really is."""
    if python == sys.executable:
        return sys.version_info[:2]
    return runtime_version(runtime)


def _reports_version(python: str, wanted: str) -> bool:
    """Run the interpreter: pyenv shims are on PATH yet fail with "command not found"."""
    try:
        done = subprocess.run(
            [python, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == wanted


@functools.cache
def runtime_packages_dir(version: tuple[int, int]) -> Path:
    """boto3 and friends from this installation, alone in one directory, like /var/runtime.

    Only the packages whose Requires-Python admits ``version`` are linked (these are pure
    Python, so one copy serves every interpreter that they support).
    """
    distributions = importlib.metadata.packages_distributions()
    sources = []
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        dists = distributions.get(name) or []
        requires = importlib.metadata.metadata(dists[0]).get("Requires-Python") if dists else None
        if not _admits(requires or "", version):
            continue
        origin = Path(spec.origin)
        sources.append(origin.parent if origin.name == "__init__.py" else origin)
    key = hashlib.sha256("\n".join(map(str, sources)).encode()).hexdigest()[:16]
    dest = private_dir() / f"runtime-{key}"
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=".runtime-", dir=private_dir()))
    for source in sources:
        os.symlink(source, tmp / source.name)
    tmp.chmod(0o755)
    try:
        os.rename(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process made it first
    return dest


def _admits(requires_python: str, version: tuple[int, int]) -> bool:
    """Whether a Requires-Python such as ">=3.10" admits ``version`` (only >= and < matter)."""
    for clause in requires_python.split(","):
        clause = clause.strip()
        for op in (">=", "<"):
            if clause.startswith(op):
                try:
                    bound = tuple(int(x) for x in clause[len(op) :].strip().split(".")[:2])
                except ValueError:
                    continue
                if (op == ">=" and version < bound) or (op == "<" and version >= bound):
                    return False
    return True
