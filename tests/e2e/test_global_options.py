"""README, Commands: the global options, each through the CLI against a real sandbox server.

--profile, --region, --endpoint-url (and LAMBDADEPLOY_ENDPOINT_URL), -v, -q, --no-color and
NO_COLOR. Colour is only on for a terminal, so those run on a pseudo-terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambdadeploy.local.seam import install_invoke_seam

from ..reliability.faults import FaultProxy
from .conftest import Sandbox, free_port, run_cli, run_on_terminal

CONFIG = """\
project: {project}
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    test: {{payload: {{}}, expect: {{ok: true}}}}
"""

ANY_ESCAPE = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def make_project(root: Path, project: str) -> Path:
    source = root / "functions" / "fn"
    source.mkdir(parents=True)
    (source / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (root / "lambda.yaml").write_text(CONFIG.format(project=project))
    return root


def lambda_client(sandbox: Sandbox, region: str):
    return sandbox.client("lambda", region_name=region)


@pytest.mark.parametrize("extra", [[], ["--endpoint-url", "http://127.0.0.1:9"]])
def test_unknown_profile_exits_2_with_a_clear_message(tmp_path: Path, extra: list[str]) -> None:
    root = make_project(tmp_path, "noprof")
    result = run_cli(["--profile", "nope", *extra, "status"], root)
    assert result.code == 2, result.stderr
    assert "AWS profile not found: nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_profile_from_the_aws_files_is_used(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """Its credentials sign every request and its region is where the function lands. The
    profile holds the sandbox's own keys (the sandbox refuses any others); default does not."""
    root = make_project(tmp_path / "project", "prof")
    keys = sandbox_server.credentials
    (tmp_path / "config").write_text("[default]\nregion = us-west-1\n\n[profile deployer]\nregion = eu-west-3\n")
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULTXXXXXXXXX\naws_secret_access_key = default-secret\n\n"
        f"[deployer]\naws_access_key_id = {keys.access_key_id}\naws_secret_access_key = {keys.secret_access_key}\n")
    files = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")}
    proxy = FaultProxy(sandbox_server.url).start()  # no faults: it records who signed each request
    try:
        result = run_cli(["--profile", "deployer", "--endpoint-url", proxy.url, "push", "--alias", "dev"],
                         root, env=files)
    finally:
        proxy.stop()
    assert result.code == 0, result.stderr
    assert proxy.credentials and all(c.startswith(f"{keys.access_key_id}/") for c in proxy.credentials)
    lambda_scopes = [c for c in proxy.credentials if "/lambda/" in c]
    assert lambda_scopes and all("/eu-west-3/" in c for c in lambda_scopes)
    arn = lambda_client(sandbox_server, "eu-west-3").get_function(FunctionName="prof-fn")["Configuration"]["FunctionArn"]
    assert arn.startswith("arn:aws:lambda:eu-west-3:")


def test_region_option_decides_where_the_function_lands(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "reg")
    result = run_cli(["--sandbox", "--region", "eu-central-1", "push", "--alias", "dev"], root, sandbox_server)
    assert result.code == 0, result.stderr
    arn = lambda_client(sandbox_server, "eu-central-1").get_function(FunctionName="reg-fn")["Configuration"]["FunctionArn"]
    assert arn.startswith("arn:aws:lambda:eu-central-1:")
    names = [f["FunctionName"] for f in lambda_client(sandbox_server, "us-east-1").list_functions()["Functions"]]
    assert "reg-fn" not in names


@pytest.fixture
def open_endpoint() -> Iterator[str]:
    """An AWS-compatible endpoint that takes any credentials: moto's own server (in this process,
    with the invoke seam, so the smoke invoke runs the code)."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    install_invoke_seam()
    default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_endpoint_url_pushes_without_sandbox_or_credentials(tmp_path: Path, open_endpoint: str) -> None:
    root = make_project(tmp_path, "endp")
    result = run_cli(["--endpoint-url", open_endpoint, "push", "--alias", "dev"], root)
    assert result.code == 0, result.stderr
    assert "sandbox:" not in result.stderr  # not the --sandbox machinery
    alias = boto3.client("lambda", endpoint_url=open_endpoint, region_name="us-east-1", aws_access_key_id="any",
                         aws_secret_access_key="any").get_alias(FunctionName="endp-fn", Name="dev")
    assert alias["FunctionVersion"] == "1"
    status = run_cli(["status"], root, env={"LAMBDADEPLOY_ENDPOINT_URL": open_endpoint})
    assert status.code == 0, status.stderr
    assert "endp-fn: 1 version(s)" in status.stdout and "dev -> 1" in status.stdout


def test_the_sandbox_refuses_the_dummy_credentials_and_takes_its_own(tmp_path: Path, sandbox_server: Sandbox) -> None:
    """--endpoint-url at a lambdadeploy sandbox: only its owner's keys (`sandbox --env`) are accepted."""
    root = make_project(tmp_path, "owned")
    refused = run_cli(["--endpoint-url", sandbox_server.url, "push", "--alias", "dev"], root)
    assert refused.code == 1
    assert "UnrecognizedClientException" in refused.stderr or "InvalidClientTokenId" in refused.stderr, refused.stderr
    exported = run_cli(["sandbox", "--env", "--credentials-file", str(sandbox_server.credentials_file)], root)
    assert exported.code == 0, exported.stderr
    variables = dict(line.removeprefix("export ").split("=", 1) for line in exported.stdout.splitlines())
    assert variables["AWS_ENDPOINT_URL"] == sandbox_server.url
    assert set(variables) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"}
    accepted = run_cli(["--endpoint-url", sandbox_server.url, "push", "--alias", "dev"], root, env=variables)
    assert accepted.code == 0, accepted.stderr
    assert sandbox_server.client("lambda").get_alias(FunctionName="owned-fn", Name="dev")["FunctionVersion"] == "1"


def test_traceback_only_with_verbose(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "verb")  # never pushed: invoking it is an AWS error
    for args, code, message in ((["invoke", "nope"], 2, "unknown function 'nope'"),
                                (["--sandbox", "invoke", "fn", "--alias", "dev"], 1, "ResourceNotFoundException")):
        quiet = run_cli(args, root, sandbox_server)
        assert quiet.code == code and message in quiet.stderr, quiet.stderr
        assert "Traceback" not in quiet.stderr
        verbose = run_cli(["-v", *args], root, sandbox_server)
        assert verbose.code == code and message in verbose.stderr, verbose.stderr
        assert "Traceback (most recent call last)" in verbose.stderr


def test_quiet_prints_results_without_progress(tmp_path: Path, sandbox_server: Sandbox) -> None:
    loud = run_cli(["--sandbox", "push", "--alias", "dev"], make_project(tmp_path / "a", "loud"), sandbox_server)
    assert loud.code == 0, loud.stderr
    assert "fn: + function" in loud.stderr and "sandbox: using" in loud.stderr  # there is progress to hide
    quiet = run_cli(["-q", "--sandbox", "push", "--alias", "dev"], make_project(tmp_path / "b", "quiet"), sandbox_server)
    assert quiet.code == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("ok quiet-fn  version 1 (published)  dev: (none) -> 1")
    assert sandbox_server.client("lambda").get_alias(FunctionName="quiet-fn", Name="dev")["FunctionVersion"] == "1"


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path, sandbox_server: Sandbox) -> None:
    root = make_project(tmp_path, "colour")
    terminal = {"NO_COLOR": None, "CI": None}  # a person at a terminal: live status line, colour
    push = ["--sandbox", "push", "--alias", "dev"]

    coloured = run_on_terminal(push, root, sandbox_server, env=terminal)
    assert coloured.code == 0, coloured.stdout
    assert COLOUR.search(coloured.stdout), coloured.stdout  # so the checks below can fail
    # (A person's terminal keeps the status line that rewrites itself, so only colour is checked.)
    plain = run_on_terminal(push, root, sandbox_server, env={**terminal, "NO_COLOR": "1"})
    assert plain.code == 0 and "ok colour-fn" in plain.stdout, plain.stdout
    assert not COLOUR.search(plain.stdout), plain.stdout
    # In CI mode (plain progress lines) --no-color leaves no escape sequence at all.
    ci = run_on_terminal(["--no-color", *push], root, sandbox_server, env={"NO_COLOR": None, "CI": "true"})
    assert ci.code == 0 and "ok colour-fn" in ci.stdout and not ANY_ESCAPE.search(ci.stdout), ci.stdout

    # The error message of a failed command, too.
    error = ["invoke", "nope"]
    assert COLOUR.search(run_on_terminal(error, root, env=terminal).stdout)
    for args, env in ((["--no-color", *error], terminal), (error, {**terminal, "NO_COLOR": "1"})):
        failed = run_on_terminal(args, root, env=env)
        assert failed.code == 2 and "error: unknown function 'nope'" in failed.stdout
        assert not ANY_ESCAPE.search(failed.stdout), (args, failed.stdout)
