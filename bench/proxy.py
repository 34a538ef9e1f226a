"""Loopback HTTP proxies in front of the sandbox: a fixed delay per request, and AWS's quotas.

What a distant AWS region costs a deploy tool is round trips: 150 ms each from
here to there and back. The proxy listens on 127.0.0.1 only, forwards each
request to the sandbox (also on 127.0.0.1) after sleeping `delay` seconds, and
records which API operation it was, for which function, and when, so the bench
can show how many round trips a push makes and which of them run one after
another.

`QuotaProxy` also enforces Lambda's request-rate quotas the way AWS does, with a token
bucket per quota at AWS's published rates (see QUOTA_RATES), and answers a request over
quota with 429 TooManyRequestsException "Rate exceeded", as Lambda does; it logs what it
accepted and what it refused per API, so the bench can print the floor the quotas impose.

Everything is bounded: the server shuts itself down after `max_seconds`; a
connection serves at most MAX_REQUESTS_PER_CONNECTION requests and idles out
after IDLE_TIMEOUT seconds; bodies over MAX_BODY bytes are refused; the total
number of requests is capped at MAX_REQUESTS.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LOOPBACK = "127.0.0.1"
MAX_REQUESTS_PER_CONNECTION = 1000
MAX_REQUESTS = 100_000
IDLE_TIMEOUT = 30.0
MAX_BODY = 300 * 1024 * 1024
UPSTREAM_TIMEOUT = 120.0

_FN = r"/20\d\d-\d\d-\d\d/functions/(?P<fn>[^/?]+)"
_LAMBDA_OPS = [
    ("GET", re.compile(_FN + r"/configuration$"), "GetFunctionConfiguration"),
    ("PUT", re.compile(_FN + r"/configuration$"), "UpdateFunctionConfiguration"),
    ("PUT", re.compile(_FN + r"/code$"), "UpdateFunctionCode"),
    ("GET", re.compile(_FN + r"/versions$"), "ListVersionsByFunction"),
    ("POST", re.compile(_FN + r"/versions$"), "PublishVersion"),
    ("GET", re.compile(_FN + r"/aliases$"), "ListAliases"),
    ("POST", re.compile(_FN + r"/aliases$"), "CreateAlias"),
    ("GET", re.compile(_FN + r"/aliases/[^/]+$"), "GetAlias"),
    ("PUT", re.compile(_FN + r"/aliases/[^/]+$"), "UpdateAlias"),
    ("POST", re.compile(_FN + r"/invocations$"), "Invoke"),
    ("GET", re.compile(_FN + r"/policy$"), "GetPolicy"),
    ("GET", re.compile(_FN + r"/url$"), "GetFunctionUrlConfig"),
    ("GET", re.compile(_FN + r"/event-invoke-config$"), "GetFunctionEventInvokeConfig"),
    ("GET", re.compile(_FN + r"$"), "GetFunction"),
    ("POST", re.compile(r"/20\d\d-\d\d-\d\d/functions/?$"), "CreateFunction"),
    ("GET", re.compile(r"/20\d\d-\d\d-\d\d/event-source-mappings/?$"), "ListEventSourceMappings"),
    ("POST", re.compile(r"/20\d\d-\d\d-\d\d/tags/(?P<fn>[^/]+)$"), "TagResource"),
    ("DELETE", re.compile(r"/20\d\d-\d\d-\d\d/tags/(?P<fn>[^/]+)$"), "UntagResource"),
    ("GET", re.compile(r"/20\d\d-\d\d-\d\d/tags/(?P<fn>[^/]+)$"), "ListTags"),
]


# AWS Lambda Developer Guide, "Lambda quotas", "Lambda API requests" (per account and Region):
# GetFunction 100 requests per second; GetPolicy 15; "Remainder of the control plane API
# requests (excludes invocation, GetFunction, and GetPolicy requests): 15 requests per second
# across all APIs (not 15 requests per second per API)". Invoke is limited by concurrency.
# Kept here apart from lambdadeploy's own table (src/lambdadeploy/aws/quotas.py) on purpose:
# the bench models AWS, it does not take the tool's word for it.
QUOTA_RATES = {"GetFunction": 100.0, "GetPolicy": 15.0, "control plane": 15.0}
UNMETERED = frozenset({"Invoke"})
# AWS publishes no bucket size; one second's worth is what a "requests per second" quota
# suggests, and what the bench assumes.
QUOTA_BURST_SECONDS = 1.0


def quota_of(operation: str, lambda_api: bool, per_api: bool = False) -> str | None:
    """The quota a request draws on: GetFunction, GetPolicy, the shared control plane (or, with
    per_api, a bucket per API, the other reading of the quota page), or None (not Lambda, Invoke)."""
    if not lambda_api or operation in UNMETERED:
        return None
    if operation in QUOTA_RATES:
        return operation
    return operation if per_api else "control plane"


@dataclass(frozen=True)
class Call:
    """One request that went through the proxy."""

    function: str  # the function name in the path, or "-" for account-level calls (IAM, STS)
    operation: str
    start: float  # time.monotonic() when it arrived
    end: float
    throttled: bool = False  # the quota proxy answered 429 instead of forwarding
    quota: str | None = None  # the quota it drew on


def classify(method: str, path: str, body: bytes, target: str | None) -> tuple[str, str]:
    """(function, operation) of an AWS API request, from its method, path and body."""
    if target:  # JSON protocols (X-Amz-Target: Service.Operation)
        return "-", target.rsplit(".", 1)[-1]
    route = urlsplit(path).path
    for verb, pattern, name in _LAMBDA_OPS:
        m = pattern.match(route)
        if verb == method and m:
            return _function_name(unquote(m.groupdict().get("fn") or "-")), name
    if method == "POST" and route in ("", "/"):  # query protocol: IAM, STS
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        return "-", action
    return "-", f"{method} {route}"


def _function_name(value: str) -> str:
    """The function's name from a path segment: a name, name:qualifier, or an ARN."""
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else value
    return value.split(":")[0]


class LatencyProxy:
    """Forwards 127.0.0.1:port -> 127.0.0.1:upstream_port, sleeping `delay` s per request."""

    def __init__(self, upstream_port: int, delay: float, max_seconds: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._deadline = threading.Timer(max_seconds, self.stop)
        self._deadline.daemon = True
        self._stopped = False

    def start(self) -> LatencyProxy:
        self._thread.start()
        self._deadline.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._deadline.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def take_calls(self) -> list[Call]:
        """The calls recorded since the last take, in arrival order."""
        with self._lock:
            calls, self.calls = self.calls, []
        return sorted(calls, key=lambda c: c.start)

    def operations(self, calls: list[Call]) -> Counter[str]:
        return Counter(c.operation for c in calls)

    def quota(self, operation: str, lambda_api: bool) -> str | None:
        """No quotas here; QuotaProxy has them."""
        return None

    def admit(self, quota: str) -> bool:
        return True

    def _record(self, call: Call) -> None:
        with self._lock:
            if len(self.calls) < MAX_REQUESTS:
                self.calls.append(call)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = IDLE_TIMEOUT  # socket timeout: an idle keep-alive connection ends
            served = 0

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _forward(self) -> None:
                arrived = time.monotonic()
                self.served += 1
                if self.served >= MAX_REQUESTS_PER_CONNECTION:
                    self.close_connection = True
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY or self.headers.get("Transfer-Encoding"):
                    self.send_error(413 if length > MAX_BODY else 411)
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                time.sleep(proxy.delay)
                function, operation = classify(self.command, self.path, body, self.headers.get("X-Amz-Target"))
                quota = proxy.quota(operation, urlsplit(self.path).path.startswith("/20"))
                if quota is not None and not proxy.admit(quota):
                    payload = b'{"Type":"User","message":"Rate exceeded"}'
                    self.wfile.write(("HTTP/1.1 429 Too Many Requests\r\nx-amzn-ErrorType: TooManyRequestsException"
                                      "\r\nContent-Type: application/json\r\n"
                                      f"Content-Length: {len(payload)}\r\n\r\n").encode("latin-1") + payload)
                    proxy._record(Call(function, operation, arrived, time.monotonic(), True, quota))
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "proxy-connection")}
                upstream = http.client.HTTPConnection(LOOPBACK, proxy.upstream_port, timeout=UPSTREAM_TIMEOUT)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    head = [f"HTTP/1.1 {response.status} {response.reason}"]
                    for key, value in response.getheaders():
                        if key.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                               "content-length", "server", "date"):
                            head.append(f"{key}: {value}")
                    head.append(f"Content-Length: {len(data)}")
                    if self.close_connection:
                        head.append("Connection: close")
                    # One write for head and body (and TCP_NODELAY): a split write would
                    # wait for the client's delayed ACK (40 ms), a delay no real endpoint adds.
                    payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
                    self.wfile.write(payload + (data if self.command != "HEAD" else b""))
                except OSError:
                    self.send_error(502)
                    self.close_connection = True
                finally:
                    upstream.close()
                proxy._record(Call(function, operation, arrived, time.monotonic(), False, quota))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

        return Handler


def serial_chain(calls: list[Call], function: str) -> str:
    """A function's calls in order, e.g. 'GetFunction -> ListVersionsByFunction -> ...'."""
    return " -> ".join(c.operation for c in calls if c.function == function)


class QuotaProxy(LatencyProxy):
    """A LatencyProxy that also refuses what AWS would: a token bucket per quota, 429 over it.

    The bucket is checked after the delay, i.e. when the request reaches "AWS"."""

    def __init__(self, upstream_port: int, delay: float, max_seconds: float, *, per_api: bool = False,
                 rates: dict[str, float] | None = None) -> None:
        super().__init__(upstream_port, delay, max_seconds)
        self.per_api = per_api
        self.rates = dict(rates or QUOTA_RATES)
        self._buckets: dict[str, list[float]] = {}  # quota -> [tokens, stamp]
        self._bucket_lock = threading.Lock()

    def rate(self, quota: str) -> float:
        return self.rates.get(quota, self.rates["control plane"])

    def quota(self, operation: str, lambda_api: bool) -> str | None:
        return quota_of(operation, lambda_api, self.per_api)

    def admit(self, quota: str) -> bool:
        rate = self.rate(quota)
        burst = max(1.0, rate * QUOTA_BURST_SECONDS)
        with self._bucket_lock:
            now = time.monotonic()
            tokens, stamp = self._buckets.get(quota, [burst, now])
            tokens = min(burst, tokens + (now - stamp) * rate)
            admitted = tokens >= 1
            self._buckets[quota] = [tokens - 1 if admitted else tokens, now]
            return admitted


def floor_seconds(calls: list[Call], rate: Callable[[str], float]) -> tuple[float, str]:
    """The least time the quotas allow for the accepted requests of one push: for the busiest
    quota, its count less the second's worth its bucket saves up, over its rate."""
    counts = Counter(c.quota for c in calls if c.quota and not c.throttled)
    if not counts:
        return 0.0, "-"

    def seconds(quota: str, count: int) -> float:
        return max(0.0, count - max(1.0, rate(quota) * QUOTA_BURST_SECONDS)) / rate(quota)

    quota, count = max(counts.items(), key=lambda item: seconds(*item))
    return seconds(quota, count), f"{count} {quota} requests at {rate(quota):.0f}/s"
