"""A function's RevisionId, kept as AWS keeps it: moto reports none and checks none.

On AWS every change to a function gives `$LATEST` a new RevisionId, and a write that names
a RevisionId (UpdateFunctionConfiguration, UpdateFunctionCode, PublishVersion) is refused
with 412 PreconditionFailedException unless it names the current one. That precondition is
how a deploy tool notices someone else deploying at the same time; against moto it was
never exercised, because no RevisionId was ever read to be sent back.

The sandbox also gives tagging a new revision. AWS does not document whether TagResource
does; a tool that depends on it not doing so breaks when it does, so the sandbox takes the
stricter side. Only `$LATEST` is tracked: a version's RevisionId never changes.

Aliases have RevisionIds of their own, and there moto reports one but keeps it for life and
ignores the one an UpdateAlias names. AWS gives the alias a new one on every update and
refuses a stale one with 412, which is how a push learns that someone else moved the alias
since the plan read it (engine/execute.py moves the alias on that RevisionId rather than
reading the alias again on the 15-per-second budget). Since the alias's revision lives in
moto's own object, ``install_alias_revisions`` patches moto (once, from
seam.install_invoke_seam), so the rule holds in-process as well as in the sandbox server.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ..awsrules import Violation
from .operations import Call

GUARDED = frozenset({"UpdateFunctionConfiguration", "UpdateFunctionCode", "PublishVersion"})
CHANGES = frozenset({"CreateFunction", "UpdateFunctionConfiguration", "UpdateFunctionCode", "TagResource",
                     "UntagResource"})
READS = frozenset({"GetFunction", "GetFunctionConfiguration"})
ANSWERS = CHANGES | READS | {"DeleteFunction"}  # calls whose answer the revisions follow
PRECONDITION_FAILED = ("The Revision Id provided does not match the latest Revision Id. "
                       "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def function_key(call: Call) -> tuple[str, str] | None:
    """(region, function name) the call is about, from a name, a full or partial ARN; None
    for a qualified call (a version or alias) or another resource."""
    if call.name in ("TagResource", "UntagResource"):
        reference = str(call.params.get("Resource") or "")
        if ":function:" not in reference:
            return None
    else:
        reference = str(call.params.get("FunctionName") or "")
        if call.params.get("Qualifier") not in (None, "$LATEST"):
            return None
    parts = reference.split(":")
    if len(parts) >= 7 and parts[0] == "arn":  # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        region, name, qualifier = parts[3], parts[6], parts[7] if len(parts) > 7 else None
    elif len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        region, name, qualifier = call.region, parts[2], parts[3] if len(parts) > 3 else None
    else:
        region, name, qualifier = call.region, parts[0], parts[1] if len(parts) > 1 else None
    if qualifier not in (None, "$LATEST") or not name:
        return None
    return region, name


class Revisions:
    """The current RevisionId of each function's `$LATEST` in this sandbox."""

    def __init__(self) -> None:
        self._current: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def refusal(self, call: Call) -> Violation | None:
        """412 for a guarded write naming a revision that is not the current one."""
        if call.service != "lambda" or call.name not in GUARDED or "RevisionId" not in call.params:
            return None
        key = function_key(call)
        with self._lock:
            current = self._current.get(key) if key else None
        if current is not None and call.params["RevisionId"] != current:
            return Violation("PreconditionFailedException", PRECONDITION_FAILED, 412)
        return None

    def answer(self, call: Call, status: int, body: bytes) -> bytes | None:
        """moto's answer with the function's RevisionId as AWS would report it, or None to keep it."""
        if call.service != "lambda" or call.name not in ANSWERS:
            return None
        key = function_key(call)
        if key is None:
            return None
        if status >= 300:
            return None
        with self._lock:
            if call.name == "DeleteFunction":  # a new function of that name starts afresh
                self._current.pop(key, None)
                return None
            if call.name in CHANGES or key not in self._current:
                self._current[key] = str(uuid.uuid4())
            current = self._current[key]
        if call.name in ("TagResource", "UntagResource"):
            return None  # their answer is empty
        try:
            document: Any = json.loads(body)
        except ValueError:
            return None
        configuration = document.get("Configuration") if call.name == "GetFunction" else document
        if not isinstance(configuration, dict):
            return None
        configuration["RevisionId"] = current
        return json.dumps(document).encode()


ALIAS_ORIGINALS: dict[str, Callable[..., Any]] = {}  # what install_alias_revisions replaced


def install_alias_revisions() -> None:
    """moto's aliases: a new RevisionId on every update, a stale one in UpdateAlias refused with 412."""
    from moto.awslambda.exceptions import PreconditionFailedException
    from moto.awslambda.models import LambdaAlias
    from moto.awslambda.responses import LambdaResponse

    if ALIAS_ORIGINALS:
        return
    ALIAS_ORIGINALS["LambdaAlias.update"] = original_update = LambdaAlias.update
    ALIAS_ORIGINALS["LambdaResponse.update_alias"] = original_response = LambdaResponse.update_alias

    def update(self: Any, *args: Any, **kwargs: Any) -> None:
        original_update(self, *args, **kwargs)
        self.revision_id = str(uuid.uuid4())

    def update_alias(self: Any) -> Any:
        wanted = (json.loads(self.body or "{}") or {}).get("RevisionId")
        if wanted:
            function_name = unquote(self.path.rsplit("/")[-3])
            alias_name = unquote(self.path.rsplit("/", 2)[-1])
            if self.backend.get_alias(alias_name, function_name).revision_id != wanted:
                raise PreconditionFailedException(PRECONDITION_FAILED)
        return original_response(self)

    LambdaAlias.update = update
    LambdaResponse.update_alias = update_alias
