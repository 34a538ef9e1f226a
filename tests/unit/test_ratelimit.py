"""The client-side limiter: AWS's quotas per bucket, never more than the configured rate, slower
when AWS throttles, and LAMBDADEPLOY_API_RATE read strictly. A simulated clock, not timing."""

from __future__ import annotations

import pytest

from lambdadeploy.aws.quotas import (
    CONTROL_PLANE,
    GET_FUNCTION,
    GET_POLICY,
    bucket_of,
    configured_rates,
)
from lambdadeploy.aws.ratelimit import RateLimiter, TokenBucket
from lambdadeploy.errors import InvalidInputError


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def grant_times(bucket: TokenBucket, clock: FakeClock, count: int, gaps: list[float] | None = None) -> list[float]:
    times = []
    for index in range(count):
        clock.now += (gaps or [0.0])[index % len(gaps or [0.0])]
        bucket.take()
        times.append(clock.now)
    return times


@pytest.mark.parametrize("gaps", [[0.0], [0.01, 0.0, 0.3], [0.05]], ids=["flood", "bursty", "steady"])
def test_never_more_than_the_burst_plus_the_rate_in_any_window(gaps: list[float]) -> None:
    clock = FakeClock()
    bucket = TokenBucket(15.0, clock=clock, sleep=clock.sleep)
    times = grant_times(bucket, clock, 300, gaps)
    for first in range(len(times)):
        for last in range(first, min(len(times), first + 60)):
            granted = last - first + 1
            assert granted <= bucket.burst + 15.0 * (times[last] - times[first]) + 1e-9, (first, last)


def test_a_flood_is_served_as_soon_as_the_rate_allows() -> None:
    clock = FakeClock()
    bucket = TokenBucket(15.0, clock=clock, sleep=clock.sleep)
    times = grant_times(bucket, clock, 100)
    assert bucket.burst == 7.5  # half a second's worth (quotas.BURST_SECONDS)
    assert times[:7] == [0.0] * 7
    assert times[-1] == pytest.approx((100 - 7.5) / 15.0)


def test_throttling_halves_the_rate_down_to_a_tenth_and_answers_win_it_back() -> None:
    clock = FakeClock()
    bucket = TokenBucket(20.0, clock=clock, sleep=clock.sleep)
    bucket.throttled()
    assert bucket.rate == 10.0
    for _ in range(10):
        bucket.throttled()
    assert bucket.rate == 2.0
    for _ in range(100):
        bucket.answered()
    assert bucket.rate == 20.0  # never above the configured rate


def test_the_quotas_are_awss() -> None:
    assert configured_rates({}) == {GET_FUNCTION: 100.0, GET_POLICY: 15.0, CONTROL_PLANE: 15.0}
    assert bucket_of("lambda", "GetFunction") == GET_FUNCTION
    assert bucket_of("lambda", "GetPolicy") == GET_POLICY
    # One budget for every other control-plane API, reads and writes alike.
    assert {bucket_of("lambda", op) for op in ("GetAlias", "ListAliases", "UpdateFunctionCode", "PublishVersion",
                                               "GetFunctionConfiguration", "TagResource")} == {CONTROL_PLANE}
    assert bucket_of("lambda", "Invoke") is None and bucket_of("iam", "GetRole") is None


def test_apis_share_the_control_plane_bucket_and_unmetered_ones_pass() -> None:
    clock = FakeClock()
    limiter = RateLimiter({CONTROL_PLANE: 2.0, GET_FUNCTION: 100.0}, clock=clock, sleep=clock.sleep)
    for operation in ("UpdateFunctionCode", "PublishVersion", "UpdateAlias", "GetAlias"):
        limiter.acquire("lambda", operation)
    assert clock.now == pytest.approx(1.5)  # 1 saved up, then 2 per second, whichever API asks
    limiter.acquire("lambda", "Invoke")
    limiter.acquire("sts", "GetCallerIdentity")
    assert clock.now == pytest.approx(1.5)
    assert limiter.waited[CONTROL_PLANE] == pytest.approx(1.5)


@pytest.mark.parametrize(("value", "expected"), [
    ("30", {CONTROL_PLANE: 30.0}),
    ("control=30, GetFunction=200", {CONTROL_PLANE: 30.0, GET_FUNCTION: 200.0}),
    ("GetPolicy=2.5", {GET_POLICY: 2.5}),
])
def test_the_environment_overrides_named_rates(value: str, expected: dict[str, float]) -> None:
    rates = configured_rates({"LAMBDADEPLOY_API_RATE": value})
    assert rates == {GET_FUNCTION: 100.0, GET_POLICY: 15.0, CONTROL_PLANE: 15.0, **expected}


def test_off_turns_the_limit_off() -> None:
    assert configured_rates({"LAMBDADEPLOY_API_RATE": "off"}) == {}
    assert RateLimiter({}).acquire("lambda", "UpdateFunctionCode") == 0.0


@pytest.mark.parametrize("value", ["fast", "-3", "Invoke=5", "control=", "nan", "inf", "GetFunction=0"])
def test_a_bad_rate_is_bad_input(value: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        configured_rates({"LAMBDADEPLOY_API_RATE": value})
    assert raised.value.exit_code == 2 and "LAMBDADEPLOY_API_RATE" in raised.value.message
    assert "GetFunction" in raised.value.message and raised.value.hint
