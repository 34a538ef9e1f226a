"""main(): every kind of failure becomes one line on stderr and an exit code, with secrets
masked and the traceback only under -v. Run in-process; the failures are injected where
the command loads lambda.yaml, so no AWS is involved."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lambdadeploy import config
from lambdadeploy.aws.errors import translate
from lambdadeploy.cli import main
from lambdadeploy.errors import InvalidInputError
from lambdadeploy.output import MASKER

SECRET = "hunter2-db-password"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        error: BaseException, *options: str) -> tuple[int, str]:
    def load(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(config, "load", load)  # what App.project() calls
    monkeypatch.setattr(MASKER, "_values", [SECRET])
    with pytest.raises(SystemExit) as exited:
        main([*options, "-c", str(tmp_path / "lambda.yaml"), "validate"])
    return exited.value.code, capsys.readouterr().err


def test_an_aws_error_is_one_masked_line_and_exit_1(monkeypatch, capsys, tmp_path) -> None:
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": f"not allowed to read {SECRET}"}},
                        "GetFunction")
    code, err = run(monkeypatch, capsys, tmp_path, translate(error, "GetFunction"))
    assert code == 1
    assert err == "error: GetFunction failed: AccessDenied: not allowed to read ****\n"


def test_missing_credentials_say_what_to_do(monkeypatch, capsys, tmp_path) -> None:
    code, err = run(monkeypatch, capsys, tmp_path, translate(NoCredentialsError(), "GetCallerIdentity"))
    assert code == 1 and err.startswith("error: no AWS credentials found") and "--sandbox" in err
    assert "Traceback" not in err


def test_an_internal_error_is_named_masked_and_traced_only_with_v(monkeypatch, capsys, tmp_path) -> None:
    code, err = run(monkeypatch, capsys, tmp_path, RuntimeError(f"bad state {SECRET}"))
    assert code == 1
    assert err == "internal error: RuntimeError: bad state **** (run with -v for the traceback)\n"
    code, err = run(monkeypatch, capsys, tmp_path, RuntimeError("bad state"), "-v")
    assert code == 1 and "Traceback (most recent call last)" in err and err.endswith(
        "internal error: RuntimeError: bad state (run with -v for the traceback)\n")


def test_our_errors_keep_their_exit_code_and_trace_only_with_v(monkeypatch, capsys, tmp_path) -> None:
    error = InvalidInputError(f"alias {SECRET} is unknown", hint="aliases: dev, prod")
    code, err = run(monkeypatch, capsys, tmp_path, error)
    assert code == 2 and err == "error: alias **** is unknown\n  hint: aliases: dev, prod\n"
    code, err = run(monkeypatch, capsys, tmp_path, error, "--verbose")
    assert code == 2 and "Traceback" in err


def test_ctrl_c_outside_a_deploy_exits_130(monkeypatch, capsys, tmp_path) -> None:
    # click turns the KeyboardInterrupt into Abort on its way out of the command.
    code, err = run(monkeypatch, capsys, tmp_path, KeyboardInterrupt())
    assert (code, err) == (130, "\naborted\n")


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["push", "--no-such-option"])
    assert exited.value.code == 2 and "No such option" in capsys.readouterr().err
