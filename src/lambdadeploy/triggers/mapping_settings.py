"""Event source mapping settings shared by queue and stream kinds: how each lambda.yaml value
maps to the API's parameter, its default, and how an existing mapping reports it.

Values are compared in a normal form (a filter as the list of parsed patterns, a scaling
config as its number), so what AWS answers and what lambda.yaml asks compare equal, and a
setting removed from lambda.yaml is reset to AWS's default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..fields import INVALID, Reporter, Rule, type_name

FILTER_LIMIT = 10  # FilterCriteria holds at most 10 filters (5 for some sources; 10 is the model's)


@dataclass(frozen=True)
class Param:
    """One mapping parameter: lambda.yaml's field, AWS's name, its default (normal form), and the
    conversions between the normal form and what the API takes and returns."""

    field: str
    api: str
    default: Any
    to_api: Callable[[Any], Any] = lambda value: value
    from_api: Callable[[Any], Any] = lambda value: value


def _filters_to_api(patterns: list[Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p, sort_keys=True, separators=(",", ":"))} for p in patterns]}


def _filters_from_api(criteria: Any) -> list[Any]:
    filters = (criteria or {}).get("Filters") or []
    parsed = []
    for item in filters:
        try:
            parsed.append(json.loads(item.get("Pattern") or "null"))
        except ValueError:
            parsed.append(item.get("Pattern"))
    return parsed


PARAMS = {
    "batching_window": Param("batching_window", "MaximumBatchingWindowInSeconds", 0, from_api=lambda v: int(v or 0)),
    "report_batch_item_failures": Param(
        "report_batch_item_failures", "FunctionResponseTypes", False,
        to_api=lambda on: ["ReportBatchItemFailures"] if on else [],
        from_api=lambda types: "ReportBatchItemFailures" in (types or [])),
    "filter": Param("filter", "FilterCriteria", [], to_api=_filters_to_api, from_api=_filters_from_api),
    "maximum_concurrency": Param(
        "maximum_concurrency", "ScalingConfig", None,
        to_api=lambda n: {"MaximumConcurrency": n} if n else {},
        from_api=lambda config: (config or {}).get("MaximumConcurrency")),
    "bisect_on_error": Param("bisect_on_error", "BisectBatchOnFunctionError", False,
                             from_api=lambda v: bool(v)),
    "maximum_retry_attempts": Param("maximum_retry_attempts", "MaximumRetryAttempts", -1,
                                    from_api=lambda v: -1 if v is None else int(v)),
    "maximum_record_age": Param("maximum_record_age", "MaximumRecordAgeInSeconds", -1,
                                from_api=lambda v: -1 if v is None else int(v)),
    "on_failure": Param(
        "on_failure", "DestinationConfig", None,
        to_api=lambda arn: {"OnFailure": {"Destination": arn}} if arn else {"OnFailure": {}},
        from_api=lambda config: ((config or {}).get("OnFailure") or {}).get("Destination")),
    "parallelization_factor": Param("parallelization_factor", "ParallelizationFactor", 1,
                                    from_api=lambda v: 1 if v is None else int(v)),
    "tumbling_window": Param("tumbling_window", "TumblingWindowInSeconds", 0, from_api=lambda v: int(v or 0)),
}


class Filters(Rule):
    """`filter:` a list of EventBridge-style patterns (mappings), or one pattern."""

    def check(self, value: Any, report: Reporter) -> Any:
        patterns = [value] if isinstance(value, dict) else value
        if not isinstance(patterns, list) or not all(isinstance(p, dict) for p in patterns):
            report(f"must be a filter pattern (a mapping) or a list of them, got {type_name(value)}",
                   'e.g. filter: {body: {kind: ["order"]}}')
            return INVALID
        if len(patterns) > FILTER_LIMIT:
            report(f"{len(patterns)} filters; at most {FILTER_LIMIT}")
            return INVALID
        return tuple(patterns)

    @property
    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}, "maxItems": FILTER_LIMIT}]}


class RecordAge(Rule):
    """-1 (no limit), or 60..604800 seconds."""

    def check(self, value: Any, report: Reporter) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not (value == -1 or 60 <= value <= 604_800):
            report(f"{value!r} is not allowed", "-1 (no limit) or 60..604800 seconds")
            return INVALID
        return value

    @property
    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"const": -1}, {"type": "integer", "minimum": 60, "maximum": 604_800}]}


def normal(settings: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The API-named parameters lambda.yaml asks for, in normal form, defaults filled in."""
    values = {}
    for name in fields:
        param = PARAMS[name]
        value = getattr(settings, name)
        values[param.api] = list(value) if isinstance(value, tuple) else (param.default if value is None else value)
    return values


def observed(mapping: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The same parameters, read from an existing mapping (AWS's defaults where it says nothing)."""
    values = {}
    for name in fields:
        param = PARAMS[name]
        raw = mapping.get(param.api)
        values[param.api] = param.default if raw is None else param.from_api(raw)
    return values


def api_value(api_name: str, value: Any) -> Any:
    for param in PARAMS.values():
        if param.api == api_name:
            return param.to_api(value)
    return value


def non_default(values: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The API parameters of `values` that differ from AWS's defaults, ready to send."""
    defaults = {PARAMS[name].api: PARAMS[name].default for name in fields}
    return {key: api_value(key, value) for key, value in values.items()
            if key not in defaults or value != defaults[key]}
