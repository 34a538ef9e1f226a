"""The local cache of deployed artifacts: each zip extracted once, safely, for the runner.

``runner.py`` runs a handler in the directory a deployment package unzips to (the
``/var/task`` of this machine). Extracting on every invocation would cost seconds for
big packages, so each zip is extracted once per sha256 into the private per-user
directory (paths.private_dir), through a temp dir and an atomic rename so concurrent
processes never see half an artifact. Extraction refuses what Lambda refuses and what would
escape the cache: packages over Lambda's unzipped limit, absolute or ``..`` paths, and
symlinks that point outside the package.

A function's layers are extracted the same way, in the function's order, into one
folder per combination of layers (``extract_layers``): the stand-in of ``/opt``, where
a later layer's file replaces an earlier one's, as on Lambda.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from ..errors import LambdaDeployError
from ..paths import private_dir

MAX_UNZIPPED_BYTES = 262_144_000


class RunnerError(LambdaDeployError):
    """The artifact or runtime cannot be run locally at all (not a function error)."""


def extract_artifact(zip_bytes: bytes) -> Path:
    """The zip extracted once per sha256 (temp dir, then atomic rename: safe across processes)."""
    return _extract_once("tasks", hashlib.sha256(zip_bytes).hexdigest(), lambda root: _safe_extract(zip_bytes, root))


def extract_layers(layer_zips: Sequence[bytes]) -> Path:
    """The layers extracted in order into one folder (the /opt stand-in), once per combination."""
    digest = hashlib.sha256()
    for blob in layer_zips:
        digest.update(hashlib.sha256(blob).digest())
    return _extract_once("opt", digest.hexdigest(), lambda root: [_safe_extract(b, root) for b in layer_zips])


def _extract_once(kind: str, digest: str, fill: Callable[[Path], object]) -> Path:
    """private_dir()/kind/digest, made by ``fill`` in a temp dir and renamed into place."""
    parent = private_dir() / kind
    parent.mkdir(exist_ok=True)
    dest = parent / digest
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=parent))
    try:
        fill(tmp)
        tmp.chmod(0o755)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _safe_extract(zip_bytes: bytes, root: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except zipfile.BadZipFile as e:
        raise RunnerError(f"the deployment package is not a zip file: {e}") from e
    with archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
            raise RunnerError(f"unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
        for info in infos:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.filename.startswith("/") or ".." in parts or not parts:
                raise RunnerError(f"unsafe path in deployment package: {info.filename!r}")
            target = root.joinpath(*parts)
            mode = info.external_attr >> 16
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_file():
                target.unlink()  # a later layer replaces an earlier layer's file
            if stat.S_ISLNK(mode):
                link = archive.read(info).decode("utf-8")
                resolved = os.path.normpath(os.path.join(target.parent, link))
                if os.path.isabs(link) or not resolved.startswith(str(root) + os.sep):
                    raise RunnerError(f"symlink leaves the package: {info.filename!r} -> {link}")
                os.symlink(link, target)
                continue
            with archive.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            target.chmod((mode & 0o777 or 0o644) | 0o400)
