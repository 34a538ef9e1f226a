"""The CI least-privilege policy: IAM document shape and scoping, from the model alone (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambdadeploy.config.model import FunctionConfig, Project
from lambdadeploy.iam.ci_policy import ci_policy
from lambdadeploy.triggers.registry import make_trigger

ACCOUNT = "123456789012"
REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:thumbs"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"


def project(*functions: FunctionConfig) -> Project:
    return Project(config_file=Path("/p/lambda.yaml"), functions=functions, project="shop")


def function(name: str = "resize", **fields: Any) -> FunctionConfig:
    return FunctionConfig(key=name, name=f"shop-{name}", source=Path("/p/functions") / name, handler="app.handler",
                          **fields)


def statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


def resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else value


def assert_valid_iam_document(policy: dict[str, Any]) -> None:
    assert set(policy) == {"Version", "Statement"} and policy["Version"] == "2012-10-17"
    assert isinstance(policy["Statement"], list) and policy["Statement"]
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        assert isinstance(actions, list) and actions
        for action in actions:
            service, _, name = action.partition(":")
            assert service and name and "*" not in action, action
        assert resources(statement) and all(isinstance(r, str) and r for r in resources(statement))
    assert json.loads(json.dumps(policy)) == policy
    assert len(json.dumps(policy, separators=(",", ":"))) < 6144  # a managed policy's size limit


def test_plain_project_is_scoped_to_its_functions_and_default_role() -> None:
    policy = ci_policy(project(function("resize"), function("thumb")), ACCOUNT, REGION)
    assert_valid_iam_document(policy)
    by_sid = statements(policy)
    deploy = by_sid["DeployFunctions"]
    assert resources(deploy) == sorted(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-{n}{suffix}" for n in ("resize", "thumb") for suffix in ("", ":*"))
    assert {"lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:UpdateAlias",
            "lambda:InvokeFunction", "lambda:ListVersionsByFunction"} <= set(deploy["Action"])
    assert "lambda:DeleteFunction" not in deploy["Action"]
    role = f"arn:aws:iam::{ACCOUNT}:role/shop-lambda-exec"
    assert resources(by_sid["PassExecutionRole"]) == [role]
    assert by_sid["PassExecutionRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    assert resources(by_sid["ManageDefaultExecutionRole"]) == [role]
    assert "iam:CreateRole" in by_sid["ManageDefaultExecutionRole"]["Action"]
    # No trigger configured: nothing to grant, subscribe or notify; cleanup and reads remain.
    for absent in ("GrantTriggerInvoke", "SubscribeToTopics", "WireBucketNotifications", "ConfigureFunctionUrls",
                   "UploadLargePackages"):
        assert absent not in by_sid
    assert by_sid["ChangeEventSourceMappings"]["Action"] == ["lambda:DeleteEventSourceMapping"]
    assert resources(by_sid["ManageScheduleRules"]) == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lambdadeploy-shop-{n}-*" for n in ("resize", "thumb")]


def test_named_roles_are_passed_but_never_managed() -> None:
    other = "arn:aws:iam::210987654321:role/shared"
    policy = ci_policy(project(function("a", role="deployer"), function("b", role=other)), ACCOUNT, REGION)
    assert_valid_iam_document(policy)
    by_sid = statements(policy)
    assert resources(by_sid["PassExecutionRole"]) == sorted([other, f"arn:aws:iam::{ACCOUNT}:role/deployer"])
    assert "ManageDefaultExecutionRole" not in by_sid
    assert not any(a.startswith("iam:") and a != "iam:PassRole" for s in policy["Statement"] for a in s["Action"])


def test_triggers_add_only_what_they_need() -> None:
    triggers = (
        make_trigger("s3", {"bucket": "uploads"}),
        make_trigger("sns", {"topic": TOPIC}),
        make_trigger("sqs", {"queue": QUEUE}, alias="prod"),
        make_trigger("schedule", {"expression": "rate(1 hour)"}),
        make_trigger("url", {"auth": "NONE"}),
    )
    policy = ci_policy(project(function("resize", triggers=triggers, s3_bucket="artifacts")), ACCOUNT, REGION)
    assert_valid_iam_document(policy)
    by_sid = statements(policy)
    assert resources(by_sid["UploadLargePackages"]) == ["arn:aws:s3:::artifacts/lambdadeploy/*"]
    assert by_sid["WireBucketNotifications"]["Action"] == [
        "s3:GetBucketLocation", "s3:GetBucketNotification", "s3:PutBucketNotification"]
    assert resources(by_sid["WireBucketNotifications"]) == ["arn:aws:s3:::uploads"]
    assert resources(by_sid["SubscribeToTopics"]) == [TOPIC]
    assert by_sid["GrantTriggerInvoke"]["Condition"] == {"StringEquals": {"lambda:Principal": [
        "*", "events.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com"]}}
    assert set(by_sid["ChangeEventSourceMappings"]["Action"]) == {
        "lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"}
    assert by_sid["ChangeEventSourceMappings"]["Condition"]["ArnLike"]["lambda:FunctionArn"] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-resize", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-resize:*"]
    assert by_sid["ConfigureFunctionUrls"]["Action"] == ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
    # Only the actions IAM cannot scope use Resource "*".
    unscoped = sorted(a for s in policy["Statement"] if s["Resource"] == "*" for a in s["Action"])
    assert unscoped == sorted([
        "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricStatistics",
        "events:ListRules", "lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping",
        "lambda:ListEventSourceMappings", "lambda:UpdateEventSourceMapping", "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes", "sns:Unsubscribe", "sts:GetCallerIdentity"])


def test_partition_follows_the_region() -> None:
    policy = ci_policy(project(function("resize")), ACCOUNT, "cn-north-1")
    assert_valid_iam_document(policy)
    arns = [r for s in policy["Statement"] for r in resources(s) if r != "*"]
    assert arns and all(r.startswith("arn:aws-cn:") for r in arns)


def test_project_layers_get_the_four_layer_actions_on_themselves_only() -> None:
    from lambdadeploy.config.model import LayerConfig

    deps = LayerConfig(key="deps", name="shop-deps", runtimes=("python3.12",), architectures=("x86_64",),
                       source=Path("/p/layers/deps"))
    theirs = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:theirs:2"
    p = Project(config_file=Path("/p/lambda.yaml"), project="shop", layers=(deps,),
                functions=(function(layers=("deps", theirs)),))
    found = statements(ci_policy(p, ACCOUNT, REGION))
    assert found["ManageProjectLayers"]["Action"] == [
        "lambda:DeleteLayerVersion", "lambda:GetLayerVersion", "lambda:ListLayerVersions", "lambda:PublishLayerVersion"]
    assert resources(found["ManageProjectLayers"]) == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:shop-deps", f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:shop-deps:*"]
    assert resources(found["UseLayers"]) == [theirs]  # a layer name is not an ARN
    assert "ManageProjectLayers" not in statements(ci_policy(project(function()), ACCOUNT, REGION))
