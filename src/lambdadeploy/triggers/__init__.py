"""Wire a function's triggers to an alias: one small reconciler per kind.

`reconcile_triggers` reads what exists, changes only what differs and returns what it
changed (or, with apply=False, what it would change). Everything targets the alias
ARN. What the tool owns, and so may change or remove:

- S3: Lambda notification configurations whose Id starts `lambdadeploy-FUNCTION-ALIAS-`
  and that point at the alias (the bucket's other notifications are kept);
- SNS: subscriptions of the alias on configured topics and on topics it wired before;
- SQS/DynamoDB/Kinesis: every event source mapping on the alias ARN;
- schedules: EventBridge rules `lambdadeploy-FUNCTION-ALIAS-HASH` targeting the alias;
- URL: the function URL of the alias;
- permissions: statements of the alias's resource policy with Sid `lambdadeploy-KIND-HASH-ALIAS`
  (S3 and SNS sources wired before are found through them, so a removed bucket or topic
  is cleaned up without account-wide listings).

Not safe against two processes wiring the same bucket at the same moment (S3 offers no
conditional write of a notification configuration); within one process, writes to a
bucket are serialised.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..aws import AwsSession
from ..errors import AwsError
from ..model import FunctionConfig
from . import s3, schedule, sns, streams, url
from .common import (
    MARK,
    Context,
    Grant,
    Target,
    TriggerChange,
    applicable,
    error_code,
    is_not_found,
    partition_of,
)

__all__ = ["TriggerChange", "describe_triggers", "reconcile_triggers"]

# kind(s) -> reconciler module, in the order they run.
RECONCILERS = (
    (("s3",), s3),
    (("sns",), sns),
    (streams.KINDS, streams),
    (("schedule",), schedule),
    (("url",), url),
)


def reconcile_triggers(session: AwsSession, fn: FunctionConfig, alias: str, *, apply: bool) -> list[TriggerChange]:
    """Make the triggers that apply to `alias` exactly what lambda.yaml says; [] when already so.

    With apply=False nothing is written (for `plan`). Order: permissions the triggers need
    first (S3 validates them), then each kind, then permissions nothing needs any more.
    """
    target = resolve_target(session, fn, alias, must_exist=apply)
    ctx = Context(session, target, apply, read_statements(session, target))
    grants = [g for kinds, module in RECONCILERS for g in module.grants(target, applicable(fn, alias, kinds))]
    _add_grants(ctx, grants)
    for kinds, module in RECONCILERS:
        module.reconcile(ctx, applicable(fn, alias, kinds))
    _remove_stale_grants(ctx, {g.sid for g in grants})
    return ctx.changes


def describe_triggers(session: AwsSession, fn: FunctionConfig) -> list[dict[str, Any]]:
    """What is wired to each alias of the function (for `status`): kind, target, alias, description."""
    try:
        pages = list(session.client("lambda").get_paginator("list_aliases").paginate(FunctionName=fn.name))
    except ClientError as error:
        if is_not_found(error):
            return []
        raise
    found: list[dict[str, Any]] = []
    for alias in sorted((a for page in pages for a in page["Aliases"]), key=lambda a: a["Name"]):
        target = Target(fn, alias["Name"], alias["AliasArn"], exists=True)
        ctx = Context(session, target, False, read_statements(session, target))
        for kinds, module in RECONCILERS:
            found += module.wired(ctx, [t for t in fn.triggers if t.kind in kinds])
    return found


def resolve_target(session: AwsSession, fn: FunctionConfig, alias: str, *, must_exist: bool) -> Target:
    """The alias ARN as AWS spells it (partition, account); computed when planning a first push."""
    client = session.client("lambda")
    try:
        return Target(fn, alias, client.get_alias(FunctionName=fn.name, Name=alias)["AliasArn"], exists=True)
    except ClientError as error:
        if not is_not_found(error):
            raise
    if must_exist:
        raise AwsError(f"{fn.name}: alias {alias} does not exist, so its triggers cannot be wired",
                       hint=f"push --alias {alias} first")
    try:
        base = client.get_function(FunctionName=fn.name)["Configuration"]["FunctionArn"]
    except ClientError as error:
        if not is_not_found(error):
            raise
        region = session.region
        base = f"arn:{partition_of(region)}:lambda:{region}:{session.account_id()}:function:{fn.name}"
    return Target(fn, alias, f"{base}:{alias}", exists=False)


def read_statements(session: AwsSession, target: Target) -> dict[str, dict[str, Any]]:
    """The tool's statements for this alias (Sid `lambdadeploy-KIND-HASH-ALIAS`) in its resource policy."""
    if not target.exists:
        return {}
    try:
        policy = session.client("lambda").get_policy(FunctionName=target.arn)["Policy"]
    except ClientError as error:
        if is_not_found(error):
            return {}
        raise
    statements = json.loads(policy).get("Statement") or []
    return {s["Sid"]: s for s in statements if target.owns_sid(str(s.get("Sid", "")))}


def _add_grants(ctx: Context, grants: list[Grant]) -> None:
    client = ctx.client("lambda")
    for grant in grants:
        if grant.sid in ctx.statements:
            continue
        ctx.change(grant.kind, "create", grant.description)
        if ctx.apply:
            try:
                client.add_permission(**grant.params(ctx.target))
            except ClientError as error:
                if error_code(error) != "ResourceConflictException":  # added meanwhile: fine
                    raise


def _remove_stale_grants(ctx: Context, keep: set[str]) -> None:
    client = ctx.client("lambda")
    for sid, statement in sorted(ctx.statements.items()):
        if sid in keep:
            continue
        kind = sid.removeprefix(MARK).split("-", 1)[0].replace("urlinvoke", "url")
        kind = {"events": "schedule"}.get(kind, kind)
        principal = statement.get("Principal")
        who = principal.get("Service") or principal.get("AWS") if isinstance(principal, dict) else principal
        ctx.change(kind, "delete", f"{kind} permission: {who} may no longer invoke {ctx.target.alias} ({sid})")
        if ctx.apply:
            try:
                client.remove_permission(FunctionName=ctx.target.arn, StatementId=sid)
            except ClientError as error:
                if not is_not_found(error):
                    raise
