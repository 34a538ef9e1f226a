"""Masking: known secret values are replaced by **** in everything lambdadeploy prints."""

from __future__ import annotations

import json
import threading

MASK = "****"


class Masker:
    """Replaces known secret values in text (human text and JSON alike)."""

    def __init__(self) -> None:
        self._values: list[str] = []
        self._lock = threading.Lock()

    def add(self, values: frozenset[str] | set[str]) -> None:
        with self._lock:
            forms = set(self._values)
            for value in values:
                forms.add(value)
                forms.add(json.dumps(value)[1:-1])  # as it appears inside a JSON string
            # Longest first, so a secret containing another is masked whole.
            self._values = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


MASKER = Masker()
