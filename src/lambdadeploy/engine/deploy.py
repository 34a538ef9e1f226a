"""The commands' workflows: plan, push, promote, rollback, finish, prune.

A push runs in phases, so nothing is written before everything knowable is known:
1. the project layers the functions name are built, read and planned (engine/layers.py);
   then per function, in parallel: build the package, read the remote state, plan (pure);
2. pre-flight checks on what the plans need; the execution role is read and planned;
3. only if every layer and function planned and no check failed: the role's steps, the
   layer versions to publish, then each function's plan, in parallel. A function's failure
   in this phase is its own: it is recorded in its report and never stops the others.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from ..aws import AwsSession
from ..config.model import FunctionConfig, LayerConfig, Project
from ..errors import EXIT_INVALID_INPUT, Interrupted, LambdaDeployError
from ..iam.execution_role import function_role_arn
from ..packaging import Artifact, build_artifact, build_layer, check_function_with_layers
from . import layers as project_layers
from .events import Emit, FunctionDone, Notice, StepStarted
from .execute import Executor
from .git import function_state
from .plan import (
    NEW_VERSION,
    FunctionPlan,
    PromoteConflict,
    Rollout,
    plan_finish,
    plan_promote,
    plan_prune,
    plan_push,
    plan_rollback,
)
from .preflight import check_rollout, check_triggers
from .preflight_settings import check_vpc_roles
from .provenance import Source, ci_run, source_of, who
from .remote import (
    Depth,
    RemoteFunction,
    SettingsState,
    marked_kinds,
    read_for_change,
    read_function,
    read_served,
    read_settings,
    wanted_kinds,
    with_all_versions,
)
from .report import (
    AliasOutcome,
    Execution,
    Failure,
    Finding,
    FunctionPlanReport,
    FunctionReport,
    LayerOutcome,
    LayerPlanReport,
    ProjectPlan,
)
from .roles import apply_role_step, plan_function_roles, plan_role, read_function_roles, read_role
from .settings_config import log_group_of
from .settings_plan import alias_follow_steps
from .steps import MoveAlias, RoleStep
from .triggers import TriggerState, function_arn, plan_triggers, read_triggers

T = TypeVar("T")

# Functions worked on at once. The client-side limiter (aws/ratelimit.py) keeps any number of
# workers within AWS's quotas, so this only needs to be high enough to keep the quota busy
# while each function waits on round trips, smoke invokes and packaging: bench/README.md
# ("Fleet") measured 100 functions at 4 and at 16.
DEFAULT_PARALLEL = 16


@dataclass(frozen=True)
class PushResult(Sequence[FunctionReport]):
    """What push did: the plan it ran (or stopped on) and one report per function; iterating it
    gives the reports, in the order the functions were given."""

    plan: ProjectPlan
    role_done: tuple[RoleStep, ...]
    reports: tuple[FunctionReport, ...]
    layers: tuple[LayerOutcome, ...] = ()

    def __getitem__(self, index: int) -> FunctionReport:  # type: ignore[override]
        return self.reports[index]

    def __len__(self) -> int:
        return len(self.reports)

    @property
    def ok(self) -> bool:
        return self.plan.ok and all(r.ok for r in self.reports) and not any(o.failure for o in self.layers)

    @property
    def exit_code(self) -> int:
        if self.plan.errors:
            return EXIT_INVALID_INPUT
        return max((r.exit_code for r in self.reports), default=0)


def _failure(error: Exception, fn: FunctionConfig) -> Failure:
    if isinstance(error, LambdaDeployError):
        return Failure(error.render(), error.exit_code)
    return Failure(f"{fn.name}: internal error: {type(error).__name__}: {error}", 1)


class Deployer:
    """Runs a workflow over the selected functions, in parallel."""

    def __init__(self, session: AwsSession, project: Project, emit: Emit, *, parallel: int = DEFAULT_PARALLEL,
                 env: Mapping[str, str] | None = None) -> None:
        self.session = session
        self.project = project
        self.emit = emit
        self.parallel = max(1, parallel)
        # Where versions come from and who moves aliases: CI variables and the user (provenance.py).
        self.env = dict(os.environ if env is None else env)
        self.by = who(self.env, ci_run(self.env))
        # Set by the CLI's SIGINT/SIGTERM handler: workers stop before their next step.
        self.cancel = threading.Event()
        # push --smoke-arch host (sandbox only): smoke-test native code rebuilt for the sandbox's machine.
        self.smoke_arch = "function"

    def _map(self, work: Callable[[FunctionConfig], T], functions: Sequence[FunctionConfig],
             phase: str = "done") -> list[T]:
        """`work` on every function, `parallel` at a time, counting them off (FunctionDone)."""
        lock, finished = threading.Lock(), [0]

        def counted(fn: FunctionConfig) -> T:
            result = work(fn)
            with lock:
                finished[0] += 1
                done = finished[0]
            self.emit(FunctionDone(fn.key, phase, done, len(functions)))
            return result

        with ThreadPoolExecutor(max_workers=min(self.parallel, len(functions)) or 1) as pool:
            return list(pool.map(counted, functions))

    def _source(self, fn: FunctionConfig) -> Source:
        """The commit the function's package is built from; dirty when what it is built from (the
        files it packs, its dependency files, lambda.yaml) has uncommitted changes."""
        state = function_state(fn, self.project.config_file)
        return source_of(state.commit if state else None, state.dirty if state else False, self.env)

    def _role_arn(self, fn: FunctionConfig) -> str:
        return function_role_arn(self.project, fn, self.session.account_id(), self.session.partition)

    def _settings(self, fn: FunctionConfig, remote: RemoteFunction, alias: str) -> SettingsState:
        """The settings outside the version, as AWS has them for `alias` (remote.read_settings)."""
        return read_settings(self.session, fn, remote, alias, function_arn(self.session, remote, fn.name),
                             log_group_of(fn))

    # --- planning ---------------------------------------------------------------------

    def _plan_layer(self, layer: LayerConfig) -> LayerPlanReport:
        """Build the layer and find the version with its content (engine/layers.py)."""
        try:
            artifact = build_layer(layer, on_progress=lambda message: self.emit(Notice(f"layer {layer.key}", message)))
            remote = project_layers.read_layer(self.session, layer.name,
                                               project_layers.description(layer, artifact.sha256))
            plan = project_layers.plan_layer(layer, artifact, remote, self.session.region, self.session.account_id(),
                                             self.session.partition)
            return LayerPlanReport(layer, plan)
        except Exception as error:  # reported in the plan; nothing was written
            failure = (Failure(f"layer {layer.key}: {error.render()}", error.exit_code)
                       if isinstance(error, LambdaDeployError) else
                       Failure(f"layer {layer.key}: internal error: {type(error).__name__}: {error}", 1))
            return LayerPlanReport(layer, None, failure)

    def _read_and_plan(self, fn: FunctionConfig, sha256: str, remote: RemoteFunction, alias: str,
                       skip_smoke: bool, rollout: Rollout | None) -> tuple[RemoteFunction, FunctionPlan]:
        """Plan on the fast path's one read, and read deeper only while the plan needs it
        (remote.py: an unchanged function costs one GetFunction, at AWS's 100-per-second quota)."""
        role_arn = self._role_arn(fn)
        # The settings outside the version and the commit do not depend on how deep the read went.
        settings, source = self._settings(fn, remote, alias), self._source(fn)

        def planned(snapshot: RemoteFunction) -> FunctionPlan:
            return plan_push(fn, sha256, role_arn, snapshot, alias, skip_smoke=skip_smoke, rollout=rollout,
                             settings=settings, source=source)

        plan = planned(remote)
        if remote.depth is Depth.SERVED and plan.steps:
            remote = read_for_change(self.session, remote, alias, self.project.aliases)
            plan = planned(remote)
        if remote.depth is Depth.CHANGE and plan.publishes_latest_as_is:
            remote = with_all_versions(self.session, remote)
            plan = planned(remote)
        return remote, plan

    def _plan_function(self, fn: FunctionConfig, alias: str, skip_smoke: bool, rollout: Rollout | None,
                       layers: dict[str, LayerPlanReport] | None = None,
                       ) -> tuple[FunctionPlanReport, RemoteFunction | None, TriggerState | None]:
        artifact: Artifact | None = None
        layers = layers or {}
        broken = next((layers[ref] for ref in fn.layers if ref in layers and layers[ref].failure), None)
        if broken is not None and broken.failure is not None:
            return FunctionPlanReport(fn, alias, None, None, Failure(
                f"{fn.name}: not planned: its {broken.failure.message}", broken.failure.exit_code)), None, None
        try:
            # Packaging is CPU, reading state is network: overlap them.
            with ThreadPoolExecutor(max_workers=1) as pool:
                remote_read = pool.submit(read_served, self.session, fn, alias)
                artifact = build_artifact(fn, on_progress=lambda message: self.emit(Notice(fn.key, message)))
                remote = remote_read.result()
            built = {key: report.plan for key, report in layers.items() if report.plan is not None}
            check_function_with_layers(fn, artifact, {key: p.artifact for key, p in built.items()})
            resolved = project_layers.resolve(fn, {key: p.arn for key, p in built.items()})
            remote, plan = self._read_and_plan(resolved, artifact.sha256, remote, alias, skip_smoke, rollout)
            state = read_triggers(self.session, fn, remote, alias)
            triggers = plan_triggers(fn, alias, state, remote.tags)
            return FunctionPlanReport(fn, alias, plan.with_steps(triggers), artifact), remote, state
        except Exception as error:  # reported in the plan; nothing was written
            return FunctionPlanReport(fn, alias, None, artifact, _failure(error, fn)), None, None

    def _project_plan(self, functions: tuple[FunctionConfig, ...], alias: str, skip_smoke: bool,
                      rollout: Rollout | None) -> tuple[ProjectPlan, dict[str, RemoteFunction]]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            role_read = pool.submit(read_role, self.session, self.project)
            own_roles = pool.submit(read_function_roles, self.session, self.project)  # functions with policies:
            # Layers first: a function's plan names the layer version it will use.
            layer_reports = self._map_layers(self.project.layers_of(functions))
            by_key = {report.layer.key: report for report in layer_reports}
            planned = self._map(lambda fn: self._plan_function(fn, alias, skip_smoke, rollout, by_key), functions,
                                "planned")
            role = role_read.result()
        findings: list[Finding] = check_rollout(self.session, rollout)
        findings += check_triggers([(report.function, report.plan, state) for report, _, state in planned
                                    if report.plan is not None and state is not None], alias, self.session.region)
        findings += check_vpc_roles(self.session, self.project, functions)
        role_steps = (plan_role(self.project, role, self.session.partition)
                      + plan_function_roles(self.project, own_roles.result(), self.session.partition))
        plan = ProjectPlan(alias, role_steps,
                           tuple(report for report, _, _ in planned), tuple(findings), tuple(layer_reports))
        return plan, {report.function.key: remote for report, remote, _ in planned if remote is not None}

    def plan(self, functions: tuple[FunctionConfig, ...], alias: str, rollout: Rollout | None = None) -> ProjectPlan:
        """What push would do, writing nothing (not even the execution role)."""
        return self._project_plan(functions, alias, False, rollout)[0]

    # --- push -------------------------------------------------------------------------

    def push(self, functions: tuple[FunctionConfig, ...], alias: str, *, skip_smoke: bool = False,
             rollout: Rollout | None = None) -> PushResult:
        plan, remotes = self._project_plan(functions, alias, skip_smoke, rollout)
        if not plan.ok:
            # Everything knowable before a write is checked before any write: stop here.
            failures = [r.failure.exit_code for r in (*plan.functions, *plan.layers) if r.failure]
            code = EXIT_INVALID_INPUT if plan.errors else max(failures)
            why = ("pre-flight checks failed" if plan.errors else "a layer could not be built"
                   if any(not r.ok for r in plan.layers) else "another function could not be planned")
            return PushResult(plan, (), tuple(_held_back(r, f"not deployed: {why}; nothing was changed", code)
                                              for r in plan.functions))
        role_done: list[RoleStep] = []
        try:
            for step in plan.role_steps:
                if self.cancel.is_set():
                    raise Interrupted("interrupted before the execution role was ready; nothing was deployed")
                self.emit(StepStarted("execution role", step))
                apply_role_step(self.session, step)
                role_done.append(step)
        except LambdaDeployError as error:
            reports = tuple(_held_back(r, f"not deployed: the execution role: {error.render()}", error.exit_code)
                            for r in plan.functions)
            return PushResult(plan, tuple(role_done), reports)

        outcomes, published, failure = self._publish_layers(plan)
        if failure is not None:
            reports = tuple(_held_back(r, f"not deployed: {failure.message}", failure.exit_code) for r in plan.functions)
            return PushResult(plan, tuple(role_done), reports, outcomes)

        by_key = {report.function.key: report for report in plan.functions}

        def run(fn: FunctionConfig) -> FunctionReport:
            report = by_key[fn.key]
            assert report.plan is not None
            return self._execute(project_layers.with_published(report.plan, published), report.artifact,
                                 remotes[fn.key], skip_smoke=skip_smoke or report.function.settings.throttled)

        reports = self._map(run, [report.function for report in plan.functions], "deployed")
        return PushResult(plan, tuple(role_done), tuple(reports), outcomes)

    def _map_layers(self, layers: tuple[LayerConfig, ...]) -> list[LayerPlanReport]:
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(layers)) or 1) as pool:
            return list(pool.map(self._plan_layer, layers))

    def _publish_layers(self, plan: ProjectPlan) -> tuple[tuple[LayerOutcome, ...], dict[str, str], Failure | None]:
        """Publish the layer versions the plan needs, before any function uses them; on the first
        failure stop (no function is deployed): (what happened per layer, placeholder -> ARN, failure)."""
        outcomes: list[LayerOutcome] = []
        published: dict[str, str] = {}
        for report in plan.layers:
            layer_plan = report.plan
            assert layer_plan is not None  # plan.ok
            if layer_plan.step is None:
                outcomes.append(LayerOutcome(report.layer, layer_plan.arn, False, layer_plan.artifact))
                continue
            try:
                if self.cancel.is_set():
                    raise Interrupted("interrupted before the layers were published; nothing was deployed")
                self.emit(StepStarted(f"layer {report.layer.key}", layer_plan.step))
                arn = project_layers.publish(self.session, layer_plan.step, layer_plan.artifact, report.layer.s3_bucket)
            except LambdaDeployError as error:
                failure = Failure(f"layer {report.layer.key}: {error.render()}", error.exit_code)
                outcomes.append(LayerOutcome(report.layer, None, False, layer_plan.artifact, failure))
                return tuple(outcomes), published, failure
            published[layer_plan.arn] = arn
            outcomes.append(LayerOutcome(report.layer, arn, True, layer_plan.artifact))
        return tuple(outcomes), published, None

    def _execute(self, plan: FunctionPlan, artifact: Artifact | None, remote: RemoteFunction, *,
                 skip_smoke: bool = False, conflict: PromoteConflict | None = None) -> FunctionReport:
        started = time.monotonic()
        fn = plan.function
        if self.cancel.is_set():
            execution = Execution((), plan.steps, None, False, False, None, None,
                                  Failure(f"{fn.name}: interrupted before it started; nothing done", 130))
        else:
            if not plan.steps:
                self.emit(Notice(fn.key, f"up to date: alias {plan.alias} -> version {plan.target_version}"))
            alias = remote.aliases.get(plan.alias)
            execution = Executor(self.session, self.emit, self.cancel, self.smoke_arch, self.by).run(
                plan, artifact, revision_id=remote.revision_id, alias_revision=alias.revision_id if alias else None,
                alias_history=alias.history if alias and alias.revision_id else None)
        return report_of(plan, execution, artifact, skip_smoke, time.monotonic() - started)

    # --- other workflows --------------------------------------------------------------

    def _each_remote(self, functions: tuple[FunctionConfig, ...], alias: str,
                     make: Callable[[FunctionConfig, RemoteFunction], FunctionPlan | PromoteConflict],
                     skip_smoke: bool = False) -> list[FunctionReport]:
        """Read, plan with `make`, add the trigger steps, execute; per function, in parallel."""
        def one(fn: FunctionConfig) -> FunctionReport:
            started = time.monotonic()
            try:
                remote = read_function(self.session, fn.name)
                planned = make(fn, remote)
                if isinstance(planned, PromoteConflict):
                    current = remote.aliases.get(alias)
                    return FunctionReport(
                        fn, alias, AliasOutcome.NOT_MOVED, current.version if current else None, None,
                        conflict=planned, seconds=time.monotonic() - started,
                        failure=Failure(f"{fn.name}: version {planned.version} is configured differently "
                                        f"from what {alias} needs", 1))
                if planned.current_version is not None or any(isinstance(s, MoveAlias) for s in planned.steps):
                    # The alias exists, or will: keep its triggers in step with lambda.yaml.
                    planned = planned.with_steps(
                        plan_triggers(fn, alias, read_triggers(self.session, fn, remote, alias), remote.tags))
                return self._execute(planned, None, remote, skip_smoke=skip_smoke)
            except Exception as error:
                return FunctionReport(fn, alias, AliasOutcome.NOT_MOVED, None, None, failure=_failure(error, fn),
                                      seconds=time.monotonic() - started)

        return self._map(one, functions, "done")

    def promote(self, functions: tuple[FunctionConfig, ...], source: str, target: str,
                *, force: bool = False, skip_smoke: bool = False) -> list[FunctionReport]:
        names = {layer.key: layer.name for layer in self.project.layers}

        def make(fn: FunctionConfig, remote: RemoteFunction) -> FunctionPlan | PromoteConflict:
            serving = remote.aliases.get(source)
            version = remote.version(serving.version) if serving else None
            resolved = project_layers.resolve_as_served(fn, names, version.config.get("Layers") or [] if version else [])
            return plan_promote(resolved, self._role_arn(fn), remote, source, target, force=force,
                                skip_smoke=skip_smoke,
                                settings=self._settings(fn, remote, target) if remote.exists else None)

        return self._each_remote(functions, target, make, skip_smoke)

    def _followed(self, fn: FunctionConfig, remote: RemoteFunction, planned: FunctionPlan) -> FunctionPlan:
        """A rollback or finish that moves the alias also waits for its provisioned concurrency."""
        kinds = marked_kinds(remote.tags, planned.alias) | wanted_kinds(fn, planned.alias)
        if not planned.steps or "provisioned" not in kinds:
            return planned
        return planned.with_steps(alias_follow_steps(fn, self._settings(fn, remote, planned.alias), planned.alias))

    def rollback(self, functions: tuple[FunctionConfig, ...], alias: str, to_version: str | None) -> list[FunctionReport]:
        return self._each_remote(functions, alias, lambda fn, remote: self._followed(
            fn, remote, plan_rollback(fn, remote, alias, to_version)))

    def finish(self, functions: tuple[FunctionConfig, ...], alias: str) -> list[FunctionReport]:
        """Complete canaries left in place by `push --canary` without --watch."""
        def make(fn: FunctionConfig, remote: RemoteFunction) -> FunctionPlan:
            planned = plan_finish(fn, remote, alias)
            if not planned.steps:
                self.emit(Notice(fn.key, f"no canary in progress on {alias}"))
            return self._followed(fn, remote, planned)
        return self._each_remote(functions, alias, make)

    def prunable(self, functions: tuple[FunctionConfig, ...], keep: int) -> dict[str, tuple[str, ...]]:
        """Function key -> the versions `prune --keep` would delete."""
        remotes = self._map(lambda fn: read_function(self.session, fn.name), functions, "read")
        return {fn.key: versions for fn, remote in zip(functions, remotes, strict=True)
                if (versions := plan_prune(remote, keep))}

    def prune(self, functions: tuple[FunctionConfig, ...], doomed: dict[str, tuple[str, ...]]) -> None:
        client = self.session.client("lambda")
        for fn in functions:
            for version in doomed.get(fn.key, ()):
                client.delete_function(FunctionName=fn.name, Qualifier=version)

    def prunable_layers(self, keep: int) -> dict[str, tuple[int, ...]]:
        """Layer key -> the versions of the project's layers `prune --keep` would delete: those that
        no function of the project uses in $LATEST, an alias or a canary weight, but the newest N."""
        if not self.project.layers:
            return {}
        used = project_layers.used_versions(
            self._map(lambda fn: read_function(self.session, fn.name), self.project.functions))
        remotes = [project_layers.read_layer(self.session, layer.name) for layer in self.project.layers]
        return {layer.key: versions for layer, remote in zip(self.project.layers, remotes, strict=True)
                if (versions := project_layers.plan_layer_prune(remote, used, keep))}

    def prune_layers(self, doomed: dict[str, tuple[int, ...]]) -> None:
        client = self.session.client("lambda")
        for layer in self.project.layers:
            for version in doomed.get(layer.key, ()):
                client.delete_layer_version(LayerName=layer.name, VersionNumber=version)


def _held_back(report: FunctionPlanReport, why: str, exit_code: int) -> FunctionReport:
    """The report of a function a push did not start (its own failure, or another's)."""
    plan = report.plan
    return FunctionReport(report.function, report.alias, AliasOutcome.NOT_MOVED,
                          plan.current_version if plan else None, plan.current_version if plan else None,
                          artifact=report.artifact, not_done=plan.steps if plan else (),
                          failure=report.failure or Failure(f"{report.function.name}: {why}", exit_code))


def report_of(plan: FunctionPlan, execution: Execution, artifact: Artifact | None, skip_smoke: bool,
              seconds: float) -> FunctionReport:
    """One function's report, from its plan and what executing it did."""
    moved = execution.alias_moved
    version = execution.version or (None if plan.target_version == NEW_VERSION else plan.target_version)
    if execution.canary_weight is not None:
        outcome = AliasOutcome.CANARY
    elif moved and any(isinstance(r.step, MoveAlias) and r.step.from_version == r.step.to_version
                       for r in execution.done):
        outcome = AliasOutcome.CANARY_CANCELLED
    elif moved:
        outcome = AliasOutcome.MOVED
    elif execution.failure is None:
        outcome = AliasOutcome.UNCHANGED
    else:
        outcome = AliasOutcome.NOT_MOVED
    return FunctionReport(
        function=plan.function, alias=plan.alias, outcome=outcome, alias_from=plan.current_version,
        alias_to=version if moved or outcome is AliasOutcome.UNCHANGED else plan.current_version,
        version=version, published=execution.published, uploaded=execution.uploaded, artifact=artifact,
        smoke=execution.smoke, smoke_skipped=skip_smoke, done=execution.done, not_done=execution.not_done,
        canary_weight=execution.canary_weight, failure=execution.failure, seconds=seconds,
    )
