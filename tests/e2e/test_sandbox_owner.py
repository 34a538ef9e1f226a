"""Only its owner reaches the sandbox (issue #15, items 1 and 2).

It runs code as the user who started it, so a request must be signed with the keys it made
(in a file only that user can read), come to a loopback name (no DNS rebinding), and not come
from a web page (no Origin); moto's /moto-api/ control endpoints are not served at all.
"""

from __future__ import annotations

import http.client
import json
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdadeploy.local.credentials import SandboxCredentials, write_credentials
from lambdadeploy.local.sandbox import probe, sandbox_answers

from .conftest import Sandbox, free_port, run_cli


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def raw(sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """A request as a browser or another program would send it: no SDK, no signature."""
    address = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def test_requests_signed_with_other_keys_are_refused(sandbox_server: Sandbox) -> None:
    stranger = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "made-up"}
    assert error_of(lambda: sandbox_server.client("lambda", **stranger).list_functions()) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.", 403)
    assert error_of(lambda: sandbox_server.client("iam", **stranger).list_roles()) == (
        "InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    assert error_of(lambda: sandbox_server.client("s3", **stranger).list_buckets())[0] == "InvalidAccessKeyId"
    # The owner's key id with another secret: the signature itself is checked.
    forged = {"aws_secret_access_key": "not-the-secret"}
    code, message, status = error_of(lambda: sandbox_server.client("lambda", **forged).list_functions())
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    # Not signed at all (and so never reaches moto, which would accept it).
    status, body = raw(sandbox_server, "GET", "/2015-03-31/functions/", {"Host": urlsplit(sandbox_server.url).netloc})
    assert status == 403 and b"Missing Authentication Token" in body
    # The owner, by contrast, is served.
    assert "Functions" in sandbox_server.client("lambda").list_functions()


def test_presigned_s3_urls_made_with_the_owners_keys_work_and_others_do_not(sandbox_server: Sandbox) -> None:
    s3 = sandbox_server.client("s3")
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="report 1.txt", Body=b"numbers")
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "report 1.txt"}))
    target = f"{url.path}?{url.query}"
    assert raw(sandbox_server, "GET", target, {"Host": url.netloc}) == (200, b"numbers")
    forged = target.replace("Signature=", "Signature=A")
    assert raw(sandbox_server, "GET", forged, {"Host": url.netloc})[0] == 403
    stranger = sandbox_server.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
    other = urlsplit(stranger.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "k"}))
    assert raw(sandbox_server, "GET", f"{other.path}?{other.query}", {"Host": url.netloc})[0] == 403


def test_the_credentials_file_is_private_and_is_what_the_probe_names(sandbox_server: Sandbox) -> None:
    assert stat.S_IMODE(sandbox_server.credentials_file.stat().st_mode) == 0o600
    found = probe(sandbox_server.url)
    assert found is not None and found["access_key_id"] == sandbox_server.credentials.access_key_id
    assert sandbox_server.credentials.secret_access_key not in json.dumps(found)
    assert sandbox_server.environment()["AWS_ENDPOINT_URL"] == sandbox_server.url


def test_a_foreign_host_is_refused_and_loopback_names_are_served(sandbox_server: Sandbox) -> None:
    port = urlsplit(sandbox_server.url).port
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.nip.io:{port}"):
        status, body = raw(sandbox_server, "GET", "/_lambdadeploy/sandbox", {"Host": host})
        assert status == 403 and b"not a loopback name" in body, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert raw(sandbox_server, "GET", "/_lambdadeploy/sandbox", {"Host": host})[0] == 200, host
    by_name = boto3.client("sts", endpoint_url=f"http://localhost:{port}", region_name="us-east-1",
                           aws_access_key_id=sandbox_server.credentials.access_key_id,
                           aws_secret_access_key=sandbox_server.credentials.secret_access_key)
    assert by_name.get_caller_identity()["Account"] == "123456789012"


def test_requests_from_web_pages_are_refused_even_when_signed(sandbox_server: Sandbox) -> None:
    for header, value in (("Origin", "https://attacker.example"), ("Origin", "null"), ("Sec-Fetch-Site", "cross-site")):
        client = sandbox_server.client("lambda")
        client.meta.events.register("before-sign.lambda.*",
                                    lambda request, header=header, value=value, **_: request.headers.__setitem__(
                                        header, value))
        code, message, status = error_of(client.list_functions)
        assert (code, status) == ("AccessDeniedException", 403), header
        assert "web pages" in message


def test_sandbox_env_needs_a_running_sandbox(tmp_path: Path) -> None:
    result = run_cli(["sandbox", "--env", "--credentials-file", str(tmp_path / "none.json")], tmp_path)
    assert result.code == 2 and "no sandbox credentials at" in result.stderr, result.stderr
    stale = tmp_path / "stale.json"
    write_credentials(stale, SandboxCredentials.generate(), f"http://127.0.0.1:{free_port()}", "us-east-1")
    result = run_cli(["sandbox", "--env", "--credentials-file", str(stale)], tmp_path)
    assert result.code == 2 and "no sandbox answers at" in result.stderr, result.stderr


def test_moto_control_endpoints_are_not_served(sandbox_server: Sandbox) -> None:
    s3 = sandbox_server.client("s3")
    s3.create_bucket(Bucket="survives-the-reset")
    host = urlsplit(sandbox_server.url).netloc
    # What a web page can send cross-origin without a preflight: a text/plain POST.
    page = {"Host": host, "Origin": "https://attacker.example", "Content-Type": "text/plain"}
    assert raw(sandbox_server, "POST", "/moto-api/reset", page, b"{}")[0] == 403
    assert raw(sandbox_server, "POST", "/moto-api/reset", {"Host": host, "Content-Type": "text/plain"}, b"{}")[0] == 404
    assert raw(sandbox_server, "GET", "/moto-api/data.json", {"Host": host})[0] == 404
    assert raw(sandbox_server, "GET", "/moto-api/config", {"Host": host})[0] == 404
    assert "survives-the-reset" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert sandbox_answers(sandbox_server.url)  # how --sandbox finds it instead


def test_a_command_that_talks_to_a_running_sandbox_does_not_load_the_server(tmp_path: Path,
                                                                            sandbox_server: Sandbox) -> None:
    """The server's modules (moto, the guard, the invoke seam) are for the process that serves;
    a `--sandbox` command against a running one only probes it and signs its requests."""
    source = tmp_path / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (tmp_path / "lambda.yaml").write_text("project: light\nfunctions:\n  fn:\n    handler: app.handler\n"
                                          "    test:\n      payload: {}\n      expect: {ok: true}\n")
    script = ("import atexit, sys; atexit.register(lambda: print('server modules:', sorted("
              "m for m in sys.modules if m.split('.')[0] == 'moto' or m in ('lambdadeploy.local.guard', "
              "'lambdadeploy.local.seam')), file=sys.stderr)); from lambdadeploy.cli import main; main()")
    pushed = run_cli(["--sandbox", "push", "--alias", "dev"], tmp_path, sandbox_server, python_code=script)
    assert pushed.code == 0, pushed.stderr
    assert "ok light-fn" in pushed.stderr or "ok light-fn" in pushed.stdout
    assert pushed.stderr.rstrip().endswith("server modules: []")
