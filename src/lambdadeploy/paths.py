"""Where lambdadeploy keeps files on this machine: the dependency cache and a private work dir."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import LambdaDeployError


def default_cache_dir() -> Path:
    """$LAMBDADEPLOY_CACHE_DIR, else $XDG_CACHE_HOME/lambdadeploy, else ~/.cache/lambdadeploy."""
    explicit = os.environ.get("LAMBDADEPLOY_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lambdadeploy"


def private_dir() -> Path:
    """A per-user directory (mode 0700) under the temp dir for code this machine runs locally:
    extracted artifacts, bytecode, stand-ins of a runtime's own packages."""
    getuid = getattr(os, "getuid", None)
    root = Path(tempfile.gettempdir()) / f"lambdadeploy-{getuid() if getuid else 'user'}"
    root.mkdir(mode=0o700, exist_ok=True)
    if getuid and root.stat().st_uid != getuid():
        raise LambdaDeployError(f"{root} belongs to another user; refusing to run code from it")
    return root
