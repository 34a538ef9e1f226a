"""push / promote / rollback through Deployer against moto (in-process), with real invokes."""

from __future__ import annotations

from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.events import Event
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.steps import UpdateTags

from .conftest import write_project


def deployer(session: AwsSession, project, events: list[Event] | None = None, parallel: int = 4) -> Deployer:
    sink = events if events is not None else []
    return Deployer(session, project, sink.append, parallel=parallel)


def test_first_push_creates_role_function_version_and_alias(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return {'ok': True}")
    pushed = deployer(session, project).push(project.functions, "dev")
    (result,) = pushed
    assert result.ok, result.error
    assert (result.version, result.published, result.alias_moved) == ("1", True, True)
    assert result.smoke is not None and result.smoke.passed and result.smoke.payload == {"ok": True}
    remote = read_function(session, "t-worker")
    assert remote.aliases["dev"].version == "1"
    assert remote.config["Role"].endswith(":role/t-lambda-exec")
    assert [type(step).__name__ for step in pushed.role_done] == ["CreateRole", "AttachRolePolicy"]
    # A second push reuses the role rather than creating another.
    pushed = deployer(session, project).push(project.functions, "prod")
    (again,) = pushed
    assert again.ok and again.version == "1" and not again.published
    assert pushed.role_done == ()
    roles = session.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles].count("t-lambda-exec") == 1


def test_failed_smoke_publishes_but_never_moves_alias(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return {'n': 1}")
    deployer(session, project).push(project.functions, "dev")
    project = write_project(tmp_path, "raise RuntimeError('bad deploy')")
    (result,) = deployer(session, project).push(project.functions, "dev")
    assert not result.ok and result.exit_code == 1
    assert result.smoke is not None and result.smoke.error_type == "RuntimeError"
    assert "bad deploy" in (result.error or "")
    remote = read_function(session, "t-worker")
    assert [v.version for v in remote.versions] == ["1", "2"]
    assert remote.aliases["dev"].version == "1"


def test_expect_mismatch_blocks_alias(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return {'status': 'down'}", "test: {payload: {}, expect: {status: up}}")
    (result,) = deployer(session, project).push(project.functions, "dev")
    assert not result.ok and result.smoke is not None and result.smoke.mismatch
    assert "dev" not in read_function(session, "t-worker").aliases


def test_skip_smoke_moves_alias_without_invoking(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "raise RuntimeError('never invoked')")
    (result,) = deployer(session, project).push(project.functions, "dev", skip_smoke=True)
    assert result.ok and result.smoke is None and result.smoke_skipped
    assert read_function(session, "t-worker").aliases["dev"].version == "1"


def test_config_change_publishes_new_version(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "import os\nreturn os.environ['MODE']", "environment: {MODE: a}")
    deployer(session, project).push(project.functions, "dev")
    project = write_project(tmp_path, "import os\nreturn os.environ['MODE']", "environment: {MODE: b}")
    (result,) = deployer(session, project).push(project.functions, "dev")
    assert result.ok and result.version == "2" and not result.uploaded
    assert result.smoke is not None and result.smoke.payload == "b"


def test_parallel_push_of_several_functions(session: AwsSession, tmp_path: Path) -> None:
    names = ("a", "b", "c", "d")
    project = write_project(tmp_path, "return context.function_name", functions=names)
    results = deployer(session, project, parallel=4).push(project.functions, "dev")
    assert [r.function.key for r in results] == list(names)
    assert all(r.ok and r.smoke and r.smoke.payload == f"t-{r.function.key}" for r in results)


def test_one_failing_function_does_not_stop_the_others(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "if context.function_name == 't-b':\n    raise ValueError('b')\nreturn 1",
                            functions=("a", "b"))
    results = {r.function.key: r for r in deployer(session, project).push(project.functions, "dev")}
    assert results["a"].ok and not results["b"].ok
    assert read_function(session, "t-a").aliases["dev"].version == "1"
    assert "dev" not in read_function(session, "t-b").aliases


def test_promote_and_rollback_history(session: AwsSession, tmp_path: Path) -> None:
    for body in ("return 1", "return 2", "return 3"):
        project = write_project(tmp_path, body)
        assert deployer(session, project).push(project.functions, "dev")[0].ok
    (promoted,) = deployer(session, project).promote(project.functions, "dev", "prod")
    assert promoted.ok and promoted.smoke is not None and promoted.smoke.payload == 3
    assert read_function(session, "t-worker").aliases["prod"].version == "3"
    (back,) = deployer(session, project).rollback(project.functions, "dev", None)
    assert back.ok and (back.alias_from, back.alias_to) == ("3", "2")
    (back,) = deployer(session, project).rollback(project.functions, "dev", None)
    assert back.ok and (back.alias_from, back.alias_to) == ("2", "1")
    (explicit,) = deployer(session, project).rollback(project.functions, "dev", "3")
    assert explicit.ok and read_function(session, "t-worker").aliases["dev"].version == "3"


def test_promote_conflict_changes_nothing(session: AwsSession, tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    project = write_project(tmp_path, "return 1", "environment: {STAGE: '{{ alias }}'}")
    deployer(session, project).push(project.functions, "dev")
    from lambdadeploy.config import RenderContext, load

    for_prod = load(tmp_path / "lambda.yaml", RenderContext(alias="prod"))
    (result,) = deployer(session, for_prod).promote(for_prod.functions, "dev", "prod")
    assert not result.ok and result.exit_code == 1 and result.conflict is not None
    assert [(c.field, c.old, c.new) for c in result.conflict.changes] == [("Environment.STAGE", "dev", "prod")]
    assert "prod" not in read_function(session, "t-worker").aliases


def test_a_function_that_cannot_be_built_stops_the_push_before_any_write(
        session: AwsSession, tmp_path: Path, monkeypatch) -> None:
    """Everything knowable before a write is checked before any write: one function whose package
    cannot be built (here the disk is full) stops the whole push, and nothing is created."""
    import lambdadeploy.engine.deploy as deploy_module

    project = write_project(tmp_path, "return 1", functions=("a", "b"))
    real_build = deploy_module.build_artifact

    def flaky_build(fn, **kwargs):
        if fn.key == "b":
            raise OSError(28, "No space left on device")
        return real_build(fn, **kwargs)

    monkeypatch.setattr(deploy_module, "build_artifact", flaky_build)
    pushed = deployer(session, project).push(project.functions, "dev")
    results = {r.function.key: r for r in pushed}
    assert not results["b"].ok and results["b"].exit_code == 1
    assert "internal error: OSError" in (results["b"].error or "") and "No space left" in (results["b"].error or "")
    assert not results["a"].ok and "nothing was changed" in (results["a"].error or "")
    assert pushed.exit_code == 1 and pushed.role_done == ()
    assert not read_function(session, "t-a").exists
    assert session.client("iam").list_roles()["Roles"] == []


def record_calls(session: AwsSession) -> list[str]:
    calls: list[str] = []
    for service in ("lambda", "iam", "sts", "s3", "sns", "events", "cloudwatch"):
        session.client(service).meta.events.register(
            "before-call.*.*", lambda model, calls=calls, **kwargs: calls.append(model.name))
    return calls


def test_a_function_that_fails_packaging_stops_the_push_before_any_write(
        session: AwsSession, tmp_path: Path, monkeypatch) -> None:
    """#15: nothing is created in AWS (not even the default role) before every function is
    packaged and every check has passed; here the second function's requirements are invalid."""
    monkeypatch.setenv("UV_OFFLINE", "1")
    project = write_project(tmp_path, "return 1", functions=("a", "b"))
    (tmp_path / "functions" / "b" / "requirements.txt").write_text("requests>=>2\n")
    project = write_project(tmp_path, "return 1", functions=("a", "b"))
    calls = record_calls(session)
    pushed = deployer(session, project).push(project.functions, "dev")
    results = {r.function.key: r for r in pushed}
    assert not results["b"].ok and results["b"].exit_code == 2
    assert "requirements.txt:1: invalid requirement" in (results["b"].error or "")
    assert not results["a"].ok and "nothing was changed" in (results["a"].error or "")
    assert pushed.exit_code == 2 and pushed.role_done == ()
    assert session.client("iam").list_roles()["Roles"] == []
    assert session.client("lambda").list_functions()["Functions"] == []
    assert calls and all(call.startswith(("Get", "List")) for call in calls), calls


def test_tags_follow_lambda_yaml(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1", "tags: {team: a, cost: x}")
    deployer(session, project).push(project.functions, "dev")
    project = write_project(tmp_path, "return 1", "tags: {team: b}")
    (result,) = deployer(session, project).push(project.functions, "dev")
    assert result.ok and not result.published
    (record,) = result.done
    assert record.step == UpdateTags("t-worker", record.step.arn, {"team": "b"}, ("cost",), {"team": "a", "cost": "x"})
    tags = read_function(session, "t-worker").tags
    assert tags["team"] == "b" and "cost" not in tags and tags["managed-by"] == "lambdadeploy"


def test_noop_push_without_triggers_makes_only_the_reads_it_needs(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    deployer(session, project).push(project.functions, "dev")
    calls = record_calls(session)
    (result,) = deployer(session, project).push(project.functions, "dev")
    assert result.ok and not result.uploaded and not result.published
    # (the account id is remembered by the session from the first push; the function costs one
    # GetFunction of the alias: tests/aws/test_fleet_reads.py; the role's inline policies are
    # listed, and only those present read: none here. No settings outside the version are set,
    # and the marker tag says none were, so none of their reads is made.)
    assert sorted(calls) == sorted(["GetFunction", "GetRole", "ListAttachedRolePolicies", "ListRolePolicies"]), calls
