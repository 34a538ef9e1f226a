"""Read access to what the sandbox holds (moto's backends), for rules that span resources.

AWS refuses some requests because of other resources: a queue whose visibility timeout is
shorter than the function's timeout, alias versions that run as different roles, a role
created a moment ago. These lookups read moto's in-process state and never change it; a
resource that does not exist reads as None (moto then answers its own not-found error).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


@dataclass(frozen=True)
class World:
    """moto's state for one account and region (the region the request was signed for)."""

    region: str
    account: str = DEFAULT_ACCOUNT_ID

    def _lambda(self, region: str | None = None) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[self.account][region or self.region]

    def function(self, name_or_arn: str, qualifier: str | None = None) -> Any:
        """The function (a version or alias resolved to its version), or None."""
        region = _region_of(name_or_arn) or self.region
        with contextlib.suppress(Exception):
            return self._lambda(region).get_function(name_or_arn, qualifier or None)
        return None

    def alias(self, function_name: str, alias: str) -> Any:
        with contextlib.suppress(Exception):
            base = self.function(function_name)
            return self._lambda().get_alias(alias, base.function_name) if base is not None else None
        return None

    def mapping(self, uuid: str) -> Any:
        with contextlib.suppress(Exception):
            return self._lambda().get_event_source_mapping(uuid)
        return None

    def tags(self, arn: str) -> dict[str, str]:
        with contextlib.suppress(Exception):
            return dict(self._lambda(_region_of(arn) or self.region).list_tags(arn) or {})
        return {}

    def queue(self, arn: str) -> Any:
        """The SQS queue with this ARN, or None."""
        from moto.sqs.models import sqs_backends

        parts = arn.split(":")
        if len(parts) < 6:
            return None
        with contextlib.suppress(Exception):
            backend = sqs_backends[parts[4] or self.account][parts[3] or self.region]
            return next((q for q in backend.queues.values() if q.queue_arn == arn), None)
        return None

    def role_age(self, arn: str) -> dt.timedelta | None:
        """How long ago the role with this ARN was created (None: no such role)."""
        from moto.core.utils import utcnow
        from moto.iam.models import iam_backends

        with contextlib.suppress(Exception):
            role = iam_backends[self.account][_partition(self.region)].get_role_by_arn(arn)
            return utcnow() - role.create_date
        return None


def _region_of(name_or_arn: str) -> str | None:
    parts = name_or_arn.split(":")
    return parts[3] if name_or_arn.startswith("arn:") and len(parts) > 3 and parts[3] else None
