"""What the tool records on an alias, in AWS, so any machine can roll back and tell what moved
when: the move to the version it serves (`now`), the earlier moves newest first (`previous`,
what rollback goes back through) and the last smoke note, as JSON in the alias description.

Each move is one compact string, `VERSION WHEN HOW SMOKE [BY]`, e.g. `8 20250610T1234Z push ok
alice`: WHEN is UTC to the minute, HOW is push | promote | rollback | finish | cancel, SMOKE is
`ok` (smoke-tested by that command), `skip` (--skip-smoke) or `-` (a move that does not test).
A bare `VERSION` is a move whose details were cut to fit, or written before moves had any.
The commit a version was built from is on the version itself (engine/provenance.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

HISTORY_MARK = "lambdadeploy"
HISTORY_LIMIT = 10
DESCRIPTION_LIMIT = 256  # what UpdateAlias takes (Lambda's model); longer is refused
SMOKE_NOTE_LIMIT = 80  # the last smoke result, cut: the versions matter more (rollback reads them)
BY_LIMIT = 24
TIME_FORMAT = "%Y%m%dT%H%MZ"


@dataclass(frozen=True)
class Move:
    """One recorded alias move: the version it went to and, when known, when, how and by whom."""

    version: str
    at: str | None = None  # UTC, TIME_FORMAT
    how: str | None = None
    smoke: str | None = None
    by: str | None = None

    @property
    def detailed(self) -> bool:
        return self.at is not None

    def encode(self) -> str:
        if not self.detailed:
            return self.version
        by = "".join(self.by.split())[:BY_LIMIT] if self.by else ""
        return " ".join(part for part in (self.version, self.at, self.how or "-", self.smoke or "-", by) if part)

    @classmethod
    def decode(cls, text: object) -> Move:
        parts = str(text).split()
        if len(parts) < 4:
            return cls(parts[0] if parts else str(text))
        return cls(parts[0], parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else None)

    def bare(self) -> Move:
        return Move(self.version)


def _moves(items: tuple[Move | str, ...]) -> tuple[Move, ...]:
    return tuple(item if isinstance(item, Move) else Move(str(item)) for item in items)


@dataclass(frozen=True)
class AliasHistory:
    """`earlier`: the moves before the current one, newest first (plain version strings are taken
    as moves with no details); `smoke`: the last smoke note; `now`: the move to the version the
    alias serves, when the tool made it."""

    earlier: tuple[Move, ...] = ()
    smoke: str | None = None
    now: Move | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "earlier", _moves(tuple(self.earlier)))

    @property
    def previous(self) -> tuple[str, ...]:
        """The versions rollback goes back through, newest first."""
        return tuple(move.version for move in self.earlier)

    def moves(self, serving: str) -> tuple[Move, ...]:
        """Every recorded move, newest first, for an alias that serves `serving` now: the record of
        the move to it, or a bare one when it was moved by something other than this tool."""
        current = self.now if self.now is not None and self.now.version == serving else Move(serving)
        return (current, *self.earlier)

    def record_of(self, version: str) -> Move:
        """What is recorded of the move to `version` (for a history that moves on), else a bare move."""
        for move in (*((self.now,) if self.now else ()), *self.earlier):
            if move.version == version:
                return move
        return Move(version)

    def _text(self, earlier: list[Move], now: Move | None, smoke: str | None) -> str:
        document: dict[str, object] = {}
        if now is not None:
            document["now"] = now.encode()
        document["previous"] = [move.encode() for move in earlier]
        document["smoke"] = smoke
        return f"{HISTORY_MARK} " + json.dumps(document, separators=(",", ":"))

    def encode(self) -> str:
        """The description to write, cut to fit the 256 characters an alias description may
        hold, so an alias move never fails for its note: first the smoke note is cut, then the
        details of the oldest moves, then the oldest versions (rollback needs the newest)."""
        earlier = list(self.earlier[:HISTORY_LIMIT])
        now = self.now
        smoke = self.smoke if self.smoke is None or len(self.smoke) <= SMOKE_NOTE_LIMIT else (
            self.smoke[: SMOKE_NOTE_LIMIT - 3] + "...")
        while len(text := self._text(earlier, now, smoke)) > DESCRIPTION_LIMIT:
            detailed = [index for index, move in enumerate(earlier) if move.detailed]
            if detailed:
                earlier[detailed[-1]] = earlier[detailed[-1]].bare()
            elif now is not None and now.by:
                now = replace(now, by=None)
            elif earlier:
                earlier.pop()
            elif now is not None and now.detailed:
                now = now.bare()
            else:
                return text[:DESCRIPTION_LIMIT]
        return text

    @classmethod
    def decode(cls, description: str | None) -> AliasHistory:
        if not description or not description.startswith(HISTORY_MARK + " "):
            return cls()
        try:
            document = json.loads(description[len(HISTORY_MARK) + 1 :])
            now = document.get("now")
            return cls(tuple(Move.decode(v) for v in document.get("previous") or ()), document.get("smoke"),
                       Move.decode(now) if now else None)
        except (ValueError, AttributeError):
            return cls()


def pushed(from_version: str, history: tuple[str, ...]) -> tuple[str, ...]:
    """The history after a move away from `from_version`: it comes first, without repeats of it."""
    return (from_version, *(v for v in history if v != from_version))
