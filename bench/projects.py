"""The bench's sample projects, written fresh under bench/.work/ on every run.

One lambdadeploy project (lambda.yaml) holds the three sample functions plus ten
tiny ones for the parallel push; each sample function also gets a SAM template
of its own, so `sam build` sees exactly one function, and a plain folder layout
for `pip install --target` + `zip -r`. Requirements are pinned so every run and
every tool installs the same files.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

RUNTIME = "python3.12"
PYTHON_VERSION = "3.12"
FANOUT = 10  # functions in the parallel push

TINY_HANDLER = '''\
"""A tiny handler: no dependencies."""

VERSION = 0


def handler(event, context):
    return {"statusCode": 200, "body": "ok", "version": VERSION}
'''

REQUESTS_HANDLER = '''\
"""A function that would call an HTTP API with requests (it only builds a request here)."""

import requests

VERSION = 0


def handler(event, context):
    prepared = requests.Request("GET", "https://example.com/items", params=event).prepare()
    return {"statusCode": 200, "url": prepared.url, "version": VERSION}
'''

PANDAS_HANDLER = '''\
"""A data function: pandas + numpy (+ requests for fetching, unused here)."""

import numpy as np
import pandas as pd
import requests  # noqa: F401

VERSION = 0


def handler(event, context):
    frame = pd.DataFrame({"x": np.arange(10)})
    return {"statusCode": 200, "sum": int(frame["x"].sum()), "version": VERSION}
'''


@dataclass(frozen=True)
class Sample:
    """One sample function: its key in lambda.yaml and what it ships."""

    key: str
    label: str
    handler_source: str
    requirements: tuple[str, ...]

    def function_dir(self, root: Path) -> Path:
        return root / "functions" / self.key


SAMPLES = (
    Sample("tiny", "tiny handler", TINY_HANDLER, ()),
    Sample("web", "requests", REQUESTS_HANDLER, ("requests==2.32.3",)),
    Sample(
        "data",
        "pandas+numpy+requests",
        PANDAS_HANDLER,
        ("pandas==2.2.3", "numpy==2.2.6", "requests==2.32.3"),
    ),
)
SAMPLE_BY_KEY = {s.key: s for s in SAMPLES}


def fanout_keys() -> list[str]:
    return [f"fan{i:02d}" for i in range(FANOUT)]


def write_projects(root: Path) -> Path:
    """Write the sample project under root (replacing it); returns the lambda.yaml path."""
    root = root.resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    functions: list[str] = []
    for sample in SAMPLES:
        folder = sample.function_dir(root)
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(sample.handler_source)
        if sample.requirements:
            (folder / "requirements.txt").write_text("\n".join(sample.requirements) + "\n")
        functions.append(_function_yaml(sample.key, "{}"))
        _write_sam_template(root / "sam" / sample.key, folder)
    for key in fanout_keys():
        folder = root / "functions" / key
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(TINY_HANDLER)
        functions.append(_function_yaml(key, "{}"))
    (root / "lambda.yaml").write_text(
        textwrap.dedent(
            f"""\
            project: bench
            region: us-east-1
            aliases: [dev]
            defaults:
              runtime: {RUNTIME}
              architecture: x86_64
              memory: 256
              timeout: 30
            functions:
            """
        )
        + "".join(functions)
    )
    return root / "lambda.yaml"


def _function_yaml(key: str, payload: str) -> str:
    return (
        f"  {key}:\n"
        f"    handler: app.handler\n"
        f"    test:\n"
        f"      payload: {payload}\n"
        f"      expect: {{statusCode: 200}}\n"
    )


def _write_sam_template(folder: Path, code: Path) -> None:
    """A one-function SAM template whose CodeUri is the sample's own source folder."""
    folder.mkdir(parents=True)
    (folder / "template.yaml").write_text(
        textwrap.dedent(
            f"""\
            AWSTemplateFormatVersion: "2010-09-09"
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: {code}
                  Handler: app.handler
                  Runtime: {RUNTIME}
                  Architectures: [x86_64]
            """
        )
    )


def edit_handler(path: Path, n: int) -> None:
    """The one-line code change of the rebuild and full-push benches: VERSION = n."""
    lines = path.read_text().splitlines(keepends=True)
    lines = [f"VERSION = {n}\n" if line.startswith("VERSION = ") else line for line in lines]
    path.write_text("".join(lines))
