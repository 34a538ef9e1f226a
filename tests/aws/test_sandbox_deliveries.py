"""The sandbox delivers events like AWS: to the version the alias points to *at delivery time*,
and changes of architecture apply. Pushes go through Deployer against moto with the seam."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.config.model import Project
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.local import deliveries, seam
from lambdadeploy.local.seam import install_invoke_seam

from .conftest import write_project

# Appends "<tag> <event source> <invoked ARN>" per record, to the file named by $OUT.
RECORDER = """
import json, os
src = (event.get("Records") or [{}])[0]
source = src.get("eventSource") or src.get("EventSource") or "?"
with open(os.environ["OUT"], "a") as out:
    out.write(json.dumps([TAG, source, context.invoked_function_arn]) + "\\n")
return {"ok": True}
"""


class Sources:
    def __init__(self, session: AwsSession) -> None:
        sqs = session.client("sqs")
        self.queue_url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        self.queue = sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                              AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        table = session.client("dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.table_stream = table["TableDescription"]["LatestStreamArn"]
        kinesis = session.client("kinesis")
        kinesis.create_stream(StreamName="clicks", ShardCount=1)
        self.stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
        self.topic = session.client("sns").create_topic(Name="thumbs")["TopicArn"]
        session.client("s3").create_bucket(Bucket="uploads")

    def triggers(self, kinds: tuple[str, ...]) -> str:
        lines = {
            "sqs": f'- sqs: {{queue: "{self.queue}", alias: dev}}',
            "dynamodb": f'- dynamodb: {{stream: "{self.table_stream}", starting_position: LATEST, alias: dev}}',
            "kinesis": f'- kinesis: {{stream: "{self.stream}", starting_position: LATEST, alias: dev}}',
            "sns": f'- sns: {{topic: "{self.topic}", alias: dev}}',
            "s3": "- s3: {bucket: uploads, alias: dev}",
        }
        return "triggers:\n" + "".join(f"  {lines[k]}\n" for k in kinds)

    def fire(self, session: AwsSession) -> None:
        session.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody="job")
        session.client("dynamodb").put_item(TableName="orders", Item={"id": {"S": "1"}})
        session.client("kinesis").put_record(StreamName="clicks", Data=b"click", PartitionKey="k")
        session.client("sns").publish(TopicArn=self.topic, Message="thumb")
        session.client("s3").put_object(Bucket="uploads", Key="in/a.jpg", Body=b"jpg")


ALL = ("sqs", "dynamodb", "kinesis", "sns", "s3")


def project(root: Path, tag: str, out: Path, extra: str = "") -> Project:
    body = RECORDER.replace("TAG", repr(tag))
    return write_project(root, body, f"environment: {{OUT: '{out}'}}\n" + extra)


def push(session: AwsSession, proj: Project) -> None:
    (report,) = Deployer(session, proj, lambda event: None).push(proj.functions, "dev")
    assert report.ok, report.error


def recorded(out: Path) -> list[list[str]]:
    lines = out.read_text().splitlines() if out.exists() else []
    out.unlink(missing_ok=True)
    return [json.loads(line) for line in lines]


def test_moto_still_has_the_delivery_methods_we_patch() -> None:
    """Fails loudly when a moto release moves what deliveries.py and the seam replace."""
    install_invoke_seam()
    expected = {
        "LambdaBackend.create_event_source_mapping": ["self", "spec"],
        "LambdaBackend.update_event_source_mapping": ["self", "uuid", "spec"],
        "LambdaBackend.delete_event_source_mapping": ["self", "uuid"],
        "LambdaBackend.send_dynamodb_items": ["self", "function_arn", "items", "source"],
        "LambdaBackend.send_kinesis_message": [
            "self", "function_name", "kinesis_stream", "kinesis_partition_key", "kinesis_sequence_number",
            "kinesis_data", "kinesis_shard_id"],
        "LambdaBackend.send_sns_message": ["self", "function_name", "message", "subject", "qualifier"],
        "LambdaBackend.send_sqs_batch": ["self", "function_arn", "messages", "queue_arn"],
        "moto.s3.notifications._invoke_awslambda": ["account_id", "event_body", "fn_arn", "region_name"],
    }  # fmt: skip
    assert set(deliveries.ORIGINALS) == set(expected)
    for name, parameters in expected.items():
        original = deliveries.ORIGINALS[name]
        assert original.__module__.startswith("moto."), name
        assert list(inspect.signature(original).parameters) == parameters, name
    update_code = seam._ORIGINALS["LambdaFunction.update_function_code"]
    assert list(inspect.signature(update_code).parameters) == ["self", "updated_spec"]


def test_every_trigger_runs_the_version_the_alias_points_to_when_the_event_arrives(
    session: AwsSession, tmp_path: Path
) -> None:
    sources = Sources(session)
    out = tmp_path / "out.jsonl"
    push(session, project(tmp_path, "v1", out, sources.triggers(ALL)))
    push(session, project(tmp_path, "v2", out, sources.triggers(ALL)))
    recorded(out)  # the smoke invokes

    sources.fire(session)

    runs = recorded(out)
    assert sorted(source for _, source, _ in runs) == ["aws:dynamodb", "aws:kinesis", "aws:s3", "aws:sns", "aws:sqs"]
    assert {tag for tag, _, _ in runs} == {"v2"}, runs
    alias_arn = session.client("lambda").get_alias(FunctionName="t-worker", Name="dev")["AliasArn"]
    assert {arn for _, _, arn in runs} == {alias_arn}


def test_event_source_mappings_record_the_alias_arn_as_aws_does(session: AwsSession, tmp_path: Path) -> None:
    sources = Sources(session)
    push(session, project(tmp_path, "v1", tmp_path / "out", sources.triggers(("sqs", "dynamodb", "kinesis"))))

    mappings = session.client("lambda").list_event_source_mappings()["EventSourceMappings"]

    alias_arn = session.client("lambda").get_alias(FunctionName="t-worker", Name="dev")["AliasArn"]
    assert [m["FunctionArn"] for m in mappings] == [alias_arn] * 3


def test_a_removed_trigger_no_longer_delivers(session: AwsSession, tmp_path: Path) -> None:
    sources = Sources(session)
    out = tmp_path / "out.jsonl"
    push(session, project(tmp_path, "v1", out, sources.triggers(("sqs", "dynamodb", "kinesis"))))
    push(session, project(tmp_path, "v1", out))  # the triggers left lambda.yaml
    recorded(out)

    sources.fire(session)

    assert recorded(out) == []
    assert session.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []


def test_after_switching_architecture_a_push_is_a_no_op_and_plan_shows_nothing(
    session: AwsSession, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    push(session, project(tmp_path, "v1", out))
    switched = project(tmp_path, "v1", out, "architecture: arm64")
    deployer = Deployer(session, switched, lambda event: None)
    (moved,) = deployer.push(switched.functions, "dev")
    assert moved.ok and moved.published and moved.version == "2"

    config = session.client("lambda").get_function_configuration(FunctionName="t-worker", Qualifier="2")
    assert config["Architectures"] == ["arm64"]
    planned = deployer.plan(switched.functions, "dev")
    assert not planned.has_changes, planned
    (again,) = deployer.push(switched.functions, "dev")
    assert again.ok and not again.published and again.version == "2"
