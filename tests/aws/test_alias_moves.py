"""What each workflow records (#19), read back from moto: the version's description names where
it came from; each alias move records when, how, whether it was smoke-tested and who, and keeps
what it knew of the earlier moves, so history survives rollbacks, canaries and promotes."""

from __future__ import annotations

import re
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.history import Move
from lambdadeploy.engine.plan import Rollout
from lambdadeploy.engine.remote import read_function

from .conftest import write_project

CI = {"GITLAB_CI": "true", "CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "e" * 40, "GITLAB_USER_LOGIN": "bob",
      "CI_PIPELINE_URL": "https://gitlab.example.com/shop/-/pipelines/77"}
WHEN = re.compile(r"^\d{8}T\d{4}Z$")


def deployer(session: AwsSession, project, env: dict[str, str]) -> Deployer:
    return Deployer(session, project, lambda event: None, env=env)


def moves(session: AwsSession, alias: str) -> list[tuple[str, str | None, str | None, str | None]]:
    state = read_function(session, "t-worker").aliases[alias]
    recorded = state.history.moves(state.version)
    assert all(WHEN.match(m.at) for m in recorded if m.detailed)
    return [(m.version, m.how, m.smoke, m.by) for m in recorded]


def test_every_workflow_records_its_move_and_keeps_the_earlier_ones(session: AwsSession, tmp_path: Path) -> None:
    for body in ("return 1", "return 2"):
        project = write_project(tmp_path, body)
        assert deployer(session, project, {"USER": "alice"}).push(project.functions, "dev")[0].ok
    project = write_project(tmp_path, "return 3")
    assert deployer(session, project, CI).push(project.functions, "dev", skip_smoke=True)[0].ok
    assert moves(session, "dev") == [("3", "push", "skip", "bob"), ("2", "push", "ok", "alice"),
                                     ("1", "push", "ok", "alice")]
    (back,) = deployer(session, project, {"USER": "carol"}).rollback(project.functions, "dev", None)
    assert back.ok
    assert moves(session, "dev") == [("2", "rollback", "-", "carol"), ("1", "push", "ok", "alice")]
    assert deployer(session, project, {"USER": "dan"}).promote(project.functions, "dev", "prod")[0].ok
    assert moves(session, "prod") == [("2", "promote", "ok", "dan")]


def test_a_canary_finished_later_records_the_finish_and_keeps_the_stable_move(session: AwsSession,
                                                                             tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    deployer(session, project, {"USER": "alice"}).push(project.functions, "prod")
    project = write_project(tmp_path, "return 2")
    canary = deployer(session, project, {"USER": "bob"}).push(project.functions, "prod", rollout=Rollout(10))
    assert canary[0].ok and read_function(session, "t-worker").aliases["prod"].weights == {"2": 0.1}
    assert moves(session, "prod") == [("1", "push", "ok", "alice")]  # the canary moved nothing yet
    assert deployer(session, project, {"USER": "carol"}).finish(project.functions, "prod")[0].ok
    assert moves(session, "prod") == [("2", "finish", "-", "carol"), ("1", "push", "ok", "alice")]


def test_a_published_version_names_its_commit_and_ci_run(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    deployer(session, project, CI).push(project.functions, "dev")
    version = read_function(session, "t-worker").version("1")
    assert version is not None and version.description == (
        "lambdadeploy git=eeeeeeeeeeee ci=https://gitlab.example.com/shop/-/pipelines/77 by=bob")
    assert "Description" not in version.config  # provenance, not configuration
    # A different pipeline, same code and configuration: the version is reused, not republished.
    again = deployer(session, project, {**CI, "CI_PIPELINE_ID": "78", "CI_COMMIT_SHA": "f" * 40})
    (result,) = again.push(project.functions, "prod")
    assert result.ok and (result.version, result.published) == ("1", False)
    assert read_function(session, "t-worker").aliases["prod"].history.now == Move(
        "1", read_function(session, "t-worker").aliases["prod"].history.now.at, "push", "ok", "bob")
