"""The trigger kinds lambdadeploy knows, in the order their steps run.

Adding a kind = one module with a `TriggerKind` subclass, and one line in KINDS.
"""

from __future__ import annotations

from ..fields import INVALID, Reporter
from .base import Trigger, TriggerKind
from .http import HttpKind
from .s3 import S3Kind
from .schedule import ScheduleKind
from .sns import SnsKind
from .sqs import SqsKind
from .streams import DynamoDbKind, KinesisKind
from .url import UrlKind

KINDS: list[TriggerKind] = [
    S3Kind(),
    SnsKind(),
    SqsKind(),
    DynamoDbKind(),
    KinesisKind(),
    ScheduleKind(),
    UrlKind(),
    HttpKind(),
]


def kinds() -> list[TriggerKind]:
    """Every kind, in order (read at call time, so a kind registered later is seen)."""
    return list(KINDS)


def kind(name: str) -> TriggerKind:
    for item in KINDS:
        if item.name == name:
            return item
    raise KeyError(name)


def names() -> tuple[str, ...]:
    return tuple(item.name for item in KINDS)


def make_trigger(kind_name: str, raw: dict[str, object], alias: str | None = None) -> Trigger:
    """A checked Trigger from raw settings, for code and tests that build projects without a file;
    ValueError says what is wrong."""
    problems: list[str] = []
    sink = Reporter(lambda where, message, hint: problems.append(f"{'.'.join(where)}: {message}"))
    item = kind(kind_name)
    settings = item.settings.check(raw, sink.at(kind_name))
    if settings is not INVALID:
        item.check(settings, lambda field, message, hint=None: problems.append(f"{kind_name}.{field}: {message}"))
    if problems:
        raise ValueError("; ".join(problems))
    return Trigger(kind_name, settings, alias)
