"""A boto3 client behind one door: every call is rate-limited per API and its errors typed.

`Client` forwards attribute access to the boto3 client. Calling an operation first
takes a token from the limiter of that API (see ratelimit.py), then translates any
botocore exception into the typed errors of errors.py. Paginators are wrapped the
same way, so a caller can iterate pages without ever importing botocore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .errors import translate
from .ratelimit import RateLimiter


def _operation_name(method: str) -> str:
    """`list_versions_by_function` -> `ListVersionsByFunction`, as AWS names the API."""
    return "".join(part[:1].upper() + part[1:] for part in method.split("_"))


class Client:
    """A service client whose calls are limited and whose errors are typed."""

    def __init__(self, raw: Any, service: str, limiter: RateLimiter) -> None:
        self._raw = raw
        self._service = service
        self._limiter = limiter

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
        service, limiter = self._service, self._limiter

        def call(*args: Any, **kwargs: Any) -> Any:
            limiter.acquire(service, operation)
            try:
                return method(*args, **kwargs)
            except Exception as error:
                if _is_botocore(error):
                    raise translate(error, operation) from error
                raise

        call.__name__ = name
        return call

    def get_paginator(self, name: str) -> Paginator:
        return Paginator(self._raw.get_paginator(name), self._service, _operation_name(name), self._limiter)

    def pages(self, name: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated operation, e.g. pages("list_aliases", FunctionName=...)."""
        return self.get_paginator(name).paginate(**kwargs)


class Paginator:
    def __init__(self, raw: Any, service: str, operation: str, limiter: RateLimiter) -> None:
        self._raw = raw
        self._service = service
        self._operation = operation
        self._limiter = limiter

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        pages = iter(self._raw.paginate(**kwargs))
        while True:
            self._limiter.acquire(self._service, self._operation)
            try:
                page = next(pages)
            except StopIteration:
                return
            except Exception as error:
                if _is_botocore(error):
                    raise translate(error, self._operation) from error
                raise
            yield page


def _is_botocore(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, ClientError | BotoCoreError)
