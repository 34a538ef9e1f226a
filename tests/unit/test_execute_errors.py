"""Executor error paths that a real or moto Lambda never takes on its own: an update that
fails or never settles, a role not yet assumable, an alias created or moved by someone
else, an interrupted canary. A scripted fake client stands in for Lambda (no AWS)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdadeploy import execute
from lambdadeploy.errors import AwsError, ConcurrentDeployError, Interrupted
from lambdadeploy.execute import Executor, Outcome
from lambdadeploy.model import FunctionConfig
from lambdadeploy.plan import (
    NEW_VERSION,
    FunctionPlan,
    MoveAlias,
    ShiftTraffic,
    UpdateConfig,
    UseVersion,
)
from lambdadeploy.remote import AliasHistory

FN = FunctionConfig(key="api", name="shop-api", source=Path("/src"), handler="app.handler")
CONFIG = {"Runtime": "python3.12", "Handler": "app.handler", "Role": "r", "MemorySize": 128, "Timeout": 3,
          "Description": "", "Environment": {}, "Layers": [], "Architectures": ["x86_64"]}


def client_error(code: str, message: str = "", operation: str = "UpdateAlias") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeLambda:
    """Answers each method from a script: a list of results or exceptions, consumed in order."""

    def __init__(self, **script: list[Any]) -> None:
        self.script = script
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str):
        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            answers = self.script[name]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class FakeSession:
    def __init__(self, client: FakeLambda) -> None:
        self.lambda_client = client

    def client(self, service: str) -> FakeLambda:
        assert service == "lambda"
        return self.lambda_client


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute.time, "sleep", lambda seconds: None)


def executor(client: FakeLambda, cancel: threading.Event | None = None) -> tuple[Executor, list]:
    events: list = []
    return Executor(FakeSession(client), events.append, cancel), events


def run(client: FakeLambda, *steps, target: str = "5", cancel: threading.Event | None = None) -> Outcome:
    runner, _ = executor(client, cancel)
    return runner.run(FunctionPlan(FN, tuple(steps), "prod", "4", target), None, Outcome())


ACTIVE = {"State": "Active", "LastUpdateStatus": "Successful", "RevisionId": "rev-2"}


def test_a_failed_update_stops_the_push_with_lambdas_reason() -> None:
    client = FakeLambda(
        update_function_configuration=[{"RevisionId": "rev-1"}],
        get_function_configuration=[{"State": "Active", "LastUpdateStatus": "Failed",
                                     "LastUpdateStatusReason": "subnet has no free IP"}],
    )
    with pytest.raises(AwsError, match=r"shop-api: Lambda could not apply the change \(Active/Failed\): "
                                       r"subnet has no free IP"):
        run(client, UpdateConfig(FN.name, (), CONFIG))


def test_an_update_is_awaited_until_it_settles_then_its_revision_is_kept() -> None:
    in_progress = {"State": "Active", "LastUpdateStatus": "InProgress"}
    client = FakeLambda(update_function_configuration=[{"RevisionId": "rev-1"}],
                        get_function_configuration=[in_progress, in_progress, ACTIVE])
    runner, _ = executor(client)
    runner.run(FunctionPlan(FN, (UpdateConfig(FN.name, (), CONFIG),), "prod", "4", "5"), None, Outcome())
    assert client.names() == ["update_function_configuration"] + ["get_function_configuration"] * 3
    assert runner._revision_guard() == {"RevisionId": "rev-2"}


def test_an_update_that_never_settles_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute, "WAIT_SECONDS", -1)
    client = FakeLambda(update_function_configuration=[{"RevisionId": "rev-1"}],
                        get_function_configuration=[{"State": "Pending", "LastUpdateStatus": "InProgress"}])
    with pytest.raises(AwsError, match=r"shop-api: still Pending/InProgress after -1 s"):
        run(client, UpdateConfig(FN.name, (), CONFIG))


def test_a_refused_precondition_means_someone_else_deployed() -> None:
    for error in (client_error("PreconditionFailedException", "revision mismatch"),
                  client_error("InvalidParameterValueException", "CodeSha256 does not match")):
        client = FakeLambda(update_function_configuration=[error])
        with pytest.raises(ConcurrentDeployError, match="someone else deployed"):
            run(client, UpdateConfig(FN.name, (), CONFIG))
    other = client_error("InvalidParameterValueException", "MemorySize too large")
    with pytest.raises(ClientError):
        run(FakeLambda(update_function_configuration=[other]), UpdateConfig(FN.name, (), CONFIG))


def test_a_role_lambda_cannot_assume_yet_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdadeploy.plan import CreateFunction

    class Artifact:
        needs_s3 = False
        zip_bytes = b"zip"

    not_yet = client_error("InvalidParameterValueException",
                           "The role defined for the function cannot be assumed by Lambda.", "CreateFunction")
    client = FakeLambda(create_function=[not_yet, not_yet, {"RevisionId": "rev-1"}],
                        get_function_configuration=[ACTIVE])
    runner, _ = executor(client)
    outcome = runner.run(FunctionPlan(FN, (CreateFunction(FN.name, CONFIG),), "prod", None, NEW_VERSION),
                         Artifact(), Outcome())
    assert client.names().count("create_function") == 3 and outcome.uploaded
    # Once the propagation window is over, the error is the user's to see.
    monkeypatch.setattr(execute, "ROLE_PROPAGATION_SECONDS", -1)
    client = FakeLambda(create_function=[not_yet])
    with pytest.raises(ClientError, match="cannot be assumed"):
        executor(client)[0].run(FunctionPlan(FN, (CreateFunction(FN.name, CONFIG),), "prod", None, NEW_VERSION),
                                Artifact(), Outcome())


def test_an_alias_someone_else_created_meanwhile_is_not_overwritten() -> None:
    client = FakeLambda(create_alias=[client_error("ResourceConflictException", "Alias already exists")])
    with pytest.raises(ConcurrentDeployError, match=r"\(alias prod changed\)"):
        run(client, UseVersion(FN.name, "5"), MoveAlias(FN.name, "prod", None, "5", ()))
    client = FakeLambda(create_alias=[client_error("AccessDeniedException", "no")])
    with pytest.raises(ClientError, match="AccessDenied"):
        run(client, UseVersion(FN.name, "5"), MoveAlias(FN.name, "prod", None, "5", ()))


def test_an_alias_moved_by_someone_else_is_not_moved_again() -> None:
    client = FakeLambda(get_alias=[{"FunctionVersion": "9", "RevisionId": "a1"}])
    with pytest.raises(ConcurrentDeployError, match=r"\(alias prod changed\)"):
        run(client, UseVersion(FN.name, "5"), MoveAlias(FN.name, "prod", "4", "5", ("4",)))
    assert "update_alias" not in client.names()
    client = FakeLambda(get_alias=[{"FunctionVersion": "9", "RevisionId": "a1"}])
    with pytest.raises(ConcurrentDeployError, match=r"\(alias prod changed\)"):
        run(client, UseVersion(FN.name, "5"), ShiftTraffic(FN.name, "prod", "4", "5", 0.1))
    assert "update_alias" not in client.names()


def test_the_alias_move_is_guarded_by_its_revision_and_records_the_history() -> None:
    client = FakeLambda(get_alias=[{"FunctionVersion": "4", "RevisionId": "a1"}], update_alias=[{}])
    run(client, UseVersion(FN.name, "5"), MoveAlias(FN.name, "prod", "4", "5", ("4", "3")))
    (_, update), = [c for c in client.calls if c[0] == "update_alias"]
    assert update == {"FunctionName": "shop-api", "Name": "prod", "FunctionVersion": "5",
                      "Description": AliasHistory(("4", "3"), "v5 skipped").encode(),
                      "RoutingConfig": {"AdditionalVersionWeights": {}}, "RevisionId": "a1"}


def test_stopping_during_a_canary_takes_its_weight_away() -> None:
    cancel = threading.Event()
    client = FakeLambda(
        get_alias=[{"FunctionVersion": "4", "RevisionId": "a1",
                    "Description": AliasHistory(("3",)).encode()}],
        update_alias=[{}],
    )

    runner, _ = executor(client, cancel)
    original = runner._shift

    def shift_then_stop(*args: Any) -> None:
        original(*args)
        cancel.set()  # Ctrl-C arrives while the canary is live

    runner._shift = shift_then_stop
    plan = FunctionPlan(FN, (UseVersion(FN.name, "5"), ShiftTraffic(FN.name, "prod", "4", "5", 0.1),
                             MoveAlias(FN.name, "prod", "4", "5", ("4",))), "prod", "4", "5")
    with pytest.raises(Interrupted) as caught:
        runner.run(plan, None, Outcome())
    assert caught.value.message == ("shop-api: interrupted; not done: alias prod: 4 -> 5 "
                                    "(the canary's 10% weight was removed)")
    updates = [kwargs for name, kwargs in client.calls if name == "update_alias"]
    assert [u["RoutingConfig"] for u in updates] == [{"AdditionalVersionWeights": {"5": 0.1}},
                                                     {"AdditionalVersionWeights": {}}]
    assert updates[-1]["FunctionVersion"] == "4"
    assert AliasHistory.decode(updates[-1]["Description"]) == AliasHistory(("3",), "canary v5 stopped by the user")
