"""AWS's own rules (awsrules/), called directly: what EventBridge, Lambda and S3 refuse, with
the code, status and message AWS sends. test_aws_rules_config.py checks the ones lambda.yaml
can break through whole files; the pre-flight and the sandbox use the rest."""

from __future__ import annotations

import pytest

from lambdadeploy.awsrules import Violation
from lambdadeploy.awsrules.events import INVALID, schedule_problem, schedule_violation
from lambdadeploy.awsrules.lambda_api import (
    environment_size,
    environment_violation,
    request_too_large,
    routing_violation,
    sqs_mapping_violations,
    tag_violations,
    visibility_violation,
)
from lambdadeploy.awsrules.s3 import (
    OVERLAPPING,
    NotificationRule,
    events_overlap,
    first_overlap,
    overlapping,
    rules_of,
)

# -- EventBridge schedule expressions -----------------------------------------------------------

RATE_FORM = "expected rate(VALUE UNIT) with a whole VALUE and UNIT minute(s), hour(s) or day(s)"
ONE_QUESTION_MARK = "exactly one of day-of-month and day-of-week must be `?`"


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(1 hour)", "rate(1 day)", "rate(5 minutes)", "rate(12 hours)", "rate(30 days)",
    "cron(0 12 * * ? *)", "cron(0 12 ? * MON-FRI *)", "cron(0 12 ? * mon *)", "cron(0/15 * * * ? *)",
    "cron(*/5 8-17 * * ? *)", "cron(0,30 12 * * ? *)", "cron(0 12 L * ? *)", "cron(0 12 LW * ? *)",
    "cron(0 12 15W * ? *)", "cron(0 12 1W * ? *)", "cron(0 12 31W * ? *)", "cron(0 12 ? * L *)",
    "cron(0 12 ? * 6L *)", "cron(0 12 ? * 2#3 *)", "cron(0 12 ? * 7#5 *)", "cron(0 12 * JAN-MAR ? *)",
    "cron(59 23 31 12 ? 2199)", "cron(0 0 1 1 ? 1970)", "cron(0 12 ? * SUN,SAT *)", "cron(0 12 ? * 1-7 *)",
])
def test_expressions_eventbridge_takes(expression: str) -> None:
    assert schedule_problem(expression) is None
    assert schedule_violation(expression) is None


@pytest.mark.parametrize(("expression", "problem"), [
    ("rate(0 minutes)", "the rate must be a positive whole number"),
    ("rate(1 hours)", "use `1 hour`: singular for 1, plural otherwise"),
    ("rate(5 minute)", "use `5 minutes`: singular for 1, plural otherwise"),
    ("rate(2 day)", "use `2 days`: singular for 1, plural otherwise"),
    ("rate(5 weeks)", RATE_FORM),
    ("rate(-1 hours)", RATE_FORM),
    ("rate(1.5 hours)", RATE_FORM),
    ("every day", "expected rate(...) or cron(...)"),
    ("cron(0 12 * * ?)", "cron takes 6 fields (minutes hours day-of-month month day-of-week year), not 5"),
    ("cron(0 12 * * ? * *)", "cron takes 6 fields (minutes hours day-of-month month day-of-week year), not 7"),
    ("cron(0 12 * * * *)", ONE_QUESTION_MARK),
    ("cron(0 12 ? * ? *)", ONE_QUESTION_MARK),
    ("cron(60 12 * * ? *)", "cron field 1 ('60') is not valid"),
    ("cron(? 12 * * ? *)", "cron field 1 ('?') is not valid"),
    ("cron(0 24 * * ? *)", "cron field 2 ('24') is not valid"),
    ("cron(0 1-2-3 * * ? *)", "cron field 2 ('1-2-3') is not valid"),
    ("cron(0/0 * * * ? *)", "cron field 1 ('0/0') is not valid"),
    ("cron(*/x * * * ? *)", "cron field 1 ('*/x') is not valid"),
    ("cron(0 12 0 * ? *)", "cron field 3 ('0') is not valid"),
    ("cron(0 12 32 * ? *)", "cron field 3 ('32') is not valid"),
    ("cron(0 12 32W * ? *)", "cron field 3 ('32W') is not valid"),
    ("cron(0 12 0W * ? *)", "cron field 3 ('0W') is not valid"),
    ("cron(0 12 * 13 ? *)", "cron field 4 ('13') is not valid"),
    ("cron(0 12 * FOO ? *)", "cron field 4 ('FOO') is not valid"),
    ("cron(0 12 * L ? *)", "cron field 4 ('L') is not valid"),
    ("cron(0 12 ? * 8L *)", "cron field 5 ('8L') is not valid"),
    ("cron(0 12 ? * 0L *)", "cron field 5 ('0L') is not valid"),
    ("cron(0 12 ? * 2#6 *)", "cron field 5 ('2#6') is not valid"),
    ("cron(0 12 ? * 0#2 *)", "cron field 5 ('0#2') is not valid"),
    ("cron(0 12 ? * 8 *)", "cron field 5 ('8') is not valid"),
    ("cron(0 12 ? * JAN *)", "cron field 5 ('JAN') is not valid"),
    ("cron(0 12 * * ? 1969)", "cron field 6 ('1969') is not valid"),
    ("cron(0 12 * * ? 2200)", "cron field 6 ('2200') is not valid"),
    ("cron(0 12 * * ? L)", "cron field 6 ('L') is not valid"),
])
def test_expressions_eventbridge_refuses_say_why(expression: str, problem: str) -> None:
    assert schedule_problem(expression) == problem
    assert schedule_violation(expression) == INVALID == Violation(
        "ValidationException", "Parameter ScheduleExpression is not valid.", 400)


# -- Lambda ---------------------------------------------------------------------------------

def test_a_request_over_lambda_s_cap_is_refused_as_aws_says() -> None:
    assert request_too_large("UpdateFunctionCode") == Violation(
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation", 413)


def test_the_environment_is_measured_as_compact_utf8_json_and_capped_at_4096_bytes() -> None:
    assert environment_size({"A": "é", "B": "1"}) == len('{"A":"é","B":"1"}'.encode())
    assert environment_size({}) == 2
    fits = {"A": "x" * 4088}  # {"A":"...."} = 4096 bytes
    assert environment_size(fits) == 4096 and environment_violation(fits) is None
    over = {"A": "é" * 2045}  # 4090 + 8 bytes
    assert environment_violation(over) == Violation(
        "InvalidParameterValueException",
        "Lambda was unable to configure your environment variables because the environment variables you have "
        'provided exceeded the 4KB limit. String measured: {"A":"' + "é" * 2045 + '"}')


@pytest.mark.parametrize(("batch", "window", "fifo", "messages"), [
    (10, 0, False, []),
    (11, 1, False, []),
    (10000, 300, False, []),
    (11, 0, False, ["Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"]),
    (10, 0, True, []),
    (11, 0, True, ["Maximum batch size must be between 1 and 10 inclusive for FIFO queues"]),
    (1, 1, True, ["Batching window is not supported for FIFO queues"]),
    (20, 5, True, ["Batching window is not supported for FIFO queues",
                   "Maximum batch size must be between 1 and 10 inclusive for FIFO queues"]),
])
def test_sqs_batches_and_windows_as_lambda_takes_them(batch: int, window: int, fifo: bool, messages: list) -> None:
    found = sqs_mapping_violations(batch, window, fifo)
    assert [v.message for v in found] == messages
    assert {(v.code, v.status) for v in found} <= {("InvalidParameterValueException", 400)}


def test_a_queue_must_stay_invisible_at_least_as_long_as_the_function_runs() -> None:
    assert visibility_violation(30, 30) is None
    assert visibility_violation(900, 30) is None
    assert visibility_violation(29, 30) == Violation(
        "InvalidParameterValueException",
        "Queue visibility timeout: 29 seconds is less than Function timeout: 30 seconds")


@pytest.mark.parametrize(("version", "weights", "message"), [
    ("1", {}, None),
    ("$LATEST", {}, None),
    ("1", {"2": 0.1}, None),
    ("$LATEST", {"2": 0.1}, "$LATEST is not supported for an alias pointing to more than 1 version"),
    ("1", {"$LATEST": 0.1}, "$LATEST is not supported for an alias pointing to more than 1 version"),
    ("1", {"2": 0.1, "3": 0.1}, "Number of items in AdditionalVersionWeights cannot be greater than 1"),
    ("1", {"1": 0.1}, "Alias cannot point to the same version twice"),
])
def test_an_alias_may_route_to_one_other_published_version(version: str, weights: dict, message: str | None) -> None:
    found = routing_violation(version, weights)
    assert found == (None if message is None else Violation("InvalidParameterValueException", message))


def test_tags_within_aws_limits_pass_and_each_excess_is_named() -> None:
    assert tag_violations({f"k{i}": "v" for i in range(50)}) == []
    assert tag_violations({"k" * 128: "v" * 256}) == []
    assert tag_violations({f"k{i}": "v" for i in range(51)}) == ["51 tags; a function may have at most 50"]
    assert tag_violations({"k" * 129: "v" * 257, "AWS:team": "x", "aws:x": "y", "my-aws:ok": "z"}) == [
        f"tag key {'k' * 20!r}... is 129 characters; at most 128",
        f"tag {'k' * 129!r}: value is 257 characters; at most 256",
        "tag key 'AWS:team': the aws: prefix is reserved for AWS",
        "tag key 'aws:x': the aws: prefix is reserved for AWS",
    ]


# -- S3 notifications -------------------------------------------------------------------------

def test_every_rule_of_a_notification_document_is_read_whatever_its_destination() -> None:
    document = {
        "TopicConfigurations": [{"Id": "t", "TopicArn": "arn:topic", "Events": ["s3:ObjectRemoved:*"]}],
        "LambdaFunctionConfigurations": [
            {"Id": "f", "LambdaFunctionArn": "arn:fn", "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".jpg"}]}}},
            {"LambdaFunctionArn": "arn:fn2"},
        ],
        "QueueConfigurations": [{"Id": "q", "QueueArn": "arn:queue", "Events": ["s3:ObjectCreated:Put"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "SUFFIX", "Value": ".png"}]}}}],
        "EventBridgeConfiguration": {},
    }
    assert rules_of(document) == [
        NotificationRule("f", "arn:fn", ("s3:ObjectCreated:*", "s3:ObjectRemoved:*"), "in/", ".jpg"),
        NotificationRule("", "arn:fn2", (), "", ""),
        NotificationRule("q", "arn:queue", ("s3:ObjectCreated:Put",), "", ".png"),
        NotificationRule("t", "arn:topic", ("s3:ObjectRemoved:*",), "", ""),
    ]
    assert rules_of({}) == [] and rules_of({"LambdaFunctionConfigurations": None}) == []
    assert rules_of({"QueueConfigurations": [{"Id": "q", "QueueArn": "a", "Filter": {"Key": {}}}]}) == [
        NotificationRule("q", "a", (), "", "")]


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ("s3:ObjectCreated:Put", "s3:ObjectCreated:Put", True),
    ("s3:ObjectCreated:*", "s3:ObjectCreated:Put", True),
    ("s3:ObjectRemoved:Delete", "s3:ObjectRemoved:*", True),
    ("s3:ObjectCreated:Put", "s3:ObjectCreated:Post", False),
    ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", False),
    ("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", False),
])
def test_event_types_overlap_within_one_family_through_a_wildcard(a: str, b: str, overlap: bool) -> None:
    assert events_overlap(a, b) is overlap and events_overlap(b, a) is overlap


def rule(name: str, prefix: str = "", suffix: str = "", events: tuple[str, ...] = ("s3:ObjectCreated:*",)):
    return NotificationRule(name, f"arn:{name}", events, prefix, suffix)


@pytest.mark.parametrize(("a", "b", "overlap"), [
    (rule("a"), rule("b"), True),  # no filter overlaps everything
    (rule("a", "in/"), rule("b"), True),
    (rule("a", "in/"), rule("b", "in/raw/"), True),
    (rule("a", "in/"), rule("b", "out/"), False),
    (rule("a", suffix=".jpg"), rule("b", suffix="g"), True),
    (rule("a", suffix=".jpg"), rule("b", suffix=".png"), False),
    (rule("a", "in/", ".jpg"), rule("b", "in/", ".png"), False),
    (rule("a", "in/", ".jpg"), rule("b", "out/", ".jpg"), False),
    (rule("a", events=("s3:ObjectCreated:Put", "s3:ObjectRemoved:*")), rule("b", events=("s3:ObjectRemoved:Delete",)),
     True),
    (rule("a", events=("s3:ObjectCreated:Put",)), rule("b", events=("s3:ObjectRemoved:*",)), False),
    (rule("a", events=()), rule("b"), False),
])
def test_two_rules_overlap_when_event_prefix_and_suffix_all_do(a, b, overlap: bool) -> None:
    assert overlapping(a, b) is overlap and overlapping(b, a) is overlap


def test_the_first_clash_is_named_earlier_rule_first() -> None:
    first, second, third = rule("a", "in/"), rule("b", "out/"), rule("c", "out/x/")
    assert first_overlap([first, second, third]) == (second, third)
    assert first_overlap([first, second]) is None
    assert first_overlap([]) is None
    assert OVERLAPPING.code == "InvalidArgument" and OVERLAPPING.status == 400
