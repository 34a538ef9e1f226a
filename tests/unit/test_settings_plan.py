"""Planning the function settings (pure, no AWS): version-level settings field by field and in
the promote guard; function- and alias-level ones compared with what AWS has now, in their
place in the plan; the marker tag; the parameters sent to AWS."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.config.settings import (
    AsyncInvoke,
    FileSystem,
    FunctionSettings,
    Logging,
    RuntimeManagement,
    Vpc,
)
from lambdadeploy.diff import FieldChange
from lambdadeploy.engine.plan import (
    MoveAlias,
    PromoteConflict,
    Publish,
    Smoke,
    UpdateConfig,
    desired_config,
    desired_tags,
    plan_promote,
    plan_push,
)
from lambdadeploy.engine.remote import (
    AliasState,
    LogGroupState,
    ProvisionedState,
    RemoteFunction,
    SettingsState,
    VersionState,
    managed_config,
)
from lambdadeploy.engine.setting_steps import (
    MarkSettings,
    SetAsyncConfig,
    SetLogRetention,
    SetProvisionedConcurrency,
    SetReservedConcurrency,
    SetRuntimeManagement,
    WaitProvisioned,
)
from lambdadeploy.engine.settings_config import settings_params
from lambdadeploy.engine.settings_plan import alias_follow_steps
from lambdadeploy.output.steps import lines

ROLE = "arn:aws:iam::123456789012:role/app"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-api"
SUBNETS = ("subnet-0000000000000000b", "subnet-0000000000000000a")
SG = "sg-0123456789abcdef0"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dlq"
TOPIC = "arn:aws:sns:us-east-1:123456789012:done"
ACCESS_POINT = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
EVERY_VERSION_SETTING = FunctionSettings(
    vpc=Vpc(SUBNETS, (SG,)), ephemeral_storage=1024, tracing="active",
    logging=Logging("json", "debug", None, "/shop/api"), dead_letter=QUEUE, kms_key=KEY,
    file_system=FileSystem(ACCESS_POINT, "/mnt/data"))
BASE = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")


def fn(**settings) -> FunctionConfig:
    return dataclasses.replace(BASE, settings=FunctionSettings(**settings))


def deployed(function: FunctionConfig, *, aliases: tuple[str, ...] = ("prod",), reserved: int | None = None,
             config: dict | None = None, tags: dict | None = None) -> RemoteFunction:
    """`function` as AWS has it: $LATEST and version 1 with its configuration, aliases on 1."""
    config = config if config is not None else desired_config(function, ROLE)
    return RemoteFunction(function.name, True, ARN, config, "sha", versions=(VersionState("1", "sha", config),),
                          aliases={a: AliasState(a, "1") for a in aliases},
                          tags=tags if tags is not None else desired_tags(function), reserved_concurrency=reserved)


def state(alias: str = "prod", **found) -> SettingsState:
    return SettingsState(alias, ARN, **found)


def test_version_settings_read_back_from_aws_as_written_with_no_difference() -> None:
    function = dataclasses.replace(fn(**{f.name: getattr(EVERY_VERSION_SETTING, f.name)
                                        for f in dataclasses.fields(EVERY_VERSION_SETTING)}), environment={"A": "1"})
    wanted = desired_config(function, ROLE)
    # What GetFunction answers for it: ids in another order, defaults spelt out, a VpcId.
    answer = {
        "FunctionName": "shop-api", "Runtime": "python3.12", "Handler": "app.handler", "Role": ROLE, "MemorySize": 128,
        "Timeout": 10, "Environment": {"Variables": {"A": "1"}}, "Architectures": ["x86_64"],
        "VpcConfig": {"SubnetIds": list(reversed(SUBNETS)), "SecurityGroupIds": [SG], "VpcId": "vpc-1",
                      "Ipv6AllowedForDualStack": False},
        "EphemeralStorage": {"Size": 1024}, "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO",
                          "LogGroup": "/shop/api"},
        "DeadLetterConfig": {"TargetArn": QUEUE}, "KMSKeyArn": KEY,
        "FileSystemConfigs": [{"Arn": ACCESS_POINT, "LocalMountPath": "/mnt/data"}],
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
    }
    assert managed_config(answer) == wanted
    # A function AWS answers without any of them (an older one) is at the defaults.
    plain = {k: v for k, v in answer.items() if k in ("FunctionName", "Runtime", "Handler", "Role", "MemorySize",
                                                     "Timeout", "Environment", "Architectures")}
    assert managed_config(plain) == desired_config(dataclasses.replace(BASE, environment={"A": "1"}), ROLE)


def test_a_change_of_each_version_setting_is_one_field_of_the_configuration_and_a_new_version() -> None:
    function = fn(**{f.name: getattr(EVERY_VERSION_SETTING, f.name) for f in dataclasses.fields(EVERY_VERSION_SETTING)})
    remote = deployed(BASE, config=desired_config(BASE, ROLE))
    plan = plan_push(function, "sha", ROLE, remote, "prod", settings=state())
    (update,) = [s for s in plan.steps if isinstance(s, UpdateConfig)]
    assert {c.field: (c.old, c.new) for c in update.changes} == {
        "VpcConfig.SubnetIds": ([], sorted(SUBNETS)), "VpcConfig.SecurityGroupIds": ([], [SG]),
        "EphemeralStorage": (512, 1024), "TracingConfig": ("PassThrough", "Active"),
        "LoggingConfig.LogFormat": ("Text", "JSON"), "LoggingConfig.ApplicationLogLevel": (None, "DEBUG"),
        "LoggingConfig.SystemLogLevel": (None, "INFO"), "LoggingConfig.LogGroup": ("/aws/lambda/shop-api", "/shop/api"),
        "DeadLetterConfig": (None, QUEUE), "KMSKeyArn": (None, KEY),
        "FileSystemConfigs": ([], [{"Arn": ACCESS_POINT, "LocalMountPath": "/mnt/data"}]),
    }
    assert any(isinstance(s, Publish) for s in plan.steps)
    shown = "\n".join(line for step in plan.steps for line in lines(step))
    assert '~ VpcConfig.SubnetIds: [] -> ["subnet-0000000000000000a", "subnet-0000000000000000b"]' in shown
    assert '~ TracingConfig: "PassThrough" -> "Active"' in shown
    # Unchanged: nothing at all.
    assert plan_push(function, "sha", ROLE, deployed(function), "prod", settings=state()).steps == ()


def test_only_settings_away_from_their_default_or_changed_are_sent() -> None:
    config = desired_config(fn(tracing="active", snap_start=True), ROLE)
    assert settings_params(config) == {"TracingConfig": {"Mode": "Active"}, "SnapStart": {"ApplyOn": "PublishedVersions"}}
    back = desired_config(BASE, ROLE)
    assert settings_params(back, frozenset({"VpcConfig", "DeadLetterConfig", "KMSKeyArn", "LoggingConfig"})) == {
        "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}, "DeadLetterConfig": {"TargetArn": ""},
        "KMSKeyArn": "", "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/shop-api"}}
    vpc = settings_params(desired_config(fn(vpc=Vpc(SUBNETS, (SG,), True)), ROLE))["VpcConfig"]
    assert vpc == {"SubnetIds": sorted(SUBNETS), "SecurityGroupIds": [SG], "Ipv6AllowedForDualStack": True}


def test_promote_compares_version_settings_and_applies_the_others_to_the_target_alias() -> None:
    source = fn(vpc=Vpc(SUBNETS, (SG,)))
    remote = deployed(source, aliases=("dev",))
    target = fn(vpc=Vpc(SUBNETS[:1], (SG,)), reserved_concurrency=5, provisioned_concurrency={"prod": 2},
                async_invoke=AsyncInvoke(retries=0))
    conflict = plan_promote(target, ROLE, remote, "dev", "prod", settings=state())
    assert isinstance(conflict, PromoteConflict)
    assert [c.field for c in conflict.changes] == ["VpcConfig.SubnetIds"]
    # Concurrency and asynchronous invocation are not the version's: no conflict, applied after the move.
    same = dataclasses.replace(target, settings=dataclasses.replace(target.settings, vpc=source.settings.vpc))
    plan = plan_promote(same, ROLE, remote, "dev", "prod", settings=state())
    assert [type(s) for s in plan.steps] == [Smoke, MoveAlias, SetReservedConcurrency, SetProvisionedConcurrency,
                                             SetAsyncConfig, MarkSettings]
    # Already on the version: only the settings.
    there = deployed(source, aliases=("dev", "prod"))
    plan = plan_promote(same, ROLE, there, "dev", "prod", settings=state())
    assert [type(s) for s in plan.steps] == [SetReservedConcurrency, SetProvisionedConcurrency, SetAsyncConfig,
                                             MarkSettings]


def test_function_and_alias_settings_go_where_they_belong_in_a_push() -> None:
    function = fn(runtime_management=RuntimeManagement("function_update"), logging=Logging(retention_days=14),
                  reserved_concurrency=5, provisioned_concurrency={"prod": 3},
                  async_invoke=AsyncInvoke(retries=1, on_failure=QUEUE))
    plan = plan_push(function, "new-sha", ROLE, deployed(BASE), "prod",
                     settings=state(log_group=LogGroupState("/aws/lambda/shop-api", False)))
    # (retention alone leaves the version's LoggingConfig as it was: no UpdateConfig)
    assert [type(s).__name__ for s in plan.steps] == [
        "UploadCode", "SetRuntimeManagement", "Publish", "SetLogRetention", "Smoke", "MoveAlias",
        "SetReservedConcurrency", "SetProvisionedConcurrency", "SetAsyncConfig", "MarkSettings"]
    by_type = {type(s): s for s in plan.steps}
    assert by_type[SetRuntimeManagement].changes == (FieldChange("UpdateRuntimeOn", "Auto", "FunctionUpdate"),)
    assert by_type[SetLogRetention] == SetLogRetention("shop-api", "/aws/lambda/shop-api", None, 14, create_group=True)
    assert by_type[SetReservedConcurrency] == SetReservedConcurrency("shop-api", None, 5)
    assert by_type[SetProvisionedConcurrency] == SetProvisionedConcurrency("shop-api", "prod", None, 3)
    assert by_type[SetAsyncConfig].config == {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": None,
                                              "OnSuccess": None, "OnFailure": QUEUE}
    assert by_type[MarkSettings] == MarkSettings("shop-api", ARN, "prod", ("async", "provisioned", "retention", "runtime"))


def test_unchanged_settings_outside_the_version_make_no_step() -> None:
    function = fn(runtime_management=RuntimeManagement("function_update"), logging=Logging(retention_days=14),
                  reserved_concurrency=5, provisioned_concurrency={"prod": 3}, async_invoke=AsyncInvoke(retries=1))
    found = state(marked=frozenset({"async", "provisioned", "retention", "runtime"}),
                  async_config={"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": None, "OnSuccess": None,
                                "OnFailure": None},
                  provisioned=ProvisionedState(3, 3, "READY"),
                  log_group=LogGroupState("/aws/lambda/shop-api", True, 14),
                  runtime={"UpdateRuntimeOn": "FunctionUpdate", "RuntimeVersionArn": None})
    assert plan_push(function, "sha", ROLE, deployed(function, reserved=5), "prod", settings=found).steps == ()


def test_a_throttled_function_is_not_smoke_tested_and_lifting_the_throttle_comes_before_the_smoke() -> None:
    throttled = fn(reserved_concurrency=0)
    plan = plan_push(throttled, "new", ROLE, deployed(BASE), "prod", settings=state())
    assert not any(isinstance(s, Smoke) for s in plan.steps)
    assert plan.steps[-1] == SetReservedConcurrency("shop-api", None, 0)
    lifted = fn(reserved_concurrency=10)
    plan = plan_push(lifted, "new", ROLE, deployed(BASE, reserved=0), "prod", settings=state())
    names = [type(s).__name__ for s in plan.steps]
    assert names.index("SetReservedConcurrency") < names.index("Smoke") < names.index("MoveAlias")


def test_provisioned_concurrency_follows_the_alias_and_is_waited_for() -> None:
    function = fn(provisioned_concurrency={"prod": 3})
    ready = state(marked=frozenset({"provisioned"}), provisioned=ProvisionedState(3, 3, "READY"))
    # A new version: the alias moves, its provisioned concurrency is reallocated; the push waits.
    plan = plan_push(function, "new", ROLE, deployed(function), "prod", settings=ready)
    assert plan.steps[-1] == WaitProvisioned("shop-api", "prod", 3)
    assert [type(s) for s in plan.steps].index(MoveAlias) < len(plan.steps) - 1
    # A failed allocation is put again.
    failed = dataclasses.replace(ready, provisioned=ProvisionedState(3, 0, "FAILED", "no capacity"))
    assert plan_push(function, "sha", ROLE, deployed(function), "prod", settings=failed).steps == (
        SetProvisionedConcurrency("shop-api", "prod", 3, 3),)
    # Rollback and finish wait for it too.
    assert alias_follow_steps(function, ready, "prod") == (WaitProvisioned("shop-api", "prod", 3),)
    assert alias_follow_steps(function, state(), "prod") == ()
    # Another alias than the ones it names: nothing to provision, nothing read.
    assert plan_push(function, "sha", ROLE, deployed(function, aliases=("dev",)), "dev", settings=state("dev")).steps == ()


def test_a_setting_removed_from_lambda_yaml_is_removed_while_the_marker_names_it() -> None:
    marked = state(marked=frozenset({"async", "provisioned", "retention", "runtime"}),
                   async_config={"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": None, "OnSuccess": None,
                                 "OnFailure": None},
                   provisioned=ProvisionedState(3, 3, "READY"),
                   log_group=LogGroupState("/aws/lambda/shop-api", True, 14),
                   runtime={"UpdateRuntimeOn": "Manual", "RuntimeVersionArn": "arn:aws:lambda:us-east-1::runtime:x"})
    plan = plan_push(BASE, "sha", ROLE, deployed(BASE, reserved=5), "prod", settings=marked)
    by_type = {type(s): s for s in plan.steps}
    assert by_type[SetRuntimeManagement].update_on == "Auto"
    assert by_type[SetLogRetention] == SetLogRetention("shop-api", "/aws/lambda/shop-api", 14, None, create_group=False)
    assert by_type[SetReservedConcurrency] == SetReservedConcurrency("shop-api", 5, None)
    assert by_type[SetProvisionedConcurrency] == SetProvisionedConcurrency("shop-api", "prod", 3, None)
    assert by_type[SetAsyncConfig].config is None
    assert plan.steps[-1] == MarkSettings("shop-api", ARN, "prod", ())  # written last, once they are gone
    shown = [line for step in plan.steps for line in lines(step)]
    assert "- provisioned concurrency prod: 3 -> none" in shown
    assert "- log retention /aws/lambda/shop-api: 14 days -> never expire" in shown
    assert "- reserved concurrency: 5 -> unreserved" in shown
    assert "~ tag lambdadeploy:settings:prod = none" in shown


def test_a_new_function_gets_its_settings_after_it_is_created() -> None:
    function = fn(reserved_concurrency=2, runtime_management=RuntimeManagement("function_update"))
    plan = plan_push(function, "sha", ROLE, RemoteFunction("shop-api", exists=False), "dev", settings=state("dev"))
    assert [type(s).__name__ for s in plan.steps] == [
        "CreateFunction", "SetRuntimeManagement", "Publish", "Smoke", "MoveAlias", "SetReservedConcurrency",
        "MarkSettings"]
