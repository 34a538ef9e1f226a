"""The smoke gate's judgement, edge by edge: JSON bodies, lists, error payloads, odd bytes.
test_smoke.py covers the common cases."""

from __future__ import annotations

import json

import pytest

from lambdadeploy.engine.smoke import (
    Report,
    SmokeResult,
    decode_payload,
    interpret,
    match_expectation,
    parse_report,
)

REPORT_LINE = ("REPORT RequestId: r1\tDuration: 3.50 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\t"
               "Max Memory Used: 40 MB\t\n")


@pytest.mark.parametrize(
    ("expected", "actual", "problem"),
    [
        ({"a": 1}, "not a mapping", "response: expected a mapping, got 'not a mapping'"),
        ({"a": 1}, {}, "response.a: missing (expected 1)"),
        (1, 2, "response: expected 1, got 2"),
        ({"a": [1, 2]}, {"a": [1, 3]}, "a[1]: expected 2, got 3"),
        ([{"id": 1}], [{"id": 2}], "[0].id: expected 1, got 2"),
        ([1, 2], [1], "response: expected [1, 2], got [1]"),
        ([1], "x", "response: expected [1], got 'x'"),
        # A string is decoded as JSON only where the key is `body` (API Gateway's response shape).
        ({"body": {"ok": True}}, {"body": "<html>"}, "body: expected a JSON body, got '<html>'"),
        ({"data": {"ok": True}}, {"data": '{"ok": true}'}, "data: expected a mapping, got '{\"ok\": true}'"),
        ({"body": [1, 2]}, {"body": "[1, 3]"}, "body[1]: expected 2, got 3"),
        ({"body": [1]}, {"body": "not json"}, "body: expected [1], got 'not json'"),
        ({"items": [1]}, {"items": "[1]"}, "items: expected [1], got '[1]'"),
        ({"r": {"body": {"n": 1}}}, {"r": {"body": '{"n": 2}'}}, "r.body.n: expected 1, got 2"),
        (True, 1, "response: expected True, got 1"),
        (0, False, "response: expected 0, got False"),
        ("1", 1, "response: expected '1', got 1"),
    ],
)
def test_mismatches_say_where_and_what(expected, actual, problem: str) -> None:
    assert match_expectation(expected, actual) == problem


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"body": [1, 2]}, {"body": "[1, 2]"}),
        ({"body": {"ok": True}}, {"body": {"ok": True}}),
        ({}, {"anything": 1}),
        ([], []),
        (None, None),
        (2, 2.0),
    ],
)
def test_matches(expected, actual) -> None:
    assert match_expectation(expected, actual) is None


def test_a_passing_invoke_keeps_payload_log_and_report() -> None:
    result = interpret("7", b'{"statusCode": 200}', None, "hello\n" + REPORT_LINE, {"statusCode": 200})
    assert result == SmokeResult(True, "7", {"statusCode": 200}, log_tail="hello\n" + REPORT_LINE,
                                 report=Report(3.5, 4, 128, 40))
    assert result.describe() == "passed in 3.5 ms"


def test_without_an_expectation_any_answer_passes() -> None:
    result = interpret("7", b"null", None, "", None)
    assert result == SmokeResult(True, "7", None, log_tail="", report=None)
    assert result.describe() == "passed"
    assert interpret("7", b'{"statusCode": 500}', None, "", None).passed


def test_a_mismatch_fails_with_the_reason() -> None:
    result = interpret("7", b'{"statusCode": 500}', None, REPORT_LINE, {"statusCode": 200})
    assert result == SmokeResult(False, "7", {"statusCode": 500}, mismatch="statusCode: expected 200, got 500",
                                 log_tail=REPORT_LINE, report=Report(3.5, 4, 128, 40))
    assert result.describe() == "failed in 3.5 ms: statusCode: expected 200, got 500"


def test_a_function_error_fails_even_when_the_expectation_matches() -> None:
    body = {"errorType": "KeyError", "errorMessage": "'id'"}
    result = interpret("7", json.dumps(body).encode(), "Unhandled", REPORT_LINE, {"errorType": "KeyError"})
    assert result == SmokeResult(False, "7", body, "Unhandled", "KeyError", "'id'", log_tail=REPORT_LINE,
                                 report=Report(3.5, 4, 128, 40))
    assert result.describe() == "failed in 3.5 ms: KeyError: 'id'"


def test_a_function_error_that_is_not_a_json_object_shows_its_text() -> None:
    result = interpret("7", b"Runtime exited \xff", "Unhandled", "", None)
    assert (result.passed, result.error_type, result.error_message) == (False, None, "Runtime exited \ufffd")
    assert result.payload == "Runtime exited \ufffd"
    assert result.describe() == "failed: Unhandled: Runtime exited \ufffd"
    # A JSON error object without a message names no message, rather than repeating the payload.
    bare = interpret("7", b'{"errorType": "Oops"}', "Handled", "", None)
    assert (bare.error_type, bare.error_message) == ("Oops", None)
    assert bare.describe() == "failed: Oops"
    # Only the separator is trimmed from the end, never the message's own last letters.
    maxed = interpret("7", b'{"errorType": "LimitX", "errorMessage": "over MAX"}', "Unhandled", "", None)
    assert maxed.describe() == "failed: LimitX: over MAX"
    listed = interpret("7", b"[1]", "Unhandled", "", None)
    assert (listed.error_type, listed.error_message) == (None, "[1]")


def test_payloads_decode_to_json_or_text() -> None:
    assert decode_payload(b"") is None
    assert decode_payload(b'{"a": [1]}') == {"a": [1]}
    assert decode_payload(b"plain text") == "plain text"
    assert decode_payload(b"\xff\xfe") == "\ufffd\ufffd"


def test_report_line_parsing() -> None:
    assert parse_report(None) is None
    assert parse_report("") is None
    assert parse_report("START\n" + REPORT_LINE + "END") == Report(3.5, 4, 128, 40)
    slow = REPORT_LINE.replace("3.50 ms", "1234.56 ms")
    assert parse_report(slow).duration_ms == 1234.56
    assert SmokeResult(True, "1", None, report=parse_report(slow)).describe() == "passed in 1235 ms"


def test_durations_show_one_decimal_below_ten_ms() -> None:
    def timing(ms: float) -> str:
        return SmokeResult(True, "1", None, report=Report(ms, 1, 128, 1)).describe()

    assert [timing(ms) for ms in (0.04, 9.94, 10.0, 10.5, 99.4)] == [
        "passed in 0.0 ms", "passed in 9.9 ms", "passed in 10 ms", "passed in 10 ms", "passed in 99 ms"]


@pytest.mark.parametrize(
    ("memory", "used", "hint"),
    [
        (128, 10, None),  # already the smallest size
        (129, 40, "used 40 of 129 MB; memory: 128 would likely do"),
        (192, 64, None),  # used a third: not "far less"
        (192, 63, "used 63 of 192 MB; memory: 128 would likely do"),
        (1024, 100, "used 100 of 1024 MB; memory: 256 would likely do"),  # twice the use, in 64 MB steps
        (1024, 96, "used 96 of 1024 MB; memory: 192 would likely do"),
        (4096, 1000, "used 1000 of 4096 MB; memory: 2048 would likely do"),
    ],
)
def test_right_sizing_suggests_twice_the_peak_rounded_up_to_64_mb(memory: int, used: int, hint: str | None) -> None:
    from lambdadeploy.engine.smoke import right_sizing_hint

    assert right_sizing_hint(Report(5.0, 5, memory, used)) == hint


def test_cost_per_million_counts_every_invoke() -> None:
    from lambdadeploy.engine.smoke import cost_per_million

    # 1,000,000 invokes x 0.1 s x 1 GB x the arm64 price, plus $0.20 of requests.
    assert cost_per_million(Report(90.0, 100, 1024, 50), "arm64") == pytest.approx(1.53334, rel=1e-9)


def test_a_host_build_smoke_test_is_labelled_as_such_passed_or_failed() -> None:
    # --smoke-arch host: what ran is not the deployed artifact, and every summary must say so.
    report = "REPORT RequestId: r Duration: 12.0 ms Billed Duration: 13 ms Memory Size: 128 MB Max Memory Used: 40 MB"
    passed = interpret("4", b'{"ok": true}', None, report, {"ok": True}, host_build="aarch64")
    assert (passed.passed, passed.host_build) == (True, "aarch64")
    assert passed.describe() == "passed in 12 ms (host aarch64 build)"
    failed = interpret("4", b'{"errorType": "E", "errorMessage": "m"}', "Unhandled", "", None, host_build="aarch64")
    assert (failed.passed, failed.host_build) == (False, "aarch64")
    assert failed.describe() == "failed (host aarch64 build): E: m"
    assert interpret("4", b"1", None, "", None).host_build is None
