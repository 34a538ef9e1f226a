"""The embedded AWS-compatible endpoint: moto's server on loopback, with the invoke seam
(seam.py) installed so that invoking a function runs its deployed code."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import InvalidInputError
from . import http_apis
from .seam import install_invoke_seam, running_urls

DEFAULT_PORT = 4599
SANDBOX_URL_ENV = "LAMBDADEPLOY_SANDBOX_URL"
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
SANDBOX_REGION = "us-east-1"
# What clients talking to the sandbox use: moto accepts any credentials.
SANDBOX_CREDENTIALS = {
    "aws_access_key_id": "sandbox",
    "aws_secret_access_key": "sandbox",
    "region_name": SANDBOX_REGION,
}


class SandboxError(InvalidInputError):
    """The sandbox cannot start where asked (the port is taken): exit code 2."""


# --- the server ------------------------------------------------------------------------


class Sandbox:
    """moto's threaded server on 127.0.0.1 (loopback only), with the invoke seam installed.

    ``port=0`` picks a free port. moto's backends are per-process globals, so every
    Sandbox in one process serves the same state. AWS managed IAM policies are loaded,
    as they exist in any real account.
    """

    def __init__(self, port: int = 0, *, log_requests: bool = False) -> None:
        self.port = port
        self.log_requests = log_requests
        self.url = ""
        self._server: Any = None

    def start(self) -> Sandbox:
        """Start serving; returns self. Raises SandboxError when the port is taken."""
        from moto.server import ThreadedMotoServer

        if self._server is not None:
            return self
        install_invoke_seam()
        http_apis.install()
        _like_aws()
        if not self.log_requests:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self.port:
            _ensure_free(self.port)  # moto's start() would wait forever on a bind error
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        server._server.app = http_apis.front(server._server.app)  # HTTP APIs at /_api/ (local/http_apis.py)
        host, port = server.get_host_and_port()
        self._server = server
        self.port = port
        self.url = f"http://{host}:{port}"
        running_urls.append(self.url)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent). The state of the backends stays in the process."""
        server, self._server = self._server, None
        if server is None:
            return
        with contextlib.suppress(ValueError):
            running_urls.remove(self.url)
        server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _like_aws() -> None:
    """moto settings that make the endpoint behave like AWS for a deploy tool.

    AWS managed policies (AWSLambdaBasicExecutionRole, ...) exist in every account, and
    the deploy attaches them; moto creates them only on request (process-wide setting,
    costs about a second the first time an account's IAM is touched).
    """
    from moto.core.config import default_user_config

    default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


def _ensure_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            raise SandboxError(
                f"cannot start the sandbox on 127.0.0.1:{port}: {e.strerror}",
                hint="is a sandbox already running there? choose another one with --port",
            ) from e


def sandbox_answers(url: str, timeout: float = 0.5) -> bool:
    """Whether a moto server answers at ``url`` (its /moto-api/config endpoint), quickly."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url.rstrip('/')}/moto-api/config", timeout=timeout) as response:
            document = json.loads(response.read(65536))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(document, dict) and "lambda" in document


@contextlib.contextmanager
def sandbox_endpoint() -> Iterator[tuple[str, bool]]:
    """Yield (url, started_here): the sandbox at $LAMBDADEPLOY_SANDBOX_URL, else one in-process."""
    url = os.environ.get(SANDBOX_URL_ENV) or DEFAULT_URL
    if sandbox_answers(url):
        yield url, False
        return
    with Sandbox() as sandbox:
        yield sandbox.url, True


def serve_forever(
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[str], None] | None = None,
    log_requests: bool = False,
) -> None:
    """Run a sandbox on 127.0.0.1:port until SIGINT or SIGTERM, then stop it cleanly.

    ``on_ready(url)`` is called once it answers (the CLI prints its banner there).
    Must run in the main thread, which owns signal handlers.
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Sandbox(port, log_requests=log_requests) as sandbox:
            if on_ready is not None:
                on_ready(sandbox.url)
            while not stopping.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
