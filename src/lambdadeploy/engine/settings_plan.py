"""Pure planning of the settings outside the version, and where their steps go in a plan.

Function-level settings (reserved concurrency, log retention, runtime management) and
alias-level ones (provisioned concurrency, asynchronous invocation) are not part of a
version: they are compared with what AWS has now, never with a version's configuration,
and applied in place by push and promote. Their place in a plan:

- runtime management before the version is published (a version takes $LATEST's);
- log retention before the smoke invoke (the group then never exists without it);
- reserved concurrency before the smoke invoke when it lifts a throttle (0 -> N: the smoke
  test could not run otherwise), else after the alias moved (a failed smoke test then
  leaves the function's limit as it was);
- provisioned concurrency and asynchronous invocation after the alias moved: they belong
  to the alias, and Lambda provisions the version the alias points to;
- the marker tag last, once what it no longer lists has been removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..awsrules.lambda_settings import UPDATE_RUNTIME_ON
from ..config.model import FunctionConfig
from ..diff import diff_fields
from .remote import RemoteFunction, SettingsState, wanted_kinds
from .setting_steps import (
    MarkSettings,
    SetAsyncConfig,
    SetLogRetention,
    SetProvisionedConcurrency,
    SetReservedConcurrency,
    SetRuntimeManagement,
    SettingStep,
    WaitProvisioned,
)
from .steps import FunctionStep, MoveAlias, Publish, ShiftTraffic, Smoke, UseVersion

DEFAULT_RUNTIME_MANAGEMENT = {"UpdateRuntimeOn": "Auto", "RuntimeVersionArn": None}
NO_ASYNC_CONFIG = {"MaximumRetryAttempts": None, "MaximumEventAgeInSeconds": None, "OnSuccess": None,
                   "OnFailure": None}


@dataclass(frozen=True)
class SettingsPlan:
    before_publish: tuple[SettingStep, ...] = ()
    before_smoke: tuple[SettingStep, ...] = ()
    after_alias: tuple[SettingStep, ...] = ()


def desired_async(fn: FunctionConfig) -> dict[str, Any] | None:
    wanted = fn.settings.async_invoke
    if wanted is None:
        return None
    return {"MaximumRetryAttempts": wanted.retries, "MaximumEventAgeInSeconds": wanted.max_event_age,
            "OnSuccess": wanted.on_success, "OnFailure": wanted.on_failure}


def desired_runtime_management(fn: FunctionConfig) -> dict[str, Any]:
    wanted = fn.settings.runtime_management
    if wanted is None:
        return dict(DEFAULT_RUNTIME_MANAGEMENT)
    return {"UpdateRuntimeOn": UPDATE_RUNTIME_ON[wanted.update], "RuntimeVersionArn": wanted.version_arn}


def plan_settings(fn: FunctionConfig, remote: RemoteFunction, state: SettingsState | None, alias: str,
                  *, alias_moves: bool) -> SettingsPlan:
    """What makes the function's and the alias's settings what lambda.yaml says. `state` is what
    remote.read_settings found (None: nothing was read, e.g. a workflow that does not manage them)."""
    if state is None:
        return SettingsPlan()
    settings = fn.settings
    considered = wanted_kinds(fn, alias) | state.marked
    before_publish: list[SettingStep] = []
    before_smoke: list[SettingStep] = []
    after_alias: list[SettingStep] = []
    if "runtime" in considered and (remote.exists or settings.runtime_management):
        current, wanted = state.runtime or DEFAULT_RUNTIME_MANAGEMENT, desired_runtime_management(fn)
        if dict(current) != wanted:
            before_publish.append(SetRuntimeManagement(fn.name, diff_fields(current, wanted),
                                                       wanted["UpdateRuntimeOn"], wanted["RuntimeVersionArn"]))
    if "retention" in considered and state.log_group is not None:
        group = state.log_group
        current_days = group.retention_days if group.exists else None
        if current_days != settings.log_retention and (group.exists or settings.log_retention is not None):
            before_smoke.append(SetLogRetention(fn.name, group.name, current_days, settings.log_retention,
                                                create_group=not group.exists))
    reserved = remote.reserved_concurrency if remote.exists else None
    if reserved != settings.reserved_concurrency:
        step = SetReservedConcurrency(fn.name, reserved, settings.reserved_concurrency)
        (before_smoke if reserved == 0 else after_alias).append(step)
    if "provisioned" in considered:
        after_alias += _provisioned(fn, state, alias, alias_moves)
    if "async" in considered:
        current_async, wanted_async = state.async_config, desired_async(fn)
        if current_async != wanted_async:
            changes = diff_fields(current_async or NO_ASYNC_CONFIG, wanted_async or NO_ASYNC_CONFIG)
            after_alias.append(SetAsyncConfig(fn.name, alias, changes, wanted_async))
    kinds = wanted_kinds(fn, alias)
    if kinds != state.marked:
        after_alias.append(MarkSettings(fn.name, state.arn, alias, tuple(sorted(kinds))))
    return SettingsPlan(tuple(before_publish), tuple(before_smoke), tuple(after_alias))


def _provisioned(fn: FunctionConfig, state: SettingsState, alias: str, alias_moves: bool) -> list[SettingStep]:
    current = state.provisioned
    wanted = fn.settings.provisioned_concurrency.get(alias)
    if current is None or current.requested != wanted or current.status == "FAILED":
        if current is None and wanted is None:
            return []
        return [SetProvisionedConcurrency(fn.name, alias, current.requested if current else None, wanted)]
    if wanted is not None and (alias_moves or current.status != "READY"):
        return [WaitProvisioned(fn.name, alias, wanted)]
    return []


def alias_follow_steps(fn: FunctionConfig, state: SettingsState | None, alias: str) -> tuple[SettingStep, ...]:
    """After rollback or `push --finish` moved the alias: wait for its provisioned concurrency to
    follow (the configuration stays on the alias; Lambda provisions the version it now points to)."""
    if state is None or state.provisioned is None:
        return ()
    return (WaitProvisioned(fn.name, alias, state.provisioned.requested),)


def weave(steps: Sequence[FunctionStep], planned: SettingsPlan) -> tuple[FunctionStep, ...]:
    """The plan's steps with the settings' steps in their places (see the module's docstring)."""
    result = list(steps)

    def first(kinds: tuple[type, ...]) -> int:
        return next((i for i, step in enumerate(result) if isinstance(step, kinds)), len(result))

    at = first((Publish,))
    if at == len(result):
        at = first((UseVersion, Smoke, MoveAlias, ShiftTraffic))
    result[at:at] = planned.before_publish
    at = first((Smoke,))
    if at == len(result):
        at = first((MoveAlias, ShiftTraffic))
    result[at:at] = planned.before_smoke
    result += planned.after_alias
    return tuple(result)


def alias_moves(steps: Sequence[FunctionStep]) -> bool:
    return any(isinstance(step, MoveAlias | ShiftTraffic) and step_target(step) is not None for step in steps)


def step_target(step: MoveAlias | ShiftTraffic) -> str | None:
    if isinstance(step, MoveAlias):
        return step.to_version if step.to_version != step.from_version else None
    return step.canary
