"""The commands' workflows: push, plan, promote, rollback, one function per worker thread.

Each workflow reads remote state, asks plan.py what to do, and hands the plan to
execute.py. A function's failure is recorded in its result and never stops the
others; the CLI turns results into output and an exit code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from . import roles
from .aws import AwsSession, aws_message
from .canary import missing_alarms
from .errors import Interrupted, InvalidInputError, LambdaDeployError
from .execute import Emit, Event, Executor, Outcome, describe
from .model import FunctionConfig, Project
from .packaging import Artifact, build_artifact
from .plan import (
    NEW_VERSION,
    FunctionPlan,
    PromoteConflict,
    Rollout,
    plan_finish,
    plan_promote,
    plan_push,
    plan_rollback,
)
from .remote import RemoteFunction, read_function
from .smoke import SmokeResult
from .triggers import reconcile_triggers
from .triggers.common import applicable
from .triggers_config import KINDS


@dataclass
class FunctionResult:
    """Everything the summary and --json need about one function."""

    function: FunctionConfig
    alias: str
    ok: bool = True
    version: str | None = None
    published: bool = False
    uploaded: bool = False
    alias_from: str | None = None
    alias_to: str | None = None
    alias_moved: bool = False
    artifact: Artifact | None = None
    smoke: SmokeResult | None = None
    smoke_skipped: bool = False
    steps: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    conflict: PromoteConflict | None = None
    triggers: list[str] = field(default_factory=list)  # trigger changes made (or planned)
    canary_weight: float | None = None  # a canary left in place: its share of the alias's traffic
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0


# Function tag `lambdadeploy:triggers:ALIAS`: "none" when the tool wired no trigger to ALIAS.
TRIGGER_MARKER_PREFIX = "lambdadeploy:triggers:"


class Deployer:
    """Runs a workflow over the selected functions, in parallel."""

    def __init__(self, session: AwsSession, project: Project, emit: Emit, *, parallel: int = 4) -> None:
        self.session = session
        self.project = project
        self.emit = emit
        self.parallel = max(1, parallel)
        self._role_lock = threading.Lock()
        self._roles_ready = False
        # Set by the CLI's SIGINT/SIGTERM handler: workers stop before their next step.
        self.cancel = threading.Event()

    def _each(self, functions: tuple[FunctionConfig, ...], alias: str,
              work: Callable[[FunctionConfig, FunctionResult], None]) -> list[FunctionResult]:
        def one(fn: FunctionConfig) -> FunctionResult:
            result = FunctionResult(fn, alias)
            started = time.monotonic()
            try:
                if self.cancel.is_set():
                    raise Interrupted(f"{fn.name}: interrupted before it started; nothing done")
                work(fn, result)
            except LambdaDeployError as error:
                result.ok, result.error, result.exit_code = False, error.render(), error.exit_code
            except (ClientError, BotoCoreError) as error:
                result.ok, result.error, result.exit_code = False, f"{fn.name}: {aws_message(error)}", 1
            except Exception as error:  # a bug or an OS error: still report every function's outcome
                result.ok, result.exit_code = False, 1
                result.error = f"{fn.name}: internal error: {type(error).__name__}: {error}"
            finally:
                result.seconds = time.monotonic() - started
            return result

        with ThreadPoolExecutor(max_workers=min(self.parallel, len(functions)) or 1) as pool:
            return list(pool.map(one, functions))

    def _role(self, fn: FunctionConfig, create: bool) -> str:
        if create and fn.role is None:
            with self._role_lock:
                if not self._roles_ready:
                    if roles.ensure_default_role(self.session, self.project):
                        self.emit(Event(fn.key, f"created execution role {roles.default_role_name(self.project)}"))
                    self._roles_ready = True
        return roles.role_arn(self.session, self.project, fn)

    def _plan_push(self, fn: FunctionConfig, alias: str, skip_smoke: bool, write: bool,
                   result: FunctionResult, rollout: Rollout | None = None) -> tuple[FunctionPlan, RemoteFunction]:
        # Packaging is CPU, reading state and the role is network: overlap them.
        with ThreadPoolExecutor(max_workers=2) as pool:
            remote_read = pool.submit(read_function, self.session, fn.name)
            role_read = pool.submit(self._role, fn, write)
            artifact = build_artifact(fn, on_progress=lambda message: self.emit(Event(fn.key, message)))
            result.artifact = artifact
            remote, role = remote_read.result(), role_read.result()
        plan = plan_push(fn, artifact.sha256, role, remote, alias, skip_smoke=skip_smoke, rollout=rollout)
        result.planned = [describe(step) for step in plan.steps]
        result.alias_from = plan.current_version
        result.alias_to = plan.target_version
        result.version = None if plan.target_version == NEW_VERSION else plan.target_version
        return plan, remote

    def plan(self, functions: tuple[FunctionConfig, ...], alias: str,
             rollout: Rollout | None = None) -> list[FunctionResult]:
        """What push would do, writing nothing (not even the execution role)."""
        role_changes = roles.default_role_changes(self.session, self.project)

        def work(fn: FunctionConfig, result: FunctionResult) -> None:
            self._plan_push(fn, alias, False, False, result, rollout)
            result.triggers = [str(c) for c in reconcile_triggers(self.session, fn, alias, apply=False)]
            result.planned += [f"trigger {c}" for c in result.triggers]
            if fn is functions[0]:
                result.planned = [*role_changes, *result.planned]

        return self._each(functions, alias, work)

    def _wire_triggers(self, fn: FunctionConfig, alias: str, result: FunctionResult,
                       remote: RemoteFunction) -> None:
        """Attach the alias's triggers; runs only after the alias is where it should be.

        A tag on the function records that the tool wired no trigger to this alias; while
        lambda.yaml still asks for none, the reads that reconciling costs are skipped."""
        if self.cancel.is_set():
            raise Interrupted(f"{fn.name}: interrupted; not done: wiring triggers to {alias}")
        marker = f"{TRIGGER_MARKER_PREFIX}{alias}"
        wanted = "wired" if applicable(fn, alias, tuple(KINDS)) else "none"
        if wanted == "none" and remote.tags.get(marker) == "none":
            return
        for change in reconcile_triggers(self.session, fn, alias, apply=True):
            self.emit(Event(fn.key, f"trigger {change}"))
            result.triggers.append(str(change))
        if remote.tags.get(marker) != wanted:
            arn = remote.arn or self.session.client("lambda").get_function(FunctionName=fn.name)[
                "Configuration"]["FunctionArn"]
            self.session.client("lambda").tag_resource(Resource=arn, Tags={marker: wanted})

    def push(self, functions: tuple[FunctionConfig, ...], alias: str, *, skip_smoke: bool = False,
             rollout: Rollout | None = None) -> list[FunctionResult]:
        if rollout is not None and rollout.alarms:
            missing = missing_alarms(self.session, rollout.alarms)
            if missing:
                raise InvalidInputError(f"CloudWatch alarm(s) not found: {', '.join(missing)}",
                                        hint="--alarm takes the name of an existing alarm")

        def work(fn: FunctionConfig, result: FunctionResult) -> None:
            plan, remote = self._plan_push(fn, alias, skip_smoke, True, result, rollout)
            result.smoke_skipped = skip_smoke
            if not plan.steps:
                self.emit(Event(fn.key, f"up to date: alias {alias} -> version {plan.target_version}"))
            self._execute(plan, result.artifact, result, remote.revision_id)
            self._wire_triggers(fn, alias, result, remote)

        return self._each(functions, alias, work)

    def promote(self, functions: tuple[FunctionConfig, ...], source: str, target: str,
                *, force: bool = False) -> list[FunctionResult]:
        def work(fn: FunctionConfig, result: FunctionResult) -> None:
            remote = read_function(self.session, fn.name)
            planned = plan_promote(fn, self._role(fn, False), remote, source, target, force=force)
            if isinstance(planned, PromoteConflict):
                result.ok, result.conflict, result.exit_code = False, planned, 1
                result.error = f"{fn.name}: version {planned.version} of {source} is configured differently from what {target} needs"
                return
            result.alias_from, result.alias_to, result.version = planned.current_version, planned.target_version, planned.target_version
            self._execute(planned, None, result, remote.revision_id)
            self._wire_triggers(fn, target, result, remote)

        return self._each(functions, target, work)

    def finish(self, functions: tuple[FunctionConfig, ...], alias: str) -> list[FunctionResult]:
        """Complete canaries left in place by `push --canary` without --watch."""
        def work(fn: FunctionConfig, result: FunctionResult) -> None:
            remote = read_function(self.session, fn.name)
            planned = plan_finish(fn, remote, alias)
            if not planned.steps:
                self.emit(Event(fn.key, f"no canary in progress on {alias}"))
            result.alias_from, result.alias_to, result.version = planned.current_version, planned.target_version, planned.target_version
            self._execute(planned, None, result, remote.revision_id)

        return self._each(functions, alias, work)

    def rollback(self, functions: tuple[FunctionConfig, ...], alias: str, to_version: str | None) -> list[FunctionResult]:
        def work(fn: FunctionConfig, result: FunctionResult) -> None:
            remote = read_function(self.session, fn.name)
            planned = plan_rollback(fn, remote, alias, to_version)
            result.alias_from, result.alias_to, result.version = planned.current_version, planned.target_version, planned.target_version
            self._execute(planned, None, result, remote.revision_id)
            self._wire_triggers(fn, alias, result, remote)

        return self._each(functions, alias, work)

    def _execute(self, plan: FunctionPlan, artifact: Artifact | None, result: FunctionResult, revision: str | None) -> None:
        outcome = Outcome()
        try:
            Executor(self.session, self.emit, self.cancel).run(plan, artifact, outcome, revision_id=revision)
        finally:
            result.steps = outcome.done
            result.published = outcome.published
            result.uploaded = outcome.uploaded
            result.alias_moved = outcome.alias_moved
            result.smoke = outcome.smoke
            result.canary_weight = outcome.canary_weight if not outcome.alias_moved else None
            if outcome.version:
                result.version = result.alias_to = outcome.version
