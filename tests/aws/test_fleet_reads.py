"""What a push reads (moto in-process): an unchanged function costs one GetFunction of the
alias, a changed one reads deeper, and the number of published versions never matters."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import boto3

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function

from .conftest import write_project

ROLE_READS = ["GetRole", "ListAttachedRolePolicies", "GetRolePolicy"]


def record(session: AwsSession) -> list[tuple[str, dict[str, Any]]]:
    """Every Lambda call the session makes from now on, with its parameters (code left out)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def seen(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, {k: v for k, v in params.items() if k not in ("ZipFile", "body")}))

    session.client("lambda").meta.events.register("provide-client-params.lambda.*", seen)
    return calls


def push(session: AwsSession, project, alias: str = "dev"):  # type: ignore[no-untyped-def]
    (result,) = Deployer(session, project, lambda event: None).push(project.functions, alias)
    assert result.ok, result.error
    return result


def names(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in calls]


def publish_more_versions(function: str, count: int) -> None:
    """Versions published behind the tool's back (each with other code), the alias left alone."""
    client = boto3.client("lambda", region_name="us-east-1")
    for n in range(count):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", f"def handler(event, context):\n    return {n}\n")
        client.update_function_code(FunctionName=function, ZipFile=buffer.getvalue())
        client.publish_version(FunctionName=function)


def test_an_unchanged_function_costs_one_get_function_of_the_alias(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    push(session, project)
    calls = record(session)
    result = push(session, project)
    assert not result.uploaded and not result.published and result.version == "1"
    assert calls == [("GetFunction", {"FunctionName": "t-worker", "Qualifier": "dev"})]


def test_a_changed_function_reads_latest_the_alias_and_the_versions_worth_reusing(
        session: AwsSession, tmp_path: Path) -> None:
    push(session, write_project(tmp_path, "return 1"))
    calls = record(session)
    result = push(session, write_project(tmp_path, "return 2"))
    assert result.uploaded and result.published and result.version == "2"
    reads = names(calls)[: names(calls).index("UpdateFunctionCode")]
    # $LATEST, then one ListAliases (every alias's version, history and RevisionId: one request
    # on the 15/s budget, as one GetAlias would be); version 1 is the one served, so already read.
    assert reads == ["GetFunction", "GetFunction", "ListAliases"]
    assert [params.get("Qualifier") for _, params in calls[:2]] == ["dev", None]
    # No version listing, and every wait polls GetFunction (100/s) rather than GetFunctionConfiguration (15/s).
    assert not {"ListVersionsByFunction", "GetFunctionConfiguration", "GetAlias"} & set(names(calls))
    # The alias moves on the RevisionId its one read returned: no GetAlias before UpdateAlias.
    assert names(calls)[-2:] == ["Invoke", "UpdateAlias"] and names(calls).count("ListAliases") == 1
    assert calls[-1][1]["RevisionId"]


def test_a_tags_only_change_leaves_the_fast_path_and_publishes_nothing(session: AwsSession, tmp_path: Path) -> None:
    push(session, write_project(tmp_path, "return 1", "tags: {team: a}"))
    calls = record(session)
    result = push(session, write_project(tmp_path, "return 1", "tags: {team: b}"))
    assert result.ok and not result.published and not result.uploaded
    assert "TagResource" in names(calls) and "PublishVersion" not in names(calls)
    assert read_function(session, "t-worker").tags["team"] == "b"


def test_the_number_of_published_versions_does_not_change_what_a_push_costs(
        session: AwsSession, tmp_path: Path) -> None:
    push_all = lambda body: Deployer(session, write_project(tmp_path, body, functions=("few", "many")),  # noqa: E731
                                     lambda event: None).push
    project = write_project(tmp_path, "return 1", functions=("few", "many"))
    assert all(r.ok for r in Deployer(session, project, lambda event: None).push(project.functions, "dev"))
    publish_more_versions("t-few", 3)
    publish_more_versions("t-many", 120)  # more than two pages of ListVersionsByFunction
    for body in ("return 1", "return 'new'"):  # a no-op push (the alias serves version 1), then a full one
        project = write_project(tmp_path, body, functions=("few", "many"))
        calls = record(session)
        results = push_all(body)(project.functions, "dev")
        assert all(r.ok for r in results)
        per_function = {fn: [name for name, params in calls if params.get("FunctionName") == fn]
                        for fn in ("t-few", "t-many")}
        assert sorted(per_function["t-few"]) == sorted(per_function["t-many"]), per_function
        assert "ListVersionsByFunction" not in per_function["t-many"]


def test_returning_to_a_recorded_version_reuses_it_without_listing(session: AwsSession, tmp_path: Path) -> None:
    push(session, write_project(tmp_path, "return 1"))
    push(session, write_project(tmp_path, "return 2"))
    calls = record(session)
    result = push(session, write_project(tmp_path, "return 1"))  # what version 1 has: in dev's history
    assert (result.version, result.published, result.uploaded) == ("1", False, False)
    assert "ListVersionsByFunction" not in names(calls)


def test_a_version_another_alias_recorded_is_reused_by_a_new_alias(session: AwsSession, tmp_path: Path) -> None:
    """prod, new, asks for what version 1 has: dev moved on to 2, but recorded 1 in its history."""
    push(session, write_project(tmp_path, "return 1"))
    push(session, write_project(tmp_path, "return 2"))
    calls = record(session)
    result = push(session, write_project(tmp_path, "return 1"), alias="prod")
    assert (result.version, result.published, result.uploaded) == ("1", False, False)
    assert "ListVersionsByFunction" not in names(calls)


def test_latest_already_deployed_but_unpublished_lists_versions_once(session: AwsSession, tmp_path: Path) -> None:
    """A push interrupted between upload and publish leaves $LATEST with the new code; only
    then are the versions listed, so the re-run can tell a reuse from a publish."""
    push(session, write_project(tmp_path, "return 1"))
    write_project(tmp_path, "return 2")
    boto3.client("lambda", region_name="us-east-1").update_function_code(FunctionName="t-worker",
                                                                         ZipFile=_zip_of(tmp_path))
    calls = record(session)
    result = push(session, write_project(tmp_path, "return 2"))
    assert (result.version, result.uploaded, result.published) == ("2", False, True)
    assert names(calls).count("ListVersionsByFunction") == 1


def _zip_of(root: Path) -> bytes:
    from lambdadeploy.config import load
    from lambdadeploy.packaging import build_artifact

    (fn,) = load(root / "lambda.yaml").functions
    return build_artifact(fn).zip_bytes


def test_a_setting_outside_the_version_is_read_on_the_fast_path_only_while_lambda_yaml_or_the_marker_names_it(
        session: AwsSession, tmp_path: Path) -> None:
    """remote.read_settings on the fast path: an unchanged function with `async` set costs one
    GetFunction and its GetFunctionEventInvokeConfig; once removed from lambda.yaml, the marker
    tag still makes the next push read it (to remove it), and after that nothing more is read."""
    with_async = write_project(tmp_path, "return 1", "async: {retries: 1}")
    push(session, with_async)
    calls = record(session)
    push(session, with_async)
    assert names(calls) == ["GetFunction", "GetFunctionEventInvokeConfig"]
    push(session, write_project(tmp_path, "return 1"))  # removed: read, then deleted
    calls.clear()
    push(session, write_project(tmp_path, "return 1"))
    assert names(calls) == ["GetFunction"]


def test_a_description_only_change_is_applied_and_the_next_push_is_a_no_op(session: AwsSession, tmp_path: Path) -> None:
    """A version's description records where it came from (#19), so the fast path's one read
    cannot see lambda.yaml's description; a tag carrying its digest can. Changing it (or
    removing it) updates $LATEST without a version, and the push after that reads one thing."""
    push(session, write_project(tmp_path, "return 1", "description: first"))
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    for description, expected in (("description: second", "second"), ("", "")):
        result = push(session, write_project(tmp_path, "return 1", description))
        assert result.ok and not result.published and not result.uploaded
        assert lambda_client.get_function(FunctionName="t-worker")["Configuration"].get("Description", "") == expected
        calls = record(session)
        again = push(session, write_project(tmp_path, "return 1", description))
        assert not again.published and names(calls) == ["GetFunction"]
