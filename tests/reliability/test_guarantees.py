"""The safety guarantees, each pinned by a test that fails when the guarantee is broken:
a canary is smoke-tested before it gets traffic, rollback follows the history recorded on
the alias (not "the version below"), every alias move records that history, and a version
with the same code and configuration is reused rather than published again.

Real CLI processes against a real `lambdadeploy sandbox` server; state is read with a
boto3 client of our own.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..e2e.conftest import Sandbox, run_cli
from .conftest import alias_state, published, pushed

CONFIG = """project: {name}
aliases: [dev, prod]
functions:
  fn:
    handler: app.handler
    memory: {memory}
    test: {{payload: {{}}, expect: {{code: {code}}}}}
"""
PASSED = re.compile(r"^v(\d+) passed in [\d.]+ ms$")


def write(root: Path, name: str, code: str, *, memory: int = 128, fail: bool = False) -> None:
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    body = "raise RuntimeError('broken build')" if fail else f"return {{'code': '{code}'}}"
    (source / "app.py").write_text(f"def handler(event, context):\n    {body}\n")
    (root / "lambda.yaml").write_text(CONFIG.format(name=name, memory=memory, code=code))


def ld(root: Path, server: Sandbox, *args: str):
    return run_cli(["--sandbox", *args], root, server)


def ok(root: Path, server: Sandbox, *args: str):
    result = ld(root, server, *args)
    assert result.code == 0, result.stdout + result.stderr
    return result


def push_codes(root: Path, server: Sandbox, name: str, *codes: str, alias: str = "dev") -> None:
    for code in codes:
        write(root, name, code)
        ok(root, server, "push", "--alias", alias)


def where(server: Sandbox, function: str, alias: str) -> tuple[str, list[str]]:
    state = alias_state(server, function, alias)
    return state["version"], state["previous"]


# 1. A canary is smoke-tested before any traffic shifts to it.

def test_canary_whose_smoke_test_fails_gets_no_traffic(tmp_path: Path, sandbox_server: Sandbox) -> None:
    push_codes(tmp_path, sandbox_server, "gcan", "v1", alias="prod")
    before = alias_state(sandbox_server, "gcan-fn", "prod")
    write(tmp_path, "gcan", "v2", fail=True)
    result = ld(tmp_path, sandbox_server, "push", "--alias", "prod", "--canary", "10")
    assert result.code == 1, result.stdout + result.stderr
    assert "broken build" in result.stdout + result.stderr
    after = alias_state(sandbox_server, "gcan-fn", "prod")
    assert after["version"] == "1" and after["weights"] == {}
    assert after == before  # not even the description was touched
    assert published(sandbox_server, "gcan-fn") == ["1", "2"]  # kept for inspection, serving nothing


# 2 and 3. Rollback follows the history each move records on the alias.

def test_rollback_after_rollback_to_returns_along_the_recorded_moves(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, fn = "grb", "grb-fn"
    push_codes(tmp_path, sandbox_server, name, "v1", "v2", "v3")
    assert where(sandbox_server, fn, "dev") == ("3", ["2", "1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev", "--to", "1")
    assert where(sandbox_server, fn, "dev") == ("1", ["3", "2", "1"])
    # Two rollbacks go two moves back: 1 came from 3, 3 from 2; "the version below 1" does not exist.
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")
    assert where(sandbox_server, fn, "dev") == ("3", ["2", "1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")
    assert where(sandbox_server, fn, "dev") == ("2", ["1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")
    assert where(sandbox_server, fn, "dev") == ("1", [])


def test_rollback_after_a_push_that_followed_a_rollback(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, fn = "gpr", "gpr-fn"
    push_codes(tmp_path, sandbox_server, name, "v1", "v2", "v3")
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")
    assert where(sandbox_server, fn, "dev") == ("2", ["1"])
    push_codes(tmp_path, sandbox_server, name, "v4")
    assert where(sandbox_server, fn, "dev") == ("4", ["2", "1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")  # back to 2, where it was; not 3
    assert where(sandbox_server, fn, "dev") == ("2", ["1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev")
    assert where(sandbox_server, fn, "dev") == ("1", [])


def test_rollback_after_promote_returns_to_what_the_target_served(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, fn = "gpm", "gpm-fn"
    push_codes(tmp_path, sandbox_server, name, "v1")
    ok(tmp_path, sandbox_server, "promote", "--from", "dev", "--to", "prod")
    assert where(sandbox_server, fn, "prod") == ("1", [])
    push_codes(tmp_path, sandbox_server, name, "v2", "v3")
    ok(tmp_path, sandbox_server, "promote", "--from", "dev", "--to", "prod")
    assert where(sandbox_server, fn, "prod") == ("3", ["1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "prod", "--to", "2")
    assert where(sandbox_server, fn, "prod") == ("2", ["3", "1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "prod")
    assert where(sandbox_server, fn, "prod") == ("3", ["1"])
    ok(tmp_path, sandbox_server, "rollback", "--alias", "prod")  # prod never served 2 before: straight to 1
    assert where(sandbox_server, fn, "prod") == ("1", [])
    assert where(sandbox_server, fn, "dev") == ("3", ["2", "1"])  # dev untouched by prod's moves


def test_every_kind_of_move_records_history_and_smoke(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, fn = "ghist", "ghist-fn"
    push_codes(tmp_path, sandbox_server, name, "v1")
    created = alias_state(sandbox_server, fn, "dev")
    assert (created["version"], created["previous"]) == ("1", [])
    assert PASSED.match(created["smoke"]) and PASSED.match(created["smoke"])[1] == "1"

    push_codes(tmp_path, sandbox_server, name, "v2")
    moved = alias_state(sandbox_server, fn, "dev")
    assert (moved["version"], moved["previous"]) == ("2", ["1"])
    assert PASSED.match(moved["smoke"]) and PASSED.match(moved["smoke"])[1] == "2"

    write(tmp_path, name, "v1")
    ok(tmp_path, sandbox_server, "push", "--alias", "prod")  # prod created at 1 (reused)
    write(tmp_path, name, "v2")  # what dev serves, so its smoke test expects v2
    ok(tmp_path, sandbox_server, "promote", "--from", "dev", "--to", "prod")
    promoted = alias_state(sandbox_server, fn, "prod")
    assert (promoted["version"], promoted["previous"]) == ("2", ["1"])
    assert PASSED.match(promoted["smoke"]) and PASSED.match(promoted["smoke"])[1] == "2"

    ok(tmp_path, sandbox_server, "rollback", "--alias", "dev", "--to", "1")
    rolled = alias_state(sandbox_server, fn, "dev")
    assert (rolled["version"], rolled["previous"]) == ("1", ["2", "1"])
    assert rolled["smoke"].startswith("v1 ") and "passed" not in rolled["smoke"]  # rollback does not smoke-test


# 5. A version with exactly this code and configuration is reused, never published again.

def test_returning_to_an_earlier_configuration_reuses_its_version(tmp_path: Path, sandbox_server: Sandbox) -> None:
    name, fn = "greuse", "greuse-fn"
    for memory, version in ((128, "1"), (256, "2")):
        write(tmp_path, name, "v1", memory=memory)
        document = pushed(ok(tmp_path, sandbox_server, "--json", "push", "--alias", "dev"))
        assert document["version"] == version and document["published"]
    write(tmp_path, name, "v1", memory=128)
    again = pushed(ok(tmp_path, sandbox_server, "--json", "push", "--alias", "dev"))
    assert (again["version"], again["published"], again["uploaded"]) == ("1", False, False)
    assert {"kind": "use_version", "version": "1"}.items() <= again["steps"][0].items(), again["steps"]
    assert published(sandbox_server, fn) == ["1", "2"]  # moto would publish a 3rd after an update
    assert where(sandbox_server, fn, "dev") == ("1", ["2", "1"])
    config = sandbox_server.client("lambda").get_function_configuration(FunctionName=fn, Qualifier="dev")
    assert config["MemorySize"] == 128
