"""Progress as events: the engine emits them, output/ renders them; core code never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .steps import Step


@dataclass(frozen=True)
class StepStarted:
    """A step of a function's plan is starting (`version`: the one published so far, if any)."""

    function: str  # the function's key in lambda.yaml
    step: Step
    version: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something worth telling, in words: packaging progress, a retry, a warning."""

    function: str
    message: str
    level: str = "info"  # info | warning | error


@dataclass(frozen=True)
class FunctionDone:
    """One more function finished a phase of the command ("planned", "deployed"): for the
    counter that keeps progress readable when a push has hundreds of functions."""

    function: str
    phase: str
    done: int
    total: int


Event = StepStarted | Notice | FunctionDone
Emit = Callable[[Event], None]
