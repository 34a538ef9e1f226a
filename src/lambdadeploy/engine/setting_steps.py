"""Steps for the settings that live outside a version: reserved concurrency (the function),
provisioned concurrency and asynchronous invocation (the alias), log retention (the log
group), runtime management ($LATEST), and the marker tag that says which of them the
tool manages for an alias. Planned by settings_plan.py, applied by apply_settings.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diff import FieldChange


@dataclass(frozen=True)
class SetReservedConcurrency:
    """PutFunctionConcurrency (new: a number; 0 throttles every invocation) or DeleteFunctionConcurrency."""

    function: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class SetProvisionedConcurrency:
    """Put (then wait until READY) or delete the alias's provisioned concurrency."""

    function: str
    alias: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class WaitProvisioned:
    """The alias moved: Lambda provisions its new version; wait until READY and report it."""

    function: str
    alias: str
    executions: int


@dataclass(frozen=True)
class SetAsyncConfig:
    """PutFunctionEventInvokeConfig on the alias (config: the canonical shape), or delete it (None)."""

    function: str
    alias: str
    changes: tuple[FieldChange, ...]
    config: Mapping[str, Any] | None


@dataclass(frozen=True)
class SetLogRetention:
    """The log group's retention (None: never expire); create the group first when Lambda has not yet."""

    function: str
    group: str
    old: int | None
    new: int | None
    create_group: bool = False


@dataclass(frozen=True)
class SetRuntimeManagement:
    """PutRuntimeManagementConfig on $LATEST, before a version is published from it."""

    function: str
    changes: tuple[FieldChange, ...]
    update_on: str  # Auto | FunctionUpdate | Manual
    version_arn: str | None = None


@dataclass(frozen=True)
class MarkSettings:
    """Tag `lambdadeploy:settings:ALIAS` with the kinds the tool now manages ("none": none)."""

    function: str
    arn: str
    alias: str
    kinds: tuple[str, ...]


SettingStep = (SetReservedConcurrency | SetProvisionedConcurrency | WaitProvisioned | SetAsyncConfig
               | SetLogRetention | SetRuntimeManagement | MarkSettings)
SETTING_STEPS = (SetReservedConcurrency, SetProvisionedConcurrency, WaitProvisioned, SetAsyncConfig,
                 SetLogRetention, SetRuntimeManagement, MarkSettings)
