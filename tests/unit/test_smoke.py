"""Smoke result interpretation, expectation matching, REPORT parsing, cost. No AWS."""

from __future__ import annotations

import json

import pytest

from lambdadeploy.engine.smoke import (
    Report,
    cost_per_million,
    interpret,
    match_expectation,
    parse_report,
    right_sizing_hint,
)

LOG = (
    "START RequestId: abc Version: 3\nhello\nEND RequestId: abc\n"
    "REPORT RequestId: abc\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 41 MB\t\n"
)


def test_parse_report() -> None:
    assert parse_report(LOG) == Report(12.34, 13, 512, 41)
    assert parse_report("no report here") is None


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ({"statusCode": 200}, {"statusCode": 200, "body": "x"}, True),
        ({"statusCode": 200}, {"statusCode": 500}, False),
        ({"statusCode": 200}, {}, False),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, True),
        ([1, 2], [1, 2], True),
        ([1, 2], [1, 2, 3], False),
        ({"body": {"ok": True}}, {"body": json.dumps({"ok": True, "n": 1})}, True),
        ({"body": {"ok": True}}, {"body": json.dumps({"ok": False})}, False),
        (True, 1, False),
        (1, 1.0, True),
        ("x", "x", True),
    ],
)
def test_match_expectation(expected, actual, ok: bool) -> None:
    assert (match_expectation(expected, actual) is None) is ok


def test_mismatch_names_the_path() -> None:
    assert match_expectation({"a": {"b": 1}}, {"a": {"b": 2}}) == "a.b: expected 1, got 2"


def test_interpret_function_error() -> None:
    body = json.dumps({"errorType": "ValueError", "errorMessage": "boom", "stackTrace": []}).encode()
    result = interpret("4", body, "Unhandled", LOG, None)
    assert not result.passed and result.error_type == "ValueError" and result.error_message == "boom"
    assert "ValueError: boom" in result.describe()


def test_interpret_pass_and_mismatch() -> None:
    assert interpret("4", b'{"statusCode": 200}', None, LOG, {"statusCode": 200}).passed
    failed = interpret("4", b'{"statusCode": 500}', None, LOG, {"statusCode": 200})
    assert not failed.passed and "statusCode" in failed.describe()


def test_cost_per_million_by_architecture() -> None:
    report = Report(12.0, 100, 1024, 50)
    # 1M * 0.1 s * 1 GB * price + $0.20 of requests
    assert cost_per_million(report, "x86_64") == pytest.approx(0.20 + 100_000 * 0.0000166667)
    assert cost_per_million(report, "arm64") < cost_per_million(report, "x86_64")


def test_right_sizing_hint() -> None:
    assert "memory: 128" in (right_sizing_hint(Report(1, 1, 1024, 40)) or "")
    assert right_sizing_hint(Report(1, 1, 128, 100)) is None
