"""lambda.yaml written by someone else (a pull request, a copied example): rendering and
parsing it can neither run code, nor hang, nor exhaust memory, nor let a value from the
environment rewrite the document; every failure is one ConfigError with a file and line.
No AWS, no subprocess.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from lambdadeploy.config import RenderContext, load
from lambdadeploy.errors import ConfigError


def write_project(tmp_path: Path, text: str | bytes) -> Path:
    (tmp_path / "functions" / "hello").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = tmp_path / "lambda.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip())
    return path


def one_issue(path: Path, context: RenderContext | None = None, seconds: float = 10):
    """The single issue load() reports, checked to name a file and a line, found fast."""
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load(path, context)
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    (issue,) = caught.value.issues
    assert issue.line is not None and issue.line >= 1, issue
    return issue, caught.value


HELLO = "functions:\n  hello:\n    handler: app.handler\n"


# --- 3. the template is sandboxed and bounded ------------------------------------------


def test_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    path = write_project(tmp_path, HELLO + f"    description: \"{{{{ cycler.__init__.__globals__.os"
                                           f".popen('touch {marker}').read() }}}}\"\n")
    issue, _ = one_issue(path)
    assert not marker.exists()
    assert issue.file == path.resolve() and issue.line == 4
    assert "unsafe" in issue.message


@pytest.mark.parametrize("expression", [
    "{{ 'x' * 10**10 }}",
    "{{ ['x'] * 10**10 }}",
    "{{ 9**(9**9) }}",
    "{{ 'x'.ljust(10**10) }}",
    "{{ 'x' | center(10**10) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ ('x' * 900000) | replace('x', 'y' * 900000) }}",
    "{{ lipsum(10**7) }}",
])
def test_huge_values_are_refused_fast(tmp_path: Path, expression: str) -> None:
    path = write_project(tmp_path, HELLO + f"    description: \"{expression}\"\n")
    issue, _ = one_issue(path, seconds=5)
    assert issue.line == 4, issue


@pytest.mark.parametrize("body", [
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}",
])
def test_long_renders_are_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    monkeypatch.setattr("lambdadeploy.config.template.RENDER_SECONDS", 1.0)
    path = write_project(tmp_path, HELLO + f"    description: \"{body}\"\n")
    issue, _ = one_issue(path, seconds=5)
    assert issue.line == 4, issue
    assert any(word in issue.message for word in ("seconds", "characters", "range")), issue


def test_include_stays_inside_the_project_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "parts").mkdir(parents=True)
    (project / "parts" / "memory.yaml").write_text("    memory: 256\n")
    (tmp_path / "outside.yaml").write_text("    memory: 512\n")
    os.symlink(tmp_path / "outside.yaml", project / "parts" / "link.yaml")
    path = write_project(project, HELLO + "{% include 'parts/memory.yaml' %}")
    assert load(path).functions[0].memory == 256
    for name in ("../outside.yaml", str(tmp_path / "outside.yaml"), "parts/link.yaml", "parts/../../outside.yaml"):
        path.write_text(HELLO + "    timeout: 3\n" + "{% include '" + name + "' %}\n")
        issue, _ = one_issue(path)
        assert issue.line == 5 and issue.file == path.resolve(), (name, issue)
        assert "include" in issue.message or "not found" in issue.message, (name, issue)


# --- 4. values from the environment are data, never YAML ---------------------------------


INJECTED = "x\nmemory: 10240\ntimeout: 900"


@pytest.mark.parametrize("line", [
    "    description: {{ env.D }}",
    "    description: \"{{ env.D }}\"",
    "    description: '{{ env.D }}'",
    "    description: {{ env.D | default('none') }}",
    "    description: {{ env.D | upper | lower }}",
    "    description: {{ env.D.strip() }}",
    "    description: {{ '' ~ env.D ~ '' }}",
    "    description: {{ '%s' % env.D }}",
    "    description: |\n      {{ env.D }}",
])
def test_an_env_value_never_adds_fields(tmp_path: Path, line: str) -> None:
    path = write_project(tmp_path, HELLO + line + "\n")
    (fn,) = load(path, RenderContext(env={"D": INJECTED})).functions
    assert (fn.memory, fn.timeout) == (128, 10)
    assert fn.description.strip() == INJECTED


@pytest.mark.parametrize("value", ['a", memory: 10240, b: "', "a', memory: 10240, b: '", "a}, memory: 10240, x: {"])
def test_an_env_value_cannot_close_its_quotes_or_flow(tmp_path: Path, value: str) -> None:
    path = write_project(tmp_path, "functions:\n  hello: {handler: app.handler, description: \"{{ env.D }}\", "
                                   "tags: {a: '{{ env.D }}', b: {{ env.D }}}}\n")
    (fn,) = load(path, RenderContext(env={"D": value})).functions
    assert fn.memory == 128
    assert fn.description == value and dict(fn.tags) == {"a": value, "b": value}


def test_env_values_keep_their_yaml_scalar_type(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    memory: {{ env.MEM }}\n    timeout: 1{{ env.ZERO }}\n"
                                           "    description: \"{{ env.MEM }}\"\n"
                                           "    include_runtime_packages: {{ env.YES }}\n")
    (fn,) = load(path, RenderContext(env={"MEM": "512", "ZERO": "0", "YES": "true"})).functions
    assert (fn.memory, fn.timeout, fn.description, fn.include_runtime_packages) == (512, 10, "512", True)


def test_the_alias_option_is_data_too(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    description: {{ alias }}\n")
    (fn,) = load(path, RenderContext(alias="dev\nmemory: 10240")).functions
    assert fn.memory == 128 and fn.description == "dev\nmemory: 10240"


def test_template_logic_still_sees_the_real_values(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + textwrap.indent(textwrap.dedent("""\
        {% if env.STAGE == 'prod' and env.STAGE | length == 4 %}
        memory: 1024
        {% endif %}
        layers: {{ env.LAYERS.split(',') }}
        environment: {STAGE: "{{ env.STAGE }}", EMPTY: "{{ env.get('NOPE', '') }}", JSON: {{ env.STAGE | tojson }}}
        {% macro tag(name) %}{{ name }}: "{{ env.STAGE }}-{{ name }}"{% endmacro %}
        tags: { {{ tag('team') }} }
    """), "    "))
    layers = "arn:aws:lambda:us-east-1:123456789012:layer:a:1,arn:aws:lambda:us-east-1:123456789012:layer:b:2"
    (fn,) = load(path, RenderContext(env={"STAGE": "prod", "LAYERS": layers})).functions
    assert fn.memory == 1024
    assert fn.layers == tuple(layers.split(","))
    assert dict(fn.environment) == {"STAGE": "prod", "EMPTY": "", "JSON": "prod"}
    assert dict(fn.tags) == {"team": "prod-team"}


# --- 5. the environment cannot be listed -------------------------------------------------


@pytest.mark.parametrize("expression", [
    "{{ env }}", "{{ env | list }}", "{{ env.values() | list }}", "{{ env.items() | list }}",
    "{{ env | dictsort }}", "{{ env | tojson }}", "{% for k in env %}{{ k }}{% endfor %}",
    "{{ env | pprint }}", "{{ env.__dict__ }}", "{{ env | length }}",
])
def test_env_cannot_be_listed(tmp_path: Path, expression: str) -> None:
    path = write_project(tmp_path, HELLO + f"    description: \"{expression}\"\n")
    context = RenderContext(env={"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-very-secret"})
    issue, _ = one_issue(path, context)
    assert issue.line == 4
    assert "wJalrXUtnFEMI" not in issue.render()


def test_render_errors_carry_the_env_values_they_may_quote(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    description: \"{{ {}[env.TOKEN] }}\"\n")
    _, error = one_issue(path, RenderContext(env={"TOKEN": "hunter2-secret"}))
    assert "hunter2-secret" in error.secret_values


# --- 7. alias bombs and huge files ---------------------------------------------------------


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write_project(tmp_path, HELLO + "\n".join(lines) + "\n")
    issue, _ = one_issue(path, seconds=3)
    assert "alias" in issue.message


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    tags: &t {a: *t}\n")
    issue, _ = one_issue(path, seconds=3)
    assert issue.line == 4


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults: &base {memory: 256}
        functions:
          hello: {<<: *base, handler: app.handler, tags: &tags {team: a}}
          other: {<<: *base, handler: app.handler, source: functions/hello, tags: *tags}
    """)
    assert [(f.memory, dict(f.tags)) for f in load(path).functions] == [(256, {"team": "a"})] * 2


def test_huge_file_is_refused_fast(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "# " + "x" * (5 * 1024 * 1024) + "\n")
    issue, _ = one_issue(path, seconds=2)
    assert "MB" in issue.message or "bytes" in issue.message


# --- 8. every hostile input is a ConfigError with a line -----------------------------------


@pytest.mark.parametrize(("data", "line", "words"), [
    (HELLO.encode() + b"    description: caf\xe9\n", 4, "UTF-8"),
    (HELLO.encode("utf-16"), 1, "UTF-16"),
    (HELLO.encode("utf-16-le"), 1, "UTF-"),
])
def test_undecodable_files(tmp_path: Path, data: bytes, line: int, words: str) -> None:
    path = write_project(tmp_path, data)
    issue, _ = one_issue(path)
    assert issue.line == line and words in issue.message, issue


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write_project(tmp_path, ("\ufeff" + HELLO).encode("utf-8"))
    assert load(path).functions[0].handler == "app.handler"


@pytest.mark.parametrize(("text", "line"), [
    (HELLO + "    tags: " + "[" * 5000 + "]" * 5000 + "\n", 4),
    (HELLO + "    tags: " + "[" * 200 + "]" * 200 + "\n", 4),
    (HELLO + "".join("    " + "  " * k + f"k{k}:\n" for k in range(300)) + "\n", None),
    (HELLO + "    description: \"{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}\"\n", 4),
    (HELLO + "    memory: {{ 1/0 }}\n", 4),
    (HELLO + "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}\n    description: \"{{ m(1) }}\"\n", 4),
    (HELLO + "    timeout: 3\n{% include 'missing.yaml' %}\n", 5),
    (HELLO + "    timeout: 3\n{% include 'lambda.yaml' %}\n", 5),
    (HELLO + "    timeout: 3\n{% include '/etc/passwd' %}\n", 5),
    (HELLO + "    description: \"{{ 'abc' | wordwrap(0) }}\"\n", 4),
    (HELLO + "    description: \"{{ '\\ud800' }}\"\n", 4),
])
def test_hostile_templates_and_documents_name_a_line(tmp_path: Path, text: str, line: int | None) -> None:
    path = write_project(tmp_path, text)
    issue, _ = one_issue(path, seconds=5)
    assert issue.line == line or line is None, issue


def test_an_included_file_that_is_not_utf8_names_that_file(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "{% include 'part.yaml' %}\n")
    (tmp_path / "part.yaml").write_bytes(b"    description: caf\xe9\n")
    issue, _ = one_issue(path)
    assert issue.file == (tmp_path / "part.yaml").resolve() and issue.line == 1, issue


def test_deeply_nested_payload_file(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    test: {payload: events/deep.json}\n")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "deep.json").write_text("[" * 100000 + "]" * 100000)
    issue, _ = one_issue(path)
    assert issue.line == 4 and issue.field == "functions.hello.test.payload", issue


def test_requirements_that_cannot_be_read(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    requirements: requirements.txt\n")
    source = tmp_path / "functions" / "hello"
    (source / "requirements.txt").write_bytes(b"requests\ncaf\xe9\n")
    issue, _ = one_issue(path)
    assert issue.line == 4 and issue.field == "functions.hello.requirements", issue
    assert "UTF-8" in issue.message and "line 2" in issue.message, issue
    (source / "requirements.txt").unlink()
    (source / "requirements.txt").mkdir()
    issue, _ = one_issue(path)
    assert issue.line == 4 and "not a file" in issue.message, issue


def test_a_default_requirements_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO)
    (tmp_path / "functions" / "hello" / "requirements.txt").write_bytes(b"\xff\xfer\x00")
    issue, _ = one_issue(path)
    assert issue.line == 2 and "requirements.txt" in issue.message, issue


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    memory: 256\n    memory: 512\n")
    issue, _ = one_issue(path)
    assert issue.line == 5 and issue.field == "functions.hello.memory" and "duplicate" in issue.message, issue
    path.write_text("functions:\n  hello: {handler: app.handler}\n  hello: {handler: app.other}\n")
    issue, _ = one_issue(path)
    assert issue.line == 3 and "duplicate" in issue.message, issue


@pytest.mark.parametrize("key", ["~", "null", "true", "1.5", "[a]"])
def test_a_function_key_must_be_a_name(tmp_path: Path, key: str) -> None:
    path = write_project(tmp_path, f"functions:\n  hello: {{handler: app.handler}}\n  {key}: {{handler: app.handler}}\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert any(issue.line == 3 and ("function name" in issue.message or "unhashable key" in issue.message)
               for issue in caught.value.issues), \
        caught.value.issues


def test_json_payload_is_still_fine(tmp_path: Path) -> None:
    path = write_project(tmp_path, HELLO + "    test: {payload: events/ok.json}\n")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "ok.json").write_text(json.dumps({"a": [[1]]}))
    assert load(path).functions[0].test.payload == {"a": [[1]]}


def test_a_single_string_for_a_list_is_reported_at_its_field(tmp_path: Path) -> None:
    """(Found by the random-document test: `strip: foo` was reported at strip.0, a path the file lacks.)"""
    path = write_project(tmp_path, HELLO + "    strip: foo\n")
    issue, _ = one_issue(path)
    assert (issue.line, issue.field) == (4, "functions.hello.strip") and "'foo' is not allowed" in issue.message
    path.write_text(HELLO + "    strip: tests\n")
    assert load(path).functions[0].strip == ("tests",)


def test_the_internal_value_tag_cannot_be_written_in_the_file(tmp_path: Path) -> None:
    """(Found by the random-text test.)"""
    path = write_project(tmp_path, HELLO + "    tags: !lambdadeploy/value 0\n")
    issue, _ = one_issue(path)
    assert issue.line == 4 and "unknown tag" in issue.message
