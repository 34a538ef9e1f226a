"""Lambda APIs the sandbox adds to moto 5.x, on the paths AWS serves them:

- provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfigs), which moto
  lacks: kept per alias or version, IN_PROGRESS for a moment after a put or after its alias
  moves to another version, then READY; refused like AWS on $LATEST, beyond the function's
  reserved concurrency, or with SnapStart;
- asynchronous invocation (Put/Update/Get/Delete/ListFunctionEventInvokeConfigs), which
  moto keeps once per function, ignoring the Qualifier and keeping the first put forever:
  here one configuration per qualifier, Put replacing it and Update changing the fields it
  names, destinations checked as AWS checks them;
- runtime management (Put/GetRuntimeManagementConfig), which moto lacks.

The state lives on moto's Lambda backend (reset with it); a deleted function or alias takes
its own with it. Routes are added to moto's URL table and handlers to its LambdaResponse,
which finds the operation from botocore's model, so every client (boto3, the AWS CLI)
reaches them. Installed by lambda_settings.install.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from ..awsrules import Violation
from ..awsrules import lambda_settings as aws

STATE_ATTRIBUTE = "_lambdadeploy_settings_state"  # on moto's LambdaBackend
SETTINGS_ATTRIBUTE = "_lambdadeploy_settings"  # on a moto LambdaFunction: a dict, replaced on change (lambda_settings.py)
# How long provisioned concurrency stays IN_PROGRESS after a change: long enough that a push
# is seen waiting for READY, short enough for tests.
PROVISIONING_SECONDS = 0.3
FUNCTION_PATH = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)"
ROUTES = (f"{FUNCTION_PATH}/provisioned-concurrency/?$", f"{FUNCTION_PATH}/runtime-management-config/?$")
DESTINATION_SERVICES = aws.DESTINATION_SERVICES


def error(violation: Violation, **extra: Any) -> Exception:
    """moto's error type for a Violation (code, message and HTTP status as AWS sends them)."""
    from moto.core.exceptions import JsonRESTError

    raised = JsonRESTError(violation.code, violation.message)
    raised.code = violation.status
    raised.description = json.dumps({"__type": violation.code, "message": violation.message, **extra})
    return raised


def invalid(message: str) -> Exception:
    return error(Violation("InvalidParameterValueException", message))


def not_found(message: str, code: str = "ResourceNotFoundException") -> Exception:
    return error(Violation(code, message, 404))


def settings_of(fn: Any) -> dict[str, Any]:
    """The settings lambda_settings.py keeps on a moto function (or version)."""
    return getattr(fn, SETTINGS_ATTRIBUTE, None) or {}


def _state(backend: Any) -> dict[str, dict[tuple[str, str], Any]]:
    state = getattr(backend, STATE_ATTRIBUTE, None)
    if state is None:
        state = {"provisioned": {}, "async": {}, "runtime": {}}
        setattr(backend, STATE_ATTRIBUTE, state)
    return state


def _backend_of(fn: Any) -> Any:
    from moto.awslambda.utils import get_backend

    return get_backend(fn.account_id, fn.region)


def runtime_management(fn: Any) -> dict[str, Any]:
    """The runtime update mode of the function's version (else $LATEST's, which it was published from)."""
    table = _state(_backend_of(fn))["runtime"]
    return table.get((fn.function_name, str(fn.version))) or table.get((fn.function_name, "$LATEST"), {})


def has_provisioned(fn: Any) -> bool:
    return any(name == fn.function_name for name, _ in _state(_backend_of(fn))["provisioned"])


def install() -> None:
    """Add the routes and handlers to moto's Lambda, and follow deletions and alias moves.

    Long because the patches are closures over moto's originals, kept together so what is
    replaced reads as one list."""
    from moto.awslambda import urls
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    for route in ROUTES:
        urls.url_paths.setdefault(route, LambdaResponse.dispatch)
    update_alias, delete_alias, delete_function = (LambdaBackend.update_alias, LambdaBackend.delete_alias,
                                                   LambdaBackend.delete_function)

    def moved(self: Any, name: str, function_name: str, function_version: str, description: str,
              routing_config: Any) -> Any:
        before = self.get_alias(name, function_name).function_version
        alias = update_alias(self, name, function_name, function_version, description, routing_config)
        config = _state(self)["provisioned"].get((_plain_name(function_name), name))
        if config is not None and alias.function_version != before:  # Lambda provisions the new version
            config["ready_at"] = time.monotonic() + PROVISIONING_SECONDS
        return alias

    def alias_deleted(self: Any, name: str, function_name: str) -> None:
        delete_alias(self, name, function_name)
        for kind in ("provisioned", "async"):
            _state(self)[kind].pop((_plain_name(function_name), name), None)

    def function_deleted(self: Any, function_name: str, qualifier: str | None = None) -> None:
        delete_function(self, function_name, qualifier)
        name = _plain_name(function_name)
        for table in _state(self).values():
            for key in [k for k in table if k[0] == name and (qualifier is None or k[1] == qualifier)]:
                del table[key]

    LambdaBackend.update_alias = moved
    LambdaBackend.delete_alias = alias_deleted
    LambdaBackend.delete_function = function_deleted
    for name, handler in HANDLERS.items():
        setattr(LambdaResponse, name, handler)


def _plain_name(name_or_arn: str) -> str:
    return unquote(name_or_arn).split(":function:")[-1].split(":")[0]


def _request(response: Any) -> tuple[Any, str, str | None]:
    """(latest function, its name, the Qualifier) of the request; unknown functions are refused."""
    name = _plain_name(response.path.split("/functions/", 1)[1].split("/", 1)[0])
    qualifier = response.querystring.get("Qualifier", [None])[0]
    return response.backend.get_function(name), name, qualifier


def _qualified(response: Any, fn: Any, qualifier: str) -> Any:
    """The version or alias a qualifier names, or AWS's 404."""
    if qualifier == "$LATEST":
        return fn
    try:
        return response.backend.get_function(fn.function_name, qualifier)
    except Exception as missing:
        raise not_found(f"Function not found: {fn.function_arn}:{qualifier}") from missing


def _body(response: Any) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# --- provisioned concurrency ----------------------------------------------------------------


def _provisioned_answer(fn: Any, qualifier: str, config: Mapping[str, Any]) -> dict[str, Any]:
    ready = time.monotonic() >= config["ready_at"]
    requested = config["requested"]
    return {"FunctionArn": f"{fn.function_arn}:{qualifier}", "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": requested if ready else 0,
            "AllocatedProvisionedConcurrentExecutions": requested if ready else 0,
            "Status": "READY" if ready else "IN_PROGRESS", "LastModified": config["modified"]}


def put_provisioned_concurrency_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    if not qualifier or qualifier == "$LATEST":
        raise invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    target = _qualified(self, fn, qualifier)
    requested = int(_body(self).get("ProvisionedConcurrentExecutions") or 0)
    if settings_apply_on(target) == "PublishedVersions":
        raise invalid("Provisioned Concurrency is not supported for functions with SnapStart enabled")
    table = _state(self.backend)["provisioned"]
    others = sum(c["requested"] for (n, q), c in table.items() if n == name and q != qualifier)
    reserved = None if fn.reserved_concurrency is None else int(fn.reserved_concurrency)
    if (found := aws.provisioned_violation(requested, others, reserved)) is not None:
        raise error(found)
    table[(name, qualifier)] = {"requested": requested, "ready_at": time.monotonic() + PROVISIONING_SECONDS,
                                "modified": _now()}
    answer = _provisioned_answer(fn, qualifier, table[(name, qualifier)])
    return 202, {"status": 202}, json.dumps({k: v for k, v in answer.items() if k != "FunctionArn"})


def get_provisioned_concurrency_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    table = _state(self.backend)["provisioned"]
    if self.querystring.get("List"):  # ListProvisionedConcurrencyConfigs shares the path
        configs = [_provisioned_answer(fn, q, c) for (n, q), c in sorted(table.items()) if n == name]
        return 200, {}, json.dumps({"ProvisionedConcurrencyConfigs": configs})
    config = table.get((name, qualifier or ""))
    if config is None:
        raise not_found("No Provisioned Concurrency Config found for this function",
                        "ProvisionedConcurrencyConfigNotFoundException")
    answer = _provisioned_answer(fn, str(qualifier), config)
    return 200, {}, json.dumps({k: v for k, v in answer.items() if k != "FunctionArn"})


def delete_provisioned_concurrency_config(self: Any) -> Any:
    _, name, qualifier = _request(self)
    _state(self.backend)["provisioned"].pop((name, qualifier or ""), None)
    return 204, {"status": 204}, ""


def list_provisioned_concurrency_configs(self: Any) -> Any:
    return get_provisioned_concurrency_config(self)


def settings_apply_on(fn: Any) -> str:
    return str(settings_of(fn).get("SnapStart", "None"))


# --- asynchronous invocation, per qualifier ----------------------------------------------------


def _check_destinations(config: Mapping[str, Any]) -> None:
    for name, on_failure in (("OnSuccess", False), ("OnFailure", True)):
        arn = ((config.get("DestinationConfig") or {}).get(name) or {}).get("Destination")
        if arn and (problem := aws.destination_problem(arn, on_failure)):
            raise invalid(f"The destination ARN {arn} is invalid: {problem}")


def _async_answer(fn: Any, qualifier: str, config: Mapping[str, Any]) -> dict[str, Any]:
    destinations = config.get("DestinationConfig") or {}
    return {"LastModified": config["modified"], "FunctionArn": f"{fn.function_arn}:{qualifier}",
            **{k: config[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if k in config},
            "DestinationConfig": {"OnSuccess": destinations.get("OnSuccess") or {},
                                  "OnFailure": destinations.get("OnFailure") or {}}}


def _put_async(self: Any, merge: bool) -> Any:
    fn, name, qualifier = _request(self)
    qualifier = qualifier or "$LATEST"
    _qualified(self, fn, qualifier)
    given = {k: v for k, v in _body(self).items() if k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                                             "DestinationConfig")}
    table = _state(self.backend)["async"]
    if merge and (name, qualifier) not in table:
        raise not_found(f"The function {fn.function_arn} doesn't have an EventInvokeConfig")
    config = {**(table[(name, qualifier)] if merge else {}), **given, "modified": time.time()}
    _check_destinations(config)
    table[(name, qualifier)] = config
    return 200, {}, json.dumps(_async_answer(fn, qualifier, config))


def put_function_event_invoke_config(self: Any) -> Any:
    return _put_async(self, merge=False)


def update_function_event_invoke_config(self: Any) -> Any:
    return _put_async(self, merge=True)


def get_function_event_invoke_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    config = _state(self.backend)["async"].get((name, qualifier or "$LATEST"))
    if config is None:
        raise not_found(f"The function {fn.function_arn}:{qualifier or '$LATEST'} doesn't have an EventInvokeConfig")
    return 200, {}, json.dumps(_async_answer(fn, qualifier or "$LATEST", config))


def delete_function_event_invoke_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    if _state(self.backend)["async"].pop((name, qualifier or "$LATEST"), None) is None:
        raise not_found(f"The function {fn.function_arn} doesn't have an EventInvokeConfig")
    return 204, {"status": 204}, ""


def list_function_event_invoke_configs(self: Any) -> Any:
    fn, name, _ = _request(self)
    configs = [_async_answer(fn, q, c) for (n, q), c in sorted(_state(self.backend)["async"].items()) if n == name]
    return 200, {}, json.dumps({"FunctionEventInvokeConfigs": configs})


# --- runtime management ----------------------------------------------------------------------


def put_runtime_management_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    qualifier = qualifier or "$LATEST"
    target = _qualified(self, fn, qualifier)
    body = _body(self)
    mode, arn = body.get("UpdateRuntimeOn"), body.get("RuntimeVersionArn")
    if mode == "Manual" and not arn:
        raise invalid("RuntimeVersionArn is required when UpdateRuntimeOn is Manual")
    if mode != "Manual" and arn:
        raise invalid("RuntimeVersionArn can be set only when UpdateRuntimeOn is Manual")
    config = {"UpdateRuntimeOn": mode, **({"RuntimeVersionArn": arn} if arn else {})}
    _state(self.backend)["runtime"][(name, str(target.version))] = config
    return 200, {}, json.dumps({**config, "FunctionArn": f"{fn.function_arn}:{qualifier}"})


def get_runtime_management_config(self: Any) -> Any:
    fn, name, qualifier = _request(self)
    target = _qualified(self, fn, qualifier or "$LATEST")
    config = _state(self.backend)["runtime"].get((name, str(target.version)), {"UpdateRuntimeOn": "Auto"})
    return 200, {}, json.dumps({**config, "FunctionArn": f"{fn.function_arn}:{qualifier or '$LATEST'}"})


HANDLERS = {name: handler for name, handler in globals().items() if name.startswith((
    "put_provisioned", "get_provisioned", "delete_provisioned", "list_provisioned", "put_function_event",
    "update_function_event", "get_function_event", "delete_function_event", "list_function_event",
    "put_runtime", "get_runtime"))}
