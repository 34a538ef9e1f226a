"""Whatever lambda.yaml holds, validation answers with ConfigError (exit 2) and nothing else."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdadeploy.config.rules import FUNCTION_FIELD_NAMES, TOP_LEVEL_FIELDS
from lambdadeploy.config.validate import Validator
from lambdadeploy.errors import ConfigError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=12))
keys = st.one_of(st.sampled_from([*TOP_LEVEL_FIELDS, *FUNCTION_FIELD_NAMES, "payload", "expect", "s3", "sqs",
                                  "schedule", "url", "alias", "bucket", "queue", "expression"]),
                 st.text(max_size=8), st.integers(0, 3))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=5)), max_leaves=30)
function_specs = st.dictionaries(st.sampled_from(FUNCTION_FIELD_NAMES), documents, max_size=6)
projects = st.fixed_dictionaries({}, optional={
    "project": documents, "aliases": documents, "defaults": st.one_of(documents, function_specs),
    "functions": st.one_of(documents, st.dictionaries(st.one_of(st.text(max_size=6), st.integers()),
                                                      st.one_of(function_specs, documents), max_size=3)),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(documents, projects))
def test_random_documents_raise_only_config_errors(tmp_path: Path, document: object) -> None:
    (tmp_path / "functions" / "hello").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = tmp_path / "lambda.yaml"
    try:
        Validator(path, {}).project(document)
    except ConfigError as error:
        assert error.exit_code == 2 and error.issues
        for issue in error.issues:
            assert issue.render().startswith(str(path))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_files_raise_only_config_errors(tmp_path: Path, text: str) -> None:
    from lambdadeploy.config import load

    path = tmp_path / "lambda.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load(path)
    except ConfigError as error:
        assert error.exit_code == 2


def test_yaml_round_trip_of_a_valid_document_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = tmp_path / "lambda.yaml"
    path.write_text(yaml.safe_dump({"functions": {"hello": {"handler": "app.handler"}}}))
    project = Validator(path, {}).project(yaml.safe_load(path.read_text()))
    assert project.functions[0].handler == "app.handler"
