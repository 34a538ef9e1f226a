"""Sessions and clients: profile, region, endpoint, botocore retries and limits in one place.

Every command gets its clients from an `AwsSession`, so profile, region, endpoint
(`--endpoint-url`, `LAMBDADEPLOY_ENDPOINT_URL`, the sandbox), retries, rate limits
and the user agent apply everywhere at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..errors import InvalidInputError
from .client import Client, limit_requests
from .errors import AwsNoCredentials
from .quotas import configured_rates
from .ratelimit import RateLimiter

ENDPOINT_ENV = "LAMBDADEPLOY_ENDPOINT_URL"
DEFAULT_REGION = "us-east-1"
# "standard" retry mode backs off with jitter on throttling, 5xx and dropped connections;
# 10 attempts in all ride out a burst of TooManyRequestsException.
RETRY_ATTEMPTS = 10


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to talk to AWS, from the global CLI options."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # Credentials for a local endpoint (the sandbox), so no AWS account is needed.
    static_credentials: tuple[str, str] | None = None


def attempts_set_by_user() -> int | None:
    """AWS_MAX_ATTEMPTS (the standard AWS setting) when the user set it to a positive number."""
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def retry_attempts() -> int:
    """AWS_MAX_ATTEMPTS when the user set it, else RETRY_ATTEMPTS."""
    return attempts_set_by_user() or RETRY_ATTEMPTS


class AwsSession:
    """Thread-safe factory of clients sharing one botocore session and one rate limiter."""

    def __init__(self, settings: AwsSettings, config_region: str | None = None,
                 limiter: RateLimiter | None = None) -> None:
        # boto3 costs ~0.1 s to import; commands that never reach AWS (package, validate,
        # init) stay quick because it is imported only when a session is made.
        import boto3
        from botocore.exceptions import ProfileNotFound

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
        # AWS's published quotas (quotas.py), or LAMBDADEPLOY_API_RATE's; one limiter for every
        # client and thread of this process, since the quota is the account's.
        self.limiter = limiter if limiter is not None else RateLimiter(configured_rates())
        self._clients: dict[tuple[str, str], Client] = {}
        self._lock = threading.Lock()
        self._account_lock = threading.Lock()
        self._account_id: str | None = None

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def client(self, service: str, region: str | None = None) -> Client:
        """A cached client for `service` (in `region`, default the session's); thread-safe once made."""
        import botocore.config

        region = region or self.region
        with self._lock:
            if (service, region) not in self._clients:
                kwargs: dict[str, Any] = {
                    "region_name": region,
                    "config": botocore.config.Config(
                        retries={"mode": "standard", "total_max_attempts": retry_attempts()},
                        user_agent_extra=f"lambdadeploy/{__version__}",
                        connect_timeout=10,
                        # An invoke may run for the function's whole timeout (up to 900 s).
                        read_timeout=910,
                        max_pool_connections=50,
                    ),
                }
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                if self.settings.static_credentials:
                    key, secret = self.settings.static_credentials
                    kwargs["aws_access_key_id"] = key
                    kwargs["aws_secret_access_key"] = secret
                raw = self._session.client(service, **kwargs)
                limit_requests(raw, service, self.limiter)
                # A user who set AWS_MAX_ATTEMPTS gets exactly that many attempts per request;
                # otherwise throttles are ridden out for minutes (retry.THROTTLED).
                patient = attempts_set_by_user() is None
                self._clients[(service, region)] = Client(raw, service, self.limiter, patient=patient)
            return self._clients[(service, region)]

    def account_id(self) -> str:
        """The caller's account id (one STS call, remembered, even with many threads asking)."""
        with self._account_lock:
            if self._account_id is None:
                self._account_id = self.client("sts").get_caller_identity()["Account"]
            return self._account_id


def has_credentials(profile: str | None) -> bool:
    """Whether boto3's credential chain finds any credentials (for --endpoint-url defaults)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile).get_credentials() is not None
    except (BotoCoreError, ProfileNotFound):
        return False


def partition_of(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn or aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


__all__ = ["AwsNoCredentials", "AwsSession", "AwsSettings", "has_credentials", "partition_of"]
