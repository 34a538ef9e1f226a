"""End-to-end fixtures: a real `lambdadeploy sandbox` server in a subprocess, and the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sandbox:
    url: str

    def client(self, service: str):
        """A boto3 client of our own, independent of the CLI under test."""
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="check", aws_secret_access_key="check")


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "lambdadeploy", "sandbox", "--port", str(port)],
            stdout=handle, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("sandbox exited:\n" + log.read_text()) from None
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("sandbox did not start:\n" + log.read_text())
    yield Sandbox(url)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], cwd: Path, sandbox: Sandbox | None = None, stdin: str | None = None,
            env: dict[str, str] | None = None) -> CliResult:
    """Run the installed CLI as a user would, with no AWS credentials in the environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "NO_COLOR": "1", "CI": "true"})
    environment["LAMBDADEPLOY_CACHE_DIR"] = str(cwd / ".cache")
    if sandbox is not None:
        environment["LAMBDADEPLOY_SANDBOX_URL"] = sandbox.url
    environment.update(env or {})
    process = subprocess.run(
        [sys.executable, "-m", "lambdadeploy", *args], cwd=cwd, env=environment, input=stdin,
        capture_output=True, text=True, timeout=300,
    )
    return CliResult(process.returncode, process.stdout, process.stderr)
