"""build_layer: a project layer's source and requirements in, a deterministic layer zip out.

Packaged like a function, through its runtime family (runtimes/base.Runtime.layer_prefix):
the source folder's files go under the family's layer folder (python/ for Python,
nodejs/node_modules/ for Node.js), unless the folder already holds the family's top folder
(a SAM-style layer folder, `python/...` or `nodejs/...`), in which case it is packed as it
is; the requirements are installed, from the shared cache, for each compatible runtime and
the layer's architecture, each into the runtime's own folder (python/lib/pythonX.Y/site-packages,
nodejs/nodeNN/node_modules), since native code differs per version.
Same patterns (built-in excludes, .lambdaignore files, `exclude`), same deterministic zip,
same limits: 250 MB unzipped, and the direct-upload limit unless `s3_bucket` is set.

The content hash (sha256 of the zip) is what decides whether a new layer version is
published (engine/layers.py).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .. import runtimes
from ..config.model import FunctionConfig, LayerConfig
from ..errors import PackagingError
from ..paths import default_cache_dir
from . import archive, limits, zipfmt
from .build import Artifact, install_dependencies
from .files import Fence, ignore_lines, walk_tree

HASH_MARK = "lambdadeploy:sha256="  # in a version's description: how the next push finds it (engine/layers.py)


def version_description(layer: LayerConfig, code_sha256: str) -> str:
    """A layer version's description: the layer's own, then the content hash (at most 64 of
    AWS's 256 characters: validation keeps the layer's own to 191)."""
    return f"{layer.description} {HASH_MARK}{code_sha256}".strip()


@dataclass(frozen=True)
class LayerArtifact:
    """A built layer zip and what publishing it needs to know."""

    layer: str  # LayerConfig.key
    zip_bytes: bytes = field(repr=False)
    sha256: str  # base64 of the sha256 digest: what Lambda reports as the version's CodeSha256
    sha256_hex: str
    zipped_size: int
    unzipped_size: int
    file_count: int
    deps_from_cache: bool | None  # None when the layer has no requirements
    seconds: float
    needs_s3: bool
    left_out: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def build_layer(layer: LayerConfig, *, cache_dir: Path | None = None,
                on_progress: Callable[[str], None] | None = None, uploading: bool = True) -> LayerArtifact:
    """Build the layer's zip (see the module docstring); PackagingInputError for bad input,
    PackagingError for limits and failed installs."""
    started = time.perf_counter()
    report = on_progress or (lambda _message: None)
    family = runtimes.family_of(layer.runtimes[0])
    cache = cache_dir or default_cache_dir()
    left_out: list[str] = []
    own: list[zipfmt.RawEntry] = []
    if layer.source is not None:
        prefix = family.layer_prefix(layer.runtimes[0])
        laid_out = (layer.source / prefix.split("/")[0]).is_dir()
        # What the runtime never packs (Node.js: .npmrc, and a developer's node_modules next to the
        # layer's own package.json) comes after `exclude`, so no pattern re-includes it.
        manifest = layer.requirements if layer.requirements and layer.requirements.parent == layer.source else None
        patterns = (*layer.exclude, *family.source_excludes(manifest))
        spec = pathspec.GitIgnoreSpec.from_lines(ignore_lines(layer.source, layer.project_ignore, patterns))
        fence = Fence(frozenset(str(p) for p in (*layer.never_pack, cache)))
        # Patterns match paths in the source folder; the files then move under the prefix.
        files = sorted(walk_tree(layer.source, spec, report, left_out.append, fence=fence), key=lambda f: f.arcname)
        if not laid_out:
            files = [dataclasses.replace(f, arcname=prefix + f.arcname) for f in files]
        own = archive.source_entries(files)
    deps: list[zipfmt.RawEntry] = []
    from_cache: bool | None = None
    notes: tuple[str, ...] = ()
    if layer.requirements is not None and not family.declares_nothing(layer.requirements):
        prefixes = {family.layer_prefix(runtime, dependencies=True): runtime for runtime in reversed(layer.runtimes)}
        for prefix, runtime in sorted(prefixes.items()):
            spec_deps = runtimes.DependencySpec(f"layer {layer.key}", layer.requirements, runtime, layer.architectures[0],
                                                layer.include_runtime_packages, layer.strip)
            entries, cached, notes = install_dependencies(family, spec_deps, cache, report)
            deps += [dataclasses.replace(e, name=prefix + e.name) for e in entries]
            from_cache = cached if from_cache is None else from_cache and cached
    entries, shadowed = archive.merge(own, deps)
    if shadowed:
        report(f"{len(shadowed)} file(s) of the layer's source replace dependency files (e.g. {shadowed[0]})")
    if not entries:
        raise PackagingError(f"layer {layer.key}: nothing to pack (an empty source folder and no requirements)")
    zipped = zipfmt.archive_size(entries)
    unzipped = sum(e.size for e in entries)
    needs_s3 = _check_limits(layer, entries, {e.name for e in own}, zipped, unzipped, uploading, report)
    blob = zipfmt.write_zip(entries)
    digest = hashlib.sha256(blob).digest()
    seconds = time.perf_counter() - started
    report(f"layer packaged: {len(entries)} files, {limits.mb(zipped)} zipped ({limits.mb(unzipped)} unzipped) "
           f"in {seconds:.1f}s")
    return LayerArtifact(layer.key, blob, base64.b64encode(digest).decode("ascii"), digest.hex(), len(blob), unzipped,
                         len(entries), from_cache, seconds, needs_s3, tuple(left_out), notes)


def _check_limits(layer: LayerConfig, entries: list[zipfmt.RawEntry], own: set[str], zipped: int, unzipped: int,
                  uploading: bool, report: Callable[[str], None]) -> bool:
    """True when the layer must be uploaded through S3; PackagingError over a limit."""
    if unzipped > limits.MAX_UNZIPPED_BYTES:
        raise PackagingError(
            f"layer {layer.key}: {limits.mb(unzipped)} unzipped, over Lambda's {limits.mb(limits.MAX_UNZIPPED_BYTES)} "
            "limit (for a function and all its layers together). Largest contributors (unzipped):\n"
            + "\n".join(f"  {label}  {limits.mb(n)}" for label, n in limits.contributors(entries, own, lambda e: e.size)),
            hint="`exclude:`, .lambdaignore or `strip: [tests]`, or split what the functions need into smaller layers")
    if zipped <= limits.MAX_DIRECT_UPLOAD_BYTES or layer.s3_bucket:
        return zipped > limits.MAX_DIRECT_UPLOAD_BYTES
    message = (f"layer {layer.key}: {limits.mb(zipped)} zipped, over the {limits.mb(limits.MAX_DIRECT_UPLOAD_BYTES)} "
               "a direct upload takes")
    if not uploading:
        report(f"warning: {message}: push will need `s3_bucket:` on the layer")
        return False
    raise PackagingError(message, hint="set `s3_bucket:` on the layer to upload it through S3")


def check_function_with_layers(fn: FunctionConfig, artifact: Artifact, layers: Mapping[str, LayerArtifact]) -> None:
    """The function's package plus the project layers it names within Lambda's 250 MB (layers
    given by ARN are not counted: AWS does not say their unzipped size; it checks them itself)."""
    named = [(key, layers[key].unzipped_size) for key in fn.layers if key in layers]
    limits.check_with_layers(fn.key, artifact.unzipped_size, named)
