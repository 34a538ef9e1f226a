"""Node.js handlers run locally with Lambda's contract (issue #17): the runner and bootstrap.cjs
with this machine's Node.js 20 (nodejs20.x), no AWS.

Only Node.js 20 is installed here, so the nodejs24.x contract (no callbacks, no
context.succeed, exit on an unsettled promise) is exercised by giving the runner this
Node.js as "the Node.js 24 found": the bootstrap's behaviour follows the runtime version
the runner hands it, which is what these tests check; finding the right binary is tested
separately (a wrong major version is never used).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdadeploy.local.runner import Invocation, run_handler
from lambdadeploy.runtimes import RuntimeUnavailable
from lambdadeploy.runtimes.node import interpreters

NODE = shutil.which("node")


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def invoke(files: dict[str, str], handler: str = "index.handler", runtime: str = "nodejs20.x",
           event: Any = None, timeout: int = 5, memory: int = 128, **extra: Any) -> Invocation:
    return run_handler(make_zip(files), handler=handler, runtime=runtime, event={"n": 1} if event is None else event,
                       timeout=timeout, memory=memory, environment=extra.pop("environment", {}),
                       function_name="demo", **extra)


def payload(invocation: Invocation) -> Any:
    return json.loads(invocation.payload)


@pytest.fixture
def as_node24(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's Node.js handed to the runner as the Node.js 24 of nodejs24.x (see the docstring)."""
    real = interpreters.probe(NODE, None)
    assert real is not None
    monkeypatch.setattr(interpreters, "find_node", lambda runtime: interpreters.Node(real.path, (24, 0, 0)))


# --- the tutorials' three styles ----------------------------------------------------------------

def test_context_succeed_as_the_old_tutorials_use_it() -> None:
    result = invoke({"index.js": """
        exports.handler = function (event, context) {
          console.log('got', event.n);
          context.succeed({ doubled: event.n * 2, left: context.getRemainingTimeInMillis() });
        };"""}, event={"n": 21}, timeout=3)
    assert result.function_error is None
    assert payload(result)["doubled"] == 42 and 2000 < payload(result)["left"] <= 3000
    assert re.search(r"\n\d{4}-\d\d-\d\dT[\d:.]+Z\t[0-9a-f-]{36}\tINFO\tgot 1?21\n", result.log_tail)


def test_callback_waits_for_the_event_loop_unless_told_not_to() -> None:
    waits = invoke({"index.js": """
        exports.handler = (event, context, callback) => {
          setTimeout(() => console.log('timer ran'), 300);
          callback(null, 'sent after the timer');
        };"""})
    assert payload(waits) == "sent after the timer" and "timer ran" in waits.log_tail and waits.duration_ms >= 300
    assert "AWS Lambda plans to remove support for callback-based function handlers" in waits.log_tail
    early = invoke({"index.js": """
        exports.handler = (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = false;
          setTimeout(() => console.log('timer ran'), 3000);
          callback(null, 'sent at once');
        };"""})
    assert payload(early) == "sent at once" and "timer ran" not in early.log_tail and early.duration_ms < 1000


def test_async_handler_returning_a_value_in_an_es_module() -> None:
    files = {"src/app.js": "export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });",
             "src/package.json": '{"type": "module"}'}
    result = invoke(files, handler="src/app.handler", event={"a": [1, 2]})
    assert payload(result) == {"statusCode": 200, "body": '{"a":[1,2]}'}
    assert invoke({"index.mjs": "export const handler = async () => undefined;"}).payload == b"null"


def test_commonjs_cjs_and_nested_handler_paths() -> None:
    result = invoke({"lib/fn.cjs": "module.exports = { api: { handler: async (e) => e.n + 1 } };"},
                    handler="lib/fn.api.handler")
    assert payload(result) == 2


# --- the error shape ----------------------------------------------------------------------------

def test_a_thrown_error_has_lambdas_node_error_shape() -> None:
    result = invoke({"index.js": "exports.handler = async () => { throw new TypeError('bad input'); };"})
    assert result.function_error == "Unhandled"
    document = payload(result)
    assert set(document) == {"errorType", "errorMessage", "trace"}
    assert document["errorType"] == "TypeError" and document["errorMessage"] == "bad input"
    assert document["trace"][0] == "TypeError: bad input" and "index.js:1" in document["trace"][1]
    line = next(line for line in result.log_tail.splitlines() if "\tERROR\t" in line)
    logged = json.loads(line.split("\tERROR\tInvoke Error \t", 1)[1])
    assert logged["errorType"] == "TypeError" and logged["stack"][0] == "TypeError: bad input"
    assert "Traceback" not in result.log_tail and result.log_tail.splitlines()[-1].startswith("REPORT RequestId: ")


@pytest.mark.parametrize(("code", "error_type", "message"), [
    ("exports.handler = (e, c, callback) => callback('no such user');", "string", "no such user"),
    ("exports.handler = (e, context) => context.fail();", "string", "handled"),
    ("exports.handler = (e, context) => context.done(new RangeError('too big'));", "RangeError", "too big"),
    ("exports.handler = async () => { const o = {}; o.self = o; return o; };", "Error",
     "Unable to stringify response body"),
])
def test_errors_reported_through_the_callback_and_context(code: str, error_type: str, message: str) -> None:
    result = invoke({"index.js": code})
    assert result.function_error == "Unhandled"
    assert (payload(result)["errorType"], payload(result)["errorMessage"]) == (error_type, message)


def test_only_the_first_result_counts() -> None:
    result = invoke({"index.js": "exports.handler = (e, context, cb) => { context.succeed(1); cb(null, 2); };"})
    assert payload(result) == 1


def test_an_async_handler_whose_promise_never_settles() -> None:
    result = invoke({"index.js": "exports.handler = async () => new Promise(() => {});"})
    assert payload(result)["errorType"] == "Runtime.NodeJsExit"
    assert "Promise that was never settled" in payload(result)["errorMessage"]


@pytest.mark.parametrize(("files", "error_type", "message", "log"), [
    ({"index.js": "exports.other = 1;"}, "Runtime.HandlerNotFound", "index.handler is undefined or not exported",
     "\tundefined\tERROR\tUncaught Exception \t"),
    ({"index.js": "exports.handler = 'x';"}, "Runtime.HandlerNotFound", "index.handler is not a function", ""),
    ({"index.js": "require('left-pad');"}, "Runtime.ImportModuleError", "Error: Cannot find module 'left-pad'", ""),
    ({"index.js": "require('@aws-sdk/client-s3');"}, "Runtime.ImportModuleError", "include_runtime_packages: true", ""),
    ({"index.js": "exports.handler = async () => {"}, "Runtime.UserCodeSyntaxError", "SyntaxError: ", ""),
    ({"other.js": ""}, "Runtime.ImportModuleError", "Cannot find module 'index'", ""),
])
def test_init_errors(files: dict[str, str], error_type: str, message: str, log: str) -> None:
    result = invoke(files)
    assert result.function_error == "Unhandled"
    assert payload(result)["errorType"] == error_type and message in payload(result)["errorMessage"]
    assert log in result.log_tail


def test_an_uncaught_exception_in_a_timer_fails_the_invoke() -> None:
    result = invoke({"index.js": "exports.handler = (e, c, cb) => { setTimeout(() => { throw new Error('late'); }, 10); };"})
    assert payload(result)["errorMessage"] == "late" and "\tERROR\tUncaught Exception \t" in result.log_tail


# --- limits, environment, context ---------------------------------------------------------------

def test_timeout_and_memory_are_enforced() -> None:
    slow = invoke({"index.js": "exports.handler = async () => new Promise((r) => setTimeout(r, 5000));"}, timeout=1)
    assert slow.function_error == "Unhandled" and payload(slow)["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in slow.log_tail
    hog = invoke({"index.js": "exports.handler = async () => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); };"},
                 memory=128, timeout=20)
    assert hog.function_error == "Unhandled"
    assert payload(hog)["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError")


def test_environment_and_context_are_lambdas() -> None:
    result = invoke({"index.js": """
        exports.handler = async (event, context) => ({
          stage: process.env.STAGE, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
          runtime: process.env.AWS_EXECUTION_ENV, nodePath: process.env.NODE_PATH.split(':').length,
          name: context.functionName, limit: context.memoryLimitInMB, arn: context.invokedFunctionArn,
          id: context.awsRequestId, version: context.functionVersion, major: process.versions.node.split('.')[0],
          credentials: process.env.AWS_ACCESS_KEY_ID,
        });"""}, environment={"STAGE": "dev"}, memory=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:demo:dev")
    body = payload(result)
    assert body["stage"] == "dev" and body["memory"] == "256" and body["limit"] == "256"
    assert body["runtime"] == "AWS_Lambda_nodejs20.x" and body["name"] == "demo" and body["major"] == "20"
    assert body["arn"].endswith(":function:demo:dev") and body["version"] == "$LATEST"
    assert body["nodePath"] == 3 and body["credentials"] == "sandbox"
    assert f"RequestId: {body['id']}" in result.log_tail
    assert re.search(r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB"
                     r"\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms", result.log_tail)


# --- nodejs24.x's contract ----------------------------------------------------------------------

def test_nodejs24_refuses_callback_handlers_at_init(as_node24: None) -> None:
    result = invoke({"index.js": "exports.handler = (event, context, callback) => callback(null, 1);"},
                    runtime="nodejs24.x")
    assert payload(result)["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert payload(result)["errorMessage"].startswith("ERROR: AWS Lambda has removed support for callback-based")
    assert "\tundefined\tERROR\tInit Error \t" in result.log_tail


def test_nodejs24_has_no_context_succeed(as_node24: None) -> None:
    result = invoke({"index.js": "exports.handler = async (event, context) => context.succeed(1);"},
                    runtime="nodejs24.x")
    assert (payload(result)["errorType"], payload(result)["errorMessage"]) == (
        "TypeError", "context.succeed is not a function")


def test_nodejs24_runs_async_and_sync_handlers(as_node24: None) -> None:
    assert payload(invoke({"index.mjs": "export const handler = async (e, context) => "
                                        "[e.n, typeof context.callbackWaitsForEmptyEventLoop];"},
                          runtime="nodejs24.x")) == [1, "undefined"]
    assert payload(invoke({"index.js": "exports.handler = (e) => e.n + 1;"}, runtime="nodejs24.x")) == 2
    thrown = invoke({"index.js": "exports.handler = () => { throw new Error('sync'); };"}, runtime="nodejs24.x")
    assert payload(thrown)["errorMessage"] == "sync" and "\tERROR\tInvoke Error \t" in thrown.log_tail


def test_nodejs24_exits_on_an_unsettled_promise(as_node24: None) -> None:
    result = invoke({"index.js": "exports.handler = async () => new Promise(() => {});"}, runtime="nodejs24.x")
    assert payload(result)["errorType"] == "Runtime.ExitError"
    assert payload(result)["errorMessage"].endswith("Runtime exited with error: exit status 13")


# --- which node runs it -------------------------------------------------------------------------

@pytest.fixture
def only_host_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with this machine's node alone; empty version-manager folders; nothing found before."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assert NODE is not None
    os.symlink(NODE, bin_dir / "node")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("NVM_DIR", "FNM_DIR", "VOLTA_HOME", "ASDF_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("N_PREFIX", str(tmp_path / "n"))
    monkeypatch.setattr(interpreters, "_found", {})
    return tmp_path


def test_a_missing_node_version_fails_plainly(only_host_node: Path) -> None:
    result = invoke({"index.js": "exports.handler = async () => 1;"}, runtime="nodejs22.x")
    assert result.function_error == "Unhandled" and payload(result)["errorType"] == "Sandbox.RuntimeUnavailable"
    message = payload(result)["errorMessage"]
    assert message.startswith("runtime nodejs22.x needs Node.js 22 and this machine has none")
    assert "never runs a function under another Node.js version" in message and "nvm install 22" in message


def test_a_version_manager_install_is_found_and_checked_by_running_it(only_host_node: Path) -> None:
    # A folder that claims v22 but holds this machine's node (20) is not taken for Node.js 22.
    fake = only_host_node / "nvm_dir" / "versions" / "node" / "v22.9.0" / "bin"
    fake.mkdir(parents=True)
    os.symlink(NODE, fake / "node")  # type: ignore[arg-type]
    with pytest.raises(RuntimeUnavailable, match=r"needs Node\.js 22"):
        interpreters.find_node("nodejs22.x")
    major = interpreters.probe(NODE, None).major  # type: ignore[union-attr]
    real = only_host_node / "nvm_dir" / "versions" / "node" / f"v{major}.0.1" / "bin"
    real.mkdir(parents=True)
    os.symlink(NODE, real / "node")  # type: ignore[arg-type]
    (only_host_node / "bin" / "node").unlink()  # not on PATH any more: only nvm has it
    found = interpreters.find_node(f"nodejs{major}.x")
    assert found.major == major and found.path == os.path.realpath(NODE)  # type: ignore[arg-type]
