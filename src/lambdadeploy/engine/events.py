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


Event = StepStarted | Notice
Emit = Callable[[Event], None]
