"""Commands that look at deployed functions: invoke, status, logs, prune."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config.model import FunctionConfig
from ..errors import EXIT_FAILED, InvalidInputError
from ..output import human_size
from .app import App, check_alias, functions_argument
from .durations import parse_duration
from .lineage import move_document, move_text, source_document, source_text

if TYPE_CHECKING:
    from ..engine.remote import AliasState, RemoteFunction


def _read_payload(payload: str | None, fn: FunctionConfig) -> Any:
    if payload is None:
        return fn.test.payload if fn.test else {}
    source = "standard input" if payload == "-" else payload
    try:
        text = sys.stdin.read() if payload == "-" else Path(payload).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"cannot read payload {source}: {error.strerror}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"payload from {source} is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


def _http_event(app: App, fn: FunctionConfig, alias: str | None,
                given: tuple[str, tuple[str, ...], str | None], region: str) -> Any:
    """The payload format 2.0 event of `request`, routed by the function's http routes for the alias
    (stage = the alias, else $default); --payload is the body, as bytes."""
    from ..triggers.http_events import try_event

    request, headers, payload = given
    body = b""
    if payload is not None:
        source = "standard input" if payload == "-" else payload
        try:
            body = sys.stdin.buffer.read() if payload == "-" else Path(payload).read_bytes()
        except OSError as error:
            raise InvalidInputError(f"cannot read the request body {source}: {error.strerror}") from error
    triggers = fn.triggers_for(alias) if alias else fn.triggers
    routes = [key for t in triggers if t.kind == "http" for key in t.settings.routes]
    try:
        event, matched = try_event(request, headers, body, routes, alias or "$default", region)
    except ValueError as error:
        raise InvalidInputError(f"--http/--header: {error}") from error
    if not matched:
        app.out.warn(f"{fn.key}: no http route of the function matches {request!r}; sent as the $default route")
    return event


def _http_answer(app: App, body: bytes) -> dict[str, Any]:
    """What API Gateway would answer for the function's result: status and headers on stderr."""
    from ..triggers.http_events import http_response

    response = http_response(body)
    app.out.info(f"HTTP {response.status}" + "".join(f"\n{k}: {v}" for k, v in response.headers))
    text = response.body.decode("utf-8", errors="replace")
    return {"status": response.status, "headers": [list(h) for h in response.headers], "body": text}


@click.command()
@click.argument("name", metavar="FN")
@click.option("--alias", help="Invoke this alias.")
@click.option("--version", "version", help="Invoke this version.")
@click.option("--payload", help="JSON event file, or - for standard input (default: the test payload).")
@click.option("--local", is_flag=True, help="Build and run the handler on this machine, no AWS.")
@click.option("--smoke-arch", type=click.Choice(("function", "host")), default="function", show_default=True,
              help="With --local: host runs native code rebuilt, same pinned versions, for this machine's CPU "
              "when it cannot run the function's.")
@click.option("--http", "http_request", metavar="'METHOD /path?query'",
              help="Send the HTTP API event (payload format 2.0) of this request; --payload is then its body.")
@click.option("-H", "--header", "headers", multiple=True, metavar="'Name: value'",
              help="With --http: a request header (repeatable).")
@click.pass_obj
def invoke(app: App, name: str, alias: str | None, version: str | None, payload: str | None, local: bool,
           smoke_arch: str, http_request: str | None, headers: tuple[str, ...]) -> None:
    """Invoke a function; print its result and log tail."""
    if alias and version:
        raise InvalidInputError("use either --alias or --version, not both")
    if smoke_arch == "host" and not local:
        raise InvalidInputError("--smoke-arch host needs --local (for a deployed version, `push --smoke-arch host`)")
    if headers and not http_request:
        raise InvalidInputError("--header needs --http")
    project = app.project(alias)
    fn = app.functions(project, (name,))[0]
    region = app.settings.region or project.region or "us-east-1"
    event = (_http_event(app, fn, alias, (http_request, headers, payload), region) if http_request
             else _read_payload(payload, fn))
    if local:
        from ..local.runner import run_handler
        from ..packaging import build_artifact

        artifact = build_artifact(fn, on_progress=lambda m: app.out.info(f"{fn.key}: {m}"))
        if fn.layers:
            app.out.warn(f"{fn.key}: --local runs without the function's layers (they live in AWS); "
                         "use --sandbox to run with them")
        invocation = run_handler(
            artifact.zip_bytes, handler=fn.handler, runtime=fn.runtime, event=event, timeout=fn.timeout,
            memory=fn.memory, environment=fn.environment, function_name=fn.name, architecture=fn.architecture,
            smoke_arch=smoke_arch, on_progress=lambda m: app.out.info(f"{fn.key}: {m}"),
        )
        body, function_error, log_tail = invocation.payload, invocation.function_error, invocation.log_tail
        host_build = invocation.host_build
        if invocation.host_build:
            app.out.warn(f"{fn.key}: ran a host {invocation.host_build} build of the native dependencies "
                         f"(--smoke-arch host), not the {fn.architecture} package")
    else:
        from ..engine.smoke import invoke as remote_invoke

        if alias:
            check_alias(project, alias)
        body, function_error, log_tail, host_build = remote_invoke(app.session(project), fn.name, alias or version, event)
    from ..engine.smoke import decode_payload

    parsed = decode_payload(body)
    pretty = parsed if isinstance(parsed, str) else json.dumps(parsed, indent=2)
    if log_tail:
        app.out.log(log_tail.rstrip())
    answer = _http_answer(app, body) if http_request and not function_error else None
    if app.out.json_mode:
        app.out.document({"command": "invoke", "ok": function_error is None, "function": fn.key,
                          "function_error": function_error, "payload": parsed, "log_tail": log_tail,
                          "host_build": host_build, **({"http": answer} if answer is not None else {})})
    else:
        app.out.result(pretty if answer is None else answer["body"])
    if function_error:
        raise click.exceptions.Exit(EXIT_FAILED)


@click.command()
@functions_argument
@click.pass_obj
def status(app: App, names: tuple[str, ...]) -> None:
    """Versions, aliases (version, its commit, when it moved), code size, last modified, last smoke."""
    from ..engine.status import read_status

    project = app.project()
    session = app.session(project)
    documents = []
    for fn in app.functions(project, names):
        found = read_status(session, fn)
        remote = found.remote
        if not remote.exists:
            app.out.result(f"{fn.name}: not deployed")
            documents.append({"function": fn.key, "name": fn.name, "exists": False})
            continue
        versions = [v.version for v in remote.versions]
        app.out.result(
            f"{fn.name}: {len(versions)} version(s) (latest {versions[-1] if versions else '-'}), "
            f"code {human_size(remote.code_size)}, last modified {remote.last_modified}"
        )
        for alias in remote.aliases.values():
            weights = "".join(f", {w:.0%} on version {v}" for v, w in alias.weights.items())
            serving = remote.version(alias.version)
            commit = source_text(serving.source if serving else None, serving is not None or alias.version == "$LATEST")
            app.out.result(f"  {alias.name} -> {alias.version}{weights} ({commit}), "
                           f"{move_text(alias.history.moves(alias.version)[0])}  "
                           f"last smoke: {alias.history.smoke or '-'}"
                           + (f"  previous: {', '.join(alias.history.previous)}" if alias.history.previous else ""))
        for wired in found.triggers:
            detail = f" ({wired.detail})" if wired.detail and wired.kind in ("url", "http") else ""
            state = f" [{wired.state}]" if wired.state and wired.kind == "http" else ""
            app.out.result(f"  trigger {wired.kind} {wired.resource}: {wired.description}{detail} -> {wired.alias}{state}")
        documents.append({
            "function": fn.key, "name": fn.name, "exists": True, "versions": versions,
            "triggers": [{"kind": w.kind, "alias": w.alias, "resource": w.resource, "description": w.description,
                          "managed": w.managed, "state": w.state, "detail": w.detail} for w in found.triggers],
            "code_size": remote.code_size, "last_modified": remote.last_modified,
            "aliases": {a.name: _alias_document(remote, a) for a in remote.aliases.values()},
        })
    app.out.document({"command": "status", "ok": True, "functions": documents})


def _alias_document(remote: RemoteFunction, alias: AliasState) -> dict[str, Any]:
    serving = remote.version(alias.version)
    return {"version": alias.version, "weights": dict(alias.weights), "last_smoke": alias.history.smoke,
            "previous": list(alias.history.previous), **source_document(serving.source if serving else None),
            "moved": move_document(alias.history.moves(alias.version)[0])}


@click.command()
@click.argument("name", metavar="FN")
@click.option("--alias", help="Only the version this alias points to.")
@click.option("--since", default="10m", show_default=True, help="How far back: 30s, 10m, 2h, 1d.")
@click.option("--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--filter", "pattern", help="CloudWatch Logs filter pattern, e.g. ERROR.")
@click.pass_obj
def logs(app: App, name: str, alias: str | None, since: str, follow: bool, pattern: str | None) -> None:
    """Print the function's CloudWatch logs."""
    import datetime as dt
    import time

    from ..engine import logs as cloudwatch

    project = app.project(alias)
    fn = app.functions(project, (name,))[0]
    session = app.session(project)
    start_ms = int((time.time() - parse_duration(since, "--since")) * 1000)
    version = cloudwatch.version_of_alias(session, fn.name, alias) if alias else None
    lines = (cloudwatch.follow if follow else cloudwatch.fetch)(
        session, fn.name, start_ms, version=version, pattern=pattern)
    collected = []
    for line in lines:
        stamp = dt.datetime.fromtimestamp(line.timestamp_ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        text = cloudwatch.summarise(line.message)
        if app.out.json_mode:
            collected.append({"timestamp": stamp, "stream": line.stream, "message": line.message.rstrip("\n")})
        else:
            app.out.result(f"{app.out.style(stamp, dim=True)} " + (app.out.style(text, fg="red") if line.is_error else text))
    app.out.document({"command": "logs", "ok": True, "function": fn.key, "lines": collected})


@click.command()
@functions_argument
@click.option("--keep", type=click.IntRange(0, None), default=3, show_default=True,
              help="Newest versions to keep besides those an alias points to.")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@click.pass_obj
def prune(app: App, names: tuple[str, ...], keep: int, yes: bool) -> None:
    """Delete old versions that no alias (or canary weight) points to."""
    project = app.project()
    functions = app.functions(project, names)
    deployer = app.deployer(project)
    doomed = deployer.prunable(functions, keep)
    for fn in functions:
        if fn.key in doomed:
            app.out.result(f"{fn.name}: delete version(s) {', '.join(doomed[fn.key])}")
    if not doomed:
        app.out.result("nothing to prune")
    elif not yes:
        if not sys.stdin.isatty():
            raise InvalidInputError("prune deletes versions: pass --yes to confirm when not on a terminal")
        click.confirm("delete these versions?", abort=True, err=True)
    deployer.prune(functions, doomed)
    app.out.document({"command": "prune", "ok": True, "deleted": {k: list(v) for k, v in doomed.items()}})
