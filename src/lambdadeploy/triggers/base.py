"""What every trigger kind is made of, and the names that mark what the tool owns.

A kind (one module each, listed in registry.py) is a `TriggerKind`: a settings record
(checked at `validate` time into a frozen dataclass, with file:line errors), and the
read -> plan -> apply cycle on the alias it feeds:

- `read(ctx, triggers)` asks AWS what is wired now and returns a frozen observation;
- `plan(target, triggers, observed)` is pure: the `TriggerStep`s that make AWS match;
- `apply(session, target, step)` makes one step so.

It also says which resource-policy statements its event source needs (`grants`), what
`status` shows (`wired`), its SAM event, and the IAM actions a CI user and the
execution role need. Ownership: everything the tool creates carries a name starting
`lambdadeploy-` (S3 notification Ids, EventBridge rule names, permission statement ids),
so a trigger removed from lambda.yaml can be found and removed, and what others made is
left alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..aws import AwsSession
from ..diff import FieldChange
from ..fields import Record

MARK = "lambdadeploy-"
# The fixed-width name part makes the alias after it unambiguous (aliases may contain "-").
SID = re.compile(r"^lambdadeploy-(?P<name>(?:[a-z0-9]+)-[0-9a-f]{8}|url|urlinvoke)-(?P<alias>[A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class Trigger:
    """One event source of a function: its kind, its checked settings, the alias it is for."""

    kind: str
    settings: Any  # the kind's settings dataclass
    alias: str | None = None  # None: the alias being pushed
    line: int | None = None


@dataclass(frozen=True)
class Target:
    """The alias that triggers invoke: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME:ALIAS`."""

    function: str  # the deployed function name
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
        return f"{MARK}{self.function}-{self.alias}-"

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
        return self.owner_prefix + short_hash(self.function, self.alias, *identity)


@dataclass(frozen=True)
class Grant:
    """A statement the alias's resource policy needs so a service may invoke it."""

    sid: str
    kind: str
    principal: str
    source: str  # what may invoke, for people: "bucket uploads"
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


@dataclass(frozen=True)
class TriggerStep:
    """One change to what feeds the alias, planned by `kind` and applied by it."""

    kind: str
    action: str  # create | update | delete
    resource: str  # what it acts on, for people: "bucket uploads", "queue jobs"
    summary: str = ""  # what it does: "notify on s3:ObjectCreated:* (prefix in/)"
    changes: tuple[FieldChange, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)  # what apply needs


@dataclass(frozen=True)
class PermissionStep:
    """Add or remove one statement of the alias's resource policy (a service may invoke it)."""

    kind: str  # the trigger kind the statement serves
    action: str  # create | delete
    sid: str
    principal: str
    source: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wired:
    """Something that feeds an alias now, as `status` shows it."""

    kind: str
    alias: str
    resource: str
    description: str
    managed: bool = True  # False: someone else's, on a source the tool wires too
    state: str | None = None
    detail: str | None = None  # e.g. the URL


@dataclass(frozen=True)
class SamEvent:
    """A trigger as an event of an AWS::Serverless::Function."""

    name: str  # words for its logical name, e.g. "Sqs jobs" (becomes SqsJobs)
    type: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class PolicyScope:
    """What IAM statements are built from: where, and the ARNs of the config's functions."""

    partition: str
    region: str
    account: str
    function_resources: tuple[str, ...]  # function:NAME and function:NAME:* of every function


@dataclass(frozen=True)
class PreflightItem:
    """What a kind's pre-flight check sees of one function: its triggers of that kind for the alias
    being deployed, what its read observed, and the steps planned."""

    function: str  # the deployed function name
    key: str  # the function's key in lambda.yaml
    timeout: int  # the function's timeout, in seconds
    target: Target
    triggers: tuple[Trigger, ...]
    observed: Any
    steps: tuple[TriggerStep, ...]


@dataclass(frozen=True)
class TriggerUse:
    """One trigger of one function in the file as rendered for one alias: what a kind's check across
    functions and aliases (`check_uses`) sees."""

    alias: str  # the alias the file was rendered for
    function: str  # the function's key in lambda.yaml
    index: int  # its place in the function's triggers
    trigger: Trigger

    @property
    def field(self) -> str:
        return f"functions.{self.function}.triggers.{self.index}.{self.trigger.kind}"

    @property
    def place(self) -> str:
        """The field with its line, for a message that names two places."""
        return f"{self.field} (line {self.trigger.line})" if self.trigger.line else self.field


@dataclass(frozen=True)
class UseProblem:
    """What `check_uses` found wrong, reported at the use's line and field."""

    use: TriggerUse
    message: str
    hint: str | None = None
    at: str = ""  # a setting inside the trigger, e.g. "routes"


@dataclass(frozen=True)
class Problem:
    """What AWS would refuse (error) or advise against (warning), found before anything is written."""

    function: str | None
    message: str
    hint: str | None = None
    level: str = "error"


class ReadContext:
    """One alias's reads: the session, the alias, its tool-owned permission statements, and a
    memo so kinds that share a listing (event source mappings) read it once."""

    def __init__(self, session: AwsSession, target: Target, statements: Mapping[str, Mapping[str, Any]]) -> None:
        self.session = session
        self.target = target
        self.statements = statements
        self._memo: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def sources(self, principal: str) -> list[str]:
        """Source ARNs of the tool's statements for `principal`: what was wired before."""
        found = []
        for statement in self.statements.values():
            if principal in json.dumps(statement.get("Principal")):
                arn = statement_source_arn(statement)
                if arn:
                    found.append(arn)
        return found


class TriggerKind(ABC):
    """One kind of event source. Subclasses set `name` and `settings`, and implement the cycle."""

    name: ClassVar[str]
    settings: ClassVar[Record]
    summary: ClassVar[str] = ""  # one line for README-style help: what the tool manages
    per_alias: ClassVar[bool] = False  # True: each alias has its own (function URLs), no sharing possible

    def check(self, settings: Any, report: Callable[[str, str, str | None], None]) -> None:  # noqa: B027
        """Rules across fields (after each field's own rule passed); report(field, message, hint).
        Optional: most kinds have none."""

    @abstractmethod
    def source(self, settings: Any) -> str:
        """The event source this trigger reads from, in words that identify it (an ARN, a bucket)."""

    def grants(self, target: Target, triggers: list[Trigger]) -> list[Grant]:
        """Resource-policy statements the alias needs so the source may invoke it."""
        return []

    @abstractmethod
    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> Any:
        """What is wired to ctx.target now (sources wired before included), as a frozen value."""

    @abstractmethod
    def plan(self, target: Target, triggers: list[Trigger], observed: Any) -> list[TriggerStep]:
        """Pure: the steps that make what is wired equal `triggers`."""

    @abstractmethod
    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        """Make one step so; returns a detail worth showing (e.g. a URL), or None."""

    @abstractmethod
    def wired(self, target: Target, observed: Any) -> list[Wired]:
        """What status shows, from an observation."""

    def check_uses(self, uses: list[TriggerUse]) -> list[UseProblem]:
        """Rules across functions and aliases, at `validate` (e.g. one route of a shared API claimed
        by two functions): `uses` are this kind's triggers in every rendering of the file, the
        targeted alias first. Optional."""
        return []

    def owns_statement(self, sid: str) -> bool:
        """True for the resource-policy statements this kind plans and applies itself (in its own
        steps) instead of through `grants`, e.g. because a statement names a resource that exists
        only once an earlier step of the kind has created it."""
        return False

    def preflight(self, items: list[PreflightItem], region: str) -> list[Problem]:
        """Problems AWS would refuse a write for, over every function of the push (so two functions
        sharing a source are checked together); `region` is where the functions live."""
        return []

    def sam_event(self, trigger: Trigger, function: str, alias: str) -> SamEvent | None:
        """The trigger as a SAM event; None when the export wires it otherwise."""
        return None

    def sam_events(self, trigger: Trigger, function: str, alias: str) -> list[SamEvent]:
        """Every SAM event of the trigger (one per route for an HTTP API); by default `sam_event`."""
        event = self.sam_event(trigger, function, alias)
        return [event] if event is not None else []

    def sam_function_properties(self, trigger: Trigger) -> dict[str, Any]:
        """Properties of AWS::Serverless::Function this trigger sets (e.g. FunctionUrlConfig)."""
        return {}

    def ci_statements(self, triggers: list[Trigger], scope: PolicyScope) -> list[dict[str, Any]]:
        """IAM statements a CI user needs to wire these triggers (beside AddPermission)."""
        return []

    def invoke_principal(self) -> str | None:
        """The service principal that invokes the alias through a resource policy, if any."""
        return None

    def execution_role_actions(self, triggers: list[Trigger]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(actions, resources) the function's execution role needs to read the source."""
        return []


def short_hash(*parts: Any) -> str:
    """Eight hex digits that identify `parts` (stable across runs and machines)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def statement_source_arn(statement: Mapping[str, Any]) -> str | None:
    """The AWS:SourceArn condition of a resource-policy statement, if any."""
    for operator in (statement.get("Condition") or {}).values():
        for key, value in (operator or {}).items():
            if key.lower() == "aws:sourcearn":
                return value if isinstance(value, str) else (value[0] if value else None)
    return None


def region_of(arn: str) -> str:
    """The region field of an ARN (a queue's, a topic's, a certificate's, ...)."""
    return arn.split(":")[3]


def name_of(arn: str) -> str:
    """A readable name from an ARN: the queue, topic, table/stream or bucket name."""
    tail = arn.split(":")[-1]
    if "/stream/" in arn and ":dynamodb:" in arn:
        return arn.split("/")[1]  # table/T/stream/... -> T
    return tail.split("/")[-1]


def applicable(triggers: tuple[Trigger, ...] | list[Trigger], alias: str, kind: str | None = None) -> list[Trigger]:
    """The triggers (of `kind`, or all) that apply to `alias`: no `alias:`, or this one."""
    return [t for t in triggers if (kind is None or t.kind == kind) and t.alias in (None, alias)]
