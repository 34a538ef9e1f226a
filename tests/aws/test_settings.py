"""The function settings against moto (with the sandbox's emulation, as the sandbox runs it):
created, read back by boto3, unchanged pushes make no write, changes planned and applied,
promote and rollback keep alias settings, removals follow the marker tag, roles get what the
settings need, and a role of your own without VPC access is warned about."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.setting_steps import SetProvisionedConcurrency, WaitProvisioned
from lambdadeploy.iam import execution_role as roles
from lambdadeploy.output.steps import lines

from .conftest import write_project
from .test_push import record_calls

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
READS = {"GetFunction", "ListVersionsByFunction", "ListAliases", "GetRole", "ListAttachedRolePolicies",
         "ListRolePolicies", "GetRolePolicy", "GetFunctionEventInvokeConfig", "GetProvisionedConcurrencyConfig",
         "GetRuntimeManagementConfig", "DescribeLogGroups", "GetPolicy", "GetFunctionUrlConfig",
         "ListEventSourceMappings", "GetFunctionConfiguration", "GetAlias"}


@dataclass
class Network:
    subnet: str
    other_subnet: str
    group: str
    queue: str
    topic: str


@pytest.fixture
def network(session: AwsSession) -> Network:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    group = ec2.create_security_group(GroupName="fn", Description="functions", VpcId=vpc)["GroupId"]
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="failed")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = session.client("sns").create_topic(Name="done")["TopicArn"]
    return Network(subnets[0], subnets[1], group, queue, topic)


def settings_yaml(net: Network, *, storage: int = 1024, retention: int = 7, provisioned: int = 2, reserved: int = 5,
                  retries: int = 1, subnets: str = "", tracing: str = "active", level: str = "debug") -> str:
    return textwrap.dedent(f"""
        vpc: {{subnets: [{subnets or net.subnet}], security_groups: [{net.group}]}}
        ephemeral_storage: {storage}
        tracing: {tracing}
        logging: {{format: json, level: {level}, retention_days: {retention}}}
        dead_letter: {net.queue}
        async: {{retries: {retries}, max_event_age: 3600, on_success: {net.topic}, on_failure: {net.queue}}}
        reserved_concurrency: {reserved}
        provisioned_concurrency: {{prod: {provisioned}}}
        kms_key: {KEY}
        runtime_management: {{update: function_update}}
        policies:
          - {{Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}}
    """)


def deployer(session: AwsSession, project: Any, events: list | None = None) -> Deployer:
    return Deployer(session, project, (events if events is not None else []).append)


def push(session: AwsSession, project: Any, alias: str = "prod") -> Any:
    results = deployer(session, project).push(project.functions, alias)
    assert all(r.ok for r in results), [r.error for r in results]
    return results


def test_every_setting_is_created_read_back_and_an_unchanged_push_writes_nothing(
        session: AwsSession, network: Network, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return {'ok': True}", settings_yaml(network))
    (result,) = push(session, project)
    assert any(r.detail == "provisioned concurrency READY: 2 of 2" for r in result.done)
    lam = session.client("lambda")
    config = lam.get_function_configuration(FunctionName="t-worker", Qualifier="prod")
    assert config["VpcConfig"]["SubnetIds"] == [network.subnet] and config["VpcConfig"]["VpcId"].startswith("vpc-")
    assert (config["EphemeralStorage"], config["TracingConfig"]) == ({"Size": 1024}, {"Mode": "Active"})
    assert config["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO",
                                       "LogGroup": "/aws/lambda/t-worker"}
    assert (config["DeadLetterConfig"], config["KMSKeyArn"]) == ({"TargetArn": network.queue}, KEY)
    assert config["Role"].endswith(":role/t-worker-exec")
    assert lam.get_function_concurrency(FunctionName="t-worker")["ReservedConcurrentExecutions"] == 5
    provisioned = lam.get_provisioned_concurrency_config(FunctionName="t-worker", Qualifier="prod")
    assert (provisioned["RequestedProvisionedConcurrentExecutions"], provisioned["Status"]) == (2, "READY")
    invoke = lam.get_function_event_invoke_config(FunctionName="t-worker", Qualifier="prod")
    assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (1, 3600)
    assert invoke["DestinationConfig"] == {"OnSuccess": {"Destination": network.topic},
                                           "OnFailure": {"Destination": network.queue}}
    assert lam.get_runtime_management_config(FunctionName="t-worker")["UpdateRuntimeOn"] == "FunctionUpdate"
    (group,) = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/t-worker")["logGroups"]
    assert group["retentionInDays"] == 7
    iam = session.client("iam")
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="t-worker-exec")["AttachedPolicies"]}
    assert attached == {roles.basic_execution_policy(), roles.managed_policy(roles.VPC_ACCESS_POLICY_NAME),
                        roles.managed_policy(roles.XRAY_WRITE_POLICY_NAME)}
    assert set(iam.list_role_policies(RoleName="t-worker-exec")["PolicyNames"]) == {
        roles.SETTINGS_POLICY_NAME, roles.FUNCTION_POLICY_NAME}

    calls = record_calls(session)
    for service in ("logs",):
        session.client(service).meta.events.register("before-call.*.*",
                                                     lambda model, **kwargs: calls.append(model.name))
    plan = deployer(session, project).plan(project.functions, "prod")
    assert not plan.has_changes, [lines(s) for r in plan.functions for s in r.plan.steps]
    (again,) = push(session, project)
    assert not again.published and not again.uploaded and again.done == ()
    assert set(calls) <= READS, set(calls) - READS
    # The settings outside the version cost one read each (the marker names them).
    assert {"GetFunctionEventInvokeConfig", "GetProvisionedConcurrencyConfig", "GetRuntimeManagementConfig",
            "DescribeLogGroups"} <= set(calls)


def test_a_change_of_each_setting_is_planned_and_applied(session: AwsSession, network: Network, tmp_path: Path) -> None:
    push(session, write_project(tmp_path, "return 1", settings_yaml(network)))
    changed = write_project(tmp_path, "return 1", settings_yaml(
        network, storage=2048, retention=30, provisioned=3, reserved=6, retries=0, tracing="passthrough",
        subnets=f"{network.subnet}, {network.other_subnet}", level="warn"))
    plan = deployer(session, changed).plan(changed.functions, "prod")
    shown = [line.strip() for s in plan.functions[0].plan.steps for line in lines(s)]
    for expected in ("~ EphemeralStorage: 1024 -> 2048", '~ TracingConfig: "Active" -> "PassThrough"',
                     '~ LoggingConfig.ApplicationLogLevel: "DEBUG" -> "WARN"',
                     "~ log retention /aws/lambda/t-worker: 7 days -> 30 days",
                     "~ reserved concurrency: 5 -> 6", "~ provisioned concurrency prod: 2 -> 3",
                     "~ asynchronous invocation of prod", "~ MaximumRetryAttempts: 1 -> 0"):
        assert expected in shown, shown
    assert any(line.startswith("~ VpcConfig.SubnetIds:") for line in shown)
    # X-Ray's policy is detached from the role: no function of it traces any more.
    assert [lines(s) for s in plan.role_steps] == [
        [f"- role t-worker-exec: detach {roles.managed_policy(roles.XRAY_WRITE_POLICY_NAME)}"]]
    (result,) = push(session, changed)
    assert result.published
    lam = session.client("lambda")
    config = lam.get_function_configuration(FunctionName="t-worker", Qualifier="prod")
    assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted([network.subnet, network.other_subnet])
    assert (config["EphemeralStorage"]["Size"], config["TracingConfig"]["Mode"]) == (2048, "PassThrough")
    assert config["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
    assert lam.get_function_concurrency(FunctionName="t-worker")["ReservedConcurrentExecutions"] == 6
    assert lam.get_provisioned_concurrency_config(FunctionName="t-worker", Qualifier="prod")[
        "RequestedProvisionedConcurrentExecutions"] == 3
    assert lam.get_function_event_invoke_config(FunctionName="t-worker", Qualifier="prod")["MaximumRetryAttempts"] == 0
    group = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/t-worker")["logGroups"][0]
    assert group["retentionInDays"] == 30
    assert not deployer(session, changed).plan(changed.functions, "prod").has_changes


def test_promote_applies_alias_settings_and_rollback_waits_for_provisioned_concurrency(
        session: AwsSession, network: Network, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", "provisioned_concurrency: {prod: 2}\nasync: {retries: 0}")
    push(session, project, "dev")
    lam = session.client("lambda")
    (promoted,) = deployer(session, project).promote(project.functions, "dev", "prod")
    assert promoted.ok, promoted.error
    assert [type(r.step) for r in promoted.done if isinstance(r.step, SetProvisionedConcurrency)]
    assert lam.get_provisioned_concurrency_config(FunctionName="t-worker", Qualifier="prod")["Status"] == "READY"
    assert lam.get_function_event_invoke_config(FunctionName="t-worker", Qualifier="prod")["MaximumRetryAttempts"] == 0
    # A new version on dev, promoted: prod's provisioned concurrency follows it.
    changed = write_project(tmp_path, "return 2", "provisioned_concurrency: {prod: 2}\nasync: {retries: 0}")
    push(session, changed, "dev")
    (promoted,) = deployer(session, changed).promote(changed.functions, "dev", "prod")
    assert promoted.ok and promoted.alias_to == "2"
    assert [r.detail for r in promoted.done if isinstance(r.step, WaitProvisioned)] == [
        "provisioned concurrency READY: 2 of 2"]
    (rolled,) = deployer(session, changed).rollback(changed.functions, "prod", None)
    assert rolled.ok and rolled.alias_to == "1"
    assert [r.detail for r in rolled.done if isinstance(r.step, WaitProvisioned)] == [
        "provisioned concurrency READY: 2 of 2"]
    assert lam.get_provisioned_concurrency_config(FunctionName="t-worker", Qualifier="prod")[
        "RequestedProvisionedConcurrentExecutions"] == 2


def test_removing_settings_removes_them_and_then_stops_reading_them(
        session: AwsSession, network: Network, tmp_path: Path) -> None:
    push(session, write_project(tmp_path, "return 1", settings_yaml(network)))
    bare = write_project(tmp_path, "return 1")
    (result,) = push(session, bare)
    assert result.published  # the version-level settings went back to AWS's defaults
    lam = session.client("lambda")
    config = lam.get_function_configuration(FunctionName="t-worker", Qualifier="prod")
    assert config["VpcConfig"]["SubnetIds"] == [] and "DeadLetterConfig" not in config and "KMSKeyArn" not in config
    assert config["Role"].endswith(":role/t-lambda-exec")
    assert "Concurrency" not in lam.get_function(FunctionName="t-worker")
    with pytest.raises(Exception, match="ProvisionedConcurrencyConfigNotFound"):
        lam.get_provisioned_concurrency_config(FunctionName="t-worker", Qualifier="prod")
    with pytest.raises(Exception, match="ResourceNotFound"):
        lam.get_function_event_invoke_config(FunctionName="t-worker", Qualifier="prod")
    assert lam.get_runtime_management_config(FunctionName="t-worker")["UpdateRuntimeOn"] == "Auto"
    group = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/t-worker")["logGroups"][0]
    assert "retentionInDays" not in group
    assert lam.list_tags(Resource=config["FunctionArn"].rsplit(":", 1)[0])["Tags"]["lambdadeploy:settings:prod"] == "none"
    calls = record_calls(session)
    push(session, bare)
    assert not {"GetFunctionEventInvokeConfig", "GetProvisionedConcurrencyConfig", "GetRuntimeManagementConfig"} & set(calls)


def test_snap_start_versions_are_optimized_before_the_smoke_test(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", "runtime: python3.12\nsnap_start: true")
    (result,) = push(session, project, "dev")
    config = session.client("lambda").get_function_configuration(FunctionName="t-worker", Qualifier=result.version)
    assert config["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert config["State"] == "Active"
    assert result.smoke is not None and result.smoke.passed
    # As on AWS, a new SnapStart version is Pending while its snapshot is taken, and Lambda
    # refuses to invoke it meanwhile: the smoke test above passed because the push waited.
    lam = session.client("lambda")
    lam.update_function_configuration(FunctionName="t-worker", Description="again")
    lam.get_waiter("function_updated_v2").wait(FunctionName="t-worker", WaiterConfig={"Delay": 0.1})
    version = lam.publish_version(FunctionName="t-worker")["Version"]
    assert lam.get_function_configuration(FunctionName="t-worker", Qualifier=version)["State"] == "Pending"
    with pytest.raises(Exception, match="ResourceConflictException"):
        lam.invoke(FunctionName="t-worker", Qualifier=version)


def test_a_throttled_function_moves_its_alias_without_a_smoke_test(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "raise RuntimeError('never runs')", "reserved_concurrency: 0")
    (result,) = push(session, project, "dev")
    assert result.smoke is None and result.smoke_skipped and result.alias_moved
    with pytest.raises(Exception, match="TooManyRequests"):
        session.client("lambda").invoke(FunctionName="t-worker", Qualifier="dev")


def test_a_role_of_your_own_without_vpc_access_is_warned_about(
        session: AwsSession, network: Network, tmp_path: Path) -> None:
    iam = session.client("iam")
    iam.create_role(RoleName="mine", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    vpc = f"vpc: {{subnets: [{network.subnet}], security_groups: [{network.group}]}}"
    project = write_project(tmp_path, "return 1", f"role: mine\n{vpc}")
    plan = deployer(session, project).plan(project.functions, "dev")
    (finding,) = plan.findings
    assert finding.level == "warning" and "role mine lacks VPC access" in finding.message
    assert "AWSLambdaVPCAccessExecutionRole" in (finding.hint or "")
    # AWS (and the sandbox) refuse it indeed; with the policy the warning goes away and the push works.
    (refused,) = deployer(session, project).push(project.functions, "dev")
    assert not refused.ok and "CreateNetworkInterface" in (refused.error or "")
    iam.put_role_policy(RoleName="mine", PolicyName="eni", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*NetworkInterface*", '
        '"Resource": "*"}]}'))
    assert deployer(session, project).plan(project.functions, "dev").findings == ()
    push(session, project, "dev")


def test_a_vpc_change_is_waited_for_before_the_next_write(session: AwsSession, network: Network,
                                                          tmp_path: Path) -> None:
    """Lambda makes a VPC function's network interfaces after the request: State Pending after a
    create, LastUpdateStatus InProgress after an update, and writes meanwhile are refused. The
    sandbox answers so; the push waits for Active/Successful before it publishes."""
    iam = session.client("iam")
    iam.create_role(RoleName="mine", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.attach_role_policy(RoleName="mine", PolicyArn=roles.managed_policy(roles.VPC_ACCESS_POLICY_NAME))
    role = iam.get_role(RoleName="mine")["Role"]["Arn"]
    lam = session.client("lambda")
    lam.create_function(FunctionName="raw", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
                        VpcConfig={"SubnetIds": [network.subnet], "SecurityGroupIds": [network.group]})
    assert lam.get_function_configuration(FunctionName="raw")["State"] == "Pending"
    with pytest.raises(Exception, match="ResourceConflictException"):
        lam.publish_version(FunctionName="raw")
    lam.get_waiter("function_active_v2").wait(FunctionName="raw", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    lam.update_function_configuration(FunctionName="raw", VpcConfig={"SubnetIds": [network.other_subnet],
                                                                       "SecurityGroupIds": [network.group]})
    assert lam.get_function_configuration(FunctionName="raw")["LastUpdateStatus"] == "InProgress"
    with pytest.raises(Exception, match="An update is in progress"):
        lam.update_function_configuration(FunctionName="raw", MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName="raw", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    assert lam.get_function_configuration(FunctionName="raw")["State"] == "Active"

    vpc = f"vpc: {{subnets: [{network.subnet}], security_groups: [{network.group}]}}"
    push(session, write_project(tmp_path, "return 1", f"role: mine\n{vpc}"), "dev")
    moved = vpc.replace(network.subnet, network.other_subnet)
    (result,) = push(session, write_project(tmp_path, "return 1", f"role: mine\n{moved}"), "dev")
    assert result.published and result.smoke is not None and result.smoke.passed
    config = lam.get_function_configuration(FunctionName="t-worker", Qualifier="dev")
    assert config["VpcConfig"]["SubnetIds"] == [network.other_subnet] and config["State"] == "Active"


def test_a_file_system_is_mounted_on_the_version_and_removed_with_the_setting(
        session: AwsSession, network: Network, tmp_path: Path) -> None:
    access_point = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
    vpc = f"vpc: {{subnets: [{network.subnet}], security_groups: [{network.group}]}}"
    project = write_project(tmp_path, "return 1", f"{vpc}\nfile_system: {{arn: '{access_point}', mount: /mnt/data}}")
    push(session, project, "dev")
    lam = session.client("lambda")
    config = lam.get_function_configuration(FunctionName="t-worker", Qualifier="dev")
    assert config["FileSystemConfigs"] == [{"Arn": access_point, "LocalMountPath": "/mnt/data"}]
    assert not deployer(session, project).plan(project.functions, "dev").has_changes
    without = write_project(tmp_path, "return 1", vpc)
    plan = deployer(session, without).plan(without.functions, "dev")
    assert any(line.strip().startswith("~ FileSystemConfigs") for r in plan.functions for s in r.plan.steps
               for line in lines(s)), [lines(s) for r in plan.functions for s in r.plan.steps]
    (result,) = push(session, without, "dev")
    assert result.published
    assert "FileSystemConfigs" not in lam.get_function_configuration(FunctionName="t-worker", Qualifier="dev")
