"""Whether a lambdadeploy sandbox answers at a URL, and what it says about itself: what a
client needs before it talks to a sandbox, without loading the server's modules."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

PROBE_PATH = "/_lambdadeploy/sandbox"  # answered by guard.py, before any credentials are checked


def probe(url: str, timeout: float = 3.0) -> dict[str, Any] | None:
    """What a lambdadeploy sandbox at ``url`` says about itself (None: none answers there), quickly."""
    # Refused connections answer at once; the timeout only matters for a busy server that is there.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url.rstrip('/')}{PROBE_PATH}", timeout=timeout) as response:
            document = json.loads(response.read(65536))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if isinstance(document, dict) and document.get("service") == "lambdadeploy-sandbox":
        return document
    return None


def sandbox_answers(url: str, timeout: float = 3.0) -> bool:
    """Whether a lambdadeploy sandbox answers at ``url``."""
    return probe(url, timeout) is not None
