"""`init`'s CI workflow installs the lambdadeploy that wrote it, the sandbox extra only where the
sandbox runs (the test job), and the light core everywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lambdadeploy import __version__
from lambdadeploy.scaffold import Scaffold, render_files


def installs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if str(step.get("run", "")).startswith("pip install")]


@pytest.mark.parametrize("scaffold", [Scaffold("shop"), Scaffold("shop", runtime="nodejs22.x", templates="node")],
                         ids=["python", "node"])
def test_the_workflow_pins_the_generating_version_and_the_test_job_gets_the_sandbox(scaffold: Scaffold) -> None:
    files = render_files(scaffold)
    assert f"pip install 'lambdadeploy[sandbox]=={__version__}'" in files[Path("README.md")]
    workflow = yaml.safe_load(files[Path(".github/workflows/deploy.yml")])
    jobs = workflow["jobs"]
    (tests,) = installs(jobs["test"])
    assert tests.endswith(f" 'lambdadeploy[sandbox]=={__version__}'")
    assert any("--sandbox push" in step.get("run", "") for step in jobs["test"]["steps"])
    for name in ("deploy-dev", "promote-prod"):
        assert installs(jobs[name]) == [f"pip install 'lambdadeploy=={__version__}'"]
        assert not any("--sandbox" in step.get("run", "") for step in jobs[name]["steps"])
