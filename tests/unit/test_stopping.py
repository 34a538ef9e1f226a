"""Stopping on request, in the corners the process-level interruption tests do not reach:
a second signal, a signal before a function starts, and Ctrl-C while a canary is watched.
No AWS: the deploy machinery gets stand-ins that record what it asked for."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from lambdadeploy import canary
from lambdadeploy.canary import CanaryFailed, watch_canary
from lambdadeploy.cli.app import stop_on_signals
from lambdadeploy.deploy import Deployer
from lambdadeploy.errors import Interrupted
from lambdadeploy.model import FunctionConfig, Project
from lambdadeploy.plan import Watch

FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")


class Warnings(list):
    def warn(self, message: str) -> None:
        self.append(message)


def test_a_second_signal_neither_warns_again_nor_kills_the_run() -> None:
    deployer = Deployer(session=None, project=None, emit=lambda event: None)
    out = Warnings()
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(deployer, out):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert deployer.cancel.is_set()
    assert out == ["SIGTERM: stopping after the steps in progress; no alias will move to an untested version"]
    assert signal.getsignal(signal.SIGTERM) is before  # the previous handlers are back


def test_functions_not_started_when_the_signal_came_report_that_nothing_was_done() -> None:
    project = Project(config_file=Path("/p/lambda.yaml"), functions=(FN,))
    deployer = Deployer(session=None, project=project, emit=lambda event: None)
    deployer.cancel.set()
    started = []
    (result,) = deployer._each((FN,), "prod", lambda fn, result: started.append(fn))
    assert started == []
    assert (result.ok, result.exit_code) == (False, 130)
    assert result.error == "shop-api: interrupted before it started; nothing done"


class Watched:
    """An Executor as watch_canary sees it: a cancel flag and clear_weights."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.cleared: list[tuple[str, str]] = []

    def clear_weights(self, fn: FunctionConfig, alias: str, note: str) -> None:
        self.cleared.append((alias, note))


STEP = Watch("shop-api", "prod", stable="4", canary="5", seconds=600)


def test_ctrl_c_while_watching_takes_the_canary_weight_away(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = Watched()
    polls = []

    def trouble(*args: object) -> None:
        polls.append(args)
        if len(polls) == 2:
            executor.cancel.set()

    monkeypatch.setattr(canary, "canary_trouble", trouble)
    monkeypatch.setattr(canary.time, "sleep", lambda seconds: None)
    with pytest.raises(Interrupted) as caught:
        watch_canary(executor, FN, STEP, "5")
    assert executor.cleared == [("prod", "canary v5 stopped by the user")]
    assert caught.value.message == ("shop-api: interrupted while watching the canary; its weight was removed "
                                    "and alias prod serves 4 only")


def test_trouble_while_watching_rolls_the_canary_back(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = Watched()
    monkeypatch.setattr(canary, "canary_trouble", lambda *args: "3 errors on version 5")
    with pytest.raises(CanaryFailed, match=r"canary of version 5 rolled back: 3 errors on version 5; "
                                           r"alias prod serves 4 only"):
        watch_canary(executor, FN, STEP, "5")
    assert executor.cleared == [("prod", "canary v5 rolled back: 3 errors on version 5")]
