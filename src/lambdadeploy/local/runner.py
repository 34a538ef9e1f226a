"""Run a deployed artifact's handler on this machine, the way Lambda would.

One invocation is one fresh subprocess (a cold start every time) running the
runtime's bootstrap (the command `runtimes` gives for the function's runtime, e.g.
a Python of the runtime's version), in the extracted artifact (the ``/var/task`` of
this machine), with the function's environment, its timeout and its memory size as
a limit. The result and the log
are shaped like Lambda's: the same error documents, START/END/REPORT lines.

How the memory limit is enforced: by measurement, not by an rlimit. While the
process runs, the supervisor polls its peak resident set size (``VmHWM`` in
``/proc/PID/status``, every 10 ms; a high-water mark, so short spikes between polls
count too) and kills the process group as soon as it exceeds the memory size, as
Lambda does. When the process ends by itself, the peak it measured just before
exiting is compared again (after the fact), so an allocation in the last few
milliseconds still fails the invocation; where ``/proc`` does not exist (macOS) only
that after-the-fact check applies. Either way the invocation reports
``Runtime.OutOfMemory`` like Lambda, and the handler's result is discarded.
``RLIMIT_AS`` is not used because it caps virtual memory, which for Python is far
larger than resident memory (allocator arenas, thread stacks, mapped libraries): a
128 MB cap would break imports that Lambda runs happily. ``RLIMIT_RSS`` is not
enforced by Linux, and cgroups need privileges this tool should not ask for.
The process's children are not counted (Lambda counts the whole sandbox).

Every process the invocation starts ends with it, background daemons included (see
``processes.py``).

When this machine cannot run what Lambda would run (no interpreter of the runtime's
version, native code for another CPU), the invocation fails as a function error with
``errorType`` ``Sandbox.RuntimeUnavailable`` or ``Sandbox.ForeignArchitecture`` and a
message saying what is missing and how to get it; nothing runs under another Python.

This module is the supervision and the reporting only: the extracted artifact and its
layers come from ``placement.py``, and the command, the ``/var/runtime`` stand-in and
the bootstrap from the function's runtime (runtimes/).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import runtimes
from . import processes
from .artifacts import RunnerError
from .placement import Placement, place

# Lambda gives the init phase (imports, module-level code) 10 s outside the function timeout.
INIT_LIMIT_S = 10.0
POLL_S = 0.01
_HAVE_PROC = os.path.isdir("/proc/self")
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
}
_HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, as Lambda's Invoke API and its log report it."""

    payload: bytes  # the response body (JSON), or Lambda's error document on failure
    # "Unhandled" when the handler raised, timed out or ran out of memory; else None
    function_error: str | None
    log_tail: str  # the whole log: START, handler output, [ERROR] + traceback, END, REPORT
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    # --smoke-arch host: the architecture the native code was rebuilt for (not what was deployed)
    host_build: str | None = None


@dataclass(frozen=True)
class _Outcome:
    exit_status: int  # os.waitstatus_to_exitcode: negative for a signal
    killed_for: str | None  # "timeout" / "memory" when the supervisor killed it
    init_ms: float
    handler_ms: float  # measured by the supervisor from the end of init
    peak_kb: int


def run_handler(
    zip_bytes: bytes,
    *,
    handler: str,
    runtime: str,
    event: Any,
    timeout: int,
    memory: int,
    environment: Mapping[str, str],
    function_name: str,
    function_version: str = "$LATEST",
    invoked_function_arn: str | None = None,
    region: str = "us-east-1",
    architecture: str = "x86_64",
    extra_env: Mapping[str, str] | None = None,
    layers: Sequence[bytes] = (),
    smoke_arch: str = "function",
    on_progress: Callable[[str], None] | None = None,
) -> Invocation:
    """Invoke ``handler`` from the zip (with its ``layers``' zips, in order) with ``event`` in a
    subprocess and report it like Lambda. ``smoke_arch="host"`` rebuilds foreign native code
    for this machine (placement.py)."""
    family = runtimes.find(runtime or "")
    if family is None:
        raise RunnerError(f"cannot run runtime {runtime!r} locally: lambdadeploy does not know it")
    try:
        json.dumps(event)
    except (TypeError, ValueError) as e:
        raise RunnerError(f"the event is not JSON: {e}") from e
    request_id = str(uuid.uuid4())
    try:
        launch = family.local_launch(runtime, architecture, memory)
        placement = place(family, zip_bytes, layers, runtime=runtime, architecture=architecture,
                          smoke_arch=smoke_arch, report=on_progress or (lambda _: None))
    except runtimes.RuntimeUnavailable as e:
        return _unavailable(e, request_id, function_version, memory)
    env, spec = _setup(
        family, launch, placement, environment, extra_env, handler=handler, runtime=runtime, event=event,
        timeout=timeout, memory=memory, function_name=function_name, function_version=function_version,
        invoked_function_arn=invoked_function_arn, region=region, request_id=request_id,
    )  # fmt: skip
    outcome, result, output_text = _run(launch.argv, placement.task_root, env, spec, timeout=timeout,
                                        memory=memory)  # fmt: skip
    invocation = _report(
        outcome, result, output_text, request_id=request_id, version=function_version,
        timeout=timeout, memory=memory,
    )  # fmt: skip
    return dataclasses.replace(invocation, host_build=placement.host_build)


def _setup(
    family: runtimes.Runtime,
    launch: runtimes.LocalLaunch,
    placement: Placement,
    environment: Mapping[str, str],
    extra_env: Mapping[str, str] | None,
    *,
    handler: str,
    runtime: str,
    event: Any,
    timeout: int,
    memory: int,
    function_name: str,
    function_version: str,
    invoked_function_arn: str | None,
    region: str,
    request_id: str,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The bootstrap's environment and its spec (what to import and call, with what context)."""
    now = datetime.now(timezone.utc)
    log_group = f"/aws/lambda/{function_name}"
    log_stream = f"{now:%Y/%m/%d}/[{function_version}]{uuid.uuid4().hex}"
    arn = invoked_function_arn or f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
    runtime_dir = Path(launch.runtime_paths[0]) if launch.runtime_paths else placement.task_root
    env = _environment(
        environment, extra_env, handler=handler, runtime=runtime, memory=memory,
        function_name=function_name, function_version=function_version, region=region,
        placement=placement, runtime_dir=runtime_dir, log_group=log_group, log_stream=log_stream,
        request_id=request_id,
    )  # fmt: skip
    opt = placement.opt_root
    spec = {
        "task_root": str(placement.task_root),
        "layer_paths": [str(opt / p) for p in family.layer_paths(runtime)] if opt else [],
        "runtime_paths": list(launch.runtime_paths),
        "handler": handler,
        "event": event,
        "request_id": request_id,
        "timeout": timeout,
        "memory": memory,
        "function_name": function_name,
        "function_version": function_version,
        "invoked_function_arn": arn,
        "log_group_name": log_group,
        "log_stream_name": log_stream,
        **launch.spec_extra,
    }
    return env, spec


def _unavailable(error: runtimes.RuntimeUnavailable, request_id: str, version: str, memory: int) -> Invocation:
    """This machine cannot run the function as Lambda would: a function error that says why."""
    error_type = getattr(error, "error_type", "Sandbox.RuntimeUnavailable")
    message = error.message + (f"; {error.hint}" if error.hint else "")
    log = (f"START RequestId: {request_id} Version: {version}\n[ERROR] {error_type}: {message}\n"
           f"END RequestId: {request_id}\n")
    return Invocation(payload=_doc(error_type, message), function_error="Unhandled", log_tail=log,
                      duration_ms=0.0, billed_ms=0, memory_mb=memory, max_memory_mb=0)


def _run(argv: tuple[str, ...], task_root: Path, env: dict[str, str], spec: dict[str, Any], *,
         timeout: int, memory: int) -> tuple[_Outcome, dict[str, Any] | None, str]:
    """Start the bootstrap with its spec file, supervise it, and collect its result and output."""
    with tempfile.TemporaryDirectory(prefix="lambdadeploy-invoke-") as work:
        spec_file = os.path.join(work, "spec.json")
        result_file = os.path.join(work, "result.json")
        output_file = os.path.join(work, "output.log")
        ready_r, ready_w = os.pipe()  # the bootstrap writes one byte when init is over
        try:
            Path(spec_file).write_text(json.dumps({**spec, "ready_fd": ready_w}))
            try:
                with open(output_file, "wb") as output:
                    proc = subprocess.Popen(
                        [*argv, spec_file, result_file], cwd=task_root, env=env, stdin=subprocess.DEVNULL,
                        stdout=output, stderr=subprocess.STDOUT, pass_fds=(ready_w,), start_new_session=True,
                    )  # fmt: skip
            finally:
                os.close(ready_w)
            try:
                outcome = _supervise(proc, ready_r, timeout=timeout, memory_mb=memory)
            finally:
                processes.sweep(spec["request_id"])  # anything that got away from the tree
        finally:
            os.close(ready_r)
        output_text = Path(output_file).read_bytes().decode("utf-8", errors="replace")
        return outcome, _read_result(result_file), output_text


def _environment(
    environment: Mapping[str, str],
    extra_env: Mapping[str, str] | None,
    *,
    handler: str,
    runtime: str,
    memory: int,
    function_name: str,
    function_version: str,
    region: str,
    placement: Placement,
    runtime_dir: Path,
    log_group: str,
    log_stream: str,
    request_id: str,
) -> dict[str, str]:
    """The function's variables under Lambda's reserved ones; never the caller's credentials.

    PATH and LD_LIBRARY_PATH end, as on Lambda, with the layers' bin/ and lib/ (and the
    package's own lib/), in the /opt stand-in; the marker tags the invocation's processes."""
    task_root = placement.task_root
    env = {k: os.environ[k] for k in _HOST_VARIABLES if k in os.environ}
    libraries = [str(task_root), str(task_root / "lib")]
    if placement.opt_root is not None:
        env["PATH"] = os.pathsep.join(filter(None, [env.get("PATH"), str(placement.opt_root / "bin")]))
        libraries.append(str(placement.opt_root / "lib"))
    env["LD_LIBRARY_PATH"] = os.pathsep.join(libraries)
    env.setdefault("LANG", "en_US.UTF-8")
    env.update({str(k): str(v) for k, v in environment.items()})
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "TZ": ":UTC",
            # Keep ~/.aws of this machine out of reach of the handler's boto3.
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
        }
    )
    env.update({str(k): str(v) for k, v in (extra_env or {}).items()})
    env[processes.MARKER] = request_id
    return env


def _supervise(
    proc: subprocess.Popen[bytes], ready_fd: int, *, timeout: int, memory_mb: int
) -> _Outcome:
    """Wait for the process, killing its group on timeout or when its RSS passes the limit."""
    started = time.monotonic()
    ready_at: float | None = None
    pipe_open = True
    killed_for: str | None = None
    limit_kb = memory_mb * 1024
    peak_seen = 0
    os.set_blocking(ready_fd, False)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if ready_at is None and pipe_open:
            try:
                pipe_open = bool(os.read(ready_fd, 16))  # b"" once the process closed it
                ready_at = time.monotonic() if pipe_open else None
            except BlockingIOError:
                pass
        time.sleep(POLL_S)
        now = time.monotonic()
        if ready_at is None:
            overdue = now - started > INIT_LIMIT_S + timeout
        else:
            overdue = now - ready_at > timeout
        peak_seen = max(peak_seen, _peak_rss_kb(proc.pid))
        if peak_seen > limit_kb:
            killed_for = "memory"
        elif overdue:
            killed_for = "timeout"
        if killed_for:
            processes.end_tree(proc.pid)  # the bootstrap and all below it, daemons included
            processes.kill_group(proc.pid)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
    ended = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    processes.kill_group(proc.pid)  # whatever the handler left running in the background
    init_end = ready_at if ready_at is not None else ended
    return _Outcome(
        exit_status=proc.returncode,
        killed_for=killed_for,
        init_ms=(init_end - started) * 1000,
        handler_ms=(ended - init_end) * 1000,
        # Without /proc, rusage it is: it may include the parent's size from before exec.
        peak_kb=peak_seen
        if _HAVE_PROC
        else usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1),
    )


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _read_result(path: str) -> dict[str, Any] | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _report(
    outcome: _Outcome,
    result: dict[str, Any] | None,
    output: str,
    *,
    request_id: str,
    version: str,
    timeout: int,
    memory: int,
) -> Invocation:
    """Turn what happened into Lambda's payload, function error and log lines.

    Long because it is one decision over the four ways an invocation ends (timeout, out of
    memory or a dead runtime, a raised error, a result), each with Lambda's exact shapes."""
    peak_kb = max(outcome.peak_kb, int((result or {}).get("maxrss_kb") or 0))
    max_memory_mb = max(1, math.ceil(peak_kb / 1024))
    lines = [f"START RequestId: {request_id} Version: {version}"]
    if output:
        lines.append(output[:-1] if output.endswith("\n") else output)
    status = ""
    function_error: str | None = "Unhandled"
    if outcome.killed_for == "timeout":
        duration = outcome.handler_ms
        billed = timeout * 1000
        message = f"Task timed out after {timeout:.2f} seconds"
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        lines.append(f"{stamp} {request_id} {message}")
        payload = _doc("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}")
        status = "\tStatus: timeout"
    elif outcome.killed_for == "memory" or peak_kb > memory * 1024 or result is None:
        # The runtime process died: out of memory (killed by us), or exited on its own.
        if outcome.killed_for == "memory" or peak_kb > memory * 1024:
            error_type, reason = "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"
        else:
            error_type, reason = "Runtime.ExitError", _exit_reason(outcome.exit_status)
        duration = outcome.handler_ms
        billed = math.ceil(duration)
        message = f"RequestId: {request_id} Error: {reason}"
        lines += [message, error_type]
        payload = _doc(error_type, message)
        status = f"\tStatus: error\tError Type: {error_type}"
    else:
        duration = float(result.get("duration_ms") or 0.0)
        billed = max(1, math.ceil(duration))
        if result.get("error"):
            error = result["error"]
            if not result.get("logged"):  # a bootstrap that logs its own errors says so (Node.js)
                lines.append(_error_log_line(error))
            payload = json.dumps(error).encode("utf-8")
        else:
            function_error = None
            payload = base64.b64decode(result.get("payload_b64") or "")
    lines.append(f"END RequestId: {request_id}")
    lines.append(
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms"
        f"\tMemory Size: {memory} MB\tMax Memory Used: {max_memory_mb} MB"
        f"\tInit Duration: {outcome.init_ms:.2f} ms{status}"
    )
    return Invocation(
        payload=payload,
        function_error=function_error,
        log_tail="\n".join(lines) + "\n",
        duration_ms=round(duration, 2),
        billed_ms=billed,
        memory_mb=memory,
        max_memory_mb=max_memory_mb,
    )


def _doc(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")


def _exit_reason(exit_status: int) -> str:
    if exit_status < 0:
        name = signal.strsignal(-exit_status) or f"signal {-exit_status}"
        return f"Runtime exited with error: signal: {name.lower()}"
    if exit_status > 0:
        return f"Runtime exited with error: exit status {exit_status}"
    return "Runtime exited without providing a reason"


def _error_log_line(error: Mapping[str, Any]) -> str:
    """awslambdaric's log_error: "[ERROR] Type: message" then the traceback."""
    text = "[ERROR]"
    if error.get("errorType"):
        text += " " + error["errorType"]
    if error.get("errorMessage"):
        text += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [text]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(element.splitlines() if element else [""])
    return "\n".join(lines)
