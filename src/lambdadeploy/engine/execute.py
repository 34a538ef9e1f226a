"""Run a FunctionPlan's steps against AWS: waits, guards, the smoke gate.

Steps run in order and the alias step comes after the smoke step, so any failure
before it leaves every alias where it was. The executor dispatches on the step's
type; trigger steps are applied by their kind. It returns an `Execution` (what was
done, what was not, and why it stopped), never a half-filled result.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..aws import AwsCallError, AwsConflict, AwsPreconditionFailed, AwsSession, retry, wait_until
from ..aws.retry import FUNCTION_SETTLED, ROLE_PROPAGATION, UPDATE_IN_PROGRESS
from ..config.model import FunctionConfig
from ..errors import (
    AwsError,
    ConcurrentDeployError,
    Interrupted,
    LambdaDeployError,
    SmokeTestFailed,
)
from ..packaging import Artifact, limits
from ..triggers import registry
from ..triggers.permissions import apply_permission
from .apply_settings import apply_setting, wait_snap_start
from .events import Emit, Notice, StepStarted
from .history import TIME_FORMAT, AliasHistory, Move
from .plan import FunctionPlan, desired_tags
from .report import Execution, Failure, StepRecord
from .rollout import watch_canary
from .setting_steps import SETTING_STEPS
from .settings_config import settings_params
from .smoke import SmokeResult, smoke_invoke
from .steps import (
    NEW_VERSION,
    CreateFunction,
    MarkTriggers,
    MoveAlias,
    Publish,
    SetPermission,
    ShiftTraffic,
    Smoke,
    UpdateConfig,
    UpdateTags,
    UploadCode,
    UseVersion,
    Watch,
    WireTrigger,
)


class Executor:
    """Executes one function's plan; one instance per plan, so no state is shared between threads."""

    def __init__(self, session: AwsSession, emit: Emit, cancel: threading.Event | None = None,
                 smoke_arch: str = "function", by: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.by = by  # who moves aliases, recorded with each move
        self.clock = clock
        self.smoke_arch = smoke_arch  # "host": the sandbox runs native code rebuilt for its machine
        self.client = session.client("lambda")
        self.emit = emit
        self.cancel = cancel or threading.Event()
        # What the run has learnt so far; read back into the Execution at the end.
        self._revision: str | None = None
        self._version: str | None = None
        self._published = False
        self._uploaded = False
        self._smoke: SmokeResult | None = None
        self._weight: float | None = None
        self._alias_revision: str | None = None  # the alias's RevisionId as last read or written
        self._alias_recorded: AliasHistory | None = None  # its description (history) with that RevisionId

    def run(self, plan: FunctionPlan, artifact: Artifact | None, *, revision_id: str | None = None,
            alias_revision: str | None = None, alias_history: AliasHistory | None = None) -> Execution:
        """Run the steps in order; stop at the first failure or interruption.

        `revision_id` is $LATEST's and `alias_revision` the alias's (with `alias_history`, what its
        description recorded), as the plan read them: the writes are guarded by them, so a change
        someone else made since fails its precondition."""
        fn = plan.function
        self._version = None if plan.target_version == NEW_VERSION else plan.target_version
        self._revision = revision_id
        self._alias_revision = alias_revision
        self._alias_recorded = alias_history
        done: list[StepRecord] = []
        failure: Failure | None = None
        index = 0
        for index, step in enumerate(plan.steps):  # noqa: B007 - index tells what was not done
            try:
                if self.cancel.is_set():
                    # Stopping between steps keeps the alias move after the smoke test: an
                    # interrupted push never leaves an alias on an untested version.
                    note = ""
                    if self._weight is not None:
                        self.clear_weights(fn, plan.alias, f"canary v{self._version} stopped by the user")
                        note = f" (the canary's {self._weight:.0%} weight was removed)"
                        self._weight = None
                    raise Interrupted(f"{fn.name}: interrupted{note}")
                self.emit(StepStarted(fn.key, step, self._version))
                detail = self._run_step(step, fn, artifact, plan.alias)
                done.append(StepRecord(step, self._version, detail))
            except LambdaDeployError as error:
                failure = Failure(error.render(), error.exit_code)
                break
            except Exception as error:  # a bug or an OS error: still report what was done
                failure = Failure(f"{fn.name}: internal error: {type(error).__name__}: {error}", 1)
                self.emit(Notice(fn.key, traceback.format_exc(), "debug"))
                break
        return Execution(
            done=tuple(done), not_done=plan.steps[index:] if failure else (), version=self._version,
            published=self._published, uploaded=self._uploaded, smoke=self._smoke, canary_weight=self._weight,
            failure=failure,
        )

    def _run_step(self, step: Any, fn: FunctionConfig, artifact: Artifact | None, alias: str) -> str | None:
        """Carry out one step; returns what it reports (a URL), or None.

        Long because it is the one dispatch on the step's type: a case per kind of step."""
        match step:
            case CreateFunction(config=config):
                self._create(fn, config, self._code(fn, artifact))
                self._uploaded = True  # even if the function then fails to become Active
                self._wait(fn)
            case UpdateConfig(config=config, changes=changes):
                changed = frozenset(change.field.split(".")[0] for change in changes)
                response = self._guarded(fn, "configuration", lambda: self.client.update_function_configuration(
                    FunctionName=fn.name, **_config_params(config, changed), **self._revision_guard()))
                self._revision = response.get("RevisionId")
                self._wait(fn)
            case UploadCode(architecture=architecture):
                response = self._guarded(fn, "code", lambda: self.client.update_function_code(
                    FunctionName=fn.name, Architectures=[architecture], **self._code(fn, artifact),
                    **self._revision_guard()))
                self._revision = response.get("RevisionId")
                self._uploaded = True
                self._wait(fn)
            case UpdateTags(arn=arn, set_tags=set_tags, remove=remove):
                if set_tags:
                    self.client.tag_resource(Resource=arn, Tags=dict(set_tags))
                if remove:
                    self.client.untag_resource(Resource=arn, TagKeys=list(remove))
                # Tagging may change the function's RevisionId: take the current one, so our own
                # precondition on the next write does not trip over our own change.
                if self._revision:
                    self._wait(fn)
            case Publish(code_sha256=sha, source=source):
                # CodeSha256 guards against publishing code someone else uploaded meanwhile. The
                # description records where the version came from (status, history, diff read it).
                described = {"Description": source.describe()} if source is not None else {}
                response = self._guarded(fn, "code", lambda: self.client.publish_version(
                    FunctionName=fn.name, CodeSha256=sha, **described, **self._revision_guard()))
                if response.get("CodeSha256") not in (None, sha):
                    # Another deploy uploaded other code between our upload and publish
                    # (an endpoint that ignores the CodeSha256 precondition published it).
                    raise ConcurrentDeployError(fn.name, "code")
                self._version = response["Version"]
                self._published = True
                if response.get("State", "Active") != "Active":
                    self._wait_version(fn, self._version)  # Lambda refuses to invoke a Pending version
                if fn.settings.snap_start:  # the snapshot is taken at publish: smoke-test the optimized version
                    wait_snap_start(self, fn, self._version)
            case UseVersion(version=version):
                self._version = version
            case Smoke():
                self._smoke = smoke_invoke(self.session, fn.name, self._version or "",
                                           fn.test.payload if fn.test else {}, fn.test.expect if fn.test else None,
                                           self.smoke_arch)
                if not self._smoke.passed:
                    raise SmokeTestFailed(f"{fn.name}: smoke test of version {self._version} "
                                          f"{self._smoke.describe()}; alias not moved")
            case MoveAlias():
                self._move_alias(fn, step)
                self._weight = None
            case ShiftTraffic():
                self._shift(fn, step)
                self._weight = step.weight
            case Watch():
                watch_canary(self.session, fn.name, step, self._version or step.canary, self.cancel,
                             lambda note: self.clear_weights(fn, step.alias, note))
            case WireTrigger(target=target, change=change):
                return registry.kind(change.kind).apply(self.session, target, change)
            case SetPermission(change=change):
                apply_permission(self.session, change)
            case MarkTriggers(arn=arn, alias=alias_name, state=state):
                self.client.tag_resource(Resource=arn, Tags={f"lambdadeploy:triggers:{alias_name}": state})
            case _ if isinstance(step, SETTING_STEPS):  # concurrency, async, retention, ... (apply_settings.py)
                return apply_setting(self, step, fn)
            case _:  # pragma: no cover - every FunctionStep kind is matched above
                raise TypeError(step)
        return None

    def _revision_guard(self) -> dict[str, str]:
        return {"RevisionId": self._revision} if self._revision else {}

    def _guarded(self, fn: FunctionConfig, what: str, call: Any) -> Any:
        """Make a write call: wait out an update in progress, and turn a failed
        RevisionId/CodeSha256 precondition into "someone else deployed"."""
        def before_retry(error: AwsCallError, delay: float) -> None:
            self.emit(Notice(fn.key, f"an update is in progress; retrying in {delay:.1f} s"))
            # Keep our RevisionId: if the update in progress is someone else's, the
            # retry must fail its precondition rather than overwrite their change.
            self._wait(fn, refresh_revision=False)

        try:
            return retry(call, UPDATE_IN_PROGRESS, before_retry=before_retry)
        except AwsPreconditionFailed as error:
            raise ConcurrentDeployError(fn.name, what) from error
        except AwsCallError as error:
            # AWS: "CodeSHA256 (...) is different from current CodeSHA256 in $LATEST. Please try again."
            if error.code == "InvalidParameterValueException" and error.says("codesha256"):
                raise ConcurrentDeployError(fn.name, what) from error
            raise

    def _code(self, fn: FunctionConfig, artifact: Artifact | None) -> dict[str, Any]:
        if artifact is None:  # pragma: no cover - plans that upload always come with an artifact
            raise AwsError(f"{fn.name}: no package was built")
        if not artifact.needs_s3:
            return {"ZipFile": artifact.zip_bytes}
        key = f"lambdadeploy/{fn.name}/{artifact.sha256_hex}.zip"
        self.emit(Notice(fn.key, f"package is {limits.mb(artifact.zipped_size)}: uploading through "
                                 f"s3://{fn.s3_bucket}/{key}"))
        self.session.client("s3").put_object(Bucket=fn.s3_bucket, Key=key, Body=artifact.zip_bytes)
        return {"S3Bucket": fn.s3_bucket, "S3Key": key}

    def _create(self, fn: FunctionConfig, config: Any, code: dict[str, Any]) -> None:
        # A role created moments ago is not yet assumable by Lambda (IAM is eventually consistent).
        response = retry(lambda: self.client.create_function(
            FunctionName=fn.name, Code=code, Publish=False, PackageType="Zip", Tags=desired_tags(fn),
            **_config_params(config), Architectures=config["Architectures"]), ROLE_PROPAGATION)
        self._revision = response.get("RevisionId")

    def _wait(self, fn: FunctionConfig, *, refresh_revision: bool = True) -> None:
        """Poll until the function is Active and its last update Successful,
        keeping the RevisionId the same reads return (a botocore waiter would need one more read)."""

        def settled(configuration: dict[str, Any]) -> bool:
            state = configuration.get("State", "Active")
            update = configuration.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = configuration.get("StateReason") or configuration.get("LastUpdateStatusReason") or ""
                raise AwsError(f"{fn.name}: Lambda could not apply the change ({state}/{update}): {reason}")
            return state == "Active" and update == "Successful"

        # GetFunction, not GetFunctionConfiguration: the same configuration, but on its own quota
        # of 100 requests per second, where polling does not slow down every write of the
        # account's 15-per-second control-plane budget (aws/quotas.py).
        configuration = wait_until(lambda: self.client.get_function(FunctionName=fn.name)["Configuration"], settled,
                                   FUNCTION_SETTLED,
                                   lambda c: f"{c.get('State')}/{c.get('LastUpdateStatus')}")
        if self._revision and refresh_revision:
            self._revision = configuration.get("RevisionId")

    def _wait_version(self, fn: FunctionConfig, version: str) -> None:
        """Poll until a just-published version is Active: it may be Pending for a moment (longer
        with SnapStart or in a VPC), and Lambda refuses to invoke it until then (botocore's
        PublishedVersionActive waiter, with our polling policy)."""

        def active(configuration: dict[str, Any]) -> bool:
            if configuration.get("State") == "Failed":
                raise AwsError(f"{fn.name}: version {version} failed to become Active: "
                               f"{configuration.get('StateReason') or ''}")
            return configuration.get("State", "Active") == "Active"

        # GetFunction for the same reason as in _wait: its own 100/s quota.
        wait_until(lambda: self.client.get_function(FunctionName=fn.name, Qualifier=version)["Configuration"], active,
                   FUNCTION_SETTLED, lambda c: str(c.get("State")))

    def _history(self, step: MoveAlias, version: str, recorded: AliasHistory) -> str:
        """The alias description after this move: the move itself (when, how, smoke, by), then the
        earlier versions the plan keeps, with what `recorded` (the description now) says of each."""
        smoke = self._smoke.describe() if self._smoke else "skipped"
        tested = "ok" if self._smoke and self._smoke.passed else "skip" if step.how in ("push", "promote") else "-"
        at = time.strftime(TIME_FORMAT, time.gmtime(self.clock()))
        now = Move(version, at, step.how, tested, self.by)
        return AliasHistory(tuple(recorded.record_of(v) for v in step.previous), f"v{version} {smoke}", now).encode()

    def _move_alias(self, fn: FunctionConfig, step: MoveAlias) -> None:
        version = self._version if step.to_version == NEW_VERSION else step.to_version
        params = {
            "FunctionName": fn.name,
            "Name": step.alias,
            "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": {}},
        }
        if step.from_version is None:
            try:
                self.client.create_alias(**params, Description=self._history(step, version, AliasHistory()))
            except AwsConflict as error:
                raise ConcurrentDeployError(fn.name, f"alias {step.alias}") from error
            return
        if self._alias_revision is None or self._alias_recorded is None:
            # Nothing from the plan's read: read the alias, and check it is where the plan found it.
            current = self.client.get_alias(FunctionName=fn.name, Name=step.alias)
            if current["FunctionVersion"] != step.from_version:
                raise ConcurrentDeployError(fn.name, f"alias {step.alias}")
            self._alias_revision = current.get("RevisionId")
            self._alias_recorded = AliasHistory.decode(current.get("Description"))
        # The RevisionId precondition: AWS refuses the move if anyone changed the alias since it
        # was read (412, "someone else deployed"), so the history read with it is still the
        # alias's; no second read of the alias on the 15/s budget.
        guard = {"RevisionId": self._alias_revision} if self._alias_revision else {}
        description = self._history(step, version, self._alias_recorded)
        response = self._guarded(fn, f"alias {step.alias}", lambda: self.client.update_alias(
            **params, Description=description, **guard))
        self._alias_revision = response.get("RevisionId")
        self._alias_recorded = AliasHistory.decode(description)

    def _shift(self, fn: FunctionConfig, step: ShiftTraffic) -> None:
        canary = self._version if step.canary == NEW_VERSION else step.canary
        current = self.client.get_alias(FunctionName=fn.name, Name=step.alias)
        if current["FunctionVersion"] != step.stable:
            raise ConcurrentDeployError(fn.name, f"alias {step.alias}")
        history = AliasHistory.decode(current.get("Description"))
        smoke = self._smoke.describe() if self._smoke else "skipped"
        guard = {"RevisionId": current["RevisionId"]} if current.get("RevisionId") else {}
        written = AliasHistory(history.earlier, f"canary v{canary} {step.weight:.0%}, {smoke}", history.now)
        response = self._guarded(fn, f"alias {step.alias}", lambda: self.client.update_alias(
            FunctionName=fn.name, Name=step.alias, FunctionVersion=step.stable, Description=written.encode(),
            RoutingConfig={"AdditionalVersionWeights": {canary: step.weight}}, **guard))
        self._alias_revision, self._alias_recorded = response.get("RevisionId"), AliasHistory.decode(written.encode())

    def clear_weights(self, fn: FunctionConfig, alias: str, note: str) -> None:
        """All traffic back on the version the alias kept serving (a failed or stopped canary)."""
        current = self.client.get_alias(FunctionName=fn.name, Name=alias)
        history = AliasHistory.decode(current.get("Description"))
        guard = {"RevisionId": current["RevisionId"]} if current.get("RevisionId") else {}
        written = AliasHistory(history.earlier, note, history.now)
        response = self._guarded(fn, f"alias {alias}", lambda: self.client.update_alias(
            FunctionName=fn.name, Name=alias, FunctionVersion=current["FunctionVersion"],
            Description=written.encode(), RoutingConfig={"AdditionalVersionWeights": {}}, **guard))
        self._alias_revision, self._alias_recorded = response.get("RevisionId"), AliasHistory.decode(written.encode())


def _config_params(config: Any, changed: frozenset[str] | None = None) -> dict[str, Any]:
    return {
        "Runtime": config["Runtime"],
        "Handler": config["Handler"],
        "Role": config["Role"],
        "MemorySize": config["MemorySize"],
        "Timeout": config["Timeout"],
        "Description": config["Description"],
        "Environment": {"Variables": dict(config["Environment"])},
        "Layers": list(config["Layers"]),
        **settings_params(config, changed),  # vpc, storage, tracing, logging, ... (settings_config.py)
    }
