"""What every trigger reconciler shares: the alias being wired, ownership names, the change record.

Ownership: everything the tool creates carries a name that starts with `lambdadeploy-`
(S3 notification Ids, EventBridge rule names, permission statement ids), so a trigger
removed from lambda.yaml can be found and removed, and what others created is left alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..aws import AwsSession, is_not_found, partition_of  # noqa: F401  (re-exported to the reconcilers)
from ..model import FunctionConfig, Trigger

MARK = "lambdadeploy-"
# The fixed-width name part makes the alias after it unambiguous (aliases may contain "-").
SID = re.compile(r"^lambdadeploy-(?P<name>(?:s3|sns|events)-[0-9a-f]{8}|url|urlinvoke)-(?P<alias>[A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class TriggerChange:
    """One change a reconcile made (apply=True) or would make (apply=False)."""

    kind: str  # s3 | sns | sqs | dynamodb | kinesis | schedule | url
    action: str  # create | update | delete
    description: str  # human, e.g. "s3 bucket uploads: notify on s3:ObjectCreated:* (prefix in/)"
    detail: str | None = None  # e.g. the function URL after creation

    def __str__(self) -> str:
        sign = {"create": "+", "update": "~", "delete": "-"}.get(self.action, "?")
        return f"{sign} {self.description}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Target:
    """The alias that triggers invoke: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME:ALIAS`."""

    function: FunctionConfig
    alias: str
    arn: str
    exists: bool  # False only while planning, before the first push created the alias

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def owner_prefix(self) -> str:
        """What starts the name of everything the tool creates for this function and alias."""
        return f"{MARK}{self.function.name}-{self.alias}-"

    def sid(self, name: str) -> str:
        """A permission statement id, e.g. `lambdadeploy-s3-1a2b3c4d-dev`. The alias is part of it so
        statements are told apart even where aliases share a policy (moto keeps one per version); a
        long alias is hashed to fit the 100 characters. `name` is one of the fixed forms of SID."""
        tag = self.alias if len(self.alias) <= 60 else short_hash(self.alias)
        return f"{MARK}{name}-{tag}"

    def owns_sid(self, sid: str) -> bool:
        match = SID.match(sid)
        return bool(match) and sid == self.sid(match.group("name"))  # type: ignore[union-attr]

    def owned_name(self, *identity: Any) -> str:
        """A stable name for one trigger of this alias, e.g. an S3 notification Id."""
        return self.owner_prefix + short_hash(self.function.name, self.alias, *identity)


@dataclass(frozen=True)
class Grant:
    """A statement the alias's resource policy needs so a service may invoke it."""

    sid: str
    kind: str
    principal: str
    description: str
    action: str = "lambda:InvokeFunction"
    source_arn: str | None = None
    source_account: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def params(self, target: Target) -> dict[str, Any]:
        params: dict[str, Any] = {
            "FunctionName": target.arn,
            "StatementId": self.sid,
            "Action": self.action,
            "Principal": self.principal,
            **self.extra,
        }
        if self.source_arn:
            params["SourceArn"] = self.source_arn
        if self.source_account:
            params["SourceAccount"] = self.source_account
        return params


@dataclass
class Context:
    """One reconcile run: where, whether to write, what the alias policy holds, what changed."""

    session: AwsSession
    target: Target
    apply: bool
    statements: dict[str, dict[str, Any]]  # tool-owned statements of the alias policy, by Sid
    changes: list[TriggerChange] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def change(self, kind: str, action: str, description: str, detail: str | None = None) -> None:
        self.changes.append(TriggerChange(kind, action, description, detail))

    def sources(self, principal: str) -> list[str]:
        """Source ARNs of the tool's statements for `principal`: what was wired before."""
        found = []
        for statement in self.statements.values():
            if principal in json.dumps(statement.get("Principal")):
                arn = statement_source_arn(statement)
                if arn:
                    found.append(arn)
        return found


def short_hash(*parts: Any) -> str:
    """Eight hex digits that identify `parts` (stable across runs and machines)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def statement_source_arn(statement: Mapping[str, Any]) -> str | None:
    """The AWS:SourceArn condition of a resource-policy statement, if any."""
    for operator in (statement.get("Condition") or {}).values():
        for key, value in (operator or {}).items():
            if key.lower() == "aws:sourcearn":
                return value if isinstance(value, str) else (value[0] if value else None)
    return None


def applicable(fn: FunctionConfig, alias: str, kinds: tuple[str, ...]) -> list[Trigger]:
    """The triggers of these kinds that apply to `alias` (no `alias:` or this one)."""
    return [t for t in fn.triggers if t.kind in kinds and t.alias in (None, alias)]


def name_of(arn: str) -> str:
    """A readable name from an ARN: the queue, topic, table/stream or bucket name."""
    tail = arn.split(":")[-1]
    if "/stream/" in arn and ":dynamodb:" in arn:
        return arn.split("/")[1]  # table/T/stream/... -> T
    return tail.split("/")[-1]
