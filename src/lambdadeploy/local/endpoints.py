"""The sandbox servers running in this process, and how code they run calls them back.

A function invoked through the sandbox runs in a subprocess (seam.py, runner.py); its own
boto3 calls must reach the same sandbox and be accepted there, so the seam gives it the
sandbox's URL and the key pair the sandbox made for its functions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .credentials import SandboxCredentials


@dataclass(frozen=True)
class Callback:
    url: str
    credentials: SandboxCredentials


_running: list[Callback] = []
_lock = threading.Lock()


def register(url: str, credentials: SandboxCredentials) -> None:
    with _lock:
        _running.append(Callback(url, credentials))


def unregister(url: str) -> None:
    with _lock:
        _running[:] = [c for c in _running if c.url != url]


def running_urls() -> list[str]:
    with _lock:
        return [c.url for c in _running]


def callback_environment() -> dict[str, str]:
    """AWS_ENDPOINT_URL and credentials for function code, or {} when no sandbox runs here."""
    with _lock:
        if not _running:
            return {}
        latest = _running[-1]
    return {"AWS_ENDPOINT_URL": latest.url, **latest.credentials.environment()}
