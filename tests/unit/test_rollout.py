"""The canary watch: what it does when watching itself fails, and how it asks CloudWatch."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest

from lambdadeploy.aws import AwsSession, AwsSettings
from lambdadeploy.engine.rollout import DATAPOINT_LIMIT, CanaryFailed, metric_period, watch_canary
from lambdadeploy.engine.steps import Watch
from lambdadeploy.errors import AwsError

STEP = Watch("shop-fn", "prod", "1", "2", seconds=1)


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> AwsSession:
    """A session whose endpoint refuses every connection: each CloudWatch call fails for real."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return AwsSession(AwsSettings(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                                  static_credentials=("k", "s")))


def test_any_error_while_watching_removes_the_weight_first(unreachable: AwsSession) -> None:
    cleared: list[str] = []
    with pytest.raises(CanaryFailed) as caught:
        watch_canary(unreachable, "shop-fn", STEP, "2", threading.Event(), cleared.append)
    assert cleared == ["canary v2 stopped: watching failed"]
    assert "watching the canary of version 2 failed" in caught.value.message
    assert "its weight was removed and alias prod serves 1 only" in caught.value.message


def test_when_the_weight_cannot_be_removed_either_the_user_is_told_how(unreachable: AwsSession) -> None:
    def cannot(note: str) -> None:
        raise AwsError("UpdateAlias failed: AccessDeniedException: not allowed")

    with pytest.raises(CanaryFailed) as caught:
        watch_canary(unreachable, "shop-fn", STEP, "2", threading.Event(), cannot)
    assert "its weight could not be removed (UpdateAlias failed: AccessDeniedException" in caught.value.message
    assert caught.value.hint == "remove it: lambdadeploy rollback --alias prod"


def test_long_watches_ask_for_no_more_datapoints_than_cloudwatch_returns() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert metric_period(start, start + dt.timedelta(minutes=10)) == 60
    assert metric_period(start, start + dt.timedelta(minutes=DATAPOINT_LIMIT)) == 60
    assert metric_period(start, start + dt.timedelta(minutes=DATAPOINT_LIMIT + 1)) == 120
    week = metric_period(start, start + dt.timedelta(days=7))
    assert week % 60 == 0 and 7 * 24 * 3600 / week <= DATAPOINT_LIMIT
