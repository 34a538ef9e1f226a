"""What the tool records on an alias, in AWS, so any machine can roll back: earlier versions
(newest first) and the result of the last smoke test, as JSON in the alias description."""

from __future__ import annotations

import json
from dataclasses import dataclass

HISTORY_MARK = "lambdadeploy"
HISTORY_LIMIT = 10
DESCRIPTION_LIMIT = 256  # what UpdateAlias takes (Lambda's model); longer is refused
SMOKE_NOTE_LIMIT = 80  # the last smoke result, cut: the versions matter more (rollback reads them)


@dataclass(frozen=True)
class AliasHistory:
    previous: tuple[str, ...] = ()
    smoke: str | None = None

    def encode(self) -> str:
        """The description to write: cut to fit the 256 characters an alias description may hold,
        oldest versions first, then the smoke note, so an alias move never fails for its note."""
        previous = list(self.previous[:HISTORY_LIMIT])
        smoke = self.smoke if self.smoke is None or len(self.smoke) <= SMOKE_NOTE_LIMIT else (
            self.smoke[: SMOKE_NOTE_LIMIT - 3] + "...")
        while True:
            text = f"{HISTORY_MARK} " + json.dumps({"previous": previous, "smoke": smoke}, separators=(",", ":"))
            if len(text) <= DESCRIPTION_LIMIT or not previous:
                return text[:DESCRIPTION_LIMIT]
            previous.pop()

    @classmethod
    def decode(cls, description: str | None) -> AliasHistory:
        if not description or not description.startswith(HISTORY_MARK + " "):
            return cls()
        try:
            document = json.loads(description[len(HISTORY_MARK) + 1 :])
            return cls(tuple(str(v) for v in document.get("previous") or ()), document.get("smoke"))
        except (ValueError, AttributeError):
            return cls()


def pushed(from_version: str, history: tuple[str, ...]) -> tuple[str, ...]:
    """The history after a move away from `from_version`: it comes first, without repeats of it."""
    return (from_version, *(v for v in history if v != from_version))
