"""The alternatives lambdadeploy is measured against, each as a sequence of timed commands.

- `sam build` (aws-sam-cli in its own venv under bench/.work/, no container: it needs
  the runtime's Python on PATH) followed by `zip -r` of the built function folder;
  for rebuilds, `sam build --cached`.
- `pip install --target` for the Lambda platform (the flags AWS's docs give for
  native packages, plus --no-compile so no .pyc of this machine's Python ships)
  followed by `zip -r` of that folder and `zip` of the handler, as AWS's docs do it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from common import WORK, BenchError, Measured, base_env, find_python, fresh_dir, measure
from projects import PYTHON_VERSION, Sample

SAM_VENV = WORK / "sam-venv"
SAM_REQUIREMENT = "aws-sam-cli"


def zip_tree(folder: Path, out: Path, label: str) -> Measured:
    """`zip -r -q -X out .` inside folder (a fresh zip)."""
    out.unlink(missing_ok=True)
    return measure(["zip", "-r", "-q", "-X", str(out), "."], env=base_env(), cwd=folder, label=label)


def zip_add(zip_path: Path, folder: Path, name: str, label: str) -> Measured:
    """`zip -q -X out.zip name` inside folder: add or replace one file in an existing zip."""
    return measure(["zip", "-q", "-X", str(zip_path), name], env=base_env(), cwd=folder, label=label)


class Sam:
    """aws-sam-cli installed in the bench's own venv, with the runtime's Python on PATH."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.reason: str | None = None
        self.sam = SAM_VENV / "bin" / "sam"
        self.python = find_python(PYTHON_VERSION)
        if shutil.which("zip") is None:
            self.reason = "no `zip` command on this machine"
            return
        if self.python is None:
            self.reason = f"sam build needs python{PYTHON_VERSION} on PATH and none was found"
            return
        if not self.sam.exists():
            log(f"installing {SAM_REQUIREMENT} into {SAM_VENV} (once)...")
            try:
                subprocess.run([sys.executable, "-m", "venv", str(SAM_VENV)], check=True)
                subprocess.run(
                    [str(SAM_VENV / "bin" / "pip"), "install", "--quiet", SAM_REQUIREMENT],
                    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            except subprocess.CalledProcessError as exc:
                shutil.rmtree(SAM_VENV, ignore_errors=True)
                self.reason = f"installing aws-sam-cli failed ({exc})"
                return
        done = subprocess.run([str(self.sam), "--version"], capture_output=True, text=True,
                              env=self.env(), check=False)
        if done.returncode != 0:
            self.reason = f"`sam --version` failed: {done.stderr.strip()[:200]}"
            return
        self.version = done.stdout.strip()

    @property
    def available(self) -> bool:
        return self.reason is None

    def env(self) -> dict[str, str]:
        assert self.python is not None
        path = os.path.dirname(self.python) + os.pathsep + os.environ.get("PATH", "")
        return base_env(PATH=path)

    def build(self, template_dir: Path, *, cached: bool, label: str) -> Measured:
        """`sam build` of the one-function template; with cached, reuse its --cache-dir."""
        cmd = [str(self.sam), "build", "--template", "template.yaml", "--build-dir", "build"]
        if cached:
            cmd += ["--cached", "--cache-dir", "cache"]
        return measure(cmd, env=self.env(), cwd=template_dir, label=label)

    def clean(self, template_dir: Path) -> None:
        for name in ("build", "cache", ".aws-sam"):
            shutil.rmtree(template_dir / name, ignore_errors=True)

    def package(self, template_dir: Path, out: Path, *, cached: bool, label: str) -> tuple[float, int]:
        """sam build (+ --cached) then zip -r of the built function: (seconds, peak RSS of sam)."""
        built = self.build(template_dir, cached=cached, label=f"{label}-sam")
        zipped = zip_tree(template_dir / "build" / "Fn", out, label=f"{label}-zip")
        return built.seconds + zipped.seconds, built.peak_rss_kb


def pip_install_target(sample: Sample, source: Path, target: Path, label: str) -> Measured:
    """pip install --target for the Lambda platform (manylinux2014 x86_64, CPython 3.12)."""
    fresh_dir(target)
    if not sample.requirements:
        return Measured(0.0, 0)
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--no-compile",
        "--disable-pip-version-check", "--target", str(target),
        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", PYTHON_VERSION, "--only-binary=:all:",
        "-r", str(source / "requirements.txt"),
    ]  # fmt: skip
    return measure(cmd, env=base_env(), cwd=source, label=label)


def pip_package(sample: Sample, source: Path, target: Path, out: Path, label: str) -> tuple[float, int]:
    """AWS's documented way: pip install --target, zip -r the folder, zip the handler in."""
    installed = pip_install_target(sample, source, target, f"{label}-pip")
    out.unlink(missing_ok=True)
    seconds = installed.seconds
    if sample.requirements:
        seconds += zip_tree(target, out, f"{label}-zipr").seconds
    seconds += zip_add(out, source, "app.py", f"{label}-zipadd").seconds
    if not out.is_file():
        raise BenchError(f"{label}: no zip at {out}")
    return seconds, installed.peak_rss_kb
