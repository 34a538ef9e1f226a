"""The sandbox keeps alias RevisionIds as AWS does (local/revisions.py, install_alias_revisions): a new one on every
update, a stale one refused with 412, so a push can move an alias on the RevisionId it read."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.local import revisions

from .conftest import write_project


def test_moto_still_has_what_revisions_patches() -> None:
    from moto.awslambda.models import LambdaAlias
    from moto.awslambda.responses import LambdaResponse

    assert callable(LambdaAlias.update) and callable(LambdaResponse.update_alias)
    revisions.install_alias_revisions()  # once per process, as seam.install_invoke_seam does
    assert set(revisions.ALIAS_ORIGINALS) == {"LambdaAlias.update", "LambdaResponse.update_alias"}


def test_an_alias_update_changes_its_revision_and_a_stale_one_is_refused(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    (result,) = Deployer(session, project, lambda event: None).push(project.functions, "dev")
    assert result.ok, result.error
    client = boto3.client("lambda", region_name="us-east-1")
    read = client.get_alias(FunctionName="t-worker", Name="dev")["RevisionId"]
    moved = client.update_alias(FunctionName="t-worker", Name="dev", FunctionVersion="1", RevisionId=read)
    assert moved["RevisionId"] != read
    with pytest.raises(ClientError) as refused:
        client.update_alias(FunctionName="t-worker", Name="dev", FunctionVersion="1", RevisionId=read)
    assert refused.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_a_push_whose_alias_moved_since_it_was_read_moves_nothing(session: AwsSession, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone moves the alias between our read and our move: the RevisionId we read is stale."""
    from lambdadeploy.engine import execute

    project = write_project(tmp_path, "return 1")
    Deployer(session, project, lambda event: None).push(project.functions, "dev")
    project = write_project(tmp_path, "return 2")
    Deployer(session, project, lambda event: None).push(project.functions, "prod")  # version 2 exists
    project = write_project(tmp_path, "return 3")
    original = execute.smoke_invoke

    def smoke_then_someone_moves_dev(*args, **kwargs):  # type: ignore[no-untyped-def]
        boto3.client("lambda", region_name="us-east-1").update_alias(
            FunctionName="t-worker", Name="dev", FunctionVersion="2")
        return original(*args, **kwargs)

    monkeypatch.setattr(execute, "smoke_invoke", smoke_then_someone_moves_dev)
    (result,) = Deployer(session, project, lambda event: None).push(project.functions, "dev")
    assert not result.ok and "someone else deployed" in (result.error or "")
    assert boto3.client("lambda", region_name="us-east-1").get_alias(
        FunctionName="t-worker", Name="dev")["FunctionVersion"] == "2"  # theirs, not ours
