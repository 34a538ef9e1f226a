"""A loopback HTTP proxy in front of the sandbox that injects AWS faults.

Requests pass through to a real moto server unchanged, except those matching a
rule, which get a throttling error, a 5xx, a conflict, any AWS error, a dropped
connection, a delay, a rewritten answer (e.g. an update still in progress), or
the client process killed once the server has done the work but before the
client hears of it. botocore and our code see exactly what a flaky AWS would send.

With `quotas`, it is also stateful the way AWS is about request rates: a token bucket per
quota (Lambda's: GetFunction 100/s, GetPolicy 15/s, every other control-plane API 15/s
together; Invoke none), and a request over its quota gets 429 TooManyRequestsException
"Rate exceeded" instead of an answer. `admitted` and `throttled` record what happened.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Lambda's REST paths for the calls a push makes.
PATHS = {
    "CreateFunction": ("POST", r"^/2015-03-31/functions/?$"),
    "UpdateFunctionCode": ("PUT", r"^/2015-03-31/functions/[^/]+/code$"),
    "UpdateFunctionConfiguration": ("PUT", r"^/2015-03-31/functions/[^/]+/configuration$"),
    "GetFunctionConfiguration": ("GET", r"^/2015-03-31/functions/[^/]+/configuration$"),
    "PublishVersion": ("POST", r"^/2015-03-31/functions/[^/]+/versions$"),
    "GetFunction": ("GET", r"^/2015-03-31/functions/[^/]+$"),
    "Invoke": ("POST", r"^/2015-03-31/functions/[^/]+/invocations"),
    "CreateAlias": ("POST", r"^/2015-03-31/functions/[^/]+/aliases$"),
    "GetAlias": ("GET", r"^/2015-03-31/functions/[^/]+/aliases/[^/]+$"),
    "UpdateAlias": ("PUT", r"^/2015-03-31/functions/[^/]+/aliases/[^/]+$"),
    "CreateEventSourceMapping": ("POST", r"^/2015-03-31/event-source-mappings/?$"),
    "AddPermission": ("POST", r"^/2015-03-31/functions/[^/]+/policy$"),
    "GetPolicy": ("GET", r"^/2015-03-31/functions/[^/]+/policy$"),
    "ListAliases": ("GET", r"^/2015-03-31/functions/[^/]+/aliases$"),
    "ListVersionsByFunction": ("GET", r"^/2015-03-31/functions/[^/]+/versions$"),
    "TagResource": ("POST", r"^/2017-03-31/tags/.+$"),
    "UntagResource": ("DELETE", r"^/2017-03-31/tags/.+$"),
}
# AWS Lambda Developer Guide, "Lambda quotas", "Lambda API requests", per account and Region.
AWS_QUOTAS = {"GetFunction": 100.0, "GetPolicy": 15.0, "control plane": 15.0}


def quota_of(method: str, path: str) -> str | None:
    """The Lambda quota a request draws on (None: not Lambda's control plane, e.g. Invoke, IAM)."""
    if not re.match(r"^/20\d\d-\d\d-\d\d/", path) or path.rstrip("/").endswith("/invocations"):
        return None
    operation = operation_of(method, path)
    return operation if operation in ("GetFunction", "GetPolicy") else "control plane"


class Bucket:
    """AWS's side of a quota: `rate` tokens a second, a second's worth saved up at most."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.stamp = rate, rate, time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

ERRORS = {
    "throttle": (429, "TooManyRequestsException", "Rate exceeded"),
    "server": (503, "ServiceException", "Service unavailable"),
    "conflict": (409, "ResourceConflictException",
                 "The operation cannot be performed at this time. An update is in progress for resource"),
}


def operation_of(method: str, path: str) -> str | None:
    """The Lambda operation a request is, by its REST method and path (None: not one we name)."""
    return next((name for name, (want, pattern) in PATHS.items()
                 if method == want and re.match(pattern, path)), None)


@dataclass
class Rule:
    """What to do with the first `times` requests of `operation`.

    fault: throttle | server | conflict (the canned errors above); error (answer `status`,
    `code`, `message` instead of forwarding); drop (close the connection unanswered); delay
    (`seconds`, then forward); call (run `action`, then forward); rewrite (forward, then
    answer `rewrite(json answer)` instead); after (forward, run `action` with the server's
    answer in hand, then answer, if anyone is still listening).
    """

    operation: str
    fault: str
    times: int = 1
    seconds: float = 0.0  # for delay
    action: Callable[[], None] | None = None  # for call and after
    status: int = 400  # for error
    code: str = ""  # for error
    message: str = ""  # for error
    rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # for rewrite
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        want_method, pattern = PATHS[self.operation]
        return method == want_method and re.match(pattern, path) is not None and self.hits < self.times


def kill_rule(operation: str, pid: int) -> Rule:
    """SIGKILL the client process `pid` (a child of ours) once the server has answered
    `operation`, before the answer reaches it: the work is done, the client never knows."""

    def kill() -> None:
        os.kill(pid, signal.SIGKILL)
        # Answer only once it is dead; leave it for its Popen to reap (unless that did already).
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)

    return Rule(operation, "after", action=kill)


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # "fault:Operation", one per rule applied
    requests: list[str] = field(default_factory=list)  # every named operation that arrived, in order
    # "Operation:STATUS" of every named operation the upstream answered, in order.
    answers: list[str] = field(default_factory=list)
    # The SigV4 credential scope of every request: ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.
    credentials: list[str] = field(default_factory=list)
    quotas: dict[str, float] | None = None  # quota -> requests per second (AWS_QUOTAS), None: no limits
    admitted: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, quota)
    throttled: list[str] = field(default_factory=list)  # the operation of each request refused for its quota
    _buckets: dict[str, Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FaultProxy:
        proxy = self
        upstream = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers:
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client is gone (killed by an `after` rule)
                    self.close_connection = True

            def _error(self, status: int, code: str, message: str) -> None:
                payload = json.dumps({"Type": "User", "message": message}).encode()
                self._answer(status, [("x-amzn-ErrorType", code), ("Content-Type", "application/json")], payload)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                signed = re.search(r"Credential=([^,\s]+)", self.headers.get("Authorization") or "")
                if signed:
                    proxy.credentials.append(signed.group(1))
                if not proxy._admit(self.command, path):
                    self._error(429, "TooManyRequestsException", "Rate exceeded")
                    return
                rule = proxy._take(self.command, path)
                if rule is not None:
                    if rule.fault == "drop":  # the request arrived; the answer never does
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if rule.fault == "delay":
                        time.sleep(rule.seconds)
                    elif rule.fault == "call" and rule.action is not None:
                        rule.action()
                    elif rule.fault == "error":
                        self._error(rule.status, rule.code, rule.message)
                        return
                    elif rule.fault in ERRORS:
                        self._error(*ERRORS[rule.fault])
                        return
                operation = operation_of(self.command, path)
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                headers = dict(self.headers.items())  # Host included: the client signed it
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                connection.close()
                if operation is not None:
                    with proxy._lock:
                        proxy.answers.append(f"{operation}:{response.status}")
                if rule is not None and rule.fault == "rewrite" and rule.rewrite is not None:
                    data = json.dumps(rule.rewrite(json.loads(data))).encode()
                if rule is not None and rule.fault == "after" and rule.action is not None:
                    rule.action()
                passed = [(key, value) for key, value in response.getheaders()
                          if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date")]
                self._answer(response.status, passed, data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _admit(self, method: str, path: str) -> bool:
        quota = quota_of(method, path) if self.quotas is not None else None
        if quota is None:
            return True
        with self._lock:
            bucket = self._buckets.setdefault(quota, Bucket(self.quotas[quota]))  # type: ignore[index]
            if bucket.admit():
                self.admitted.append((time.monotonic(), quota))
                return True
            self.throttled.append(operation_of(method, path) or path)
            return False

    def _take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            operation = operation_of(method, path)
            if operation is not None:
                self.requests.append(operation)
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    self.seen.append(f"{rule.fault}:{rule.operation}")
                    return rule
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
