"""The sandbox: moto's Lambda invoke wired to runner.py, in-process and as a real server."""

from __future__ import annotations

import base64
import http.server
import inspect
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core import DEFAULT_ACCOUNT_ID

from lambdadeploy.local import seam
from lambdadeploy.local.credentials import CREDENTIALS_ENV, SandboxCredentials, write_credentials
from lambdadeploy.local.sandbox import (
    DEFAULT_URL,
    SANDBOX_URL_ENV,
    Sandbox,
    SandboxError,
    sandbox_answers,
    sandbox_endpoint,
)
from lambdadeploy.local.seam import install_invoke_seam

REGION = "us-east-1"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def make_zip(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"# {uuid.uuid4()}\n" + textwrap.dedent(code))
    return buffer.getvalue()


def create_function(clients: dict[str, Any], name: str, code: str, **extra: Any) -> None:
    role = clients["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)
    clients["lambda"].create_function(
        FunctionName=name,
        Runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": make_zip(code)},
        **extra,
    )


def read(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def log_result(response: dict[str, Any]) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in-process with the seam installed: boto3 clients by service name."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    install_invoke_seam()
    with mock_aws():
        yield {s: boto3.client(s, region_name=REGION) for s in ("iam", "lambda", "logs", "s3")}


# --- the seam against moto's private API --------------------------------------------------


def test_moto_still_has_the_seam_we_patch() -> None:
    """Fails loudly when a moto release moves the private methods the sandbox replaces."""
    install_invoke_seam()
    expected = {
        "LambdaFunction._invoke_lambda": ["self", "event"],
        "LambdaFunction.invoke": ["self", "body", "request_headers", "response_headers"],
        "LambdaBackend.invoke": [
            "self", "function_name", "qualifier", "body", "headers", "response_headers",
        ],
        "LambdaResponse.invoke": ["self"],
    }  # fmt: skip
    for name, parameters in expected.items():
        original = seam._ORIGINALS[name]
        assert original.__module__.startswith("moto."), name
        assert list(inspect.signature(original).parameters) == parameters, name
    assert callable(LambdaFunction.save_logs)
    assert LambdaFunction._invoke_lambda is seam._invoke_lambda
    assert moto.__version__.startswith(("5.1.", "5.2.")), "pyproject pins moto to what this covers"


def test_installing_twice_keeps_a_single_layer_of_patches() -> None:
    install_invoke_seam()
    patched = (LambdaFunction.invoke, LambdaBackend.invoke, LambdaResponse.invoke)
    install_invoke_seam()
    assert (LambdaFunction.invoke, LambdaBackend.invoke, LambdaResponse.invoke) == patched


def test_a_moto_function_has_the_attributes_the_seam_reads(aws: dict[str, Any]) -> None:
    create_function(aws, "attrs", "def handler(e, c):\n    return 1\n")
    fn = lambda_backends[DEFAULT_ACCOUNT_ID][REGION].get_function("attrs")
    for attribute in (
        "code_bytes", "handler", "run_time", "timeout", "memory_size", "environment_vars",
        "function_name", "version", "function_arn", "region", "partition", "account_id",
        "logs_backend", "logs_group_name",
    ):  # fmt: skip
        assert hasattr(fn, attribute), attribute


# --- invoking in-process (mock_aws) -------------------------------------------------------


def test_invoke_runs_the_deployed_code(aws: dict[str, Any]) -> None:
    create_function(
        aws,
        "adder",
        """
        import os
        def handler(event, context):
            return {"sum": sum(event["numbers"]), "stage": os.environ["STAGE"]}
        """,
        Environment={"Variables": {"STAGE": "dev"}},
    )

    response = aws["lambda"].invoke(
        FunctionName="adder", Payload=json.dumps({"numbers": [1, 2, 39]})
    )

    assert "FunctionError" not in response
    assert read(response) == {"sum": 42, "stage": "dev"}
    assert response["ExecutedVersion"] == "$LATEST"


def test_an_alias_runs_the_code_of_its_version(aws: dict[str, Any]) -> None:
    code = """
        def handler(event, context):
            return {{"code": "{v}", "version": context.function_version,
                     "arn": context.invoked_function_arn}}
        """
    create_function(aws, "greeter", code.format(v="v1"))
    lam = aws["lambda"]
    v1 = lam.publish_version(FunctionName="greeter")["Version"]
    lam.create_alias(FunctionName="greeter", Name="live", FunctionVersion=v1)
    lam.update_function_code(FunctionName="greeter", ZipFile=make_zip(code.format(v="v2")))
    v2 = lam.publish_version(FunctionName="greeter")["Version"]

    by_alias = lam.invoke(FunctionName="greeter", Qualifier="live")
    in_name = lam.invoke(FunctionName="greeter:live")
    by_version = lam.invoke(FunctionName="greeter", Qualifier=v2)
    latest = lam.invoke(FunctionName="greeter")

    assert (v1, v2) == ("1", "2")
    assert by_alias["ExecutedVersion"] == "1"
    result = read(by_alias)
    assert result["code"] == "v1" and result["version"] == "1"
    assert result["arn"].endswith(":function:greeter:live")
    assert read(in_name)["code"] == "v1"
    assert read(by_version)["code"] == "v2" and by_version["ExecutedVersion"] == "2"
    assert read(latest)["arn"].endswith(":function:greeter")


def test_a_raising_handler_is_an_unhandled_function_error_with_its_traceback(
    aws: dict[str, Any],
) -> None:
    create_function(
        aws,
        "breaker",
        """
        def handler(event, context):
            print("about to fail")
            raise KeyError(event["missing"])
        """,
    )

    response = aws["lambda"].invoke(
        FunctionName="breaker", Payload=json.dumps({"missing": "order_id"}), LogType="Tail"
    )

    assert response["FunctionError"] == "Unhandled"  # moto alone would say "Handled"
    error = read(response)
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'order_id'"
    tail = log_result(response)
    assert "about to fail" in tail
    assert "[ERROR] KeyError: 'order_id'\nTraceback (most recent call last):" in tail
    assert 'raise KeyError(event["missing"])' in tail
    assert tail.splitlines()[-1].startswith("REPORT RequestId: ")


def test_the_event_is_passed_exactly(aws: dict[str, Any]) -> None:
    create_function(
        aws, "echo", "def handler(event, context):\n    return [type(event).__name__, event]\n"
    )

    def echo(payload: bytes | None) -> Any:
        kwargs = {"Payload": payload} if payload is not None else {}
        return read(aws["lambda"].invoke(FunctionName="echo", **kwargs))

    assert echo(None) == ["dict", {}]
    assert echo(b'"{}"') == ["str", "{}"]  # a JSON string stays a string
    assert echo(b"[1, 2]") == ["list", [1, 2]]
    assert echo(b"null") == ["NoneType", None]


def test_log_result_is_the_last_4_kb_of_the_log_like_lambdas(aws: dict[str, Any]) -> None:
    create_function(aws, "verbose", "def handler(e, c):\n    print('x' * 10000)\n")

    response = aws["lambda"].invoke(FunctionName="verbose", LogType="Tail")

    raw = base64.b64decode(response["LogResult"])
    assert len(raw) <= 4096
    assert raw.decode().rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")


def test_a_dry_run_runs_nothing(aws: dict[str, Any]) -> None:
    create_function(aws, "careful", "def handler(e, c):\n    print('ran')\n")

    response = aws["lambda"].invoke(FunctionName="careful", InvocationType="DryRun")

    assert response["StatusCode"] == 204
    groups = aws["logs"].describe_log_groups(logGroupNamePrefix="/aws/lambda/careful")
    streams = [
        stream
        for group in groups["logGroups"]
        for stream in aws["logs"].describe_log_streams(logGroupName=group["logGroupName"])[
            "logStreams"
        ]
    ]
    assert streams == []


def test_invocation_logs_are_saved_to_cloudwatch(aws: dict[str, Any]) -> None:
    create_function(aws, "chatty", "def handler(e, c):\n    print('order', e['id'], 'shipped')\n")

    aws["lambda"].invoke(FunctionName="chatty", Payload=json.dumps({"id": 17}))

    events = aws["logs"].filter_log_events(logGroupName="/aws/lambda/chatty")["events"]
    messages = [event["message"] for event in events]
    assert "order 17 shipped" in messages
    assert any(m.startswith("START RequestId: ") for m in messages)
    assert any(m.startswith("REPORT RequestId: ") for m in messages)


def test_an_s3_notification_runs_the_code_with_the_s3_event(aws: dict[str, Any]) -> None:
    create_function(
        aws,
        "on-upload",
        """
        def handler(event, context):
            record = event["Records"][0]
            print("uploaded", record["s3"]["bucket"]["name"], record["s3"]["object"]["key"])
        """,
    )
    arn = aws["lambda"].get_function(FunctionName="on-upload")["Configuration"]["FunctionArn"]
    aws["s3"].create_bucket(Bucket="uploads")
    aws["s3"].put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    aws["s3"].put_object(Bucket="uploads", Key="cat.jpg", Body=b"meow")

    events = aws["logs"].filter_log_events(logGroupName="/aws/lambda/on-upload")["events"]
    assert "uploaded uploads cat.jpg" in [event["message"] for event in events]


# --- the server ---------------------------------------------------------------------------


def test_sandbox_server_runs_code_for_any_boto3_client_and_its_code_can_call_back() -> None:
    with Sandbox(timing="off") as server:  # the role is used at once: no IAM propagation delay here
        clients = {
            s: boto3.client(s, **server.client_settings())
            for s in ("iam", "lambda", "s3")
        }
        clients["s3"].create_bucket(Bucket="made-by-the-test")
        clients["iam"].create_role(RoleName="basic", AssumeRolePolicyDocument=TRUST)
        clients["iam"].attach_role_policy(  # AWS managed policies exist, as in any account
            RoleName="basic",
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        create_function(
            clients,
            "lister",
            """
            import boto3
            def handler(event, context):
                names = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
                return {"greeting": "hello " + event["name"], "buckets": names}
            """,
            Timeout=30,
        )

        response = clients["lambda"].invoke(
            FunctionName="lister", Payload=json.dumps({"name": "sandbox"}), LogType="Tail"
        )

        assert server.url.startswith("http://127.0.0.1:")
        assert "FunctionError" not in response, log_result(response)
        assert read(response) == {"greeting": "hello sandbox", "buckets": ["made-by-the-test"]}
        assert "REPORT RequestId: " in log_result(response)
        assert sandbox_answers(server.url)
    assert not sandbox_answers(server.url)


def test_sandbox_answers_is_false_for_a_closed_port_or_another_server() -> None:
    started = time.monotonic()
    assert not sandbox_answers(f"http://127.0.0.1:{free_port()}")
    assert time.monotonic() - started < 1

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        assert not sandbox_answers(f"http://127.0.0.1:{other.server_address[1]}")
    finally:
        other.shutdown()
        other.server_close()


def test_sandbox_endpoint_starts_one_when_none_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(SANDBOX_URL_ENV, nobody)

    with sandbox_endpoint() as access:
        assert access.started_here
        assert access.url != nobody
        assert sandbox_answers(access.url)
        identity = boto3.client("sts", endpoint_url=access.url, region_name=access.region,
                                aws_access_key_id=access.credentials.access_key_id,
                                aws_secret_access_key=access.credentials.secret_access_key).get_caller_identity()
        assert identity["Account"] == "123456789012"
    assert not sandbox_answers(access.url)


def test_sandbox_endpoint_uses_the_one_that_answers_with_its_credentials_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with Sandbox() as server:
        monkeypatch.setenv(SANDBOX_URL_ENV, server.url)
        monkeypatch.setenv(CREDENTIALS_ENV, str(tmp_path / "mine.json"))
        write_credentials(tmp_path / "mine.json", server.credentials, server.url, "us-east-1")
        with sandbox_endpoint() as access:
            assert (access.url, access.started_here, access.credentials) == (server.url, False, server.credentials)

        # A sandbox answers there, but the file holds someone else's keys, or there is none: say so.
        write_credentials(tmp_path / "mine.json", SandboxCredentials.generate(), server.url, "us-east-1")
        with pytest.raises(SandboxError, match="holds other credentials"), sandbox_endpoint():
            pass
        monkeypatch.setenv(CREDENTIALS_ENV, str(tmp_path / "missing.json"))
        with pytest.raises(SandboxError, match="its credentials are not at"), sandbox_endpoint():
            pass


def test_a_taken_port_is_a_clear_error_not_a_hang() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}"):
            Sandbox(port).start()


def test_serve_forever_keeps_its_credentials_private_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    assert DEFAULT_URL == "http://127.0.0.1:4599"
    port = free_port()
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir()
    script = (
        "from lambdadeploy.local.sandbox import serve_forever\n"
        f"serve_forever({port}, on_ready=lambda url, path: print(url, path, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "XDG_RUNTIME_DIR": str(runtime_dir)},
    )
    try:
        url, path = process.stdout.readline().split()  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{port}"
        assert Path(path) == runtime_dir / "lambdadeploy" / f"sandbox-{port}.json"
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(path).parent.stat().st_mode) == 0o700
        assert sandbox_answers(url)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read().strip() == "stopped"  # type: ignore[union-attr]
        assert not sandbox_answers(url)
        assert not Path(path).exists()  # its credentials end with it
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
