"""A loopback HTTP proxy in front of the sandbox that injects AWS faults.

Requests pass through to a real moto server unchanged, except those matching a
rule, which get a throttling error, a 5xx, a conflict, a dropped connection, or
a delay. botocore and our code see exactly what a flaky AWS would send.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Lambda's REST paths for the calls a push makes.
PATHS = {
    "CreateFunction": ("POST", r"^/2015-03-31/functions/?$"),
    "UpdateFunctionCode": ("PUT", r"^/2015-03-31/functions/[^/]+/code$"),
    "UpdateFunctionConfiguration": ("PUT", r"^/2015-03-31/functions/[^/]+/configuration$"),
    "PublishVersion": ("POST", r"^/2015-03-31/functions/[^/]+/versions$"),
    "GetFunction": ("GET", r"^/2015-03-31/functions/[^/]+$"),
    "Invoke": ("POST", r"^/2015-03-31/functions/[^/]+/invocations"),
    "CreateAlias": ("POST", r"^/2015-03-31/functions/[^/]+/aliases$"),
    "UpdateAlias": ("PUT", r"^/2015-03-31/functions/[^/]+/aliases/[^/]+$"),
}

ERRORS = {
    "throttle": (429, "TooManyRequestsException", "Rate exceeded"),
    "server": (503, "ServiceException", "Service unavailable"),
    "conflict": (409, "ResourceConflictException",
                 "The operation cannot be performed at this time. An update is in progress for resource"),
}


@dataclass
class Rule:
    operation: str
    fault: str  # throttle | server | conflict | drop | delay | call
    times: int = 1
    seconds: float = 0.0  # for delay
    action: Callable[[], None] | None = None  # for call: runs before forwarding
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        want_method, pattern = PATHS[self.operation]
        return method == want_method and re.match(pattern, path) is not None and self.hits < self.times


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    # The SigV4 credential scope of every request: ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.
    credentials: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FaultProxy:
        proxy = self
        upstream = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                signed = re.search(r"Credential=([^,\s]+)", self.headers.get("Authorization") or "")
                if signed:
                    proxy.credentials.append(signed.group(1))
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
                    elif rule.fault in ERRORS:
                        status, code, message = ERRORS[rule.fault]
                        payload = json.dumps({"Type": "User", "message": message}).encode()
                        self.send_response(status)
                        self.send_header("x-amzn-ErrorType", code)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    self.seen.append(f"{rule.fault}:{rule.operation}")
                    return rule
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
