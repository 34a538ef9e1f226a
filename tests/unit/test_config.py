"""lambda.yaml: rendering, validation, error locations. No AWS."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdadeploy.config import RenderContext, load
from lambdadeploy.errors import ConfigError, InvalidInputError


def write_project(tmp_path: Path, text: str, handler_source: str = "def handler(e, c):\n    return e\n") -> Path:
    (tmp_path / "functions" / "hello").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text(handler_source)
    path = tmp_path / "lambda.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def issues(path: Path, context: RenderContext | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, context)
    return [issue.render() for issue in caught.value.issues]


def test_minimal_config_gets_defaults_and_project_prefix(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        project: shop
        functions:
          hello:
            handler: app.handler
    """)
    project = load(path)
    (fn,) = project.functions
    assert fn.name == "shop-hello"
    assert fn.source == (tmp_path / "functions" / "hello").resolve()
    assert (fn.runtime, fn.architecture, fn.memory, fn.timeout) == ("python3.12", "x86_64", 128, 10)
    assert project.aliases == ("dev", "prod")
    assert fn.requirements is None


def test_defaults_apply_and_function_fields_override(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        defaults: {memory: 256, timeout: 30, runtime: python3.13}
        functions:
          hello: {handler: app.handler, memory: 512, environment: {DEBUG: true, NN: 3}}
    """)
    (fn,) = load(path).functions
    assert (fn.memory, fn.timeout, fn.runtime) == (512, 30, "python3.13")
    assert dict(fn.environment) == {"DEBUG": "true", "NN": "3"}


def test_every_error_reported_at_once_with_line_and_hint(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            memroy: 256
            timeout: 901
            runtime: python2.7
            architecture: arm
    """)
    found = issues(path)
    assert len(found) == 4
    assert any(":4: functions.hello.memroy: unknown field (did you mean `memory`?)" in i for i in found)
    assert any(":5: functions.hello.timeout: 901 is out of range (allowed: 1..900 seconds)" in i for i in found)
    assert any(":6: functions.hello.runtime:" in i and "python3.12" in i for i in found)
    assert any(":7: functions.hello.architecture:" in i and "arm64" in i for i in found)


def test_memory_range_and_type(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello: {handler: app.handler, memory: 64}
    """)
    assert any("64 is out of range (allowed: 128..10240 MB)" in i for i in issues(path))
    path.write_text("functions:\n  hello: {handler: app.handler, memory: big}\n")
    assert any("must be a whole number of MB" in i for i in issues(path))


def test_handler_without_dot_and_missing_module(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello: {handler: handler}
    """)
    assert any("invalid handler 'handler'" in i for i in issues(path))
    path.write_text("functions:\n  hello: {handler: missing.handler}\n")
    assert any("handler module not found" in i and "missing.py" in i for i in issues(path))


def test_missing_source_folder(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello: {handler: app.handler, source: nowhere}
    """)
    assert any("source folder not found" in i and "nowhere" in i for i in issues(path))


def test_payload_file_missing_and_not_json(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            test: {payload: events/hello.json}
    """)
    assert any(":4: functions.hello.test.payload: payload file not found" in i for i in issues(path))
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "hello.json").write_text("{not json")
    assert any("is not valid JSON" in i for i in issues(path))
    (tmp_path / "events" / "hello.json").write_text('{"name": "x"}')
    (fn,) = load(path).functions
    assert fn.test is not None and fn.test.payload == {"name": "x"}


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write_project(tmp_path, "functions:\n  hello:\n    handler: [app.handler\n")
    (found,) = issues(path)
    assert "invalid YAML" in found and "lambda.yaml:" in found


def test_jinja_renders_alias_env_and_strict_undefined(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            environment: {STAGE: "{{ alias }}", BUCKET: "{{ env.BUCKET }}"}
    """)
    (fn,) = load(path, RenderContext(alias="prod", env={"BUCKET": "b1"})).functions
    assert dict(fn.environment) == {"STAGE": "prod", "BUCKET": "b1"}
    (found,) = issues(path, RenderContext(alias="prod", env={}))
    assert "lambda.yaml:4" in found and "BUCKET" in found and "template error" in found


def test_jinja_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: "{{ alias }"
    """)
    (found,) = issues(path)
    assert "lambda.yaml:3" in found and "template syntax error" in found


def test_account_id_is_looked_up_only_when_used(tmp_path: Path) -> None:
    calls = []

    def account() -> str:
        calls.append(1)
        return "111122223333"

    path = write_project(tmp_path, "functions:\n  hello: {handler: app.handler}\n")
    load(path, RenderContext(account_id=account))
    assert calls == []
    path.write_text("functions:\n  hello: {handler: app.handler, role: 'arn:aws:iam::{{ account_id }}:role/r'}\n")
    (fn,) = load(path, RenderContext(account_id=account)).functions
    assert fn.role == "arn:aws:iam::111122223333:role/r" and calls == [1]


def test_alias_defaults_to_first_alias(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        aliases: [staging, live]
        functions:
          hello: {handler: app.handler, description: "{{ alias }}"}
    """)
    assert load(path).functions[0].description == "staging"


def test_invalid_alias_names_and_empty_functions(tmp_path: Path) -> None:
    path = write_project(tmp_path, "aliases: [dev, '123', 'bad name']\nfunctions: {}\n")
    found = issues(path)
    assert sum("invalid alias name" in i for i in found) == 2
    assert any("must list at least one function" in i for i in found)


def test_bad_arns_in_role_and_layers(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            role: "arn:aws:iam::12:role/x"
            layers: ["arn:aws:lambda:us-east-1:123456789012:layer:x"]
    """)
    found = issues(path)
    assert any("invalid role ARN" in i for i in found)
    assert any("invalid layer ARN" in i for i in found)


def test_trigger_validation(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            triggers:
              - s4: {bucket: b}
              - schedule: {expression: "every 5 minutes"}
              - s3: {events: ["s3:ObjectCreated:*"]}
              - sqs: {queue: arn:aws:sqs:us-east-1:123456789012:jobs, batch_size: 5}
    """)
    found = issues(path)
    assert any("unknown trigger kind 's4'" in i and "did you mean s3?" in i for i in found)
    assert any("invalid schedule expression" in i for i in found)
    assert any("missing `bucket`" in i for i in found)
    assert len(found) == 3


def test_deprecated_runtime_warns(tmp_path: Path) -> None:
    path = write_project(tmp_path, "functions:\n  hello: {handler: app.handler, runtime: python3.9}\n")
    project = load(path)
    assert any("python3.9" in w and "deprecated" in w for w in project.warnings)


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load(tmp_path / "nope.yaml")
    assert caught.value.exit_code == 2 and "config file not found" in caught.value.message


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = write_project(tmp_path, "- a\n- b\n")
    assert any("must be a mapping" in i for i in issues(path))


def test_url_cors_is_checked_before_anything_is_deployed(tmp_path: Path) -> None:
    path = write_project(tmp_path, """
        functions:
          hello:
            handler: app.handler
            triggers:
              - url: {auth: NONE, cors: "https://example.com"}
              - url: {auth: NONE, cors: {allow_origins: ["*"], allow_colours: [red]}}
    """)
    found = issues(path)
    assert any("cors must be true or a mapping" in i for i in found)
    assert any("allow_colours: unknown CORS setting" in i for i in found)
    path.write_text("functions:\n  hello:\n    handler: app.handler\n    triggers: [{url: {cors: {AllowOrigins: ['*']}}}]\n")
    assert load(path).functions[0].triggers[0].settings.cors == {"AllowOrigins": ["*"]}


def test_the_schema_handler_pattern_takes_python_and_node_handlers() -> None:
    """An editor using `lambdadeploy schema` must not flag handlers validate accepts."""
    import re

    from lambdadeploy.config.rules import json_schema

    pattern = re.compile(json_schema()["properties"]["functions"]["additionalProperties"]["properties"]
                         ["handler"]["pattern"])
    for good in ("app.handler", "pkg.module.handler", "src/app.handler", "src/my-fn.handler",
                 "index.handler", "dist/@scope/lib.main", "app.$handler"):
        assert pattern.match(good), good
    for bad in ("app", "/abs/app.handler", "app.", "app.1x", ".handler"):
        assert not pattern.match(bad), bad
