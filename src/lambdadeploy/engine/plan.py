"""Pure planning: desired state vs remote state -> an ordered tuple of Steps.

No AWS here. `plan` prints these steps, `push` executes them, tests assert on them.
The alias is always moved after the smoke invoke of the version it will serve, and
trigger steps (planned by engine/triggers.py) come last, once the alias is right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.model import FunctionConfig
from ..diff import FieldChange, diff_fields
from ..errors import InvalidInputError
from .history import pushed
from .provenance import Source
from .remote import Depth, RemoteFunction, SettingsState, version_config
from .settings_config import EXPANDED_SETTINGS, desired_settings
from .settings_plan import alias_moves, plan_settings, weave
from .steps import (
    NEW_VERSION,
    CreateFunction,
    FunctionStep,
    MoveAlias,
    Publish,
    ShiftTraffic,
    Smoke,
    UpdateConfig,
    UpdateTags,
    UploadCode,
    UseVersion,
    Watch,
)

MANAGED_BY_TAG = {"managed-by": "lambdadeploy"}
# A published version's description records its provenance (provenance.py), so the fast
# path's one read (the version the alias serves) cannot tell whether $LATEST still has
# lambda.yaml's description; the function's tags, which that read returns, carry its digest.
# A changed digest is a tag step, which takes the push to the read of $LATEST.
DESCRIPTION_TAG = "lambdadeploy:description"
# Tags the tool keeps for itself (trigger markers) or that AWS sets; never removed as stale.
RESERVED_TAG_PREFIXES = ("lambdadeploy:", "aws:")


@dataclass(frozen=True)
class Rollout:
    """How traffic moves to the new version: `--canary PCT [--watch]` or `--linear STEP/INTERVAL`."""

    percent: float  # first share of traffic, in percent
    watch_seconds: int = 0  # after the last shift; 0: leave the canary in place for `push --finish`
    alarms: tuple[str, ...] = ()
    linear_step: float | None = None  # percent added every `watch_seconds` until 100
    # Lambda's metrics reach CloudWatch 1-3 minutes late: the last watch keeps looking this long.
    metrics_delay: int = 180


@dataclass(frozen=True)
class FunctionPlan:
    """What one command will do to one function and one alias."""

    function: FunctionConfig
    steps: tuple[FunctionStep, ...]
    alias: str
    current_version: str | None  # where the alias points now
    target_version: str  # a version number, or NEW_VERSION

    @property
    def publishes(self) -> bool:
        return any(isinstance(step, Publish) for step in self.steps)

    @property
    def uploads(self) -> bool:
        return any(isinstance(step, CreateFunction | UploadCode) for step in self.steps)

    @property
    def publishes_latest_as_is(self) -> bool:
        """It publishes $LATEST without changing it first: $LATEST already is what lambda.yaml
        asks for, so it may have been published before (AWS then hands back that version)."""
        return self.publishes and not self.uploads and not any(isinstance(s, UpdateConfig) for s in self.steps)

    def with_steps(self, extra: tuple[FunctionStep, ...]) -> FunctionPlan:
        return FunctionPlan(self.function, self.steps + extra, self.alias, self.current_version, self.target_version)


@dataclass(frozen=True)
class PromoteConflict:
    """Why alias B cannot take alias A's version as is: the configuration differs."""

    function: str
    version: str
    changes: tuple[FieldChange, ...]


def desired_tags(fn: FunctionConfig) -> dict[str, str]:
    return {**fn.tags, **MANAGED_BY_TAG, DESCRIPTION_TAG: description_digest(fn.description)}


def description_digest(description: str) -> str:
    """What the function's DESCRIPTION_TAG holds for lambda.yaml's `description`."""
    return hashlib.sha256(description.encode()).hexdigest()[:16] if description else "none"


def tag_changes(fn: FunctionConfig, remote: RemoteFunction) -> UpdateTags | None:
    """What to tag and untag so the function's tags are lambda.yaml's `tags:`."""
    wanted = desired_tags(fn)
    set_tags = {k: v for k, v in wanted.items() if remote.tags.get(k) != v}
    remove = tuple(sorted(k for k in remote.tags if k not in wanted and not k.startswith(RESERVED_TAG_PREFIXES)))
    if not set_tags and not remove:
        return None
    old = {k: v for k, v in remote.tags.items() if k in set_tags or k in remove}
    return UpdateTags(fn.name, remote.arn, set_tags, remove, old)


def desired_config(fn: FunctionConfig, role_arn: str) -> dict[str, Any]:
    """The managed configuration lambda.yaml asks for, shaped like remote.managed_config."""
    return {
        "Runtime": fn.runtime,
        "Handler": fn.handler,
        "Role": role_arn,
        "MemorySize": fn.memory,
        "Timeout": fn.timeout,
        "Description": fn.description,
        "Environment": dict(fn.environment),
        "Layers": list(fn.layers),
        "Architectures": [fn.architecture],
        **desired_settings(fn),  # vpc, storage, tracing, logging, ... (settings_config.py)
    }


def diff_config(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Field-by-field differences; environment variables (and VPC and logging fields) one by one."""
    return diff_fields(old, new, expand=("Environment", *EXPANDED_SETTINGS))


def plan_push(
    fn: FunctionConfig,
    code_sha256: str,
    role_arn: str,
    remote: RemoteFunction,
    alias: str,
    *,
    skip_smoke: bool = False,
    rollout: Rollout | None = None,
    settings: SettingsState | None = None,
    source: Source | None = None,
) -> FunctionPlan:
    """What `push --alias ALIAS` must do so ALIAS serves this code and configuration; a version
    it publishes records `source` (the commit) as its description.

    With a rollout, an existing alias keeps serving its version while a share of its
    traffic goes to the new one (a first deploy has nothing to compare against, so its
    alias is simply created). `settings`: what remote.read_settings found, for the
    settings outside the version (settings_plan.py); a function throttled to 0 is not
    smoke-tested (no invoke could run)."""
    skip_smoke = skip_smoke or fn.settings.throttled

    def planned(steps: list[FunctionStep]) -> FunctionPlan:
        extra = plan_settings(fn, remote, settings, alias, alias_moves=alias_moves(steps))
        return FunctionPlan(fn, weave(steps, extra), alias, current_version, target)

    current = remote.aliases.get(alias)
    steps, target = _version_steps(fn, code_sha256, desired_config(fn, role_arn), remote, source,
                                   prefer=current.version if current else None)
    current_version = current.version if current else None
    if current is None or current.version != target or current.weights:
        if target != NEW_VERSION:
            steps.append(UseVersion(fn.name, target))
        if not skip_smoke:
            steps.append(Smoke(fn.name, target))
        previous = pushed(current.version, current.history.previous) if current else ()
        if rollout is not None and current is not None and current.version != target:
            steps += _rollout_steps(fn.name, alias, current.version, target, rollout)
            if not rollout.watch_seconds:  # the canary stays in place until `push --finish`
                return planned(steps)
        steps.append(MoveAlias(fn.name, alias, current_version, target, previous))
    return planned(steps)


def _version_steps(fn: FunctionConfig, code_sha256: str, desired: dict[str, Any], remote: RemoteFunction,
                   source: Source | None, prefer: str | None = None) -> tuple[list[FunctionStep], str]:
    """The steps that give the function a version with this code and configuration, and that
    version (NEW_VERSION when it is yet to be published); `prefer` (the version the alias
    serves) wins among equal versions, so an alias already there does not move."""
    steps: list[FunctionStep] = []
    if remote.exists and (tags := tag_changes(fn, remote)):
        steps.append(tags)
    if not remote.exists:
        steps += [CreateFunction(fn.name, desired), Publish(fn.name, code_sha256, source)]
        target = NEW_VERSION
    elif existing := remote.matching_version(code_sha256, desired, prefer=prefer):
        # Reusing the version avoids a new upload and publish; $LATEST is only a draft. The
        # description is not part of a version: a new one goes to the function alone (from
        # the depth that has read $LATEST: the fast path's one read has not, remote.py).
        target = existing
        described = () if remote.depth is Depth.SERVED else tuple(
            c for c in diff_config(remote.config, desired) if c.field == "Description")
        if described:
            steps.append(UpdateConfig(fn.name, described, desired))
    else:
        config_changes = tuple(c for c in diff_config(remote.config, desired) if c.field != "Architectures")
        if config_changes:
            steps.append(UpdateConfig(fn.name, config_changes, desired))
        if remote.code_sha256 != code_sha256 or remote.config.get("Architectures") != desired["Architectures"]:
            steps.append(UploadCode(fn.name, remote.code_sha256, code_sha256, fn.architecture))
        steps.append(Publish(fn.name, code_sha256, source))
        target = NEW_VERSION
    return steps, target


def _rollout_steps(function: str, alias: str, stable: str, canary: str, rollout: Rollout) -> list[FunctionStep]:
    shares = [rollout.percent]
    if rollout.linear_step:
        while shares[-1] + rollout.linear_step < 100:
            shares.append(shares[-1] + rollout.linear_step)
    steps: list[FunctionStep] = []
    for index, share in enumerate(shares):
        steps.append(ShiftTraffic(function, alias, stable, canary, round(share / 100, 4)))
        if rollout.watch_seconds:
            settle = rollout.metrics_delay if index == len(shares) - 1 else 0
            steps.append(Watch(function, alias, stable, canary, rollout.watch_seconds, rollout.alarms, settle))
    return steps


def plan_finish(fn: FunctionConfig, remote: RemoteFunction, alias: str) -> FunctionPlan:
    """Complete a canary left in place: move the alias wholly to the canary version."""
    current = remote.aliases.get(alias) if remote.exists else None
    if current is None or not current.weights:
        version = current.version if current else None
        return FunctionPlan(fn, (), alias, version, version or "")
    canary = max(current.weights, key=int)
    steps = (MoveAlias(fn.name, alias, current.version, canary, pushed(current.version, current.history.previous),
                       "finish"),)
    return FunctionPlan(fn, steps, alias, current.version, canary)


def plan_promote(
    fn: FunctionConfig,
    role_arn: str,
    remote: RemoteFunction,
    source_alias: str,
    target_alias: str,
    *,
    force: bool = False,
    skip_smoke: bool = False,
    settings: SettingsState | None = None,
) -> FunctionPlan | PromoteConflict:
    """Point target_alias at the version source_alias serves, if that version's configuration fits
    (after a smoke invoke of it, unless skip_smoke: `promote --skip-smoke`, as push's); the settings
    outside the version (`settings`, read for target_alias) are applied as push does."""
    source = remote.aliases.get(source_alias) if remote.exists else None
    if source is None:
        raise InvalidInputError(
            f"{fn.name}: alias {source_alias!r} does not exist",
            hint=f"push it first: lambdadeploy push --alias {source_alias}",
        )
    version = remote.version(source.version)
    frozen = version_config(version.config) if version else {}
    changes = tuple(c for c in diff_config(frozen, version_config(desired_config(fn, role_arn)))
                    if c.field != "Architectures")
    if changes and not force:
        return PromoteConflict(fn.name, source.version, changes)
    current = remote.aliases.get(target_alias)
    current_version = current.version if current else None
    steps: list[FunctionStep] = []
    if current is None or current.version != source.version or current.weights:
        previous = pushed(current.version, current.history.previous) if current else ()
        if not (skip_smoke or fn.settings.throttled):
            steps.append(Smoke(fn.name, source.version))
        steps.append(MoveAlias(fn.name, target_alias, current_version, source.version, previous, "promote"))
    extra = plan_settings(fn, remote, settings, target_alias, alias_moves=alias_moves(steps))
    return FunctionPlan(fn, weave(steps, extra), target_alias, current_version, source.version)


def plan_rollback(
    fn: FunctionConfig, remote: RemoteFunction, alias: str, to_version: str | None = None
) -> FunctionPlan:
    """Move the alias back: to `to_version`, else to the version recorded before its last move,
    else to the highest published version below the current one.

    No smoke invoke: rolling back is the emergency exit, and the earlier version passed
    its own smoke test when it was deployed.
    """
    current = remote.aliases.get(alias) if remote.exists else None
    if current is None:
        raise InvalidInputError(f"{fn.name}: alias {alias!r} does not exist; nothing to roll back")
    history = current.history.previous
    if current.weights and to_version is None:
        # Rolling back a canary: all traffic back on the version the alias kept serving.
        steps = (MoveAlias(fn.name, alias, current.version, current.version, history, "cancel"),)
        return FunctionPlan(fn, steps, alias, current.version, current.version)
    if to_version is not None:
        if remote.version(to_version) is None:
            known = ", ".join(v.version for v in remote.versions) or "none"
            raise InvalidInputError(f"{fn.name}: version {to_version} does not exist", hint=f"published versions: {known}")
        target, previous = to_version, pushed(current.version, history)
    elif history:
        target, previous = history[0], history[1:]
    else:
        lower = [v.version for v in remote.versions if int(v.version) < int(current.version)] if current.version.isdigit() else []
        if not lower:
            raise InvalidInputError(
                f"{fn.name}: alias {alias} is at version {current.version} and no earlier version exists"
            )
        target, previous = lower[-1], ()
    if target == current.version and not current.weights:
        return FunctionPlan(fn, (), alias, current.version, target)
    steps = (MoveAlias(fn.name, alias, current.version, target, previous, "rollback"),)
    return FunctionPlan(fn, steps, alias, current.version, target)


def plan_prune(remote: RemoteFunction, keep: int) -> tuple[str, ...]:
    """Versions to delete: all but the newest `keep`, never one an alias or a canary weight points to."""
    if not remote.exists:
        return ()
    protected = {a.version for a in remote.aliases.values()}
    protected |= {v for a in remote.aliases.values() for v in a.weights}
    numbers = sorted((v.version for v in remote.versions), key=int)
    newest = set(numbers[-keep:]) if keep > 0 else set()
    return tuple(v for v in numbers if v not in newest and v not in protected)
