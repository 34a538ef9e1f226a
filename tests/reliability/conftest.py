"""Reliability fixtures: an in-process sandbox server, and a fault-injecting proxy in front of it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdadeploy.aws import AwsSession, AwsSettings
from lambdadeploy.local.sandbox import Sandbox

from ..aws.conftest import session  # noqa: F401  (moto in-process, with real invokes)
from ..e2e.conftest import sandbox_server  # noqa: F401  (a `lambdadeploy sandbox` subprocess)
from .faults import FaultProxy

_names = itertools.count()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    server = Sandbox().start()
    yield server
    server.stop()


@pytest.fixture
def proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    faulty = FaultProxy(sandbox.url).start()
    yield faulty
    faulty.stop()


def session_for(url: str) -> AwsSession:
    return AwsSession(AwsSettings(region="us-east-1", endpoint_url=url, static_credentials=("test", "test")))


@pytest.fixture
def project_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A project name unique within this worker, since the sandbox's state is shared."""
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    return f"rel{next(_names)}"
