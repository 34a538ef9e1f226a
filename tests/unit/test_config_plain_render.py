"""A lambda.yaml without template syntax is not handed to Jinja (a rebuild's start-up is
mostly imports), and what it renders to is exactly what Jinja would have made of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdadeploy.config import rendering
from lambdadeploy.config.template_engine import render_with_jinja

PLAIN = [
    "project: shop\nfunctions:\n  hello:\n    handler: app.handler\n",
    "a: 1\r\nb: 2\r\n",  # Windows line ends
    "a: 1\rb: 2\r\n\n",  # old Mac line ends, mixed
    "a: '{ not a template }'\nb: 50%\nc: '#}'\n",
    "",
]


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_file_renders_as_jinja_would_render_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "lambda.yaml"
    plain = rendering.render(path, text, {"alias": "dev"})
    jinja = render_with_jinja(path, text, {"alias": "dev"})
    assert plain.text == jinja.text
    assert (plain.placeholders.values, plain.env_read) == ([], frozenset())


@pytest.mark.parametrize("text", ["a: {{ alias }}\n", "{% if true %}a: 1{% endif %}\n", "a: 1 {# note #}\n"])
def test_a_file_with_template_syntax_is_rendered_by_jinja(tmp_path: Path, text: str) -> None:
    rendered = rendering.render(tmp_path / "lambda.yaml", text, {"alias": "dev"})
    assert "{" not in rendered.text


def test_validating_a_plain_project_never_imports_jinja(tmp_path: Path) -> None:
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    (tmp_path / "lambda.yaml").write_text("project: shop\nfunctions:\n  hello:\n    handler: app.handler\n")
    script = ("import sys, pathlib; from lambdadeploy.config import load; p = load(pathlib.Path(sys.argv[1])); "
              "print(p.functions[0].key, 'jinja2' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "lambda.yaml")],
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["hello", "False"]
