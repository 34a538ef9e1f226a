"""The steps a plan is made of: small frozen dataclasses named for what they do.

`plan` renders them (output/plan_view.py), `push` executes them (execute.py), tests
assert on them. The version a push will publish is unknown until it is published, so
steps that act on it say NEW_VERSION and the executor substitutes the real number.
Trigger steps come from the trigger kinds (triggers/base.py) and are carried here
with the alias they wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..diff import FieldChange
from ..triggers.base import PermissionStep, Target, TriggerStep
from .provenance import Source
from .setting_steps import SettingStep

NEW_VERSION = "(new)"


@dataclass(frozen=True)
class CreateFunction:
    function: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class UpdateConfig:
    function: str
    changes: tuple[FieldChange, ...]
    config: Mapping[str, Any]


@dataclass(frozen=True)
class UploadCode:
    function: str
    old_sha256: str | None
    new_sha256: str
    architecture: str


@dataclass(frozen=True)
class UpdateTags:
    """Tags are not part of a version: they are kept in step on the function itself."""

    function: str
    arn: str
    set_tags: Mapping[str, str]
    remove: tuple[str, ...]
    old: Mapping[str, str]


@dataclass(frozen=True)
class Publish:
    function: str
    code_sha256: str
    source: Source | None = None  # what it is built from, written as the version's description


@dataclass(frozen=True)
class UseVersion:
    """A published version already has exactly this code and configuration: reuse it."""

    function: str
    version: str


@dataclass(frozen=True)
class Smoke:
    function: str
    version: str


@dataclass(frozen=True)
class MoveAlias:
    function: str
    alias: str
    from_version: str | None  # None: the alias does not exist yet
    to_version: str
    previous: tuple[str, ...]  # the alias history to record, newest first
    # What the move is recorded as (push | promote | rollback | finish | cancel): a label in the
    # alias history, not part of what the step does, so it does not take part in comparisons.
    how: str = field(default="push", compare=False)


@dataclass(frozen=True)
class ShiftTraffic:
    """Canary: the alias stays on `stable`; `weight` of its traffic goes to `canary`."""

    function: str
    alias: str
    stable: str
    canary: str  # a version number, or NEW_VERSION
    weight: float  # 0 < weight < 1


@dataclass(frozen=True)
class Watch:
    """Watch the canary's errors and alarms; on trouble, take its weight away. `settle_seconds`:
    how long the last watch keeps looking after its window, for metrics that arrive late."""

    function: str
    alias: str
    stable: str
    canary: str
    seconds: int
    alarms: tuple[str, ...] = ()
    settle_seconds: int = 0


@dataclass(frozen=True)
class WireTrigger:
    """One trigger change on the alias `target` (planned and applied by its kind)."""

    function: str
    target: Target
    change: TriggerStep


@dataclass(frozen=True)
class SetPermission:
    """Add or remove a statement of the alias's resource policy."""

    function: str
    target: Target
    change: PermissionStep


@dataclass(frozen=True)
class MarkTriggers:
    """Record on the function (tag `lambdadeploy:triggers:ALIAS`) whether the tool wired triggers
    to the alias: while lambda.yaml asks for none and the tag says none, later pushes skip the
    reads that wiring costs."""

    function: str
    arn: str
    alias: str
    state: str  # wired | none


@dataclass(frozen=True)
class CreateRole:
    role: str
    trust: Mapping[str, Any]


@dataclass(frozen=True)
class AttachRolePolicy:
    role: str
    policy_arn: str


@dataclass(frozen=True)
class PutRolePolicy:
    role: str
    policy_name: str
    document: Mapping[str, Any]
    old: Mapping[str, Any] | None  # None: the role has no such policy yet


@dataclass(frozen=True)
class DeleteRolePolicy:
    role: str
    policy_name: str


@dataclass(frozen=True)
class DetachRolePolicy:
    """A managed policy the tool attached for a setting no function of the role uses any more."""

    role: str
    policy_arn: str


FunctionStep = (CreateFunction | UpdateConfig | UploadCode | UpdateTags | Publish | UseVersion | Smoke | MoveAlias
                | ShiftTraffic | Watch | WireTrigger | SetPermission | MarkTriggers | SettingStep)
RoleStep = CreateRole | AttachRolePolicy | PutRolePolicy | DeleteRolePolicy | DetachRolePolicy
Step = FunctionStep | RoleStep


def step_kind(step: Step) -> str:
    """The step's name in JSON documents: update_config, move_alias, trigger, ..."""
    name = type(step).__name__
    return {"WireTrigger": "trigger", "SetPermission": "permission", "UpdateConfig": "update_config"}.get(
        name, "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_"))
