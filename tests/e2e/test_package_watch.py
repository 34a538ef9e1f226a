"""`lambdadeploy package --watch` as a user runs it: a process that rebuilds a zip when its
function's files or lambda.yaml change, reports a broken save and goes on, and stops cleanly
on SIGINT. Under --json, one document per line and per build."""

from __future__ import annotations

import io
import json
import select
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from .conftest import cli_environment

CONFIG = """project: watched
functions:
  api:
    handler: app.handler
    memory: 128
  other:
    handler: app.handler
    source: functions/other
"""


def next_document(process: subprocess.Popen, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = process.stdout.readline()
            assert line, f"the watcher ended: {process.stderr.read()}"
            return json.loads(line)
    raise TimeoutError("no build document")


def member(zip_path: Path, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(zip_path.read_bytes())) as zf:
        return zf.read(name).decode()


def test_package_watch_rebuilds_on_each_save_and_stops_on_sigint(tmp_path: Path) -> None:
    for name in ("api", "other"):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text(CONFIG)
    process = subprocess.Popen([sys.executable, "-m", "lambdadeploy", "--json", "package", "--watch", "--out", "out"],
                               cwd=tmp_path, env=cli_environment(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        first = next_document(process)
        assert first["ok"] and sorted(f["function"] for f in first["functions"]) == ["api", "other"]
        zip_path = tmp_path / "out" / "watched-api.zip"

        (tmp_path / "functions" / "api" / "app.py").write_text("def handler(event, context):\n    return 2\n")
        edited = next_document(process)
        assert [f["function"] for f in edited["functions"]] == ["api"]  # only what changed
        assert "return 2" in member(zip_path, "app.py")
        assert edited["functions"][0]["sha256"] != first["functions"][0]["sha256"]

        (tmp_path / "lambda.yaml").write_text(CONFIG.replace("memory: 128", "memory: 2x"))
        broken = next_document(process)
        assert broken["ok"] is False and "lambda.yaml" in broken["error"]["message"] + json.dumps(broken)
        assert process.poll() is None  # still watching

        (tmp_path / "lambda.yaml").write_text(CONFIG.replace("handler: app.handler\n    memory", "handler: main.handler\n    memory"))
        (tmp_path / "functions" / "api" / "main.py").write_text("def handler(event, context):\n    return 3\n")
        fixed = next_document(process)
        assert fixed["ok"] and sorted(f["function"] for f in fixed["functions"]) == ["api", "other"]
        assert "return 3" in member(zip_path, "main.py")
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0
    errors = process.stderr.read()
    assert "stopped watching" in errors
    assert "error: 1 error in configuration:" in errors  # once, then where and what
    assert "lambda.yaml:5: functions.api.memory: must be a whole number of MB" in errors
    assert "error: error:" not in errors
