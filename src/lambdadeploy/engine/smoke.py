"""Smoke invokes: matching the response against `test.expect`, reading the REPORT line,
and what an invoke like the measured one costs.

The matching and parsing are pure; `smoke_invoke` is the one function that calls AWS.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ..aws import AwsSession
from ..runtimes import HOST_BUILD_HEADER, SMOKE_ARCH_CONTEXT_KEY

# Lambda on-demand prices, us-east-1, as published on 2026-11-01 (aws.amazon.com/lambda/pricing).
PRICES_DATE = "2026-11-01"
PRICE_PER_MILLION_REQUESTS = 0.20
PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}

REPORT = re.compile(
    r"REPORT RequestId:.*?Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: (?P<billed>\d+) ms"
    r"\s+Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB"
)


@dataclass(frozen=True)
class Report:
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int


@dataclass(frozen=True)
class SmokeResult:
    """The outcome of one smoke invoke of a version."""

    passed: bool
    version: str
    payload: Any
    function_error: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    mismatch: str | None = None
    log_tail: str = ""
    report: Report | None = None
    # --smoke-arch host in the sandbox: the architecture the native code was rebuilt for, so
    # what ran is not the deployed artifact (None: the deployed artifact ran)
    host_build: str | None = None

    def describe(self) -> str:
        """One line: 'passed in 12 ms' or why it failed."""
        timing = f" in {_ms(self.report.duration_ms)} ms" if self.report else ""
        if self.host_build:
            timing += f" (host {self.host_build} build)"
        if self.passed:
            return f"passed{timing}"
        if self.function_error:
            return f"failed{timing}: {self.error_type or self.function_error}: {self.error_message or ''}".rstrip(": ")
        return f"failed{timing}: {self.mismatch}"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def parse_report(log_tail: str) -> Report | None:
    """The REPORT line Lambda writes at the end of every invoke's log."""
    match = REPORT.search(log_tail or "")
    if not match:
        return None
    return Report(
        float(match["duration"]), int(match["billed"]), int(match["memory"]), int(match["used"])
    )


def cost_per_million(report: Report, architecture: str) -> float:
    """USD for a million invokes like this one: requests plus GB-seconds at the billed duration."""
    gb_seconds = report.billed_ms / 1000 * report.memory_mb / 1024
    return PRICE_PER_MILLION_REQUESTS + 1_000_000 * gb_seconds * PRICE_PER_GB_SECOND[architecture]


def right_sizing_hint(report: Report) -> str | None:
    """Suggest less memory when the function used far less than it was given."""
    if report.memory_mb > 128 and report.max_memory_mb * 3 < report.memory_mb:
        suggestion = max(128, ((report.max_memory_mb * 2 + 63) // 64) * 64)
        return f"used {report.max_memory_mb} of {report.memory_mb} MB; memory: {suggestion} would likely do"
    return None


def match_expectation(expected: Any, actual: Any, path: str = "") -> str | None:
    """None when `actual` contains `expected` (mappings: subset; lists and scalars: equal).

    A JSON string `body` (the API Gateway response shape) is decoded when the
    expectation for it is a mapping or list, so `expect: {body: {ok: true}}` works.
    """
    where = path or "response"
    if isinstance(expected, dict):
        if isinstance(actual, str) and path.endswith("body"):
            try:
                actual = json.loads(actual)
            except ValueError:
                return f"{where}: expected a JSON body, got {actual!r}"
        if not isinstance(actual, dict):
            return f"{where}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing (expected {value!r})"
            problem = match_expectation(value, actual[key], f"{path}.{key}" if path else str(key))
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if isinstance(actual, str) and path.endswith("body"):
            with contextlib.suppress(ValueError):
                actual = json.loads(actual)
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: expected {expected!r}, got {actual!r}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problem = match_expectation(want, got, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if expected != actual or (type(expected) is not type(actual) and not _both_numbers(expected, actual)):
        return f"{where}: expected {expected!r}, got {actual!r}"
    return None


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))


def decode_payload(payload_bytes: bytes) -> Any:
    """An invoke's response: the JSON value, or the text when it is not JSON."""
    text = payload_bytes.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def interpret(version: str, payload_bytes: bytes, function_error: str | None, log_tail: str, expect: Any,
              host_build: str | None = None) -> SmokeResult:
    """Turn a raw invoke response into a SmokeResult (pure, so it is tested without AWS)."""
    payload = decode_payload(payload_bytes)
    text = payload_bytes.decode("utf-8", errors="replace")
    report = parse_report(log_tail)
    if function_error:
        error = payload if isinstance(payload, dict) else {}
        return SmokeResult(
            False, version, payload, function_error,
            error.get("errorType"), error.get("errorMessage") or (text if not error else None),
            log_tail=log_tail, report=report, host_build=host_build,
        )
    mismatch = match_expectation(expect, payload) if expect is not None else None
    return SmokeResult(mismatch is None, version, payload, mismatch=mismatch, log_tail=log_tail, report=report,
                       host_build=host_build)


def invoke(session: AwsSession, function_name: str, qualifier: str | None, event: Any,
           smoke_arch: str = "function") -> tuple[bytes, str | None, str, str | None]:
    """Synchronous invoke with the log tail: (payload, FunctionError, decoded log tail, host build).

    ``smoke_arch="host"`` asks the sandbox (through the ClientContext) to run native code
    rebuilt for its machine; the last item is the architecture it was rebuilt for, if it was."""
    kwargs: dict[str, Any] = {
        "FunctionName": function_name,
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "Payload": json.dumps(event).encode(),
    }
    if qualifier:
        kwargs["Qualifier"] = qualifier
    if smoke_arch == "host":
        context = {"custom": {SMOKE_ARCH_CONTEXT_KEY: "host"}}
        kwargs["ClientContext"] = base64.b64encode(json.dumps(context).encode()).decode()
    response = session.client("lambda").invoke(**kwargs)
    log_tail = base64.b64decode(response.get("LogResult") or "").decode("utf-8", errors="replace")
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return response["Payload"].read(), response.get("FunctionError"), log_tail, headers.get(HOST_BUILD_HEADER)


def smoke_invoke(session: AwsSession, function_name: str, version: str, event: Any, expect: Any,
                 smoke_arch: str = "function") -> SmokeResult:
    """Invoke exactly `version` with the test payload and judge the answer."""
    payload, function_error, log_tail, host_build = invoke(session, function_name, version, event, smoke_arch)
    return interpret(version, payload, function_error, log_tail, expect, host_build)
