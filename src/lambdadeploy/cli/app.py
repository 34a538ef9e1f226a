"""What every command shares: the App context object, alias checks, signal handling, results."""

from __future__ import annotations

import dataclasses
import importlib.util
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..aws import AwsSession, AwsSettings
from ..errors import ConfigError, InvalidInputError
from ..output import MASKER, Output

if TYPE_CHECKING:  # imported on use: `--version` needs no config, `package` no deploy engine
    from ..config.model import FunctionConfig, Project
    from ..engine.deploy import Deployer
    from ..engine.report import FunctionReport


# What `lambdadeploy[sandbox]` brings that the sandbox imports (moto's server is a Flask app).
SANDBOX_MODULES = ("moto", "flask", "flask_cors")
SANDBOX_INSTALL = "pip install 'lambdadeploy[sandbox]'"


def require_sandbox() -> None:
    """Exit 2 with the install command when the sandbox extra is missing: checked before any
    work (finding a module does not import it, so commands without --sandbox pay nothing)."""
    def found(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
            return False

    if not all(found(name) for name in SANDBOX_MODULES):
        raise InvalidInputError(f"the sandbox is not installed: {SANDBOX_INSTALL}")


@dataclass
class App:
    """Shared state of one CLI run: options, output, and lazily the project and AWS session."""

    config_path: Path
    settings: AwsSettings
    out: Output
    sandbox: bool = False
    # Closes what the run opened (an in-process sandbox); the group registers it with click.
    resources: ExitStack = field(default_factory=ExitStack, repr=False)
    _session: AwsSession | None = field(default=None, repr=False)
    _projects: dict[str | None, Project] = field(default_factory=dict, repr=False)

    def session(self, project: Project | None = None) -> AwsSession:
        """The AWS session, made on first use; with --sandbox, that is when the sandbox is
        found or started, so bad input fails before any endpoint is started."""
        if self._session is None:
            settings = self.settings
            if self.sandbox:
                settings = self._sandbox_settings()
            self._session = AwsSession(settings, project.region if project else None)
        return self._session

    def _sandbox_settings(self) -> AwsSettings:
        require_sandbox()
        from ..local.sandbox import sandbox_endpoint

        access = self.resources.enter_context(sandbox_endpoint())
        self.out.info(
            f"sandbox: started one at {access.url} for this command only (its state ends with it; "
            "run `lambdadeploy sandbox` in another terminal to keep one)"
            if access.started_here else f"sandbox: using {access.url}"
        )
        credentials = (access.credentials.access_key_id, access.credentials.secret_access_key)
        return dataclasses.replace(self.settings, endpoint_url=access.url, static_credentials=credentials,
                                   region=self.settings.region or access.region)

    def project(self, alias: str | None = None, fresh: bool = False) -> Project:
        """The rendered and validated config; `alias` is the template's `alias` variable;
        `fresh`: read the file again (`package --watch` after lambda.yaml changed)."""
        if fresh or alias not in self._projects:
            from .. import config

            context = config.RenderContext(
                alias=alias,
                region=lambda: self.session().region,
                account_id=lambda: self.session().account_id(),
            )
            try:
                project = config.load(self.config_path, context)
            except ConfigError as error:
                MASKER.add(error.secret_values)
                raise
            MASKER.add(project.secret_values)
            for warning in project.warnings:
                self.out.warn(warning)
            self._projects[alias] = project
        return self._projects[alias]

    def one_function(self, project: Project, name: str | None, command: str) -> FunctionConfig:
        """The function a command acts on: the one named, or the project's only function."""
        if name is not None:
            return self.functions(project, (name,))[0]
        if len(project.functions) == 1:
            return project.functions[0]
        raise InvalidInputError(f"{command} needs a function name: {project.config_file} has "
                                f"{len(project.functions)} functions",
                                hint="e.g. lambdadeploy " + command + " " + project.functions[0].key)

    def functions(self, project: Project, names: tuple[str, ...]) -> tuple[FunctionConfig, ...]:
        known = {f.key for f in project.functions} | {f.name for f in project.functions}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidInputError(
                f"unknown function {unknown[0]!r} in {project.config_file}",
                hint="functions: " + ", ".join(f.key for f in project.functions),
            )
        return project.select(names)

    def deployer(self, project: Project, parallel: int | None = None) -> Deployer:
        from ..engine.deploy import DEFAULT_PARALLEL, Deployer

        return Deployer(self.session(project), project, self.out.event, parallel=parallel or DEFAULT_PARALLEL)


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


def finish_results(app: App, command: str, reports: list[FunctionReport] | tuple[FunctionReport, ...],
                   role_done: tuple = (), findings: tuple = (), layers: tuple = ()) -> None:
    from ..output.results import render_reports

    render_reports(app.out, command, reports, role_done, findings, layers)
    failed = [r for r in reports if not r.ok]
    if failed:
        raise click.exceptions.Exit(max(r.exit_code for r in failed))


functions_argument = click.argument("names", nargs=-1, metavar="[FN]...")
