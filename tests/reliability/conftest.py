"""Reliability fixtures: sandbox servers (in-process, or a `lambdadeploy sandbox` subprocess),
a fault-injecting proxy in front of either, and the CLI run against an endpoint."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.aws import AwsSession, AwsSettings
from lambdadeploy.engine.history import AliasHistory
from lambdadeploy.local.sandbox import Sandbox

from ..aws.conftest import session  # noqa: F401  (moto in-process, with real invokes)
from ..e2e.conftest import (  # noqa: F401  (sandbox_server: a `lambdadeploy sandbox` subprocess)
    ENDPOINT_CREDENTIALS,
    CliResult,
    endpoint_environment,
    run_cli,
    sandbox_server,
)
from ..e2e.conftest import Sandbox as SandboxServer
from .faults import FaultProxy

_names = itertools.count()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    server = Sandbox(timing="off").start()  # AWS's delays are tested in tests/e2e/test_sandbox_timing.py
    ENDPOINT_CREDENTIALS[server.url] = server.credentials
    yield server
    server.stop()


@pytest.fixture
def proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    faulty = FaultProxy(sandbox.url).start()
    ENDPOINT_CREDENTIALS[faulty.url] = sandbox.credentials
    yield faulty
    faulty.stop()


def session_for(url: str) -> AwsSession:
    """A session signed with the keys of the sandbox at (or behind) `url`."""
    keys = ENDPOINT_CREDENTIALS[url]
    return AwsSession(AwsSettings(region="us-east-1", endpoint_url=url,
                                  static_credentials=(keys.access_key_id, keys.secret_access_key)))


@pytest.fixture
def project_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A project name unique within this worker, since the sandbox's state is shared."""
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    return f"rel{next(_names)}"


@pytest.fixture
def server_proxy(sandbox_server: SandboxServer) -> Iterator[FaultProxy]:  # noqa: F811
    """A fault proxy in front of the `lambdadeploy sandbox` subprocess, for CLI runs."""
    faulty = FaultProxy(sandbox_server.url).start()
    ENDPOINT_CREDENTIALS[faulty.url] = sandbox_server.credentials
    yield faulty
    faulty.stop()


def cli(args: list[str], root: Path, url: str) -> CliResult:
    """The CLI as a user runs it, against the endpoint at `url` (e.g. a fault proxy)."""
    return run_cli(["--endpoint-url", url, *args], root, env=endpoint_environment(url))


def start_cli(args: list[str], root: Path, url: str) -> subprocess.Popen:
    """`cli` in the background, for tests that signal or kill it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "LAMBDADEPLOY_CACHE_DIR": str(root / ".cache"), "NO_COLOR": "1", "CI": "true",
                        **endpoint_environment(url)})
    return subprocess.Popen([sys.executable, "-m", "lambdadeploy", "--endpoint-url", url, *args], cwd=root,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pushed(result: CliResult) -> dict[str, Any]:
    """The one function of a `--json push` document."""
    (function,) = json.loads(result.stdout)["functions"]
    return function


def alias_state(server: SandboxServer, function: str, alias: str) -> dict[str, Any]:
    """Where an alias points, its canary weights, and the history recorded in its description
    (engine/history.py), read with a client of our own."""
    found = server.client("lambda").get_alias(FunctionName=function, Name=alias)
    description = found.get("Description") or ""
    assert description.startswith("lambdadeploy "), description
    history = AliasHistory.decode(description)
    return {"version": found["FunctionVersion"],
            "weights": (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {},
            "previous": list(history.previous), "smoke": history.smoke}


def published(server: SandboxServer, function: str) -> list[str]:
    listed = server.client("lambda").list_versions_by_function(FunctionName=function)["Versions"]
    return [v["Version"] for v in listed if v["Version"] != "$LATEST"]
