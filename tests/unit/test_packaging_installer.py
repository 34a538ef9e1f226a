"""The install strategy and target platform, with uv's process and the index faked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lambdadeploy.config.model import FunctionConfig
from lambdadeploy.errors import PackagingError, PackagingInputError
from lambdadeploy.runtimes.python import installer
from lambdadeploy.runtimes.python.platform import target_for

NO_WHEEL = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because {name}==1.0 has no usable wheels and you require {name}==1.0, we can\n"
    "         conclude that your requirements are unsatisfiable.\n\n"
    "hint: Wheels are required for `{name}` because building from source is disabled for all\n"
    "packages (i.e., with `--no-build`)\n"
)


def fn_for(runtime: str = "python3.12", architecture: str = "arm64") -> FunctionConfig:
    return FunctionConfig(
        key="resize", name="demo-resize", source=Path("/src"), handler="app.handler",
        runtime=runtime, architecture=architecture,
    )  # fmt: skip


def target_of(fn: FunctionConfig):
    return target_for(fn.runtime, fn.architecture, fn.key)


class FakeUv:
    """Stands in for the uv process: fails with each queued stderr, then succeeds."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        self.commands.append(cmd)
        if self.failures:
            return subprocess.CompletedProcess(cmd, 2, "", self.failures.pop(0))
        return subprocess.CompletedProcess(cmd, 0, "", "")


@pytest.fixture
def fake_uv(monkeypatch: pytest.MonkeyPatch) -> FakeUv:
    fake = FakeUv([])
    monkeypatch.setattr(installer, "find_uv", lambda: "/fake/uv")
    monkeypatch.setattr(installer, "_run", fake)
    return fake


def run_install(tmp_path: Path, fn: FunctionConfig | None = None) -> list[str]:
    messages: list[str] = []
    req = tmp_path / "requirements.txt"
    req.write_text("somepkg==1.0\n")
    installer.install(req, tmp_path / "site", target_of(fn or fn_for()), "resize", messages.append)
    return messages


def test_uv_installs_wheels_for_the_lambda_platform(tmp_path: Path, fake_uv: FakeUv) -> None:
    run_install(tmp_path)
    (cmd,) = fake_uv.commands
    assert cmd[cmd.index("--python-platform") + 1] == "aarch64-manylinux_2_34"
    assert cmd[cmd.index("--python-version") + 1] == "3.12"
    assert cmd[cmd.index("--only-binary") + 1] == ":all:"
    assert "--no-binary" not in cmd


def test_sdist_only_package_is_built_from_source(
    tmp_path: Path, fake_uv: FakeUv, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_uv.failures = [NO_WHEEL.format(name="docopt")]
    monkeypatch.setattr(installer, "index_files", lambda name, url: ["docopt-1.0.tar.gz"])
    messages = run_install(tmp_path)
    retry = fake_uv.commands[1]
    assert retry[retry.index("--no-binary") + 1] == "docopt"
    assert retry[retry.index("--only-binary") + 1] == ":all:"  # everything else stays binary
    assert any("docopt" in m and "source" in m for m in messages)


def test_local_folder_requirement_is_built_without_asking_the_index(
    tmp_path: Path, fake_uv: FakeUv, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_uv.failures = [
        "error: Building source distributions is disabled, but attempted to build `mylib`"
    ]

    def no_index(name: str, url: str) -> None:
        raise AssertionError("asked the index about a local folder")

    monkeypatch.setattr(installer, "index_files", no_index)
    run_install(tmp_path)
    retry = fake_uv.commands[1]
    assert retry[retry.index("--no-binary") + 1] == "mylib"


def test_native_package_without_matching_wheel_fails_fast(
    tmp_path: Path, fake_uv: FakeUv, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_uv.failures = [NO_WHEEL.format(name="numpy")]
    files = ["numpy-1.0.tar.gz", "numpy-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"]
    monkeypatch.setattr(installer, "index_files", lambda name, url: files)
    with pytest.raises(PackagingInputError) as err:
        run_install(tmp_path, fn_for("python3.12", "arm64"))
    assert len(fake_uv.commands) == 1  # no attempt to compile it here
    for part in ("numpy==1.0", "python3.12", "arm64"):
        assert part in err.value.message


def test_unknown_index_lets_the_build_decide(
    tmp_path: Path, fake_uv: FakeUv, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = "error: Failed to build\n  cause: The built wheel `ujson-1.35-cp311-cp311-linux_x86_64.whl` is not compatible with the target"
    fake_uv.failures = [NO_WHEEL.format(name="ujson"), built]
    monkeypatch.setattr(installer, "index_files", lambda name, url: None)
    with pytest.raises(PackagingInputError) as err:
        run_install(tmp_path)
    assert len(fake_uv.commands) == 2
    assert "ujson==1.35" in err.value.message and "python3.12/arm64" in err.value.message


def test_other_failures_are_build_errors(tmp_path: Path, fake_uv: FakeUv) -> None:
    fake_uv.failures = ["error: Failed to fetch: `https://pypi.org/simple/x/`\n  Connection reset"]
    with pytest.raises(PackagingError) as err:
        run_install(tmp_path)
    assert not isinstance(err.value, PackagingInputError)
    assert "Connection reset" in err.value.message


def test_pure_wheels_do_not_make_a_package_native(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [
        "Foo_Bar-2.0-py3-none-any.whl",
        "foo_bar-1.0.tar.gz",
        "foo_bar-1.0-cp310-cp310-win_amd64.whl",
    ]
    monkeypatch.setattr(installer, "index_files", lambda name, url: files)
    assert installer.publishes_binary_wheels("foo.bar", "2.0", "https://x") is False
    assert installer.publishes_binary_wheels("foo.bar", "1.0", "https://x") is True
    assert installer.publishes_binary_wheels("foo.bar", None, "https://x") is True


@pytest.mark.parametrize(
    ("runtime", "architecture", "uv_platform", "oldest"),
    [
        ("python3.9", "x86_64", "x86_64-manylinux_2_17", "manylinux1_x86_64"),
        ("python3.11", "arm64", "aarch64-manylinux_2_17", "manylinux2014_aarch64"),
        ("python3.12", "x86_64", "x86_64-manylinux_2_34", "manylinux1_x86_64"),
        ("python3.13", "arm64", "aarch64-manylinux_2_34", "manylinux2014_aarch64"),
    ],
)
def test_target_platform_follows_the_runtime_os(
    runtime: str, architecture: str, uv_platform: str, oldest: str
) -> None:
    target = target_of(fn_for(runtime, architecture))
    assert target.uv_platform == uv_platform
    tags = target.platform_tags()
    assert tags[0] == target.manylinux_tag and tags[-1] == oldest
    assert ("manylinux_2_28_x86_64" in tags) == (uv_platform == "x86_64-manylinux_2_34")


def test_unknown_runtime_is_an_input_error() -> None:
    with pytest.raises(PackagingInputError, match=r"nodejs20\.x"):
        target_of(fn_for("nodejs20.x"))
