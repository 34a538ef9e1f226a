"""The alias's resource policy: the statements that let event sources invoke it.

Each kind says which statements (`Grant`s) its triggers need; this module reads the
tool's statements of the alias (Sid `lambdadeploy-KIND-HASH-ALIAS`), plans what to add
and what nothing needs any more, and applies those steps. Statements of others are
never touched.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ..aws import AwsConflict, AwsNotFound, AwsSession, retry
from ..aws.retry import UPDATE_IN_PROGRESS
from .base import MARK, Grant, PermissionStep, Target


def read_statements(session: AwsSession, target: Target) -> dict[str, dict[str, Any]]:
    """The tool's statements for this alias in its resource policy, by Sid."""
    if not target.exists:
        return {}
    try:
        policy = session.client("lambda").get_policy(FunctionName=target.arn)["Policy"]
    except AwsNotFound:
        return {}
    statements = json.loads(policy).get("Statement") or []
    return {s["Sid"]: s for s in statements if target.owns_sid(str(s.get("Sid", "")))}


def plan_grants(target: Target, grants: list[Grant],
                statements: Mapping[str, Mapping[str, Any]]) -> tuple[list[PermissionStep], list[PermissionStep]]:
    """(statements to add, statements to remove): added before the triggers are wired (S3 checks
    them when a notification is written), removed after."""
    add = [PermissionStep(g.kind, "create", g.sid, g.principal, g.source, g.params(target))
           for g in grants if g.sid not in statements]
    wanted = {g.sid for g in grants}
    remove = []
    for sid, statement in sorted(statements.items()):
        if sid in wanted:
            continue
        principal = statement.get("Principal")
        who = principal.get("Service") or principal.get("AWS") if isinstance(principal, dict) else principal
        remove.append(PermissionStep(_kind_of_sid(sid), "delete", sid, str(who), str(who),
                                     {"FunctionName": target.arn, "StatementId": sid}))
    return add, remove


def _kind_of_sid(sid: str) -> str:
    kind = sid.removeprefix(MARK).split("-", 1)[0]
    return {"events": "schedule", "urlinvoke": "url"}.get(kind, kind)


def apply_permission(session: AwsSession, step: PermissionStep) -> None:
    client = session.client("lambda")
    if step.action == "create":
        try:
            retry(lambda: client.add_permission(**step.params), UPDATE_IN_PROGRESS)
        except AwsConflict as error:
            # AddPermission answers ResourceConflictException both for "already exists" (added
            # meanwhile: done) and for an update in progress, which retry() waited out above.
            if not error.says("already exist"):
                raise
    else:
        with contextlib.suppress(AwsNotFound):
            retry(lambda: client.remove_permission(**step.params), UPDATE_IN_PROGRESS)
