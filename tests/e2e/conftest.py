"""End-to-end fixtures: a real `lambdadeploy sandbox` server in a subprocess, and the CLI."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lambdadeploy.local.credentials import SandboxCredentials, read_credentials
from lambdadeploy.local.sandbox import sandbox_answers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Each endpoint a test talks to (a sandbox, or a proxy in front of one) -> the keys it accepts.
ENDPOINT_CREDENTIALS: dict[str, SandboxCredentials] = {}


def endpoint_environment(url: str) -> dict[str, str]:
    """AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a CLI run with --endpoint-url `url`."""
    return ENDPOINT_CREDENTIALS[url].environment()


@dataclass
class Sandbox:
    url: str
    credentials_file: Path
    credentials: SandboxCredentials

    def client(self, service: str, **overrides: str):
        """A boto3 client of our own (signed with the sandbox owner's keys), independent of the CLI."""
        settings = {"endpoint_url": self.url, "region_name": "us-east-1",
                    "aws_access_key_id": self.credentials.access_key_id,
                    "aws_secret_access_key": self.credentials.secret_access_key, **overrides}
        return boto3.client(service, **settings)

    def environment(self) -> dict[str, str]:
        """The variables `lambdadeploy sandbox --env` prints: how the user's own scripts reach it."""
        return read_credentials(self.credentials_file).environment()


def start_sandbox_server(folder: Path, *options: str) -> tuple[subprocess.Popen, Sandbox]:
    """`lambdadeploy sandbox` on a free port, its credentials written to a file in `folder`;
    returns once it answers."""
    port = free_port()
    log = folder / "sandbox.log"
    credentials_file = folder / "sandbox-credentials.json"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "lambdadeploy", "sandbox", "--port", str(port),
             "--credentials-file", str(credentials_file), *options],
            stdout=handle, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if credentials_file.exists() and sandbox_answers(url):
            server = Sandbox(url, credentials_file, read_credentials(credentials_file).credentials)
            ENDPOINT_CREDENTIALS[url] = server.credentials
            return process, server
        if process.poll() is not None:
            raise RuntimeError("sandbox exited:\n" + log.read_text())
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("sandbox did not start:\n" + log.read_text())


def stop_sandbox_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The shared sandbox, with AWS's delays off so that tests of other things stay quick;
    test_sandbox_timing.py runs the default (`fast`) timing, a push through it included."""
    process, server = start_sandbox_server(tmp_path_factory.mktemp("sandbox"), "--aws-timing", "off")
    yield server
    stop_sandbox_server(process)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def cli_environment(cwd: Path, sandbox: Sandbox | None = None,
                    env: dict[str, str | None] | None = None) -> dict[str, str]:
    """The CLI's environment: no AWS credentials or files, no colour, CI mode, a cache in cwd;
    then `env` (None removes a variable).

    Without a sandbox, LAMBDADEPLOY_SANDBOX_URL points where nothing answers, so a --sandbox
    command starts its own and never uses one another test left on the default port; that one
    has AWS's delays off (LAMBDADEPLOY_SANDBOX_TIMING), as the shared sandbox server has."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "NO_COLOR": "1", "CI": "true"})
    environment["LAMBDADEPLOY_CACHE_DIR"] = str(cwd / ".cache")
    environment["LAMBDADEPLOY_SANDBOX_TIMING"] = "off"
    environment["LAMBDADEPLOY_SANDBOX_URL"] = sandbox.url if sandbox is not None else f"http://127.0.0.1:{free_port()}"
    if sandbox is not None:
        environment["LAMBDADEPLOY_SANDBOX_CREDENTIALS"] = str(sandbox.credentials_file)
    environment.update(env or {})
    return {k: v for k, v in environment.items() if v is not None}


def run_cli(args: list[str], cwd: Path, sandbox: Sandbox | None = None, stdin: str | None = None,
            env: dict[str, str | None] | None = None, python_code: str | None = None) -> CliResult:
    """Run the installed CLI as a user would, with no AWS credentials in the environment;
    python_code: run this instead of `-m lambdadeploy` (it calls the CLI's main() itself)."""
    environment = cli_environment(cwd, sandbox, env)
    entry = ["-c", python_code] if python_code is not None else ["-m", "lambdadeploy"]
    process = subprocess.run(
        [sys.executable, *entry, *args], cwd=cwd, env=environment, input=stdin,
        capture_output=True, text=True, timeout=300,
    )
    return CliResult(process.returncode, process.stdout, process.stderr)


def run_on_terminal(args: list[str], cwd: Path, sandbox: Sandbox | None = None,
                    env: dict[str, str | None] | None = None,
                    answer: tuple[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr (so isatty() is true).

    `answer` is (prompt, reply): the reply is typed once the prompt has been printed. The
    terminal merges both streams, so the output is in `stdout` (with \\r\\n line ends)."""
    environment = cli_environment(cwd, sandbox, env)
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "lambdadeploy", *args], cwd=cwd, env=environment,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"{args}: no end after {timeout} s:\n{output.decode(errors='replace')}")
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every process holding the terminal has exited
                break
            if not data:
                break
            output += data
            if answer is not None and answer[0].encode() in output:
                os.write(master, answer[1].encode())
                answer = None
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    return CliResult(process.returncode, output.decode(errors="replace"), "")
