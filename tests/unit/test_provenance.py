"""Provenance of a published version: what its description records (commit, +dirty, CI run, who)
and reads back, where the CI's variables say it, and the git state read with `git` itself."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from lambdadeploy.config import load
from lambdadeploy.engine.git import GitState, commits_between, function_state, read_state
from lambdadeploy.engine.provenance import Source, ci_run, source_of, who
from lambdadeploy.engine.remote import RemoteFunction, VersionState
from lambdadeploy.engine.steps import Publish, UpdateConfig, UpdateTags
from lambdadeploy.output.steps import document, one_line

from .test_plan import FN, ROLE, deployed, kinds, plan_push

GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "9876543210", "GITHUB_SHA": "f" * 40,
          "GITHUB_ACTOR": "octocat", "GITHUB_REPOSITORY": "shop/api", "GITHUB_SERVER_URL": "https://github.com"}


# -- the version description ---------------------------------------------------------------


@pytest.mark.parametrize("source", [
    Source("abc1234"), Source("abc1234", dirty=True), Source(None), Source(None, ci="gitlab#77", by="bob"),
    Source("abc1234", False, "https://github.com/shop/api/actions/runs/9876543210", "octocat"),
])
def test_the_description_reads_back_as_what_was_written(source: Source) -> None:
    assert Source.parse(source.describe()) == source


def test_the_description_says_commit_dirty_ci_and_who_plainly() -> None:
    assert Source("abc1234", True, "gitlab#77", "bob").describe() == "lambdadeploy git=abc1234+dirty ci=gitlab#77 by=bob"
    assert Source(None).describe() == "lambdadeploy git=none"  # no repository: no commit, and it says so
    assert (Source("abc1234", True).label, Source(None).label) == ("abc1234+dirty", "no git")


def test_the_description_fits_the_256_characters_publish_version_takes() -> None:
    long = Source("a" * 40, True, "https://ci.example.com/" + "x" * 400, "a very long user name " * 10)
    assert len(long.describe()) <= 256
    parsed = Source.parse(long.describe())
    assert parsed is not None and parsed.commit == "a" * 40 and parsed.dirty and " " not in (parsed.by or "")


@pytest.mark.parametrize("description", [None, "", "Resize images", "lambdadeploy", "lambdadeploy {}"])
def test_a_description_not_written_by_push_has_no_source(description: str | None) -> None:
    assert Source.parse(description) is None


# -- CI runs and who -------------------------------------------------------------------------


def test_github_actions_gives_its_run_address_commit_and_actor() -> None:
    run = ci_run(GITHUB)
    assert run is not None and (run.system, run.run, run.actor) == ("github", "9876543210", "octocat")
    assert run.label == "https://github.com/shop/api/actions/runs/9876543210"


def test_gitlab_and_others_give_their_pipeline_or_system_and_run() -> None:
    gitlab = ci_run({"GITLAB_CI": "true", "CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "e" * 40,
                     "CI_PIPELINE_URL": "https://gitlab.com/shop/api/-/pipelines/77", "GITLAB_USER_LOGIN": "bob"})
    assert gitlab is not None and gitlab.label.endswith("/pipelines/77") and gitlab.actor == "bob"
    azure = ci_run({"TF_BUILD": "True", "BUILD_BUILDID": "12", "BUILD_SOURCEVERSION": "d" * 40})
    assert azure is not None and azure.label == "azure#12" and azure.commit == "d" * 40


def test_outside_ci_there_is_no_run_and_who_is_the_local_user() -> None:
    assert ci_run({"USER": "alice", "GITHUB_RUN_ID": "1"}) is None  # a stray variable is not a CI
    assert who({"USER": "alice"}) == "alice"
    assert who({}) is None
    assert who({**GITHUB, "USER": "runner"}, ci_run(GITHUB)) == "octocat"


def test_the_local_commit_wins_and_the_ci_commit_stands_in_without_a_repository() -> None:
    assert source_of("abc1234", True, GITHUB) == Source("abc1234", True, ci_run(GITHUB).label, "octocat")
    assert source_of(None, False, GITHUB).commit == "f" * 12  # a checkout without .git
    assert source_of(None, False, {"USER": "alice"}) == Source(None, False, None, "alice")


# -- reuse never looks at the description ----------------------------------------------------


def test_a_version_is_reused_whatever_its_description_says() -> None:
    remote = deployed(aliases={"dev": "1"})
    described = RemoteFunction(**{**remote.__dict__, "versions": tuple(
        VersionState(v.version, v.code_sha256, {**v.config, "Description": "lambdadeploy git=abc1234"},
                     description="lambdadeploy git=abc1234+dirty") for v in remote.versions)})
    assert described.matching_version("sha1", dict(remote.config)) == "1"
    plan = plan_push(FN, "sha1", ROLE, described, "dev", source=Source("fff0000"))
    assert plan.steps == ()  # same code and configuration: nothing to do, whatever the commit


def test_a_new_description_alone_updates_the_function_and_publishes_nothing() -> None:
    remote = deployed(aliases={"dev": "1"})
    plan = plan_push(dataclasses.replace(FN, description="new words"), "sha1", ROLE, remote, "dev")
    # The digest tag changes too: what tells the next push's one read that $LATEST has it.
    assert kinds(plan) == [UpdateTags, UpdateConfig]
    assert list(plan.steps[0].set_tags) == ["lambdadeploy:description"]
    assert [(c.field, c.new) for c in plan.steps[1].changes] == [("Description", "new words")]


def test_a_published_version_carries_the_source() -> None:
    plan = plan_push(FN, "sha2", ROLE, deployed(aliases={"dev": "1"}), "dev", source=Source("abc1234", True))
    (publish,) = [s for s in plan.steps if isinstance(s, Publish)]
    assert publish.source == Source("abc1234", True)


# -- git -------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "functions" / "api").mkdir(parents=True)
    (tmp_path / "functions" / "api" / "app.py").write_text("VERSION = 1\n")
    (tmp_path / "lambda.yaml").write_text("functions: {}\n")
    (tmp_path / "README.md").write_text("notes\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_git_state_is_head_and_whether_the_functions_files_changed(repo: Path) -> None:
    source, config = repo / "functions" / "api", repo / "lambda.yaml"
    head = git(repo, "rev-parse", "--short", "HEAD")
    assert read_state(source, (source, config)) == GitState(head, dirty=False)
    (repo / "README.md").write_text("edited\n")  # not part of the function
    assert not read_state(source, (source, config)).dirty
    (source / "new.py").write_text("x = 1\n")  # untracked, but it would be in the zip
    assert read_state(source, (source, config)).dirty
    (source / "new.py").unlink()
    config.write_text("functions: {api: {}}\n")
    assert read_state(source, (source, config)).dirty


def test_no_repository_no_commit(tmp_path: Path) -> None:
    assert read_state(tmp_path, (tmp_path,)) is None


def test_commits_between_two_versions_and_unknown_commits(repo: Path) -> None:
    first = git(repo, "rev-parse", "--short", "HEAD")
    (repo / "functions" / "api" / "app.py").write_text("VERSION = 2\n")
    git(repo, "commit", "-q", "-am", "second")
    second = git(repo, "rev-parse", "--short", "HEAD")
    log = commits_between(repo, first, second)
    assert log is not None and len(log) == 1 and log[0].startswith(second) and log[0].endswith("second")
    assert commits_between(repo, second, first) == ()
    assert commits_between(repo, first, "0123456789ab") is None  # not in this clone


def test_the_plan_shows_what_a_new_version_will_be_built_from() -> None:
    step = Publish("shop-api", "sha2", Source("abc1234", True))
    assert one_line(step) == "+ version (new) from abc1234+dirty"
    assert document(step)["source"] == {"commit": "abc1234", "dirty": True, "ci": None}
    assert "source" not in document(Publish("shop-api", "sha2"))


# -- what counts as a change to the function: what its package is built from ------------------


NODE_PROJECT = """\
project: shop
functions:
  web:
    source: functions/web
    runtime: nodejs22.x
    handler: index.handler
  api:
    source: functions/api
    handler: app.handler
    requirements: ../../shared/requirements.txt
"""


@pytest.fixture
def project_repo(repo: Path) -> Path:
    web = repo / "functions" / "web"
    web.mkdir(parents=True)
    (web / "index.mjs").write_text("export const handler = async () => ({ok: true});\n")
    (web / "package.json").write_text('{"name": "web", "version": "1.0.0", "dependencies": {"uuid": "11.0.0"}}\n')
    (web / "package-lock.json").write_text('{"name": "web", "lockfileVersion": 3, "packages": {}}\n')
    (repo / "functions" / "api" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (repo / "functions" / "api" / "helpers.py").write_text("X = 1\n")
    (repo / "shared").mkdir()
    (repo / "shared" / "requirements.txt").write_text("requests==2.32.3\n")
    (repo / "lambda.yaml").write_text(NODE_PROJECT)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "functions")
    return repo


def dirty(repo: Path, key: str) -> bool:
    project = load(repo / "lambda.yaml")
    (fn,) = [f for f in project.functions if f.key == key]
    state = function_state(fn, project.config_file)
    assert state is not None and state.commit == git(repo, "rev-parse", "--short", "HEAD")
    return state.dirty


def test_what_the_package_never_holds_does_not_make_a_node_function_dirty(project_repo: Path) -> None:
    web = project_repo / "functions" / "web"
    (web / "node_modules" / "uuid").mkdir(parents=True)  # `npm install` for local tests: never packed
    (web / "node_modules" / "uuid" / "index.js").write_text("module.exports = {};\n")
    (web / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    assert not dirty(project_repo, "web")
    (web / "package-lock.json").write_text('{"name": "web", "lockfileVersion": 3, "packages": {"x": {}}}\n')
    assert dirty(project_repo, "web")  # the lockfile decides what npm ci installs


def test_python_caches_do_not_count_but_a_new_file_and_a_shared_manifest_do(project_repo: Path) -> None:
    api = project_repo / "functions" / "api"
    (api / "__pycache__").mkdir()
    (api / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    assert not dirty(project_repo, "api")
    (project_repo / "shared" / "requirements.txt").write_text("requests==2.32.4\n")  # outside the source folder
    assert dirty(project_repo, "api")
    git(project_repo, "checkout", "--", "shared/requirements.txt")
    (api / "util.py").write_text("X = 1\n")
    assert dirty(project_repo, "api")
    (api / "util.py").unlink()
    (api / "helpers.py").unlink()  # a deleted tracked file changes the package too
    assert dirty(project_repo, "api")


LAYOUT_PROJECT = """\
project: shop
functions:
  orders:
    source: .
    handler: orders/app.handler
  users:
    handler: app.handler
    include: [../../shared]
"""


def test_a_root_source_counts_its_include_paths_but_not_what_the_layout_never_packs(repo: Path) -> None:
    """Issue 16's layout: an `include:` path outside the source folder is part of the package;
    for source: . another function's folder and a .lambdaignore'd file are not."""
    project = repo / "app"
    (project / "orders").mkdir(parents=True)
    (project / "orders" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (project / "functions" / "users").mkdir(parents=True)
    (project / "functions" / "users" / "app.py").write_text("def handler(event, context):\n    return 2\n")
    (project / ".lambdaignore").write_text("notes/\n")
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("one\n")
    (project / "shared").mkdir()
    (project / "shared" / "db.py").write_text("X = 1\n")
    (project / "lambda.yaml").write_text(LAYOUT_PROJECT)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "layout")
    assert not dirty(project, "orders")
    (project / "functions" / "users" / "app.py").write_text("def handler(event, context):\n    return 3\n")
    (project / "notes" / "todo.txt").write_text("two\n")
    assert not dirty(project, "orders")  # another function's folder and an ignored file
    git(repo, "checkout", "--", ".")
    assert not dirty(project, "users")
    (project / "shared" / "db.py").write_text("X = 2\n")
    assert dirty(project, "users")  # the included folder, outside its source, is part of its package
