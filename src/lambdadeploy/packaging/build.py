"""build_artifact: a function's source and requirements in, a deployable zip out.

The one entry point the rest of lambdadeploy uses. It ties the steps together
(select files, install dependencies, assemble, check) and reports progress
only through the on_progress callback: core code never prints.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import runtimes
from ..config.model import FunctionConfig
from ..errors import PackagingError
from ..paths import default_cache_dir
from ..runtimes.cache import discard_entry, release_entry, verify_entry
from . import archive, limits, zipfmt
from .files import IGNORE_FILE, SourceFile, exclusion_spec, select_files, tag_as_output


@dataclass(frozen=True)
class Artifact:
    """A built deployment package and what the deploy steps need to know about it."""

    function: str  # FunctionConfig.key
    zip_bytes: bytes = field(repr=False)
    sha256: str  # base64 of the sha256 digest: what Lambda reports as CodeSha256
    sha256_hex: str
    zipped_size: int
    unzipped_size: int
    file_count: int
    deps_from_cache: bool | None  # None when the function has no requirements
    seconds: float  # build time
    needs_s3: bool  # over the direct-upload limit and s3_bucket is set: upload through S3
    left_out: tuple[str, ...] = ()  # secret files of the source the built-in excludes kept out
    notes: tuple[str, ...] = ()  # worth saying in the summary (e.g. a pinned boto3 left out)


def left_out_text(left_out: list[str] | tuple[str, ...]) -> str:
    """The summary line naming the secret files kept out of a zip, and how to ship one."""
    return (f"left out {len(left_out)} secret file(s): {', '.join(left_out)} "
            f"(to ship one on purpose, add `!NAME` to {IGNORE_FILE})")


def install_dependencies(runtime: runtimes.Runtime, spec: runtimes.DependencySpec, cache_dir: Path,
                         report: Callable[[str], None]) -> tuple[list[zipfmt.RawEntry], bool, tuple[str, ...]]:
    """The installed dependencies' zip entries, from a verified cache entry: one whose installed
    tree was edited since is discarded and installed again (with a warning)."""
    installed = runtime.install(spec, cache_dir, report)
    try:
        entries = archive.dependency_entries(installed.site, installed.entry,
                                             lambda: verify_entry(installed.entry), report)
        if entries is None:
            report(f"warning: the cached install of the dependencies ({installed.entry}) was modified "
                   "since it was installed; discarded it, reinstalling")
            discard_entry(installed.entry)
            installed = runtime.install(spec, cache_dir, report)
            entries = archive.dependency_entries(installed.site, installed.entry,
                                                 lambda: verify_entry(installed.entry), report)
        if entries is None:
            raise PackagingError(f"{spec.function}: the dependencies installed into {installed.entry} "
                                 "changed while this build read them")
    finally:
        release_entry(installed.entry)
    if cache_dir.is_dir():
        tag_as_output(cache_dir, "lambdadeploy's dependency cache")
    return entries, installed.from_cache, installed.notes


def _function_dependencies(fn: FunctionConfig, runtime: runtimes.Runtime, cache: Path, report: Callable[[str], None]
                           ) -> tuple[list[zipfmt.RawEntry], bool | None, tuple[str, ...]]:
    """The function's installed requirements (none: ([], None, ()))."""
    if fn.requirements is None or runtime.declares_nothing(fn.requirements):
        return [], None, ()
    spec = runtimes.DependencySpec(fn.key, fn.requirements, fn.runtime, fn.architecture,
                                   fn.include_runtime_packages, fn.strip)
    return install_dependencies(runtime, spec, cache, report)


def build_artifact(
    fn: FunctionConfig,
    *,
    cache_dir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
    uploading: bool = True,
    write_to: Path | None = None,
) -> Artifact:
    """Build the function's zip: own files plus requirements for its runtime and architecture.

    Raises PackagingInputError for problems in the user's input (missing source
    or handler, syntax error, unusable requirement) and PackagingError for
    limits and failed installs. The runtime (runtimes/) installs the dependencies
    and checks the handler. uploading=False (`package`, `invoke --local`): a zip over the
    direct-upload limit is only warned about. write_to: also write the zip there, while its
    sha256 is computed (both release the GIL, so a rebuild pays for the longer, not both).
    """
    started = time.perf_counter()
    report = on_progress or (lambda _message: None)
    left_out: list[str] = []  # shown in the package and push summaries (left_out_text)
    cache = cache_dir or default_cache_dir()
    runtime = runtimes.family_of(fn.runtime)
    own = archive.source_entries(_own_files(fn, runtime, report, left_out, never=(cache,)))
    deps, from_cache, notes = _function_dependencies(fn, runtime, cache, report)
    entries, shadowed = archive.merge(own, deps)
    if shadowed:
        report(f"{len(shadowed)} file(s) of your code replace dependency files (e.g. {shadowed[0]})")
    by_name = {e.name: e for e in entries}
    runtime.check_package(fn.key, fn.handler, fn.runtime,
                          lambda name: zipfmt.inflate(by_name[name]) if name in by_name else None, report)
    zipped_size = zipfmt.archive_size(entries)
    unzipped_size = sum(e.size for e in entries)
    needs_s3 = limits.check_limits(fn, entries, {e.name for e in own}, zipped_size, uploading=uploading, report=report)
    blob = zipfmt.write_zip(entries)
    digest = _sha256_writing(blob, write_to)
    seconds = time.perf_counter() - started
    report(
        f"packaged {len(entries)} files, {limits.mb(zipped_size)} zipped "
        f"({limits.mb(unzipped_size)} unzipped) in {seconds:.1f}s"
        + (", to upload through S3" if needs_s3 else "")
    )
    return Artifact(
        left_out=tuple(left_out),
        notes=notes,
        function=fn.key,
        zip_bytes=blob,
        sha256=base64.b64encode(digest).decode("ascii"),
        sha256_hex=digest.hex(),
        zipped_size=len(blob),
        unzipped_size=unzipped_size,
        file_count=len(entries),
        deps_from_cache=from_cache,
        seconds=seconds,
        needs_s3=needs_s3,
    )


def _sha256_writing(blob: bytes, write_to: Path | None) -> bytes:
    """The zip's sha256; with write_to, the zip is written there meanwhile (hashing and writing
    both release the GIL, so the two overlap)."""
    if write_to is None:
        return hashlib.sha256(blob).digest()
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(lambda: hashlib.sha256(blob).digest())
        write_to.write_bytes(blob)
        return hashing.result()


def build_inputs(fn: FunctionConfig) -> tuple[tuple[Path, ...], Callable[[Path, bool], bool]]:
    """What the function's package is built from, for provenance: the source folder and the
    dependency files (wherever they are), and whether a path (a folder when the flag says so)
    would be packed. A path the package leaves out (`__pycache__/`, Node.js's own node_modules,
    .npmrc, `exclude`, .lambdaignore, what the layout never packs) is not part of what a version
    was built from; `include:` paths are."""
    runtime = runtimes.family_of(fn.runtime)
    dependency_files = runtime.dependency_files(fn.requirements) if fn.requirements is not None else ()
    spec = exclusion_spec(dataclasses.replace(fn, exclude=(*fn.exclude, *runtime.source_excludes(fn.requirements))))
    source = fn.source.resolve()
    always = {p.resolve() for p in dependency_files}
    never = tuple(p.resolve() for p in fn.never_pack)

    def packed(path: Path, is_folder: bool) -> bool:
        if path in always:
            return True
        if any(path.is_relative_to(kept_out) for kept_out in never):
            return False
        if not path.is_relative_to(source):
            return True
        relative = path.relative_to(source).as_posix()
        return relative == "." or not spec.match_file(relative + ("/" if is_folder else ""))

    return (fn.source, *(i.path for i in fn.include), *dependency_files), packed


def _own_files(fn: FunctionConfig, runtime: runtimes.Runtime, report: Callable[[str], None],
               left_out: list[str], never: tuple[Path, ...] = ()) -> list[SourceFile]:
    """The function's files and its `include:` paths, minus what its runtime never packs (e.g.
    Node.js's own node_modules and .npmrc), applied after `exclude` so that no pattern re-includes
    them; `never`: paths kept out whatever the patterns say (the dependency cache)."""
    patterns = runtime.source_excludes(fn.requirements)
    return select_files(dataclasses.replace(fn, exclude=(*fn.exclude, *patterns)) if patterns else fn,
                        on_skip=report, on_left_out=left_out.append, never=never)
