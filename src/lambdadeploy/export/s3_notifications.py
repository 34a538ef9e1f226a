"""S3 triggers in the exported template: a permission per function and bucket, and a custom
resource that merges the alias's notifications into the bucket's existing configuration.

SAM's S3 event only works for a bucket created in the same template, and CloudFormation
has no resource for the notifications of a bucket it does not own; lambda.yaml names
existing buckets. So, as the CLI does (triggers/s3.py), a small function reads the
bucket's notification configuration, replaces only the Lambda configurations it owns
(the same Ids the CLI uses, `lambdadeploy-FUNCTION-ALIAS-HASH`, so a bucket the CLI
wired before is taken over, not duplicated) and writes the rest back untouched. On
stack deletion it removes exactly those. Its code is inline (ZipFile, at most 4096
characters), so the template stays self-contained.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ..config.model import Project
from ..iam.execution_role import TRUST_POLICY, basic_execution_policy
from ..triggers.base import Target
from ..triggers.s3 import notification_config
from .cfn import bucket_arn, logical_name, partition_arn, unique

HANDLER_ID = "LambdadeployS3NotificationsHandler"
HANDLER_ROLE_ID = "LambdadeployS3NotificationsRole"
RESOURCE_TYPE = "Custom::LambdadeployS3Notifications"
HANDLER_RUNTIME = "python3.13"

HANDLER_CODE = '''\
"""CloudFormation custom resource: put lambdadeploy's Lambda notifications on an existing bucket."""
import json
import urllib.request

import boto3

SECTIONS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations",
            "EventBridgeConfiguration")


def handler(event, context):
    props = event["ResourceProperties"]
    bucket = props["Bucket"]
    status, reason = "SUCCESS", ""
    try:
        mine = props.get("Configurations") or []
        old = (event.get("OldResourceProperties") or {}).get("Configurations") or []
        drop = {c["Id"] for c in mine + old}
        add = [] if event["RequestType"] == "Delete" else mine
        apply(bucket, drop, add, event["RequestType"] == "Delete")
    except Exception as error:
        print("failed:", repr(error))
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    respond(event, context, status, reason, bucket)


def apply(bucket, drop, add, deleting):
    s3 = boto3.client("s3")
    try:
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if deleting and code == "NoSuchBucket":
            return
        raise
    config = {key: current[key] for key in SECTIONS if key in current}
    kept = [c for c in config.get("LambdaFunctionConfigurations", []) if c.get("Id") not in drop]
    config["LambdaFunctionConfigurations"] = kept + add
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)


def respond(event, context, status, reason, physical_id):
    body = json.dumps({
        "Status": status,
        "Reason": reason[:2000] or "ok",
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    urllib.request.urlopen(request, timeout=30)
'''


def resources(project: Project, alias: str, ids: Mapping[str, str]) -> dict[str, Any]:
    """The resources S3 triggers need; {} when the project (for this alias) has none.

    `project` has only the alias's triggers (sam.for_alias); `ids` maps function key -> logical id.
    Per bucket: one permission per function (bucket -> alias) and one notifications resource."""
    configs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    invoked: dict[str, list[str]] = defaultdict(list)  # bucket -> logical ids of the functions it invokes
    for fn in project.functions:
        target = Target(fn.name, alias, arn="", exists=False)
        for trigger in (t for t in fn.triggers if t.kind == "s3"):
            bucket = trigger.settings.bucket
            config = notification_config(target, trigger)
            config["LambdaFunctionArn"] = {"Ref": f"{ids[fn.key]}.Alias"}
            configs[bucket].append(config)
            if ids[fn.key] not in invoked[bucket]:
                invoked[bucket].append(ids[fn.key])
    if not configs:
        return {}
    result: dict[str, Any] = {HANDLER_ROLE_ID: handler_role(sorted(configs)), HANDLER_ID: handler_function()}
    taken = set(ids.values()) | set(result)
    for bucket in sorted(configs):
        name = logical_name(bucket)
        permission_ids = []
        for function_id in invoked[bucket]:
            permission_id = unique(f"{function_id}{name}BucketPermission", taken)
            permission_ids.append(permission_id)
            result[permission_id] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": f"{function_id}.Alias"},
                    "Principal": "s3.amazonaws.com",
                    "SourceArn": bucket_arn(bucket),
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            }
        result[unique(f"{name}BucketNotifications", taken)] = {
            "Type": RESOURCE_TYPE,
            # S3 checks that the bucket may invoke the alias when the notification is written.
            "DependsOn": permission_ids,
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": [HANDLER_ID, "Arn"]},
                "Bucket": bucket,
                "Configurations": sorted(configs[bucket], key=lambda c: c["Id"]),
            },
        }
    return result


def handler_role(buckets: list[str]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": TRUST_POLICY,
            "ManagedPolicyArns": [partition_arn(basic_execution_policy())],
            "Policies": [{
                "PolicyName": "bucket-notifications",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": ["s3:GetBucketNotification", "s3:PutBucketNotification"],
                        "Resource": [bucket_arn(b) for b in buckets],
                    }],
                },
            }],
        },
    }


def handler_function() -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Description": "lambdadeploy: S3 bucket notifications of the stack's functions",
            "Runtime": HANDLER_RUNTIME,
            "Handler": "index.handler",
            "Timeout": 60,
            "Role": {"Fn::GetAtt": [HANDLER_ROLE_ID, "Arn"]},
            "Code": {"ZipFile": HANDLER_CODE},
        },
    }
