"""AWS's semantic rejections: requests the service model allows but AWS refuses.

Each rule reads the request's input (and, where AWS looks at other resources, the sandbox's
state through World) and returns AWS's Violation, or None. The rules themselves live in
awsrules/, shared with the pre-flight checks, so the tool and its sandbox agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..awsrules import Violation, events, lambda_api, s3
from .operations import Call
from .world import World

FUNCTION_NAME_LIMIT = 64  # a bare name; the model's 140 is for ARNs

Rule = Callable[[Mapping[str, Any], World], "Violation | None"]


def check(call: Call, world: World) -> Violation | None:
    """The first rule `call` breaks, or None."""
    if call.service == "lambda" and (found := _bare_function_name(call.params)):
        return found
    rule = RULES.get((call.service, call.name))
    return rule(call.params, world) if rule is not None else None


def _bare_function_name(params: Mapping[str, Any]) -> Violation | None:
    name = params.get("FunctionName")
    if isinstance(name, str) and ":" not in name and len(name) > FUNCTION_NAME_LIMIT:
        return Violation("ValidationException",
                         f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {FUNCTION_NAME_LIMIT}")
    return None


def _notification(params: Mapping[str, Any], world: World) -> Violation | None:
    rules = s3.rules_of(params.get("NotificationConfiguration") or {})
    return s3.OVERLAPPING if s3.first_overlap(rules) else None


def _create_mapping(params: Mapping[str, Any], world: World) -> Violation | None:
    arn = str(params.get("EventSourceArn") or "")
    if ":sqs:" not in arn:
        return None
    found = lambda_api.sqs_mapping_violations(int(params.get("BatchSize") or 10),
                                              int(params.get("MaximumBatchingWindowInSeconds") or 0),
                                              arn.endswith(".fifo"))
    if found:
        return found[0]
    return _visibility(arn, str(params.get("FunctionName") or ""), world)


def _update_mapping(params: Mapping[str, Any], world: World) -> Violation | None:
    mapping = world.mapping(str(params.get("UUID") or ""))
    if mapping is None or ":sqs:" not in str(mapping.event_source_arn):
        return None
    batch = params.get("BatchSize", mapping.batch_size) or 10
    window = params.get("MaximumBatchingWindowInSeconds", mapping.max_batch_window) or 0
    found = lambda_api.sqs_mapping_violations(int(batch), int(window), mapping.event_source_arn.endswith(".fifo"))
    if found:
        return found[0]
    if params.get("FunctionName"):
        return _visibility(mapping.event_source_arn, str(params["FunctionName"]), world)
    return None


def _visibility(queue_arn: str, function_name: str, world: World) -> Violation | None:
    queue, function = world.queue(queue_arn), world.function(function_name)
    if queue is None or function is None:
        return None
    return lambda_api.visibility_violation(int(queue.visibility_timeout), int(function.timeout))


def _schedule(params: Mapping[str, Any], world: World) -> Violation | None:
    expression = params.get("ScheduleExpression")
    return events.schedule_violation(expression) if isinstance(expression, str) and expression else None


def _function_settings(params: Mapping[str, Any], world: World) -> Violation | None:
    variables = (params.get("Environment") or {}).get("Variables")
    if isinstance(variables, dict) and (found := lambda_api.environment_violation(variables)):
        return found
    tags = params.get("Tags")
    return lambda_api.tags_violation(tags) if isinstance(tags, dict) else None


def _tag_resource(params: Mapping[str, Any], world: World) -> Violation | None:
    tags = params.get("Tags")
    if not isinstance(tags, dict):
        return None
    return lambda_api.tags_violation({**world.tags(str(params.get("Resource") or "")), **tags})


def _alias(params: Mapping[str, Any], world: World) -> Violation | None:
    weights = ((params.get("RoutingConfig") or {}).get("AdditionalVersionWeights")) or {}
    if not weights:
        return None
    function_name = str(params.get("FunctionName") or "")
    version = params.get("FunctionVersion")
    if version is None:  # UpdateAlias keeps the alias's version unless it names one
        alias = world.alias(function_name, str(params.get("Name") or ""))
        version = alias.function_version if alias is not None else None
    if version is None:
        return None
    if found := lambda_api.routing_violation(str(version), weights):
        return found
    roles = {}
    for number in (str(version), *weights):
        function = world.function(function_name, number)
        if function is not None:
            roles[number] = function.role
    return lambda_api.routing_roles_violation(roles)


RULES: dict[tuple[str, str], Rule] = {
    ("s3", "PutBucketNotificationConfiguration"): _notification,
    ("lambda", "CreateEventSourceMapping"): _create_mapping,
    ("lambda", "UpdateEventSourceMapping"): _update_mapping,
    ("events", "PutRule"): _schedule,
    ("lambda", "CreateFunction"): _function_settings,
    ("lambda", "UpdateFunctionConfiguration"): _function_settings,
    ("lambda", "TagResource"): _tag_resource,
    ("lambda", "CreateAlias"): _alias,
    ("lambda", "UpdateAlias"): _alias,
}
