"""In-subprocess bootstrap: one invocation of a Lambda handler, as AWS's Python runtime does it.

lambdadeploy's local runner starts it as ``python -S -u bootstrap.py SPEC_FILE RESULT_FILE``: the interpreter
matches the function's runtime, not lambdadeploy's, so this file uses the standard
library only and stays compatible with Python 3.9+. It imports the handler, calls it
with the event and a Lambda-like context, and writes the outcome to a JSON result file.
Error documents and log lines copy awslambdaric, the runtime interface client of the
managed Python runtimes. Handler stdout/stderr are the function's log.

Processes the handler starts end with the invocation: on Linux the bootstrap is a child
subreaper (prctl PR_SET_CHILD_SUBREAPER), so even a double-forked, setsid() daemon
stays below it, and before it exits it kills everything below it. The runner ends the
same tree from outside on a timeout, and sweeps for the invocation's environment marker.
"""

import base64
import contextlib
import ctypes
import decimal
import importlib
import json
import logging
import os
import resource
import signal
import sys
import time
import traceback

_BOOTSTRAP_FILE = os.path.abspath(__file__)
_PR_SET_CHILD_SUBREAPER = 36


class _Identity:
    cognito_identity_id = None
    cognito_identity_pool_id = None


class LambdaContext:
    """The handler's ``context``: the fields and method of the real runtime's LambdaContext."""

    def __init__(self, spec, deadline_ms):
        self.aws_request_id = spec["request_id"]
        self.log_group_name = spec["log_group_name"]
        self.log_stream_name = spec["log_stream_name"]
        self.function_name = spec["function_name"]
        # A string, as in the real runtime (it comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
        self.memory_limit_in_mb = str(spec["memory"])
        self.function_version = spec["function_version"]
        self.invoked_function_arn = spec["invoked_function_arn"]
        self.client_context = None
        self.identity = _Identity()
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _Fault(Exception):
    """A runtime-level failure (import, handler lookup, marshalling), like awslambdaric's."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def _error_document(message, error_type, trace, request_id):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": trace if trace is not None else [],
    }


def _user_stack_trace(tb):
    """The traceback of a handler exception minus the bootstrap's own frames, as strings."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    while frames and frames[0][0] == _BOOTSTRAP_FILE:
        frames = frames[1:]
    return traceback.format_list(frames)


def _load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {e}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise _Fault(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {e}",
        ) from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {e}",
            trace,
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None


def _marshal(result, ensure_ascii):
    """Response bytes: raw bytes as they are, anything else as JSON (Decimal as a number)."""
    if isinstance(result, bytes):
        return result

    def default(obj):
        if isinstance(obj, decimal.Decimal):
            return float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    try:
        return json.dumps(result, default=default, ensure_ascii=ensure_ascii).encode("utf-8")
    except Exception as e:
        raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {e}") from None


def _install_lambda_logging(request_id):
    """Root logger output formatted like Lambda's: [LEVEL] time request-id message."""

    class _RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = request_id
            return True

    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _peak_rss_kb():
    """Peak RSS since exec: VmHWM on Linux (ru_maxrss would include the forking parent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    scale = 1024 if sys.platform == "darwin" else 1  # macOS reports bytes, Linux kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // scale


def _write_result(path, result):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, path)


def _signal_ready(fd):
    try:
        os.write(fd, b"R")
        os.close(fd)
    except OSError:
        pass


def _become_subreaper():
    """Orphaned descendants (double forks, setsid daemons) are re-parented to us, not to init."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _descendants(root):
    """Live processes below ``root``, from /proc (zombies left out: they are already dead)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _end_descendants():
    """Kill everything the handler left running (we are its subreaper, so it is all below us)."""
    if not os.path.isdir("/proc/self"):
        return
    for _ in range(100):
        left = _descendants(os.getpid())
        if not left:
            return
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:  # reap what was re-parented to us, so it leaves /proc
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.001)


def main(argv):
    _become_subreaper()
    try:
        return _invoke(argv)
    finally:
        _end_descendants()


def _invoke(argv):
    with open(argv[1]) as f:
        spec = json.load(f)
    result_file = argv[2]
    request_id = spec["request_id"]

    # As on Lambda: /var/task, the layers (/opt/python/lib/pythonX.Y/site-packages,
    # /opt/python), /var/runtime, the standard library, then /var/lang's site-packages.
    sys.path[0] = spec["task_root"]
    sys.path[1:1] = spec.get("layer_paths", []) + spec["runtime_paths"]
    sys.path.extend(spec.get("lang_site_paths", []))
    _install_lambda_logging(request_id)

    outcome = {"status": "ok", "payload_b64": None, "error": None, "duration_ms": 0.0}
    try:
        handler = _load_handler(spec["handler"])
    except _Fault as fault:
        handler = None
        outcome["error"] = _error_document(fault.message, fault.error_type, fault.trace, request_id)
    except Exception:
        handler = None
        etype, value, tb = sys.exc_info()
        outcome["error"] = _error_document(
            str(value), etype.__name__, _user_stack_trace(tb), request_id
        )
    _signal_ready(spec["ready_fd"])

    if handler is not None:
        started = time.perf_counter()
        context = LambdaContext(spec, time.time() * 1000 + spec["timeout"] * 1000)
        try:
            response = handler(spec["event"], context)
            payload = _marshal(response, ensure_ascii=spec["ensure_ascii"])
            outcome["payload_b64"] = base64.b64encode(payload).decode("ascii")
        except _Fault as fault:
            outcome["error"] = _error_document(
                fault.message, fault.error_type, fault.trace, request_id
            )
        except Exception:
            etype, value, tb = sys.exc_info()
            outcome["error"] = _error_document(
                str(value), etype.__name__, _user_stack_trace(tb), request_id
            )
        outcome["duration_ms"] = (time.perf_counter() - started) * 1000

    if outcome["error"] is not None:
        outcome["status"] = "error"
    sys.stdout.flush()
    sys.stderr.flush()
    outcome["maxrss_kb"] = _peak_rss_kb()
    _write_result(result_file, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
