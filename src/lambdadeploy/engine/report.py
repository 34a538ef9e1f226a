"""What a command did or would do, as immutable results built once.

The executor returns an `Execution` (the steps done, and where it stopped); the
workflows (deploy.py) turn a plan and its execution into a `FunctionReport`, whose
`outcome` says plainly what happened to the alias, so renderers never guess it from
flags. `plan` produces a `ProjectPlan` instead: a different type, since nothing ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..config.model import FunctionConfig, LayerConfig
from ..packaging import Artifact, LayerArtifact
from .layers import LayerPlan
from .plan import FunctionPlan, PromoteConflict
from .smoke import SmokeResult
from .steps import MoveAlias, RoleStep, Step


class AliasOutcome(Enum):
    MOVED = "moved"
    UNCHANGED = "unchanged"  # it already served the right version
    NOT_MOVED = "not_moved"  # a failure (or interruption) stopped the command before the move
    CANARY = "canary"  # a share of its traffic goes to the new version, left in place
    CANARY_CANCELLED = "canary_cancelled"  # all traffic back on the version it kept


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


@dataclass(frozen=True)
class StepRecord:
    """A step that was carried out: `version` is the one it acted on once known; `detail`
    what the step reported (e.g. a function URL)."""

    step: Step
    version: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Execution:
    """What running one function's plan did."""

    done: tuple[StepRecord, ...]
    not_done: tuple[Step, ...]
    version: str | None
    published: bool
    uploaded: bool
    smoke: SmokeResult | None
    canary_weight: float | None  # the share left on the new version when the run ended
    failure: Failure | None

    @property
    def alias_moved(self) -> bool:
        return any(isinstance(r.step, MoveAlias) for r in self.done)


@dataclass(frozen=True)
class FunctionReport:
    """The result of push, promote, rollback or `push --finish` for one function."""

    function: FunctionConfig
    alias: str
    outcome: AliasOutcome
    alias_from: str | None
    alias_to: str | None
    version: str | None = None
    published: bool = False
    uploaded: bool = False
    artifact: Artifact | None = None
    smoke: SmokeResult | None = None
    smoke_skipped: bool = False
    done: tuple[StepRecord, ...] = ()
    not_done: tuple[Step, ...] = ()
    canary_weight: float | None = None
    conflict: PromoteConflict | None = None
    failure: Failure | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def exit_code(self) -> int:
        return self.failure.exit_code if self.failure else 0

    @property
    def error(self) -> str | None:
        return self.failure.message if self.failure else None

    @property
    def alias_moved(self) -> bool:
        return self.outcome in (AliasOutcome.MOVED, AliasOutcome.CANARY_CANCELLED)


@dataclass(frozen=True)
class FunctionPlanReport:
    """What `plan` found for one function: its plan, or why it could not be planned."""

    function: FunctionConfig
    alias: str
    plan: FunctionPlan | None
    artifact: Artifact | None = None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Finding:
    """A problem found before anything is written (pre-flight): `push` stops on any error."""

    function: str | None  # None: about the project
    message: str
    hint: str | None = None
    level: str = "error"  # error | warning


@dataclass(frozen=True)
class LayerPlanReport:
    """What planning found for one project layer: its plan, or why it could not be built or read."""

    layer: LayerConfig
    plan: LayerPlan | None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class LayerOutcome:
    """What a push did about one project layer: the version its functions use, and whether it
    published that version."""

    layer: LayerConfig
    arn: str | None
    published: bool = False
    artifact: LayerArtifact | None = None
    failure: Failure | None = None


@dataclass(frozen=True)
class ProjectPlan:
    """Everything a push would do: the execution role's steps once, the project layers to
    publish, then each function's plan."""

    alias: str
    role_steps: tuple[RoleStep, ...]
    functions: tuple[FunctionPlanReport, ...]
    findings: tuple[Finding, ...] = ()
    layers: tuple[LayerPlanReport, ...] = ()

    @property
    def layer_steps(self) -> tuple[Step, ...]:
        return tuple(r.plan.step for r in self.layers if r.plan is not None and r.plan.step is not None)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.functions) and all(r.ok for r in self.layers) and not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def has_changes(self) -> bool:
        return bool(self.role_steps) or bool(self.layer_steps) or any(f.plan and f.plan.steps for f in self.functions)
