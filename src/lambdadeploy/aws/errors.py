"""AWS errors as typed errors: every botocore exception is translated here, once.

Callers outside `aws/` never see botocore: they catch `AwsCallError` (or one of its
kinds) and read `.code`, `.message` and `.operation`, the same way for every service.
"""

from __future__ import annotations

from typing import Any

from ..errors import AwsError

NOT_FOUND_CODES = frozenset({
    "ResourceNotFoundException", "NotFound", "NotFoundException", "NoSuchBucket", "NoSuchEntity", "404",
    "NoSuchKey", "NonExistentQueue", "AWS.SimpleQueueService.NonExistentQueue", "ParameterNotFound",
    "ResourceNotFound",
})
THROTTLING_CODES = frozenset({
    "TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded",
    "SlowDown", "TooManyRequests",
})


class AwsCallError(AwsError):
    """One AWS call failed, after botocore's own retries."""

    def __init__(self, operation: str, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{operation} failed: {code}: {message}" if code else f"{operation} failed: {message}")
        self.operation = operation
        self.code = code
        self.aws_message = message
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.code in NOT_FOUND_CODES or self.status == 404

    def says(self, *fragments: str) -> bool:
        """Whether AWS's message contains every fragment (case-insensitive): AWS's texts vary in case."""
        text = self.aws_message.lower()
        return all(fragment.lower() in text for fragment in fragments)


class AwsNotFound(AwsCallError):
    """What was asked about does not exist."""


class AwsConflict(AwsCallError):
    """ResourceConflictException: an update in progress, or a resource that already exists."""


class AwsThrottled(AwsCallError):
    """Over the API's request rate, even after retries."""


class AwsPreconditionFailed(AwsCallError):
    """A RevisionId (or similar) precondition did not hold: someone else changed the resource."""


class AwsAccessDenied(AwsCallError):
    """The caller's credentials do not allow the call."""


class AwsNoCredentials(AwsError):
    """boto3's credential chain found nothing."""

    def __init__(self) -> None:
        super().__init__(
            "no AWS credentials found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or try it locally with --sandbox",
        )


def translate(error: Exception, operation: str) -> AwsError:
    """The typed error for a botocore exception raised by `operation`."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return AwsNoCredentials()
    if not isinstance(error, ClientError):
        return AwsCallError(operation, "", str(error))
    response: dict[str, Any] = error.response or {}
    info = response.get("Error") or {}
    code = str(info.get("Code") or "")
    message = str(info.get("Message") or error)
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    kind: type[AwsCallError] = AwsCallError
    if code in NOT_FOUND_CODES or status == 404:
        kind = AwsNotFound
    elif code == "ResourceConflictException":
        kind = AwsConflict
    elif code in THROTTLING_CODES:
        kind = AwsThrottled
    elif code == "PreconditionFailedException" or status == 412:
        kind = AwsPreconditionFailed
    elif code in ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException") or status == 403:
        kind = AwsAccessDenied
    return kind(operation, code, message, status)
