"""What the tool records on an alias, in AWS, so any machine can roll back: earlier versions
(newest first) and the result of the last smoke test, as JSON in the alias description."""

from __future__ import annotations

import json
from dataclasses import dataclass

HISTORY_MARK = "lambdadeploy"
HISTORY_LIMIT = 10  # alias descriptions hold at most 256 characters


@dataclass(frozen=True)
class AliasHistory:
    previous: tuple[str, ...] = ()
    smoke: str | None = None

    def encode(self) -> str:
        document = {"previous": list(self.previous[:HISTORY_LIMIT]), "smoke": self.smoke}
        return f"{HISTORY_MARK} " + json.dumps(document, separators=(",", ":"))

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
