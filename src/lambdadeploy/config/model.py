"""The validated project model: what lambda.yaml asks for, as frozen dataclasses.

config/validate.py builds these from the file; everything downstream (packaging,
planning, execution) reads only these, never raw YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..triggers.base import Trigger
from .settings import FunctionSettings


@dataclass(frozen=True)
class SmokeTest:
    """The post-deploy smoke invoke: the event to send and what the response must contain."""

    payload: Any
    expect: Any | None = None
    payload_file: Path | None = None


@dataclass(frozen=True)
class FunctionConfig:
    """One function of lambda.yaml, with defaults applied and paths made absolute."""

    key: str  # the name under `functions:` in lambda.yaml
    name: str  # the deployed FunctionName (project-prefixed)
    source: Path
    handler: str
    runtime: str = "python3.12"
    architecture: str = "x86_64"
    memory: int = 128
    timeout: int = 10
    role: str | None = None
    description: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    requirements: Path | None = None  # the dependency manifest (requirements.txt for Python)
    include_runtime_packages: bool = False
    strip: tuple[str, ...] = ()
    s3_bucket: str | None = None
    test: SmokeTest | None = None
    triggers: tuple[Trigger, ...] = ()
    settings: FunctionSettings = field(default_factory=FunctionSettings)  # vpc, logging, concurrency, ...
    line: int | None = None  # where the function is defined, for messages

    def triggers_for(self, alias: str) -> tuple[Trigger, ...]:
        """The triggers that apply to `alias`: those without `alias:`, and those naming it."""
        return tuple(t for t in self.triggers if t.alias in (None, alias))


@dataclass(frozen=True)
class Project:
    """The whole of lambda.yaml after rendering and validation."""

    config_file: Path
    functions: tuple[FunctionConfig, ...]
    aliases: tuple[str, ...] = ("dev", "prod")
    project: str | None = None
    region: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. deprecated runtimes: shown, never fatal
    secret_values: frozenset[str] = frozenset()  # masked in every output

    @property
    def root(self) -> Path:
        return self.config_file.parent

    def select(self, keys: tuple[str, ...] | list[str]) -> tuple[FunctionConfig, ...]:
        """The functions named on the command line (all when none are named), in file order."""
        if not keys:
            return self.functions
        known = {f.key: f for f in self.functions} | {f.name: f for f in self.functions}
        return tuple(known[k] for k in dict.fromkeys(keys) if k in known)


__all__ = ["FunctionConfig", "FunctionSettings", "Project", "SmokeTest", "Trigger"]
