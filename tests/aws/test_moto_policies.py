"""The test suite's faster way of loading moto's managed IAM policies (moto_policies.py)
gives what moto's own from_data gives: if moto changes how it builds them, this fails."""

from __future__ import annotations

import json

from moto.iam import models

from .moto_policies import policy_arguments


def test_the_cached_policies_are_what_moto_builds() -> None:
    data = json.loads(models.aws_managed_policies_data)
    arguments = dict(policy_arguments())
    assert set(arguments) == set(data)
    for name in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole", "AdministratorAccess"):
        theirs = models.AWSManagedPolicy.from_data(name, "123456789012", "us-east-1", data[name])
        ours = models.AWSManagedPolicy(name, account_id="123456789012", region="us-east-1", **arguments[name])
        assert (ours.arn, ours.path, ours.default_version_id, ours.create_date, ours.update_date) == \
            (theirs.arn, theirs.path, theirs.default_version_id, theirs.create_date, theirs.update_date)
        assert [v.document for v in ours.versions] == [v.document for v in theirs.versions]
