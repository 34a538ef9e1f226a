"""README, Packaging: requirements that live off PyPI, through `lambdadeploy package`, offline.

A local package folder named in requirements.txt is part of the dependency cache key, so
editing it ships the new code; a private index named with --index-url is where the
dependency comes from (a loopback PEP 503 index serving a wheel built here).
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ..unit.packaging_support import make_wheel
from .conftest import CliResult, run_cli

CONFIG = "functions:\n  fn: {handler: app.handler}\n"

# An in-tree PEP 517 backend with no build requirements: uv builds the local package with
# nothing to download, so these tests need no index at all.
BACKEND = '''
import base64, hashlib, os, zipfile

NAME, VERSION = "shared", "1.0"
INFO = f"{NAME}-{VERSION}.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for folder, _, names in os.walk(NAME):
        for name in sorted(names):
            if not name.endswith(".pyc"):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    files[path.replace(os.sep, "/")] = handle.read()
    files[f"{INFO}/METADATA"] = f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode()
    files[f"{INFO}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{INFO}/RECORD"] = ("\\n".join([*record, f"{INFO}/RECORD,,"]) + "\\n").encode()
    wheel = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel
'''


def make_local_package(folder: Path, value: int) -> None:
    (folder / "shared").mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        '[project]\nname = "shared"\nversion = "1.0"\n')
    (folder / "backend.py").write_text(BACKEND)
    (folder / "shared" / "__init__.py").write_text(f"VALUE = {value}\n")


def make_function(root: Path, module: str, requirements: str) -> Path:
    source = root / "functions" / "fn"
    source.mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(f"import {module}\n\ndef handler(event, context):\n    return {module}.VALUE\n")
    (source / "requirements.txt").write_text(requirements)
    (root / "lambda.yaml").write_text(CONFIG)
    return source


def package(root: Path, env: dict[str, str | None]) -> tuple[CliResult, zipfile.ZipFile]:
    result = run_cli(["package", "--out", "dist"], root, env=env)
    assert result.code == 0, result.stdout + result.stderr
    return result, zipfile.ZipFile(io.BytesIO((root / "dist" / "fn.zip").read_bytes()))


def cache_keys(root: Path) -> set[str]:
    return {entry.name for entry in (root / ".cache" / "deps").iterdir() if not entry.name.startswith(".")}


@pytest.mark.parametrize("location", ["../shared", "./libs/shared"])
def test_editing_a_local_requirement_ships_the_new_code(tmp_path: Path, location: str) -> None:
    source = make_function(tmp_path, "shared", f"{location}\n")
    make_local_package((source / location).resolve(), 1)
    offline = {"UV_OFFLINE": "1", "PIP_NO_INDEX": "1", "UV_CACHE_DIR": str(tmp_path / "uv-cache")}

    first, archive = package(tmp_path, offline)
    assert "dependencies installed" in first.stdout
    assert archive.read("shared/__init__.py") == b"VALUE = 1\n"
    (key,) = cache_keys(tmp_path)

    again, _ = package(tmp_path, offline)
    assert "dependencies from cache" in again.stdout and cache_keys(tmp_path) == {key}

    (source / location / "shared" / "__init__.py").write_text("VALUE = 2\n")
    edited, archive = package(tmp_path, offline)
    assert "dependencies installed" in edited.stdout
    assert len(cache_keys(tmp_path) - {key}) == 1  # a new key for the new content
    assert archive.read("shared/__init__.py") == b"VALUE = 2\n"


@pytest.fixture
def private_index(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A PEP 503 simple index on loopback serving one wheel, tinyidx 1.0; yields its URL and
    the paths asked of it."""
    wheel = make_wheel(tmp_path / "wheels", "tinyidx", {"tinyidx/__init__.py": "VALUE = 7\n"})
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pages = {
        "/simple/": b'<!DOCTYPE html><html><body><a href="tinyidx/">tinyidx</a></body></html>',
        "/simple/tinyidx/": (f'<!DOCTYPE html><html><body><a href="/files/{wheel.name}#sha256={sha256}">'
                             f"{wheel.name}</a></body></html>").encode(),
        f"/files/{wheel.name}": wheel.read_bytes(),
    }
    asked: list[str] = []

    class Index(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_GET(self) -> None:
            asked.append(self.path)
            self._answer(send_body=True)

        def _answer(self, send_body: bool) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "application/octet-stream" if self.path.endswith(".whl") else "text/html"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/", asked
    server.shutdown()
    server.server_close()


def test_requirements_install_from_a_private_index(tmp_path: Path, private_index: tuple[str, list[str]]) -> None:
    url, asked = private_index
    make_function(tmp_path, "tinyidx", f"--index-url {url}\ntinyidx==1.0\n")
    env = {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_INDEX_URL": None, "UV_DEFAULT_INDEX": None,
           "UV_EXTRA_INDEX_URL": None, "PIP_INDEX_URL": None}
    result, archive = package(tmp_path, env)
    assert "dependencies installed" in result.stdout
    assert archive.read("tinyidx/__init__.py") == b"VALUE = 7\n"
    assert "/simple/tinyidx/" in asked
    assert any(re.fullmatch(r"/files/tinyidx-1\.0-py3-none-any\.whl", path) for path in asked)
