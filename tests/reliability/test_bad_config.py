"""Whatever lambda.yaml holds, validation answers with ConfigError (exit 2) and nothing else."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
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


JINJA_MARKERS = ("{{", "{%", "{#")


def key_lines(text: str) -> dict[tuple[str, ...], set[int]]:
    """Oracle: each field path of a YAML text to the line(s) where its key or list item starts.
    A key is named by the value YAML reads (`?` and `null` read as None, `true` as True), as
    the loaded document names it."""
    lines: dict[tuple[str, ...], set[int]] = {}
    loader = yaml.SafeLoader(text)

    def key_name(key: yaml.Node) -> str:
        if isinstance(key, yaml.ScalarNode):
            return str(loader.construct_object(key))
        return str(key.value)

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            children = [(key_name(key), key, value) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(index), item, item) for index, item in enumerate(node.value)]
        else:
            return
        for name, marker, child in children:
            lines.setdefault((*path, name), set()).add(marker.start_mark.line + 1)
            walk(child, (*path, name))

    try:
        root = loader.get_single_node()
        if root is not None:
            walk(root, ())
    finally:
        loader.dispose()
    return lines


def readings(document: object, field: str) -> list[tuple[tuple[str, ...], str]]:
    """Every way to read a dotted field path as keys of the document (keys may hold dots
    themselves): (the keys found, the rest of the path that names nothing)."""
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(node: object, keys: tuple[str, ...], rest: str) -> None:
        found.append((keys, rest))
        if isinstance(node, dict):
            children = [(str(key), value) for key, value in node.items()]
        elif isinstance(node, list):
            children = [(str(index), item) for index, item in enumerate(node)]
        else:
            return
        for name, child in children:
            if rest == name:
                found.append(((*keys, name), ""))
            elif rest.startswith(name + "."):
                walk(child, (*keys, name), rest[len(name) + 1:])

    walk(document, (), field)
    return found


def check_issues(error: ConfigError, path: Path, text: str) -> None:
    """Each issue names the file, the field path into the document, and the line of that field."""
    assert error.exit_code == 2 and error.issues
    document = yaml.safe_load(text)
    lines = key_lines(text)
    for issue in error.issues:
        assert issue.file == path, issue
        assert issue.render().startswith(f"{path}:{issue.line}: " if issue.line else f"{path}: "), issue
        if not isinstance(document, dict):
            assert issue.field == "" and issue.line is None, issue
            continue
        missing_allowed = issue.message.startswith("missing") or issue.field == "functions"
        # The path names fields of the document, except a required field that is missing.
        candidates = [(keys, rest) for keys, rest in readings(document, issue.field)
                      if (keys and not rest) or (missing_allowed and rest and "." not in rest)]
        assert candidates, issue
        # The line is where the deepest field of the path that exists starts.
        assert any(issue.line in lines[keys] if keys else issue.line is None for keys, _ in candidates), (
            issue, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(documents, projects))
def test_random_documents_raise_only_config_errors(tmp_path: Path, document: object) -> None:
    from lambdadeploy.config import load

    text = yaml.safe_dump(document, sort_keys=False)
    assume(not any(marker in text for marker in JINJA_MARKERS))
    (tmp_path / "functions" / "hello").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = (tmp_path / "lambda.yaml").resolve()
    path.write_text(text, encoding="utf-8")
    try:
        load(path)
    except ConfigError as error:
        check_issues(error, path, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_files_raise_only_config_errors(tmp_path: Path, text: str) -> None:
    from lambdadeploy.config import load

    path = (tmp_path / "lambda.yaml").resolve()
    path.write_text(text, encoding="utf-8")
    try:
        load(path)
    except ConfigError as error:
        assert error.exit_code == 2 and error.issues
        rendered = path.read_text(encoding="utf-8")  # what load read (newlines as Python reads them)
        try:
            yaml.safe_load(rendered)
        except yaml.YAMLError:
            (issue,) = error.issues
            assert issue.file == path and issue.field == "", issue
            if issue.message.startswith("invalid YAML"):
                assert issue.line is not None and 1 <= issue.line <= rendered.count("\n") + 1, issue
            return
        if any(marker in rendered for marker in JINJA_MARKERS):
            assert all(issue.file == path for issue in error.issues)
            return
        check_issues(error, path, rendered)


def test_yaml_round_trip_of_a_valid_document_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text("def handler(e, c):\n    return e\n")
    path = tmp_path / "lambda.yaml"
    path.write_text(yaml.safe_dump({"functions": {"hello": {"handler": "app.handler"}}}))
    project = Validator(path, {}).project(yaml.safe_load(path.read_text()))
    assert project.functions[0].handler == "app.handler"
