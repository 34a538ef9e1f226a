"""What runs where: each function's versions, aliases (with weights and history) and triggers."""

from __future__ import annotations

from dataclasses import dataclass

from ..aws import AwsSession
from ..config.model import FunctionConfig
from ..triggers.base import Wired
from .remote import RemoteFunction, read_function
from .triggers import wired_triggers


@dataclass(frozen=True)
class FunctionStatus:
    function: FunctionConfig
    remote: RemoteFunction
    triggers: tuple[Wired, ...] = ()


def read_status(session: AwsSession, fn: FunctionConfig) -> FunctionStatus:
    remote = read_function(session, fn.name)
    if not remote.exists:
        return FunctionStatus(fn, remote)
    return FunctionStatus(fn, remote, tuple(wired_triggers(session, fn, remote)))
