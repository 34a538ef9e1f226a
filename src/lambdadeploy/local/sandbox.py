"""The embedded AWS-compatible endpoint: moto's server on loopback, behind the sandbox's
front door (guard.py: owner-only, AWS's limits, rules and timing), with the invoke seam
(seam.py) installed so that invoking a function runs its deployed code."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import InvalidInputError
from . import endpoints
from .credentials import (
    CREDENTIALS_ENV,
    SandboxCredentials,
    credentials_path,
    read_credentials,
    remove_credentials,
    write_credentials,
)
from .probe import probe, sandbox_answers

if TYPE_CHECKING:
    from .timing import Timing

# The server's modules (the guard, moto, the invoke seam) are imported when a sandbox starts:
# a command that only talks to a running sandbox (every `--sandbox` command but the first)
# should not pay for loading moto.

DEFAULT_PORT = 4599
SANDBOX_URL_ENV = "LAMBDADEPLOY_SANDBOX_URL"
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
SANDBOX_REGION = "us-east-1"

__all__ = ["DEFAULT_PORT", "DEFAULT_URL", "SANDBOX_REGION", "SANDBOX_URL_ENV", "Sandbox", "SandboxAccess",
           "SandboxError", "probe", "sandbox_answers", "sandbox_endpoint", "serve_forever"]


class SandboxError(InvalidInputError):
    """The sandbox cannot start where asked (the port is taken), or one that answers is not
    usable (its credentials are not ours): exit code 2."""


# --- the server ------------------------------------------------------------------------


class Sandbox:
    """moto's threaded server on 127.0.0.1 (loopback only) behind the guard, seam installed.

    ``port=0`` picks a free port. The sandbox makes its own credentials (``credentials``;
    clients must sign with them) unless given some. moto's backends are per-process
    globals, so every Sandbox in one process serves the same state. AWS managed IAM
    policies are loaded, as they exist in any real account.
    """

    def __init__(self, port: int = 0, *, log_requests: bool = False, timing: Timing | str | None = None,
                 credentials: SandboxCredentials | None = None) -> None:
        from .timing import Timing, timing_named

        self.port = port
        self.log_requests = log_requests
        self.timing = timing if isinstance(timing, Timing) else timing_named(timing)
        self.credentials = credentials or SandboxCredentials.generate()
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        """Start serving; returns self. Raises SandboxError when the port is taken."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from . import http_apis
        from .guard import Guard, KeyRing
        from .seam import install_invoke_seam
        from .timing import Clock, install_metric_delays

        if self._server is not None:
            return self
        install_invoke_seam()
        install_metric_delays()
        http_apis.install()
        _like_aws()
        if not self.log_requests:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        keys = KeyRing(self.credentials, SandboxCredentials.generate("LDFN", with_token=True))
        app = Guard(DomainDispatcherApplication(create_backend_app), keys, Clock(self.timing))
        if self.port:
            _ensure_free(self.port)  # werkzeug exits the process on a bind error
        server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=MotoRequestHandler)
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        endpoints.register(self.url, keys.functions)
        http_apis.register(self.url, app.api_token)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent). The state of the backends stays in the process."""
        server, self._server = self._server, None
        if server is None:
            return
        from . import http_apis  # loaded by start()

        endpoints.unregister(self.url)
        http_apis.unregister(self.url)
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def client_settings(self) -> dict[str, str]:
        """Keyword arguments for boto3.client(...) that talk to this sandbox as its owner."""
        return {"endpoint_url": self.url, "region_name": SANDBOX_REGION,
                "aws_access_key_id": self.credentials.access_key_id,
                "aws_secret_access_key": self.credentials.secret_access_key}

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
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe_socket.bind(("127.0.0.1", port))
        except OSError as e:
            raise SandboxError(
                f"cannot start the sandbox on 127.0.0.1:{port}: {e.strerror}",
                hint="is a sandbox already running there? choose another one with --port",
            ) from e


def _warm_up() -> None:
    """Load the service models and the Unicode classes of their patterns before the first
    request needs them (half a second, off the request path), for a long-running sandbox."""
    from ..aws.models import service_model
    from .guard import UNDERSTOOD
    from .limits import java_pattern

    with contextlib.suppress(Exception):
        for name in sorted(UNDERSTOOD):
            service_model(name)
        java_pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*")


# --- finding a running sandbox --------------------------------------------------------------


@dataclass(frozen=True)
class SandboxAccess:
    """A sandbox to talk to: where, as whom, and whether it was started for this command."""

    url: str
    credentials: SandboxCredentials
    started_here: bool
    region: str = SANDBOX_REGION


def _port_of(url: str) -> int:
    return urlsplit(url).port or 80


@contextlib.contextmanager
def sandbox_endpoint() -> Iterator[SandboxAccess]:
    """The sandbox at $LAMBDADEPLOY_SANDBOX_URL with its owner's credentials (read from its
    credentials file, or $LAMBDADEPLOY_SANDBOX_CREDENTIALS), else one started in-process."""
    url = os.environ.get(SANDBOX_URL_ENV) or DEFAULT_URL
    found = probe(url)
    if found is not None:
        path = Path(os.environ.get(CREDENTIALS_ENV) or credentials_path(_port_of(url)))
        if not path.exists():
            raise SandboxError(
                f"a sandbox answers at {url}, but its credentials are not at {path}",
                hint=f"if it was started with --credentials-file, set {CREDENTIALS_ENV} to that file; a sandbox "
                     f"of another user cannot be used (set {SANDBOX_URL_ENV} to another URL)",
            )
        file = read_credentials(path)
        if file.credentials.access_key_id != found.get("access_key_id"):
            raise SandboxError(
                f"a sandbox answers at {url}, but {path} holds other credentials than its own",
                hint="is it another user's sandbox, or was it started with --credentials-file? set "
                     f"{CREDENTIALS_ENV} to its file, or set {SANDBOX_URL_ENV} to another URL",
            )
        yield SandboxAccess(url, file.credentials, False, file.region)
        return
    with Sandbox() as sandbox:
        yield SandboxAccess(sandbox.url, sandbox.credentials, True)


# --- the `lambdadeploy sandbox` command's server --------------------------------------------


def serve_forever(
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[str, Path], None] | None = None,
    log_requests: bool = False,
    timing: Timing | str | None = None,
    credentials_file: Path | None = None,
) -> None:
    """Run a sandbox on 127.0.0.1:port until SIGINT or SIGTERM, then stop it cleanly.

    Its credentials are written to ``credentials_file`` (default: credentials_path(port)),
    readable by this user only, and removed when it stops. ``on_ready(url, file)`` is called
    once it answers (the CLI prints its banner there). Must run in the main thread, which
    owns signal handlers.
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Sandbox(port, log_requests=log_requests, timing=timing) as sandbox:
            threading.Thread(target=_warm_up, name="sandbox-warm-up", daemon=True).start()
            path = credentials_file or credentials_path(sandbox.port)
            write_credentials(path, sandbox.credentials, sandbox.url, SANDBOX_REGION)
            try:
                if on_ready is not None:
                    on_ready(sandbox.url, path)
                while not stopping.wait(0.2):
                    pass
            finally:
                remove_credentials(path, sandbox.credentials)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
