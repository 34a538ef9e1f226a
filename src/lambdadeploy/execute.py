"""Run a FunctionPlan's steps against AWS: waiters, guards, the smoke gate.

The only module (with the trigger reconcilers) that writes Lambda state. Steps run
in order; the alias step comes last, so any failure before it leaves every alias
where it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .aws import AwsSession
from .canary import watch_canary
from .errors import AwsError, ConcurrentDeployError, Interrupted, SmokeTestFailed
from .model import FunctionConfig
from .packaging import Artifact, limits
from .plan import (
    NEW_VERSION,
    CreateFunction,
    FunctionPlan,
    MoveAlias,
    Publish,
    ShiftTraffic,
    Smoke,
    Step,
    UpdateConfig,
    UpdateTags,
    UploadCode,
    UseVersion,
    Watch,
    desired_tags,
)
from .remote import AliasHistory
from .smoke import SmokeResult, smoke_invoke

# Lambda updates take seconds; poll from 0.25 s up to every 2 s rather than the waiters' 5 s.
WAIT_SECONDS = 600
# A role created moments ago is not yet assumable by Lambda (IAM is eventually consistent).
ROLE_PROPAGATION_SECONDS = 60
# How long to keep retrying a write refused because another update is still in progress.
CONFLICT_WAIT_SECONDS = 120


@dataclass(frozen=True)
class Event:
    """Something worth telling the person at the terminal; rendered by output.py."""

    function: str
    message: str
    level: str = "info"  # info | warning | error


Emit = Callable[[Event], None]


@dataclass
class Outcome:
    """What executing a plan did."""

    version: str | None = None
    published: bool = False
    uploaded: bool = False
    smoke: SmokeResult | None = None
    alias_moved: bool = False
    canary_weight: float | None = None  # left in place when the push ends with a canary
    done: list[str] = field(default_factory=list)


def describe(step: Step) -> str:
    """A short human description of a step, for plan output and progress."""
    match step:
        case CreateFunction():
            return "create function"
        case UpdateConfig(changes=changes):
            return "update configuration: " + ", ".join(c.field for c in changes)
        case UploadCode(old_sha256=old, new_sha256=new):
            return f"upload code {(old or '-')[:8]} -> {new[:8]}"
        case UpdateTags(set_tags=set_tags, remove=remove):
            return "update tags: " + ", ".join([*set_tags, *(f"-{k}" for k in remove)])
        case Publish():
            return "publish version"
        case UseVersion(version=version):
            return f"reuse version {version} (same code and configuration)"
        case Smoke(version=version):
            return f"smoke invoke version {version}"
        case MoveAlias(alias=alias, from_version=old, to_version=new) if old == new:
            return f"alias {alias}: all traffic back on {old} (canary cancelled)"
        case MoveAlias(alias=alias, from_version=old, to_version=new):
            return f"alias {alias}: {old or '(none)'} -> {new}"
        case ShiftTraffic(alias=alias, stable=stable, canary=canary, weight=weight):
            return f"alias {alias}: {weight:.0%} of traffic to {canary}, the rest on {stable}"
        case Watch(canary=canary, seconds=seconds, alarms=alarms):
            watched = "errors, throttles" + "".join(f", alarm {a}" for a in alarms)
            return f"watch version {canary} for {seconds} s ({watched})"
    raise TypeError(step)  # pragma: no cover - every Step kind is matched above


class Executor:
    """Executes one function's plan; one instance per function, so no shared mutable state."""

    def __init__(self, session: AwsSession, emit: Emit, cancel: threading.Event | None = None) -> None:
        self.session = session
        self.client = session.client("lambda")
        self.emit = emit
        self.cancel = cancel or threading.Event()

    def run(self, plan: FunctionPlan, artifact: Artifact | None, outcome: Outcome,
            *, revision_id: str | None = None) -> Outcome:
        """Run the steps in order, recording progress in `outcome` (also when a step fails)."""
        fn = plan.function
        outcome.version = None if plan.target_version == NEW_VERSION else plan.target_version
        self._revision = revision_id
        for index, step in enumerate(plan.steps):
            if self.cancel.is_set():
                # Stopping between steps keeps the alias move last: an interrupted push
                # never leaves an alias on an untested version.
                not_done = ", ".join(describe(s) for s in plan.steps[index:])
                if outcome.canary_weight is not None:
                    self.clear_weights(fn, plan.alias, f"canary v{outcome.version} stopped by the user")
                    not_done += f" (the canary's {outcome.canary_weight:.0%} weight was removed)"
                raise Interrupted(f"{fn.name}: interrupted; not done: {not_done}")
            self.emit(Event(fn.key, describe(step).replace(NEW_VERSION, outcome.version or NEW_VERSION)))
            self._run_step(step, fn, artifact, outcome)
            # described again: a Publish step has just learnt the version number
            outcome.done.append(describe(step).replace(NEW_VERSION, outcome.version or NEW_VERSION))
        return outcome

    def _run_step(self, step: Step, fn: FunctionConfig, artifact: Artifact | None, outcome: Outcome) -> None:
        match step:
            case CreateFunction(config=config):
                self._create(fn, config, self._code(fn, artifact))
                outcome.uploaded = True  # even if the function then fails to become Active
                self._wait(fn)
            case UpdateConfig(config=config):
                response = self._guarded(fn, "configuration", lambda: self.client.update_function_configuration(
                    FunctionName=fn.name, **_config_params(config), **self._revision_guard()))
                self._revision = response.get("RevisionId")
                self._wait(fn)
            case UploadCode(architecture=architecture):
                response = self._guarded(fn, "code", lambda: self.client.update_function_code(
                    FunctionName=fn.name, Architectures=[architecture], **self._code(fn, artifact),
                    **self._revision_guard()))
                self._revision = response.get("RevisionId")
                outcome.uploaded = True
                self._wait(fn)
            case UpdateTags(arn=arn, set_tags=set_tags, remove=remove):
                if set_tags:
                    self.client.tag_resource(Resource=arn, Tags=dict(set_tags))
                if remove:
                    self.client.untag_resource(Resource=arn, TagKeys=list(remove))
            case Publish(code_sha256=sha):
                # CodeSha256 guards against publishing code someone else uploaded meanwhile.
                response = self._guarded(fn, "code", lambda: self.client.publish_version(
                    FunctionName=fn.name, CodeSha256=sha, **self._revision_guard()))
                if response.get("CodeSha256") not in (None, sha):
                    # Another deploy uploaded other code between our upload and publish
                    # (an endpoint that ignores the CodeSha256 precondition published it).
                    raise ConcurrentDeployError(fn.name, "code")
                outcome.version = response["Version"]
                outcome.published = True
            case UseVersion(version=version):
                outcome.version = version
            case Smoke():
                outcome.smoke = smoke_invoke(self.session, fn.name, outcome.version or "",
                                             fn.test.payload if fn.test else {},
                                             fn.test.expect if fn.test else None)
                if not outcome.smoke.passed:
                    raise SmokeTestFailed(
                        f"{fn.name}: smoke test of version {outcome.version} "
                        f"{outcome.smoke.describe()}; alias not moved"
                    )
            case MoveAlias():
                self._move_alias(fn, step, outcome)
                outcome.alias_moved = True
            case ShiftTraffic():
                self._shift(fn, step, outcome)
                outcome.canary_weight = step.weight
            case Watch():
                watch_canary(self, fn, step, outcome.version or step.canary)

    def _revision_guard(self) -> dict[str, str]:
        return {"RevisionId": self._revision} if self._revision else {}

    def _guarded(self, fn: FunctionConfig, what: str, call: Callable[[], Any]) -> Any:
        """Make a write call: wait out an update in progress, and turn a failed
        RevisionId/CodeSha256 precondition into "someone else deployed"."""
        deadline = time.monotonic() + CONFLICT_WAIT_SECONDS
        delay = 0.5
        while True:
            try:
                return call()
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code == "PreconditionFailedException" or (
                    code == "InvalidParameterValueException" and "CodeSha256" in str(error)
                ):
                    raise ConcurrentDeployError(fn.name, what) from error
                # Lambda refuses writes while a previous update is still being applied
                # (ours, or a console edit); botocore does not retry these.
                if code != "ResourceConflictException" or time.monotonic() > deadline:
                    raise
                self.emit(Event(fn.key, f"an update is in progress; retrying in {delay:.1f} s"))
                # Keep our RevisionId: if the update in progress is someone else's, the
                # retry must fail its precondition rather than overwrite their change.
                self._wait(fn, refresh_revision=False)
                time.sleep(delay)
                delay = min(delay * 2, 8.0)

    def _code(self, fn: FunctionConfig, artifact: Artifact | None) -> dict[str, Any]:
        if artifact is None:  # pragma: no cover - plans that upload always come with an artifact
            raise AwsError(f"{fn.name}: no package was built")
        if not artifact.needs_s3:
            return {"ZipFile": artifact.zip_bytes}
        key = f"lambdadeploy/{fn.name}/{artifact.sha256_hex}.zip"
        self.emit(Event(fn.key, f"package is {limits.mb(artifact.zipped_size)}: uploading through s3://{fn.s3_bucket}/{key}"))
        self.session.client("s3").put_object(Bucket=fn.s3_bucket, Key=key, Body=artifact.zip_bytes)
        return {"S3Bucket": fn.s3_bucket, "S3Key": key}

    def _create(self, fn: FunctionConfig, config: dict[str, Any], code: dict[str, Any]) -> None:
        deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
        while True:
            try:
                response = self.client.create_function(
                    FunctionName=fn.name,
                    Code=code,
                    Publish=False,
                    PackageType="Zip",
                    Tags=desired_tags(fn),
                    **_config_params(config),
                    Architectures=config["Architectures"],
                )
                break
            except ClientError as error:
                message = str(error)
                if "cannot be assumed" in message and time.monotonic() < deadline:
                    time.sleep(2)
                    continue
                raise
        self._revision = response.get("RevisionId")

    def _wait(self, fn: FunctionConfig, *, refresh_revision: bool = True) -> None:
        """Poll until the function is Active and its last update Successful, keeping the
        RevisionId the same reads return (a botocore waiter would need one more read)."""
        deadline = time.monotonic() + WAIT_SECONDS
        delay = 0.25
        while True:
            configuration = self.client.get_function_configuration(FunctionName=fn.name)
            state = configuration.get("State", "Active")
            update = configuration.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = configuration.get("StateReason") or configuration.get("LastUpdateStatusReason") or ""
                raise AwsError(f"{fn.name}: Lambda could not apply the change ({state}/{update}): {reason}")
            if state == "Active" and update == "Successful":
                if self._revision and refresh_revision:
                    self._revision = configuration.get("RevisionId")
                return
            if time.monotonic() > deadline:
                raise AwsError(f"{fn.name}: still {state}/{update} after {WAIT_SECONDS} s")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _move_alias(self, fn: FunctionConfig, step: MoveAlias, outcome: Outcome) -> None:
        version = outcome.version if step.to_version == NEW_VERSION else step.to_version
        smoke = outcome.smoke.describe() if outcome.smoke else "skipped"
        params = {
            "FunctionName": fn.name,
            "Name": step.alias,
            "FunctionVersion": version,
            "Description": AliasHistory(step.previous, f"v{version} {smoke}").encode(),
            "RoutingConfig": {"AdditionalVersionWeights": {}},
        }
        if step.from_version is None:
            try:
                self.client.create_alias(**params)
            except ClientError as error:
                if error.response["Error"]["Code"] == "ResourceConflictException":
                    raise ConcurrentDeployError(fn.name, f"alias {step.alias}") from error
                raise
            return
        current = self.client.get_alias(FunctionName=fn.name, Name=step.alias)
        if current["FunctionVersion"] != step.from_version:
            raise ConcurrentDeployError(fn.name, f"alias {step.alias}")
        guard = {"RevisionId": current["RevisionId"]} if current.get("RevisionId") else {}
        self._guarded(fn, f"alias {step.alias}", lambda: self.client.update_alias(**params, **guard))


    def _shift(self, fn: FunctionConfig, step: ShiftTraffic, outcome: Outcome) -> None:
        canary = outcome.version if step.canary == NEW_VERSION else step.canary
        current = self.client.get_alias(FunctionName=fn.name, Name=step.alias)
        if current["FunctionVersion"] != step.stable:
            raise ConcurrentDeployError(fn.name, f"alias {step.alias}")
        history = AliasHistory.decode(current.get("Description"))
        smoke = outcome.smoke.describe() if outcome.smoke else "skipped"
        guard = {"RevisionId": current["RevisionId"]} if current.get("RevisionId") else {}
        self._guarded(fn, f"alias {step.alias}", lambda: self.client.update_alias(
            FunctionName=fn.name, Name=step.alias, FunctionVersion=step.stable,
            Description=AliasHistory(history.previous, f"canary v{canary} {step.weight:.0%}, {smoke}").encode(),
            RoutingConfig={"AdditionalVersionWeights": {canary: step.weight}}, **guard))

    def clear_weights(self, fn: FunctionConfig, alias: str, note: str) -> None:
        """All traffic back on the version the alias kept serving (a failed or stopped canary)."""
        current = self.client.get_alias(FunctionName=fn.name, Name=alias)
        history = AliasHistory.decode(current.get("Description"))
        guard = {"RevisionId": current["RevisionId"]} if current.get("RevisionId") else {}
        self._guarded(fn, f"alias {alias}", lambda: self.client.update_alias(
            FunctionName=fn.name, Name=alias, FunctionVersion=current["FunctionVersion"],
            Description=AliasHistory(history.previous, note).encode(),
            RoutingConfig={"AdditionalVersionWeights": {}}, **guard))


def _config_params(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "Runtime": config["Runtime"],
        "Handler": config["Handler"],
        "Role": config["Role"],
        "MemorySize": config["MemorySize"],
        "Timeout": config["Timeout"],
        "Description": config["Description"],
        "Environment": {"Variables": dict(config["Environment"])},
        "Layers": list(config["Layers"]),
    }
