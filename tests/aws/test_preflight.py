"""Pre-flight: what AWS would refuse, found by reading its state before the first write.
`plan` lists the findings; `push` stops on an error finding with nothing changed."""

from __future__ import annotations

from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.steps import WireTrigger

from .conftest import write_project


def queue(session: AwsSession, name: str, visibility: int = 30, region: str | None = None) -> str:
    sqs = session.client("sqs", region)
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility)})["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def push(session: AwsSession, tmp_path: Path, extra: str):
    project = write_project(tmp_path, "return 1", extra)
    return Deployer(session, project, lambda event: None).push(project.functions, "dev")


def nothing_written(session: AwsSession) -> bool:
    return not read_function(session, "t-worker").exists and session.client("iam").list_roles()["Roles"] == []


def test_a_notification_overlapping_someone_elses_stops_the_push(session: AwsSession, tmp_path: Path) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="uploads")
    other = queue(session, "audit")
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "audit", "QueueArn": other, "Events": ["s3:ObjectCreated:Put"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]})
    pushed = push(session, tmp_path, "triggers: [{s3: {bucket: uploads, prefix: in/images/, alias: dev}}]")
    assert pushed.exit_code == 2 and not pushed.ok
    (finding,) = pushed.plan.errors
    assert "bucket uploads: rules audit" in finding.message and "InvalidArgument: Configuration is ambiguously" \
        in finding.message
    assert nothing_written(session)
    # Not overlapping (another prefix): fine.
    assert push(session, tmp_path, "triggers: [{s3: {bucket: uploads, prefix: out/, alias: dev}}]").ok


def test_two_functions_of_one_push_cannot_overlap_on_a_bucket(session: AwsSession, tmp_path: Path) -> None:
    session.client("s3").create_bucket(Bucket="uploads")
    project = write_project(tmp_path, "return 1", "triggers: [{s3: {bucket: uploads, suffix: .jpg, alias: dev}}]",
                            functions=("a", "b"))
    pushed = Deployer(session, project, lambda event: None).push(project.functions, "dev")
    assert pushed.exit_code == 2 and "would match the same objects" in pushed.plan.errors[0].message
    assert not read_function(session, "t-a").exists


def test_a_bucket_in_another_region_stops_the_push(session: AwsSession, tmp_path: Path) -> None:
    session.client("s3").create_bucket(Bucket="faraway", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})
    pushed = push(session, tmp_path, "triggers: [{s3: {bucket: faraway, alias: dev}}]")
    (finding,) = pushed.plan.errors
    assert finding.message.startswith("bucket faraway is in eu-west-1; S3 notifies only functions in its own region")
    assert nothing_written(session)


def test_queue_visibility_below_the_timeout_is_refused_and_below_six_times_warned(
        session: AwsSession, tmp_path: Path) -> None:
    short = queue(session, "short", visibility=30)
    pushed = push(session, tmp_path, f"timeout: 60\ntriggers: [{{sqs: {{queue: '{short}', alias: dev}}}}]")
    (finding,) = pushed.plan.errors
    assert finding.message == (f"queue {short}: InvalidParameterValueException: Queue visibility timeout: 30 seconds "
                               "is less than Function timeout: 60 seconds")
    assert finding.hint == "raise the queue's VisibilityTimeout to 360 s, or lower `timeout:`"
    assert nothing_written(session)
    medium = queue(session, "medium", visibility=120)
    pushed = push(session, tmp_path, f"timeout: 60\ntriggers: [{{sqs: {{queue: '{medium}', alias: dev}}}}]")
    assert pushed.ok and [f.level for f in pushed.plan.findings] == ["warning"]
    assert "below the 360 s AWS advises" in pushed.plan.findings[0].message


def test_a_queue_in_another_region_or_missing_stops_the_push(session: AwsSession, tmp_path: Path) -> None:
    faraway = queue(session, "faraway", region="eu-west-1")
    pushed = push(session, tmp_path, f"triggers: [{{sqs: {{queue: '{faraway}', alias: dev}}}}]")
    assert [f.message for f in pushed.plan.errors] == [
        f"queue {faraway} is in eu-west-1; Lambda reads queues only in the function's own region (us-east-1)"]
    missing = "arn:aws:sqs:us-east-1:123456789012:nope"
    pushed = push(session, tmp_path, f"triggers: [{{sqs: {{queue: '{missing}', alias: dev}}}}]")
    assert [f.message for f in pushed.plan.errors] == [f"queue {missing} does not exist"]
    assert nothing_written(session)


def test_plan_lists_the_findings(session: AwsSession, tmp_path: Path) -> None:
    short = queue(session, "short", visibility=5)
    project = write_project(tmp_path, "return 1", f"triggers: [{{sqs: {{queue: '{short}', alias: dev}}}}]")
    planned = Deployer(session, project, lambda event: None).plan(project.functions, "dev")
    assert not planned.ok and planned.functions[0].ok
    assert "Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds" in planned.errors[0].message


def test_a_topic_in_another_region_is_subscribed_in_its_own_region(session: AwsSession, tmp_path: Path) -> None:
    """SNS delivers to a function in another region (a bucket cannot): the subscription and
    its check are made with a client in the topic's region, and a re-run finds it there."""
    topic = session.client("sns", "eu-west-1").create_topic(Name="faraway")["TopicArn"]
    extra = f"triggers: [{{sns: {{topic: '{topic}', alias: dev}}}}]"
    first = push(session, tmp_path, extra)
    assert first.ok, first
    (subscription,) = session.client("sns", "eu-west-1").list_subscriptions_by_topic(
        TopicArn=topic)["Subscriptions"]
    assert subscription["Protocol"] == "lambda" and subscription["Endpoint"].endswith(":function:t-worker:dev")
    assert session.client("sns").list_subscriptions()["Subscriptions"] == []  # nothing in the function's region
    again = push(session, tmp_path, extra)
    assert again.ok and not [r for report in again for r in report.done if isinstance(r.step, WireTrigger)]
    assert len(session.client("sns", "eu-west-1").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
