"""The sandbox's front door without a server: signatures, operations, the model's limits."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from botocore.auth import (
    HmacV1Auth,
    HmacV1QueryAuth,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
    SigV4QueryAuth,
)
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdadeploy.aws.models import service_model
from lambdadeploy.local.guard import screen
from lambdadeploy.local.limits import java_pattern, validation_message, violations
from lambdadeploy.local.operations import identify
from lambdadeploy.local.sigv4 import AuthProblem, Received, verify
from lambdadeploy.local.wire import Incoming

KEY, SECRET = "LDSBEXAMPLEKEY000000", "the-secret"


def signed(signer: type, service: str, method: str, url: str, body: bytes = b"",
           headers: dict[str, str] | None = None, token: str | None = None) -> Received:
    """A request as botocore's own signer signs it, as the server receives it."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    credentials = Credentials(KEY, SECRET, token)
    if signer is HmacV1QueryAuth:
        signer(credentials).add_auth(request)
    else:
        signer(credentials, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    received = {name.lower(): value for name, value in prepared.headers.items()}
    received.setdefault("host", parts.netloc)
    return Received(method, parts.path, parts.query, received, body)


def keys(token: str | None = None):
    return lambda key: (SECRET, token) if key == KEY else None


@pytest.mark.parametrize(("signer", "service", "method", "url", "body"), [
    (SigV4Auth, "lambda", "POST",
     "http://127.0.0.1:4599/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af"
     "/invocations?Qualifier=%24LATEST", b'{"a": 1}'),
    (SigV4Auth, "iam", "POST", "http://localhost:4599/", b"Action=ListRoles&Version=2010-05-08"),
    (S3SigV4Auth, "s3", "PUT", "http://127.0.0.1:4599/bucket/a%20key/x.txt", b"data"),
    (SigV4QueryAuth, "sts", "GET", "http://127.0.0.1:4599/?Action=GetCallerIdentity&Version=2011-06-15", b""),
    (S3SigV4QueryAuth, "s3", "GET", "http://127.0.0.1:4599/bucket/key%2Bplus", b""),
    (HmacV1QueryAuth, "s3", "GET", "http://127.0.0.1:4599/bucket/a%20key?response-content-type=text%2Fplain", b""),
    (HmacV1Auth, "s3", "PUT", "http://127.0.0.1:4599/bucket/key?acl", b"<AccessControlPolicy/>"),
], ids=["rest-json", "query", "s3", "presigned", "s3-presigned", "s3-v2-presigned", "s3-v2-header"])
def test_signatures_made_by_botocore_verify_and_any_change_breaks_them(signer, service, method, url, body) -> None:
    request = signed(signer, service, method, url, body, {"Content-Type": "application/json"} if body else {})
    assert verify(request, keys()).service == service
    with pytest.raises(AuthProblem) as wrong_secret:
        verify(request, lambda key: ("another", None))
    assert wrong_secret.value.kind == "signature"
    with pytest.raises(AuthProblem) as unknown:
        verify(request, lambda key: None)
    assert unknown.value.kind == "unknown-key"
    elsewhere = Received(request.method, request.raw_path + "x", request.raw_query, request.headers, body)
    with pytest.raises(AuthProblem):
        verify(elsewhere, keys())
    if body and signer not in (HmacV1Auth, HmacV1QueryAuth):  # SigV2 never signed the body
        tampered = Received(request.method, request.raw_path, request.raw_query, request.headers, body + b" ")
        with pytest.raises(AuthProblem):
            verify(tampered, keys())


def test_session_tokens_must_be_the_keys_own_and_old_signatures_expire() -> None:
    url = "http://127.0.0.1:4599/2015-03-31/functions/"
    with_token = signed(SigV4Auth, "lambda", "GET", url, token="tok")
    assert verify(with_token, keys("tok"))
    for expected in (None, "other"):
        with pytest.raises(AuthProblem) as problem:
            verify(with_token, keys(expected))
        assert problem.value.kind == "token"
    request = signed(SigV4Auth, "lambda", "GET", url)
    with pytest.raises(AuthProblem) as late:
        verify(request, keys(), now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=16))
    assert late.value.kind == "expired"
    with pytest.raises(AuthProblem) as missing:
        verify(Received("GET", "/", "", {"host": "127.0.0.1"}, b""), keys())
    assert missing.value.kind == "missing"


def test_java_patterns_translate_faithfully() -> None:
    tag = java_pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*")
    assert tag is not None
    assert tag.fullmatch("Équipe média 42_:/=+-@") and tag.fullmatch("日本 ٣")  # letters, spaces, numbers anywhere
    assert not tag.fullmatch("a&b") and not tag.fullmatch("tab\there")
    word = java_pattern(r"[\w-_]*")  # Java reads the - after \w as a literal; \w is ASCII
    assert word is not None and word.fullmatch("a-b_c9") and not word.fullmatch("é")
    whole = java_pattern(r"[0-9]+")
    assert whole is not None and not whole.fullmatch("12a")  # the whole value, as Java's matches()
    not_a_letter = java_pattern(r"[^\p{L}]")
    assert not_a_letter is not None and not_a_letter.fullmatch("1") and not not_a_letter.fullmatch("é")
    assert java_pattern(r"[\P{L}x]") is None  # a negated category inside a class: not enforced at all


def test_limit_messages_name_members_as_aws_does() -> None:
    lam = service_model("lambda")
    create = lam.operation_model("CreateFunction").input_shape
    found = violations(create, {"FunctionName": "f", "Code": {}, "Timeout": 0, "Architectures": ["x86"],
                                "Environment": {"Variables": {"1BAD": "secret-value"}}})
    assert found == [
        "Value null at 'role' failed to satisfy constraint: Member must not be null",
        "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
        "Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",  # sensitive: not echoed
        "Value '[x86]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
    ]
    assert validation_message(found[:1]) == "1 validation error detected: " + found[0]
    assert validation_message(found).startswith("4 validation errors detected: Value null at 'role'")
    assert violations(create, {"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r", "Code": {}}) == []


def test_query_protocol_input_is_read_with_lists_maps_and_types() -> None:
    body = (b"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=3600"
            b"&Tags.member.1.Key=team&Tags.member.1.Value=media&Tags.member.2.Key=env&Tags.member.2.Value=")
    request = Incoming.build("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"}, body)
    call = identify(request, service_model("iam"), "query", "us-east-1")
    assert call is not None and call.name == "CreateRole"
    assert call.params == {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 3600,
                           "Tags": [{"Key": "team", "Value": "media"}, {"Key": "env", "Value": ""}]}


def test_rest_json_operations_are_matched_by_method_and_uri_template() -> None:
    lam = service_model("lambda")
    path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/aliases/dev"
    call = identify(Incoming.build("PUT", path, "", {}, b'{"FunctionVersion": "2"}'), lam, "rest-json", "us-east-1")
    assert call is not None and call.name == "UpdateAlias"
    assert call.params == {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f", "Name": "dev",
                           "FunctionVersion": "2"}
    invoke = identify(Incoming.build("POST", "/2015-03-31/functions/f/invocations", "Qualifier=3",
                                     {"x-amz-invocation-type": "Event"}, b"{}"), lam, "rest-json", "us-east-1")
    assert invoke is not None and invoke.name == "Invoke"
    assert (invoke.params["Qualifier"], invoke.params["InvocationType"]) == ("3", "Event")


def test_the_screen_refuses_foreign_hosts_browsers_and_the_control_api() -> None:
    def environ(**extra: str) -> dict[str, str]:
        return {"HTTP_HOST": "127.0.0.1:4599", "PATH_INFO": "/2015-03-31/functions", **extra}

    assert screen(environ()) is None
    assert screen(environ(HTTP_HOST="localhost")) is None and screen(environ(HTTP_HOST="[::1]:4599")) is None
    for refused in (environ(HTTP_HOST="evil.example:4599"), environ(HTTP_HOST=""), environ(HTTP_ORIGIN="null"),
                    environ(HTTP_SEC_FETCH_SITE="cross-site")):
        answer = screen(refused)
        assert answer is not None and answer.status == 403
    assert screen(environ(HTTP_SEC_FETCH_MODE="cors")) is None  # Node's fetch: not a web page
    control = screen(environ(PATH_INFO="/moto-api/reset"))
    assert control is not None and control.status == 404
    encoded = screen(environ(PATH_INFO="/%6Doto-api/reset"))
    assert encoded is not None and encoded.status == 404


def test_the_guard_fails_closed_on_access_and_open_on_a_fault_in_its_own_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Access is never waived; a bug in the limits or rules passes the request on (logged)."""
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    from lambdadeploy.local import guard as front_door
    from lambdadeploy.local.credentials import SandboxCredentials
    from lambdadeploy.local.timing import Clock, timing_named

    served = []

    def moto(environ, start_response):
        served.append(environ["PATH_INFO"])
        return Response('{"Functions": []}', content_type="application/json")(environ, start_response)

    owner = SandboxCredentials(KEY, SECRET)
    app = front_door.Guard(moto, front_door.KeyRing(owner, SandboxCredentials.generate("LDFN", with_token=True)),
                           Clock(timing_named("off")))
    request = signed(SigV4Auth, "lambda", "GET", "http://127.0.0.1:4599/2015-03-31/functions/")
    headers = {name: value for name, value in request.headers.items() if name != "host"}

    def get(**changes: str):
        return Client(app).get("/2015-03-31/functions/", base_url="http://127.0.0.1:4599",
                               headers={**headers, **changes})

    assert get().status_code == 200 and served == ["/2015-03-31/functions/"]
    monkeypatch.setattr(front_door.limits, "violations", lambda *args: 1 / 0)
    assert get().status_code == 200 and len(served) == 2  # the broken check waived, logged
    forged = get(authorization=request.headers["authorization"].replace("Signature=", "Signature=0"))
    assert forged.status_code == 403 and len(served) == 2
