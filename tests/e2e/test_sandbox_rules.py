"""The sandbox rejects what AWS rejects (issue #14), each with AWS's error code and text.

Every case sends the offending request with a plain boto3 client to a `lambdadeploy sandbox`
subprocess and gets AWS's error; the same request sent to moto alone (mock_aws in-process,
without the sandbox's front door) is accepted, which is what the sandbox adds. This module's
sandbox runs with `--aws-timing off` so that roles are usable at once; the timing rules have
their own module.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdadeploy.local.sandbox import probe

from .conftest import Sandbox, start_sandbox_server, stop_sandbox_server

Clients = Callable[[str], Any]  # service name -> boto3 client
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    process, server = start_sandbox_server(tmp_path_factory.mktemp("rules"), "--aws-timing", "off")
    assert (probe(server.url) or {}).get("timing") == "off"
    yield server
    stop_sandbox_server(process)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def make_function(aws: Clients, timeout: int = 30, role: str | None = None) -> str:
    role = role or aws("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    name = unique("fn")
    aws("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                  Code={"ZipFile": code_zip()}, Timeout=timeout)
    return name


def make_queue(aws: Clients, fifo: bool = False, visibility: int = 60) -> str:
    attributes = {"VisibilityTimeout": str(visibility), **({"FifoQueue": "true"} if fifo else {})}
    url = aws("sqs").create_queue(QueueName=unique("q") + (".fifo" if fifo else ""), Attributes=attributes)["QueueUrl"]
    return aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def refused_by_the_sandbox_only(sandbox: Sandbox, request: Callable[[Clients], Any]) -> dict[str, Any]:
    """Run `request` against moto alone (it must succeed), then against the sandbox (it must fail);
    returns the sandbox's error (Code, Message) and HTTP status."""
    with mock_aws():
        moto_alone = {}

        def lenient(service: str) -> Any:
            if service not in moto_alone:
                moto_alone[service] = boto3.client(service, region_name="us-east-1", aws_access_key_id="any",
                                                   aws_secret_access_key="any")
            return moto_alone[service]

        request(lenient)  # accepted: moto alone does not know this rule
    with pytest.raises(ClientError) as refused:
        request(sandbox.client)
    return {**refused.value.response["Error"], "status": refused.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def validation(value: str, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"


# --- 1. the service models' limits, per protocol ------------------------------------------------


def test_lambda_alias_description_over_256_characters(strict: Sandbox) -> None:
    description = "d" * 257

    def request(aws: Clients) -> None:
        name = make_function(aws)
        aws("lambda").publish_version(FunctionName=name)
        aws("lambda").create_alias(FunctionName=name, Name="dev", FunctionVersion="1", Description=description)

    error = refused_by_the_sandbox_only(strict, request)
    assert (error["Code"], error["status"]) == ("ValidationException", 400)
    assert error["Message"] == validation(description, "description",
                                          "Member must have length less than or equal to 256")


def test_lambda_query_string_member_out_of_range(strict: Sandbox) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").list_functions(MaxItems=10001))
    assert error["Code"] == "ValidationException"
    assert error["Message"] == validation("10001", "maxItems", "Member must have value less than or equal to 10000")


def test_lambda_enum_and_bare_function_name(strict: Sandbox) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").update_function_configuration(
        FunctionName=make_function(aws), Runtime="python2.9"))
    assert error["Code"] == "ValidationException"
    assert "Value 'python2.9' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [" \
        in error["Message"] and "python3.12" in error["Message"]

    name = "f" * 65  # the model allows 140 characters for an ARN; a bare name has 64
    error = refused_by_the_sandbox_only(strict, lambda aws: make_function(aws) and aws("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Code={"ZipFile": code_zip()},
        Role=aws("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]))
    assert error["Message"] == validation(name, "functionName", "Member must have length less than or equal to 64")


def test_lambda_tag_values_must_match_the_models_pattern(strict: Sandbox) -> None:
    def request(aws: Clients) -> None:
        arn = aws("lambda").get_function(FunctionName=make_function(aws))["Configuration"]["FunctionArn"]
        aws("lambda").tag_resource(Resource=arn, Tags={"team": "a&b"})

    error = refused_by_the_sandbox_only(strict, request)
    assert error["Code"] == "ValidationException"
    assert error["Message"] == validation(
        "{team=a&b}", "tags", "Map value must satisfy constraint: [Member must have length less than or equal to "
        "256, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: "
        r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)]")


def test_eventbridge_rule_name_over_64_characters(strict: Sandbox) -> None:
    name = "r" * 65
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("events").put_rule(
        Name=name, ScheduleExpression="rate(5 minutes)"))
    assert error["Code"] == "ValidationException"
    assert error["Message"] == validation(name, "name", "Member must have length less than or equal to 64")


def test_cloudwatch_logs_group_name_pattern(strict: Sandbox) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("logs").create_log_group(logGroupName="bad name!"))
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == validation("bad name!", "logGroupName",
                                          r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+")


def test_iam_role_name_over_64_characters_query_protocol(strict: Sandbox) -> None:
    name = "n" * 65
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=TRUST))
    assert (error["Code"], error["status"]) == ("ValidationError", 400)
    assert error["Message"] == validation(name, "roleName", "Member must have length less than or equal to 64")


def test_sts_session_name_pattern(strict: Sandbox) -> None:
    def request(aws: Clients) -> None:
        role = aws("iam").create_role(RoleName=unique("assumed"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        aws("sts").assume_role(RoleArn=role, RoleSessionName="a b")

    error = refused_by_the_sandbox_only(strict, request)
    assert error["Code"] == "ValidationError"
    assert error["Message"] == validation("a b", "roleSessionName",
                                          r"Member must satisfy regular expression pattern: [\w+=,.@-]*")


def test_sns_tag_key_in_a_list_of_structures(strict: Sandbox) -> None:
    key = "k" * 129
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("sns").create_topic(
        Name=unique("topic"), Tags=[{"Key": key, "Value": "v"}]))
    assert error["Code"] == "ValidationError"
    assert error["Message"] == validation(key, "tags.1.member.key", "Member must have length less than or equal to 128")


def test_cloudwatch_alarm_name_json_protocol(strict: Sandbox) -> None:
    name = "a" * 256
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("cloudwatch").put_metric_alarm(
        AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold"))
    assert error["Code"] == "ValidationError"
    assert error["Message"] == validation(name, "alarmName", "Member must have length less than or equal to 255")


# --- 2. AWS's semantic rejections -----------------------------------------------------------


def test_overlapping_s3_notification_rules(strict: Sandbox) -> None:
    def request(aws: Clients) -> None:
        queue, bucket = make_queue(aws), unique("bucket")
        aws("s3").create_bucket(Bucket=bucket)
        rule = {"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}
        aws("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [
                {**rule, "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}},
                {**rule, "Events": ["s3:ObjectCreated:Put"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/raw/"}]}}}]})

    error = refused_by_the_sandbox_only(strict, request)
    assert (error["Code"], error["status"]) == ("InvalidArgument", 400)
    assert error["Message"] == ("Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
                                "if the prefixes are overlapping for the same event type.")


@pytest.mark.parametrize(("fifo", "batch", "window", "visibility", "message"), [
    (False, 11, 0, 60, "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"),
    (True, 5, 5, 60, "Batching window is not supported for FIFO queues"),
    (False, 5, 0, 10, "Queue visibility timeout: 10 seconds is less than Function timeout: 30 seconds"),
], ids=["batch-without-window", "fifo-window", "visibility"])
def test_sqs_event_source_mapping_rules(strict: Sandbox, fifo: bool, batch: int, window: int, visibility: int,
                                        message: str) -> None:
    def request(aws: Clients) -> None:
        queue, function = make_queue(aws, fifo=fifo, visibility=visibility), make_function(aws, timeout=30)
        aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=queue, BatchSize=batch,
                                                  MaximumBatchingWindowInSeconds=window)

    error = refused_by_the_sandbox_only(strict, request)
    assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", message)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "cron(0 12 * * * *)"])
def test_eventbridge_schedule_syntax(strict: Sandbox, expression: str) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("events").put_rule(
        Name=unique("rule"), ScheduleExpression=expression))
    assert (error["Code"], error["Message"]) == ("ValidationException", "Parameter ScheduleExpression is not valid.")


def test_function_tags_over_50_counting_the_existing_ones(strict: Sandbox) -> None:
    def request(aws: Clients) -> None:
        arn = aws("lambda").get_function(FunctionName=make_function(aws))["Configuration"]["FunctionArn"]
        aws("lambda").tag_resource(Resource=arn, Tags={f"old{i}": "v" for i in range(30)})
        aws("lambda").tag_resource(Resource=arn, Tags={f"new{i}": "v" for i in range(21)})

    error = refused_by_the_sandbox_only(strict, request)
    assert error["Code"] == "InvalidParameterValueException"
    assert "51 tags, at most 50" in error["Message"]


def test_function_tags_with_the_reserved_aws_prefix(strict: Sandbox) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").tag_resource(
        Resource=aws("lambda").get_function(FunctionName=make_function(aws))["Configuration"]["FunctionArn"],
        Tags={"aws:owner": "me"}))
    assert error["Code"] == "InvalidParameterValueException" and "aws:owner" in error["Message"]


def test_environment_over_4_kb(strict: Sandbox) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").update_function_configuration(
        FunctionName=make_function(aws), Environment={"Variables": {"BIG": "x" * 4100}}))
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"].startswith(
        "Lambda was unable to configure your environment variables because the environment variables you have "
        'provided exceeded the 4KB limit. String measured: {"BIG":"xxx')


def test_code_upload_over_the_request_cap_is_413(strict: Sandbox) -> None:
    # 52.5 MB of zip is over 69,905,067 bytes once base64-encoded in the JSON request.
    payload = os.urandom(52_500_000)
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").create_function(
        FunctionName=unique("big"), Runtime="python3.12", Handler="app.handler", Code={"ZipFile": payload},
        Role=aws("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]))
    assert (error["Code"], error["status"]) == ("RequestEntityTooLargeException", 413)
    assert error["Message"] == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


def versions(aws: Clients, count: int, *, second_role: bool = False) -> str:
    """A function with `count` published versions (the last one under another role if asked)."""
    name = make_function(aws)
    for number in range(1, count + 1):
        if second_role and number == count:
            other = aws("iam").create_role(RoleName=unique("other"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
            aws("lambda").update_function_configuration(FunctionName=name, Role=other)
        else:
            aws("lambda").update_function_configuration(FunctionName=name, Description=f"v{number}")
        aws("lambda").publish_version(FunctionName=name)
    return name


@pytest.mark.parametrize(("count", "second_role", "version", "weights", "message"), [
    (1, False, "$LATEST", {"1": 0.1}, "$LATEST is not supported for an alias pointing to more than 1 version"),
    (3, False, "3", {"1": 0.1, "2": 0.1}, "Number of items in AdditionalVersionWeights cannot be greater than 1"),
    (2, True, "2", {"1": 0.1}, "Specified versions must be associated with the same execution role"),
], ids=["on-latest", "two-extra-versions", "different-roles"])
def test_weighted_alias_rules(strict: Sandbox, count: int, second_role: bool, version: str,
                              weights: dict[str, float], message: str) -> None:
    error = refused_by_the_sandbox_only(strict, lambda aws: aws("lambda").create_alias(
        FunctionName=versions(aws, count, second_role=second_role), Name="live", FunctionVersion=version,
        RoutingConfig={"AdditionalVersionWeights": weights}))
    assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", message)


def test_what_aws_accepts_passes(strict: Sandbox, tmp_path: Path) -> None:
    """The same kinds of requests within the limits are answered by moto as before."""
    aws = strict.client
    name = versions(aws, 2)
    aws("lambda").create_alias(FunctionName=name, Name="live", FunctionVersion="2", Description="d" * 256,
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    queue = make_queue(aws, visibility=180)
    aws("lambda").create_event_source_mapping(FunctionName=name, EventSourceArn=queue, BatchSize=100,
                                              MaximumBatchingWindowInSeconds=1)
    aws("events").put_rule(Name=unique("ok"), ScheduleExpression="cron(0 12 ? * MON-FRI *)")
    aws("logs").create_log_group(logGroupName=f"/aws/lambda/{name}-extra")
    arn = aws("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    aws("lambda").tag_resource(Resource=arn, Tags={"team": "média ünïcode 1"})
    assert aws("lambda").get_alias(FunctionName=name, Name="live")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"1": 0.1}}


# --- the function's RevisionId (moto keeps none) -------------------------------------------------


def test_a_stale_revision_id_is_refused_with_412(strict: Sandbox) -> None:
    """Every change gives $LATEST a new RevisionId (tagging too, as AWS may), reads report it,
    and a write naming an older one is refused as AWS refuses it."""
    aws = strict.client("lambda")
    name = make_function(strict.client)
    created = aws.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert aws.get_function_configuration(FunctionName=name)["RevisionId"] == created
    updated = aws.update_function_configuration(FunctionName=name, MemorySize=256, RevisionId=created)["RevisionId"]
    assert updated != created and aws.get_function_configuration(FunctionName=name)["RevisionId"] == updated
    aws.tag_resource(Resource=aws.get_function(FunctionName=name)["Configuration"]["FunctionArn"], Tags={"a": "b"})
    for stale in (created, updated):
        with pytest.raises(ClientError) as refused:
            aws.publish_version(FunctionName=name, RevisionId=stale)
        error = refused.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
            "PreconditionFailedException", 412)
        assert error["Error"]["Message"].startswith("The Revision Id provided does not match the latest Revision Id")
    current = aws.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert aws.publish_version(FunctionName=name, RevisionId=current)["Version"] == "1"
    with mock_aws():  # moto alone reports no RevisionId, so a tool never sends one back
        alone = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="a")
        assert "RevisionId" not in alone.get_function(FunctionName=make_function(
            lambda service: boto3.client(service, region_name="us-east-1", aws_access_key_id="a",
                                         aws_secret_access_key="a")))["Configuration"]
