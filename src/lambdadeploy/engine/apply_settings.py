"""Apply the steps of the settings outside the version (setting_steps.py), for the executor.

Lambda writes go through the executor's guard (an update in progress is waited out);
provisioned concurrency is waited for until READY, and the state is what the step reports.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ..aws import AwsCallError, AwsNotFound, wait_until
from ..aws.retry import FUNCTION_SETTLED, WaitPolicy
from ..config.model import FunctionConfig
from ..config.settings import SETTINGS_MARKER_PREFIX
from ..errors import AwsError
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

if TYPE_CHECKING:
    from .execute import Executor

# Allocating provisioned concurrency takes a few minutes on AWS (longer for large amounts).
PROVISIONED_READY = WaitPolicy("provisioned concurrency to be READY", seconds=1800, first_delay=0.25, max_delay=5.0)


def apply_setting(executor: Executor, step: SettingStep, fn: FunctionConfig) -> str | None:
    """Carry out one settings step; returns what it reports (provisioned concurrency's state)."""
    client = executor.client
    match step:
        case SetReservedConcurrency(new=None):
            executor._guarded(fn, "concurrency", lambda: client.delete_function_concurrency(FunctionName=fn.name))
        case SetReservedConcurrency(new=new):
            executor._guarded(fn, "concurrency", lambda: client.put_function_concurrency(
                FunctionName=fn.name, ReservedConcurrentExecutions=new))
        case SetProvisionedConcurrency(alias=alias, new=None):
            with contextlib.suppress(AwsNotFound):
                executor._guarded(fn, f"alias {alias}", lambda: client.delete_provisioned_concurrency_config(
                    FunctionName=fn.name, Qualifier=alias))
        case SetProvisionedConcurrency(alias=alias, new=new):
            executor._guarded(fn, f"alias {alias}", lambda: client.put_provisioned_concurrency_config(
                FunctionName=fn.name, Qualifier=alias, ProvisionedConcurrentExecutions=new))
            return wait_provisioned(executor, fn, alias)
        case WaitProvisioned(alias=alias):
            return wait_provisioned(executor, fn, alias)
        case SetAsyncConfig(alias=alias, config=None):
            with contextlib.suppress(AwsNotFound):
                executor._guarded(fn, f"alias {alias}", lambda: client.delete_function_event_invoke_config(
                    FunctionName=fn.name, Qualifier=alias))
        case SetAsyncConfig(alias=alias, config=config):
            executor._guarded(fn, f"alias {alias}", lambda: client.put_function_event_invoke_config(
                FunctionName=fn.name, Qualifier=alias, **async_params(config)))
        case SetLogRetention():
            _set_retention(executor, step)
        case SetRuntimeManagement(update_on=update_on, version_arn=version_arn):
            executor._guarded(fn, "runtime management", lambda: client.put_runtime_management_config(
                FunctionName=fn.name, UpdateRuntimeOn=update_on,
                **({"RuntimeVersionArn": version_arn} if version_arn else {})))
            executor._wait(fn)  # and take the RevisionId the change gave $LATEST, for the publish's guard
        case MarkSettings(arn=arn, alias=alias, kinds=kinds):
            client.tag_resource(Resource=arn, Tags={SETTINGS_MARKER_PREFIX + alias: " ".join(kinds) or "none"})
    return None


def async_params(config: Any) -> dict[str, Any]:
    """PutFunctionEventInvokeConfig's parameters (it replaces the whole configuration)."""
    params: dict[str, Any] = {}
    if config["MaximumRetryAttempts"] is not None:
        params["MaximumRetryAttempts"] = config["MaximumRetryAttempts"]
    if config["MaximumEventAgeInSeconds"] is not None:
        params["MaximumEventAgeInSeconds"] = config["MaximumEventAgeInSeconds"]
    destinations = {name: {"Destination": config[name]} for name in ("OnSuccess", "OnFailure") if config[name]}
    if destinations:
        params["DestinationConfig"] = destinations
    return params


def _set_retention(executor: Executor, step: SetLogRetention) -> None:
    logs = executor.session.client("logs")
    if step.create_group:  # Lambda creates the group at the first invoke; the tool needs it now
        try:
            logs.create_log_group(logGroupName=step.group)
        except AwsCallError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise
    if step.new is None:
        with contextlib.suppress(AwsNotFound):
            logs.delete_retention_policy(logGroupName=step.group)
    else:
        logs.put_retention_policy(logGroupName=step.group, retentionInDays=step.new)


def wait_provisioned(executor: Executor, fn: FunctionConfig, alias: str) -> str:
    """Poll until the alias's provisioned concurrency is READY; its state, for the report."""

    def ready(answer: dict[str, Any]) -> bool:
        if answer.get("Status") == "FAILED":
            raise AwsError(f"{fn.name}: provisioned concurrency of alias {alias} failed: "
                           f"{answer.get('StatusReason') or 'no reason given'}")
        return answer.get("Status") == "READY"

    answer = wait_until(lambda: executor.client.get_provisioned_concurrency_config(FunctionName=fn.name,
                                                                                   Qualifier=alias),
                        ready, PROVISIONED_READY, lambda a: str(a.get("Status")))
    return (f"provisioned concurrency READY: {answer.get('AllocatedProvisionedConcurrentExecutions')} of "
            f"{answer.get('RequestedProvisionedConcurrentExecutions')}")


def wait_snap_start(executor: Executor, fn: FunctionConfig, version: str | None) -> None:
    """Poll until a SnapStart version is Active with its snapshot taken (OptimizationStatus On)."""

    def optimized(configuration: dict[str, Any]) -> bool:
        if configuration.get("State") == "Failed":
            raise AwsError(f"{fn.name}: version {version} failed to become Active: "
                           f"{configuration.get('StateReason') or ''}")
        snap = configuration.get("SnapStart") or {}
        return configuration.get("State", "Active") == "Active" and snap.get("OptimizationStatus") == "On"

    wait_until(lambda: executor.client.get_function_configuration(FunctionName=fn.name, Qualifier=version),
               optimized, FUNCTION_SETTLED,
               lambda c: f"{c.get('State')}, SnapStart {(c.get('SnapStart') or {}).get('OptimizationStatus')}")
