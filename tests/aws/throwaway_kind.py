"""A trigger kind written only to prove the seam: one module, registered with one line.

`- param: {name: /hooks/x}` keeps an SSM parameter holding the alias ARN (so a reader can
find what to call). Everything a kind needs is here: settings, read, plan, apply, status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from lambdadeploy.aws import AwsNotFound, AwsSession
from lambdadeploy.diff import FieldChange
from lambdadeploy.fields import Field, Integer, Record, Text
from lambdadeploy.triggers.base import ReadContext, Target, Trigger, TriggerKind, TriggerStep, Wired

NAME = re.compile(r"^/[A-Za-z0-9/_.-]+$")


@dataclass(frozen=True)
class ParamSettings:
    name: str
    ttl: int | None = None


class ParamKind(TriggerKind):
    name: ClassVar[str] = "param"
    settings: ClassVar[Record] = Record((
        Field("name", Text(NAME, "/path/name", what="parameter name"), required=True),
        Field("ttl", Integer(1, 3600, "seconds")),
    ), ParamSettings)

    def source(self, settings: ParamSettings) -> str:
        return f"parameter {settings.name}"

    def read(self, ctx: ReadContext, triggers: list[Trigger]) -> dict[str, str | None]:
        observed: dict[str, str | None] = {}
        for trigger in triggers:
            try:
                value = ctx.client("ssm").get_parameter(Name=trigger.settings.name)["Parameter"]["Value"]
            except AwsNotFound:
                value = None
            observed[trigger.settings.name] = value
        return observed

    def plan(self, target: Target, triggers: list[Trigger], observed: dict[str, str | None]) -> list[TriggerStep]:
        steps = []
        for trigger in triggers:
            name, have = trigger.settings.name, observed.get(trigger.settings.name)
            if have != target.arn:
                steps.append(TriggerStep("param", "create" if have is None else "update", f"parameter {name}",
                                         "holds the alias ARN", (FieldChange("Value", have, target.arn),),
                                         {"Name": name}))
        return steps

    def apply(self, session: AwsSession, target: Target, step: TriggerStep) -> str | None:
        session.client("ssm").put_parameter(Name=step.params["Name"], Value=target.arn, Type="String", Overwrite=True)
        return None

    def wired(self, target: Target, observed: Any) -> list[Wired]:
        return [Wired("param", target.alias, f"parameter {name}", "holds the alias ARN")
                for name, value in observed.items() if value == target.arn]
