"""Keep secrets out of the exported template: every secret value becomes a NoEcho parameter.

A secret (project.secret_values: anything read from `env`, or written under a name like
*_TOKEN) may sit anywhere a lambda.yaml value lands: an environment variable, a tag, the
description, the role, a trigger's queue or bucket. Wherever it appears inside a
resource's Properties, the template references a NoEcho parameter instead: `{"Ref": P}`
for a value that is exactly the secret, `{"Fn::Sub": "...${P}..."}` for text around it.
Places CloudFormation reads literally (the template's Description, Metadata, Outputs
descriptions) show `****`. A secret used as a name (a map key) cannot be a parameter: the
export refuses, naming the place. The same value used twice is one parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..errors import InvalidInputError
from .cfn import logical_name, unique

MASK = "****"
_INTRINSICS = ("Ref", "Fn::GetAtt", "Fn::Sub")


class _Secrets:
    def __init__(self, values: Iterable[str], taken: set[str]) -> None:
        self.values = sorted({v for v in values if v}, key=len, reverse=True)  # longest first
        self.pattern = re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None
        self.taken = taken
        self.parameters: dict[str, dict[str, Any]] = {}
        self.by_value: dict[str, str] = {}

    def parameter(self, value: str, where: str, kind: str = "String") -> str:
        name = self.by_value.get(value)
        if name is None:
            name = unique(logical_name(where.replace("Environment.Variables.", "Env.")), self.taken)
            self.by_value[value] = name
            self.parameters[name] = {"Type": kind, "NoEcho": True,
                                     "Description": f"a secret, kept out of this file; used in {mask(where, self)}"}
        else:
            description = self.parameters[name]["Description"]
            self.parameters[name]["Description"] = f"{description}, {mask(where, self)}"[:4000]
        return name

    def found(self, text: str) -> bool:
        return self.pattern is not None and self.pattern.search(text) is not None


def mask(text: str, secrets: _Secrets) -> str:
    return secrets.pattern.sub(MASK, text) if secrets.pattern is not None else text


def hide_secrets(template: dict[str, Any], values: Iterable[str]) -> dict[str, Any]:
    """The template with no secret value in clear (see the module docstring); adds Parameters."""
    secrets = _Secrets(values, set(template.get("Resources", {})) | set(template.get("Parameters", {})))
    if not secrets.values:
        return template
    result = _renamed(template, secrets)
    resources = {}
    for logical_id, resource in result.get("Resources", {}).items():
        _check_keys(resource, f"Resources.{logical_id}", secrets)
        resources[logical_id] = {
            key: _parameterize(value, logical_id, secrets) if key == "Properties"
            else _masked(value, secrets)
            for key, value in resource.items()
        }
    result["Resources"] = resources
    for key in ("Description", "Metadata", "Outputs"):
        if key in result:
            result[key] = _masked(result[key], secrets)
    if secrets.parameters:
        result["Parameters"] = {**template.get("Parameters", {}), **secrets.parameters}
    return result


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _renamed(template: dict[str, Any], secrets: _Secrets) -> dict[str, Any]:
    """The template with logical ids and event names that spell a secret (a bucket `acme-x`
    gives `AcmeXBucketNotifications`) renamed, and every reference to them updated."""
    squashed = [q for q in (_squash(v) for v in secrets.values) if len(q) >= 4]

    def reveals(name: str) -> bool:
        return any(q in _squash(name) for q in squashed)

    taken = set(template.get("Resources", {})) | set(template.get("Parameters", {}))
    names = {old: unique("Hidden" + logical_name(resource.get("Type", "").split("::")[-1]), taken)
             for old, resource in template.get("Resources", {}).items() if reveals(old)}
    result = _references(dict(template), names)
    resources = {}
    for old, resource in result.get("Resources", {}).items():
        events = resource.get("Properties", {}).get("Events")
        if isinstance(events, dict) and any(reveals(name) for name in events):
            used: set[str] = set()
            renamed = {unique("Event", used) if reveals(k) else k: v for k, v in events.items()}
            resource = {**resource, "Properties": {**resource["Properties"], "Events": renamed}}
        resources[names.get(old, old)] = resource
    result["Resources"] = resources
    if isinstance(result.get("Outputs"), dict):
        used = set(result["Outputs"])
        result["Outputs"] = {unique("HiddenOutput", used) if reveals(k) else k: v for k, v in result["Outputs"].items()}
    return result


def _references(value: Any, names: dict[str, str]) -> Any:
    """`value` with Ref, Fn::GetAtt, ${...} in Fn::Sub, DependsOn and Metadata's logical ids renamed."""
    if not names:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                head, dot, tail = item.partition(".")
                out[key] = names.get(head, head) + dot + tail
            elif key == "Fn::GetAtt" and isinstance(item, list) and item:
                out[key] = [names.get(item[0], item[0]), *item[1:]]
            elif key == "Fn::Sub" and isinstance(item, str):
                out[key] = re.sub(r"\$\{([^}.!]+)", lambda m: "${" + names.get(m.group(1), m.group(1)), item)
            elif key in ("DependsOn", "logicalId"):
                out[key] = [names.get(i, i) for i in item] if isinstance(item, list) else names.get(item, item)
            else:
                out[key] = _references(item, names)
        return out
    if isinstance(value, list):
        return [_references(item, names) for item in value]
    return value


def _check_keys(value: Any, where: str, secrets: _Secrets) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if secrets.found(str(key)):
                raise InvalidInputError(
                    f"cannot export: a secret value is used as a name at {mask(f'{where}.{key}', secrets)}",
                    hint="CloudFormation cannot take a name from a NoEcho parameter; do not read that name "
                         "from the environment (or a *_TOKEN/*_KEY variable)")
            _check_keys(item, f"{where}.{key}", secrets)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_keys(item, f"{where}.{index}", secrets)


def _parameterize(value: Any, where: str, secrets: _Secrets) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return {"Fn::Sub": _sub(value["Fn::Sub"], where, secrets)}
        if len(value) == 1 and next(iter(value)) in _INTRINSICS:
            return value  # references to the template's own resources and parameters
        return {k: _parameterize(v, f"{where}.{k}", secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_parameterize(v, f"{where}.{i}", secrets) for i, v in enumerate(value)]
    if isinstance(value, str):
        if value in secrets.values:
            return {"Ref": secrets.parameter(value, where)}
        if secrets.found(value):
            return {"Fn::Sub": _sub(value, where, secrets, literal=True)}
    elif isinstance(value, int | float) and not isinstance(value, bool) and str(value) in secrets.values:
        return {"Ref": secrets.parameter(str(value), where, kind="Number")}
    return value


def _sub(text: str, where: str, secrets: _Secrets, *, literal: bool = False) -> str:
    """An Fn::Sub string with each secret replaced by `${PARAMETER}`. A literal text first gets
    its own `${` escaped, and an ARN's `arn:aws:` written as `arn:${AWS::Partition}:` (a stack
    only reaches ARNs of its own partition; cfn-lint asks for it inside Fn::Sub)."""
    assert secrets.pattern is not None
    parts, end = [], 0
    for match in secrets.pattern.finditer(text):
        parts.append(_literal(text[end:match.start()]) if literal else text[end:match.start()])
        parts.append("${" + secrets.parameter(match.group(0), where) + "}")
        end = match.end()
    parts.append(_literal(text[end:]) if literal else text[end:])
    return "".join(parts)


def _literal(text: str) -> str:
    return re.sub(r"\barn:aws:", "arn:${AWS::Partition}:", text.replace("${", "${!"))


def _masked(value: Any, secrets: _Secrets) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secrets) for v in value]
    if isinstance(value, str):
        return mask(value, secrets)
    return value
