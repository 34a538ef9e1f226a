"""The rules behind lambda.yaml's fields and triggers, called directly: what each accepts,
converts, and reports (message and hint). test_config.py checks them through whole files."""

from __future__ import annotations

from typing import Any

import pytest

from lambdadeploy import schema
from lambdadeploy.model import Trigger
from lambdadeploy.triggers_config import parse_triggers


def check(rule, value: Any) -> tuple[Any, list[tuple[str, str | None]]]:
    reports: list[tuple[str, str | None]] = []

    def report(message: str, hint: str | None = None) -> None:
        reports.append((message, hint))

    return rule(value, report), reports


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (schema.string, "app", "app"),
        (schema.string, 12, "12"),
        (schema.string, 1.5, "1.5"),
        (schema.handler, "pkg.app.handler", "pkg.app.handler"),
        (schema.role, "arn:aws:iam::123456789012:role/service-role/app", "arn:aws:iam::123456789012:role/service-role/app"),
        (schema.role, "app-role", "app-role"),
        (schema.layers, ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"] * 5,
         ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"] * 5),
        (schema.environment, {"A": "MiXed", "N": 3, "F": 1.5, "ON": True, "OFF": False},
         {"A": "MiXed", "N": "3", "F": "1.5", "ON": "true", "OFF": "false"}),
        (schema.tags, {"team": "web", "n": 1}, {"team": "web", "n": "1"}),
        (schema.string_list, ["a", "b"], ["a", "b"]),
        (schema.string_list, [], []),
        (schema.boolean, False, False),
        (schema.boolean, True, True),
        (schema.strip, "tests", ["tests"]),
        (schema.strip, ["tests"], ["tests"]),
        ((schema.integer, 128, 10240, "MB"), 128, 128),
        ((schema.integer, 128, 10240, "MB"), 10240, 10240),
        ((schema.one_of, ("x86_64", "arm64")), "arm64", "arm64"),
    ],
)
def test_valid_values_pass_converted_and_unreported(rule, value: Any, expected: Any) -> None:
    assert check(built(rule), value) == (expected, [])


def built(rule):
    """A rule; (factory, *args) makes one here, in the test, not when the module is imported."""
    return rule[0](*rule[1:]) if isinstance(rule, tuple) else rule


@pytest.mark.parametrize(
    ("rule", "value", "message", "hint"),
    [
        (schema.string, True, "must be a string, got a boolean", None),
        (schema.string, ["a"], "must be a string, got a list", None),
        (schema.string, {"a": 1}, "must be a string, got a mapping", None),
        (schema.string, None, "must be a string, got NoneType", None),
        (schema.string, {1}, "must be a string, got set", None),
        (schema.handler, "app", "invalid handler 'app'", "module.function, e.g. app.handler or pkg.app.handler"),
        (schema.handler, "app.1x", "invalid handler 'app.1x'", "module.function, e.g. app.handler or pkg.app.handler"),
        (schema.handler, 3, "invalid handler '3'", "module.function, e.g. app.handler or pkg.app.handler"),
        (schema.handler, None, "must be a string, got NoneType", None),
        (schema.role, "arn:aws:iam::12:role/x", "invalid role ARN 'arn:aws:iam::12:role/x'",
         "arn:aws:iam::123456789012:role/NAME, or a role name"),
        (schema.role, "my role", "invalid role name 'my role'", "an IAM role name or ARN"),
        (schema.role, False, "must be a string, got a boolean", None),
        (schema.layers, ["arn:aws:lambda:us-east-1:123456789012:layer:x"],
         "invalid layer ARN 'arn:aws:lambda:us-east-1:123456789012:layer:x'",
         "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"),
        (schema.layers, ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"] * 6,
         "6 layers; Lambda allows at most 5", None),
        (schema.layers, "arn:aws:lambda:eu-west-1:123456789012:layer:deps:7", "must be a list of strings", None),
        (schema.string_list, ["a", 1], "must be a list of strings", None),
        (schema.string_list, "a", "must be a list of strings", None),
        (schema.environment, ["A"], "must be a mapping of NAME: value", None),
        (schema.environment, {"1A": "x"}, "invalid variable name '1A'", "a letter, then letters, digits or _"),
        (schema.environment, {3: "x"}, "invalid variable name 3", "a letter, then letters, digits or _"),
        (schema.environment, {"AWS_REGION": "x"}, "AWS_REGION is reserved by Lambda", "pick another name"),
        (schema.environment, {"A": None}, "A: value must be a string or number, got NoneType", None),
        (schema.environment, {"A": [1]}, "A: value must be a string or number, got a list", None),
        (schema.environment, {"A": {"b": 1}}, "A: value must be a string or number, got a mapping", None),
        (schema.tags, {"a": [1]}, "must be a mapping of key: value strings", None),
        (schema.tags, ["a"], "must be a mapping of key: value strings", None),
        (schema.boolean, "yes", "must be true or false, got 'yes'", None),
        (schema.strip, "docs", "invalid strip value 'docs'", "allowed: tests"),
        (schema.strip, {"tests": 1}, "invalid strip value {'tests': 1}", "allowed: tests"),
        ((schema.integer, 128, 10240, "MB"), 127, "127 is out of range", "allowed: 128..10240 MB"),
        ((schema.integer, 128, 10240, "MB"), 10241, "10241 is out of range", "allowed: 128..10240 MB"),
        ((schema.integer, 1, 900, "seconds"), "30", "must be a whole number of seconds, got '30'", "1..900"),
        ((schema.integer, 1, 900, "seconds"), True, "must be a whole number of seconds, got True", "1..900"),
        ((schema.integer, 1, 900, "seconds"), 2.5, "must be a whole number of seconds, got 2.5", "1..900"),
        ((schema.one_of, ("x86_64", "arm64")), "arm", "'arm' is not allowed; allowed: x86_64, arm64",
         "did you mean arm64?"),
        ((schema.one_of, ("x86_64", "arm64")), "zzz", "'zzz' is not allowed; allowed: x86_64, arm64", None),
    ],
)
def test_invalid_values_are_reported_once_and_dropped(rule, value: Any, message: str, hint: str | None) -> None:
    assert check(built(rule), value) == (None, [(message, hint)])


def test_closest_suggests_only_near_misses() -> None:
    assert schema.closest("memroy", list(schema.FIELD_RULES)) == "memory"
    assert schema.closest("xyz", ["memory", "timeout"]) is None
    assert schema.closest("time", ["timeout", "tim"]) == "tim"


# -- triggers ---------------------------------------------------------------------------

class Errors(list):
    def __call__(self, where: tuple[str, ...], message: str, hint: str | None = None) -> None:
        self.append((".".join(where), message, hint))


def triggers(value: Any, lines: dict | None = None) -> tuple[tuple[Trigger, ...], Errors]:
    errors = Errors()
    return parse_triggers(value, ("functions", "api", "triggers"), errors, lines or {}), errors


AT = "functions.api.triggers"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"


def test_valid_triggers_become_models_with_alias_and_line() -> None:
    found, errors = triggers([
        {"s3": {"bucket": "uploads", "events": ["s3:ObjectCreated:*"], "alias": "prod"}},
        {"sqs": {"queue": QUEUE, "batch_size": 5}, "alias": "dev"},
        {"url": None},
        {"schedule": {"expression": "cron(0 12 * * ? *)"}},
        {"schedule": {"expression": "rate(1 hour)"}},
        {"kinesis": {"stream": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "starting_position": "LATEST"}},
        {"url": {"auth": "AWS_IAM", "cors": True}},
        {"url": {"cors": {"allow_origins": ["*"], "MaxAge": 60}}},
    ], lines={(*AT.split("."), "1"): 7})
    assert errors == []
    assert found[0] == Trigger("s3", {"bucket": "uploads", "events": ["s3:ObjectCreated:*"]}, "prod", None)
    assert found[1] == Trigger("sqs", {"queue": QUEUE, "batch_size": 5}, "dev", 7)
    assert found[2] == Trigger("url", {}, None, None)
    assert [t.kind for t in found] == ["s3", "sqs", "url", "schedule", "schedule", "kinesis", "url", "url"]


@pytest.mark.parametrize(
    ("entry", "where", "message", "hint"),
    [
        ("s3", f"{AT}.0", "each trigger is a mapping with one kind",
         "kinds: s3, sns, sqs, dynamodb, kinesis, schedule, url"),
        ({"s3": {"bucket": "b12"}, "sqs": {"queue": QUEUE}}, f"{AT}.0", "each trigger is a mapping with one kind",
         "kinds: s3, sns, sqs, dynamodb, kinesis, schedule, url"),
        ({"alias": "dev"}, f"{AT}.0", "each trigger is a mapping with one kind",
         "kinds: s3, sns, sqs, dynamodb, kinesis, schedule, url"),
        ({"sqss": {"queue": QUEUE}}, f"{AT}.0.sqss", "unknown trigger kind 'sqss'", "did you mean sqs?"),
        ({"ftp": {}}, f"{AT}.0.ftp", "unknown trigger kind 'ftp'", "kinds: s3, sns, sqs, dynamodb, kinesis, schedule, url"),
        ({"sqs": [QUEUE]}, f"{AT}.0.sqs", "settings must be a mapping", None),
        ({"sqs": {}}, f"{AT}.0.sqs.queue", "missing `queue` for a sqs trigger", None),
        ({"sqs": {"queue": QUEUE, "batchsize": 5}}, f"{AT}.0.sqs.batchsize", "unknown setting", "did you mean batch_size?"),
        ({"sqs": {"queue": QUEUE, "colour": 5}}, f"{AT}.0.sqs.colour", "unknown setting",
         "allowed: queue, batch_size, enabled, batching_window"),
        ({"kinesis": {"stream": "orders"}}, f"{AT}.0.kinesis.stream", "invalid ARN 'orders'",
         "the kinesis stream ARN, arn:aws:kinesis:REGION:ACCOUNT:..."),
        ({"sqs": {"queue": "jobs"}}, f"{AT}.0.sqs.queue", "invalid ARN 'jobs'", "the sqs queue ARN, arn:aws:sqs:REGION:ACCOUNT:..."),
        ({"sns": {"topic": "arn:aws:sns:us-east-1:12:t"}}, f"{AT}.0.sns.topic", "invalid ARN 'arn:aws:sns:us-east-1:12:t'",
         "the sns topic ARN, arn:aws:sns:REGION:ACCOUNT:..."),
        ({"s3": {"bucket": "Uploads"}}, f"{AT}.0.s3.bucket", "invalid bucket name 'Uploads'",
         "3-63 lowercase letters, digits, . and -"),
        ({"s3": {"bucket": "ab"}}, f"{AT}.0.s3.bucket", "invalid bucket name 'ab'", "3-63 lowercase letters, digits, . and -"),
        ({"schedule": {"expression": "rate(5 weeks)"}}, f"{AT}.0.schedule.expression",
         "invalid schedule expression 'rate(5 weeks)'", "rate(5 minutes), rate(1 hour) or cron(0 12 * * ? *)"),
        ({"schedule": {"expression": "cron(0 12 * * ?)"}}, f"{AT}.0.schedule.expression",
         "invalid schedule expression 'cron(0 12 * * ?)'", "rate(5 minutes), rate(1 hour) or cron(0 12 * * ? *)"),
        ({"dynamodb": {"stream": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
                       "starting_position": "AT_TIMESTAMP"}},
         f"{AT}.0.dynamodb.starting_position", "invalid starting position 'AT_TIMESTAMP'", "LATEST or TRIM_HORIZON"),
        ({"url": {"cors": "yes"}}, f"{AT}.0.url.cors", "cors must be true or a mapping, not 'yes'",
         'e.g. cors: {allow_origins: ["https://example.com"], allow_methods: [GET]}'),
        ({"url": {"cors": False}}, f"{AT}.0.url.cors", "cors must be true or a mapping, not False",
         'e.g. cors: {allow_origins: ["https://example.com"], allow_methods: [GET]}'),
        ({"url": {"cors": {"origins": ["*"]}}}, f"{AT}.0.url.cors.origins", "unknown CORS setting",
         "allowed: allow_credentials, allow_headers, allow_methods, allow_origins, expose_headers, max_age"),
        ({"url": {"auth": "IAM"}}, f"{AT}.0.url.auth", "invalid auth 'IAM'", "NONE or AWS_IAM"),
    ],
)
def test_each_invalid_trigger_is_reported_where_it_is(entry: Any, where: str, message: str, hint: str | None) -> None:
    found, errors = triggers([entry])
    assert found == ()
    assert errors == [(where, message, hint)]


def test_triggers_must_be_a_list_and_bad_entries_do_not_hide_good_ones() -> None:
    assert triggers({"s3": {"bucket": "b12"}}) == ((), [(AT, "must be a list of triggers", "e.g. - s3: {bucket: uploads}")])
    found, errors = triggers(["s3", {"sqs": ["x"]}, {"ftp": {}}, {"s3": {"bucket": "uploads"}}, {"sqs": {}}])
    assert [t.kind for t in found] == ["s3"]
    assert [e[0] for e in errors] == [f"{AT}.0", f"{AT}.1.sqs", f"{AT}.2.ftp", f"{AT}.4.sqs.queue"]


def test_the_alias_key_may_come_before_the_kind() -> None:
    found, errors = triggers([{"alias": "prod", "sqs": {"queue": QUEUE}}])
    assert (found, errors) == ((Trigger("sqs", {"queue": QUEUE}, "prod", None),), [])


def test_every_problem_of_one_trigger_is_reported() -> None:
    _, errors = triggers([{"s3": {"bucket": "B", "colour": 1}}])
    assert [e[1] for e in errors] == ["unknown setting", "invalid bucket name 'B'"]
