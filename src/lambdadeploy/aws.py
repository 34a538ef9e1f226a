"""The one place that builds boto3 clients.

Every command gets its clients from an `AwsSession`, so profile, region, endpoint
(`--endpoint-url`, `LAMBDADEPLOY_ENDPOINT_URL`, the sandbox), retries and the user
agent apply everywhere at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from . import __version__
from .errors import AwsError, InvalidInputError

ENDPOINT_ENV = "LAMBDADEPLOY_ENDPOINT_URL"
DEFAULT_REGION = "us-east-1"
# "standard" retry mode backs off with jitter on throttling, 5xx and dropped connections;
# 10 attempts in all ride out
# a burst of TooManyRequestsException during a parallel deploy of many functions.
RETRY_ATTEMPTS = 10


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to talk to AWS, from the global CLI options."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # Dummy credentials for a local endpoint (the sandbox) so no AWS account is needed.
    static_credentials: tuple[str, str] | None = None


def retry_attempts() -> int:
    """AWS_MAX_ATTEMPTS when the user set it (the standard AWS setting), else RETRY_ATTEMPTS."""
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(value) if value.isdigit() and int(value) > 0 else RETRY_ATTEMPTS


class AwsSession:
    """Thread-safe factory of boto3 clients sharing one botocore session."""

    def __init__(self, settings: AwsSettings, config_region: str | None = None) -> None:
        # boto3 costs ~0.1 s to import; commands that never reach AWS (package, validate,
        # init) stay quick because it is imported only when a session is made.
        import boto3

        self.settings = settings
        try:
            self._session = boto3.session.Session(profile_name=settings.profile)
        except ProfileNotFound as exc:
            raise InvalidInputError(
                f"AWS profile not found: {settings.profile}",
                hint="check ~/.aws/config, or drop --profile",
            ) from exc
        self.region = (
            settings.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or config_region
            or self._session.region_name
            or DEFAULT_REGION
        )
        self.endpoint_url = settings.endpoint_url or os.environ.get(ENDPOINT_ENV) or None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account_lock = threading.Lock()
        self._account_id: str | None = None

    def client(self, service: str) -> Any:
        """A cached client for `service`; boto3 clients are thread-safe once created."""
        import botocore.config

        with self._lock:
            if service not in self._clients:
                kwargs: dict[str, Any] = {
                    "region_name": self.region,
                    "config": botocore.config.Config(
                        retries={"mode": "standard", "total_max_attempts": retry_attempts()},
                        user_agent_extra=f"lambdadeploy/{__version__}",
                        connect_timeout=10,
                        # An invoke may run for the function's whole timeout (up to 900 s).
                        read_timeout=910,
                    ),
                }
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                if self.settings.static_credentials:
                    key, secret = self.settings.static_credentials
                    kwargs["aws_access_key_id"] = key
                    kwargs["aws_secret_access_key"] = secret
                try:
                    self._clients[service] = self._session.client(service, **kwargs)
                except NoRegionError as exc:  # pragma: no cover - region always set above
                    raise InvalidInputError("no AWS region", hint="pass --region") from exc
            return self._clients[service]

    def account_id(self) -> str:
        """The caller's account id (one STS call, remembered, even with many threads asking)."""
        with self._account_lock:
            return self._lookup_account_id()

    def _lookup_account_id(self) -> str:
        if self._account_id is None:
            try:
                self._account_id = self.client("sts").get_caller_identity()["Account"]
            except NoCredentialsError as exc:
                raise AwsError(
                    "no AWS credentials found",
                    hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                    "or try it locally with --sandbox",
                ) from exc
        return self._account_id


def aws_message(error: ClientError | BotoCoreError) -> str:
    """A one-line description of a failed AWS call, with a hint for the usual causes."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "or try it locally with --sandbox)"
        )
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "AWS call")
        return f"{operation} failed: {info.get('Code', 'Error')}: {info.get('Message', str(error))}"
    return str(error)


def has_credentials(profile: str | None) -> bool:
    """Whether boto3's credential chain finds any credentials (for --endpoint-url defaults)."""
    import boto3

    try:
        return boto3.session.Session(profile_name=profile).get_credentials() is not None
    except (BotoCoreError, ProfileNotFound):
        return False


NOT_FOUND_CODES = ("ResourceNotFoundException", "NotFound", "NotFoundException", "NoSuchBucket",
                   "NoSuchEntity", "404")


def is_not_found(error: ClientError) -> bool:
    """Whether an AWS error says the thing asked about does not exist."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in NOT_FOUND_CODES or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


def partition_of(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn or aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
