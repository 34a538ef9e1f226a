"""Lambda layers as AWS has them, where moto 5.x differs (installed with the invoke seam).

- A function keeps its layers: AWS lets functions "continue to use any layer version that
  you've already added, even after that layer version has been deleted" (Lambda developer
  guide, "Adding layers to functions"); moto forgets a deleted version's content, so a
  function (or a version that `rollback` returns to) could no longer be invoked. Every layer
  version attached to a function is remembered here, and the invoke seam reads it back.
- A layer version that does not exist: AWS answers CreateFunction and
  UpdateFunctionConfiguration with 400 InvalidParameterValueException "Layer version ARN
  does not exist."; moto with 404 ResourceNotFoundException.
- 250 MB: AWS refuses a function whose package and layers together exceed 262,144,000 bytes
  unzipped ("Function code combined with layers exceeds the maximum allowed size of
  262144000 bytes. The actual size is N bytes."); moto does not check.
- ListLayerVersions: AWS's items have no Content, the CompatibleRuntime and
  CompatibleArchitecture filters apply, and pages hold at most MaxItems (1..50, default 50)
  with a NextMarker; moto returns every version, with Content, unfiltered, on one page.

Content hashes agree already: moto reports a version's Content.CodeSha256 as AWS does (the
base64 sha256 of the zip), so nothing is changed there.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import zipfile
from typing import Any

MAX_UNZIPPED_BYTES = 262_144_000
LIST_PAGE_LIMIT = 50  # ListLayerVersions' MaxItems (botocore's model: 1..50)
_MARKER = "_lambdadeploy_layers"
_lock = threading.Lock()
_attached: dict[str, Any] = {}  # layer version ARN -> moto's LayerVersion, kept once a function used it


def layer_content(backend: Any, arn: str) -> bytes | None:
    """The zip of a layer version a function uses: from moto, else as remembered (deleted since)."""
    version = backend.layers_versions_by_arn(arn) or _attached.get(arn)
    content = getattr(version, "code_bytes", b"") if version is not None else b""
    return content or None


def install_layer_emulation() -> None:
    """Patch moto where its layers differ from AWS's (see the module docstring); idempotent.

    Long because the four patches are closures over moto's originals, kept together."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaFunction, LambdaStorage
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda.utils import get_backend

    with _lock:
        if getattr(LambdaFunction, _MARKER, False):
            return
        original_layers_data = LambdaFunction._get_layers_data
        original_put = LambdaStorage.put_function
        original_update_config = LambdaFunction.update_configuration
        original_update_code = LambdaFunction.update_function_code
        original_list = LambdaResponse.list_layer_versions

        def get_layers_data(self: Any, arns: list[str]) -> Any:
            backend = get_backend(self.account_id, self.region)
            for arn in arns:
                if backend.layers_versions_by_arn(arn) is None:
                    raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
            data = original_layers_data(self, arns)
            for arn in arns:
                _attached[arn] = backend.layers_versions_by_arn(arn)
            return data

        def put_function(self: Any, fn: Any) -> Any:
            _check_size(fn, getattr(fn, "code_bytes", b""), [layer["Arn"] for layer in fn.layers or []])
            return original_put(self, fn)

        def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
            if config_updates.get("Layers") is not None:
                get_layers_data(self, list(config_updates["Layers"]))  # AWS's error for a missing one first
                _check_size(self, getattr(self, "code_bytes", b""), list(config_updates["Layers"]))
            return original_update_config(self, config_updates)

        def update_function_code(self: Any, updated_spec: dict[str, Any]) -> Any:
            code = _new_code(self, updated_spec)
            if code is not None and not updated_spec.get("DryRun"):
                _check_size(self, code, [layer["Arn"] for layer in self.layers or []])
            return original_update_code(self, updated_spec)

        def list_layer_versions(self: Any) -> str:
            return _aws_listing(json.loads(original_list(self)), self.querystring)

        LambdaFunction._get_layers_data = get_layers_data
        LambdaStorage.put_function = put_function
        LambdaFunction.update_configuration = update_configuration
        LambdaFunction.update_function_code = update_function_code
        LambdaResponse.list_layer_versions = list_layer_versions
        setattr(LambdaFunction, _MARKER, True)


def _unzipped_size(blob: bytes) -> int | None:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return None  # not a zip: AWS and moto refuse it on their own terms


def _check_size(fn: Any, code: bytes, arns: list[str]) -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.utils import get_backend

    if not arns or not code:
        return
    backend = get_backend(fn.account_id, fn.region)
    sizes = [_unzipped_size(code)] + [_unzipped_size(layer_content(backend, arn) or b"") for arn in arns]
    total = sum(size or 0 for size in sizes)
    if total > MAX_UNZIPPED_BYTES:
        raise InvalidParameterValueException(
            f"Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} bytes. "
            f"The actual size is {total} bytes.")


def _new_code(fn: Any, spec: dict[str, Any]) -> bytes | None:
    """The zip an UpdateFunctionCode brings (inline, or from S3), as moto will read it."""
    if "ZipFile" in spec:
        data = spec["ZipFile"]
        try:
            return base64.b64decode(data.encode() if isinstance(data, str) else data)
        except (binascii.Error, ValueError):
            return None
    if "S3Bucket" in spec and "S3Key" in spec:
        from moto.s3.models import s3_backends

        try:
            return s3_backends[fn.account_id][fn.partition].get_object(spec["S3Bucket"], spec["S3Key"]).value
        except Exception:  # a missing object: moto's own update reports it
            return None
    return None


def _aws_listing(document: dict[str, Any], query: dict[str, list[str]]) -> str:
    """moto's ListLayerVersions answer as AWS gives it: filtered, without Content, paged."""
    runtime = (query.get("CompatibleRuntime") or [None])[0]
    architecture = (query.get("CompatibleArchitecture") or [None])[0]
    items = [{k: v for k, v in item.items() if k not in ("Content", "LayerArn")}
             for item in document.get("LayerVersions") or []
             if (runtime is None or runtime in (item.get("CompatibleRuntimes") or []))
             and (architecture is None or architecture in (item.get("CompatibleArchitectures") or []))]
    items.sort(key=lambda item: int(item["Version"]), reverse=True)  # newest first, as AWS lists them
    marker = (query.get("Marker") or [None])[0]
    if marker is not None and marker.isdigit():
        items = [item for item in items if int(item["Version"]) < int(marker)]
    try:
        limit = min(max(int((query.get("MaxItems") or [LIST_PAGE_LIMIT])[0]), 1), LIST_PAGE_LIMIT)
    except ValueError:
        limit = LIST_PAGE_LIMIT
    page: dict[str, Any] = {"LayerVersions": items[:limit]}
    if len(items) > limit:
        page["NextMarker"] = str(items[limit - 1]["Version"])
    return json.dumps(page)
