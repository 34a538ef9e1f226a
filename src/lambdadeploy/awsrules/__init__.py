"""AWS's own rules, as pure functions: what real AWS refuses, with its error code and message.

Two places need them and must agree: the pre-flight checks (engine/preflight.py), which
stop a push before its first write, and the sandbox (local/), which refuses the same
requests the way AWS does. Limits that botocore's service models declare (lengths,
ranges, patterns) are read from the models by the sandbox; what lives here are the
rules that span fields or resources, which no model states.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """A request AWS would refuse: its error code, HTTP status and message, as AWS sends them."""

    code: str
    message: str
    status: int = 400
