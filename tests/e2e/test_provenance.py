"""What runs where, from which commit (#19), through the CLI and a `lambdadeploy sandbox` server,
in a git repository made by the test: push, promote, edit + commit, push, a push from a dirty
tree; then status, history and diff (human and --json) name the right commits on the right
aliases, and a version's recorded commit never stops its reuse."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lambdadeploy.engine.provenance import CI_SYSTEMS

from .conftest import CliResult, Sandbox, run_cli

CONFIG = """\
project: {project}
aliases: [dev, prod]
functions:
  api:
    handler: app.handler
    memory: {memory}
    environment: {{GREETING: {greeting}}}
    test:
      payload: {{}}
      expect: {{code: {code}}}
"""
# No CI variables leak in from the machine running the tests; who pushes is known.
LOCAL = {**{system.detect: None for system in CI_SYSTEMS}, "USER": "alice"}
GITHUB = {**LOCAL, "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_ACTOR": "octocat",
          "GITHUB_REPOSITORY": "shop/api", "GITHUB_SERVER_URL": "https://github.com"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def write(root: Path, project: str, code: int, memory: int = 128, greeting: str = "hi") -> None:
    (root / "functions" / "api").mkdir(parents=True, exist_ok=True)
    (root / "functions" / "api" / "app.py").write_text(f"def handler(event, context):\n    return {{'code': {code}}}\n")
    (root / "lambda.yaml").write_text(CONFIG.format(project=project, memory=memory, greeting=greeting, code=code))


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "--short", "HEAD")


def ok(root: Path, server: Sandbox, *args: str, env: dict[str, str | None] = LOCAL) -> CliResult:
    result = run_cli(["--sandbox", *args], root, server, env=env)
    assert result.code == 0, result.stdout + result.stderr
    return result


def document(root: Path, server: Sandbox, *args: str) -> dict:
    return json.loads(ok(root, server, "--json", *args).stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".gitignore").write_text(".cache/\n")
    return tmp_path


def test_status_history_and_diff_say_which_commit_runs_where(repo: Path, sandbox_server: Sandbox) -> None:
    """Long on purpose: one story, each step building on the last."""
    write(repo, "prov", code=1)
    first = commit(repo, "first")
    ok(repo, sandbox_server, "push", "--alias", "dev")
    ok(repo, sandbox_server, "promote", "--from", "dev", "--to", "prod")
    write(repo, "prov", code=2, memory=256, greeting="hello")
    second = commit(repo, "second: bigger and friendlier")
    ok(repo, sandbox_server, "push", "--alias", "dev", env=GITHUB)

    # status: per alias the version, its commit and when it moved
    status = ok(repo, sandbox_server, "status").stdout
    assert f"dev -> 2 ({second}), moved " in status and "by octocat (push, smoke ok)" in status
    assert f"prod -> 1 ({first}), moved " in status and "by alice (promote, smoke ok)" in status
    aliases = document(repo, sandbox_server, "status")["functions"][0]["aliases"]
    assert (aliases["dev"]["commit"], aliases["dev"]["dirty"], aliases["dev"]["moved"]["how"]) == (second, False, "push")
    assert aliases["dev"]["ci"] == "https://github.com/shop/api/actions/runs/4242"
    assert (aliases["prod"]["commit"], aliases["prod"]["moved"]["by"]) == (first, "alice")
    assert aliases["prod"]["moved"]["at"].endswith("Z")

    # history: the moves, newest first, each with its commit
    dev = document(repo, sandbox_server, "history", "--alias", "dev")["functions"][0]["moves"]
    assert [(m["version"], m["commit"], m["how"], m["smoke"], m["by"], m["serving"]) for m in dev] == [
        ("2", second, "push", "ok", "octocat", True), ("1", first, "push", "ok", "alice", False)]
    prod = document(repo, sandbox_server, "history", "--alias", "prod")["functions"][0]["moves"]
    assert [(m["version"], m["commit"], m["how"]) for m in prod] == [("1", first, "promote")]
    lines = ok(repo, sandbox_server, "history", "--alias", "dev").stdout.splitlines()
    assert lines[0] == "prov-api (dev, newest first):"
    assert lines[1].split()[:2] == ["2", second] and lines[1].endswith("by octocat  <- serving")
    assert lines[2].split()[:2] == ["1", first] and "push" in lines[2] and "by alice" in lines[2]

    # diff: the configuration fields, the code, and the commit between them
    text = ok(repo, sandbox_server, "diff", "dev", "prod").stdout
    assert "~ MemorySize: 256 -> 128" in text
    assert '~ Environment.GREETING: "hello" -> "hi"' in text
    assert "commits in dev not in prod: 1" in text and f"    {second} second: bigger and friendlier" in text
    assert "commits in prod not in dev: none" in text
    found = document(repo, sandbox_server, "diff", "dev", "prod")["functions"][0]
    assert (found["from"]["version"], found["to"]["version"], found["same_code"]) == ("2", "1", False)
    assert {c["field"]: (c["old"], c["new"]) for c in found["changes"]} == {
        "MemorySize": (256, 128), "Environment.GREETING": ("hello", "hi")}
    assert found["commits"] == {"from_only": [{"commit": second, "subject": "second: bigger and friendlier"}],
                                "to_only": []}

    # a push from a dirty tree says so everywhere
    (repo / "functions" / "api" / "app.py").write_text("def handler(event, context):\n    return {'code': 2}  # wip\n")
    ok(repo, sandbox_server, "push", "--alias", "dev")
    assert f"dev -> 3 ({second}+dirty)" in ok(repo, sandbox_server, "status").stdout
    latest = document(repo, sandbox_server, "history", "--alias", "dev")["functions"][0]["moves"][0]
    assert (latest["version"], latest["commit"], latest["dirty"]) == ("3", second, True)
    assert "note: dev's version was built with uncommitted changes (+dirty)" in ok(
        repo, sandbox_server, "diff", "dev", "prod").stdout


def test_the_recorded_commit_never_stops_a_version_from_being_reused(repo: Path, sandbox_server: Sandbox) -> None:
    write(repo, "reuse", code=1)
    commit(repo, "first")
    ok(repo, sandbox_server, "push", "--alias", "dev")
    (repo / "README.md").write_text("docs only\n")
    later = commit(repo, "docs")  # a new commit, the same package and configuration
    again = json.loads(ok(repo, sandbox_server, "--json", "push", "--alias", "dev").stdout)["functions"][0]
    assert (again["version"], again["published"]) == ("1", False)
    promoted = json.loads(ok(repo, sandbox_server, "--json", "promote", "--from", "dev", "--to", "prod").stdout)
    assert promoted["functions"][0]["version"] == "1"  # same configuration for prod: the same version
    moves = document(repo, sandbox_server, "history", "--alias", "prod")["functions"][0]["moves"]
    assert moves[0]["commit"] != later and moves[0]["version"] == "1"  # the commit it was built from


def test_outside_a_git_repository_there_is_no_commit_and_it_says_so(tmp_path: Path, sandbox_server: Sandbox) -> None:
    write(tmp_path, "nogit", code=1)
    assert ok(tmp_path, sandbox_server, "history", "--alias", "dev").stdout == "nogit-api: not deployed\n"
    ok(tmp_path, sandbox_server, "push", "--alias", "dev")
    assert ok(tmp_path, sandbox_server, "history", "--alias", "prod").stdout == "nogit-api: alias prod does not exist\n"
    assert document(tmp_path, sandbox_server, "history", "--alias", "prod")["functions"][0]["exists"] is False
    assert "dev -> 1 (no git), moved " in ok(tmp_path, sandbox_server, "status").stdout
    found = document(tmp_path, sandbox_server, "diff", "dev", "dev")["functions"][0]
    assert found["same_version"] and found["from"]["commit"] is None
    missing = run_cli(["--sandbox", "history", "--alias", "stage"], tmp_path, sandbox_server, env=LOCAL)
    assert missing.code == 2 and "not one of the aliases" in missing.stderr


NODE_CONFIG = """\
project: nodeprov
aliases: [dev, prod]
functions:
  web:
    runtime: nodejs20.x
    handler: index.handler
    test:
      payload: {}
      expect: {code: 1}
"""


def test_a_node_function_records_its_commit_and_its_local_node_modules_do_not_make_it_dirty(
        repo: Path, sandbox_server: Sandbox) -> None:
    web = repo / "functions" / "web"
    web.mkdir(parents=True)
    (web / "index.mjs").write_text("export const handler = async () => ({code: 1});\n")
    (web / "package.json").write_text('{"name": "web", "version": "1.0.0", "type": "module"}\n')
    (repo / "lambda.yaml").write_text(NODE_CONFIG)
    first = commit(repo, "node function")
    (web / "node_modules" / "left-pad").mkdir(parents=True)  # a local `npm install`: never packed
    (web / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1;\n")
    ok(repo, sandbox_server, "push", "--alias", "dev")
    assert f"dev -> 1 ({first}), moved " in ok(repo, sandbox_server, "status").stdout
    (web / "index.mjs").write_text("export const handler = async () => ({code: 1}); // wip\n")
    ok(repo, sandbox_server, "push", "--alias", "dev")
    moves = document(repo, sandbox_server, "history", "--alias", "dev")["functions"][0]["moves"]
    assert [(m["version"], m["commit"], m["dirty"]) for m in moves] == [("2", first, True), ("1", first, False)]
