"""Every way the CLI can fail answers the same way: one message, the documented exit code,
no traceback, no secret; and with --json, exactly one JSON document on stdout.

The CLI runs in-process (main(), as the console script calls it), which is fast enough to
try every error path; tests/e2e runs the installed command itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.cli.group import main

SECRET = "hunter2-s3cr3t-token"
HANDLER = "def handler(event, context):\n    return event\n"


def project(root: Path, config: str, handler: str = HANDLER) -> Path:
    (root / "functions" / "fn").mkdir(parents=True, exist_ok=True)
    (root / "functions" / "fn" / "app.py").write_text(handler)
    (root / "lambda.yaml").write_text(config)
    return root


def run(args: list[str], root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(root / ".cache"))
    monkeypatch.setenv("MY_API_TOKEN", SECRET)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert SECRET not in out.out + out.err and SECRET.upper() not in out.out + out.err
    return caught.value.code, out.out, out.err


def one_document(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)  # exactly one document: trailing text would fail here
    assert isinstance(document, dict)
    return document


GOOD = "functions:\n  fn:\n    handler: app.handler\n"


# --- 9. --json answers on every path -----------------------------------------------------


def test_config_errors_are_a_json_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = project(tmp_path, GOOD + "    memroy: 256\n    timeout: 901\n")
    code, stdout, stderr = run(["--json", "validate"], root, monkeypatch, capsys)
    assert code == 2
    error = one_document(stdout)
    assert error["ok"] is False and error["error"]["exit_code"] == 2
    assert "2 errors in configuration" in error["error"]["message"]
    issues = error["error"]["issues"]
    assert [(i["line"], i["field"]) for i in issues] == [(4, "functions.fn.memroy"), (5, "functions.fn.timeout")]
    assert issues[0]["hint"] == "did you mean `memory`?" and issues[0]["message"] == "unknown field"
    assert all(i["file"] == str((root / "lambda.yaml").resolve()) for i in issues)
    assert "functions.fn.timeout: 901 is out of range" in stderr  # people still read stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--json", "nonsense"], "No such command"),
    (["--json", "export"], "--alias"),
    (["--json", "push", "--alias", "dev", "--parallel", "many"], "--parallel"),
    (["--json", "validate", "--no-such-option"], "--no-such-option"),
    (["validate", "--json"], "--json"),
])
def test_usage_errors_are_a_json_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                          args: list[str], words: str) -> None:
    code, stdout, stderr = run(args, project(tmp_path, GOOD), monkeypatch, capsys)
    assert code == 2
    error = one_document(stdout)["error"]
    assert error["exit_code"] == 2 and words in error["message"] and error["issues"] == []
    assert words in stderr


def test_other_input_errors_are_a_json_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = project(tmp_path, GOOD)
    code, stdout, _ = run(["--json", "-c", "missing.yaml", "validate"], root, monkeypatch, capsys)
    assert code == 2 and "config file not found" in one_document(stdout)["error"]["message"]
    (root / "functions" / "fn" / "requirements.txt").write_text("-e .\n")
    code, stdout, _ = run(["--json", "package", "--out", "dist"], root, monkeypatch, capsys)
    error = one_document(stdout)["error"]
    assert code == 2 and error["exit_code"] == 2 and "requirements.txt:1" in error["message"]
    assert "editable" in error["message"] and error["hint"]


@pytest.mark.parametrize(("raised", "code"), [(RuntimeError("boom"), 1), (KeyboardInterrupt(), 130)])
def test_internal_errors_and_interrupts_are_a_json_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys, raised: BaseException, code: int) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("lambdadeploy.config.load", broken)
    exit_code, stdout, stderr = run(["--json", "validate"], project(tmp_path, GOOD), monkeypatch, capsys)
    error = one_document(stdout)["error"]
    assert exit_code == code == error["exit_code"]
    assert error["message"] in stderr


def test_without_json_stdout_stays_empty_on_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    code, stdout, stderr = run(["validate"], project(tmp_path, GOOD + "    memory: 1\n"), monkeypatch, capsys)
    assert (code, stdout) == (2, "") and "1 is out of range" in stderr


# --- 6. no secret in any error -------------------------------------------------------------


@pytest.mark.parametrize("line", [
    '    memory: "{{ env.MY_API_TOKEN }}"',
    '    memory: "{{ env.MY_API_TOKEN | upper }}"',
    '    role: "{{ env.MY_API_TOKEN }} x"',
    '    description: "{{ {}[env.MY_API_TOKEN] }}"',
    '    description: "{{ env.MY_API_TOKEN ~ 1 / 0 }}"',
    '    tags: {"{{ env.MY_API_TOKEN }}": [1]}',
    '    environment: {DB_PASSWORD: not-from-env-pw}\n    runtime: not-from-env-pw',
])
@pytest.mark.parametrize("json_mode", [False, True])
def test_secrets_are_masked_in_every_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                                  line: str, json_mode: bool) -> None:
    root = project(tmp_path, GOOD + line + "\n")
    code, stdout, stderr = run(["--json", "validate"] if json_mode else ["validate"], root, monkeypatch, capsys)
    assert code == 2
    assert "not-from-env-pw" not in stdout + stderr
    text = one_document(stdout)["error"]["message"] if json_mode else stderr
    assert "lambda.yaml:4" in text or "lambda.yaml:5" in text, text


def test_the_one_source_per_alias_error_masks_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys) -> None:
    """The error quotes the source that would feed two aliases, which may carry a secret."""
    config = ("aliases: [dev, prod]\n" + GOOD + "    triggers:\n"
              "      - schedule: {expression: rate(5 minutes), input: {token: \"{{ env.MY_API_TOKEN }}\"}}\n")
    for args in (["validate"], ["--json", "validate"]):
        code, stdout, stderr = run(args, project(tmp_path, config), monkeypatch, capsys)
        assert code == 2 and "would feed aliases dev and prod" in stdout + stderr  # run() checks the masking


@pytest.mark.parametrize("line", [
    "    description: \"{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}\"",
    "    description: \"{{ 'x' * 10**10 }}\"",
    "    description: \"{% for i in range(10**9) %}x{% endfor %}\"",
    "    tags: &a [*a]",
])
def test_a_hostile_lambda_yaml_through_the_installed_command(tmp_path: Path, line: str) -> None:
    """A plain `validate` of someone else's file, as CI would run it: nothing runs, exit 2 fast."""
    import time

    from ..e2e.conftest import run_cli

    root = project(tmp_path, GOOD + line + "\n")
    started = time.monotonic()
    result = run_cli(["--json", "validate"], root)
    assert time.monotonic() - started < 20
    assert result.code == 2 and not (root / "PWNED").exists()
    (issue,) = one_document(result.stdout)["error"]["issues"]
    assert issue["line"] == 4 and issue["file"].endswith("lambda.yaml")
    assert "lambda.yaml:4" in result.stderr and "Traceback" not in result.stderr
