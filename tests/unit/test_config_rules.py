"""The rules behind lambda.yaml's fields and triggers, called directly: what each accepts,
converts, and reports (where, message and hint). test_config.py checks them through whole files.

Function fields are `config/rules.py` FUNCTION_FIELDS (typed `fields.py` rules); trigger
settings are each kind's `settings` Record, validated by `Validator._triggers`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdadeploy import runtimes
from lambdadeploy.config.rules import FUNCTION_FIELDS, Role
from lambdadeploy.config.validate import Validator
from lambdadeploy.fields import (
    INVALID,
    Boolean,
    Field,
    Integer,
    Json,
    OneOf,
    Record,
    Reporter,
    Text,
    TextList,
    TextMap,
    closest,
)
from lambdadeploy.triggers.base import Trigger
from lambdadeploy.triggers.registry import kind, make_trigger, names
from lambdadeploy.triggers.s3 import S3Settings
from lambdadeploy.triggers.schedule import ScheduleSettings
from lambdadeploy.triggers.sqs import SqsSettings
from lambdadeploy.triggers.url import UrlSettings

FIELD = {f.name: f.rule for f in FUNCTION_FIELDS}
LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/app"
ENV_HINT = "a letter, then one or more letters, digits or _"


def check(rule: Any, value: Any) -> tuple[Any, list[tuple[str, str, str | None]]]:
    """The rule's result and its reports as (where below the field, message, hint)."""
    reports: list[tuple[str, str, str | None]] = []
    result = rule.check(value, Reporter(lambda where, message, hint: reports.append((".".join(where), message, hint))))
    return result, reports


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (Text(), "app", "app"),
        (Text(), 12, "12"),
        (Text(), 1.5, "1.5"),
        (FIELD["description"], "x" * 256, "x" * 256),
        (Role(), ROLE_ARN, ROLE_ARN),
        (FIELD["role"], "app-role", "app-role"),
        (FIELD["layers"], [LAYER] * 5, (LAYER,) * 5),
        (FIELD["environment"], {"AB": "MiXed", "N1": 3, "F1": 1.5, "ON": True, "OFF": False},
         {"AB": "MiXed", "N1": "3", "F1": "1.5", "ON": "true", "OFF": "false"}),
        (FIELD["tags"], {"team": "web", "n": 1}, {"team": "web", "n": "1"}),
        (TextList(), ["a", "b"], ("a", "b")),
        (TextList(), ["a", 1], ("a", "1")),
        (TextList(), [], ()),
        (TextList(min_items=1, max_items=2), ["a", "b"], ("a", "b")),
        (Boolean(), False, False),
        (Boolean(), True, True),
        (FIELD["strip"], "tests", ("tests",)),
        (FIELD["strip"], ["tests"], ("tests",)),
        (FIELD["memory"], 128, 128),
        (FIELD["memory"], 10240, 10240),
        (FIELD["timeout"], 900, 900),
        (FIELD["architecture"], "arm64", "arm64"),
        (FIELD["runtime"], "python3.12", "python3.12"),
        (Json(), {"any": ["json"]}, {"any": ["json"]}),
    ],
)
def test_valid_values_pass_converted_and_unreported(rule: Any, value: Any, expected: Any) -> None:
    assert check(rule, value) == (expected, [])


@pytest.mark.parametrize(
    ("rule", "value", "where", "message", "hint"),
    [
        (Text(), True, "", "must be a string, got a boolean", None),
        (Text(), ["a"], "", "must be a string, got a list", None),
        (Text(), {"a": 1}, "", "must be a string, got a mapping", None),
        (Text(), None, "", "must be a string, got nothing", None),
        (Text(), {1}, "", "must be a string, got set", None),
        (FIELD["description"], "x" * 257, "", "is 257 characters long; at most 256 are allowed", None),
        (Role(), "arn:aws:iam::12:role/x", "", "invalid role ARN 'arn:aws:iam::12:role/x'",
         "arn:aws:iam::123456789012:role/NAME, or a role name"),
        (Role(), "my role", "", "invalid role name 'my role'", "an IAM role name or ARN"),
        (Role(), False, "", "must be a string, got a boolean", None),
        (FIELD["layers"], ["arn:aws:lambda:us-east-1:123456789012:layer:x"], "0",
         "invalid layer ARN 'arn:aws:lambda:us-east-1:123456789012:layer:x'",
         "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"),
        (FIELD["layers"], [LAYER] * 6, "", "6 items; at most 5 are allowed", None),
        (FIELD["layers"], LAYER, "", "must be a list, got a string", None),
        (TextList(), "a", "", "must be a list, got a string", None),
        (TextList(), ["a", ["b"]], "1", "must be a string, got a list", None),
        (TextList(min_items=1), [], "", "needs at least 1 item", None),
        (TextList(min_items=2), ["a"], "", "needs at least 2 items", None),
        (FIELD["environment"], ["A"], "", "must be a mapping of NAME: value, got a list", None),
        (FIELD["environment"], {"1A": "x"}, "1A", "invalid variable name '1A'", ENV_HINT),
        (FIELD["environment"], {"A": "x"}, "A", "invalid variable name 'A'", ENV_HINT),
        (FIELD["environment"], {3: "x"}, "3", "invalid variable name '3'", ENV_HINT),
        (FIELD["environment"], {"AWS_REGION": "x"}, "AWS_REGION", "AWS_REGION is reserved by Lambda",
         "pick another name"),
        (FIELD["environment"], {"AB": None}, "AB", "must be a string or number, got nothing", None),
        (FIELD["environment"], {"AB": [1]}, "AB", "must be a string or number, got a list", None),
        (FIELD["environment"], {"AB": {"b": 1}}, "AB", "must be a string or number, got a mapping", None),
        (FIELD["tags"], {"a": [1]}, "a", "must be a string or number, got a list", None),
        (FIELD["tags"], ["a"], "", "must be a mapping of NAME: value, got a list", None),
        (TextMap(what="tag"), "a", "", "must be a mapping of NAME: tag, got a string", None),
        (Boolean(), "yes", "", "must be true or false, got 'yes'", None),
        (FIELD["strip"], "docs", "", "'docs' is not allowed; allowed: tests", None),
        (FIELD["strip"], ["tests", "docs"], "1", "'docs' is not allowed; allowed: tests", None),
        (FIELD["strip"], {"tests": 1}, "", "must be a list, got a mapping", None),
        (FIELD["memory"], 127, "", "127 is out of range", "allowed: 128..10240 MB"),
        (FIELD["memory"], 10241, "", "10241 is out of range", "allowed: 128..10240 MB"),
        (FIELD["timeout"], "30", "", "must be a whole number of seconds, got '30'", "1..900"),
        (FIELD["timeout"], True, "", "must be a whole number of seconds, got True", "1..900"),
        (FIELD["timeout"], 2.5, "", "must be a whole number of seconds, got 2.5", "1..900"),
        (Integer(0, 5), -1, "", "-1 is out of range", "allowed: 0..5"),
        (Integer(0, 5), "x", "", "must be a whole number, got 'x'", "0..5"),
        (FIELD["architecture"], "arm", "", "'arm' is not allowed; allowed: x86_64, arm64", "did you mean arm64?"),
        (FIELD["architecture"], "zzz", "", "'zzz' is not allowed; allowed: x86_64, arm64", None),
        (OneOf(("a1", "b2")), 7, "", "7 is not allowed; allowed: a1, b2", None),
    ],
)
def test_invalid_values_are_reported_once_where_they_are(rule: Any, value: Any, where: str, message: str,
                                                         hint: str | None) -> None:
    assert check(rule, value) == (INVALID, [(where, message, hint)])


def test_every_bad_entry_of_a_mapping_or_list_is_reported_not_just_the_first() -> None:
    assert check(FIELD["environment"], {"1A": "x", "OK": "y", "AB": None, "AWS_REGION": "z"}) == (INVALID, [
        ("1A", "invalid variable name '1A'", ENV_HINT),
        ("AB", "must be a string or number, got nothing", None),
    ])  # the reserved name is checked once the mapping itself is well-formed
    assert check(FIELD["environment"], {"AWS_REGION": "x", "AWS_LAMBDA_RUNTIME_API": "y"})[1] == [
        ("AWS_REGION", "AWS_REGION is reserved by Lambda", "pick another name"),
        ("AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_RUNTIME_API is reserved by Lambda", "pick another name"),
    ]
    assert check(TextList(), [True, "ok", None])[1] == [("0", "must be a string, got a boolean", None),
                                                         ("2", "must be a string, got nothing", None)]


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        ("app.handler", None),
        ("pkg.app.handler", None),
        ("app", "invalid handler 'app'"),
        ("app.1x", "invalid handler 'app.1x'"),
        ("3", "invalid handler '3'"),
    ],
)
def test_the_handler_rule_is_the_runtime_s(handler: str, problem: str | None) -> None:
    python = runtimes.find("python3.12")
    assert python is not None
    assert python.handler_problem(handler) == problem
    assert python.handler_example == "app.handler"


def test_closest_suggests_only_near_misses() -> None:
    assert closest("memroy", [f.name for f in FUNCTION_FIELDS]) == "memory"
    assert closest("xyz", ["memory", "timeout"]) is None
    assert closest("time", ["timeout", "tim"]) == "tim"


# -- records (the shape of every trigger's settings) -------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected", "reports"),
    [
        ({"queue": "q", "batch_size": 3}, SqsSettings("q", 3), []),
        ({"queue": "q", "batch_size": None}, SqsSettings("q"), []),  # null counts as not set
        (None, INVALID, [("queue", "missing `queue`", "the queue")]),
        ({}, INVALID, [("queue", "missing `queue`", "the queue")]),
        (["q"], INVALID, [("", "settings must be a mapping, got a list", None)]),
        ({"queue": "q", "batch": 1}, INVALID, [("batch", "unknown setting", "did you mean batch_size?")]),
        ({"queue": "q", "zzz": 1}, INVALID, [("zzz", "unknown setting", "allowed: queue, batch_size")]),
        ({"zzz": 1, "batch_size": "x"}, INVALID, [
            ("zzz", "unknown setting", "allowed: queue, batch_size"),
            ("queue", "missing `queue`", "the queue"),
            ("batch_size", "must be a whole number, got 'x'", "1..10")]),
    ],
)
def test_a_record_checks_every_field_into_its_dataclass(raw: Any, expected: Any, reports: list) -> None:
    record = Record((Field("queue", Text(), required=True, doc="the queue"), Field("batch_size", Integer(1, 10))),
                    SqsSettings)
    assert check(record, raw) == (expected, reports)


def test_a_required_field_without_help_has_no_hint() -> None:
    record = Record((Field("bucket", Text(), required=True),), S3Settings, what="s3")
    assert check(record, {}) == (INVALID, [("bucket", "missing `bucket`", None)])
    assert check(record, "b") == (INVALID, [("", "s3 must be a mapping, got a string", None)])


# -- triggers ---------------------------------------------------------------------------

AT = ("functions", "api", "triggers")
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
KINDS = "kinds: " + ", ".join(names())
CORS_HINT = 'e.g. cors: {allow_origins: ["https://example.com"], allow_methods: [GET]}'


def triggers(value: Any, lines: dict | None = None) -> tuple[tuple[Trigger, ...], list[tuple]]:
    validator = Validator(Path("/p/lambda.yaml"), lines or {})
    found = validator._triggers(value, AT, ("dev", "prod"))
    return found, [(i.line, i.field, i.message, i.hint) for i in validator.issues]


def test_valid_triggers_become_typed_settings_with_alias_and_line() -> None:
    found, errors = triggers([
        {"s3": {"bucket": "uploads", "events": ["s3:ObjectCreated:*"], "alias": "prod"}},
        {"sqs": {"queue": QUEUE, "batch_size": 5}, "alias": "dev"},
        {"url": None},
        {"schedule": {"expression": "cron(0 12 * * ? *)"}},
        {"schedule": {"expression": "rate(1 hour)"}},
        {"kinesis": {"stream": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "starting_position": "LATEST"}},
        {"url": {"auth": "AWS_IAM", "cors": True}},
        {"url": {"cors": {"allow_origins": "https://example.com", "MaxAge": 60}}},
    ], lines={(*AT, "1"): 7})
    assert errors == []
    assert found[0] == Trigger("s3", S3Settings("uploads", ("s3:ObjectCreated:*",)), "prod", None)
    assert found[1] == Trigger("sqs", SqsSettings(QUEUE, batch_size=5), "dev", 7)
    assert found[2] == Trigger("url", UrlSettings(), None, None)
    assert found[3].settings == ScheduleSettings("cron(0 12 * * ? *)")
    assert found[6].settings == UrlSettings("AWS_IAM", {"AllowOrigins": ["*"]})
    assert found[7].settings == UrlSettings("NONE", {"AllowOrigins": ["https://example.com"], "MaxAge": 60})
    assert [t.kind for t in found] == ["s3", "sqs", "url", "schedule", "schedule", "kinesis", "url", "url"]


@pytest.mark.parametrize(
    ("entry", "where", "message", "hint"),
    [
        ("s3", "0", "each trigger is a mapping with one kind", KINDS),
        ({"s3": {"bucket": "b12"}, "sqs": {"queue": QUEUE}}, "0", "each trigger is a mapping with one kind", KINDS),
        ({"alias": "dev"}, "0", "each trigger is a mapping with one kind", KINDS),
        ({"sqss": {"queue": QUEUE}}, "0.sqss", "unknown trigger kind 'sqss'", "did you mean sqs?"),
        ({"pigeon": {}}, "0.pigeon", "unknown trigger kind 'pigeon'", KINDS),
        ({"ftp": {}}, "0.ftp", "unknown trigger kind 'ftp'", "did you mean http?"),
        ({"sqs": {"queue": QUEUE}, "alias": "qa"}, "0.alias", "alias 'qa' is not one of the project's aliases",
         "aliases: dev, prod"),
        ({"sqs": {"queue": QUEUE, "alias": "qa"}}, "0.alias", "alias 'qa' is not one of the project's aliases",
         "aliases: dev, prod"),
        ({"sqs": [QUEUE]}, "0.sqs", "settings must be a mapping, got a list", None),
        ({"sqs": {}}, "0.sqs.queue", "missing `queue`", "the queue's ARN"),
        ({"sqs": {"queue": QUEUE, "batchsize": 5}}, "0.sqs.batchsize", "unknown setting", "did you mean batch_size?"),
        ({"sqs": {"queue": QUEUE, "colour": 5}}, "0.sqs.colour", "unknown setting",
         "allowed: queue, batch_size, enabled, batching_window, report_batch_item_failures, filter, "
         "maximum_concurrency"),
        ({"kinesis": {"stream": "orders"}}, "0.kinesis.stream", "invalid stream ARN 'orders'",
         "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"),
        ({"sqs": {"queue": "jobs"}}, "0.sqs.queue", "invalid queue ARN 'jobs'", "arn:aws:sqs:REGION:ACCOUNT:QUEUE"),
        ({"sns": {"topic": "arn:aws:sns:us-east-1:12:t"}}, "0.sns.topic",
         "invalid topic ARN 'arn:aws:sns:us-east-1:12:t'", "arn:aws:sns:REGION:ACCOUNT:TOPIC"),
        ({"s3": {"bucket": "Uploads"}}, "0.s3.bucket", "invalid bucket name 'Uploads'",
         "3-63 lowercase letters, digits, . and -"),
        ({"s3": {"bucket": "ab"}}, "0.s3.bucket", "invalid bucket name 'ab'", "3-63 lowercase letters, digits, . and -"),
        ({"schedule": {"expression": "rate(5 weeks)"}}, "0.schedule.expression",
         "invalid schedule expression 'rate(5 weeks)': expected rate(VALUE UNIT) with a whole VALUE and UNIT "
         "minute(s), hour(s) or day(s)", "rate(1 minute), rate(5 minutes), cron(0 12 * * ? *)"),
        ({"schedule": {"expression": "cron(0 12 * * ?)"}}, "0.schedule.expression",
         "invalid schedule expression 'cron(0 12 * * ?)': cron takes 6 fields (minutes hours day-of-month month "
         "day-of-week year), not 5", "rate(1 minute), rate(5 minutes), cron(0 12 * * ? *)"),
        ({"dynamodb": {"stream": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
                       "starting_position": "AT_TIMESTAMP"}}, "0.dynamodb.starting_position",
         "'AT_TIMESTAMP' is not allowed; allowed: LATEST, TRIM_HORIZON", "did you mean LATEST?"),
        ({"url": {"cors": "yes"}}, "0.url.cors", "cors must be true or a mapping, not a string", CORS_HINT),
        ({"url": {"cors": False}}, "0.url.cors", "cors must be true or a mapping, not a boolean", CORS_HINT),
        ({"url": {"cors": {"origins": ["*"]}}}, "0.url.cors.origins", "unknown CORS setting",
         "allowed: allow_credentials, allow_headers, allow_methods, allow_origins, expose_headers, max_age"),
        ({"url": {"auth": "IAM"}}, "0.url.auth", "'IAM' is not allowed; allowed: NONE, AWS_IAM",
         "did you mean AWS_IAM?"),
        # the rules AWS applies to a whole trigger (the kind's check), reported at the field they concern
        ({"sqs": {"queue": QUEUE, "batch_size": 50}}, "0.sqs.batch_size",
         "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
         "set batching_window: 1 (seconds) or more"),
        ({"sqs": {"queue": QUEUE + ".fifo", "batch_size": 50}}, "0.sqs.batch_size",
         "Maximum batch size must be between 1 and 10 inclusive for FIFO queues",
         "FIFO queues take batch_size 1..10 and no batching_window"),
        ({"sqs": {"queue": QUEUE + ".fifo", "batching_window": 5}}, "0.sqs.batching_window",
         "Batching window is not supported for FIFO queues", "FIFO queues take batch_size 1..10 and no batching_window"),
        ({"sns": {"topic": "arn:aws:sns:us-east-1:123456789012:t", "filter_policy": ["x"]}}, "0.sns.filter_policy",
         "must be a mapping (an SNS filter policy)", 'e.g. {event: ["created"]}'),
    ],
)
def test_each_invalid_trigger_is_reported_where_it_is(entry: Any, where: str, message: str, hint: str | None) -> None:
    found, errors = triggers([entry], lines={(*AT, "0"): 12})
    assert found == ()
    assert errors == [(12, "functions.api.triggers." + where, message, hint)]


def test_triggers_must_be_a_list_and_bad_entries_do_not_hide_good_ones() -> None:
    assert triggers({"s3": {"bucket": "b12"}}) == (
        (), [(None, "functions.api.triggers", "must be a list of triggers", "e.g. - s3: {bucket: uploads}")])
    found, errors = triggers(["s3", {"sqs": ["x"]}, {"ftp": {}}, {"s3": {"bucket": "uploads"}}, {"sqs": {}}])
    assert found == (Trigger("s3", S3Settings("uploads")),)
    assert [e[1] for e in errors] == ["functions.api.triggers.0", "functions.api.triggers.1.sqs",
                                      "functions.api.triggers.2.ftp", "functions.api.triggers.4.sqs.queue"]


def test_the_alias_key_may_come_before_the_kind() -> None:
    assert triggers([{"alias": "prod", "sqs": {"queue": QUEUE}}]) == ((Trigger("sqs", SqsSettings(QUEUE), "prod"),), [])


def test_every_problem_of_one_trigger_is_reported() -> None:
    _, errors = triggers([{"s3": {"bucket": "B", "colour": 1}}])
    assert [e[2:] for e in errors] == [("unknown setting", "allowed: bucket, events, prefix, suffix"),
                                       ("invalid bucket name 'B'", "3-63 lowercase letters, digits, . and -")]


def test_make_trigger_checks_like_validate_and_says_what_is_wrong() -> None:
    assert make_trigger("sqs", {"queue": QUEUE}, "dev") == Trigger("sqs", SqsSettings(QUEUE), "dev")
    assert kind("sqs").settings.make is SqsSettings
    with pytest.raises(ValueError, match=r"^sqs\.queue: invalid queue ARN 'jobs'$"):
        make_trigger("sqs", {"queue": "jobs"})
    with pytest.raises(ValueError, match=r"^sqs\.batch_size: Maximum batch window in seconds must be greater"):
        make_trigger("sqs", {"queue": QUEUE, "batch_size": 50})
