"""Build the packages, write them next to the template, and write the template as YAML.

The zips are named `<FunctionName>-<sha256[:12]>.zip` in a folder beside the template
(`lambdadeploy-export/` by default) and the template's CodeUri points at them with a
relative path: what `sam deploy` / `sam package` and `aws cloudformation package`
upload to S3 and replace with the S3 location. With `s3_prefix`, CodeUri is
`S3_PREFIX/<file>` instead, for teams that upload the folder themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..config.model import FunctionConfig, Project
from ..errors import InvalidInputError
from ..packaging import Artifact, build_artifact
from .sam import CanarySettings, require_alias, sam_template

CODE_DIR_NAME = "lambdadeploy-export"
# CloudFormation always takes the code from S3, so the 50 MB direct-upload limit does not
# apply; a placeholder bucket makes the build accept packages over it (250 MB unzipped still holds).
_THROUGH_S3 = "cloudformation-package"


def write_export(
    project: Project,
    alias: str,
    out_path: Path | None,
    *,
    code_dir: Path | None = None,
    s3_prefix: str | None = None,
    canary: CanarySettings | None = None,
    keep_names: bool = True,
    parallel: int = 4,
    cache_dir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> str:
    """Build every function's package into `code_dir`, write the SAM template to `out_path`
    (when given) and return its YAML text.

    code_dir defaults to `lambdadeploy-export/` beside out_path (or in the current directory
    when the template goes to stdout); relative CodeUri paths are relative to that same place."""
    require_alias(project, alias)
    if s3_prefix is not None and not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", s3_prefix):
        raise InvalidInputError(f"invalid S3 prefix {s3_prefix!r}", hint="s3://BUCKET or s3://BUCKET/PREFIX")
    base = (out_path.parent if out_path is not None else Path.cwd()).resolve()
    code_dir = (code_dir if code_dir is not None else base / CODE_DIR_NAME).resolve()
    artifacts = build_all(project.functions, parallel, cache_dir, on_progress)
    code_dir.mkdir(parents=True, exist_ok=True)
    code_uris: dict[str, str] = {}
    for fn in project.functions:
        path = write_zip(code_dir, fn, artifacts[fn.key], _zip_stem(fn, project.secret_values))
        if s3_prefix is not None:
            code_uris[fn.key] = f"{s3_prefix.rstrip('/')}/{path.name}"
        else:
            code_uris[fn.key] = Path(os.path.relpath(path, base)).as_posix()
    template = sam_template(project, alias, code_uris, canary=canary, keep_names=keep_names,
                            code_sha256={fn.key: artifacts[fn.key].sha256 for fn in project.functions})
    text = dump_yaml(template)
    if out_path is not None:
        _atomic_write(out_path, text.encode())
    return text


def build_all(functions: tuple[FunctionConfig, ...], parallel: int, cache_dir: Path | None,
              on_progress: Callable[[str], None] | None) -> dict[str, Artifact]:
    def build(fn: FunctionConfig) -> Artifact:
        report = (lambda message: on_progress(f"{fn.key}: {message}")) if on_progress else None
        return build_artifact(replace(fn, s3_bucket=fn.s3_bucket or _THROUGH_S3), cache_dir=cache_dir,
                              on_progress=report)

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(functions)))) as pool:
        return {fn.key: artifact for fn, artifact in zip(functions, pool.map(build, functions), strict=True)}


def _zip_stem(fn: FunctionConfig, secrets: frozenset[str]) -> str:
    """The zip's name: the function's name, unless that holds a secret (CodeUri must be literal)."""
    for stem in (fn.name, fn.key):
        if not any(secret in stem for secret in secrets):
            return stem
    return "function-" + hashlib.sha256(fn.name.encode()).hexdigest()[:12]


def write_zip(code_dir: Path, fn: FunctionConfig, artifact: Artifact, stem: str | None = None) -> Path:
    """Write `<name>-<sha12>.zip` (unless already there) and remove this function's older ones."""
    stem = stem or fn.name
    path = code_dir / f"{stem}-{artifact.sha256_hex[:12]}.zip"
    if not path.exists() or path.stat().st_size != len(artifact.zip_bytes):
        _atomic_write(path, artifact.zip_bytes)
    stale = re.compile(re.escape(stem) + r"-[0-9a-f]{12}\.zip")
    for other in code_dir.iterdir():
        if other != path and stale.fullmatch(other.name):
            other.unlink(missing_ok=True)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Dumper(yaml.SafeDumper):
    """safe_dump, with multi-line strings (the inline custom resource code) as literal blocks
    and no YAML anchors (a dict used twice is written twice, as a person would)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(template: dict[str, Any]) -> str:
    """The template as YAML, keys in the order built (Resources before Outputs...)."""
    return yaml.dump(template, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=120)
