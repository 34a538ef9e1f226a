"""Events moto delivers run what AWS would run: the version an alias points to *now*.

moto 5.x gets three things wrong that a deploy tool notices (pyproject pins the range
tests/aws/test_sandbox_deliveries.py covers):

- an event source mapping created on an alias ARN records the ARN of the version behind
  the alias at wiring time (AWS records the alias ARN), so after the alias moves, SQS,
  DynamoDB and Kinesis deliveries still run the old version. ``create`` re-points the
  mapping at the alias ARN, in the mapping and in the queue's or table's registry;
- a deleted mapping stays in the queue's, table's or stream's registry and keeps
  delivering: ``delete`` takes it out;
- DynamoDB deliveries look the function up without its qualifier and run ``$LATEST``:
  ``send_dynamodb_items`` resolves the qualified ARN and redirects the invoke to it.

Every delivery also tells the seam which ARN was invoked (the alias ARN for mappings,
S3 notifications and SNS subscriptions on an alias), so ``context.invoked_function_arn``
is what AWS passes. ``install`` is called once, by seam.install_invoke_seam.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_state = threading.local()  # the delivery in flight on this thread: its invoked ARN and function


def invoked_arn() -> str | None:
    """The ARN the delivery in flight on this thread targets (alias-qualified), or None."""
    return getattr(_state, "arn", None)


@contextmanager
def _delivering(arn: str, function: Any = None) -> Iterator[None]:
    saved = (getattr(_state, "arn", None), getattr(_state, "function", None))
    _state.arn, _state.function = arn, function
    try:
        yield
    finally:
        _state.arn, _state.function = saved


def install() -> None:
    """Patch moto's event source mappings and deliveries (call once, under the seam's lock).

    Long because the patches are closures over moto's originals, kept together so what is
    replaced reads as one list."""
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.s3 import notifications

    create, update, delete = (LambdaBackend.create_event_source_mapping, LambdaBackend.update_event_source_mapping,
                              LambdaBackend.delete_event_source_mapping)  # fmt: skip
    send_dynamodb, send_kinesis, send_sns, send_sqs = (
        LambdaBackend.send_dynamodb_items, LambdaBackend.send_kinesis_message, LambdaBackend.send_sns_message,
        LambdaBackend.send_sqs_batch,
    )  # fmt: skip
    function_invoke, s3_invoke = LambdaFunction.invoke, notifications._invoke_awslambda
    ORIGINALS.update({f"LambdaBackend.{name}": getattr(LambdaBackend, name) for name in PATCHED})
    ORIGINALS["moto.s3.notifications._invoke_awslambda"] = s3_invoke

    def create_mapping(self: Any, spec: dict[str, Any]) -> Any:
        requested = str(spec.get("FunctionName") or "")
        esm = create(self, spec)
        _point_at_alias(esm, requested)
        return esm

    def update_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
        esm = update(self, uuid, spec)
        if esm is not None and spec.get("FunctionName"):
            _point_at_alias(esm, str(spec["FunctionName"]))
        return esm

    def delete_mapping(self: Any, uuid: str) -> Any:
        esm = delete(self, uuid)
        if esm is not None:
            for registry in _registries(esm):
                for key in [k for k, v in registry.items() if v is esm]:
                    del registry[key]
        return esm

    def dynamodb_items(self: Any, function_arn: str, items: Any, source: str) -> Any:
        with _delivering(function_arn, _resolved(self, function_arn)):
            return send_dynamodb(self, function_arn, items, source)

    def kinesis_message(self: Any, function_name: str, *args: Any, **kwargs: Any) -> Any:
        with _delivering(function_name):
            return send_kinesis(self, function_name, *args, **kwargs)

    def sns_message(self: Any, function_name: str, message: str, subject: str | None = None,
                    qualifier: str | None = None) -> Any:
        fn = _resolved(self, function_name, qualifier)
        with _delivering(_qualified(fn, qualifier) if fn is not None else function_name):
            return send_sns(self, function_name, message, subject=subject, qualifier=qualifier)

    def sqs_batch(self: Any, function_arn: str, messages: Any, queue_arn: str) -> Any:
        with _delivering(function_arn):
            return send_sqs(self, function_arn, messages, queue_arn)

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        target = getattr(_state, "function", None)
        if target is not None:
            _state.function = None  # once: the redirected invoke is the delivery
            self = target
        return function_invoke(self, body, request_headers, response_headers)

    def s3_lambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        with _delivering(fn_arn):
            s3_invoke(account_id, event_body, fn_arn, region_name)

    LambdaBackend.create_event_source_mapping = create_mapping
    LambdaBackend.update_event_source_mapping = update_mapping
    LambdaBackend.delete_event_source_mapping = delete_mapping
    LambdaBackend.send_dynamodb_items = dynamodb_items
    LambdaBackend.send_kinesis_message = kinesis_message
    LambdaBackend.send_sns_message = sns_message
    LambdaBackend.send_sqs_batch = sqs_batch
    LambdaFunction.invoke = invoke
    notifications._invoke_awslambda = s3_lambda


# The LambdaBackend methods replaced; ORIGINALS keeps moto's, for the test that pins their signatures.
PATCHED = ("create_event_source_mapping", "update_event_source_mapping", "delete_event_source_mapping",
           "send_dynamodb_items", "send_kinesis_message", "send_sns_message", "send_sqs_batch")
ORIGINALS: dict[str, Callable[..., Any]] = {}


def alias_of(function_name: str) -> str | None:
    """The alias a FunctionName (name, name:qualifier, full or partial ARN) is qualified with."""
    tail = function_name.split(":function:")[-1]
    parts = tail.split(":")
    if len(parts) != 2:
        return None
    qualifier = parts[1]
    return None if qualifier.isdigit() or qualifier == "$LATEST" or not qualifier else qualifier


def _point_at_alias(esm: Any, requested: str) -> None:
    """Make a mapping created on an alias point at the alias ARN, like AWS, not the version behind it."""
    alias = alias_of(requested)
    if alias is None:
        return
    before = esm.function_arn
    esm.function_arn = ":".join(before.split(":")[:7]) + f":{alias}"
    for registry in _registries(esm):
        for key in [k for k, v in registry.items() if v is esm and k == before]:
            del registry[key]
            registry[esm.function_arn] = esm


def _registries(esm: Any) -> Iterator[dict[str, Any]]:
    """The per-source dicts through which moto's queues, tables and streams find their mappings."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    sources: list[Callable[[], Any]] = [
        lambda: sqs_backends[esm.account_id][esm.region].queues.values(),
        lambda: dynamodb_backends[esm.account_id][esm.region].tables.values(),
        lambda: kinesis_backends[esm.account_id][esm.region].streams.values(),
    ]
    for values in sources:
        for owner in list(values()):
            registry = getattr(owner, "lambda_event_source_mappings", None)
            if isinstance(registry, dict):
                yield registry


def _resolved(backend: Any, name_or_arn: str, qualifier: str | None = None) -> Any:
    """The function (version) a qualified name or ARN points to now, or None: then moto's own
    delivery runs and fails as it always did."""
    try:
        return backend.get_function(name_or_arn, qualifier)
    except Exception:  # moto's UnknownFunctionException and the like
        return None


def _qualified(fn: Any, qualifier: str | None) -> str:
    base = f"arn:{fn.partition}:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}"
    return f"{base}:{qualifier}" if qualifier else base
