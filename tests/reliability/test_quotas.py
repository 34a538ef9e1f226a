"""AWS's request quotas, answered like AWS: a stateful proxy in front of moto refuses requests
over Lambda's per-quota rates with 429 TooManyRequestsException "Rate exceeded"."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdadeploy.aws import client as aws_client
from lambdadeploy.aws.retry import RetryPolicy
from lambdadeploy.config import load
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.local.sandbox import Sandbox

from ..e2e.conftest import ENDPOINT_CREDENTIALS
from .conftest import session_for
from .faults import AWS_QUOTAS, FaultProxy, Rule

FUNCTIONS = 12


def fleet(root: Path, name: str, count: int = FUNCTIONS, body: str = "return {'v': 1}"):  # type: ignore[no-untyped-def]
    lines = [f"project: {name}", "aliases: [dev, prod]", "functions:"]
    for index in range(count):
        source = root / "functions" / f"f{index:02d}"
        source.mkdir(parents=True, exist_ok=True)
        (source / "app.py").write_text(f"def handler(event, context):\n    {body}\n")
        lines.append(f"  f{index:02d}: {{handler: app.handler}}")
    (root / "lambda.yaml").write_text(textwrap.dedent("\n".join(lines)) + "\n")
    return load(root / "lambda.yaml")


def push(url: str, project, alias: str = "dev", parallel: int = FUNCTIONS):  # type: ignore[no-untyped-def]
    return Deployer(session_for(url), project, lambda event: None, parallel=parallel).push(project.functions, alias)


@pytest.fixture
def quota_proxy(sandbox: Sandbox) -> FaultProxy:
    proxy = FaultProxy(sandbox.url, quotas=dict(AWS_QUOTAS)).start()
    ENDPOINT_CREDENTIALS[proxy.url] = sandbox.credentials  # the sandbox takes only its own keys
    yield proxy
    proxy.stop()


def test_a_parallel_fleet_push_stays_within_the_quotas(tmp_path: Path, sandbox: Sandbox, quota_proxy: FaultProxy,
                                                       project_name: str) -> None:
    """Twelve workers creating, then changing, twelve functions: AWS never has to refuse one."""
    results = push(quota_proxy.url, fleet(tmp_path, project_name))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    results = push(quota_proxy.url, fleet(tmp_path, project_name, body="return {'v': 2}"))
    assert all(r.ok and r.published for r in results), [r.error for r in results if not r.ok]
    assert quota_proxy.throttled == []
    control = [t for t, quota in quota_proxy.admitted if quota == "control plane"]
    assert len(control) > 5 * AWS_QUOTAS["control plane"]  # enough to spend the saved-up burst many times over
    # The client's rate, seen from AWS's side: beyond the half second's worth it saves up,
    # never faster than the quota.
    span = max(control) - min(control)
    assert (len(control) - AWS_QUOTAS["control plane"] / 2) / span <= AWS_QUOTAS["control plane"] * 1.02


def test_throttling_slows_the_push_down_but_never_fails_it(tmp_path: Path, sandbox: Sandbox, quota_proxy: FaultProxy,
                                                          project_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client told the quota is four times what AWS grants (LAMBDADEPLOY_API_RATE, say raised
    limits that were not): AWS answers 429s, the client backs off and every function lands."""
    monkeypatch.setenv("LAMBDADEPLOY_API_RATE", "control=60,GetFunction=400")
    results = push(quota_proxy.url, fleet(tmp_path, project_name))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert quota_proxy.throttled, "the proxy was expected to refuse some requests"
    check = session_for(sandbox.url)
    for index in range(FUNCTIONS):
        remote = read_function(check, f"{project_name}-f{index:02d}")
        assert [v.version for v in remote.versions] == ["1"] and remote.aliases["dev"].version == "1"


def test_throttling_that_never_ends_fails_the_push_and_moves_no_alias(
        tmp_path: Path, sandbox: Sandbox, proxy: FaultProxy, project_name: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(r.ok for r in push(sandbox.url, fleet(tmp_path, project_name, count=2)))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setattr(aws_client, "THROTTLED", RetryPolicy(
        "AWS is throttling", aws_client.THROTTLED.applies, seconds=2, first_delay=0.2, max_delay=0.5))
    proxy.rules.append(Rule("UpdateAlias", "throttle", times=10_000))
    results = push(proxy.url, fleet(tmp_path, project_name, count=2, body="return {'v': 2}"))
    assert all(not r.ok and r.exit_code == 1 for r in results)
    assert all("TooManyRequestsException" in (r.error or "") and "LAMBDADEPLOY_API_RATE" in (r.error or "")
               for r in results)
    check = session_for(sandbox.url)
    for index in range(2):
        assert read_function(check, f"{project_name}-f{index:02d}").aliases["dev"].version == "1"
