"""The command line: parse options, call the workflows, render the results.

No AWS or file logic here; errors become one message and an exit code (SPEC 2).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from . import __version__, config
from .aws import AwsSession, AwsSettings, aws_message
from .deploy import Deployer, FunctionResult
from .durations import parse_duration
from .errors import EXIT_FAILED, EXIT_INVALID_INPUT, InvalidInputError, LambdaDeployError
from .model import FunctionConfig, Project
from .output import MASKER, Output, human_size
from .plan import Rollout

EXIT_CHANGES_PENDING = 3  # plan --detailed-exitcode
GLOBAL_HELP = """Deploy Python AWS Lambda functions from lambda.yaml: package, publish a
version, smoke-test it, and only then move the alias.

\b
Quick start, no AWS account needed:
  lambdadeploy --sandbox -c lambda.yaml.example push --alias dev
"""


@dataclass
class App:
    """Shared state of one CLI run: options, output, and lazily the project and AWS session."""

    config_path: Path
    settings: AwsSettings
    out: Output
    sandbox: bool = False
    _session: AwsSession | None = field(default=None, repr=False)
    _projects: dict[str | None, Project] = field(default_factory=dict, repr=False)

    def session(self, project: Project | None = None) -> AwsSession:
        if self._session is None:
            self._session = AwsSession(self.settings, project.region if project else None)
        return self._session

    def project(self, alias: str | None = None) -> Project:
        """The rendered and validated config; `alias` is the template's `alias` variable."""
        if alias not in self._projects:
            context = config.RenderContext(
                alias=alias,
                region=lambda: self.session().region,
                account_id=lambda: self.session().account_id(),
            )
            project = config.load(self.config_path, context)
            MASKER.add(project.secret_values)
            for warning in project.warnings:
                self.out.warn(warning)
            self._projects[alias] = project
        return self._projects[alias]

    def functions(self, project: Project, names: tuple[str, ...]) -> tuple[FunctionConfig, ...]:
        known = {f.key for f in project.functions} | {f.name for f in project.functions}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidInputError(
                f"unknown function {unknown[0]!r} in {project.config_file}",
                hint="functions: " + ", ".join(f.key for f in project.functions),
            )
        return project.select(names)

    def deployer(self, project: Project, parallel: int = 4) -> Deployer:
        return Deployer(self.session(project), project, self.out.event, parallel=parallel)


def check_alias(project: Project, alias: str, option: str = "--alias") -> str:
    if alias not in project.aliases:
        raise InvalidInputError(
            f"{option} {alias!r} is not one of the aliases in {project.config_file}",
            hint="aliases: " + ", ".join(project.aliases) + " (add it under `aliases:`)",
        )
    return alias


@contextmanager
def stop_on_signals(deployer: Deployer, out: Output) -> Iterator[None]:
    """SIGINT/SIGTERM: let the steps in progress finish, start no new one, then report."""

    def handler(signum: int, frame: object) -> None:
        if not deployer.cancel.is_set():
            deployer.cancel.set()
            out.warn(f"{signal.Signals(signum).name}: stopping after the steps in progress; "
                     "no alias will move to an untested version")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def finish_results(app: App, command: str, results: list[FunctionResult]) -> None:
    app.out.summary(command, results)
    failed = [r for r in results if not r.ok]
    if failed:
        raise click.exceptions.Exit(max(r.exit_code for r in failed))


@click.group(help=GLOBAL_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambdadeploy")
@click.option("-c", "--config", "config_path", default="lambda.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The project file.")
@click.option("--profile", help="AWS profile (else the usual AWS environment and files).")
@click.option("--region", help="AWS region (else AWS_REGION, lambda.yaml, the profile, us-east-1).")
@click.option("--endpoint-url", envvar="LAMBDADEPLOY_ENDPOINT_URL",
              help="Any AWS-compatible endpoint, e.g. a local moto server.")
@click.option("--sandbox", is_flag=True, help="Use the local sandbox instead of AWS (starts one if none runs).")
@click.option("--json", "json_mode", is_flag=True, help="One JSON document on stdout; human text on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="More detail, and tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only results and errors.")
@click.option("--no-color", is_flag=True, help="No colours (NO_COLOR is honoured too).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, profile: str | None, region: str | None,
        endpoint_url: str | None, sandbox: bool, json_mode: bool, verbose: bool, quiet: bool,
        no_color: bool) -> None:
    out = Output(json_mode=json_mode, quiet=quiet, verbose=verbose, color=False if no_color else None)
    credentials = None
    if sandbox and ctx.invoked_subcommand not in ("sandbox", "validate", "package", None):
        from .sandbox import SANDBOX_CREDENTIALS, sandbox_endpoint

        endpoint_url, started = ctx.with_resource(sandbox_endpoint())
        credentials = (SANDBOX_CREDENTIALS["aws_access_key_id"], SANDBOX_CREDENTIALS["aws_secret_access_key"])
        region = region or "us-east-1"
        out.info(
            f"sandbox: started one at {endpoint_url} for this command only (its state ends with it; "
            "run `lambdadeploy sandbox` in another terminal to keep one)"
            if started else f"sandbox: using {endpoint_url}"
        )
    elif endpoint_url and not _has_credentials(profile):
        # A local AWS-compatible endpoint accepts any credentials; don't demand real ones.
        credentials = ("lambdadeploy", "lambdadeploy")
    settings = AwsSettings(profile=profile, region=region, endpoint_url=endpoint_url, static_credentials=credentials)
    ctx.obj = App(config_path=config_path, settings=settings, out=out, sandbox=sandbox)


def _has_credentials(profile: str | None) -> bool:
    import boto3

    try:
        return boto3.session.Session(profile_name=profile).get_credentials() is not None
    except Exception:
        return False


functions_argument = click.argument("names", nargs=-1, metavar="[FN]...")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--project", "project_name", help="Project name (default: from the folder name).")
@click.option("--function", "function_name", default="hello", show_default=True, help="The first function's name.")
@click.option("--runtime", type=click.Choice([f"python3.{m}" for m in range(9, 15)]), default="python3.12",
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.pass_obj
def init(app: App, folder: Path, project_name: str | None, function_name: str, runtime: str, force: bool) -> None:
    """Scaffold a project: lambda.yaml, a handler and its test, an event, .lambdaignore, a CI workflow."""
    from . import scaffold

    if not re.fullmatch(r"[A-Za-z0-9_-]+", function_name):
        raise InvalidInputError(f"--function {function_name!r}: use letters, digits, - and _")
    name = project_name or scaffold.project_name_for(folder)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise InvalidInputError(f"--project {name!r}: use letters, digits, - and _")
    folder.mkdir(parents=True, exist_ok=True)
    created = scaffold.write(folder, scaffold.Scaffold(name, function_name, runtime), force=force)
    for path in created:
        app.out.result(f"created {folder / path}")
    app.out.info(f"next: cd {folder} && lambdadeploy --sandbox push --alias dev")
    app.out.document({"command": "init", "ok": True, "files": [str(folder / p) for p in created]})


@cli.command()
@click.option("--show", is_flag=True, help="Print the resolved configuration.")
@click.option("--alias", help="Value of the template's `alias` variable (default: the first alias).")
@click.pass_obj
def validate(app: App, show: bool, alias: str | None) -> None:
    """Render and validate lambda.yaml."""
    project = app.project(alias)
    document = project_document(project)
    if show and not app.out.json_mode:
        import yaml

        app.out.result(yaml.safe_dump(document, sort_keys=False).rstrip())
    app.out.info(f"{project.config_file}: valid, {len(project.functions)} function(s)")
    app.out.document({"command": "validate", "ok": True, "config": document})


def project_document(project: Project) -> dict[str, Any]:
    return {
        "project": project.project,
        "region": project.region,
        "aliases": list(project.aliases),
        "functions": {
            fn.key: {
                "name": fn.name, "source": str(fn.source), "handler": fn.handler, "runtime": fn.runtime,
                "architecture": fn.architecture, "memory": fn.memory, "timeout": fn.timeout,
                "role": fn.role, "description": fn.description, "environment": dict(fn.environment),
                "layers": list(fn.layers), "tags": dict(fn.tags), "exclude": list(fn.exclude),
                "requirements": str(fn.requirements) if fn.requirements else None,
                "s3_bucket": fn.s3_bucket,
                "test": None if fn.test is None else {"payload": fn.test.payload, "expect": fn.test.expect},
                "triggers": [{"kind": t.kind, "alias": t.alias, **dict(t.settings)} for t in fn.triggers],
            }
            for fn in project.functions
        },
    }


@cli.command()
@functions_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Where to write the zips.")
@click.pass_obj
def package(app: App, names: tuple[str, ...], out_dir: Path) -> None:
    """Build the deployment zips only."""
    from .packaging import build_artifact

    project = app.project()
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for fn in app.functions(project, names):
        artifact = build_artifact(fn, on_progress=lambda m, key=fn.key: app.out.info(f"{key}: {m}"))
        path = out_dir / f"{fn.name}.zip"
        path.write_bytes(artifact.zip_bytes)
        cache = {None: "no requirements", True: "dependencies from cache", False: "dependencies installed"}
        app.out.result(
            f"{fn.key}: {path}  {human_size(artifact.zipped_size)} zipped, {human_size(artifact.unzipped_size)} "
            f"unzipped, {artifact.file_count} files, sha256 {artifact.sha256_hex}, "
            f"{cache[artifact.deps_from_cache]}, {artifact.seconds:.2f} s"
        )
        built.append({
            "function": fn.key, "name": fn.name, "path": str(path), "zipped_bytes": artifact.zipped_size,
            "unzipped_bytes": artifact.unzipped_size, "files": artifact.file_count,
            "sha256": artifact.sha256, "sha256_hex": artifact.sha256_hex,
            "dependencies_from_cache": artifact.deps_from_cache, "seconds": round(artifact.seconds, 3),
        })
    app.out.document({"command": "package", "ok": True, "functions": built})


@cli.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to plan for.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when there are changes (like terraform).")
@click.pass_obj
def plan(app: App, names: tuple[str, ...], alias: str, detailed_exitcode: bool) -> None:
    """Show what `push` would change, writing nothing."""
    project = app.project(alias)
    check_alias(project, alias)
    results = app.deployer(project).plan(app.functions(project, names), alias)
    for result in results:
        if result.ok:
            steps = result.planned or ["nothing to do"]
            app.out.result(f"{result.function.name}:\n" + "\n".join(f"  - {s}" for s in steps))
        else:
            app.out.result(f"{result.function.name}: cannot plan: {result.error}")
    app.out.document({"command": "plan", "ok": all(r.ok for r in results), "alias": alias,
                      "functions": [{"function": r.function.key, "name": r.function.name, "ok": r.ok,
                                     "steps": r.planned, "alias_version": r.alias_from,
                                     "error": r.error} for r in results]})
    failed = [r for r in results if not r.ok]
    if failed:
        raise click.exceptions.Exit(max(r.exit_code for r in failed))
    if detailed_exitcode and any(r.planned for r in results):
        raise click.exceptions.Exit(EXIT_CHANGES_PENDING)


def parse_rollout(canary: float | None, watch: str | None, alarms: tuple[str, ...],
                  linear: str | None) -> Rollout | None:
    """--canary PCT [--watch D] [--alarm NAME]... or --linear STEP/INTERVAL, checked together."""
    if linear is not None:
        if canary is not None or watch is not None:
            raise InvalidInputError("--linear STEP/INTERVAL replaces --canary and --watch; use one or the other")
        match = re.fullmatch(r"(\d+(?:\.\d+)?)/(\S+)", linear)
        if not match or not 0 < float(match[1]) < 100:
            raise InvalidInputError(f"--linear {linear!r}: expected PERCENT/INTERVAL, e.g. 10/1m")
        step = float(match[1])
        return Rollout(step, parse_duration(match[2], "--linear interval"), alarms, linear_step=step)
    if canary is None:
        if watch is not None or alarms:
            raise InvalidInputError("--watch and --alarm need --canary PCT (or --linear STEP/INTERVAL)")
        return None
    return Rollout(canary, parse_duration(watch, "--watch") if watch else 0, alarms)


@cli.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to move once the smoke test passes.")
@click.option("--skip-smoke", is_flag=True, help="Move the alias without a smoke invoke (shown in the summary).")
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True, help="Functions deployed at once.")
@click.option("--canary", type=click.FloatRange(0, 100, min_open=True, max_open=True),
              help="Send PCT percent of the alias's traffic to the new version; the rest stays.")
@click.option("--watch", help="With --canary: watch errors, throttles and alarms this long (e.g. 5m), then "
              "move the alias fully, or take the weight away on trouble.")
@click.option("--alarm", "alarms", multiple=True, help="A CloudWatch alarm that fails the canary (repeatable).")
@click.option("--linear", help="Shift STEP percent more every INTERVAL, watching in between (e.g. 10/1m).")
@click.option("--finish", is_flag=True, help="Complete a canary left in place: move the alias fully.")
@click.option("--yes", is_flag=True, help="Accepted for scripts; push never asks.")
@click.pass_obj
def push(app: App, names: tuple[str, ...], alias: str, skip_smoke: bool, parallel: int, canary: float | None,
         watch: str | None, alarms: tuple[str, ...], linear: str | None, finish: bool, yes: bool) -> None:
    """Package, update, publish, smoke-test, then move the alias (or start a canary)."""
    project = app.project(alias)
    check_alias(project, alias)
    functions = app.functions(project, names)
    deployer = app.deployer(project, parallel)
    if finish:
        if canary is not None or watch or alarms or linear or skip_smoke:
            raise InvalidInputError("--finish completes an existing canary; it takes no other push options")
        with stop_on_signals(deployer, app.out):
            results = deployer.finish(functions, alias)
        return finish_results(app, "push", results)
    rollout = parse_rollout(canary, watch, alarms, linear)
    with stop_on_signals(deployer, app.out):
        results = deployer.push(functions, alias, skip_smoke=skip_smoke, rollout=rollout)
    finish_results(app, "push", results)


@cli.command()
@functions_argument
@click.option("--from", "source", required=True, help="The alias whose version to take.")
@click.option("--to", "target", required=True, help="The alias to move.")
@click.option("--force", is_flag=True, help="Promote even when the configuration for --to differs.")
@click.pass_obj
def promote(app: App, names: tuple[str, ...], source: str, target: str, force: bool) -> None:
    """Point alias --to at the version alias --from serves, after a smoke invoke."""
    project = app.project(target)
    check_alias(project, source, "--from")
    check_alias(project, target, "--to")
    deployer = app.deployer(project)
    with stop_on_signals(deployer, app.out):
        results = deployer.promote(app.functions(project, names), source, target, force=force)
    if any(r.conflict for r in results):
        app.out.info(
            "versions are immutable (code and configuration). Either make those values alias-independent "
            "(a handler can read its alias from context.invoked_function_arn), or run "
            f"`lambdadeploy push --alias {target}` from the same commit; --force promotes anyway."
        )
    if force:
        app.out.warn("--force: promoted without checking that the configuration fits the target alias")
    finish_results(app, "promote", results)


@cli.command()
@functions_argument
@click.option("--alias", required=True, help="The alias to move back.")
@click.option("--to", "to_version", help="The version to move to (default: the one before the last move).")
@click.pass_obj
def rollback(app: App, names: tuple[str, ...], alias: str, to_version: str | None) -> None:
    """Move an alias back to an earlier version, without rebuilding."""
    project = app.project(alias)
    check_alias(project, alias)
    if to_version is not None and not to_version.isdigit():
        raise InvalidInputError(f"--to {to_version!r} is not a version number", hint="e.g. --to 7")
    deployer = app.deployer(project)
    with stop_on_signals(deployer, app.out):
        results = deployer.rollback(app.functions(project, names), alias, to_version)
    finish_results(app, "rollback", results)


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


@cli.command()
@click.argument("name", metavar="FN")
@click.option("--alias", help="Invoke this alias.")
@click.option("--version", "version", help="Invoke this version.")
@click.option("--payload", help="JSON event file, or - for standard input (default: the test payload).")
@click.option("--local", is_flag=True, help="Build and run the handler on this machine, no AWS.")
@click.pass_obj
def invoke(app: App, name: str, alias: str | None, version: str | None, payload: str | None, local: bool) -> None:
    """Invoke a function; print its result and log tail."""
    if alias and version:
        raise InvalidInputError("use either --alias or --version, not both")
    project = app.project(alias)
    fn = app.functions(project, (name,))[0]
    event = _read_payload(payload, fn)
    if local:
        from .packaging import build_artifact
        from .runner import run_handler

        artifact = build_artifact(fn, on_progress=lambda m: app.out.info(f"{fn.key}: {m}"))
        invocation = run_handler(
            artifact.zip_bytes, handler=fn.handler, runtime=fn.runtime, event=event, timeout=fn.timeout,
            memory=fn.memory, environment=fn.environment, function_name=fn.name,
        )
        body, function_error, log_tail = invocation.payload, invocation.function_error, invocation.log_tail
    else:
        from .smoke import invoke as remote_invoke

        if alias:
            check_alias(project, alias)
        try:
            body, function_error, log_tail = remote_invoke(app.session(project), fn.name, alias or version, event)
        except ClientError as error:
            raise LambdaDeployError(f"{fn.name}: {aws_message(error)}") from error
    text = body.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text)
        pretty = json.dumps(parsed, indent=2)
    except ValueError:
        parsed, pretty = text, text
    if log_tail:
        app.out.log(log_tail.rstrip())
    if app.out.json_mode:
        app.out.document({"command": "invoke", "ok": function_error is None, "function": fn.key,
                          "function_error": function_error, "payload": parsed, "log_tail": log_tail})
    else:
        app.out.result(pretty)
    if function_error:
        raise click.exceptions.Exit(EXIT_FAILED)


@cli.command()
@functions_argument
@click.pass_obj
def status(app: App, names: tuple[str, ...]) -> None:
    """Versions, aliases, code size, last modified and last smoke result per function."""
    from .remote import read_function
    from .triggers import describe_triggers

    project = app.project()
    session = app.session(project)
    documents = []
    for fn in app.functions(project, names):
        try:
            remote = read_function(session, fn.name)
        except (ClientError, BotoCoreError) as error:
            raise LambdaDeployError(f"{fn.name}: {aws_message(error)}") from error
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
            app.out.result(f"  {alias.name} -> {alias.version}{weights}  last smoke: {alias.history.smoke or '-'}"
                           + (f"  previous: {', '.join(alias.history.previous)}" if alias.history.previous else ""))
        wired = describe_triggers(session, fn)
        for trigger in wired:
            app.out.result(f"  trigger {trigger['description']}" + (f" -> {trigger['alias']}" if trigger.get("alias") else ""))
        documents.append({
            "function": fn.key, "name": fn.name, "exists": True, "versions": versions, "triggers": wired,
            "code_size": remote.code_size, "last_modified": remote.last_modified,
            "aliases": {a.name: {"version": a.version, "weights": dict(a.weights), "last_smoke": a.history.smoke,
                                 "previous": list(a.history.previous)} for a in remote.aliases.values()},
        })
    app.out.document({"command": "status", "ok": True, "functions": documents})


@cli.command()
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

    from . import logs as cloudwatch

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


@cli.command()
@functions_argument
@click.option("--keep", type=click.IntRange(0, None), default=3, show_default=True,
              help="Newest versions to keep besides those an alias points to.")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@click.pass_obj
def prune(app: App, names: tuple[str, ...], keep: int, yes: bool) -> None:
    """Delete old versions that no alias (or canary weight) points to."""
    from .plan import plan_prune
    from .remote import read_function

    project = app.project()
    session = app.session(project)
    doomed = {}
    for fn in app.functions(project, names):
        versions = plan_prune(read_function(session, fn.name), keep)
        if versions:
            doomed[fn.key] = (fn, versions)
            app.out.result(f"{fn.name}: delete version(s) {', '.join(versions)}")
    if not doomed:
        app.out.result("nothing to prune")
    elif not yes:
        if not sys.stdin.isatty():
            raise InvalidInputError("prune deletes versions: pass --yes to confirm when not on a terminal")
        click.confirm("delete these versions?", abort=True, err=True)
    deleted = {}
    for fn, versions in doomed.values():
        client = session.client("lambda")
        for version in versions:
            client.delete_function(FunctionName=fn.name, Qualifier=version)
        deleted[fn.key] = list(versions)
    app.out.document({"command": "prune", "ok": True, "deleted": deleted})


@cli.command()
@click.option("--account-id", help="The AWS account id (default: asked of AWS with sts:GetCallerIdentity).")
@click.pass_obj
def policy(app: App, account_id: str | None) -> None:
    """Print the least-privilege IAM policy a CI user needs to push, promote and roll back this config."""
    from .policy import ci_policy

    project = app.project()
    session = app.session(project)
    if account_id is not None and not re.fullmatch(r"\d{12}", account_id):
        raise InvalidInputError(f"--account-id {account_id!r} is not a 12-digit AWS account id")
    click.echo(json.dumps(ci_policy(project, account_id or session.account_id(), session.region), indent=2))


@cli.command()
@click.option("--format", "template_format", type=click.Choice(["sam"]), default="sam", show_default=True)
@click.option("--alias", required=True, help="The alias the template's AutoPublishAlias manages.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the template here (default: standard output).")
@click.option("--code-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to put the zips (default: lambdadeploy-export/ next to the template).")
@click.option("--s3-prefix", help="s3://bucket/prefix: CodeUri points there (you upload the zips).")
@click.option("--canary", type=click.IntRange(1, 99), help="CodeDeploy canary: percent of traffic shifted first.")
@click.option("--watch", default=None, help="Canary bake time before the rest shifts, e.g. 10m (default 5m).")
@click.option("--generated-names", is_flag=True, help="Let CloudFormation name the functions (for migrations).")
@click.pass_obj
def export(app: App, template_format: str, alias: str, output_path: Path | None, code_dir: Path | None,
           s3_prefix: str | None, canary: int | None, watch: str | None, generated_names: bool) -> None:
    """Write a SAM/CloudFormation template of this project, with its packages."""
    from .export import CanarySettings, write_export

    project = app.project(alias)
    check_alias(project, alias)
    if watch is not None and canary is None:
        raise InvalidInputError("--watch needs --canary PCT")
    settings = None
    if canary is not None:
        settings = CanarySettings.from_seconds(canary, parse_duration(watch, "--watch") if watch else None)
    text = write_export(project, alias, output_path, code_dir=code_dir, s3_prefix=s3_prefix, canary=settings,
                        keep_names=not generated_names, on_progress=app.out.info)
    if output_path is None and not app.out.json_mode:
        # Printed as is: masking a value inside the template would corrupt it (secrets are
        # NoEcho parameters there, never values).
        click.echo(text, nl=False)
    elif output_path is not None:
        app.out.info(f"wrote {output_path}")
    app.out.document({"command": "export", "ok": True, "format": template_format, "alias": alias,
                      "output": str(output_path) if output_path else None,
                      "template": None if output_path else text})


@cli.command()
@click.pass_obj
def schema(app: App) -> None:
    """Print the JSON Schema of lambda.yaml (for editors)."""
    from .schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=4599, show_default=True)
@click.pass_obj
def sandbox(app: App, port: int) -> None:
    """Run the local AWS-compatible endpoint in the foreground (Ctrl-C stops it)."""
    from .sandbox import serve_forever

    app.out.info(
        f"sandbox: AWS-compatible endpoint on http://127.0.0.1:{port} (loopback only, state lives until stopped)\n"
        f"  use it with: lambdadeploy --sandbox ...  (or --endpoint-url http://127.0.0.1:{port})"
    )
    try:
        serve_forever(port)
    except OSError as error:
        raise InvalidInputError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}",
                                hint="pick another --port") from error


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning our errors into one message and an exit code."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="lambdadeploy", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        code = exit_.exit_code
    except click.ClickException as error:
        error.show()
        code = EXIT_INVALID_INPUT if isinstance(error, click.UsageError) else error.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        code = 130
    except LambdaDeployError as error:
        if verbose:
            traceback.print_exc()
        click.echo(Output(color=None).style(MASKER(f"error: {error.render()}"), fg="red"), err=True)
        code = error.exit_code
    except (ClientError, BotoCoreError) as error:
        if verbose:
            traceback.print_exc()
        click.echo(MASKER(f"error: {aws_message(error)}"), err=True)
        code = EXIT_FAILED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    except Exception as error:  # a bug of ours: say so plainly, traceback only with -v
        if verbose:
            traceback.print_exc()
        click.echo(MASKER(f"internal error: {type(error).__name__}: {error} (run with -v for the traceback)"), err=True)
        code = EXIT_FAILED
    sys.exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
