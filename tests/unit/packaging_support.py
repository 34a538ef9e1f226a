"""Helpers shared by the packaging tests: a function config and source files to package."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from lambdadeploy.config.model import FunctionConfig


def make_fn(source: Path, **overrides: object) -> FunctionConfig:
    fields: dict[str, object] = {
        "key": "resize", "name": "demo-resize", "source": source, "handler": "app.handler",
    }  # fmt: skip
    fields.update(overrides)
    return FunctionConfig(**fields)  # type: ignore[arg-type]


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def make_wheel(folder: Path, name: str, files: dict[str, str | bytes], tag: str = "py3-none-any",
               version: str = "1.0") -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD), so tests need no build backend."""
    info = f"{name}-{version}.dist-info"
    contents = {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(data)}")
    contents[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in contents.items():
            zf.writestr(path, data)
    return wheel
