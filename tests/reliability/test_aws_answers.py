"""Answers real AWS gives and moto never does, produced by the fault proxy in front of a
`lambdadeploy sandbox` server, each met by a real `push` from the CLI: an update still in
progress, a function still Pending or Failed, a RevisionId precondition failing, a role
not yet assumable, an event source mapping still in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..e2e.conftest import Sandbox
from .conftest import alias_state, cli, published, pushed, session_for
from .faults import FaultProxy, Rule

CONFIG = """project: {name}
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    memory: {memory}
    test: {{payload: {{}}, expect: {{code: {code}}}}}
{triggers}"""


def write(root: Path, name: str, code: str, *, memory: int = 128, triggers: str = "") -> str:
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(f"def handler(event, context):\n    return {{'code': '{code}'}}\n")
    (root / "lambda.yaml").write_text(CONFIG.format(name=name, memory=memory, code=code, triggers=triggers))
    return f"{name}-fn"


def deployed_v1(root: Path, server: Sandbox, name: str) -> str:
    """Version 1 on dev, pushed straight to the server; then lambda.yaml asks for a v2 with
    other code and memory, so the push under test updates both."""
    function = write(root, name, "v1")
    first = cli(["push", "--alias", "dev"], root, server.url)
    assert first.code == 0, first.stdout + first.stderr
    write(root, name, "v2", memory=256)
    return function


def calls(proxy: FaultProxy, *operations: str) -> list[str]:
    return [operation for operation in proxy.requests if operation in operations]


def rewrite(**fields: Any):
    return lambda answer: {**answer, **fields}


def polls_answer(proxy: FaultProxy, after: str, times: int, **fields: Any) -> None:
    """Once `after` has been answered, the next `times` GetFunction answers (the executor's
    polls: GetFunction, on its own 100/s quota) report the configuration with `fields`."""
    def arm() -> None:
        proxy.rules.append(Rule("GetFunction", "rewrite", times=times, rewrite=lambda answer: {
            **answer, "Configuration": {**answer["Configuration"], **fields}}))
    proxy.rules.append(Rule(after, "after", action=arm))


def tail_from(proxy: FaultProxy, first: str, *operations: str) -> list[str]:
    seen = calls(proxy, first, *operations)
    return seen[seen.index(first):]


def test_push_waits_while_an_update_is_in_progress(tmp_path: Path, sandbox_server: Sandbox,
                                                   server_proxy: FaultProxy) -> None:
    function = deployed_v1(tmp_path, sandbox_server, "ansprog")
    polls_answer(server_proxy, "UpdateFunctionConfiguration", 3, LastUpdateStatus="InProgress",
                 LastUpdateStatusReason="The function is being updated.")
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert server_proxy.seen.count("rewrite:GetFunction") == 3
    # Each update is waited out (three InProgress answers, then Successful) before the next write.
    assert tail_from(server_proxy, "UpdateFunctionConfiguration", "UpdateFunctionCode", "GetFunction",
                     "PublishVersion") == ["UpdateFunctionConfiguration", *["GetFunction"] * 4,
                                           "UpdateFunctionCode", "GetFunction", "PublishVersion"]
    assert alias_state(sandbox_server, function, "dev")["version"] == "2"


def test_create_waits_while_the_function_is_pending(tmp_path: Path, sandbox_server: Sandbox,
                                                    server_proxy: FaultProxy) -> None:
    function = write(tmp_path, "anspend", "v1")
    polls_answer(server_proxy, "CreateFunction", 2, State="Pending", StateReason="The function is being created.",
                 StateReasonCode="Creating")
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert tail_from(server_proxy, "CreateFunction", "GetFunction", "PublishVersion") == [
        "CreateFunction", *["GetFunction"] * 3, "PublishVersion"]
    assert published(sandbox_server, function) == ["1"]
    assert alias_state(sandbox_server, function, "dev")["version"] == "1"


PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


@pytest.mark.parametrize(("operation", "short"), [("UpdateFunctionConfiguration", "cfg"),
                                                  ("UpdateFunctionCode", "code"), ("UpdateAlias", "alias")])
def test_failed_revision_precondition_is_someone_else_deploying(tmp_path: Path, sandbox_server: Sandbox,
                                                                server_proxy: FaultProxy, operation: str,
                                                                short: str) -> None:
    function = deployed_v1(tmp_path, sandbox_server, f"ans412{short}")
    before = alias_state(sandbox_server, function, "dev")
    server_proxy.rules.append(Rule(operation, "error", status=412, code="PreconditionFailedException",
                                   message=PRECONDITION))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    output = result.stdout + result.stderr
    assert result.code == 1, output
    assert "someone else deployed" in output and "re-run" in output and "Traceback" not in output
    assert server_proxy.seen == [f"error:{operation}"]
    assert server_proxy.requests.count(operation) == 1  # never retried over the other deploy's change
    assert alias_state(sandbox_server, function, "dev") == before
    if operation != "UpdateAlias":  # stopped at the refused write: nothing published
        assert "PublishVersion" not in server_proxy.requests and published(sandbox_server, function) == ["1"]


def with_tags(root: Path) -> None:
    config = root / "lambda.yaml"
    config.write_text(config.read_text().replace("    test:", "    tags: {team: search}\n    test:"))


def test_a_tags_and_config_change_never_trips_its_own_revision_precondition(
        tmp_path: Path, sandbox_server: Sandbox, server_proxy: FaultProxy) -> None:
    """#13 item 17: tagging may give the function a new RevisionId (the sandbox's does, see
    local/revisions.py). The push tags first, then
    updates configuration and code under a RevisionId precondition: it must take the revision
    tagging left, not the one it read before."""
    function = deployed_v1(tmp_path, sandbox_server, "ansrevtag")
    with_tags(tmp_path)
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert [answer for answer in server_proxy.answers if answer.endswith(":412")] == []
    assert calls(server_proxy, "TagResource", "UpdateFunctionConfiguration", "UpdateFunctionCode",
                 "PublishVersion") == ["TagResource", "UpdateFunctionConfiguration", "UpdateFunctionCode",
                                       "PublishVersion"]
    assert alias_state(sandbox_server, function, "dev")["version"] == "2"


def test_someone_elses_tagging_mid_push_is_still_caught(tmp_path: Path, sandbox_server: Sandbox,
                                                        server_proxy: FaultProxy) -> None:
    """The other side of the same rule: a write by someone else between our configuration
    update and our code upload makes the upload's precondition fail, and nothing is published."""
    function = deployed_v1(tmp_path, sandbox_server, "ansrevother")
    before = alias_state(sandbox_server, function, "dev")
    lambda_client = sandbox_server.client("lambda")
    arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    other = session_for(server_proxy.url).client("lambda")
    server_proxy.rules.append(Rule("UpdateFunctionCode", "call", action=lambda: other.tag_resource(
        Resource=arn, Tags={"someone": "else"})))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 1, result.stdout + result.stderr
    assert "someone else deployed" in result.stdout + result.stderr
    assert [answer for answer in server_proxy.answers if answer.endswith(":412")] == ["UpdateFunctionCode:412"]
    assert published(sandbox_server, function) == ["1"] and alias_state(sandbox_server, function, "dev") == before


def test_role_not_yet_assumable_on_create_is_retried(tmp_path: Path, sandbox_server: Sandbox,
                                                     server_proxy: FaultProxy) -> None:
    function = write(tmp_path, "ansrole", "v1")
    server_proxy.rules.append(Rule("CreateFunction", "error", code="InvalidParameterValueException",
                                   message="The role defined for the function cannot be assumed by Lambda."))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert server_proxy.seen == ["error:CreateFunction"]
    assert server_proxy.requests.count("CreateFunction") == 2
    assert published(sandbox_server, function) == ["1"]
    assert alias_state(sandbox_server, function, "dev")["version"] == "1"


REASON = "Lambda was unable to configure access to your environment variables because the KMS key is invalid"


@pytest.mark.parametrize("first", [True, False], ids=["create", "update"])
def test_function_in_failed_state_fails_the_push_with_its_reason(tmp_path: Path, sandbox_server: Sandbox,
                                                                 server_proxy: FaultProxy, first: bool) -> None:
    name = f"ansfail{'c' if first else 'u'}"
    if first:
        function = write(tmp_path, name, "v1")
        polls_answer(server_proxy, "CreateFunction", 1, State="Failed", StateReason=REASON,
                     StateReasonCode="KMSKeyNotFound")
    else:
        function = deployed_v1(tmp_path, sandbox_server, name)
        before = alias_state(sandbox_server, function, "dev")
        polls_answer(server_proxy, "UpdateFunctionConfiguration", 1, LastUpdateStatus="Failed",
                     LastUpdateStatusReason=REASON, LastUpdateStatusReasonCode="KMSKeyNotFound")
    result = cli(["--json", "push", "--alias", "dev"], tmp_path, server_proxy.url)
    output = result.stdout + result.stderr
    assert result.code == 1, output
    assert REASON in output and "Failed" in output and "Traceback" not in output
    assert "PublishVersion" not in server_proxy.requests
    # A create that failed afterwards still put the code in Lambda; the update failed before its upload.
    assert pushed(result)["uploaded"] is first
    if first:
        assert published(sandbox_server, function) == []
        assert sandbox_server.client("lambda").list_aliases(FunctionName=function)["Aliases"] == []
    else:
        assert published(sandbox_server, function) == ["1"]
        assert alias_state(sandbox_server, function, "dev") == before


def test_event_source_mapping_in_use_is_retried(tmp_path: Path, sandbox_server: Sandbox,
                                                server_proxy: FaultProxy) -> None:
    queue = sandbox_server.client("sqs").create_queue(QueueName="ans-jobs")["QueueUrl"]
    queue_arn = sandbox_server.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = write(tmp_path, "ansesm", "v1", triggers=f"    triggers:\n      - sqs: {{queue: {queue_arn}, alias: dev}}\n")
    server_proxy.rules.append(Rule("CreateEventSourceMapping", "error", times=2, code="ResourceInUseException",
                                   message="The resource you requested is currently in use. Please try again later."))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert server_proxy.seen == ["error:CreateEventSourceMapping"] * 2
    assert server_proxy.requests.count("CreateEventSourceMapping") == 3
    mappings = sandbox_server.client("lambda").list_event_source_mappings(EventSourceArn=queue_arn)
    (mapping,) = mappings["EventSourceMappings"]
    assert f":function:{function}:" in mapping["FunctionArn"]


def test_a_published_version_still_pending_is_waited_for_before_its_smoke_invoke(
        tmp_path: Path, sandbox_server: Sandbox, server_proxy: FaultProxy) -> None:
    function = deployed_v1(tmp_path, sandbox_server, "anspub")

    def pending_for_a_while(answer: dict[str, Any]) -> dict[str, Any]:
        # From now on the new version reads Pending twice, as AWS reports a version being optimised.
        server_proxy.rules.append(Rule("GetFunction", "rewrite", times=2, rewrite=lambda got: {
            **got, "Configuration": {**got["Configuration"], "State": "Pending", "StateReasonCode": "Creating"}}))
        return {**answer, "State": "Pending"}

    server_proxy.rules.append(Rule("PublishVersion", "rewrite", rewrite=pending_for_a_while))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert tail_from(server_proxy, "PublishVersion", "GetFunction", "Invoke") == [
        "PublishVersion", *["GetFunction"] * 3, "Invoke"]
    assert alias_state(sandbox_server, function, "dev")["version"] == "2"


def test_aws_codesha256_mismatch_on_publish_is_someone_else_deploying(
        tmp_path: Path, sandbox_server: Sandbox, server_proxy: FaultProxy) -> None:
    function = deployed_v1(tmp_path, sandbox_server, "anssha")
    before = alias_state(sandbox_server, function, "dev")
    server_proxy.rules.append(Rule("PublishVersion", "error", code="InvalidParameterValueException", message=(
        "CodeSHA256 (kA1zgYXzNn0rqOvUAM7IZtpLnUyQbjR3sY5DgQmQsSY=) is different from current CodeSHA256 in "
        "$LATEST (r0M1Q0vT0I7FVj9aE9fAkzmTGgtZp1Qb6pC4U1KxD7I=). Please try again.")))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    output = result.stdout + result.stderr
    assert result.code == 1 and "someone else deployed" in output and "re-run" in output, output
    assert alias_state(sandbox_server, function, "dev") == before


@pytest.mark.parametrize(("message", "attempts"), [
    ("The operation cannot be performed at this time. An update is in progress for resource: "
     "arn:aws:lambda:us-east-1:123456789012:function:x:dev", 2),
    ("The statement id (lambdadeploy-url-dev) provided already exists. Please provide a new statement id, "
     "or remove the existing statement.", 1)], ids=["in-progress", "exists"])
def test_add_permission_conflicts_are_told_apart(tmp_path: Path, sandbox_server: Sandbox,
                                                 server_proxy: FaultProxy, message: str, attempts: int) -> None:
    """Both are ResourceConflictException: an update in progress is retried, never taken as done;
    a statement that already exists is done."""
    name = f"ansperm{attempts}"
    write(tmp_path, name, "v1", triggers="    triggers:\n      - url: {auth: AWS_IAM}\n      - schedule: "
                                         "{expression: 'rate(1 hour)', alias: dev}\n")
    server_proxy.rules.append(Rule("AddPermission", "error", status=409, code="ResourceConflictException",
                                   message=message))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert server_proxy.requests.count("AddPermission") == attempts
    client = sandbox_server.client("lambda")
    try:
        policy = client.get_policy(FunctionName=f"{name}-fn", Qualifier="dev")["Policy"]
    except client.exceptions.ResourceNotFoundException:
        policy = ""  # "already exists" was believed: nothing was added (the proxy kept the request)
    assert ("lambdadeploy-events-" in policy) is (attempts == 2)


def test_stream_access_denied_right_after_the_role_changed_is_retried(
        tmp_path: Path, sandbox_server: Sandbox, server_proxy: FaultProxy) -> None:
    kinesis = sandbox_server.client("kinesis")
    kinesis.create_stream(StreamName="ans-clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="ans-clicks")["StreamDescriptionSummary"]["StreamARN"]
    function = write(tmp_path, "ansstream", "v1",
                     triggers=f"    triggers:\n      - kinesis: {{stream: {stream}, alias: dev}}\n")
    server_proxy.rules.append(Rule("CreateEventSourceMapping", "error", code="InvalidParameterValueException", message=(
        f"Cannot access stream {stream}. Please ensure the role can perform the GetRecords, GetShardIterator, "
        "DescribeStream, and ListShards/ListStreams Actions on your stream in IAM.")))
    result = cli(["push", "--alias", "dev"], tmp_path, server_proxy.url)
    assert result.code == 0, result.stdout + result.stderr
    assert server_proxy.requests.count("CreateEventSourceMapping") == 2
    (mapping,) = sandbox_server.client("lambda").list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert f":function:{function}:" in mapping["FunctionArn"]
