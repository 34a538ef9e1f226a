"""What AWS refuses and lambda.yaml alone can tell is refused at `validate`: exit 2, file, line, field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdadeploy.config import RenderContext, load
from lambdadeploy.errors import ConfigError

QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"


def project(tmp_path: Path, body: str, aliases: str = "[dev, prod]") -> Path:
    (tmp_path / "functions" / "f").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "f" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "lambda.yaml"
    path.write_text(f"aliases: {aliases}\nfunctions:\n  f:\n    handler: app.handler\n{body}")
    return path


def issues(path: Path, alias: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, RenderContext(alias=alias))
    return [issue.render() for issue in caught.value.issues]


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lambdadeploy", "-c", str(path), "validate"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(0 minutes)", "rate(5 minute)", "cron(0 12 * * * *)",
                                        "cron(0 12 * * ?)", "cron(61 12 * * ? *)"])
def test_schedule_expressions_eventbridge_refuses_exit_2(tmp_path: Path, expression: str) -> None:
    path = project(tmp_path, f"    triggers: [{{schedule: {{expression: '{expression}', alias: dev}}}}]\n")
    done = validate(path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{path}:5: functions.f.triggers.0.schedule.expression: invalid schedule expression" in done.stderr


@pytest.mark.parametrize("expression", ["rate(1 minute)", "rate(5 minutes)", "cron(0 12 * * ? *)",
                                        "cron(0/15 9-17 ? * MON-FRI *)"])
def test_schedule_expressions_eventbridge_takes_pass(tmp_path: Path, expression: str) -> None:
    path = project(tmp_path, f"    triggers: [{{schedule: {{expression: '{expression}', alias: dev}}}}]\n")
    assert load(path).functions[0].triggers[0].settings.expression == expression


def test_sqs_batch_over_10_needs_a_window_and_fifo_takes_10_without_one(tmp_path: Path) -> None:
    path = project(tmp_path, f"    triggers: [{{sqs: {{queue: '{QUEUE}', batch_size: 100, alias: dev}}}}]\n")
    (problem,) = issues(path)
    assert "functions.f.triggers.0.sqs.batch_size: Maximum batch window in seconds must be greater than 0" in problem
    path = project(tmp_path, f"    triggers: [{{sqs: {{queue: '{QUEUE}', batch_size: 100, batching_window: 1, "
                             "alias: dev}}]\n")
    assert load(path).functions[0].triggers[0].settings.batch_size == 100
    path = project(tmp_path, f"    triggers: [{{sqs: {{queue: '{QUEUE}.fifo', batch_size: 20, batching_window: 5, "
                             "alias: dev}}]\n")
    found = issues(path)
    assert any("sqs.batching_window: Batching window is not supported for FIFO queues" in i for i in found)
    assert any("sqs.batch_size: Maximum batch size must be between 1 and 10" in i for i in found)
    path = project(tmp_path, f"    triggers: [{{sqs: {{queue: '{QUEUE}', batch_size: 10001, batching_window: 1, "
                             "alias: dev}}]\n")
    assert any("sqs.batch_size: 10001 is out of range" in i for i in issues(path))


def test_environment_over_4kb_is_refused(tmp_path: Path) -> None:
    path = project(tmp_path, "    environment: {BIG: " + "x" * 4090 + "}\n")
    (problem,) = issues(path)
    assert f"{path}:5: functions.f.environment: the variables take 4100 bytes as JSON; Lambda allows 4096" in problem
    path = project(tmp_path, "    environment: {BIG: " + "x" * 4080 + "}\n")
    assert len(load(path).functions[0].environment["BIG"]) == 4080


def test_tags_over_aws_limits_are_refused_counting_the_tools_own(tmp_path: Path) -> None:
    many = ", ".join(f"t{i}: v" for i in range(47))  # + managed-by, description digest, two trigger markers
    path = project(tmp_path, f"    tags: {{{many}}}\n")
    assert any("51 tags; a function may have at most 50" in i for i in issues(path))
    path = project(tmp_path, "    tags: {'aws:owner': me, k: " + "v" * 257 + "}\n")
    found = issues(path)
    assert any("the aws: prefix is reserved" in i for i in found)
    assert any("value is 257 characters; at most 256" in i for i in found)
    path = project(tmp_path, "    description: " + "d" * 257 + "\n")
    assert any("functions.f.description: is 257 characters long; at most 256" in i for i in issues(path))


def test_one_event_source_feeds_one_alias(tmp_path: Path) -> None:
    path = project(tmp_path, f"    triggers:\n      - sqs: {{queue: '{QUEUE}'}}\n")
    done = validate(path)
    assert done.returncode == 2
    assert f"{path}:6: functions.f.triggers.0.sqs: the sqs trigger's queue {QUEUE} would feed aliases dev and prod" \
        in done.stderr
    assert "add `alias: prod` to the trigger, or make its source alias-specific" in done.stderr
    # Fixed by naming the alias, or by a source that differs per alias; function URLs are per alias anyway.
    project(tmp_path, f"    triggers:\n      - sqs: {{queue: '{QUEUE}', alias: prod}}\n      - url: {{}}\n")
    assert validate(path).returncode == 0
    project(tmp_path, "    triggers:\n      - sqs: {queue: 'arn:aws:sqs:us-east-1:123456789012:jobs-{{ alias }}'}\n"
                      "      - s3: {bucket: uploads, prefix: '{{ alias }}/'}\n")
    assert validate(path).returncode == 0
    # One alias only: nothing to share.
    project(tmp_path, f"    triggers:\n      - sqs: {{queue: '{QUEUE}'}}\n", aliases="[prod]")
    assert validate(path).returncode == 0


def test_the_direct_upload_limit_is_the_request_cap_of_the_base64_zip() -> None:
    from lambdadeploy.awsrules.lambda_api import (
        REQUEST_LIMIT,
        direct_upload_fits,
        largest_direct_upload,
    )
    from lambdadeploy.packaging import limits

    largest = largest_direct_upload()
    assert direct_upload_fits(largest) and not direct_upload_fits(largest + 3)
    # Under 50 MiB (which base64-encoded alone is already over the cap), with room for the JSON around it.
    assert 52_300_000 < largest < 50 * 1024 * 1024 and 4 * ((largest + 2) // 3) < REQUEST_LIMIT - 60_000
    assert largest == limits.MAX_DIRECT_UPLOAD_BYTES


def test_alias_history_always_fits_the_description_limit() -> None:
    from lambdadeploy.engine.history import AliasHistory

    long = AliasHistory(tuple(str(100_000_000 + i) for i in range(10)), "v9 failed: " + "x" * 500)
    text = long.encode()
    assert len(text) <= 256
    decoded = AliasHistory.decode(text)
    assert decoded.previous[0] == "100000000" and decoded.smoke.endswith("...")  # newest kept, smoke cut
    huge = AliasHistory(tuple("9" * 30 for _ in range(10)), "ok")
    kept = AliasHistory.decode(huge.encode())
    assert len(huge.encode()) <= 256 and 0 < len(kept.previous) < 10 and kept.previous[0] == "9" * 30
