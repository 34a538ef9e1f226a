"""Which values of a project are secrets, so no output ever prints them."""

from __future__ import annotations

import re

from .model import Project

SECRET_KEY = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
MIN_SECRET_LENGTH = 4  # masking "1" or "on" everywhere would garble output and protect nothing


def secret_values(project: Project, env_used: set[str]) -> set[str]:
    """Values never to print: whatever came from the environment, and environment
    variables of functions whose names say secret, token, password or key."""
    values = set(env_used)
    for fn in project.functions:
        values.update(v for k, v in fn.environment.items() if SECRET_KEY.search(k))
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}
