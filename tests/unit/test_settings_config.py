"""The function settings in lambda.yaml: values, AWS's rules with file:line, defaults and the
environment merge. No AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdadeploy.awsrules.lambda_settings import snap_start_supported
from lambdadeploy.config import load
from lambdadeploy.config.rules import json_schema
from lambdadeploy.config.settings import AsyncInvoke, FileSystem, Logging, RuntimeManagement, Vpc

from .test_config import issues, write_project

SUBNET, SG = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dlq"
TOPIC = "arn:aws:sns:us-east-1:123456789012:done"
ACCESS_POINT = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RUNTIME = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"


def test_defaults_environment_merges_with_the_functions_and_the_function_wins(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults:
          environment: {TABLE: orders, STAGE: dev, REGION_NAME: eu}
        functions:
          hello:
            handler: app.handler
            environment: {STAGE: prod, CALLBACK: https://example.com}
    """)
    (fn,) = load(path).functions
    assert dict(fn.environment) == {"TABLE": "orders", "STAGE": "prod", "REGION_NAME": "eu",
                                    "CALLBACK": "https://example.com"}


def test_each_side_of_the_environment_is_checked_where_it_is_written(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults:
          environment: {AWS_REGION: x}
        functions:
          hello:
            handler: app.handler
            environment: {X: y}
    """)
    found = issues(path)
    assert any(":2: defaults.environment.AWS_REGION: AWS_REGION is reserved by Lambda" in i for i in found), found
    assert any(":6: functions.hello.environment.X: invalid variable name" in i for i in found), found
    # The 4 KB limit counts the merged variables.
    path = write_project(tmp_path, f"""
        defaults:
          environment: {{BIG: "{'x' * 3000}"}}
        functions:
          hello:
            handler: app.handler
            environment: {{MORE: "{'y' * 2000}"}}
    """)
    assert any("4096 in all" in i for i in issues(path))


def test_every_setting_is_read_into_the_model(tmp_path: Path) -> None:
    path = write_project(tmp_path, f"""
        aliases: [dev, prod]
        defaults:
          tracing: active
          logging: {{format: JSON, level: debug, system_level: warn, retention_days: 14}}
        functions:
          hello:
            handler: app.handler
            vpc: {{subnets: [{SUBNET}], security_groups: [{SG}], ipv6: true}}
            ephemeral_storage: 2048
            dead_letter: {QUEUE}
            async: {{retries: 0, max_event_age: 60, on_success: {TOPIC}, on_failure: {QUEUE}}}
            reserved_concurrency: 10
            provisioned_concurrency: {{prod: 4, dev: 1}}
            kms_key: {KEY}
            file_system: {{arn: "{ACCESS_POINT}", mount: /mnt/data}}
            runtime_management: {{update: manual, version_arn: "{RUNTIME}"}}
            policies:
              - Action: dynamodb:GetItem
                Resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders
              - {{Effect: Deny, NotAction: ["s3:*"], Resource: "*", Condition: {{Bool: {{aws:SecureTransport: "false"}}}}}}
    """)
    (fn,) = load(path).functions
    settings = fn.settings
    assert settings.vpc == Vpc((SUBNET,), (SG,), True)
    assert (settings.ephemeral_storage, settings.tracing, settings.dead_letter) == (2048, "active", QUEUE)
    assert settings.logging == Logging("json", "debug", "warn", None, 14)
    assert settings.async_invoke == AsyncInvoke(0, 60, TOPIC, QUEUE)
    assert (settings.reserved_concurrency, dict(settings.provisioned_concurrency)) == (10, {"prod": 4, "dev": 1})
    assert (settings.kms_key, settings.file_system) == (KEY, FileSystem(ACCESS_POINT, "/mnt/data"))
    assert settings.runtime_management == RuntimeManagement("manual", RUNTIME)
    assert settings.policies == (
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"},
        {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    )
    assert settings.marked and not settings.throttled
    document = settings.document()
    assert document["async"] == {"retries": 0, "max_event_age": 60, "on_success": TOPIC, "on_failure": QUEUE}
    assert "snap_start" not in document  # at AWS's default


def test_a_functions_setting_replaces_the_defaults_and_unset_means_awss_default(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults:
          logging: {format: json, retention_days: 7}
          ephemeral_storage: 1024
        functions:
          hello:
            handler: app.handler
            logging: {group: /shop/hello}
    """)
    (fn,) = load(path).functions
    assert fn.settings.logging == Logging(group="/shop/hello")  # replaced, not merged: no json, no retention
    assert fn.settings.ephemeral_storage == 1024
    path = write_project(tmp_path, "functions: {hello: {handler: app.handler}}")
    (fn,) = load(path).functions
    assert (fn.settings.vpc, fn.settings.ephemeral_storage, fn.settings.tracing, fn.settings.snap_start) == (
        None, 512, "passthrough", False)
    assert not fn.settings.marked and fn.settings.document() == {}


@pytest.mark.parametrize(("yaml", "expected"), [
    (f"vpc: {{subnets: [subnet-123], security_groups: [{SG}]}}", ":6: functions.hello.vpc.subnets.0: invalid subnet id"),
    (f"vpc: {{subnets: [{SUBNET}], security_groups: []}}", ":6: functions.hello.vpc.security_groups: needs at least 1 item"),
    (f"vpc: {{subnets: [{SUBNET}]}}", ":6: functions.hello.vpc.security_groups: missing `security_groups`"),
    ("vpc: {subnets: [" + ", ".join([SUBNET] * 17) + f"], security_groups: [{SG}]}}",
     ":6: functions.hello.vpc.subnets: 17 items; at most 16"),
    ("ephemeral_storage: 10241", ":6: functions.hello.ephemeral_storage: 10241 is out of range (allowed: 512..10240 MB)"),
    ("tracing: full", ":6: functions.hello.tracing: 'full' is not allowed; allowed: active, passthrough"),
    ("logging: {retention_days: 10}", ":6: functions.hello.logging.retention_days: 10 is not a period CloudWatch"),
    ("logging: {level: debug}", ":6: functions.hello.logging.level: log levels apply to JSON logs only"),
    ("logging: {format: json, system_level: error}", ":6: functions.hello.logging.system_level: 'error' is not allowed"),
    ("logging: {group: 'has space'}", ":6: functions.hello.logging.group: invalid log group name"),
    ("dead_letter: arn:aws:lambda:us-east-1:123456789012:function:x",
     ":6: functions.hello.dead_letter: 'arn:aws:lambda:us-east-1:123456789012:function:x': must be the ARN of an SQS"),
    ("async: {retries: 3}", ":6: functions.hello.async.retries: 3 is out of range (allowed: 0..2 retries)"),
    ("async: {max_event_age: 30}", ":6: functions.hello.async.max_event_age: 30 is out of range"),
    ("async: {on_success: 'arn:aws:s3:::bucket'}", "an S3 bucket can only receive failed invocations"),
    ("async: {on_failure: 'arn:aws:dynamodb:us-east-1:123456789012:table/t'}", "must be the ARN of an SQS queue"),
    ("reserved_concurrency: -1", ":6: functions.hello.reserved_concurrency: -1 is out of range"),
    ("provisioned_concurrency: {qa: 1}", ":6: functions.hello.provisioned_concurrency.qa: alias 'qa' is not one"),
    ("provisioned_concurrency: {prod: 0}", ":6: functions.hello.provisioned_concurrency.prod: 0 is out of range"),
    ("reserved_concurrency: 3\nprovisioned_concurrency: {prod: 2, dev: 2}",
     "functions.hello.provisioned_concurrency: 4 provisioned executions in all, more than reserved_concurrency 3"),
    ("snap_start: true\nruntime: python3.11", "functions.hello.snap_start: SnapStart does not support the runtime python3.11"),
    ("snap_start: true\nruntime: nodejs22.x", ":6: functions.hello.snap_start: SnapStart does not support the runtime nodejs22.x"),
    ("snap_start: true\nephemeral_storage: 1024", "SnapStart does not support ephemeral storage greater than 512 MB"),
    ("snap_start: true\nprovisioned_concurrency: {prod: 1}", "SnapStart does not support provisioned concurrency"),
    (f"snap_start: true\nvpc: {{subnets: [{SUBNET}], security_groups: [{SG}]}}\n"
     f"file_system: {{arn: '{ACCESS_POINT}', mount: /mnt/x}}", "SnapStart does not support Amazon EFS"),
    ("kms_key: arn:aws:kms:us-east-1:123456789012:alias/x", ":6: functions.hello.kms_key: invalid ARN"),
    (f"file_system: {{arn: '{ACCESS_POINT}', mount: /mnt/x}}", "functions.hello.file_system: a file system is reached through a VPC"),
    (f"vpc: {{subnets: [{SUBNET}], security_groups: [{SG}]}}\nfile_system: {{arn: '{ACCESS_POINT}', mount: /data}}",
     "functions.hello.file_system.mount: invalid mount path '/data' (/mnt/NAME)"),
    ("file_system: {arn: 'arn:aws:s3:::b', mount: /mnt/x}", "functions.hello.file_system.arn: invalid ARN"),
    ("runtime_management: {update: manual}", "functions.hello.runtime_management: `version_arn` goes with `update: manual`"),
    ("runtime_management: {update: sometimes}", "functions.hello.runtime_management.update: 'sometimes' is not allowed"),
    ("policies: [{Action: 'dynamodb:GetItem'}]", "functions.hello.policies.0: needs exactly one of Resource or NotResource"),
    ("policies: [{Action: 'GetItem', Resource: '*'}]", "functions.hello.policies.0.Action: invalid action 'GetItem'"),
    ("policies: [{Action: 'a:b', Resource: '*', Principal: x}]", "functions.hello.policies.0.Principal: unknown statement key"),
    ("role: my-role\npolicies: [{Action: 'a:b', Resource: '*'}]",
     "functions.hello.policies: policies: go on the function's own role, which `role:` replaces"),
])
def test_each_rule_is_an_error_at_its_line(tmp_path: Path, yaml: str, expected: str) -> None:
    text = "aliases: [dev, prod]\nfunctions:\n  hello:\n    handler: app.handler\n    # settings\n"
    path = write_project(tmp_path, text + "".join(f"    {line}\n" for line in yaml.splitlines()))
    found = issues(path)
    assert any(expected in issue for issue in found), found


def test_settings_in_defaults_are_reported_at_the_defaults(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults:
          logging: {retention_days: 8}
        functions:
          hello:
            handler: app.handler
    """)
    assert any(":2: defaults.logging.retention_days: 8 is not a period" in i for i in issues(path))
    # A rule across fields names the field where each was written.
    path = write_project(tmp_path, """
        defaults:
          reserved_concurrency: 1
          logging: {level: warn}
        functions:
          hello:
            handler: app.handler
            provisioned_concurrency: {prod: 2}
    """)
    found = issues(path)
    assert any(":3: defaults.logging.level: log levels apply to JSON logs only" in i for i in found), found
    assert any(":7: functions.hello.provisioned_concurrency: 2 provisioned executions in all" in i for i in found), found


def test_tags_leave_room_for_the_settings_marker(tmp_path: Path) -> None:
    tags = "".join(f"      t{i}: v\n" for i in range(46))
    base = "functions:\n  hello:\n    handler: app.handler\n    tags:\n" + tags
    # 46 + managed-by + the description digest + 2 trigger markers = 50
    assert load(write_project(tmp_path, base)).functions
    found = issues(write_project(tmp_path, base + "    async: {retries: 0}\n"))  # + 2 settings markers = 52
    assert any("tags" in i and "lambdadeploy keeps 6 tags of its own" in i for i in found), found


def test_the_schema_knows_the_settings() -> None:
    properties = json_schema()["properties"]["defaults"]["properties"]
    assert properties["ephemeral_storage"] == {"type": "integer", "minimum": 512, "maximum": 10240,
                                               "description": "/tmp in MB (512..10240)"}
    assert properties["logging"]["properties"]["retention_days"]["enum"][:3] == [1, 3, 5]
    assert set(properties["async"]["properties"]) == {"retries", "max_event_age", "on_success", "on_failure"}
    assert properties["vpc"]["required"] == ["subnets", "security_groups"]
    assert "json" in properties["logging"]["properties"]["format"]["enum"]


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13", "python3.14", "java21", "dotnet8"])
def test_snap_start_is_allowed_on_the_runtimes_aws_lists(runtime: str) -> None:
    """AWS's SnapStart page: Java 11 and later, Python 3.12 and later, .NET 8 and later."""
    assert snap_start_supported(runtime)


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10", "python3.11", "nodejs18.x", "nodejs20.x",
                                     "nodejs22.x", "nodejs24.x", "java8.al2", "dotnet6", "provided.al2023"])
def test_snap_start_is_refused_on_every_other_runtime(runtime: str) -> None:
    """No Node.js version supports SnapStart (nor python3.11 and older); Lambda would refuse the update."""
    assert not snap_start_supported(runtime)
