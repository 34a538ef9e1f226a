"""EventBridge schedule expressions, checked as EventBridge checks them.

`rate(N unit)`: N a positive whole number; the unit singular when N is 1 (`rate(1 hour)`)
and plural otherwise (`rate(5 hours)`). `cron(minutes hours day-of-month month day-of-week
year)`: six fields, and exactly one of day-of-month and day-of-week is `?`. Anything else:
ValidationException "Parameter ScheduleExpression is not valid."
"""

from __future__ import annotations

import re

from . import Violation

INVALID = Violation("ValidationException", "Parameter ScheduleExpression is not valid.")
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.*)\)$")
MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
# One field: a comma-separated list of values, ranges and increments, per field's own range and words.
FIELD_VALUES = (
    (0, 59, ""),  # minutes
    (0, 23, ""),  # hours
    (1, 31, ""),  # day of month (also ?, L, W)
    (1, 12, MONTHS),  # month
    (1, 7, DAYS),  # day of week (also ?, L, #)
    (1970, 2199, ""),  # year
)


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would refuse the expression (in words), or None."""
    if rate := RATE.match(expression):
        value, unit = int(rate.group(1)), rate.group(2)
        if value <= 0:
            return "the rate must be a positive whole number"
        if (value == 1) != (not unit.endswith("s")):
            return f"use `{value} {unit.rstrip('s') if value == 1 else unit + 's'}`: singular for 1, plural otherwise"
        return None
    if expression.startswith("rate("):
        return "expected rate(VALUE UNIT) with a whole VALUE and UNIT minute(s), hour(s) or day(s)"
    cron = CRON.match(expression)
    if not cron:
        return "expected rate(...) or cron(...)"
    fields = cron.group(1).split()
    if len(fields) != 6:
        return f"cron takes 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be `?`"
    for index, (text, limits) in enumerate(zip(fields, FIELD_VALUES, strict=True)):
        if not _field_ok(text, *limits, index):
            return f"cron field {index + 1} ({text!r}) is not valid"
    return None


def schedule_violation(expression: str) -> Violation | None:
    return INVALID if schedule_problem(expression) else None


def _field_ok(text: str, low: int, high: int, words: str, index: int) -> bool:
    if text == "?" and index in (2, 4):
        return True
    return all(_part_ok(part, low, high, words, index) for part in text.split(","))


def _part_ok(part: str, low: int, high: int, words: str, index: int) -> bool:
    base, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    if index == 2 and re.fullmatch(r"L|LW|\d{1,2}W", base):
        return base in ("L", "LW") or low <= int(base[:-1]) <= high
    if index == 4 and re.fullmatch(r"\d?L|\d#[1-5]", base):
        return base == "L" or low <= int(base[0]) <= high
    bounds = base.split("-")
    if len(bounds) > 2:
        return False
    return all(_value_ok(value, low, high, words) for value in bounds)


def _value_ok(value: str, low: int, high: int, words: str) -> bool:
    if value.isdigit():
        return low <= int(value) <= high
    return bool(words) and value.upper() in words.split("|")
