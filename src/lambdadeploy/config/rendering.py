"""Render lambda.yaml (see template.py for what a render may and may not do).

A plain lambda.yaml, one without template syntax, is returned as Jinja would return it (line
ends made "\\n") without importing Jinja: that import is a good part of a rebuild's start-up.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .template import MAX_RENDERED_CHARS, Placeholders, Rendered

_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")  # where Jinja would see an expression, statement or comment
_LINE_ENDS = re.compile(r"\r\n?")
_RENDER_LOCK = threading.Lock()


def render(path: Path, text: str, variables: Mapping[str, Any]) -> Rendered:
    """Render the config text (read from `path`) with `variables`; `env` must be an Env.

    Raises ConfigError naming the file and line of any problem; its secret_values hold
    the environment values read so far, which a message may quote. One render at a time
    per process through Jinja: the memory limit is process-wide."""
    if not _TEMPLATE_SYNTAX.search(text):
        # Nothing for Jinja to do: it would return the text with its line ends made "\n".
        if len(text) > MAX_RENDERED_CHARS:
            raise ConfigError.single(path, 1, "", f"template error: the rendered file is longer than "
                                                  f"{MAX_RENDERED_CHARS} characters")
        return Rendered(_LINE_ENDS.sub("\n", text), Placeholders(), frozenset())
    from .template_engine import render_with_jinja

    with _RENDER_LOCK:
        return render_with_jinja(path, text, variables)
