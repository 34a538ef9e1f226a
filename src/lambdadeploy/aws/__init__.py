"""The only package that imports boto3 or botocore.

session.py makes clients (profile, region, endpoint, retries); client.py puts every
call behind a per-API rate limiter (ratelimit.py) and turns botocore's exceptions into
the typed errors of errors.py; retry.py holds the one retry and the one wait helper.
"""

from .errors import (
    AwsAccessDenied,
    AwsCallError,
    AwsConflict,
    AwsNoCredentials,
    AwsNotFound,
    AwsPreconditionFailed,
    AwsThrottled,
)
from .retry import retry, wait_until
from .session import AwsSession, AwsSettings, has_credentials, partition_of

__all__ = [
    "AwsAccessDenied",
    "AwsCallError",
    "AwsConflict",
    "AwsNoCredentials",
    "AwsNotFound",
    "AwsPreconditionFailed",
    "AwsSession",
    "AwsSettings",
    "AwsThrottled",
    "has_credentials",
    "partition_of",
    "retry",
    "wait_until",
]
