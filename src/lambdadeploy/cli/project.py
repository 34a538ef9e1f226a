"""Commands about the project itself: init, validate, package, export, policy, schema, sandbox."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import click

from ..config.model import FunctionConfig, Project
from ..config.rules import NAME
from ..errors import InvalidInputError, LambdaDeployError
from ..fields import as_mapping
from ..output import error_document, human_size
from ..runtimes import DEFAULT_RUNTIME, RUNTIMES, family_of
from .app import App, check_alias, functions_argument, require_sandbox
from .durations import parse_duration


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--project", "project_name", help="Project name (default: from the folder name).")
@click.option("--function", "function_name", default="hello", show_default=True, help="The first function's name.")
@click.option("--runtime", type=click.Choice(RUNTIMES), default=DEFAULT_RUNTIME,
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.pass_obj
def init(app: App, folder: Path, project_name: str | None, function_name: str, runtime: str, force: bool) -> None:
    """Scaffold a project: lambda.yaml, a handler and its test, an event, .lambdaignore, a CI workflow."""
    from .. import scaffold

    if not NAME.match(function_name):
        raise InvalidInputError(f"--function {function_name!r}: use letters, digits, - and _")
    name = project_name or scaffold.project_name_for(folder)
    if not NAME.match(name):
        raise InvalidInputError(f"--project {name!r}: use letters, digits, - and _")
    folder.mkdir(parents=True, exist_ok=True)
    templates = family_of(runtime).scaffold
    created = scaffold.write(folder, scaffold.Scaffold(name, function_name, runtime, templates), force=force)
    for path in created:
        app.out.result(f"created {folder / path}")
    app.out.info(f"next: cd {folder} && lambdadeploy --sandbox push --alias dev")
    app.out.document({"command": "init", "ok": True, "files": [str(folder / p) for p in created]})


@click.command()
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
        "layers": {
            layer.key: {"name": layer.name, "source": str(layer.source) if layer.source else None,
                        "requirements": str(layer.requirements) if layer.requirements else None,
                        "runtimes": list(layer.runtimes), "architectures": list(layer.architectures),
                        "description": layer.description}
            for layer in project.layers
        },
        "functions": {
            fn.key: {
                "name": fn.name, "source": str(fn.source), "handler": fn.handler, "runtime": fn.runtime,
                "architecture": fn.architecture, "memory": fn.memory, "timeout": fn.timeout,
                "role": fn.role, "description": fn.description, "environment": dict(fn.environment),
                "layers": list(fn.layers), "tags": dict(fn.tags), "exclude": list(fn.exclude),
                "include": [{"from": str(i.path), "to": i.to} for i in fn.include],
                "requirements": str(fn.requirements) if fn.requirements else None,
                "s3_bucket": fn.s3_bucket, **fn.settings.document(),
                "test": None if fn.test is None else {"payload": fn.test.payload, "expect": fn.test.expect},
                "triggers": [{"kind": t.kind, "alias": t.alias, **as_mapping(t.settings)} for t in fn.triggers],
            }
            for fn in project.functions
        },
    }


@click.command()
@functions_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Where to write the zips.")
@click.option("--watch", is_flag=True,
              help="Keep running: rebuild a zip as soon as its function's files, its layers or lambda.yaml "
                   "change (Ctrl-C stops).")
@click.pass_obj
def package(app: App, names: tuple[str, ...], out_dir: Path, watch: bool) -> None:
    """Build the deployment zips (and the project layers they use) only; nothing is uploaded."""
    project = app.project()
    functions = app.functions(project, names)
    _check_out_dir(project, out_dir)
    if not watch:
        app.out.document(_build_zips(app, project, functions, out_dir))
        return
    _watch(app, names, out_dir)


def _build_zips(app: App, project: Project, functions: tuple[FunctionConfig, ...], out_dir: Path) -> dict[str, Any]:
    """Write the functions' zips and their layers' into out_dir; the command's --json document."""
    from ..packaging import build_artifact, build_layer, check_function_with_layers
    from ..packaging.files import replace_output, tag_as_output

    out_dir.mkdir(parents=True, exist_ok=True)
    tag_as_output(out_dir, "lambdadeploy package output")  # a later `source: .` build never packs it
    layers = {}
    layer_documents = []
    for layer in project.layers_of(functions):
        artifact = build_layer(layer, on_progress=lambda m, key=layer.key: app.out.info(f"layer {key}: {m}"),
                               uploading=False)
        path = out_dir / "layers" / f"{layer.name}.zip"
        path.parent.mkdir(exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")  # whole or absent, as the functions' zips below
        partial.write_bytes(artifact.zip_bytes)
        replace_output(partial, path)
        layers[layer.key] = artifact
        _package_summary(app, f"layer {layer.key}", path, artifact)
        layer_documents.append({"layer": layer.key, "name": layer.name, **_package_fields(path, artifact)})
    built = []
    for fn in functions:
        path = out_dir / f"{fn.name}.zip"
        # Written under a temporary name, renamed once checked: a zip at `path` is always whole
        # and within the limits (a watcher of the folder, or a failed build, never leaves less).
        partial = out_dir / f".{fn.name}.zip.partial"
        try:
            artifact = build_artifact(fn, on_progress=lambda m, key=fn.key: app.out.info(f"{key}: {m}"),
                                      uploading=False, write_to=partial)
            check_function_with_layers(fn, artifact, layers)
            replace_output(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        _package_summary(app, fn.key, path, artifact)
        built.append({"function": fn.key, "name": fn.name, **_package_fields(path, artifact)})
    return {"command": "package", "ok": True, "functions": built, "layers": layer_documents}


def _watch(app: App, names: tuple[str, ...], out_dir: Path) -> None:
    """`package --watch`: build, then rebuild what changed until SIGINT or SIGTERM.

    A changed function is rebuilt alone; a changed layer or lambda.yaml rebuilds every function
    named (lambda.yaml is loaded again). A rebuild that fails is reported, --json as a document
    with ok false, and watching goes on: the next save may fix it. Under --json every build is
    one document on one line."""
    from ..packaging.archive import keep_verified_fragments
    from ..packaging.watch import POLL_SECONDS, Snapshot, snapshot, watch

    keep_verified_fragments()  # this process rebuilds the same functions: verify each fragment once

    state = {"project": app.project()}
    state["inputs"] = _watched_inputs(app, state["project"], names)
    stop = {"now": False}

    def inputs() -> dict[str, Snapshot]:
        return {key: snapshot(roots, packed) for key, roots, packed in state["inputs"]}

    def rebuild(keys: list[str]) -> None:
        try:
            if "config" in keys:
                state["project"] = app.project(fresh=True)
                state["inputs"] = _watched_inputs(app, state["project"], names)
            project = state["project"]
            functions = app.functions(project, names)
            if not any(k == "config" or k.startswith("layer ") for k in keys):
                functions = tuple(fn for fn in functions if f"function {fn.key}" in keys)
            _check_out_dir(project, out_dir)
            app.out.info(f"changed: {', '.join(keys)}")
            app.out.document_line(_build_zips(app, project, functions, out_dir))
        except LambdaDeployError as error:
            app.out.error(error.render())
            app.out.document_line(error_document(error.message, error.exit_code, error.hint))

    def request_stop(signum: int, frame: object) -> None:
        stop["now"] = True

    built_from = inputs()  # before the first build: a save made while it runs is not missed
    app.out.document_line(_build_zips(app, state["project"], app.functions(state["project"], names), out_dir))
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    app.out.info(f"watching for changes every {POLL_SECONDS * 1000:.0f} ms (Ctrl-C stops)")
    try:
        watch(inputs, rebuild, lambda: stop["now"], built_from)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    app.out.info("stopped watching")


def _watched_inputs(app: App, project: Project, names: tuple[str, ...]) -> list[tuple[str, list[Path], Any]]:
    """What `package --watch` looks at: (key, roots, which paths count) per input, worked out
    once per load of lambda.yaml."""
    from ..packaging.build import build_inputs

    found: list[tuple[str, list[Path], Any]] = [("config", [app.config_path.resolve()], None)]
    functions = app.functions(project, names)
    for fn in functions:
        roots, packed = build_inputs(fn)
        found.append((f"function {fn.key}", [r.resolve() for r in roots], packed))
    for layer in project.layers_of(functions):
        found.append((f"layer {layer.key}",
                      [p.resolve() for p in (layer.source, layer.requirements) if p is not None], None))
    return found


def _check_out_dir(project: Project, out_dir: Path) -> None:
    """Refuse an --out that is a source folder itself: the next build would pack the zips."""
    out = out_dir.resolve()
    for source, what in [(fn.source, f"function {fn.key}") for fn in project.functions] + \
            [(layer.source, f"layer {layer.key}") for layer in project.layers if layer.source]:
        if out == source:
            raise InvalidInputError(f"--out {out_dir} is the source folder of {what}: the next build would pack "
                                    "these zips", hint="write them to a folder of their own, e.g. --out dist")


def _package_summary(app: App, label: str, path: Path, artifact: Any) -> None:
    from ..packaging import left_out_text

    cache = {None: "no requirements", True: "dependencies from cache", False: "dependencies installed"}
    app.out.result(
        f"{label}: {path}  {human_size(artifact.zipped_size)} zipped, {human_size(artifact.unzipped_size)} "
        f"unzipped, {artifact.file_count} files, sha256 {artifact.sha256_hex}, "
        f"{cache[artifact.deps_from_cache]}, {artifact.seconds:.2f} s"
    )
    if artifact.left_out:
        app.out.result(f"  {left_out_text(artifact.left_out)}")
    for note in artifact.notes:
        app.out.result(f"  note: {note}")


def _package_fields(path: Path, artifact: Any) -> dict[str, Any]:
    return {"path": str(path), "zipped_bytes": artifact.zipped_size, "unzipped_bytes": artifact.unzipped_size,
            "files": artifact.file_count, "sha256": artifact.sha256, "sha256_hex": artifact.sha256_hex,
            "dependencies_from_cache": artifact.deps_from_cache, "seconds": round(artifact.seconds, 3),
            "left_out": list(artifact.left_out), "notes": list(artifact.notes)}


@click.command()
@click.option("--account-id", help="The AWS account id (default: asked of AWS with sts:GetCallerIdentity).")
@click.pass_obj
def policy(app: App, account_id: str | None) -> None:
    """Print the least-privilege IAM policy a CI user needs to push, promote and roll back this config."""
    from ..iam.ci_policy import ci_policy

    project = app.project()
    session = app.session(project)
    if account_id is not None and not re.fullmatch(r"\d{12}", account_id):
        raise InvalidInputError(f"--account-id {account_id!r} is not a 12-digit AWS account id")
    click.echo(json.dumps(ci_policy(project, account_id or session.account_id(), session.region), indent=2))


@click.command()
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
    from ..export import CanarySettings, write_export

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


@click.command()
@click.pass_obj
def schema(app: App) -> None:
    """Print the JSON Schema of lambda.yaml (for editors)."""
    from ..config.rules import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@click.command(epilog="See README, section Sandbox, for the full table.")
@click.option("--port", type=click.IntRange(1, 65535), default=4599, show_default=True)
@click.option("--aws-timing", "timing", type=click.Choice(["off", "fast", "real"]), default=None,
              help="AWS's delays (new roles, Pending versions, late metrics): fast (default; "
                   "$LAMBDADEPLOY_SANDBOX_TIMING), real (seconds, like AWS) or off.")
@click.option("--credentials-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the sandbox's credentials (default: a private file per port under "
                   "$XDG_RUNTIME_DIR/lambdadeploy or ~/.local/state/lambdadeploy).")
@click.option("--env", "print_env", is_flag=True,
              help="Print the environment variables that point boto3 and the AWS CLI at the sandbox "
                   "running on --port, then exit: eval \"$(lambdadeploy sandbox --env)\".")
@click.pass_obj
def sandbox(app: App, port: int, timing: str | None, credentials_file: Path | None, print_env: bool) -> None:
    """Run the local AWS-compatible endpoint in the foreground (Ctrl-C stops it).

    Only you can use it: it makes its own credentials at start (a file only you can read),
    and refuses requests signed otherwise, with a foreign Host, or from a web page.

    \b
    Enforced, refused with AWS's error code and text:
      - the service models' limits on every request (Lambda, EventBridge, CloudWatch Logs,
        IAM, SNS, SQS, STS, CloudWatch): lengths, patterns, ranges, enums
      - overlapping S3 notification rules; SQS mapping rules (batch size and window, FIFO,
        queue visibility vs function timeout); EventBridge schedule expressions
      - Lambda: 4 KB environments, tag limits, 64-character names, weighted-alias rules,
        the 69,905,067-byte code upload and 6 MB invoke caps

    \b
    Simulated (--aws-timing; fast by default):
      - a new role is not assumable at once; a new version is Pending at first
      - metrics arrive late
      - invokes run the deployed code on this machine

    \b
    Not implemented (a green sandbox run says nothing about them):
      - IAM permissions: any request signed by you is allowed
      - quotas, concurrency and throttling; S3's own model limits; CloudWatch's CBOR protocol
    """
    require_sandbox()
    from ..local.credentials import CREDENTIALS_ENV, credentials_path, read_credentials
    from ..local.sandbox import probe, serve_forever

    if print_env:
        import os
        import shlex

        path = credentials_file or Path(os.environ.get(CREDENTIALS_ENV) or credentials_path(port))
        file = read_credentials(path)
        if (probe(file.url) or {}).get("access_key_id") != file.credentials.access_key_id:
            raise InvalidInputError(f"no sandbox answers at {file.url} with the credentials in {path} (a stale file?)",
                                    hint="start one with `lambdadeploy sandbox`")
        for key, value in file.environment().items():
            click.echo(f"export {key}={shlex.quote(value)}")
        return

    def ready(url: str, path: Path) -> None:
        app.out.info(
            f"sandbox: AWS-compatible endpoint on {url} (loopback only, state lives until stopped)\n"
            f"  credentials (yours only): {path}\n"
            f"  use it with: lambdadeploy --sandbox ...   or, for boto3 and the AWS CLI: "
            f"eval \"$(lambdadeploy sandbox --env --port {port})\""
        )

    try:
        serve_forever(port, on_ready=ready, timing=timing, credentials_file=credentials_file)
    except OSError as error:
        raise InvalidInputError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}",
                                hint="pick another --port") from error
