"""The embedded AWS-compatible endpoint: moto's server, its Lambda invoke wired to runner.py.

moto keeps the code it is given but, without Docker, cannot run it. The invoke seam
replaces moto's ``LambdaFunction._invoke_lambda`` so that every invocation, whether
from boto3, the AWS CLI, or moto itself delivering S3/SNS/SQS/EventBridge events, runs
the deployed zip of the invoked version through ``runner.run_handler``. That is a
private moto API: pyproject pins moto to the range that tests/aws/test_sandbox_seam.py
covers, and that test fails loudly when the signatures move.
"""

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

from ..errors import InvalidInputError, LambdaDeployError
from .runner import DUMMY_CREDENTIALS, run_handler

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
LOG_RESULT_LIMIT = 4096  # Invoke's LogResult is the last 4 KB of the log, as in Lambda

_SEAM_MARKER = "_lambdadeploy_seam"
_install_lock = threading.Lock()
_current = threading.local()  # the invocation in flight on this thread: event, ARN, error
_running_urls: list[str] = []  # URLs of the Sandbox servers running in this process
_ORIGINALS: dict[str, Callable[..., Any]] = {}  # moto's methods, as found before patching


class SandboxError(InvalidInputError):
    """The sandbox cannot start where asked (the port is taken): exit code 2."""


# --- the invoke seam -------------------------------------------------------------------


def install_invoke_seam() -> None:
    """Make moto run deployed code with runner.run_handler (idempotent, process-wide).

    Patches four moto methods: ``LambdaFunction._invoke_lambda`` (the seam proper);
    ``LambdaFunction.invoke`` (the exact event, "Unhandled" instead of moto's "Handled"
    as Lambda reports a raised exception, DryRun runs nothing); ``LambdaBackend.invoke``
    (the invoked ARN for the context, X-Amz-Executed-Version); ``LambdaResponse.invoke``
    (honour ``?Qualifier=``, which moto 5.2 reads as "qualifier" and so always ran
    $LATEST, i.e. an alias or version ran the wrong code).

    Long because the four patches are closures over moto's originals, kept together so the
    seam reads as one piece.
    """
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    with _install_lock:
        if getattr(LambdaFunction, _SEAM_MARKER, False):
            return
        original_response_invoke = LambdaResponse.invoke
        original_backend_invoke = LambdaBackend.invoke
        original_invoke = LambdaFunction.invoke
        _ORIGINALS.update(
            {
                "LambdaResponse.invoke": original_response_invoke,
                "LambdaBackend.invoke": original_backend_invoke,
                "LambdaFunction.invoke": original_invoke,
                "LambdaFunction._invoke_lambda": LambdaFunction._invoke_lambda,
            }
        )

        def response_invoke(self: Any) -> Any:
            _current.qualifier = self.querystring.get("Qualifier", [None])[0]
            try:
                return original_response_invoke(self)
            finally:
                _current.qualifier = None

        def backend_invoke(
            self: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> Any:
            qualifier = qualifier or getattr(_current, "qualifier", None)
            fn = self.get_function(function_name, qualifier)
            _current.invoked_arn = _invoked_arn(fn, function_name, qualifier)
            try:
                payload = original_backend_invoke(
                    self, function_name, qualifier, body, headers, response_headers
                )
            finally:
                _current.invoked_arn = None
            response_headers["x-amz-executed-version"] = str(fn.version)
            return payload

        def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            if _header(request_headers, "x-amz-invocation-type") == "DryRun":
                return b""  # Lambda validates a dry run but runs nothing
            # The raw body is the exact event; moto passes its parsed form, or "{}" for none.
            _current.event = _parse_event(body)
            _current.function_error = None
            try:
                result = original_invoke(self, body, request_headers, response_headers)
                if _current.function_error and "x-amz-function-error" in response_headers:
                    response_headers["x-amz-function-error"] = _current.function_error
                return result
            finally:
                _current.event = _UNSET
                _current.function_error = None

        LambdaResponse.invoke = response_invoke
        LambdaBackend.invoke = backend_invoke
        LambdaFunction.invoke = invoke
        LambdaFunction._invoke_lambda = _invoke_lambda
        setattr(LambdaFunction, _SEAM_MARKER, True)


_UNSET = object()


def _header(headers: Any, name: str) -> str | None:
    """A request header from whatever mapping moto passes (case-insensitive or plain dict)."""
    try:
        return headers.get(name) or headers.get(name.title())
    except AttributeError:
        return None


def _parse_event(body: Any) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return _UNSET  # moto's own invoke rejects it


def _normalise_event(event: Any) -> Any:
    """moto hands over a parsed object, the string "{}", or a json.dumps(...) string."""
    if event is None:
        return {}
    if isinstance(event, (str, bytes)):
        try:
            return json.loads(event)
        except ValueError:
            return event
    return event


def _invoked_arn(fn: Any, name_or_arn: str, qualifier: str | None) -> str:
    """The ARN as invoked, qualifier (alias or version) included, like context.invoked_function_arn."""
    base = f"arn:{fn.partition}:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}"
    if qualifier:
        return f"{base}:{qualifier}"
    tail = name_or_arn.split(":function:")[-1]
    if ":" in tail:
        return f"{base}:{tail.split(':')[-1]}"
    return base


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Replacement of moto's LambdaFunction._invoke_lambda: -> (payload, errored, log tail)."""
    exact = getattr(_current, "event", _UNSET)
    event = _normalise_event(event) if exact is _UNSET else exact
    self.logs_backend.ensure_log_group(self.logs_group_name)
    extra_env: dict[str, str] = {}
    if _running_urls:
        extra_env = {"AWS_ENDPOINT_URL": _running_urls[-1], **DUMMY_CREDENTIALS}
    try:
        invocation = run_handler(
            getattr(self, "code_bytes", b""),  # image functions have none
            handler=self.handler,
            runtime=self.run_time,
            event=event,
            timeout=int(self.timeout),
            memory=int(self.memory_size),
            environment=self.environment_vars or {},
            function_name=self.function_name,
            function_version=str(self.version),
            invoked_function_arn=getattr(_current, "invoked_arn", None) or self.function_arn,
            region=self.region,
            architecture=(getattr(self, "architectures", None) or ["x86_64"])[0],
            extra_env=extra_env,
        )
    except LambdaDeployError as e:
        _current.function_error = "Unhandled"
        self.save_logs(e.message)
        doc = {"errorMessage": e.message, "errorType": type(e).__name__}
        return json.dumps(doc), True, e.message
    _current.function_error = invocation.function_error
    self.save_logs(invocation.log_tail)
    tail = invocation.log_tail.encode("utf-8")[-LOG_RESULT_LIMIT:].decode("utf-8", "ignore")
    payload = invocation.payload.decode("utf-8", errors="replace")
    return payload, invocation.function_error is not None, tail


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
        _like_aws()
        if not self.log_requests:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self.port:
            _ensure_free(self.port)  # moto's start() would wait forever on a bind error
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.port = port
        self.url = f"http://{host}:{port}"
        _running_urls.append(self.url)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent). The state of the backends stays in the process."""
        server, self._server = self._server, None
        if server is None:
            return
        with contextlib.suppress(ValueError):
            _running_urls.remove(self.url)
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
