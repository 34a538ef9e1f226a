"""Validate the `triggers:` list of a function into Trigger models.

Each entry is a one-key mapping, the key naming the kind: `- s3: {bucket: uploads}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .model import Trigger
from .schema import closest

ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")
SCHEDULE = re.compile(r"^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(\s*(\S+\s+){5}\S+\s*\))$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON")
# lambda.yaml's snake_case CORS keys -> the API's; the API's own names are accepted too.
CORS_KEYS = {
    "allow_credentials": "AllowCredentials",
    "allow_headers": "AllowHeaders",
    "allow_methods": "AllowMethods",
    "allow_origins": "AllowOrigins",
    "expose_headers": "ExposeHeaders",
    "max_age": "MaxAge",
}

# kind -> (required settings, optional settings)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "s3": (("bucket",), ("events", "prefix", "suffix")),
    "sns": (("topic",), ("filter_policy",)),
    "sqs": (("queue",), ("batch_size", "enabled", "batching_window")),
    "dynamodb": (("stream",), ("starting_position", "batch_size", "enabled")),
    "kinesis": (("stream",), ("starting_position", "batch_size", "enabled")),
    "schedule": (("expression",), ("input", "enabled", "description")),
    "url": ((), ("auth", "cors")),
}


def parse_triggers(
    value: Any,
    where: tuple[str, ...],
    error: Callable[..., None],
    lines: dict[tuple[str, ...], int],
) -> tuple[Trigger, ...]:
    """Check each trigger entry; report problems through `error` and return the valid ones."""
    if not isinstance(value, list):
        error(where, "must be a list of triggers", "e.g. - s3: {bucket: uploads}")
        return ()
    triggers = []
    for index, entry in enumerate(value):
        at = (*where, str(index))
        if not isinstance(entry, dict) or len([k for k in entry if k != "alias"]) != 1:
            error(at, "each trigger is a mapping with one kind", "kinds: " + ", ".join(KINDS))
            continue
        alias = entry.get("alias")
        kind = next(k for k in entry if k != "alias")
        settings = entry[kind] if entry[kind] is not None else {}
        if kind not in KINDS:
            guess = closest(str(kind), list(KINDS))
            error((*at, str(kind)), f"unknown trigger kind {kind!r}",
                  f"did you mean {guess}?" if guess else "kinds: " + ", ".join(KINDS))
            continue
        if not isinstance(settings, dict):
            error((*at, kind), "settings must be a mapping")
            continue
        alias = settings.get("alias", alias)
        if _check(kind, settings, (*at, kind), error):
            clean = {k: v for k, v in settings.items() if k != "alias"}
            triggers.append(Trigger(kind, clean, alias, lines.get(at)))
    return tuple(triggers)


def _check(kind: str, settings: dict, at: tuple[str, ...], error: Callable[..., None]) -> bool:
    required, optional = KINDS[kind]
    ok = True
    for name in required:
        if not settings.get(name):
            error((*at, name), f"missing `{name}` for a {kind} trigger")
            ok = False
    for name in settings:
        if name not in (*required, *optional, "alias"):
            guess = closest(str(name), [*required, *optional])
            error((*at, str(name)), "unknown setting",
                  f"did you mean {guess}?" if guess else "allowed: " + ", ".join((*required, *optional)))
            ok = False
    if kind == "s3" and settings.get("bucket") and not BUCKET.match(str(settings["bucket"])):
        error((*at, "bucket"), f"invalid bucket name {settings['bucket']!r}", "3-63 lowercase letters, digits, . and -")
        ok = False
    for name in ("topic", "queue", "stream"):
        if name in required and settings.get(name) and not ARN.match(str(settings[name])):
            error((*at, name), f"invalid ARN {settings[name]!r}", f"the {kind} {name} ARN, arn:aws:{kind}:REGION:ACCOUNT:...")
            ok = False
    if kind == "schedule" and settings.get("expression") and not SCHEDULE.match(str(settings["expression"])):
        error((*at, "expression"), f"invalid schedule expression {settings['expression']!r}",
              "rate(5 minutes), rate(1 hour) or cron(0 12 * * ? *)")
        ok = False
    position = settings.get("starting_position")
    if position is not None and position not in STARTING_POSITIONS:
        error((*at, "starting_position"), f"invalid starting position {position!r}", "LATEST or TRIM_HORIZON")
        ok = False
    cors = settings.get("cors")
    if kind == "url" and cors not in (None, True):
        known = (*CORS_KEYS, *CORS_KEYS.values())
        if not isinstance(cors, dict):
            error((*at, "cors"), f"cors must be true or a mapping, not {cors!r}",
                  "e.g. cors: {allow_origins: [\"https://example.com\"], allow_methods: [GET]}")
            ok = False
        elif unknown := [str(k) for k in cors if k not in known]:
            error((*at, "cors", unknown[0]), "unknown CORS setting", "allowed: " + ", ".join(CORS_KEYS))
            ok = False
    if kind == "url" and settings.get("auth", "NONE") not in ("NONE", "AWS_IAM"):
        error((*at, "auth"), f"invalid auth {settings['auth']!r}", "NONE or AWS_IAM")
        ok = False
    return ok
