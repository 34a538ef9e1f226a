"""Test-only: moto builds AWS's managed IAM policies (about 1,300, a few MB of JSON, each
document serialized again) every time an IAM backend starts, which is once per test under
`mock_aws`; here the JSON is parsed and each document serialized once per process. Each
backend still gets its own, fresh policy objects, made with the arguments moto's own
AWSManagedPolicy.from_data passes (test_moto_policies.py checks that they are equal)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.iam import models

_arguments: list[tuple[str, dict[str, Any]]] | None = None


def policy_arguments() -> list[tuple[str, dict[str, Any]]]:
    """(name, keyword arguments of AWSManagedPolicy) per managed policy, as from_data makes them."""
    global _arguments
    if _arguments is None:
        _arguments = [
            (name, {"default_version_id": data.get("DefaultVersionId"), "path": data.get("Path"),
                    "document": json.dumps(data.get("Document")),
                    "create_date": datetime.fromisoformat(data["CreateDate"]),
                    "update_date": datetime.fromisoformat(data["UpdateDate"])})
            for name, data in json.loads(models.aws_managed_policies_data).items()
        ]
    return _arguments


def _init_aws_policies(self: models.IAMBackend) -> list[models.ManagedPolicy]:
    if not models.load_iam_aws_managed_policies():
        return []
    return [models.AWSManagedPolicy(name, account_id=self.account_id, region=self.region_name, **arguments)
            for name, arguments in policy_arguments()]


def parse_managed_policies_once() -> None:
    models.IAMBackend._init_aws_policies = _init_aws_policies
