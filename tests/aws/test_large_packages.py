"""Packages over the direct-upload limit go through s3_bucket (moto), else fail listing contributors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.packaging import limits

from .conftest import event_texts, write_project


def add_bulk(tmp_path: Path) -> None:
    # 100 KB that deflate cannot shrink, so the zip really is over the (patched) limit.
    (tmp_path / "functions" / "worker" / "data.bin").write_bytes(random.Random(0).randbytes(100_000))


def test_oversized_package_is_uploaded_through_s3(session: AwsSession, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 10_000)
    session.client("s3").create_bucket(Bucket="artifacts")
    project = write_project(tmp_path, "return 'big'", "s3_bucket: artifacts")
    add_bulk(tmp_path)
    events: list = []
    (result,) = Deployer(session, project, events.append).push(project.functions, "dev")
    assert result.ok, result.error
    assert result.artifact is not None and result.artifact.needs_s3
    assert any("uploading through s3://artifacts/" in text for text in event_texts(events))
    keys = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket="artifacts")["Contents"]]
    assert keys == [f"lambdadeploy/t-worker/{result.artifact.sha256_hex}.zip"]
    assert read_function(session, "t-worker").code_sha256 == result.artifact.sha256
    assert result.smoke is not None and result.smoke.payload == "big"


def test_oversized_package_without_bucket_fails_naming_contributors(session: AwsSession, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DIRECT_UPLOAD_BYTES", 10_000)
    project = write_project(tmp_path, "return 'big'")
    add_bulk(tmp_path)
    (result,) = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert not result.ok and result.exit_code == 1
    assert "data.bin" in (result.error or "") and "s3_bucket" in (result.error or "")
    assert not read_function(session, "t-worker").exists
