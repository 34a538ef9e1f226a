"""Packaging as real projects lay it out (#16): `include:`, `source: .`, the project's .lambdaignore,
handlers in subfolders, what never ships, and how `include:`/`layers:` are validated. No AWS."""

from __future__ import annotations

import io
import os
import textwrap
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.config import load
from lambdadeploy.config.model import Project
from lambdadeploy.errors import ConfigError, PackagingInputError
from lambdadeploy.packaging import build_artifact
from lambdadeploy.packaging.files import CACHEDIR_SIGNATURE, tag_as_output

from .packaging_support import write

HANDLER = "def handler(event, context):\n    return event\n"


def project_at(root: Path, text: str) -> Project:
    (root / "lambda.yaml").write_text(textwrap.dedent(text).lstrip())
    return load(root / "lambda.yaml")


def config_issues(root: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        project_at(root, text)
    return [issue.render() for issue in caught.value.issues]


def zip_names(project: Project, key: str, cache: Path) -> list[str]:
    fn = next(f for f in project.functions if f.key == key)
    return zipfile.ZipFile(io.BytesIO(build_artifact(fn, cache_dir=cache).zip_bytes)).namelist()


@pytest.fixture
def shared_project(tmp_path: Path) -> Path:
    """Two functions and a sibling shared/ package, as AWS's samples lay them out."""
    write(tmp_path, "functions/orders/app.py", "from shared import db\n" + HANDLER)
    write(tmp_path, "functions/users/app.py", "from shared import db\n" + HANDLER)
    write(tmp_path, "shared/__init__.py", "")
    write(tmp_path, "shared/db.py", "TABLE = 'orders'\n")
    write(tmp_path, "libs/db/conn.py", "URL = 'x'\n")
    return tmp_path


# --- include: ------------------------------------------------------------------------------

def test_include_packs_a_sibling_folder_and_a_renamed_one(shared_project: Path, tmp_path: Path) -> None:
    project = project_at(shared_project, """
        functions:
          orders: {handler: app.handler, include: [../../shared, {from: ../../libs/db, to: lib/db}]}
          users: {handler: app.handler, include: ../../shared/db.py}
    """)
    assert zip_names(project, "orders", tmp_path / "cache") == [
        "app.py", "lib/db/conn.py", "shared/__init__.py", "shared/db.py"]
    assert zip_names(project, "users", tmp_path / "cache") == ["app.py", "db.py"]


def test_the_code_sha_changes_only_when_included_content_does(shared_project: Path, tmp_path: Path) -> None:
    project = project_at(shared_project, """
        functions:
          orders: {handler: app.handler, include: [../../shared]}
    """)
    (fn,) = project.functions
    first = build_artifact(fn, cache_dir=tmp_path / "cache").sha256
    os.utime(shared_project / "shared" / "db.py", (1, 1))  # times never matter
    write(shared_project, "unrelated/notes.txt", "not included\n")
    assert build_artifact(fn, cache_dir=tmp_path / "cache").sha256 == first
    write(shared_project, "shared/db.py", "TABLE = 'users'\n")
    assert build_artifact(fn, cache_dir=tmp_path / "cache").sha256 != first


def test_included_trees_follow_the_packing_rules(shared_project: Path, tmp_path: Path) -> None:
    write(shared_project, "shared/.env", "SECRET=1\n")  # a secret: left out and named
    write(shared_project, "shared/tests/test_db.py")  # the project's .lambdaignore
    write(shared_project, "shared/README.md")  # the function's exclude, by its path in the zip
    write(tmp_path.parent / f"{tmp_path.name}-outside.py", "leak = 1\n")
    os.symlink(tmp_path.parent / f"{tmp_path.name}-outside.py", shared_project / "shared" / "leak.py")
    os.symlink(shared_project / "shared" / "db.py", shared_project / "shared" / "alias.py")  # inside: followed
    (shared_project / ".lambdaignore").write_text("tests/\n")
    project = project_at(shared_project, """
        functions:
          orders: {handler: app.handler, include: [../../shared], exclude: [shared/README.md]}
    """)
    (fn,) = project.functions
    skipped: list[str] = []
    artifact = build_artifact(fn, cache_dir=tmp_path / "cache", on_progress=skipped.append)
    names = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).namelist()
    assert names == ["app.py", "shared/__init__.py", "shared/alias.py", "shared/db.py"]
    assert artifact.left_out == ("shared/.env",)
    assert any("skipped symlink shared/leak.py" in s for s in skipped)


def test_an_include_cannot_leave_the_project_or_clash(shared_project: Path) -> None:
    found = config_issues(shared_project, """
        functions:
          orders:
            handler: app.handler
            include:
              - ../../../etc
              - ../../missing
              - {from: ../../shared, to: ../up}
              - ../../shared
              - {from: ../../libs/db, to: shared}
              - .
              - {to: x}
    """)
    text = "\n".join(found)
    assert "lambda.yaml:5: functions.orders.include.0: '../../../etc' leads outside the project folder" in text
    assert "lambda.yaml:6: functions.orders.include.1: include path not found" in text
    assert "functions.orders.include.2.to: invalid place in the zip '../up'" in text
    assert "functions.orders.include.4: `shared` is already the target of include entry 3" in text
    assert "functions.orders.include.5: includes the function's own source folder" in text
    assert "functions.orders.include.6: missing `from`" in text


def test_two_files_for_one_place_in_the_zip_is_an_error(shared_project: Path, tmp_path: Path) -> None:
    write(shared_project, "functions/orders/shared/db.py", "OTHER = 1\n")
    project = project_at(shared_project, """
        functions:
          orders: {handler: app.handler, include: [../../shared]}
    """)
    with pytest.raises(PackagingInputError, match=r"two files would be shared/db\.py in the zip"):
        zip_names(project, "orders", tmp_path / "cache")


# --- source: . and the project's .lambdaignore ------------------------------------------------

@pytest.fixture
def root_project(tmp_path: Path) -> Path:
    """AWS's sample layout: lambda.yaml, the handler in todos/, events/, another function's folder."""
    root = tmp_path / "proj"
    write(root, "todos/__init__.py", "")
    write(root, "todos/handler.py", "def lambda_handler(event, context):\n    return {'statusCode': 200}\n")
    write(root, "events/list.json", "{}")
    write(root, "events/unused.json", "{}")
    write(root, "payloads/other.json", "{}")
    write(root, "worker/app.py", HANDLER)
    write(root, "README.md", "# todos\n")
    write(root, "tests/test_todos.py", "def test(): pass\n")
    (root / ".lambdaignore").write_text("tests/\n*.md\n")
    return root


ROOT_CONFIG = """
    project: todo
    functions:
      todos:
        source: .
        handler: todos/handler.lambda_handler
        test: {payload: events/list.json}
      worker:
        source: worker
        handler: app.handler
        test: {payload: payloads/other.json}
"""


def test_source_dot_never_packs_the_projects_own_files(root_project: Path, tmp_path: Path) -> None:
    project = project_at(root_project, ROOT_CONFIG)
    cache = root_project / ".cache"  # a cache inside the project (LAMBDADEPLOY_CACHE_DIR=.cache)
    write(cache, "deps/x/site/junk.py")
    dist = root_project / "dist"  # an earlier `package --out dist`
    write(dist, "todo-todos.zip", b"PK old zip")
    tag_as_output(dist, "lambdadeploy package output")
    write(root_project, "build/CACHEDIR.TAG", CACHEDIR_SIGNATURE + b"\n")  # any tool's tagged output
    write(root_project, "build/out.bin", b"x")
    write(root_project, ".lambdadeploy/state.json", "{}")
    assert zip_names(project, "todos", cache) == ["todos/__init__.py", "todos/handler.py"]
    # The worker's own zip is its folder; its payload lives elsewhere.
    assert zip_names(project, "worker", cache) == ["app.py"]


def test_the_projects_lambdaignore_applies_to_every_function(root_project: Path, tmp_path: Path) -> None:
    write(root_project, "worker/README.md", "# worker\n")
    write(root_project, "worker/tests/test_w.py", "")
    write(root_project, "worker/data.csv", "a,b\n")
    (root_project / "worker" / ".lambdaignore").write_text("*.csv\n")  # the folder's own adds to it
    project = project_at(root_project, ROOT_CONFIG)
    assert zip_names(project, "worker", tmp_path / "cache") == ["app.py"]


def test_what_never_ships_can_be_named_by_include(root_project: Path, tmp_path: Path) -> None:
    """The escape hatch: a folder the tool keeps out of `source: .` is packed when included."""
    project = project_at(root_project, ROOT_CONFIG.replace(
        "test: {payload: events/list.json}", "test: {payload: events/list.json}\n        include: [{from: events, to: events}]"))
    assert zip_names(project, "todos", tmp_path / "cache") == [
        "events/list.json", "events/unused.json", "todos/__init__.py", "todos/handler.py"]


def test_a_handler_in_a_subfolder_is_checked_where_lambda_looks(root_project: Path, tmp_path: Path) -> None:
    project = project_at(root_project, ROOT_CONFIG)
    assert project.functions[0].handler == "todos/handler.lambda_handler"
    found = config_issues(root_project, ROOT_CONFIG.replace("todos/handler.lambda_handler", "todos/missing.handler"))
    assert any("handler module not found" in i and "todos/missing.py" in i for i in found)


# --- layers: ------------------------------------------------------------------------------

LAYERED = """
    project: shop
    functions:
      orders: {handler: app.handler, layers: [deps, common]}
      users: {handler: app.handler, runtime: python3.11, layers: [deps, "arn:aws:lambda:us-east-1:123456789012:layer:x:3"]}
    layers:
      deps: {requirements: layers/deps/requirements.txt}
      common: {source: layers/common, description: shared helpers}
"""


@pytest.fixture
def layered(shared_project: Path) -> Path:
    write(shared_project, "layers/deps/requirements.txt", "# nothing yet\n")
    write(shared_project, "layers/common/helpers.py", "X = 1\n")
    return shared_project


def test_layers_take_the_runtimes_and_architectures_of_their_functions(layered: Path) -> None:
    project = project_at(layered, LAYERED)
    deps, common = project.layers
    assert (deps.name, deps.runtimes, deps.architectures) == ("shop-deps", ("python3.11", "python3.12"), ("x86_64",))
    assert (common.runtimes, common.description) == (("python3.12",), "shared helpers")
    assert deps.requirements == (layered / "layers/deps/requirements.txt").resolve()
    assert project.layers_of(project.functions[1:]) == (deps,)
    # The layers' folders never ship in a function's zip.
    assert (layered / "layers" / "common").resolve() in project.functions[0].never_pack


def test_layer_problems_are_reported_with_file_and_line(layered: Path) -> None:
    found = config_issues(layered, """
        project: shop
        functions:
          orders: {handler: app.handler, layers: [deps, nope, common, deps]}
          users: {handler: app.handler, architecture: arm64, runtime: python3.11, layers: [deps, common, arm]}
        layers:
          deps: {requirements: layers/deps/requirements.txt}
          common: {source: layers/common, runtimes: [python3.12], description: "%s"}
          arm: {source: ../elsewhere}
          none: {}
          mixed: {source: layers/common, runtimes: [python3.12, nodejs20.x]}
    """ % ("x" * 192))
    text = "\n".join(found)
    assert "lambda.yaml:3: functions.orders.layers.1: unknown layer 'nope' (project layers: arm, common, deps" in text
    assert "functions.orders.layers.3: layer 'deps' is listed twice" in text
    assert "layers.common.description: is 192 characters long; at most 191 are allowed" in text
    assert "layers.arm.source: '../elsewhere' leads outside the project folder" in text
    assert "layers.none: a layer needs `requirements:` or `source:`" in text
    assert ("layers.mixed.runtimes: runtimes of different languages (python3.12, nodejs20.x) (one layer per "
            "language: Lambda reads python/ and nodejs/ from different places)") in text


def test_a_requirements_layer_serves_one_architecture(layered: Path) -> None:
    found = config_issues(layered, LAYERED.replace("runtime: python3.11,", "runtime: python3.11, architecture: arm64,"))
    assert any("layers.deps.requirements: functions of both architectures use this layer" in i for i in found)
    found = config_issues(layered, LAYERED.replace("description: shared helpers", "runtimes: [python3.13]"))
    assert any("layers.common.runtimes: function orders (python3.12) uses this layer, which is built for "
               "python3.13 only" in i for i in found)


def test_an_unused_layer_is_a_warning_not_an_error(layered: Path) -> None:
    project = project_at(layered, LAYERED + "      spare: {source: layers/common}\n")
    assert [layer.key for layer in project.layers] == ["deps", "common"]
    assert any("layer spare is not used by any function" in w for w in project.warnings)


# --- Node.js functions ---------------------------------------------------------------------

def test_node_functions_take_include_and_their_own_layers(tmp_path: Path) -> None:
    """include: works for Node.js as for Python (the runtime's never-packed files still stay out);
    a Node.js layer's requirements follow the runtime's manifest rules at validate (a lockfile)."""
    write(tmp_path, "functions/api/index.js", "exports.handler = async () => require('./shared/db').TABLE;\n")
    write(tmp_path, "functions/api/node_modules/dev-only/index.js", "")
    write(tmp_path, "functions/api/package.json", '{"name": "api"}')
    write(tmp_path, "shared/db.js", "exports.TABLE = 'orders';\n")
    write(tmp_path, "shared/.npmrc", "//registry.npmjs.org/:_authToken=secret\n")
    write(tmp_path, "layers/deps/package.json", '{"name": "deps", "dependencies": {"left-pad": "1.3.0"}}')
    project = project_at(tmp_path, """
        defaults: {runtime: nodejs20.x, handler: index.handler}
        functions:
          api: {include: [../../shared], layers: [common]}
        layers:
          common: {source: shared}
    """)
    assert zip_names(project, "api", tmp_path / "cache") == ["index.js", "package.json", "shared/db.js"]
    assert project.layers[0].runtimes == ("nodejs20.x",)
    found = config_issues(tmp_path, """
        defaults: {runtime: nodejs20.x, handler: index.handler}
        functions:
          api: {layers: [deps]}
        layers:
          deps: {requirements: layers/deps/package.json}
    """)
    assert any(i.startswith(f"{tmp_path / 'lambda.yaml'}:5: layers.deps.requirements: ") and "lock" in i
               for i in found), found


def test_a_single_include_mapping_is_named_without_an_index(shared_project: Path) -> None:
    """`include: {from: ...}` (one entry, no list) is read as one entry, and its problems name the
    fields as they are in the document (hypothesis found `include.0.project` for `include: {project: }`)."""
    found = config_issues(shared_project, """
        functions:
          orders: {handler: app.handler, include: {project: x}}
    """)
    assert any(": functions.orders.include.project: unknown setting" in i for i in found), found
    assert not any("include.0" in i for i in found), found
