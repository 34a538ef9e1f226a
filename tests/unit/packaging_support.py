"""Helpers shared by the packaging tests: a function config and source files to package."""

from __future__ import annotations

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
