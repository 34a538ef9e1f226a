"""Issue #16's must-hold, through the CLI and a real `lambdadeploy sandbox` server: a project
using every function setting is created, a boto3 client sees each value, an unchanged push
does nothing, and a change of the settings outside the version is planned and applied."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .conftest import Sandbox, run_cli

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def write(root: Path, net: dict[str, str], retention: int, provisioned: int, reserved: int) -> None:
    for name in ("api", "plain"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    vpc = f"{{subnets: [{net['subnet']}], security_groups: [{net['group']}]}}"
    (root / "lambda.yaml").write_text(textwrap.dedent(f"""\
        project: settings
        aliases: [dev, prod]
        defaults:
          environment: {{STAGE: shared, LEVEL: info}}
        functions:
          api:
            handler: app.handler
            runtime: python3.12
            environment: {{LEVEL: debug}}
            vpc: {vpc}
            ephemeral_storage: 1024
            tracing: active
            logging: {{format: json, level: warn, retention_days: {retention}}}
            dead_letter: {net['queue']}
            async: {{retries: 0, max_event_age: 600, on_failure: {net['queue']}, on_success: {net['topic']}}}
            reserved_concurrency: {reserved}
            provisioned_concurrency: {{dev: {provisioned}}}
            kms_key: {KEY}
            runtime_management: {{update: function_update}}
            policies:
              - {{Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}}
          plain:
            handler: app.handler
            runtime: python3.12
            vpc: {vpc}
            snap_start: true
        """))


def test_every_setting_through_the_cli_and_the_sandbox(tmp_path: Path, sandbox_server: Sandbox) -> None:
    ec2 = sandbox_server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sqs = sandbox_server.client("sqs")
    net = {
        "subnet": ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"],
        "group": ec2.create_security_group(GroupName="settings", Description="e2e", VpcId=vpc)["GroupId"],
        "queue": sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="settings-dlq")["QueueUrl"],
                                          AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
        "topic": sandbox_server.client("sns").create_topic(Name="settings-done")["TopicArn"],
    }
    write(tmp_path, net, retention=7, provisioned=2, reserved=5)
    first = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert first.code == 0, first.stderr + first.stdout
    pushed = json.loads(first.stdout)["functions"]
    assert all(fn["smoke"]["passed"] for fn in pushed)
    assert "provisioned concurrency READY: 2 of 2" in json.dumps(pushed[0]["steps"])  # the push reports its state

    lam = sandbox_server.client("lambda")
    api = lam.get_function_configuration(FunctionName="settings-api", Qualifier="dev")
    assert api["Environment"]["Variables"] == {"STAGE": "shared", "LEVEL": "debug"}
    assert (api["VpcConfig"]["SubnetIds"], api["VpcConfig"]["VpcId"]) == ([net["subnet"]], vpc)
    assert (api["EphemeralStorage"], api["TracingConfig"]) == ({"Size": 1024}, {"Mode": "Active"})
    assert (api["LoggingConfig"]["LogFormat"], api["LoggingConfig"]["ApplicationLogLevel"]) == ("JSON", "WARN")
    assert (api["DeadLetterConfig"]["TargetArn"], api["KMSKeyArn"]) == (net["queue"], KEY)
    assert api["Role"].endswith(":role/settings-api-exec")
    assert lam.get_function_concurrency(FunctionName="settings-api")["ReservedConcurrentExecutions"] == 5
    provisioned = lam.get_provisioned_concurrency_config(FunctionName="settings-api", Qualifier="dev")
    assert (provisioned["AllocatedProvisionedConcurrentExecutions"], provisioned["Status"]) == (2, "READY")
    invoke = lam.get_function_event_invoke_config(FunctionName="settings-api", Qualifier="dev")
    assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (0, 600)
    assert lam.get_runtime_management_config(FunctionName="settings-api")["UpdateRuntimeOn"] == "FunctionUpdate"
    logs = sandbox_server.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/settings-api")["logGroups"]
    assert group["retentionInDays"] == 7
    plain = lam.get_function_configuration(FunctionName="settings-plain", Qualifier="dev")
    assert plain["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    # The project's role got VPC access for `plain`, as the function's own role did for `api`.
    iam = sandbox_server.client("iam")
    for role in ("settings-lambda-exec", "settings-api-exec"):
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
        assert "AWSLambdaVPCAccessExecutionRole" in attached, (role, attached)

    again = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert again.code == 0, again.stderr
    assert [(fn["published"], fn["uploaded"], fn["steps"]) for fn in json.loads(again.stdout)["functions"]] == [
        (False, False, [])] * 2

    write(tmp_path, net, retention=30, provisioned=3, reserved=6)
    plan = run_cli(["--sandbox", "plan", "--alias", "dev"], tmp_path, sandbox_server)
    assert plan.code == 0, plan.stderr
    for expected in ("log retention /aws/lambda/settings-api: 7 days -> 30 days", "reserved concurrency: 5 -> 6",
                     "provisioned concurrency dev: 2 -> 3"):
        assert expected in plan.stdout, plan.stdout
    changed = run_cli(["--sandbox", "--json", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert changed.code == 0, changed.stderr
    assert [fn["published"] for fn in json.loads(changed.stdout)["functions"]] == [False, False]
    assert lam.get_function_concurrency(FunctionName="settings-api")["ReservedConcurrentExecutions"] == 6
    assert lam.get_provisioned_concurrency_config(FunctionName="settings-api", Qualifier="dev")[
        "RequestedProvisionedConcurrentExecutions"] == 3
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/settings-api")["logGroups"]
    assert group["retentionInDays"] == 30
