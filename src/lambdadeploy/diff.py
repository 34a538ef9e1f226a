"""Field-by-field differences between what exists and what is wanted, for plans and conflicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: `field` is a path such as "MemorySize" or "Environment.STAGE"."""

    field: str
    old: Any
    new: Any


def diff_fields(old: Mapping[str, Any], new: Mapping[str, Any], *, expand: tuple[str, ...] = ()) -> tuple[FieldChange, ...]:
    """The fields of `new` whose value differs in `old`; mappings named in `expand` are compared
    key by key (Environment.A, Environment.B) so a plan names the variable that changes."""
    changes = []
    for name in new:
        before, after = old.get(name), new[name]
        if name in expand and isinstance(after, Mapping):
            before = before or {}
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    changes.append(FieldChange(f"{name}.{key}", before.get(key), after.get(key)))
        elif before != after:
            changes.append(FieldChange(name, before, after))
    return tuple(changes)
