"""A loopback HTTP proxy in front of the sandbox that adds a fixed delay to every request.

What a distant AWS region costs a deploy tool is round trips: 150 ms each from
here to there and back. The proxy listens on 127.0.0.1 only, forwards each
request to the sandbox (also on 127.0.0.1) after sleeping `delay` seconds, and
records which API operation it was, for which function, and when, so the bench
can show how many round trips a push makes and which of them run one after
another.

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
]


@dataclass(frozen=True)
class Call:
    """One request that went through the proxy."""

    function: str  # the function name in the path, or "-" for account-level calls (IAM, STS)
    operation: str
    start: float  # time.monotonic() when it arrived
    end: float


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
                function, operation = classify(self.command, self.path, body, self.headers.get("X-Amz-Target"))
                proxy._record(Call(function, operation, arrived, time.monotonic()))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

        return Handler


def serial_chain(calls: list[Call], function: str) -> str:
    """A function's calls in order, e.g. 'GetFunction -> ListVersionsByFunction -> ...'."""
    return " -> ".join(c.operation for c in calls if c.function == function)
