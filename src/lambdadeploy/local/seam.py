"""The invoke seam: moto's Lambda runs the deployed zip on this machine through runner.py.

moto keeps the code it is given but, without Docker, cannot run it. The seam replaces
moto's ``LambdaFunction._invoke_lambda`` so that every invocation, whether from boto3,
the AWS CLI, or moto itself delivering S3/SNS/SQS/EventBridge events, runs the deployed
zip of the invoked version through ``runner.run_handler``, with the zips of the
function's layers (moto keeps a layer version's content as ``code_bytes``). That is a
private moto API: pyproject pins moto to the range that tests/aws/test_sandbox_seam.py
covers, and that test fails loudly when the signatures move.

Deliveries of events to aliases are fixed in deliveries.py, alias RevisionIds in
revisions.py; layers as AWS keeps them in layers.py (installed with the seam); an
UpdateFunctionCode that changes ``Architectures`` (moto ignores it) is applied here.

A smoke invoke may ask for ``--smoke-arch host`` through its ClientContext
(``{"custom": {"lambdadeploy-smoke-arch": "host"}}``, runtimes.SMOKE_ARCH_CONTEXT_KEY);
when the native code was rebuilt for this machine, the response carries the header
``X-Lambdadeploy-Host-Build: <architecture>`` (runtimes.HOST_BUILD_HEADER).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
from typing import Any

from ..errors import LambdaDeployError
from ..runtimes import HOST_BUILD_HEADER, SMOKE_ARCH_CONTEXT_KEY
from . import deliveries, lambda_settings, revisions
from .artifacts import RunnerError
from .endpoints import callback_environment
from .layers import install_layer_emulation, layer_content
from .runner import run_handler

LOG_RESULT_LIMIT = 4096  # Invoke's LogResult is the last 4 KB of the log, as in Lambda

_SEAM_MARKER = "_lambdadeploy_seam"
_install_lock = threading.Lock()
_current = threading.local()  # the invocation in flight on this thread: event, ARN, error
_ORIGINALS: dict[str, Callable[..., Any]] = {}  # moto's methods, as found before patching


def requested_qualifier() -> str | None:
    """The ?Qualifier= of the Invoke request this thread is serving (moto 5.2 does not pass it on)."""
    return getattr(_current, "qualifier", None)


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
        original_update_code = LambdaFunction.update_function_code
        _ORIGINALS.update(
            {
                "LambdaResponse.invoke": original_response_invoke,
                "LambdaBackend.invoke": original_backend_invoke,
                "LambdaFunction.invoke": original_invoke,
                "LambdaFunction._invoke_lambda": LambdaFunction._invoke_lambda,
                "LambdaFunction.update_function_code": original_update_code,
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
            _current.smoke_arch = _smoke_arch(_header(request_headers, "x-amz-client-context"))
            _current.host_build = None
            try:
                result = original_invoke(self, body, request_headers, response_headers)
                if _current.function_error and "x-amz-function-error" in response_headers:
                    response_headers["x-amz-function-error"] = _current.function_error
                if _current.host_build:
                    response_headers[HOST_BUILD_HEADER] = _current.host_build
                return result
            finally:
                _current.event = _UNSET
                _current.function_error = None
                _current.smoke_arch = "function"

        def update_function_code(self: Any, updated_spec: dict[str, Any]) -> Any:
            # UpdateFunctionCode takes Architectures (the code is built for them); moto drops it.
            if updated_spec.get("Architectures") and not updated_spec.get("DryRun"):
                self.architectures = list(updated_spec["Architectures"])
            return original_update_code(self, updated_spec)

        LambdaResponse.invoke = response_invoke
        LambdaBackend.invoke = backend_invoke
        LambdaFunction.invoke = invoke
        LambdaFunction._invoke_lambda = _invoke_lambda
        LambdaFunction.update_function_code = update_function_code
        deliveries.install()
        install_layer_emulation()  # layers as AWS keeps them: what _layer_zips reads
        revisions.install_alias_revisions()
        lambda_settings.requested_qualifier = requested_qualifier
        lambda_settings.install()  # VPC, logging, concurrency, ... as AWS keeps them (lambda_settings.py)
        setattr(LambdaFunction, _SEAM_MARKER, True)


_UNSET = object()


def _header(headers: Any, name: str) -> str | None:
    """A request header from whatever mapping moto passes (case-insensitive or plain dict)."""
    try:
        return headers.get(name) or headers.get(name.title())
    except AttributeError:
        return None


def _smoke_arch(client_context: str | None) -> str:
    """"host" when the invoke's ClientContext asks for --smoke-arch host, else "function"."""
    if not client_context:
        return "function"
    try:
        custom = json.loads(base64.b64decode(client_context)).get("custom") or {}
    except (binascii.Error, ValueError, AttributeError):
        return "function"
    return "host" if isinstance(custom, dict) and custom.get(SMOKE_ARCH_CONTEXT_KEY) == "host" else "function"


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
    # The sandbox's URL and the key pair it made for functions, so the handler's boto3 calls stay local.
    extra_env = callback_environment()
    try:
        invocation = run_handler(
            getattr(self, "code_bytes", b""),  # image functions have none
            layers=_layer_zips(self),
            smoke_arch=getattr(_current, "smoke_arch", "function"),
            handler=self.handler,
            runtime=self.run_time,
            event=event,
            timeout=int(self.timeout),
            memory=int(self.memory_size),
            environment=self.environment_vars or {},
            function_name=self.function_name,
            function_version=str(self.version),
            invoked_function_arn=getattr(_current, "invoked_arn", None) or deliveries.invoked_arn()
            or self.function_arn,
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
    _current.host_build = invocation.host_build
    self.save_logs(invocation.log_tail)
    tail = invocation.log_tail.encode("utf-8")[-LOG_RESULT_LIMIT:].decode("utf-8", "ignore")
    payload = invocation.payload.decode("utf-8", errors="replace")
    return payload, invocation.function_error is not None, tail


def _layer_zips(fn: Any) -> list[bytes]:
    """The content of the function's layer versions, in the function's order, from moto."""
    from moto.awslambda.utils import get_backend

    zips = []
    for layer in getattr(fn, "layers", None) or []:
        content = layer_content(get_backend(fn.account_id, fn.region), layer["Arn"])
        if content is None:
            raise RunnerError(f"layer {layer['Arn']} is not in the sandbox (or has no content)")
        zips.append(content)
    return zips
