"""AWS's timing in the sandbox (issue #14): new roles, new versions and metrics are not ready at once.

Against a `lambdadeploy sandbox` subprocess with the default timing (`fast`: delays well under
a second), each is refused or hidden right after it was made, then ready shortly after; moto
alone has it ready at once. Fast delays are short, so each "right after" is tried up to three
times before it counts as not observed. A push through it shows the tool rides them out.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdadeploy.errors import InvalidInputError
from lambdadeploy.local.sandbox import probe, sandbox_endpoint
from lambdadeploy.local.timing import TIMING_ENV, timing_named

from .conftest import Sandbox, run_cli, start_sandbox_server, stop_sandbox_server
from .test_sandbox_rules import TRUST, code_zip, unique

ATTEMPTS = 3


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """`lambdadeploy sandbox` as users start it: no --aws-timing, so `fast`."""
    process, server = start_sandbox_server(tmp_path_factory.mktemp("timing"))
    assert (probe(server.url) or {}).get("timing") == "fast"
    yield server
    stop_sandbox_server(process)


def eventually(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    """`check()` once it stops raising (AssertionError or ClientError), within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except (AssertionError, ClientError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def moto_alone(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="any", aws_secret_access_key="any")


def test_a_new_role_is_not_assumable_at_once(sandbox_server: Sandbox) -> None:
    iam, lam = sandbox_server.client("iam"), sandbox_server.client("lambda")
    for _ in range(ATTEMPTS):
        role = iam.create_role(RoleName=unique("fresh"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        name = unique("fn")

        def create(name: str = name, role: str = role) -> None:
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": code_zip()})

        try:
            create()
        except ClientError as refused:
            error = refused.response["Error"]
            assert (error["Code"], error["Message"]) == (
                "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
            break
    else:
        pytest.fail("a role was assumable right after CreateRole, every time")
    eventually(create)  # a moment later it is
    assert lam.get_function(FunctionName=name)["Configuration"]["Role"] == role
    with mock_aws():
        fresh = moto_alone("iam").create_role(RoleName="fresh", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        moto_alone("lambda").create_function(FunctionName="fn", Runtime="python3.12", Role=fresh,
                                             Handler="app.handler", Code={"ZipFile": code_zip()})


def a_function(sandbox: Sandbox) -> str:
    role = sandbox.client("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    name = unique("fn")
    eventually(lambda: sandbox.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": code_zip()}))
    return name


def test_a_new_version_is_pending_then_active(sandbox_server: Sandbox) -> None:
    lam = sandbox_server.client("lambda")
    name = a_function(sandbox_server)
    for attempt in range(ATTEMPTS):
        lam.update_function_configuration(FunctionName=name, Description=f"attempt {attempt}")
        version = lam.publish_version(FunctionName=name)["Version"]
        try:
            lam.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
        except ClientError as refused:
            error = refused.response["Error"]
            assert (error["Code"], error["Message"]) == (
                "ResourceConflictException", "The operation cannot be performed at this time. The function is "
                "currently in the following state: Pending")
            assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 409
            break
    else:
        pytest.fail("a version could be invoked right after PublishVersion, every time")
    update = lam.update_function_configuration(FunctionName=name, Description="shown pending")
    assert update["Version"] == "$LATEST"
    shown = lam.publish_version(FunctionName=name)
    assert (shown["State"], shown["StateReasonCode"]) == ("Pending", "Creating")
    assert lam.get_function(FunctionName=name, Qualifier=shown["Version"])["Configuration"]["State"] == "Pending"

    def active() -> None:
        assert lam.get_function_configuration(FunctionName=name, Qualifier=shown["Version"])["State"] == "Active"

    eventually(active)
    answer = lam.invoke(FunctionName=name, Qualifier=shown["Version"], Payload=json.dumps({"ok": 1}))
    assert json.loads(answer["Payload"].read()) == {"ok": 1}
    assert lam.get_function_configuration(FunctionName=name)["State"] == "Active"  # $LATEST never was pending
    with mock_aws():
        role = moto_alone("iam").create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        moto_alone("lambda").create_function(FunctionName="fn", Runtime="python3.12", Role=role,
                                             Handler="app.handler", Code={"ZipFile": code_zip()})
        assert moto_alone("lambda").publish_version(FunctionName="fn")["State"] == "Active"


def test_metrics_arrive_late(sandbox_server: Sandbox) -> None:
    cloudwatch = sandbox_server.client("cloudwatch")

    def datapoints(client: Any, namespace: str) -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.timezone.utc)
        return client.get_metric_statistics(Namespace=namespace, MetricName="Errors", StartTime=now - dt.timedelta(
            minutes=5), EndTime=now + dt.timedelta(minutes=1), Period=60, Statistics=["Sum"])["Datapoints"]

    for _ in range(ATTEMPTS):
        namespace = unique("Late")
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Errors", "Value": 2.0, "Timestamp": dt.datetime.now(dt.timezone.utc)}])
        if datapoints(cloudwatch, namespace) == []:
            break
    else:
        pytest.fail("a datapoint was visible right after PutMetricData, every time")

    def arrived() -> None:
        assert [p["Sum"] for p in datapoints(cloudwatch, namespace)] == [2.0]

    eventually(arrived)
    with mock_aws():
        moto_alone("cloudwatch").put_metric_data(Namespace="Now", MetricData=[
            {"MetricName": "Errors", "Value": 2.0, "Timestamp": dt.datetime.now(dt.timezone.utc)}])
        assert [p["Sum"] for p in datapoints(moto_alone("cloudwatch"), "Now")] == [2.0]


def test_a_push_rides_out_the_new_role_and_the_pending_version(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """The project's execution role is created moments before the function, and the new version
    is Pending when the smoke test wants to invoke it: the push waits both out, as on AWS."""
    source = tmp_path / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (tmp_path / "lambda.yaml").write_text("project: timed\naliases: [dev]\nfunctions:\n  fn:\n"
                                          "    handler: app.handler\n    test: {payload: {}, expect: {ok: true}}\n")
    result = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server)
    assert result.code == 0, result.stdout + result.stderr
    lam = sandbox_server.client("lambda")
    assert lam.get_alias(FunctionName="timed-fn", Name="dev")["FunctionVersion"] == "1"
    assert lam.get_function_configuration(FunctionName="timed-fn", Qualifier="1")["State"] == "Active"


def test_the_timing_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    """`off` has no delays (test_sandbox_rules.py runs `--aws-timing off` and uses roles at once),
    `real` takes seconds like AWS; --sandbox's in-process sandbox reads $LAMBDADEPLOY_SANDBOX_TIMING
    (the `sandbox` command's --aws-timing is the same setting)."""
    assert (timing_named("off").role_propagation, timing_named("off").version_pending) == (0, 0)
    fast, real = timing_named("fast"), timing_named("real")
    assert 0 < fast.role_propagation < 1 and 0 < fast.version_pending < 1 and 0 < fast.metrics_delay < 1
    assert real.role_propagation >= 5 and real.metrics_delay >= 60
    monkeypatch.setenv(TIMING_ENV, "real")
    monkeypatch.setenv("LAMBDADEPLOY_SANDBOX_URL", "http://127.0.0.1:9")  # nothing there: start one
    with sandbox_endpoint() as access:
        assert (access.started_here, (probe(access.url) or {}).get("timing")) == (True, "real")
    monkeypatch.setenv(TIMING_ENV, "sometimes")
    with pytest.raises(InvalidInputError, match="unknown sandbox timing 'sometimes'"):
        timing_named(None)
