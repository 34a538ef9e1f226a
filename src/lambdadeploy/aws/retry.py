"""The one retry helper and the one wait helper, each driven by a named policy.

botocore already retries throttling, 5xx and dropped connections (standard mode), but
only so often: its retry quota runs dry in a throttling storm. So client.py retries a
throttled call again under THROTTLED, for minutes: a push that would succeed more slowly
never fails for being throttled. What botocore does not retry at all are AWS's "not yet" answers: a write refused while an update
is still being applied, a role IAM has not propagated yet, an event source the
execution role cannot read yet. `retry` rides those out with backoff; `wait_until`
polls a read until a condition holds. Both give up after the policy's time budget.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..errors import AwsError
from .errors import AwsCallError, AwsConflict, AwsThrottled

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Which errors mean "try again shortly", and for how long to keep trying."""

    name: str
    applies: Callable[[AwsCallError], bool]
    seconds: float
    first_delay: float = 0.5
    max_delay: float = 8.0
    jitter: bool = False  # wait a random 50-100% of each delay, so many waiting threads spread out


def _update_in_progress(error: AwsCallError) -> bool:
    # "An update is in progress for resource ...", "The function is currently in the following
    # state: Pending": Lambda refuses writes until the previous change is applied. A conflict
    # that says something already exists is final.
    return isinstance(error, AwsConflict) and not error.says("already exist")


def _role_not_assumable(error: AwsCallError) -> bool:
    return error.code == "InvalidParameterValueException" and error.says("cannot be assumed")


def _source_not_ready(error: AwsCallError) -> bool:
    # A mapping being created/updated answers ResourceInUseException; a role policy that
    # IAM has not propagated yet makes Lambda say it cannot read the queue or stream.
    return error.code == "ResourceInUseException" or (
        error.code == "InvalidParameterValueException"
        and (error.says("execution role") or error.says("cannot access stream") or error.says("ensure the role"))
    )


UPDATE_IN_PROGRESS = RetryPolicy("an update is in progress", _update_in_progress, seconds=120)
ROLE_PROPAGATION = RetryPolicy("the execution role is not assumable yet", _role_not_assumable, seconds=60,
                               first_delay=2.0, max_delay=4.0)
# Ten minutes of 429s means something else is spending the account's quota hard; by then the
# user is better told (with the hint) than kept waiting.
THROTTLED = RetryPolicy("AWS is throttling", lambda error: isinstance(error, AwsThrottled), seconds=600,
                        first_delay=1.0, max_delay=20.0, jitter=True)
EVENT_SOURCE_NOT_READY = RetryPolicy("the event source mapping is not ready", _source_not_ready, seconds=60,
                                     first_delay=2.0, max_delay=4.0)


def retry(call: Callable[[], T], policy: RetryPolicy, *,
          before_retry: Callable[[AwsCallError, float], None] | None = None) -> T:
    """`call()`, again after a backoff while it fails with an error the policy retries."""
    deadline = time.monotonic() + policy.seconds
    delay = policy.first_delay
    while True:
        try:
            return call()
        except AwsCallError as error:
            if not policy.applies(error) or time.monotonic() + delay > deadline:
                raise
            if before_retry is not None:
                before_retry(error, delay)
            time.sleep(delay * random.uniform(0.5, 1.0) if policy.jitter else delay)
            delay = min(delay * 2, policy.max_delay)


@dataclass(frozen=True)
class WaitPolicy:
    name: str
    seconds: float = 600.0
    first_delay: float = 0.25
    max_delay: float = 2.0


# Lambda updates take seconds: poll from 0.25 s up to every 2 s rather than the waiters' 5 s.
FUNCTION_SETTLED = WaitPolicy("the function to be Active with its last update applied")


class WaitTimeout(AwsError):
    """A wait ran out of time."""


def wait_until(read: Callable[[], T], done: Callable[[T], bool], policy: WaitPolicy,
               describe: Callable[[T], str] = str) -> T:
    """Poll `read()` until `done(value)`; `done` may raise to stop waiting for good."""
    deadline = time.monotonic() + policy.seconds
    delay = policy.first_delay
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"gave up waiting for {policy.name} after {policy.seconds:.0f} s: {describe(value)}")
        time.sleep(delay)
        delay = min(delay * 2, policy.max_delay)
