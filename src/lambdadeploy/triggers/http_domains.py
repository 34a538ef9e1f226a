"""Custom domains of HTTP APIs: `domains: {prod: {name: api.example.com, certificate: ARN, path: v1}}`
on an `http` trigger maps the alias's stage to https://api.example.com/v1.

A domain belongs to the API and maps to a stage, as in SAM; our stages are per alias, so the
setting is a mapping from alias to domain (an alias not listed gets none). Every function that
routes on the API must say the same for an alias (omitted means: no domain), so any push of any
of them converges on one answer and `validate` catches a disagreement with both lines.

AWS's rules kept here: HTTP APIs map only to REGIONAL domain names, whose certificate is an ACM
certificate in the API's own region (checked at pre-flight, where the region is known); the
tool creates domains with TLS_1_2, which multi-level paths (`v1/orders`) need; a path's segments
use letters, digits and $-_.+!*'(); one path of one domain maps to one stage.

Ownership: a domain name the tool creates carries the tag managed-by=lambdadeploy and is deleted
when its last mapping goes. A domain that exists already is used as it is (mapped onto, never
changed or deleted). The tool's mapping is the domain's mapping to the alias's stage; which
domain that is, the stage itself remembers in the stage variable `lambdadeployDomain` (`none`
once unmapped), so removing `domains` from lambda.yaml removes the mapping at the next push
without listing every domain of the account.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..aws import AwsNotFound
from ..fields import INVALID, Reporter, Rule, type_name
from .base import Problem, TriggerUse, UseProblem, region_of

DOMAIN_VARIABLE = "lambdadeployDomain"  # on each stage: the domain the tool mapped it to, or NO_DOMAIN
NO_DOMAIN = "none"
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CERTIFICATE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):acm:([a-z]{2}(-[a-z]+)+-\d+):(\d{12}):"
                          r"certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9$\-_.+!*'()]+$")
DOMAIN_KEYS = ("name", "certificate", "path")


@dataclass(frozen=True)
class Domain:
    """One alias's custom domain: https://NAME/PATH serves the alias's stage."""

    name: str
    certificate: str
    path: str = ""  # the API mapping key; "" maps the domain's root

    @property
    def url(self) -> str:
        return f"https://{self.name}/{self.path}".rstrip("/")

    def as_config(self) -> dict[str, Any]:
        return {"name": self.name, "certificate": self.certificate, **({"path": self.path} if self.path else {})}


@dataclass(frozen=True)
class Domains:
    """The `domains` setting: alias -> Domain."""

    by_alias: tuple[tuple[str, Domain], ...] = ()

    def get(self, alias: str) -> Domain | None:
        return dict(self.by_alias).get(alias)

    def as_config(self) -> dict[str, Any]:
        return {alias: domain.as_config() for alias, domain in self.by_alias}


def domain_problem(name: str) -> str | None:
    """Why `name` is not a domain name API Gateway takes for a regional custom domain, or None."""
    if len(name) > 253:
        return f"it is {len(name)} characters long; a DNS name has at most 253"
    if name.startswith("*."):
        return "wildcard domain names are not managed by lambdadeploy; name the host"
    labels = name.split(".")
    if len(labels) < 2:
        return "it needs at least two labels, e.g. api.example.com"
    bad = next((label for label in labels if not _LABEL.match(label)), None)
    if bad is not None:
        return (f"label {bad!r} is not 1-63 lower-case letters, digits or '-' (not first or last)"
                if bad else "it has an empty label (two dots, or a dot at an end)")
    if labels[-1].isdigit():
        return "the last label is all digits (an IP address is not a domain name)"
    return None


def path_problem(path: str) -> str | None:
    """Why `path` is not an API mapping key, or None ("" is the domain's root)."""
    if path.startswith("/") or path.endswith("/"):
        return "write it without a leading or trailing /, e.g. v1 or orders/v1"
    bad = next((s for s in path.split("/") if not _PATH_SEGMENT.match(s)), None) if path else None
    if bad is not None:
        return f"segment {bad!r} may hold only letters, digits and $-_.+!*'() (and not be empty)"
    return None


class DomainsRule(Rule):
    """`{ALIAS: {name: api.example.com, certificate: arn:aws:acm:...:certificate/ID, path: v1}}`."""

    def check(self, value: Any, report: Reporter) -> Any:
        example = "e.g. domains: {prod: {name: api.example.com, certificate: arn:aws:acm:REGION:ACCOUNT:certificate/ID}}"
        if not isinstance(value, dict):
            report(f"must be a mapping from alias to domain, got {type_name(value)}", example)
            return INVALID
        found, ok = [], True
        for alias, raw in value.items():
            domain = self._one(raw, report.at(str(alias)), example)
            if domain is INVALID:
                ok = False
            else:
                found.append((str(alias), domain))
        seen: dict[tuple[str, str], str] = {}
        for alias, domain in found:
            other = seen.setdefault((domain.name, domain.path), alias)
            if other != alias:
                report.at(alias)(f"{domain.url} is also alias {other}'s: one path of a domain maps to one stage",
                                 "give each alias its own name or path")
                ok = False
        return Domains(tuple(sorted(found))) if ok else INVALID

    @staticmethod
    def _one(raw: Any, report: Reporter, example: str) -> Any:
        if not isinstance(raw, dict):
            report(f"must be a mapping with name and certificate, got {type_name(raw)}", example)
            return INVALID
        unknown = [str(k) for k in raw if k not in DOMAIN_KEYS]
        if unknown:
            report.at(unknown[0])("unknown setting", "allowed: " + ", ".join(DOMAIN_KEYS))
            return INVALID
        name, certificate, path = raw.get("name"), raw.get("certificate"), raw.get("path") or ""
        ok = True
        if not isinstance(name, str) or domain_problem(name.lower()):
            why = domain_problem(name.lower()) if isinstance(name, str) else f"got {type_name(name)}"
            report.at("name")(f"invalid domain name: {why}", "a host name such as api.example.com")
            ok = False
        if not isinstance(certificate, str) or not _CERTIFICATE.match(certificate):
            report.at("certificate")("must be an ACM certificate ARN",
                                     "arn:aws:acm:REGION:ACCOUNT:certificate/UUID, in the API's region")
            ok = False
        if not isinstance(path, str) or path_problem(path):
            why = path_problem(path) if isinstance(path, str) else f"got {type_name(path)}"
            report.at("path")(f"invalid path: {why}", "e.g. v1, or leave it out to map the domain's root")
            ok = False
        return Domain(name.lower(), certificate, path) if ok else INVALID  # type: ignore[union-attr]

    @property
    def schema(self) -> dict[str, Any]:
        one = {"type": "object", "additionalProperties": False, "required": ["name", "certificate"],
               "properties": {"name": {"type": "string", "maxLength": 253},
                              "certificate": {"type": "string", "pattern": _CERTIFICATE.pattern},
                              "path": {"type": "string"}}}
        return {"type": "object", "additionalProperties": one}


# --- what AWS has ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingState:
    mapping_id: str
    api_id: str
    stage: str
    key: str


@dataclass(frozen=True)
class DomainState:
    """One domain name as GetDomainName and GetApiMappings answer (exists False: no such domain)."""

    name: str
    exists: bool = False
    made_by_tool: bool = False
    certificate: str | None = None
    endpoint_type: str | None = None
    mappings: tuple[MappingState, ...] = ()

    def mapping_of(self, api_id: str | None, stage: str) -> MappingState | None:
        return next((m for m in self.mappings if m.api_id == api_id and m.stage == stage), None)

    def holder_of(self, key: str) -> MappingState | None:
        return next((m for m in self.mappings if m.key == key), None)


def remembered_domain(stage: Mapping[str, Any] | None) -> str | None:
    """The domain the tool mapped a stage to, from the stage's variable."""
    value = ((stage or {}).get("StageVariables") or {}).get(DOMAIN_VARIABLE)
    return value if value and value != NO_DOMAIN else None


def api_mappings(client: Any, name: str) -> list[dict[str, Any]]:
    """Every API mapping of a domain (GetApiMappings pages by NextToken but botocore has no paginator for it)."""
    found: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = client.get_api_mappings(DomainName=name, **token)
        found += page.get("Items") or []
        if not page.get("NextToken"):
            return found
        token = {"NextToken": page["NextToken"]}


def read_domain(client: Any, name: str, owner_tags: Mapping[str, str]) -> DomainState:
    try:
        found = client.get_domain_name(DomainName=name)
    except AwsNotFound:
        return DomainState(name)
    config = (found.get("DomainNameConfigurations") or [{}])[0]
    mappings = tuple(MappingState(m["ApiMappingId"], m["ApiId"], m["Stage"], m.get("ApiMappingKey") or "")
                     for m in api_mappings(client, name))
    tags = found.get("Tags") or {}
    return DomainState(name, True, all(tags.get(k) == v for k, v in owner_tags.items()), config.get("CertificateArn"),
                       config.get("EndpointType"), mappings)


# --- writes, under a lock per domain name (two APIs may share one domain) -------------------

_LOCKS: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def domain_lock(region: str, name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS[(region, name)]


def ensure_domain(client: Any, name: str, certificate: str, owner_tags: Mapping[str, str]) -> None:
    try:
        client.get_domain_name(DomainName=name)
    except AwsNotFound:
        client.create_domain_name(DomainName=name, Tags=dict(owner_tags), DomainNameConfigurations=[
            {"CertificateArn": certificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])


def map_stage(client: Any, domain: Domain, api_id: str, stage: str) -> None:
    """Make the domain's mapping to the stage the one at domain.path (re-read here; idempotent)."""
    mappings = api_mappings(client, domain.name)
    ours = [m for m in mappings if m.get("ApiId") == api_id and m.get("Stage") == stage]
    for mapping in ours:
        if (mapping.get("ApiMappingKey") or "") != domain.path:
            client.delete_api_mapping(DomainName=domain.name, ApiMappingId=mapping["ApiMappingId"])
    if not any((m.get("ApiMappingKey") or "") == domain.path for m in ours):
        extra = {"ApiMappingKey": domain.path} if domain.path else {}
        client.create_api_mapping(DomainName=domain.name, ApiId=api_id, Stage=stage, **extra)


def unmap_stage(client: Any, name: str, api_id: str, stage: str, owner_tags: Mapping[str, str]) -> None:
    """Delete the domain's mappings to the stage; then the domain, if the tool made it and none is left."""
    try:
        found = client.get_domain_name(DomainName=name)
    except AwsNotFound:
        return
    mappings = api_mappings(client, name)
    for mapping in mappings:
        if mapping.get("ApiId") == api_id and mapping.get("Stage") == stage:
            client.delete_api_mapping(DomainName=name, ApiMappingId=mapping["ApiMappingId"])
    left = [m for m in mappings if not (m.get("ApiId") == api_id and m.get("Stage") == stage)]
    tags = found.get("Tags") or {}
    if not left and all(tags.get(k) == v for k, v in owner_tags.items()):
        client.delete_domain_name(DomainName=name)


def remember(client: Any, api_id: str, stage: Mapping[str, Any], value: str) -> None:
    """Set the stage's DOMAIN_VARIABLE (the whole map is sent, so merge or replace both keep the rest)."""
    variables = dict(stage.get("StageVariables") or {})
    if variables.get(DOMAIN_VARIABLE, NO_DOMAIN) != value:
        client.update_stage(ApiId=api_id, StageName=stage["StageName"], StageVariables={**variables, DOMAIN_VARIABLE: value})


# --- rules across functions and aliases ----------------------------------------------------------


def _said(domain: Domain | None) -> str:
    return domain.url if domain else "no domain"


def check_domains(uses: list[TriggerUse]) -> list[UseProblem]:
    """Every function routing on an API says the same domain for an alias (omitted: none); one path of a
    domain serves one API and alias; a domain has one certificate; `domains` names aliases the trigger serves."""
    problems: list[UseProblem] = []
    served: dict[tuple[str, int], set[str]] = defaultdict(set)
    for use in uses:
        served[(use.function, use.index)].add(use.alias)
    reported: set[tuple[str, int]] = set()
    first: dict[tuple[str, str], TriggerUse] = {}
    paths: dict[tuple[str, str], tuple[TriggerUse, str]] = {}
    certificates: dict[str, TriggerUse] = {}
    for use in uses:
        settings, place = use.trigger.settings, (use.function, use.index)
        domains: Domains = settings.domains
        stray = sorted(alias for alias, _ in domains.by_alias if alias not in served[place])
        if stray and place not in reported:
            reported.add(place)
            problems.append(UseProblem(use, f"domains names alias {stray[0]}, which this trigger does not serve "
                                       f"(it serves {', '.join(sorted(served[place]))})",
                                       "list only the aliases the trigger serves", "domains"))
            continue
        mine = domains.get(use.alias)
        other = first.setdefault((use.alias, settings.api), use)
        theirs = other.trigger.settings.domains.get(use.alias)
        if other is not use and theirs != mine and place not in reported:
            reported.add(place)
            problems.append(UseProblem(use, f"for alias {use.alias}, api {settings.api} gets {_said(mine)} here but "
                                       f"{_said(theirs)} at {other.place}: an API's domain is one setting, so every "
                                       "function routing on it must say the same", "repeat the same domains on each "
                                       "http trigger of the API (a YAML anchor helps: domains: *shop_domains)",
                                       "domains"))
            continue
        if mine is None:
            continue
        holder = paths.setdefault((mine.name, mine.path), (use, use.alias))
        if holder[0].trigger.settings.api != settings.api and place not in reported:
            reported.add(place)
            problems.append(UseProblem(use, f"{mine.url} is also api {holder[0].trigger.settings.api}'s at "
                                       f"{holder[0].place}: one path of a domain maps to one stage",
                                       "give each API its own domain or path", "domains"))
            continue
        owner = certificates.setdefault(mine.name, use)
        if owner.trigger.settings.domains.get(owner.alias).certificate != mine.certificate and place not in reported:
            reported.add(place)
            problems.append(UseProblem(use, f"domain {mine.name} has another certificate at {owner.place}: a domain "
                                       "name has one certificate", "use the same certificate ARN", "domains"))
    return problems


def preflight_domains(function: str, alias: str, region: str, wanted: Mapping[str, Domain | None],
                      api_ids: Mapping[str, str | None], domains: Mapping[str, DomainState]) -> list[Problem]:
    """What AWS would refuse before any write: a certificate in another region (a regional domain
    takes only its own region's), an existing domain that is not REGIONAL (HTTP APIs map to no
    other), a path another stage holds (ConflictException); and, as a warning, an existing domain
    whose certificate is not the one lambda.yaml names (the tool does not change a domain)."""
    problems = []
    for api, domain in sorted(wanted.items()):
        if domain is None:
            continue
        if region_of(domain.certificate) != region:
            problems.append(Problem(function, f"the certificate of domain {domain.name} (api {api}, alias {alias}) is "
                                    f"in {region_of(domain.certificate)}, but the API is in {region}: a "
                                    "regional custom domain takes an ACM certificate of its own region",
                                    f"request or import the certificate in {region} and name that ARN"))
            continue
        have = domains.get(domain.name)
        if have is None or not have.exists:
            continue
        if have.endpoint_type not in (None, "REGIONAL"):
            problems.append(Problem(function, f"domain {domain.name} exists as a {have.endpoint_type} domain name; "
                                    "HTTP APIs map only to REGIONAL ones", "use another domain name"))
            continue
        holder = have.holder_of(domain.path)
        if holder is not None and (holder.api_id, holder.stage) != (api_ids.get(api), alias):
            problems.append(Problem(function, f"{domain.url} already maps to stage {holder.stage} of API "
                                    f"{holder.api_id}; API Gateway refuses a second mapping of one path: "
                                    "ConflictException", "remove that mapping, or choose another path"))
        if have.certificate and have.certificate != domain.certificate:
            problems.append(Problem(function, f"domain {domain.name} uses certificate {have.certificate}, not "
                                    f"{domain.certificate}: lambdadeploy maps onto it but does not change it",
                                    "change the domain's certificate in API Gateway, or name the one it has",
                                    "warning"))
    return problems
