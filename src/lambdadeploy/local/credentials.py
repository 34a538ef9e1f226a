"""The sandbox's own credentials: made at start, readable by its user alone.

The sandbox runs code as the user who started it, so only that user may talk to it: every
request must be signed (SigV4) with a key pair the sandbox made. `lambdadeploy sandbox`
writes its pair to a file of mode 0600 in a directory of mode 0700 (see `credentials_path`);
`--sandbox` commands read it from there, and `lambdadeploy sandbox --env` prints it as
environment variables for the user's own scripts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInputError

CREDENTIALS_ENV = "LAMBDADEPLOY_SANDBOX_CREDENTIALS"
_KEY_ALPHABET = string.ascii_uppercase + "234567"  # AWS access key ids are base32-like
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class CredentialsFileError(InvalidInputError):
    """The sandbox's credentials file is missing, unreadable or not private: exit code 2."""


@dataclass(frozen=True)
class SandboxCredentials:
    """A key pair the sandbox accepts (and a session token, for the pair it gives to functions)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def generate(cls, prefix: str = "LDSB", *, with_token: bool = False) -> SandboxCredentials:
        """A fresh random pair, shaped like AWS's (20-character key id, 40-character secret)."""
        key = prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(20 - len(prefix)))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        token = secrets.token_urlsafe(48) if with_token else None
        return cls(key, secret, token)

    def environment(self) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN when there is one)."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def __repr__(self) -> str:  # never print the secret by accident
        return f"SandboxCredentials({self.access_key_id!r}, ...)"


def state_dir() -> Path:
    """Where a running sandbox keeps its credentials: $XDG_RUNTIME_DIR/lambdadeploy when the
    user has a runtime dir (private, cleared at logout), else $XDG_STATE_HOME/lambdadeploy
    (default ~/.local/state/lambdadeploy)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "lambdadeploy"
    state = os.environ.get("XDG_STATE_HOME")
    return (Path(state) if state else Path.home() / ".local" / "state") / "lambdadeploy"


def credentials_path(port: int) -> Path:
    """The credentials file of the sandbox on 127.0.0.1:`port` ($LAMBDADEPLOY_SANDBOX_CREDENTIALS
    names another one for the sandbox that --sandbox uses)."""
    return state_dir() / f"sandbox-{port}.json"


def write_credentials(path: Path, credentials: SandboxCredentials, url: str, region: str) -> None:
    """Write the file readable by this user only (0600, its directory 0700), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    document = {"url": url, "region": region, "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key, "pid": os.getpid()}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle)
    os.replace(temporary, path)


def remove_credentials(path: Path, credentials: SandboxCredentials) -> None:
    """Delete the file if it still holds these credentials (a newer sandbox may have replaced it)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        if json.loads(path.read_text())["aws_access_key_id"] == credentials.access_key_id:
            path.unlink()


@dataclass(frozen=True)
class CredentialsFile:
    """What a credentials file says: the sandbox's URL, region and key pair."""

    path: Path
    url: str
    region: str
    credentials: SandboxCredentials

    def environment(self) -> dict[str, str]:
        """What a boto3 script needs to talk to this sandbox."""
        return {**self.credentials.environment(), "AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": self.region}


def read_credentials(path: Path) -> CredentialsFile:
    """Read a credentials file; refuse one that other users could read or write."""
    try:
        info = path.stat()
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise CredentialsFileError(f"no sandbox credentials at {path}",
                                   hint="start one with `lambdadeploy sandbox` (it writes them there)") from None
    except (OSError, ValueError) as error:
        raise CredentialsFileError(f"cannot read the sandbox credentials at {path}: {error}") from error
    if stat.S_IMODE(info.st_mode) & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise CredentialsFileError(f"{path} is readable by other users or not yours; refusing to use it",
                                   hint="remove it and restart the sandbox (it writes the file with mode 0600)")
    if not isinstance(document, Mapping) or not all(
            isinstance(document.get(k), str) for k in ("url", "region", "aws_access_key_id", "aws_secret_access_key")):
        raise CredentialsFileError(f"{path} is not a sandbox credentials file")
    credentials = SandboxCredentials(document["aws_access_key_id"], document["aws_secret_access_key"])
    return CredentialsFile(path, document["url"], document["region"], credentials)
