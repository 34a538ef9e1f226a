"""Without the `lambdadeploy[sandbox]` extra, --sandbox and `lambdadeploy sandbox` exit 2 with one
line saying how to install it (and --json still answers with one document). The extra's
absence is made real for this process by hiding moto from the import system."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambdadeploy.cli import main

HINT = "error: the sandbox is not installed: pip install 'lambdadeploy[sandbox]'\n"


@pytest.fixture
def no_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "moto" or m.startswith("moto.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "moto", None)  # `import moto` now fails, as without the extra


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


@pytest.mark.parametrize("args", [("--sandbox", "validate"), ("--sandbox", "status"), ("sandbox", "--port", "45991")])
def test_the_sandbox_without_its_extra_says_how_to_install_it(no_moto, capsys, tmp_path: Path, args) -> None:
    code, out, err = run(capsys, "-c", str(tmp_path / "missing.yaml"), *args)
    assert (code, out, err) == (2, "", HINT)


def test_json_answers_with_one_document(no_moto, capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "--json", "--sandbox", "-c", str(tmp_path / "missing.yaml"), "validate")
    document = json.loads(out)
    assert code == 2 and err == HINT
    assert document["ok"] is False and "pip install 'lambdadeploy[sandbox]'" in json.dumps(document)


def test_commands_without_the_sandbox_do_not_need_it(no_moto, capsys, tmp_path: Path) -> None:
    config = tmp_path / "lambda.yaml"
    config.write_text("functions:\n  hello:\n    handler: app.handler\n")
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    code, out, err = run(capsys, "-c", str(config), "validate")
    assert code == 0 and "valid, 1 function(s)" in err + out
