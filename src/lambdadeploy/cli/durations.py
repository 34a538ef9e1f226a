"""Durations on the command line: 30s, 10m, 2h, 1d."""

from __future__ import annotations

import re

from ..errors import InvalidInputError

DURATION = re.compile(r"^(\d+)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str) -> int:
    """'10m' -> 600 seconds; a clear exit-2 error naming `option` otherwise."""
    match = DURATION.match(text.strip())
    if not match:
        raise InvalidInputError(f"{option} {text!r} is not a duration", hint="e.g. 30s, 10m, 2h, 1d")
    return int(match[1]) * UNIT_SECONDS[match[2]]
