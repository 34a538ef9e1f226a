"""The exported template's S3 notifications custom resource, run against moto's S3.

The handler's code is inline in the template (Code.ZipFile); here it is executed as the
Lambda runtime would, with CloudFormation's Create/Update/Delete events.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdadeploy.export.s3_notifications import HANDLER_CODE

BUCKET = "uploads"
ALIAS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-resize:dev"
OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:someone-else"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="audit")["TopicArn"]
        client.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
            "TopicConfigurations": [{"Id": "audit", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
            "LambdaFunctionConfigurations": [
                {"Id": "theirs", "LambdaFunctionArn": OTHER_ARN, "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "other/"}]}}},
            ],
        })
        yield client


@pytest.fixture
def handler() -> tuple[Any, list[dict[str, Any]]]:
    """The inline handler, with its response to CloudFormation captured instead of sent."""
    namespace: dict[str, Any] = {}
    exec(compile(HANDLER_CODE, "index.py", "exec"), namespace)
    sent: list[dict[str, Any]] = []
    namespace["respond"] = lambda event, context, status, reason, physical: sent.append(
        {"Status": status, "Reason": reason, "PhysicalResourceId": physical})
    return namespace["handler"], sent


def config(notification_id: str, prefix: str) -> dict[str, Any]:
    return {"Id": notification_id, "LambdaFunctionArn": ALIAS_ARN, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}


def event(request: str, configurations: list[dict[str, Any]], old: list[dict[str, Any]] | None = None,
          bucket: str = BUCKET) -> dict[str, Any]:
    result: dict[str, Any] = {
        "RequestType": request, "ResponseURL": "https://cloudformation-response.invalid/x", "StackId": "stack",
        "RequestId": "r1", "LogicalResourceId": "UploadsBucketNotifications",
        "ResourceProperties": {"ServiceToken": "arn", "Bucket": bucket, "Configurations": configurations},
    }
    if old is not None:
        result["OldResourceProperties"] = {"ServiceToken": "arn", "Bucket": bucket, "Configurations": old}
    return result


def lambda_ids(s3: Any) -> dict[str, str]:
    current = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    return {c["Id"]: c["Filter"]["Key"]["FilterRules"][0]["Value"] for c in current.get("LambdaFunctionConfigurations", [])}


def topic_ids(s3: Any) -> list[str]:
    return [c["Id"] for c in s3.get_bucket_notification_configuration(Bucket=BUCKET).get("TopicConfigurations", [])]


def test_create_update_delete_touch_only_our_notifications(s3: Any, handler: tuple[Any, list[dict[str, Any]]]) -> None:
    run, sent = handler
    # The CLI wired this alias before, with the same Id: taken over, not doubled.
    existing = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "TopicConfigurations": existing["TopicConfigurations"],
        "LambdaFunctionConfigurations": [*existing["LambdaFunctionConfigurations"],
                                         config("lambdadeploy-shop-resize-dev-aaaa0000", "in/")],
    })

    run(event("Create", [config("lambdadeploy-shop-resize-dev-aaaa0000", "in/")]), None)
    assert sent[-1] == {"Status": "SUCCESS", "Reason": "", "PhysicalResourceId": BUCKET}
    assert lambda_ids(s3) == {"theirs": "other/", "lambdadeploy-shop-resize-dev-aaaa0000": "in/"}

    run(event("Update", [config("lambdadeploy-shop-resize-dev-bbbb1111", "images/")],
              old=[config("lambdadeploy-shop-resize-dev-aaaa0000", "in/")]), None)
    assert sent[-1]["Status"] == "SUCCESS"
    assert lambda_ids(s3) == {"theirs": "other/", "lambdadeploy-shop-resize-dev-bbbb1111": "images/"}

    run(event("Delete", [config("lambdadeploy-shop-resize-dev-bbbb1111", "images/")]), None)
    assert sent[-1]["Status"] == "SUCCESS"
    assert lambda_ids(s3) == {"theirs": "other/"}
    assert topic_ids(s3) == ["audit"]


def test_failures_are_reported_and_a_deleted_bucket_is_not_one(s3: Any, handler: tuple[Any, list[dict[str, Any]]]) -> None:
    run, sent = handler
    run(event("Create", [config("lambdadeploy-x", "in/")], bucket="no-such-bucket"), None)
    assert sent[-1]["Status"] == "FAILED" and "NoSuchBucket" in sent[-1]["Reason"]
    run(event("Delete", [config("lambdadeploy-x", "in/")], bucket="no-such-bucket"), None)
    assert sent[-1]["Status"] == "SUCCESS"  # the stack can always be deleted


def test_response_goes_to_cloudformation(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(HANDLER_CODE, "index.py", "exec"), namespace)
    requests: list[urllib.request.Request] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: requests.append(request))
    namespace["respond"](event("Create", []), None, "FAILED", "boom", BUCKET)
    [request] = requests
    assert request.get_method() == "PUT" and request.full_url == "https://cloudformation-response.invalid/x"
    assert json.loads(request.data) == {"Status": "FAILED", "Reason": "boom", "PhysicalResourceId": BUCKET,
                                        "StackId": "stack", "RequestId": "r1",
                                        "LogicalResourceId": "UploadsBucketNotifications"}
