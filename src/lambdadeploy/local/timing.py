"""AWS's timing: what is not ready yet right after it was made.

- A role is not assumable by Lambda for a few seconds after CreateRole (IAM is eventually
  consistent): CreateFunction/UpdateFunctionConfiguration naming it are refused with
  InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda."
- A newly published version is Pending before it is Active: reads of it show
  State Pending, and invoking it is refused with ResourceConflictException.
- CloudWatch metrics arrive late: a datapoint is visible to GetMetricStatistics and
  GetMetricData only some time after it was put.

`--aws-timing` (or $LAMBDADEPLOY_SANDBOX_TIMING) chooses the delays: `off` (none), `fast`
(the default: the same behaviour within a fraction of a second, so tests and the quick start
stay quick) and `real` (seconds, like AWS).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..awsrules import Violation, lambda_api
from ..errors import InvalidInputError
from .operations import Call
from .world import World

TIMING_ENV = "LAMBDADEPLOY_SANDBOX_TIMING"
PENDING_REASON = {"State": "Pending", "StateReason": "The function is being created.",
                  "StateReasonCode": "Creating"}


@dataclass(frozen=True)
class Timing:
    """How long each thing takes to become ready, in seconds."""

    name: str
    role_propagation: float
    version_pending: float
    metrics_delay: float


TIMINGS = {
    "off": Timing("off", 0.0, 0.0, 0.0),
    "fast": Timing("fast", 0.4, 0.3, 0.5),
    # AWS documents no figures: roles take "a few seconds" to propagate, metrics a minute or more.
    "real": Timing("real", 8.0, 3.0, 60.0),
}


def timing_named(name: str | None) -> Timing:
    """The timing `name` (default: $LAMBDADEPLOY_SANDBOX_TIMING, else fast)."""
    chosen = (name or os.environ.get(TIMING_ENV) or "fast").strip().lower()
    if chosen not in TIMINGS:
        raise InvalidInputError(f"unknown sandbox timing {chosen!r}", hint="use one of: " + ", ".join(TIMINGS))
    return TIMINGS[chosen]


class Clock:
    """The timing state of one sandbox: which versions were published when."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self._published: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def before(self, call: Call, world: World) -> Violation | None:
        """A refusal because something the request needs is not ready yet, or None."""
        if call.service != "lambda":
            return None
        if call.name in ("CreateFunction", "UpdateFunctionConfiguration") and self.timing.role_propagation:
            role = call.params.get("Role")
            age = world.role_age(role) if isinstance(role, str) else None
            if age is not None and age.total_seconds() < self.timing.role_propagation:
                return lambda_api.ROLE_NOT_ASSUMABLE
        if call.name == "Invoke":
            function = world.function(str(call.params.get("FunctionName") or ""), call.params.get("Qualifier"))
            if function is not None and self._pending(_base_arn(function.function_arn), str(function.version)):
                return lambda_api.state_conflict("Pending")
        return None

    def after(self, call: Call, status: int, body: bytes) -> bytes | None:
        """The answer to send instead of moto's (a version shown Pending), or None to keep it."""
        if call.service != "lambda" or status >= 300 or not self.timing.version_pending:
            return None
        if call.name in ("PublishVersion", "CreateFunction", "UpdateFunctionCode"):
            self._record(body)
        if call.name not in ("PublishVersion", "GetFunctionConfiguration", "GetFunction", "ListVersionsByFunction"):
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        changed = [c for c in _configurations(document) if self._pending(_base_arn(str(c.get("FunctionArn"))),
                                                                           str(c.get("Version")))]
        for configuration in changed:
            configuration.update(PENDING_REASON)
        return json.dumps(document).encode() if changed else None

    def _record(self, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        version = str(document.get("Version", "$LATEST"))
        if version != "$LATEST":
            with self._lock:
                self._published[(_base_arn(str(document.get("FunctionArn"))), version)] = time.monotonic()

    def _pending(self, base_arn: str, version: str) -> bool:
        with self._lock:
            published = self._published.get((base_arn, version))
        return published is not None and time.monotonic() - published < self.timing.version_pending


def _base_arn(arn: str) -> str:
    """arn:...:function:NAME, without a version or alias."""
    parts = arn.split(":")
    return ":".join(parts[:7])


def _configurations(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    if "Versions" in document:
        return [c for c in document["Versions"] if isinstance(c, dict)]
    if isinstance(document.get("Configuration"), dict):
        return [document["Configuration"]]
    return [document] if "Version" in document else []


# --- late metrics: moto's CloudWatch hides datapoints that have not "arrived" yet ---------------

_serving = threading.local()  # the metrics delay of the sandbox request this thread is serving
_ARRIVED = "_lambdadeploy_arrived"
_install_lock = threading.Lock()


@contextlib.contextmanager
def metrics_delay(seconds: float) -> Iterator[None]:
    """While a sandbox request is served on this thread, datapoints younger than `seconds`
    stay invisible (moto in-process, outside the sandbox, is not affected)."""
    _serving.delay = seconds
    try:
        yield
    finally:
        _serving.delay = 0.0


def install_metric_delays() -> None:
    """Stamp each datapoint with its arrival and hide the recent ones (idempotent, process-wide)."""
    from moto.cloudwatch.models import CloudWatchBackend

    with _install_lock:
        if getattr(CloudWatchBackend, _ARRIVED, False):
            return
        original_put = CloudWatchBackend.put_metric_data

        def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
            before = len(self.metric_data)
            original_put(self, namespace, metric_data)
            now = time.monotonic()
            for datum in self.metric_data[before:]:
                setattr(datum, _ARRIVED, now)

        def get_all_metrics(self: Any) -> list[Any]:
            delay = getattr(_serving, "delay", 0.0)
            data = self.metric_data
            if delay:
                cutoff = time.monotonic() - delay
                data = [d for d in data if getattr(d, _ARRIVED, 0.0) <= cutoff]
            return data + self.aws_metric_data

        CloudWatchBackend.put_metric_data = put_metric_data
        CloudWatchBackend.get_all_metrics = get_all_metrics
        setattr(CloudWatchBackend, _ARRIVED, True)
