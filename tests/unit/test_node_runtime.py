"""Node.js functions in lambda.yaml and in the package, without npm or AWS (issue #17).

Handlers and their files, package.json + lockfile rules, the static export check, what is
never packed, what npm's install leaves out, and how npm's failures read.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from lambdadeploy import runtimes
from lambdadeploy.config import load
from lambdadeploy.errors import ConfigError, PackagingError, PackagingInputError
from lambdadeploy.packaging import build_artifact
from lambdadeploy.runtimes import DependencySpec
from lambdadeploy.runtimes.node import NodeRuntime, deps, handler, npm
from lambdadeploy.runtimes.node.platform import target_for

NODE = NodeRuntime()


def project(root: Path, files: dict[str, str], fields: str = "", runtime: str = "nodejs20.x",
            handler_name: str = "index.handler") -> Path:
    """lambda.yaml with one Node function `api` whose folder holds `files`."""
    source = root / "functions" / "api"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(textwrap.dedent(text))
    source.mkdir(parents=True, exist_ok=True)
    extra = textwrap.indent(textwrap.dedent(fields).strip(), "    ")
    (root / "lambda.yaml").write_text(
        f"project: t\nfunctions:\n  api:\n    runtime: {runtime}\n    handler: {handler_name}\n{extra}\n")
    return root / "lambda.yaml"


def issues(path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load(path)
    return str(err.value)


def names(zip_bytes: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()


# --- runtimes and handlers ----------------------------------------------------------------------

def test_node_runtimes_with_aws_deprecation_dates() -> None:
    assert [(v.name, v.deprecated.isoformat()) for v in NODE.versions if v.deprecated] == [
        ("nodejs18.x", "2025-09-01"), ("nodejs20.x", "2026-04-30"), ("nodejs22.x", "2027-04-30"),
        ("nodejs24.x", "2028-04-30")]
    assert all(isinstance(runtimes.find(name), NodeRuntime) for name in ("nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"))
    assert runtimes.find("nodejs16.x") is None
    assert NODE.layer_paths("nodejs22.x") == ("nodejs/node22/node_modules", "nodejs/node_modules")
    assert target_for("nodejs22.x", "arm64").npm_platform == ("--os=linux", "--cpu=arm64", "--libc=glibc")
    assert target_for("nodejs22.x", "x86_64").cpu == "x64"


def test_deprecated_node_runtime_warns_with_awss_date(tmp_path: Path) -> None:
    old = load(project(tmp_path / "a", {"index.js": "exports.handler = async () => 1;"}, runtime="nodejs18.x"))
    assert any("nodejs18.x was deprecated by AWS on 2025-09-01" in w and "nodejs24.x" in w for w in old.warnings)
    current = load(project(tmp_path / "b", {"index.js": "exports.handler = async () => 1;"}, runtime="nodejs24.x"))
    assert current.warnings == ()


@pytest.mark.parametrize("good", ["index.handler", "src/app.handler", "app.nested.handler", "lib/my-fn.main",
                                  "index.$handler"])
def test_well_formed_handlers(good: str) -> None:
    assert NODE.handler_problem(good) is None


@pytest.mark.parametrize("bad", ["index", "index.", "../up.handler", "/abs/index.handler", "a.1bad", "src/.handler",
                                 "a b.handler"])
def test_malformed_handlers(bad: str) -> None:
    assert NODE.handler_problem(bad) == f"invalid handler {bad!r}"


def test_handler_file_is_looked_up_with_node_extensions(tmp_path: Path) -> None:
    for name in ("src/app.js", "src/app.mjs", "src/app.cjs"):
        path = project(tmp_path / name.replace("/", "_"), {name: "exports.handler = async () => 1;\n"},
                       handler_name="src/app.handler")
        assert load(path).functions[0].handler == "src/app.handler"
    text = issues(project(tmp_path / "missing", {"index.js": ""}, handler_name="src/app.handler"))
    assert "lambda.yaml:5: functions.api.handler: handler module not found" in text
    assert "src/app.js, src/app.mjs or src/app.cjs" in text


def test_a_dependency_may_be_the_handler_module(tmp_path: Path) -> None:
    files = {"package.json": '{"dependencies": {"shared": "1.0.0"}}', "package-lock.json": "{}"}
    assert load(project(tmp_path, files, handler_name="shared.handler")).functions[0].requirements is not None


# --- package.json and its lockfile --------------------------------------------------------------

def test_dependencies_without_a_lockfile_are_refused_at_validate(tmp_path: Path) -> None:
    files = {"index.js": "exports.handler = async () => 1;", "package.json": '{"dependencies": {"uuid": "^9"}}',
             "yarn.lock": ""}
    text = issues(project(tmp_path, files))
    assert "lambda.yaml:3: functions.api: " in text
    assert "lists dependencies but there is no package-lock.json" in text and "yarn.lock is not read" in text
    assert "npm install --package-lock-only" in text


@pytest.mark.parametrize(("manifest", "message"), [
    ('{"dependencies": ', "is not valid JSON"),
    ('["uuid"]', "must be a JSON object"),
    ('{"dependencies": {"lib": "file:../lib"}}', "lib is a local (file:) dependency"),
    ('{"workspaces": ["packages/*"]}', "declares npm workspaces"),
])
def test_package_json_problems_are_config_errors(tmp_path: Path, manifest: str, message: str) -> None:
    files = {"index.js": "exports.handler = async () => 1;", "package.json": manifest, "package-lock.json": "{}"}
    text = issues(project(tmp_path, files))
    assert "functions.api" in text and message in text


def test_requirements_field_names_the_manifest(tmp_path: Path) -> None:
    files = {"index.js": "exports.handler = async () => 1;", "deps/package.json": '{"dependencies": {"a": "1"}}'}
    text = issues(project(tmp_path, files, "requirements: deps/package.json"))
    assert "functions.api.requirements: " in text and "no package-lock.json" in text


def test_no_production_dependencies_needs_no_lockfile_and_no_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm, no node: nothing to install, nothing run
    files = {"index.mjs": "export const handler = async () => 1;\n",
             "package.json": '{"type": "module", "devDependencies": {"jest": "^29"}}'}
    fn = load(project(tmp_path, files)).functions[0]
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache")
    assert artifact.deps_from_cache is None
    assert names(artifact.zip_bytes) == ["index.mjs", "package.json"]


# --- what is never packed -----------------------------------------------------------------------

def test_own_node_modules_and_npmrc_are_never_packed(tmp_path: Path) -> None:
    files = {"index.js": "exports.handler = async () => require('./lib/x');\n", "lib/x.js": "module.exports = 1;",
             "package.json": '{"name": "api"}', ".npmrc": "//registry.npmjs.org/:_authToken=npm_SECRET\n",
             "node_modules/left-pad/index.js": "module.exports = 1;", "lib/node_modules/own/index.js": "1;"}
    fn = load(project(tmp_path, files, 'exclude: ["!.npmrc", "!node_modules/"]')).functions[0]
    packed = names(build_artifact(fn, cache_dir=tmp_path / "cache").zip_bytes)
    assert packed == ["index.js", "lib/node_modules/own/index.js", "lib/x.js", "package.json"]


def test_without_package_json_a_vendored_node_modules_ships(tmp_path: Path) -> None:
    files = {"index.js": "exports.handler = async () => 1;\n", "node_modules/v/index.js": "1;", ".npmrc": "x"}
    fn = load(project(tmp_path, files)).functions[0]
    assert names(build_artifact(fn, cache_dir=tmp_path / "cache").zip_bytes) == ["index.js", "node_modules/v/index.js"]


# --- the built package's handler check ----------------------------------------------------------

def build(tmp_path: Path, files: dict[str, str], handler_name: str = "index.handler", runtime: str = "nodejs20.x"):
    fn = load(project(tmp_path, files, handler_name=handler_name, runtime=runtime)).functions[0]
    reports: list[str] = []
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache", on_progress=reports.append)
    return artifact, reports


@pytest.mark.parametrize(("files", "handler_name"), [
    ({"index.mjs": "export const handler = async (event) => event;"}, "index.handler"),
    ({"index.mjs": "const a = 1, handler = async () => a;\nexport { a, handler as handler };"}, "index.handler"),
    ({"index.mjs": "export * from './impl.mjs';", "impl.mjs": "export const handler = async () => 1;"}, "index.handler"),
    ({"src/app.js": "export async function handler() { return 1; }", "src/package.json": '{"type": "module"}'},
     "src/app.handler"),
    ({"index.js": "exports.handler = function (event, context) { context.succeed(1); };"}, "index.handler"),
    ({"index.js": "async function handler() {}\nmodule.exports = {\n  other: 1,\n  handler,\n};"}, "index.handler"),
    ({"index.js": "module.exports = require('./impl');", "impl.js": "exports.handler = async () => 1;"},
     "index.handler"),
    ({"index.js": 'var __export = (t, all) => 0;\nvar src_exports = {};\n__export(src_exports, {\n  handler: () => h\n});'
                  "\nmodule.exports = src_exports;\nconst h = async () => 1;"}, "index.handler"),
    ({"index.js": 'Object.defineProperty(exports, "handler", { enumerable: true, get: () => h });\nconst h = () => 1;'},
     "index.handler"),
    ({"index.cjs": "const api = { handler: async () => 1 };\nmodule.exports.api = api;"}, "index.api.handler"),
])
def test_working_handlers_pass_the_export_check(tmp_path: Path, files: dict[str, str], handler_name: str) -> None:
    artifact, _ = build(tmp_path, files, handler_name)
    assert artifact.file_count == len(files)


@pytest.mark.parametrize(("files", "message", "hint"), [
    ({"index.mjs": "export const handle = async () => 1;\nexport default handle;"},
     "index.mjs does not export 'handler' (it exports: handle)", "export const handler = async"),
    ({"index.js": "const handler = async (event) => event;\nexports.main = handler;"},
     "index.js does not export 'handler' (it exports: main)", "exports.handler = async"),
    ({"app.js": "async function handler() {}", "package.json": '{"type": "module"}'},
     "app.js does not export 'handler'", "(the file is an ES module)"),
])
def test_an_obviously_missing_export_stops_the_build(tmp_path: Path, files: dict[str, str], message: str,
                                                      hint: str) -> None:
    handler_name = "app.handler" if "app.js" in files else "index.handler"
    with pytest.raises(PackagingInputError) as err:
        build(tmp_path, files, handler_name)
    assert message in err.value.message and hint in (err.value.hint or "")


def test_a_syntax_error_stops_the_build_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(PackagingInputError) as err:
        build(tmp_path, {"index.js": "exports.handler = async () => {\n  return {ok: true;\n};\n"})
    assert "handler 'index.handler': index.js, line 2: SyntaxError" in err.value.message


def test_a_handler_file_excluded_from_the_zip_is_reported(tmp_path: Path) -> None:
    fn = load(project(tmp_path, {"index.js": "exports.handler = 1;"}, 'exclude: ["index.js"]')).functions[0]
    with pytest.raises(PackagingInputError, match=r"needs index\.js \(or index\.mjs, index\.cjs\), and none is in"):
        build_artifact(fn, cache_dir=tmp_path / "cache")


# --- what nodejs24.x no longer supports -----------------------------------------------------------

CALLBACK = "exports.handler = function (event, context, callback) { callback(null, 1); };\n"
SUCCEED = "exports.handler = async (event, context) => { context.succeed(1); };\n"


def test_validate_warns_about_callback_handlers_and_context_methods_on_nodejs24(tmp_path: Path) -> None:
    warnings = load(project(tmp_path / "a", {"index.js": CALLBACK}, runtime="nodejs24.x")).warnings
    assert len(warnings) == 1 and "api: handler `handler` takes 3 parameters" in warnings[0]
    assert "Runtime.CallbackHandlerDeprecated" in warnings[0]
    warnings = load(project(tmp_path / "b", {"index.js": SUCCEED}, runtime="nodejs24.x")).warnings
    assert warnings == ("api: the handler file uses context.succeed, which nodejs24.x no longer provides; "
                        "return the result (or throw) from an async handler instead",)
    _, reports = build(tmp_path / "c", {"index.js": CALLBACK}, runtime="nodejs24.x")
    assert any(r.startswith("warning: handler `handler` takes 3 parameters") for r in reports)


def test_nodejs22_accepts_both_styles_silently(tmp_path: Path) -> None:
    assert load(project(tmp_path / "a", {"index.js": CALLBACK}, runtime="nodejs22.x")).warnings == ()
    assert load(project(tmp_path / "b", {"index.js": SUCCEED}, runtime="nodejs22.x")).warnings == ()


@pytest.mark.parametrize(("text", "count"), [
    ("exports.handler = async ({ body, headers }, context) => body;", 2),
    ("export const handler = async (event, [a, b] = [], ...rest) => 1;", 1),
    ("export async function handler(event, context, callback) {}", 3),
    ("exports.handler = event => event;", 1),
    ("module.exports = { handler: function named(e, c) {} };", 2),
])
def test_parameter_count_reads_like_function_length(text: str, count: int) -> None:
    assert handler.parameter_count(text, "handler") == count


# --- the installed tree: what the runtime provides, what an install script would have built --------

def lock(packages: dict[str, dict]) -> dict:
    return {"lockfileVersion": 3, "packages": {"": {"dependencies": {"@aws-sdk/client-s3": "^3", "lib": "1"}},
                                               **packages}}


def installed(site: Path, packages: list[str]) -> Path:
    for name in packages:
        (site / "node_modules" / name).mkdir(parents=True)
        (site / "node_modules" / name / "package.json").write_text(json.dumps({"name": name.split("/node_modules/")[-1]}))
    return site


def spec(tmp_path: Path, **fields: object) -> DependencySpec:
    return DependencySpec("api", tmp_path / "package.json", "nodejs22.x", "x86_64", **fields)  # type: ignore[arg-type]


LOCK = lock({
    "node_modules/@aws-sdk/client-s3": {"dependencies": {"@smithy/core": "1", "@aws-sdk/core": "1", "tslib": "2"}},
    "node_modules/@aws-sdk/core": {"dependencies": {"@smithy/core": "1"}},
    "node_modules/@smithy/core": {"dependencies": {"tslib": "2"}},
    "node_modules/@smithy/util": {},
    "node_modules/tslib": {},
    "node_modules/lib": {"dependencies": {"@smithy/util": "1", "@aws-sdk/core": "1"}},
    "node_modules/lib/node_modules/@aws-sdk/client-sts": {},
})
TREE = ["@aws-sdk/client-s3", "@aws-sdk/core", "@smithy/core", "@smithy/util", "tslib", "lib",
        "lib/node_modules/@aws-sdk/client-sts", ".bin/uuid"]


def test_the_runtimes_sdk_and_what_only_it_needs_are_left_out(tmp_path: Path) -> None:
    site = installed(tmp_path / "site", TREE)
    (site / "node_modules" / ".package-lock.json").write_text("{}")
    (site / "node_modules" / "lib" / ".npmrc").write_text("//r/:_authToken=x")
    reports: list[str] = []
    deps.prune(site, spec(tmp_path), LOCK, reports.append)
    left = sorted(str(p.relative_to(site / "node_modules")) for p in (site / "node_modules").rglob("package.json"))
    # lib needs @smithy/util and its own pinned client-sts; only the SDK needed @smithy/core and tslib.
    assert left == ["@smithy/util/package.json", "lib/node_modules/@aws-sdk/client-sts/package.json",
                    "lib/package.json"]
    assert not (site / "node_modules" / ".bin").exists() and not (site / "node_modules" / ".package-lock.json").exists()
    assert not list(site.rglob(".npmrc"))
    assert reports == ["left out 2 package(s) the nodejs runtime provides (@aws-sdk/client-s3, @aws-sdk/core) and "
                       "2 only they need; include_runtime_packages: true ships them"]


def test_include_runtime_packages_keeps_the_sdk(tmp_path: Path) -> None:
    site = installed(tmp_path / "site", TREE)
    deps.prune(site, spec(tmp_path, include_runtime_packages=True), LOCK, lambda _: None)
    assert (site / "node_modules" / "@aws-sdk" / "client-s3").is_dir() and (site / "node_modules" / "tslib").is_dir()


def test_strip_tests_drops_packages_test_folders_not_packages_named_test(tmp_path: Path) -> None:
    site = installed(tmp_path / "site", ["lib", "test", "@scope/tests"])
    for folder in ("lib/test", "lib/src/__tests__", "test/lib"):
        (site / "node_modules" / folder).mkdir(parents=True)
    deps.prune(site, spec(tmp_path, strip=("tests",)), {"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"lib": "1", "test": "1", "@scope/tests": "1"}}, "node_modules/lib": {},
        "node_modules/test": {}, "node_modules/@scope/tests": {}}}, lambda _: None)
    modules = site / "node_modules"
    assert not (modules / "lib" / "test").exists() and not (modules / "lib" / "src" / "__tests__").exists()
    assert (modules / "test" / "lib").is_dir() and (modules / "@scope" / "tests").is_dir()


ELF_ARM64 = b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (183).to_bytes(2, "little")
ELF_X64 = b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (62).to_bytes(2, "little")


def native_package(site: Path, name: str, manifest: dict, files: dict[str, bytes] | None = None) -> None:
    folder = site / "node_modules" / name
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": name, **manifest}))
    for path, data in (files or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)


def test_native_code_only_an_install_script_builds_is_refused_for_a_foreign_target(tmp_path: Path) -> None:
    site = tmp_path / "site"
    native_package(site, "bcrypt", {"scripts": {"install": "node-pre-gyp install --fallback-to-build"}})
    native_package(site, "addon", {"gypfile": True}, {"binding.gyp": b"{}"})
    native_package(site, "prebuilt", {"scripts": {"install": "node-gyp-build"}}, {"prebuilds/linux-arm64/x.node": ELF_ARM64})
    native_package(site, "shipped", {"scripts": {"install": "prebuild-install"}}, {"build/Release/a.node": ELF_ARM64})
    native_package(site, "banner", {"scripts": {"postinstall": "node banner.js"}})
    with pytest.raises(PackagingInputError) as err:
        deps.check_unbuilt(site, target_for("nodejs22.x", "arm64"), "api", lambda _: None)
    assert err.value.message == ("api: addon, bcrypt build native code in an install script, which would build it "
                                 "for this machine, not for Lambda's nodejs22.x/arm64")
    assert "prebuilt linux-arm64 binaries" in (err.value.hint or "")


def test_skipped_scripts_without_native_code_are_only_mentioned(tmp_path: Path) -> None:
    site = tmp_path / "site"
    native_package(site, "banner", {"scripts": {"postinstall": "node banner.js"}})
    native_package(site, "x64-only", {"scripts": {"install": "prebuild-install"}}, {"build/a.node": ELF_X64})
    reports: list[str] = []
    with pytest.raises(PackagingInputError, match="x64-only builds native code"):
        deps.check_unbuilt(site, target_for("nodejs22.x", "arm64"), "api", reports.append)
    (site / "node_modules" / "x64-only" / "build" / "a.node").write_bytes(ELF_ARM64)
    deps.check_unbuilt(site, target_for("nodejs22.x", "arm64"), "api", reports.append)
    assert reports == ["install scripts of banner were not run (they would run for this machine, not for "
                       "nodejs22.x/arm64)"]


# --- npm's failures ---------------------------------------------------------------------------------

TARGET = target_for("nodejs22.x", "arm64")


@pytest.mark.parametrize(("stderr", "kind", "message"), [
    ("npm error code EUSAGE\nnpm error `npm ci` can only install packages when your package.json and "
     "package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` "
     "before continuing.\nnpm error Missing: uuid@9.0.1 from lock file",
     PackagingInputError, "api: package.json and package-lock.json are out of sync (missing from the lockfile: "
                          "uuid@9.0.1)"),
    ("npm error code EBADPLATFORM\nnpm error notsup Unsupported platform for fsevents@2.3.3: wanted "
     '{"os":"darwin"} (current: {"os":"linux","cpu":"arm64"})',
     PackagingInputError, 'api: fsevents@2.3.3 does not run on Lambda\'s nodejs22.x/arm64 (it wants {"os":"darwin"})'),
    ("npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/no-such-pkg-x - Not found",
     PackagingInputError, "api: the registry has no https://registry.npmjs.org/no-such-pkg-x"),
    ("npm error code E401\nnpm error Unable to authenticate", PackagingInputError, "refused the credentials"),
    ("npm error code ENOTFOUND\nnpm error getaddrinfo ENOTFOUND registry.npmjs.org", PackagingError,
     "api: npm could not reach the registry"),
    ("npm error something else", PackagingError, "api: `npm ci` failed for nodejs22.x/arm64"),
])
def test_npm_failures_name_the_cause(stderr: str, kind: type, message: str) -> None:
    error = npm.failure(" ".join(stderr.split()), stderr, TARGET, "api")
    assert type(error) is kind and message in error.message  # type: ignore[attr-defined]


def test_the_npm_command_installs_production_dependencies_for_lambda() -> None:
    assert npm.command("npm", TARGET, run_scripts=False) == [
        "npm", "ci", "--omit=dev", "--os=linux", "--cpu=arm64", "--libc=glibc", "--no-audit", "--no-fund",
        "--no-progress", "--loglevel=error", "--ignore-scripts"]
    assert "--ignore-scripts" not in npm.command("npm", TARGET, run_scripts=True)


def test_an_npm_too_old_for_foreign_platforms_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm, "npm_version", lambda _npm: (9, 8, 1))
    with pytest.raises(PackagingError, match=r"npm 9\.8\.1 cannot install for another platform .* npm 10\.3\.0"):
        npm.find_npm()


def test_no_npm_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PackagingError, match="npm is needed") as err:
        npm.find_npm()
    assert "install Node.js" in (err.value.hint or "")


def test_the_cache_key_follows_manifest_lockfile_target_and_options(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"uuid": "9.0.1"}}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    lockfile = tmp_path / "package-lock.json"
    base = deps.dependency_key(spec(tmp_path), target_for("nodejs22.x", "x86_64"), lockfile, True)
    assert base == deps.dependency_key(spec(tmp_path), target_for("nodejs22.x", "x86_64"), lockfile, True)
    others = {
        deps.dependency_key(spec(tmp_path), target_for("nodejs22.x", "arm64"), lockfile, True),
        deps.dependency_key(spec(tmp_path), target_for("nodejs20.x", "x86_64"), lockfile, True),
        deps.dependency_key(spec(tmp_path, include_runtime_packages=True), target_for("nodejs22.x", "x86_64"),
                            lockfile, True),
        deps.dependency_key(spec(tmp_path), target_for("nodejs22.x", "x86_64"), lockfile, False),
    }
    lockfile.write_text('{"lockfileVersion": 3, "x": 1}')
    others.add(deps.dependency_key(spec(tmp_path), target_for("nodejs22.x", "x86_64"), lockfile, True))
    assert base not in others and len(others) == 5


def test_limits_name_node_packages_as_contributors() -> None:
    from lambdadeploy.packaging import limits, zipfmt

    entries = [zipfmt.compress(name, b"x" * size, False) for name, size in (
        ("node_modules/@img/sharp-libvips-linux-arm64/lib/libvips-cpp.so", 900),
        ("node_modules/@img/sharp-linux-arm64/lib/sharp.node", 300), ("node_modules/uuid/dist/v4.js", 50),
        ("node_modules/uuid/package.json", 50), ("index.js", 10))]
    assert limits.contributors(entries, {"index.js"}, lambda e: e.size) == [
        ("@img/sharp-libvips-linux-arm64 (dependency)", 900), ("@img/sharp-linux-arm64 (dependency)", 300),
        ("uuid (dependency)", 100), ("index.js (your code)", 10)]
