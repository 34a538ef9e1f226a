"""Two deploys racing on one function, and the smoke gate's guarantees (moto in-process)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lambdadeploy.aws import AwsSession
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.events import Event, StepStarted
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.steps import MarkTriggers, MoveAlias, Publish, Smoke

from ..aws.conftest import write_project


def other_zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {text!r}\n")
    return buffer.getvalue()


def test_someone_else_uploading_before_our_publish_fails_us_cleanly(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 'ours v1'")
    assert Deployer(session, project, lambda e: None).push(project.functions, "dev")[0].ok
    project = write_project(tmp_path, "return 'ours v2'")
    client = session.client("lambda")

    def race(event: Event) -> None:
        # The other deploy lands between our code upload and our publish.
        if isinstance(event, StepStarted) and isinstance(event.step, Publish):
            client.update_function_code(FunctionName="t-worker", ZipFile=other_zip("theirs"))

    (result,) = Deployer(session, project, race).push(project.functions, "dev")
    assert not result.ok and result.exit_code == 1
    assert "someone else deployed" in (result.error or "") and "re-run" in (result.error or "")
    assert read_function(session, "t-worker").aliases["dev"].version == "1"


def test_alias_moved_by_someone_else_is_not_overwritten(session: AwsSession, tmp_path: Path) -> None:
    for body in ("return 1", "return 2"):
        project = write_project(tmp_path, body)
        assert Deployer(session, project, lambda e: None).push(project.functions, "dev")[0].ok
    project = write_project(tmp_path, "return 3")
    client = session.client("lambda")

    def race(event: Event) -> None:
        if isinstance(event, StepStarted) and isinstance(event.step, MoveAlias):
            client.update_alias(FunctionName="t-worker", Name="dev", FunctionVersion="1")

    (result,) = Deployer(session, project, race).push(project.functions, "dev")
    assert not result.ok and "someone else deployed" in (result.error or "")
    assert read_function(session, "t-worker").aliases["dev"].version == "1"


def test_smoke_timeout_never_moves_alias(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 'fine'", "timeout: 1")
    assert Deployer(session, project, lambda e: None).push(project.functions, "dev")[0].ok
    project = write_project(tmp_path, "import time\ntime.sleep(5)\nreturn 'late'", "timeout: 1")
    (result,) = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert not result.ok and result.smoke is not None
    assert result.smoke.error_type == "Sandbox.Timedout" and "timed out" in (result.smoke.error_message or "")
    assert read_function(session, "t-worker").aliases["dev"].version == "1"


def test_cancelled_deployer_moves_nothing(session: AwsSession, tmp_path: Path) -> None:
    project = write_project(tmp_path, "return 1")
    deployer = Deployer(session, project, lambda e: None)

    def cancel_at_smoke(event: Event) -> None:
        if isinstance(event, StepStarted) and isinstance(event.step, Smoke):
            deployer.cancel.set()

    deployer.emit = cancel_at_smoke
    (result,) = deployer.push(project.functions, "dev")
    assert result.exit_code == 130 and "interrupted" in (result.error or "")
    assert [type(step) for step in result.not_done] == [MoveAlias, MarkTriggers]
    assert "dev" not in read_function(session, "t-worker").aliases
