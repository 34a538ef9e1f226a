"""runner.run_handler: real handlers in real subprocesses, reported the way Lambda reports them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sys
import textwrap
import threading
import time
import uuid
import zipfile
from typing import Any

import pytest

from lambdadeploy.local import processes
from lambdadeploy.local.artifacts import RunnerError, extract_artifact
from lambdadeploy.local.runner import Invocation, run_handler
from lambdadeploy.runtimes import RuntimeUnavailable
from lambdadeploy.runtimes.python import interpreters
from lambdadeploy.runtimes.python.interpreters import interpreter_for

# The interpreter running the tests: no probing, and the same stdlib everywhere.
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
# Another version this machine has (pyenv here): the runner must find and use it.
OTHER_RUNTIME = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.11"
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB",
    re.MULTILINE,
)


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return buffer.getvalue()


def run(code: str, event: Any = ..., **overrides: Any) -> Invocation:
    """Run app.handler from a zip holding `code` (a unique comment keeps tests' zips apart)."""
    files = {"app.py": f"# {uuid.uuid4()}\n" + textwrap.dedent(code)}
    options: dict[str, Any] = {
        "handler": "app.handler",
        "runtime": RUNTIME,
        "event": {} if event is ... else event,
        "timeout": 3,
        "memory": 128,
        "environment": {},
        "function_name": "shop-resize",
    }
    options.update(overrides)
    return run_handler(make_zip(files), **options)


def body(invocation: Invocation) -> Any:
    return json.loads(invocation.payload)


def test_result_is_returned_and_output_is_logged_between_start_and_report() -> None:
    invocation = run(
        """
        def handler(event, context):
            print("resizing", event["width"])
            return {"statusCode": 200, "area": event["width"] * event["height"]}
        """,
        event={"width": 3, "height": 4},
    )

    assert invocation.function_error is None
    assert body(invocation) == {"statusCode": 200, "area": 12}
    lines = invocation.log_tail.splitlines()
    start = re.fullmatch(r"START RequestId: ([0-9a-f-]{36}) Version: \$LATEST", lines[0])
    assert start, lines[0]
    assert lines[1] == "resizing 3"
    assert lines[-2] == f"END RequestId: {start.group(1)}"
    report = REPORT.match(lines[-1])
    assert report and report.group("id") == start.group(1) and report.group("memory") == "128"
    assert invocation.memory_mb == 128
    assert invocation.billed_ms >= max(1, invocation.duration_ms)
    assert 0 < invocation.max_memory_mb < 128


def test_logging_module_output_is_formatted_like_lambda() -> None:
    invocation = run(
        """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        def handler(event, context):
            logger.info("processing %s", context.aws_request_id)
            return None
        """
    )

    request_id = invocation.log_tail.split()[2]
    assert "[INFO]\t" in invocation.log_tail
    assert f"Z\t{request_id}\tprocessing {request_id}" in invocation.log_tail
    assert invocation.payload == b"null"


def test_exception_is_an_unhandled_function_error_with_lambdas_document_and_traceback() -> None:
    invocation = run(
        """
        def handler(event, context):
            return resize(event)

        def resize(event):
            raise ValueError("width must be positive, got " + str(event["width"]))
        """,
        event={"width": -1},
    )

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "width must be positive, got -1"
    assert error["requestId"] in invocation.log_tail.splitlines()[0]
    # The user's frames only, innermost last, each "File ..., line N, in fn" plus its source.
    assert [re.search(r", in (\w+)", frame).group(1) for frame in error["stackTrace"]] == [
        "handler",
        "resize",
    ]
    assert all("_bootstrap" not in frame for frame in error["stackTrace"])
    assert 'raise ValueError("width must be positive' in error["stackTrace"][-1]
    log = invocation.log_tail
    assert (
        "[ERROR] ValueError: width must be positive, got -1\nTraceback (most recent call last):\n"
        in log
    )
    assert "in resize\n    raise ValueError" in log
    assert log.index("[ERROR]") < log.index("END RequestId")


def test_timeout_kills_the_handler_and_reports_task_timed_out() -> None:
    started = time.monotonic()
    invocation = run(
        """
        import time
        def handler(event, context):
            print("before the sleep")
            time.sleep(5)
            return "never"
        """,
        timeout=1,
    )
    elapsed = time.monotonic() - started

    assert elapsed < 3, elapsed
    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    request_id = invocation.log_tail.split()[2]
    assert error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    assert "before the sleep" in invocation.log_tail
    assert f"{request_id} Task timed out after 1.00 seconds" in invocation.log_tail
    assert invocation.billed_ms == 1000
    assert invocation.duration_ms >= 1000


def test_init_time_does_not_count_against_the_timeout() -> None:
    # Lambda runs module-level code in its init phase, outside the function timeout.
    invocation = run(
        """
        import time
        time.sleep(1.3)
        def handler(event, context):
            return context.get_remaining_time_in_millis()
        """,
        timeout=1,
    )

    assert invocation.function_error is None, invocation.payload
    assert 500 < body(invocation) <= 1000
    assert re.search(r"\tInit Duration: (1[3-9]\d\d|[2-9]\d\d\d)\.\d\d ms", invocation.log_tail)


def test_memory_above_the_limit_is_an_out_of_memory_error() -> None:
    invocation = run(
        """
        def handler(event, context):
            data = b"x" * (200 * 1024 * 1024)
            return len(data)
        """,
        memory=128,
    )

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in error["errorMessage"]
    assert invocation.max_memory_mb > 128
    assert "Error Type: Runtime.OutOfMemory" in invocation.log_tail


def test_memory_within_the_limit_is_fine() -> None:
    invocation = run(
        """
        def handler(event, context):
            data = b"x" * (50 * 1024 * 1024)
            return len(data)
        """,
        memory=256,
    )

    assert invocation.function_error is None
    assert body(invocation) == 50 * 1024 * 1024
    assert 50 <= invocation.max_memory_mb < 256


def test_handler_sees_its_environment_and_lambdas_not_the_callers_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-callers-real-secret")
    monkeypatch.setenv("AWS_PROFILE", "production")
    invocation = run(
        """
        import os
        NAMES = ["BUCKET", "STAGE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                 "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER",
                 "AWS_EXECUTION_ENV", "AWS_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"]
        def handler(event, context):
            env = {name: os.environ.get(name) for name in NAMES}
            env["cwd_is_task_root"] = os.getcwd() == os.environ["LAMBDA_TASK_ROOT"]
            env["code_in_task_root"] = os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py"))
            env["has_path"] = bool(os.environ.get("PATH"))
            return env
        """,
        environment={"BUCKET": "uploads", "STAGE": "dev"},
        extra_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:4599"},
        memory=256,
        function_version="7",
        region="eu-west-1",
    )

    env = body(invocation)
    assert env["BUCKET"] == "uploads" and env["STAGE"] == "dev"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shop-resize"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "7"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    assert env["AWS_SECRET_ACCESS_KEY"] != "the-callers-real-secret"
    assert env["AWS_PROFILE"] is None
    assert env["cwd_is_task_root"] and env["code_in_task_root"] and env["has_path"]


def test_context_has_lambdas_fields() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:shop-resize:prod"
    invocation = run(
        """
        def handler(event, context):
            return {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
            }
        """,
        timeout=5,
        memory=512,
        function_version="3",
        invoked_function_arn=arn,
        region="eu-west-1",
    )

    context = body(invocation)
    assert context["function_name"] == "shop-resize"
    assert context["function_version"] == "3"
    assert context["invoked_function_arn"] == arn
    assert context["memory_limit_in_mb"] == "512"  # a string, as in Lambda's runtime
    assert f"START RequestId: {context['aws_request_id']} Version: 3" in invocation.log_tail
    assert context["log_group_name"] == "/aws/lambda/shop-resize"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[3\][0-9a-f]{32}", context["log_stream_name"])
    assert 4000 < context["remaining"] <= 5000


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"app.py": "x = 1\n"}, "missing.handler", "Runtime.ImportModuleError",
         "Unable to import module 'missing': No module named 'missing'"),
        ({"app.py": "import not_installed_anywhere\n"}, "app.handler", "Runtime.ImportModuleError",
         "Unable to import module 'app': No module named 'not_installed_anywhere'"),
        ({"app.py": "def other(e, c):\n    pass\n"}, "app.handler", "Runtime.HandlerNotFound",
         "Handler 'handler' missing on module 'app'"),
        ({"app.py": "def handler(e, c)\n    pass\n"}, "app.handler", "Runtime.UserCodeSyntaxError",
         "Syntax error in module 'app': "),
        ({"app.py": "x = 1\n"}, "app", "Runtime.MalformedHandlerName", "Bad handler 'app': "),
    ],
)  # fmt: skip
def test_handler_that_cannot_be_loaded_is_a_runtime_error(
    files: dict[str, str], handler: str, error_type: str, message: str
) -> None:
    invocation = run_handler(
        make_zip({**files, "marker.txt": str(uuid.uuid4())}),
        handler=handler, runtime=RUNTIME, event={}, timeout=3, memory=128,
        environment={}, function_name="broken",
    )  # fmt: skip

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)
    assert f"[ERROR] {error_type}: {message}" in invocation.log_tail


def test_a_non_json_serialisable_result_is_a_marshal_error() -> None:
    invocation = run(
        """
        def handler(event, context):
            return {"tags": {"a", "b"}}
        """
    )

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert error["errorType"] == "Runtime.MarshalError"
    assert (
        error["errorMessage"]
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert error["stackTrace"] == []


def test_exiting_the_process_is_a_runtime_exit_error() -> None:
    invocation = run(
        """
        import sys
        def handler(event, context):
            sys.exit(3)
        """
    )

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")


@pytest.mark.parametrize(
    "event", [{"nested": {"list": [1, 2]}}, [1, "two"], "text", 42, 1.5, True, None]
)
def test_any_json_value_is_an_event(event: Any) -> None:
    invocation = run(
        """
        def handler(event, context):
            return {"event": event, "type": type(event).__name__}
        """,
        event=event,
    )

    assert body(invocation) == {"event": event, "type": type(event).__name__}


def test_the_runtimes_boto3_is_importable_but_this_machines_other_packages_are_not() -> None:
    invocation = run(
        """
        import boto3
        def handler(event, context):
            try:
                import moto  # installed here, not in Lambda's runtime
            except ImportError:
                return {"boto3": boto3.__version__, "moto": None}
            return {"boto3": boto3.__version__, "moto": moto.__version__}
        """
    )

    import boto3

    assert body(invocation) == {"boto3": boto3.__version__, "moto": None}


def test_artifact_is_extracted_once_and_safely_from_many_threads() -> None:
    zip_bytes = make_zip(
        {"app.py": "def handler(e, c):\n    return 1\n", "id.txt": str(uuid.uuid4())}
    )
    roots: list[Any] = []

    def extract() -> None:
        roots.append(extract_artifact(zip_bytes))

    threads = [threading.Thread(target=extract) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(roots)) == 1
    root = roots[0]
    assert (root / "app.py").read_text().startswith("def handler")
    assert sorted(p.name for p in root.iterdir()) == ["app.py", "id.txt"]  # no leftovers


def test_invocations_run_in_parallel_threads_independently() -> None:
    zip_bytes = make_zip(
        {
            "app.py": f"# {uuid.uuid4()}\nimport time\ndef handler(e, c):\n    time.sleep(0.3)\n    return e * 2\n"
        }
    )
    results: dict[int, Any] = {}

    def invoke(n: int) -> None:
        invocation = run_handler(zip_bytes, handler="app.handler", runtime=RUNTIME, event=n,
                                 timeout=5, memory=128, environment={}, function_name="f")  # fmt: skip
        results[n] = body(invocation)

    started = time.monotonic()
    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {n: n * 2 for n in range(6)}
    assert time.monotonic() - started < 6 * 0.3  # they overlapped


def test_a_zip_escaping_its_directory_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.py", "x = 1\n")

    with pytest.raises(RunnerError, match="unsafe path"):
        extract_artifact(buffer.getvalue())


def test_not_a_zip_and_not_python_are_runner_errors() -> None:
    with pytest.raises(RunnerError, match="not a zip"):
        run_handler(b"not a zip", handler="app.handler", runtime=RUNTIME, event={}, timeout=3,
                    memory=128, environment={}, function_name="f")  # fmt: skip
    with pytest.raises(RunnerError, match=r"ruby3\.3"):
        run_handler(make_zip({"app.rb": ""}), handler="app.handler", runtime="ruby3.3",
                    event={}, timeout=3, memory=128, environment={}, function_name="f")  # fmt: skip


def test_interpreter_is_checked_by_running_it_not_just_found_on_path(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pyenv-style shim: on PATH, but fails when run.
    shim = tmp_path / "python3.97"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.97: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))

    with pytest.raises(RuntimeUnavailable, match=r"Python 3\.97") as raised:
        interpreter_for("python3.97")
    assert "uv python install 3.97" in (raised.value.hint or "")
    assert interpreter_for(RUNTIME) == sys.executable


def hide_interpreters(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, uv_pythons: Any = None) -> None:
    """Only /usr/bin and /bin on PATH, no pyenv, and uv's managed Pythons in `uv_pythons`."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(uv_pythons or tmp_path / "no-uv-pythons"))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setattr(interpreters, "_found", {})


def test_a_runtime_whose_python_is_missing_fails_plainly_and_runs_no_other_python(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = tmp_path / "ran"
    hide_interpreters(monkeypatch, tmp_path)

    invocation = run(
        """
        import os
        def handler(event, context):
            open(os.environ["RAN"], "w").write("ran")
            return "ran"
        """,
        runtime="python3.14",
        environment={"RAN": str(ran)},
    )

    assert invocation.function_error == "Unhandled"
    error = body(invocation)
    assert error["errorType"] == "Sandbox.RuntimeUnavailable"
    assert "runtime python3.14 needs a Python 3.14 interpreter" in error["errorMessage"]
    assert "`uv python install 3.14`" in error["errorMessage"]
    assert "pyenv install 3.14" in error["errorMessage"]
    assert "[ERROR] Sandbox.RuntimeUnavailable: runtime python3.14" in invocation.log_tail
    assert not ran.exists()  # nothing ran, under any Python


def test_a_python_installed_by_uv_is_found_when_path_and_pyenv_have_none(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = interpreter_for(OTHER_RUNTIME)  # this machine has one, somewhere
    version = OTHER_RUNTIME.removeprefix("python")
    # uv's layout for `uv python install X.Y`: <install dir>/cpython-X.Y.Z-<platform>/bin/pythonX.Y
    managed = tmp_path / "uv-pythons" / f"cpython-{version}.0-linux-x86_64-gnu" / "bin"
    managed.mkdir(parents=True)
    (managed / f"python{version}").symlink_to(real)
    hide_interpreters(monkeypatch, tmp_path, tmp_path / "uv-pythons")

    assert interpreter_for(OTHER_RUNTIME) == str(managed / f"python{version}")
    invocation = run(
        """
        import sys
        def handler(event, context):
            return "%d.%d" % sys.version_info[:2]
        """,
        runtime=OTHER_RUNTIME,
    )
    assert body(invocation) == version


def test_handler_runs_under_the_runtimes_python() -> None:
    invocation = run(
        """
        import sys
        def handler(event, context):
            return "%d.%d" % sys.version_info[:2]
        """,
        runtime=OTHER_RUNTIME,
    )

    assert body(invocation) == OTHER_RUNTIME.removeprefix("python")


# --- what the managed runtime provides ---------------------------------------------------


def test_a_blank_python_like_function_imports_pkg_resources_on_python311() -> None:
    """AWS's blank-python sample imports pkg_resources: python3.9-3.11 ship setuptools."""
    invocation = run(
        """
        import os
        import boto3
        import pkg_resources
        def handler(event, context):
            return {"boto3": boto3.__version__,
                    "setuptools": pkg_resources.get_distribution("setuptools").version}
        """,
        runtime="python3.11",
    )

    assert invocation.function_error is None, invocation.payload
    result = body(invocation)
    assert result["setuptools"] and result["boto3"]


def test_python312_and_later_have_no_setuptools_as_on_lambda() -> None:
    invocation = run(
        """
        def handler(event, context):
            try:
                import pkg_resources  # noqa: F401
            except ImportError:
                return "absent"
            return "present"
        """,
        runtime="python3.12",
    )

    assert body(invocation) == "absent"


@pytest.mark.parametrize("runtime", [RUNTIME, OTHER_RUNTIME])
@pytest.mark.parametrize("module", ["yaml", "click", "moto", "pytest"])
def test_packages_installed_here_but_not_in_the_zip_are_not_importable(module: str, runtime: str) -> None:
    __import__(module)  # installed where lambdadeploy runs
    invocation = run(
        f"""
        def handler(event, context):
            try:
                import {module}  # noqa: F401
            except ImportError:
                return "absent"
            return "present"
        """,
        runtime=runtime,
    )

    assert body(invocation) == "absent"


# --- processes the handler leaves behind ---------------------------------------------------

DAEMONISE = """
import os, time
def handler(event, context):
    pidfile = event["pidfile"]
    if os.fork() == 0:
        os.setsid()  # a session of its own: out of the invocation's process group
        if os.fork() == 0:
            if event.get("clear_env"):
                script = "echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 60" % (pidfile, pidfile, pidfile)
                os.execve("/bin/sh", ["sh", "-c", script], {})  # no marker in its environment
            with open(pidfile + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(pidfile + ".tmp", pidfile)
            time.sleep(60)
        os._exit(0)
    os.wait()
    while not os.path.exists(pidfile):
        time.sleep(0.01)
    if event.get("then") == "hang":
        time.sleep(60)
    if event.get("then") == "exit":
        os._exit(0)  # the bootstrap dies with no chance to clean up
    return "daemon started"
"""


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if not processes.alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    "event",
    [{}, {"then": "hang"}, {"then": "exit"}, {"clear_env": True}, {"clear_env": True, "then": "hang"}],
    ids=["returns", "times-out", "runtime-exits", "daemon-clears-env", "daemon-clears-env-times-out"],
)
def test_a_double_forked_setsid_daemon_ends_with_the_invoke(tmp_path: Any, event: dict[str, Any]) -> None:
    pidfile = tmp_path / "daemon.pid"

    invocation = run(DAEMONISE, event={"pidfile": str(pidfile), **event}, timeout=2)

    pid = int(pidfile.read_text())
    try:
        assert gone(pid), f"daemon {pid} outlived the invocation"
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if not event.get("then"):
        assert body(invocation) == "daemon started"
