"""Small CloudFormation helpers: logical ids and ARNs in the stack's partition."""

from __future__ import annotations

import re


def logical_name(text: str) -> str:
    """`image-resize_v2` -> `ImageResizeV2`: CloudFormation logical ids are alphanumeric."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "X"
    return name if name[0].isalpha() else "N" + name


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name2`, `name3`... whichever is not taken yet; records the choice in `taken`."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


def partition_arn(arn: str) -> dict[str, str]:
    """An `arn:aws:...` ARN (e.g. an AWS managed policy) in the stack's partition."""
    return {"Fn::Sub": arn.replace("arn:aws:", "arn:${AWS::Partition}:", 1)}


def bucket_arn(bucket: str) -> dict[str, str]:
    return {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + bucket}


def role_arn(name: str) -> dict[str, str]:
    """A role of the stack's account by name (or path/name)."""
    return {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + name}
