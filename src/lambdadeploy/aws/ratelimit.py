"""Client-side rate limits per AWS quota, so parallel workers call at the rate AWS allows.

One token bucket per quota (quotas.py says which API draws on which), shared by every
thread of the process and taken once per HTTP request, botocore's own retries included
(client.py hooks it into `before-send`). Calling at the quota's rate instead of retrying
into 429s keeps a fleet push from being throttled by its own parallelism.

The quota is the account's, not ours: another deploy or the console may be spending it
too. So a throttling answer halves the bucket's rate for a while (down to a tenth), and
each answered request wins a little of it back: additive increase, multiplicative
decrease, as TCP does, never above the configured rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from .quotas import BURST_SECONDS, bucket_of

Clock = Callable[[], float]
Sleep = Callable[[float], None]

SLOWEST_SHARE = 0.1  # a throttled bucket slows down to at most a tenth of its rate
RECOVERY_SHARE = 0.05  # each answered request wins back this share of the configured rate


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take` blocks until its token is due.

    A take reserves the next token even if it must wait for it (the count goes negative),
    so waiting threads are served in the order they came and grants are never closer
    together than 1/rate once the saved-up burst is spent."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        self.configured = rate
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate * BURST_SECONDS)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def throttled(self) -> None:
        """AWS refused a request for its rate: someone else spends this quota too; slow down."""
        with self._lock:
            self._refill()
            self.rate = max(self.configured * SLOWEST_SHARE, self.rate / 2)

    def answered(self) -> None:
        with self._lock:
            if self.rate < self.configured:
                self._refill()
                self.rate = min(self.configured, self.rate + self.configured * RECOVERY_SHARE)


class RateLimiter:
    """A bucket per quota, from {bucket name: requests per second}; APIs without one pass freely.

    `bucket_of(service, operation)` names the quota a call draws on (quotas.bucket_of by
    default); a limiter with no rates lets everything through."""

    def __init__(self, rates: Mapping[str, float] | None = None,
                 bucket_of: Callable[[str, str], str | None] = bucket_of, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.rates = dict(rates or {})
        self._bucket_of = bucket_of
        self._buckets = {name: TokenBucket(rate, clock=clock, sleep=sleep) for name, rate in self.rates.items()}
        self._lock = threading.Lock()
        self.waited: dict[str, float] = {}  # seconds spent waiting per bucket (for -v and the bench)
        self.throttles: dict[str, int] = {}  # throttling answers per operation

    def bucket(self, service: str, operation: str) -> TokenBucket | None:
        name = self._bucket_of(service, operation)
        return self._buckets.get(name) if name else None

    def acquire(self, service: str, operation: str) -> float:
        bucket = self.bucket(service, operation)
        if bucket is None:
            return 0.0
        waited = bucket.take()
        if waited:
            with self._lock:
                key = self._bucket_of(service, operation) or ""
                self.waited[key] = self.waited.get(key, 0.0) + waited
        return waited

    def record(self, service: str, operation: str, throttled: bool) -> None:
        """What AWS answered a request: a throttle slows its bucket down, an answer speeds it up."""
        if throttled:
            with self._lock:
                self.throttles[operation] = self.throttles.get(operation, 0) + 1
        bucket = self.bucket(service, operation)
        if bucket is not None:
            if throttled:
                bucket.throttled()
            else:
                bucket.answered()
