"""Which Python runs a function locally, and what its managed runtime provides.

A function deployed as ``python3.12`` runs under a Python 3.12 on this machine and
never under another version: ``interpreter_for`` looks for one that really works
(the current interpreter when it is that version, ``pythonX.Y`` on PATH, pyenv
installs, then uv-managed installs via ``uv python find``; each probed, because pyenv
shims exist yet fail) and raises RuntimeUnavailable, saying how to get one, when
there is none. It never installs one itself: ``uv python install`` downloads an
interpreter from outside the package registries, which a smoke test in the middle of
a push (or an offline CI runner) should not do behind the user's back; the message
gives the command instead.

Lambda's managed runtime also ships boto3 and its dependencies in ``/var/runtime``;
``runtime_packages_dir`` mimics that with a cached directory linking only those
packages from this installation, and only the ones whose Requires-Python admits the
runtime's version, so a handler sees the same importable packages as on Lambda and
nothing else installed here. python3.9-3.11 also have setuptools (``pkg_resources``)
in the runtime's own site-packages; ``lang_site_dirs`` takes it from the wheel that
the interpreter's ``ensurepip`` bundles (else from this installation).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...paths import private_dir
from ..base import RuntimeUnavailable
from .installer import find_uv

# What the managed runtime provides besides the standard library (/var/runtime): boto3 and
# its own dependencies. Wider on purpose than deps.RUNTIME_PROVIDED_PACKAGES, which lists
# what packaging leaves out (only those four: a user pinning urllib3 ships it).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# Runtimes whose /var/lang/lib/pythonX.Y/site-packages has setuptools (and so pkg_resources).
SETUPTOOLS_RUNTIMES = ((3, 9), (3, 10), (3, 11))
PROBE_TIMEOUT_S = 10

_lock = threading.Lock()
_found: dict[str, Interpreter] = {}  # runtime -> interpreter; misses are looked up again


@dataclass(frozen=True)
class Interpreter:
    """A working Python of one version: its path and its standard library's folder."""

    path: str
    version: tuple[int, int]
    stdlib: str


def runtime_version(runtime: str) -> tuple[int, int]:
    """The (major, minor) a runtime such as "python3.12" names; this Python's if it names none."""
    try:
        major, minor = runtime.removeprefix("python").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return sys.version_info[:2]


def interpreter_for(runtime: str) -> str:
    """The path of a working interpreter of the runtime's Python version, or RuntimeUnavailable."""
    return find_interpreter(runtime).path


def find_interpreter(runtime: str) -> Interpreter:
    """A working interpreter of exactly the runtime's version (see the module docstring)."""
    with _lock:
        if runtime in _found:
            return _found[runtime]
        version = runtime_version(runtime)
        wanted = "{}.{}".format(*version)
        if sys.version_info[:2] == version:
            found: Interpreter | None = Interpreter(sys.executable, version, sysconfig.get_paths()["stdlib"])
        else:
            found = next(filter(None, (_probe(c, version) for c in _candidates(wanted))), None)
        if found is None:
            raise RuntimeUnavailable(missing_message(runtime), hint=install_hint(wanted))
        _found[runtime] = found
        return found


def missing_message(runtime: str) -> str:
    wanted = "{}.{}".format(*runtime_version(runtime))
    return (
        f"runtime {runtime} needs a Python {wanted} interpreter and this machine has none "
        f"(looked for python{wanted} on PATH, in pyenv's versions and among uv's Pythons); "
        f"the sandbox never runs a function under another Python version"
    )


def install_hint(wanted: str) -> str:
    return f"install one with `uv python install {wanted}` (or `pyenv install {wanted}`), then invoke again"


def _candidates(wanted: str) -> Iterator[str | None]:
    """Where to look, in order; generated lazily, so uv runs only when the others found nothing."""
    yield shutil.which(f"python{wanted}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installs = sorted(
        pyenv_root.glob(f"versions/{wanted}.*/bin/python{wanted}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")],
        reverse=True,
    )
    yield from (str(p) for p in installs)
    yield _uv_managed(wanted)


def _uv_managed(wanted: str) -> str | None:
    """A Python that `uv python install` put on this machine (uv's own discovery)."""
    uv = find_uv()
    if uv is None:
        return None
    try:
        done = subprocess.run(
            [uv, "python", "find", "--managed-python", wanted], capture_output=True, text=True,
            timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _probe(python: str | None, version: tuple[int, int]) -> Interpreter | None:
    """Run the interpreter: pyenv shims are on PATH yet fail with "command not found"."""
    if not python:
        return None
    script = "import sys, sysconfig; print('%d.%d' % sys.version_info[:2]); print(sysconfig.get_paths()['stdlib'])"
    try:
        done = subprocess.run(
            [python, "-S", "-c", script], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2 or lines[0].strip() != "{}.{}".format(*version):
        return None
    return Interpreter(python, version, lines[1].strip())


@functools.cache
def runtime_packages_dir(version: tuple[int, int]) -> Path:
    """boto3 and friends from this installation, alone in one directory, like /var/runtime."""
    return _linked_packages(RUNTIME_PACKAGES, version, "runtime")


def lang_site_dirs(interpreter: Interpreter) -> tuple[Path, ...]:
    """What the runtime's own site-packages (/var/lang/lib/pythonX.Y/site-packages) adds to the
    standard library: setuptools and pkg_resources on python3.9-3.11, nothing on later ones."""
    if interpreter.version not in SETUPTOOLS_RUNTIMES:
        return ()
    bundled = sorted(Path(interpreter.stdlib).glob("ensurepip/_bundled/setuptools-*.whl"))
    if bundled:
        return (_extracted_wheel(bundled[-1]),)
    # Debian's Pythons drop ensurepip's wheels: this installation's setuptools, if it fits.
    linked = _linked_packages(("setuptools", "pkg_resources", "_distutils_hack"), interpreter.version, "lang")
    return (linked,) if any(linked.iterdir()) else ()


def _extracted_wheel(wheel: Path) -> Path:
    """A (pure-Python) wheel unpacked once into the private directory."""
    stat = wheel.stat()
    key = hashlib.sha256(f"{wheel}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    dest = private_dir() / f"lang-{key}"
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=".lang-", dir=private_dir()))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp)  # the interpreter's own bundled wheel: trusted, no "..", no links
    return _publish(tmp, dest)


def _linked_packages(names: tuple[str, ...], version: tuple[int, int], prefix: str) -> Path:
    """These top-level packages of this installation, linked alone into one directory.

    Only the packages whose Requires-Python admits ``version`` are linked (they are pure
    Python, so one copy serves every interpreter that they support).
    """
    import importlib.metadata  # slow to import, and only this lookup needs it
    import importlib.util

    distributions = importlib.metadata.packages_distributions()
    sources = []
    for name in names:
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
    dest = private_dir() / f"{prefix}-{key}"
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=private_dir()))
    for source in sources:
        os.symlink(source, tmp / source.name)
    return _publish(tmp, dest)


def _publish(tmp: Path, dest: Path) -> Path:
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
