"""What runs where, from which commit: an alias's recorded moves (history) and what differs
between what two aliases serve (diff), from one read of the function (remote.py).

Pure. The commit of a version is what its description recorded at publish (provenance.py); the
when, how, smoke and who of a move are what the alias description recorded (history.py). The
commits between two versions come from the local repository (git.py), read by the caller.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.secrets import SECRET_KEY
from ..diff import FieldChange
from ..errors import InvalidInputError
from .history import TIME_FORMAT, Move
from .plan import diff_config
from .provenance import Source
from .remote import RemoteFunction, version_config

MASK = "****"


def when(move: Move) -> str | None:
    """The move's time as ISO 8601 (`2025-06-10T12:34Z`), None when not recorded."""
    if move.at is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%MZ", time.strptime(move.at, TIME_FORMAT))
    except ValueError:
        return None


@dataclass(frozen=True)
class HistoryRow:
    """One recorded move of an alias: the version it went to and what is known of both."""

    move: Move
    source: Source | None  # None: the version was not published by push, or is gone (pruned)
    exists: bool  # the version is still published
    serving: bool  # the alias serves this version now

    @property
    def version(self) -> str:
        return self.move.version


def alias_history(remote: RemoteFunction, alias: str) -> tuple[HistoryRow, ...]:
    """The alias's moves, newest first (the first is the version it serves); () when the function
    or the alias does not exist."""
    state = remote.aliases.get(alias) if remote.exists else None
    if state is None:
        return ()
    rows = []
    for index, move in enumerate(state.history.moves(state.version)):
        version = remote.version(move.version)
        rows.append(HistoryRow(move, version.source if version else None, version is not None, index == 0))
    return tuple(rows)


@dataclass(frozen=True)
class Served:
    """What one alias serves: its version, that version's code and configuration, and source."""

    alias: str
    version: str
    code_sha256: str | None
    config: Mapping[str, Any] | None  # None: the version is not listed (e.g. $LATEST)
    source: Source | None
    weights: Mapping[str, float]


@dataclass(frozen=True)
class AliasDiff:
    function: str
    first: Served
    second: Served
    changes: tuple[FieldChange, ...]  # old: the first alias's value, new: the second's

    @property
    def same_version(self) -> bool:
        return self.first.version == self.second.version

    @property
    def same_code(self) -> bool:
        return self.first.code_sha256 == self.second.code_sha256


def served(remote: RemoteFunction, alias: str) -> Served:
    state = remote.aliases.get(alias) if remote.exists else None
    if state is None:
        raise InvalidInputError(f"{remote.name}: alias {alias!r} does not exist",
                                hint=f"push it first: lambdadeploy push --alias {alias}")
    version = remote.version(state.version)
    return Served(alias, state.version, version.code_sha256 if version else None,
                  version_config(version.config) if version else None,
                  version.source if version else None, state.weights)


def _masked(change: FieldChange) -> FieldChange:
    """Values of secret-named environment variables never leave as they are: only that they differ."""
    name = change.field.removeprefix("Environment.")
    if change.field.startswith("Environment.") and SECRET_KEY.search(name):
        return FieldChange(change.field, None if change.old is None else MASK, None if change.new is None else MASK)
    return change


def alias_diff(remote: RemoteFunction, first: str, second: str) -> AliasDiff:
    """What differs between the versions two aliases serve: configuration fields (not the
    description), code sha and commits (the caller adds the commits between them)."""
    a, b = served(remote, first), served(remote, second)
    changes: tuple[FieldChange, ...] = ()
    if a.config is not None and b.config is not None:
        changes = tuple(_masked(c) for c in diff_config(a.config, b.config))
    return AliasDiff(remote.name, a, b, changes)
