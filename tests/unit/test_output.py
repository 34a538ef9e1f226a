"""Output: live progress on a terminal, plain lines in CI, masking everywhere. No AWS."""

from __future__ import annotations

import pytest

from lambdadeploy.engine.events import Notice as Event
from lambdadeploy.output import MASK, Output
from lambdadeploy.output.masking import Masker


def test_live_status_line_rewrites_itself_and_is_cleared_before_results(capsys: pytest.CaptureFixture) -> None:
    out = Output(live=True, color=False)
    out.event(Event("resize", "installing 3 requirements"))
    out.event(Event("thumbs", "smoke invoke version 2"))
    out.event(Event("resize", "publish version"))
    out.result("ok shop-resize")
    captured = capsys.readouterr()
    assert "\r\033[K" in captured.err
    # The latest step, and how many other functions are at work (a line that fits hundreds of them).
    assert captured.err.endswith("\r\033[Kresize: publish version (+1 in progress)\r\033[K")
    assert captured.out == "ok shop-resize\n"
    assert "\n" not in captured.err  # progress never scrolls the terminal


def test_plain_lines_without_a_terminal(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    out = Output(color=False)
    assert out.live is False
    out.event(Event("resize", "publish version"))
    assert capsys.readouterr().err == "resize: publish version\n"


def test_quiet_hides_progress_but_not_errors(capsys: pytest.CaptureFixture) -> None:
    out = Output(quiet=True, live=False, color=False)
    out.event(Event("resize", "publish version"))
    out.event(Event("resize", "it broke", "error"))
    assert capsys.readouterr().err == "resize: it broke\n"


def test_masker_masks_plain_and_json_escaped_forms() -> None:
    masker = Masker()
    masker.add({'pa"ss\\word', "short-but-ok"})
    assert masker('x pa"ss\\word y') == f"x {MASK} y"
    assert masker('{"v": "pa\\"ss\\\\word"}') == '{"v": "' + MASK + '"}'
    assert masker("short-but-ok") == MASK
