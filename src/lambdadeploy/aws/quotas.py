"""AWS's request-rate quotas, as the client-side limiter (ratelimit.py) applies them.

Lambda, from the AWS Lambda Developer Guide, "Lambda quotas", section "Lambda API requests"
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests),
per account and Region:

- GetFunction API requests: "100 requests per second. Cannot be increased."
- GetPolicy API requests: "15 requests per second. Cannot be increased."
- "Remainder of the control plane API requests (excludes invocation, GetFunction, and
  GetPolicy requests): 15 requests per second across all APIs (not 15 requests per second
  per API). Cannot be increased." So GetAlias, ListAliases, ListVersionsByFunction,
  GetFunctionConfiguration, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
  PublishVersion, CreateAlias, UpdateAlias, TagResource, AddPermission, the event source
  mapping, URL and concurrency APIs... all draw on one budget of 15 per second. (Earlier
  editions of the page said only "15 requests per second", which is often read as per API;
  the current text rules that out, and we follow it.)
- Invocations are limited by concurrency ("10 x concurrent executions quota" requests per
  second, same page), not by a control-plane rate: Invoke has no bucket here.

Over a quota AWS answers 429 TooManyRequestsException "Rate exceeded"; client.py retries
that with backoff (see retry.THROTTLED). AWS does not publish the size of its buckets,
only their rate, so the client saves up at most half a second's worth (BURST_SECONDS): the
jitter of requests on their way to AWS then cannot add up to a burst AWS would refuse.

`LAMBDADEPLOY_API_RATE` overrides the rates, for accounts whose limits AWS raised, for
sharing the budget with other tools (a lower rate), or for endpoints without quotas:
`30` sets the shared control-plane budget; `GetFunction=200,control=30` sets named
budgets (GetFunction, GetPolicy, control); `off` turns the client-side limit off
(throttling answers are still retried).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import InvalidInputError

RATE_ENV = "LAMBDADEPLOY_API_RATE"
BURST_SECONDS = 0.5

GET_FUNCTION = "lambda:GetFunction"
GET_POLICY = "lambda:GetPolicy"
CONTROL_PLANE = "lambda:control-plane"

# Requests per second per bucket, as published (see the module docstring).
AWS_RATES: Mapping[str, float] = {GET_FUNCTION: 100.0, GET_POLICY: 15.0, CONTROL_PLANE: 15.0}

# The invocation APIs: limited by concurrency, not by a request rate.
UNMETERED = frozenset({("lambda", "Invoke"), ("lambda", "InvokeAsync"), ("lambda", "InvokeWithResponseStream")})

# What LAMBDADEPLOY_API_RATE calls each bucket.
ENV_NAMES = {"GetFunction": GET_FUNCTION, "GetPolicy": GET_POLICY, "control": CONTROL_PLANE}


def bucket_of(service: str, operation: str) -> str | None:
    """The quota an API call draws on, or None when it has no request-rate quota here."""
    if service != "lambda" or (service, operation) in UNMETERED:
        return None
    if operation == "GetFunction":
        return GET_FUNCTION
    if operation == "GetPolicy":
        return GET_POLICY
    return CONTROL_PLANE


def configured_rates(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """AWS_RATES with LAMBDADEPLOY_API_RATE applied ({} when it is `off`)."""
    value = (os.environ if environ is None else environ).get(RATE_ENV, "").strip()
    rates = dict(AWS_RATES)
    if not value:
        return rates
    if value.lower() in ("off", "none", "0"):
        return {}
    hint = (f"e.g. {RATE_ENV}=30 (the control-plane budget, requests per second), "
            f"{RATE_ENV}=GetFunction=200,control=30, or {RATE_ENV}=off")
    for entry in (part.strip() for part in value.split(",")):
        name, _, number = entry.rpartition("=")
        bucket = ENV_NAMES.get(name or "control")
        try:
            rate = float(number)
        except ValueError:
            rate = -1.0
        if bucket is None or not rate > 0 or rate != rate or rate == float("inf"):
            raise InvalidInputError(
                f"{RATE_ENV}={value!r}: cannot read {entry!r} "
                f"(names: {', '.join(ENV_NAMES)}; rates: positive numbers of requests per second)", hint=hint)
        rates[bucket] = rate
    return rates
