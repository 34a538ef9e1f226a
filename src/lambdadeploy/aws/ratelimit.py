"""Client-side rate limits per AWS API, so parallel workers call at the rate AWS allows.

One token bucket per (service, operation), shared by every thread of the process.
A limiter with no rates configured lets everything through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take` blocks until one is free."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


class RateLimiter:
    """Per-API buckets from a table of rates: {(service, operation): requests per second}."""

    def __init__(self, rates: Mapping[tuple[str, str], float] | None = None) -> None:
        self._rates = dict(rates or {})
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, service: str, operation: str) -> float:
        key = (service, operation)
        rate = self._rates.get(key)
        if rate is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate)
        return bucket.take()
