"""The `lambdadeploy` group, its global options, and main(): errors become one message and an exit code."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from .. import __version__
from ..aws import AwsSettings, has_credentials
from ..errors import EXIT_FAILED, EXIT_INVALID_INPUT, ConfigError, LambdaDeployError
from ..output import MASKER, Output, documents_printed, error_document, print_document
from .app import App, require_sandbox

GLOBAL_HELP = """Deploy Python and Node.js AWS Lambda functions from lambda.yaml: package, publish a
version, smoke-test it, and only then move the alias.

\b
Quick start, no AWS account needed:
  pip install 'lambdadeploy[sandbox]'
  lambdadeploy --sandbox -c lambda.yaml.example push --alias dev
"""


# Each command's module, imported only when that command runs (or help lists them all):
# `package` need not load the deploy engine, nor `--version` the config model.
COMMANDS = {
    "init": "project", "validate": "project", "package": "project", "plan": "deploying",
    "push": "deploying", "promote": "deploying", "rollback": "deploying", "invoke": "inspecting",
    "status": "inspecting", "history": "lineage", "diff": "lineage", "logs": "inspecting",
    "prune": "inspecting", "policy": "project", "export": "project", "schema": "project",
    "sandbox": "project",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; help lists them by name, as click does."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        return getattr(importlib.import_module(f"{__package__}.{module}"), cmd_name)


@click.group(cls=LazyGroup, help=GLOBAL_HELP, context_settings={"help_option_names": ["-h", "--help"]})
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
    if endpoint_url and not sandbox and not has_credentials(profile):
        # A local AWS-compatible endpoint accepts any credentials; don't demand real ones.
        credentials = ("lambdadeploy", "lambdadeploy")
    settings = AwsSettings(profile=profile, region=region, endpoint_url=endpoint_url, static_credentials=credentials)
    if sandbox:
        require_sandbox()  # before any work, even for commands that never reach AWS
    ctx.obj = App(config_path=config_path, settings=settings, out=out, sandbox=sandbox)
    ctx.call_on_close(ctx.obj.resources.close)


def print_traceback() -> None:
    """The traceback of the error being handled (for -v), masked like every other output."""
    import traceback  # only -v shows one

    click.echo(MASKER(traceback.format_exc()).rstrip("\n"), err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one message and an exit code (and,
    with --json, one JSON document on stdout, unless the command already printed its own)."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    colour = False if "--no-color" in args else None  # the group's Output is gone by now
    # --json anywhere, even misplaced after the command: whoever typed it reads JSON.
    failure = _Failure(json_mode="--json" in args, already=documents_printed(), colour=colour)
    try:
        code = cli.main(args=args, prog_name="lambdadeploy", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        code = exit_.exit_code
    except click.ClickException as error:
        code = EXIT_INVALID_INPUT if isinstance(error, click.UsageError) else error.exit_code
        error.show()
        failure.answer(error.format_message(), code)
    except click.Abort:
        code = failure.say("aborted", 130)
    except LambdaDeployError as error:
        if verbose:
            print_traceback()
        click.echo(Output(color=colour).style(MASKER(f"error: {error.render()}"), fg="red"), err=True)
        failure.answer(error.message, error.exit_code, error.hint, _issues(error))
        code = error.exit_code
    except KeyboardInterrupt:
        code = failure.say("interrupted", 130)
    except Exception as error:  # a bug of ours: say so plainly, traceback only with -v
        if verbose:
            print_traceback()
        code = failure.say(f"internal error: {type(error).__name__}: {error} (run with -v for the traceback)",
                           EXIT_FAILED)
    sys.exit(code or 0)


class _Failure:
    """How main() answers a failure: the message on stderr, and under --json one document."""

    def __init__(self, json_mode: bool, already: int, colour: bool | None) -> None:
        self.json_mode = json_mode
        self.already = already
        self.colour = colour

    def say(self, message: str, code: int) -> int:
        click.echo(MASKER(message), err=True)
        self.answer(message, code)
        return code

    def answer(self, message: str, code: int, hint: str | None = None, issues: list[dict] | None = None) -> None:
        if self.json_mode and documents_printed() == self.already:
            print_document(error_document(message, code, hint, issues))


def _issues(error: LambdaDeployError) -> list[dict]:
    if not isinstance(error, ConfigError):
        return []
    return [{"file": str(i.file), "line": i.line, "field": i.field, "message": i.message, "hint": i.hint}
            for i in error.issues]
