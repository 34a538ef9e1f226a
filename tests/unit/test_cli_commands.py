"""The CLI's commands are imported on first use (cli/group.py COMMANDS): the table must name
every command the CLI modules define, and a command that needs little must load little."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from lambdadeploy.cli import deploying, inspecting, lineage, project
from lambdadeploy.cli.group import COMMANDS, cli


def test_the_command_table_names_every_command_the_modules_define() -> None:
    defined = {value.name: module.__name__.rsplit(".", 1)[-1]
               for module in (project, deploying, inspecting, lineage)
               for value in vars(module).values() if isinstance(value, click.Command)}
    assert defined == COMMANDS
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
    assert cli.get_command(context, "deploy") is None
    assert cli.list_commands(context) == sorted(COMMANDS)


@pytest.mark.parametrize(("args", "not_loaded"), [
    (["--version"], ["lambdadeploy.config", "lambdadeploy.engine", "boto3", "jinja2"]),
    (["validate", "--help"], ["lambdadeploy.engine", "boto3", "moto"]),
])
def test_a_command_loads_only_what_it_runs(args: list[str], not_loaded: list[str]) -> None:
    script = ("import sys, atexit; atexit.register(lambda: print(sorted({m.split('.')[0] if m.split('.')[0] != "
              "'lambdadeploy' else '.'.join(m.split('.')[:2]) for m in sys.modules}))); "
              "from lambdadeploy.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().splitlines()[-1]
    for name in not_loaded:
        assert f"'{name}'" not in loaded, f"{args} loaded {name}"
