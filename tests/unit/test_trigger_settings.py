"""Every trigger setting is typed: a value of the wrong type is a validate error naming the file,
the line and the field, never a crash later in plan or push."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdadeploy.config import load
from lambdadeploy.errors import ConfigError
from lambdadeploy.fields import Json
from lambdadeploy.triggers import registry

VALID = {
    "s3": {"bucket": "uploads"},
    "sns": {"topic": "arn:aws:sns:us-east-1:123456789012:thumbs"},
    "sqs": {"queue": "arn:aws:sqs:us-east-1:123456789012:jobs"},
    "dynamodb": {"stream": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-01-01T00:00:00.000"},
    "kinesis": {"stream": "arn:aws:kinesis:us-east-1:123456789012:stream/S"},
    "schedule": {"expression": "rate(5 minutes)"},
    "url": {},
    "http": {"api": "shop", "routes": "GET /items"},
}
TYPED_FIELDS = [(kind.name, field.name) for kind in registry.KINDS for field in kind.settings.fields
                if not isinstance(field.rule, Json)]
# A value of the wrong type for each field: a mapping, or (where a mapping is allowed) a word.
WRONG = ("{wrong: [type]}", "nope")


def wrong_value(kind: str, field: str) -> str:
    import yaml

    from lambdadeploy.fields import INVALID, Reporter

    rule = next(f.rule for f in registry.kind(kind).settings.fields if f.name == field)
    return next(text for text in WRONG if rule.check(yaml.safe_load(text), Reporter(lambda *a: None)) is INVALID)


def project(tmp_path: Path, kind: str, settings: dict) -> Path:
    (tmp_path / "functions" / "f").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "f" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    inline = ", ".join(f"{key}: {value}" for key, value in settings.items())
    path = tmp_path / "lambda.yaml"
    path.write_text(f"aliases: [dev]\nfunctions:\n  f:\n    handler: app.handler\n    triggers:\n      - {kind}: {{{inline}}}\n")
    return path


def test_every_kind_has_a_valid_example_and_it_loads(tmp_path: Path) -> None:
    assert set(VALID) == set(registry.names())
    for kind, settings in VALID.items():
        path = project(tmp_path, kind, {k: f'"{v}"' for k, v in settings.items()})
        (trigger,) = load(path).functions[0].triggers
        assert trigger.kind == kind and trigger.line == 6


@pytest.mark.parametrize(("kind", "field"), TYPED_FIELDS)
def test_a_wrong_type_for_any_setting_is_reported_at_its_line(tmp_path: Path, kind: str, field: str) -> None:
    settings = {k: f'"{v}"' for k, v in VALID[kind].items()}
    settings[field] = wrong_value(kind, field)
    path = project(tmp_path, kind, settings)
    with pytest.raises(ConfigError) as caught:
        load(path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line) == (path, 6)
    # a mapping setting (cors) names the key inside it that is wrong
    assert issue.field in (f"functions.f.triggers.0.{kind}.{field}", f"functions.f.triggers.0.{kind}.{field}.wrong")


def test_batch_size_ten_and_enabled_nope_exit_2_with_the_line(tmp_path: Path) -> None:
    path = project(tmp_path, "sqs", {"queue": '"arn:aws:sqs:us-east-1:123456789012:jobs"', "batch_size": "ten",
                                     "enabled": '"nope"'})
    done = subprocess.run([sys.executable, "-m", "lambdadeploy", "-c", str(path), "validate"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{path}:6: functions.f.triggers.0.sqs.batch_size: must be a whole number of messages, got 'ten'" in done.stderr
    assert f"{path}:6: functions.f.triggers.0.sqs.enabled: must be true or false, got 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
