"""A boto3 client behind one door: every request is rate-limited per quota and its errors typed.

`Client` forwards attribute access to the boto3 client. `limit_requests` hooks the rate
limiter (ratelimit.py) into botocore's `before-send` event, so every HTTP request takes a
token from the bucket of its quota, botocore's own retries included, and tells the limiter
what AWS answered (`response-received`), so throttling slows the bucket down. A call that
is still throttled after botocore's retries is tried again under retry.THROTTLED, for
minutes (THROTTLED here is what tests shorten), unless the user set AWS_MAX_ATTEMPTS: then
that is every request's limit, as with any AWS tool (`patient=False`). Any botocore exception is translated into the typed errors of errors.py.
Paginators are wrapped the same way, so a caller can iterate pages without ever
importing botocore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .errors import THROTTLING_CODES, AwsThrottled, translate
from .quotas import RATE_ENV
from .ratelimit import RateLimiter
from .retry import THROTTLED, retry

UNQUOTED_OPERATIONS = frozenset({"Invoke", "InvokeWithResponseStream", "InvokeAsync"})
THROTTLE_HINT = (f"another deploy or tool may be spending this account's Lambda API quota; {RATE_ENV}=5 "
                 "(requests per second) leaves it more room, or retry later")


def _operation_name(method: str) -> str:
    """`list_versions_by_function` -> `ListVersionsByFunction`, as AWS names the API."""
    return "".join(part[:1].upper() + part[1:] for part in method.split("_"))


def limit_requests(raw: Any, service: str, limiter: RateLimiter) -> None:
    """Make every HTTP request of the boto3 client `raw` wait for its quota's token."""

    def before_send(event_name: str = "", **_: Any) -> None:
        limiter.acquire(service, event_name.rpartition(".")[2])

    def answered(event_name: str = "", parsed_response: Any = None, **_: Any) -> None:
        code = ((parsed_response or {}).get("Error") or {}).get("Code") if isinstance(parsed_response, dict) else None
        limiter.record(service, event_name.rpartition(".")[2], code in THROTTLING_CODES)

    raw.meta.events.register("before-send", before_send)
    raw.meta.events.register("response-received", answered)


def _typed(operation: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        if _is_botocore(error):
            raise translate(error, operation) from error
        raise


def _patient(operation: str, call: Callable[[], Any], patient: bool = True) -> Any:
    """`call()` with typed errors, tried again while AWS throttles it (retry.THROTTLED) if `patient`."""
    # Invoke is limited by concurrency, not by a request quota: a 429 there (reserved concurrency
    # 0, the function's limit reached) is botocore's to retry, not ours for minutes.
    patient = patient and operation not in UNQUOTED_OPERATIONS
    try:
        return retry(lambda: _typed(operation, call), THROTTLED) if patient else _typed(operation, call)
    except AwsThrottled as error:
        error.hint = error.hint or THROTTLE_HINT
        raise


class Client:
    """A service client whose requests are limited and whose errors are typed."""

    def __init__(self, raw: Any, service: str, limiter: RateLimiter, patient: bool = True) -> None:
        self._raw = raw
        self._service = service
        self._limiter = limiter
        self._patient = patient

    @property
    def raw(self) -> Any:
        """The boto3 client itself, for code inside aws/ (and tests that record calls)."""
        return self._raw

    @property
    def meta(self) -> Any:
        return self._raw.meta

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._raw, name)
        if name.startswith("_") or not callable(method):
            return method
        operation = _operation_name(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return _patient(operation, lambda: method(*args, **kwargs), self._patient)

        call.__name__ = name
        return call

    def get_paginator(self, name: str) -> Paginator:
        return Paginator(self._raw.get_paginator(name), _operation_name(name), self._patient)

    def pages(self, name: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated operation, e.g. pages("list_aliases", FunctionName=...)."""
        return self.get_paginator(name).paginate(**kwargs)


class Paginator:
    def __init__(self, raw: Any, operation: str, patient: bool = True) -> None:
        self._raw = raw
        self._operation = operation
        self._patient = patient

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The pages in order; a page AWS keeps throttling is asked for again from where it stopped."""
        state: dict[str, Any] = {}

        def start() -> Iterator[dict[str, Any]]:
            config = {"StartingToken": state["token"]} if state.get("token") else {}
            state["iterator"] = self._raw.paginate(**kwargs, **({"PaginationConfig": config} if config else {}))
            return iter(state["iterator"])

        pages = start()
        while True:
            def next_page() -> dict[str, Any] | None:
                nonlocal pages
                try:
                    return next(pages)
                except StopIteration:
                    return None
                except Exception as error:
                    # A failed generator is finished: the next try starts again after the last page.
                    state["token"] = getattr(state["iterator"], "resume_token", None)
                    pages = start() if _is_botocore(error) else pages
                    raise

            page = _patient(self._operation, next_page, self._patient)
            if page is None:
                return
            yield page


def _is_botocore(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, ClientError | BotoCoreError)
