"""Guards that decide whether a deploy may go on, in the branches no other test reaches and
that need no AWS: the rollout options that exclude each other, and how long the last canary
watch waits for late metrics. (The guards that need AWS answers are in tests/aws/test_push_guards.py,
tests/aws/test_canary_watch.py and tests/reliability/test_read_guard.py.)"""

from __future__ import annotations

import pytest

from lambdadeploy.cli.deploying import METRICS_DELAY_ENV, metrics_delay, parse_rollout
from lambdadeploy.engine.plan import Rollout
from lambdadeploy.errors import InvalidInputError


@pytest.mark.parametrize(
    ("canary", "watch", "alarms", "linear", "message"),
    [
        (10.0, None, (), "10/1m", "--linear STEP/INTERVAL replaces --canary and --watch; use one or the other"),
        (None, "5m", (), "10/1m", "--linear STEP/INTERVAL replaces --canary and --watch; use one or the other"),
        (None, None, (), "10", "--linear '10': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "100/1m", "--linear '100/1m': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "0/1m", "--linear '0/1m': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "10/", "--linear '10/': expected PERCENT/INTERVAL, e.g. 10/1m"),
        (None, None, (), "10/soon", "--linear interval 'soon' is not a duration"),
        (5.0, "later", (), None, "--watch 'later' is not a duration"),
        (None, "5m", (), None, "--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)"),
        (None, None, ("errors",), None, "--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)"),
    ],
)
def test_rollout_options_that_do_not_fit_together_are_refused(canary, watch, alarms, linear, message) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_rollout(canary, watch, alarms, linear)
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_rollout_options_become_a_rollout() -> None:
    assert parse_rollout(None, None, (), None) is None
    assert parse_rollout(10.0, None, (), None) == Rollout(10.0, 0, (), metrics_delay=180)
    assert parse_rollout(10.0, "2m", ("errors",), None, delay=2) == Rollout(10.0, 120, ("errors",), metrics_delay=2)
    assert parse_rollout(None, None, ("errors",), "12.5/30s") == Rollout(12.5, 30, ("errors",), linear_step=12.5,
                                                                         metrics_delay=180)
    assert parse_rollout(None, None, (), "99.9/1h", delay=0) == Rollout(99.9, 3600, (), linear_step=99.9,
                                                                        metrics_delay=0)


def test_the_last_watch_waits_three_minutes_on_aws_two_seconds_in_the_sandbox_or_as_told(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(METRICS_DELAY_ENV, raising=False)
    assert (metrics_delay(sandbox=False), metrics_delay(sandbox=True)) == (180, 2)
    monkeypatch.setenv(METRICS_DELAY_ENV, "0")
    assert (metrics_delay(sandbox=False), metrics_delay(sandbox=True)) == (0, 0)
    monkeypatch.setenv(METRICS_DELAY_ENV, "-5")
    with pytest.raises(InvalidInputError, match=r"LAMBDADEPLOY_METRICS_DELAY='-5' is not a whole number of seconds"):
        metrics_delay(sandbox=False)
