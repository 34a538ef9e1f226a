"""How the steps of the settings outside the version read: (marker, text, changed fields),
and the typed fields of their JSON documents (output/steps.py puts them in a StepView)."""

from __future__ import annotations

from typing import Any

from ..diff import FieldChange
from ..engine.setting_steps import (
    MarkSettings,
    SetAsyncConfig,
    SetLogRetention,
    SetProvisionedConcurrency,
    SetReservedConcurrency,
    SetRuntimeManagement,
    SettingStep,
    WaitProvisioned,
)


def _marker(old: Any, new: Any) -> str:
    return "+" if old is None else "-" if new is None else "~"


def _value(value: Any, none: str = "none") -> str:
    return none if value is None else str(value)


def _days(value: int | None) -> str:
    return "never expire" if value is None else f"{value} days"


def setting_view(step: SettingStep) -> tuple[str, str, tuple[FieldChange, ...]]:
    match step:
        case SetReservedConcurrency(old=old, new=new):
            what = "0 (throttled)" if new == 0 else _value(new, "unreserved")
            return _marker(old, new), f"reserved concurrency: {_value(old, 'unreserved')} -> {what}", ()
        case SetProvisionedConcurrency(alias=alias, old=old, new=new):
            return _marker(old, new), f"provisioned concurrency {alias}: {_value(old)} -> {_value(new)}", ()
        case WaitProvisioned(alias=alias, executions=executions):
            return ">", f"wait for provisioned concurrency {alias} ({executions}) to be READY", ()
        case SetAsyncConfig(alias=alias, config=config, changes=changes):
            created = all(change.old is None for change in changes)
            return ("-" if config is None else "+" if created else "~"), f"asynchronous invocation of {alias}", changes
        case SetLogRetention(group=group, old=old, new=new, create_group=create):
            created = " (creating the group)" if create else ""
            return _marker(old, new), f"log retention {group}: {_days(old)} -> {_days(new)}{created}", ()
        case SetRuntimeManagement(changes=changes):
            return "~", "runtime management", changes
        case MarkSettings(alias=alias, kinds=kinds):
            return "~", f"tag lambdadeploy:settings:{alias} = {' '.join(kinds) or 'none'}", ()
    raise TypeError(step)  # pragma: no cover - every settings step is matched above


def setting_document(step: SettingStep) -> dict[str, Any]:
    match step:
        case SetReservedConcurrency(old=old, new=new):
            return {"old": old, "new": new}
        case SetProvisionedConcurrency(alias=alias, old=old, new=new):
            return {"alias": alias, "old": old, "new": new}
        case WaitProvisioned(alias=alias, executions=executions):
            return {"alias": alias, "executions": executions}
        case SetAsyncConfig(alias=alias, config=config):
            return {"alias": alias, "config": dict(config) if config is not None else None}
        case SetLogRetention(group=group, old=old, new=new):
            return {"group": group, "old": old, "new": new}
        case MarkSettings(alias=alias, kinds=kinds):
            return {"alias": alias, "kinds": list(kinds)}
    return {}
