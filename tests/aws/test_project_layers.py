"""Project layers against moto in-process, with the sandbox's layer emulation and real invokes:
published once, reused by unchanged pushes, republished on a change, imported by a smoke test,
pruned when nothing uses them; and where the sandbox makes moto's layers behave like AWS's."""

from __future__ import annotations

import io
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from lambdadeploy.aws import AwsCallError, AwsSession
from lambdadeploy.config import load
from lambdadeploy.config.model import Project
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.steps import PublishLayer
from lambdadeploy.local import layers as sandbox_layers

HANDLER = """\
import helpers

def handler(event, context):
    return {"greeting": helpers.GREETING, "stage": event.get("stage")}
"""


def write_layered(root: Path, greeting: str = "hello", extra: str = "") -> Project:
    (root / "functions" / "api").mkdir(parents=True, exist_ok=True)
    (root / "functions" / "api" / "app.py").write_text(HANDLER)
    (root / "functions" / "plain").mkdir(parents=True, exist_ok=True)
    (root / "functions" / "plain" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "layers" / "common").mkdir(parents=True, exist_ok=True)
    (root / "layers" / "common" / "helpers.py").write_text(f"GREETING = {greeting!r}\n")
    (root / "lambda.yaml").write_text(textwrap.dedent(f"""
        project: t
        aliases: [dev, prod]
        functions:
          api:
            handler: app.handler
            layers: [common]
            test: {{payload: {{stage: smoke}}, expect: {{greeting: {greeting}}}}}
          plain: {{handler: app.handler}}
        layers:
          common: {{source: layers/common, description: shared helpers}}
    """) + extra)
    return load(root / "lambda.yaml")


def versions(session: AwsSession, name: str = "t-common") -> list[dict]:
    return session.client("lambda").list_layer_versions(LayerName=name)["LayerVersions"]


def test_a_layer_is_published_once_and_its_code_imported_by_the_smoke_test(session: AwsSession, tmp_path: Path) -> None:
    project = write_layered(tmp_path)
    plan = Deployer(session, project, lambda e: None).plan(project.functions, "dev")
    assert [type(s) for s in plan.layer_steps] == [PublishLayer]
    result = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert result.ok, [r.error for r in result]
    (outcome,) = result.layers
    assert outcome.published and outcome.arn == "arn:aws:lambda:us-east-1:123456789012:layer:t-common:1"
    api = next(r for r in result if r.function.key == "api")
    assert api.smoke is not None and api.smoke.payload == {"greeting": "hello", "stage": "smoke"}
    assert read_function(session, "t-api").config["Layers"] == [outcome.arn]
    (listed,) = versions(session)
    assert listed["Description"].startswith("shared helpers lambdadeploy:sha256=")
    assert (listed["CompatibleRuntimes"], listed["CompatibleArchitectures"]) == (["python3.12"], ["x86_64"])

    # Nothing changed: no layer version, no function version, nothing uploaded.
    again = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert again.ok and not again.layers[0].published and again.layers[0].arn == outcome.arn
    assert [(r.published, r.uploaded) for r in again] == [(False, False), (False, False)]
    assert len(versions(session)) == 1
    assert not Deployer(session, project, lambda e: None).plan(project.functions, "dev").has_changes


def test_changed_layer_content_publishes_a_version_and_a_new_function_version(session: AwsSession,
                                                                              tmp_path: Path) -> None:
    project = write_layered(tmp_path)
    assert Deployer(session, project, lambda e: None).push(project.functions, "dev").ok
    changed = write_layered(tmp_path, greeting="bonjour")
    result = Deployer(session, changed, lambda e: None).push(changed.functions, "dev")
    assert result.ok, [r.error for r in result]
    assert result.layers[0].arn and result.layers[0].arn.endswith(":t-common:2")
    api = next(r for r in result if r.function.key == "api")
    assert (api.version, api.published, api.uploaded) == ("2", True, False)  # same code, new configuration
    assert api.smoke is not None and api.smoke.payload["greeting"] == "bonjour"
    plain = next(r for r in result if r.function.key == "plain")
    assert not plain.published
    # Promote needs no rebuild and takes the layer version dev serves.
    promoted = Deployer(session, changed, lambda e: None).promote(changed.functions, "dev", "prod")
    assert all(r.ok for r in promoted), [r.error for r in promoted]
    assert read_function(session, "t-api").aliases["prod"].version == "2"


def test_prune_deletes_only_layer_versions_nothing_uses(session: AwsSession, tmp_path: Path) -> None:
    for greeting in ("one", "two", "three"):
        project = write_layered(tmp_path, greeting=greeting)
        assert Deployer(session, project, lambda e: None).push(project.functions, "dev").ok
    # prod stays on the first version (layer 1); dev on the third (layer 3).
    session.client("lambda").create_alias(FunctionName="t-api", Name="prod", FunctionVersion="1")
    deployer = Deployer(session, project, lambda e: None)
    assert deployer.prunable_layers(keep=0) == {"common": (2,)}
    deployer.prune_layers(deployer.prunable_layers(keep=0))
    assert [v["Version"] for v in versions(session)] == [3, 1]
    assert deployer.prunable_layers(keep=0) == {}


def test_a_function_keeps_a_deleted_layer_version_as_on_aws(session: AwsSession, tmp_path: Path) -> None:
    """Lambda keeps a deleted layer version's content for the functions that use it; rollback to such
    a version works. A new use of the deleted version is refused with AWS's error."""
    project = write_layered(tmp_path)
    assert Deployer(session, project, lambda e: None).push(project.functions, "dev").ok
    changed = write_layered(tmp_path, greeting="bonjour")
    assert Deployer(session, changed, lambda e: None).push(changed.functions, "dev").ok
    client = session.client("lambda")
    client.delete_layer_version(LayerName="t-common", VersionNumber=1)
    rolled = Deployer(session, changed, lambda e: None).rollback(changed.functions[:1], "dev", None)
    assert rolled[0].ok and read_function(session, "t-api").aliases["dev"].version == "1"
    response = client.invoke(FunctionName="t-api", Qualifier="dev", Payload=b"{}")
    assert "FunctionError" not in response and b"hello" in response["Payload"].read()
    with pytest.raises(AwsCallError) as refused:
        client.update_function_configuration(FunctionName="t-plain",
                                             Layers=["arn:aws:lambda:us-east-1:123456789012:layer:t-common:1"])
    assert (refused.value.code, refused.value.status) == ("InvalidParameterValueException", 400)
    assert refused.value.aws_message == (
        "Layer version arn:aws:lambda:us-east-1:123456789012:layer:t-common:1 does not exist.")


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_the_sandbox_refuses_a_function_and_layers_over_250_mb_as_aws(session: AwsSession,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_layers, "MAX_UNZIPPED_BYTES", 3000)
    client = session.client("lambda")
    role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    layer = client.publish_layer_version(LayerName="big", Content={"ZipFile": zipped({"python/a.py": b"#" * 2000})})
    code = zipped({"app.py": b"def handler(e, c):\n    return 1\n" + b"#" * 1500})
    with pytest.raises(AwsCallError) as refused:
        client.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="app.handler",
                               Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
    message = refused.value.aws_message
    assert refused.value.code == "InvalidParameterValueException" and message.startswith("Function code combined with layers exceeds the maximum allowed size of 3000 bytes.")
    with pytest.raises(AwsCallError, match="ResourceNotFoundException"):
        client.get_function(FunctionName="f")  # nothing was created
    client.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="app.handler",
                           Code={"ZipFile": zipped({"app.py": b"def handler(e, c):\n    return 1\n"})})
    with pytest.raises(AwsCallError, match="combined with layers"):
        client.update_function_configuration(FunctionName="f", Layers=[layer["LayerVersionArn"]] * 2)
    client.update_function_configuration(FunctionName="f", Layers=[layer["LayerVersionArn"]])
    with pytest.raises(AwsCallError, match="combined with layers"):
        client.update_function_code(FunctionName="f", ZipFile=code)


def test_the_sandbox_lists_layer_versions_as_aws(session: AwsSession) -> None:
    client = session.client("lambda")
    for runtimes in (["python3.11"], ["python3.12"], ["python3.12", "python3.13"]):
        client.publish_layer_version(LayerName="lib", Content={"ZipFile": zipped({"python/x.py": b"x"})},
                                     CompatibleRuntimes=runtimes, CompatibleArchitectures=["arm64"])
    listed = client.list_layer_versions(LayerName="lib")["LayerVersions"]
    assert [v["Version"] for v in listed] == [3, 2, 1]  # newest first
    assert all("Content" not in v for v in listed)  # LayerVersionsListItem has none
    assert [v["Version"] for v in client.list_layer_versions(
        LayerName="lib", CompatibleRuntime="python3.12")["LayerVersions"]] == [3, 2]
    assert client.list_layer_versions(LayerName="lib", CompatibleArchitecture="x86_64")["LayerVersions"] == []
    first = client.list_layer_versions(LayerName="lib", MaxItems=2)
    assert [v["Version"] for v in first["LayerVersions"]] == [3, 2] and first["NextMarker"]
    rest = client.list_layer_versions(LayerName="lib", MaxItems=2, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1] and "NextMarker" not in rest
    # The content hash is AWS's: the base64 sha256 of the zip.
    import base64
    import hashlib

    blob = zipped({"python/y.py": b"y"})
    published = client.publish_layer_version(LayerName="lib", Content={"ZipFile": blob})
    assert published["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(blob).digest()).decode()


def _node_major_is(major: int) -> bool:
    node = shutil.which("node")
    if node is None:
        return False
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    return version.startswith(f"v{major}.")


NODE_HANDLER = """\
const helpers = require('helpers');         // the project layer, from /opt/nodejs/node_modules
const { TABLE } = require('./shared/db');   // shared/ copied into the zip by include:

exports.handler = async (event) => ({ greeting: helpers.GREETING, table: TABLE, stage: event.stage });
"""


@pytest.mark.skipif(shutil.which("node") is None or not _node_major_is(20), reason="needs Node.js 20 (nodejs20.x)")
def test_node_functions_use_include_and_a_project_layer(session: AwsSession, tmp_path: Path) -> None:
    """Node.js functions get include: and project layers too: the layer's files go to
    nodejs/node_modules (on NODE_PATH), so require() finds them; shared/ is copied into each zip."""
    for key in ("orders", "users"):
        (tmp_path / "functions" / key).mkdir(parents=True)
        (tmp_path / "functions" / key / "index.js").write_text(NODE_HANDLER)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "db.js").write_text("exports.TABLE = 'orders';\n")
    (tmp_path / "layers" / "common").mkdir(parents=True)
    (tmp_path / "layers" / "common" / "helpers.js").write_text("exports.GREETING = 'hello';\n")
    (tmp_path / "layers" / "common" / ".npmrc").write_text("//registry.npmjs.org/:_authToken=secret\n")
    (tmp_path / "lambda.yaml").write_text(textwrap.dedent("""
        project: n
        defaults: {runtime: nodejs20.x, handler: index.handler, include: [../../shared], layers: [common]}
        functions:
          orders: {test: {payload: {stage: smoke}, expect: {greeting: hello, table: orders}}}
          users: {test: {payload: {stage: smoke}, expect: {greeting: hello, table: orders}}}
        layers:
          common: {source: layers/common}
    """))
    project = load(tmp_path / "lambda.yaml")
    result = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert result.ok, [r.error for r in result]
    (outcome,) = result.layers
    assert outcome.published and outcome.artifact is not None
    content = zipfile.ZipFile(io.BytesIO(outcome.artifact.zip_bytes)).namelist()
    assert content == ["nodejs/node_modules/helpers.js"]  # .npmrc (registry tokens) never packed
    for r in result:
        assert r.smoke is not None and r.smoke.passed, r.smoke
        assert r.smoke.payload == {"greeting": "hello", "table": "orders", "stage": "smoke"}
    (listed,) = versions(session, "n-common")
    assert (listed["CompatibleRuntimes"], listed["CompatibleArchitectures"]) == (["nodejs20.x"], ["x86_64"])
    again = Deployer(session, project, lambda e: None).push(project.functions, "dev")
    assert again.ok and not again.layers[0].published
    assert [(r.published, r.uploaded) for r in again] == [(False, False), (False, False)]
    assert len(versions(session, "n-common")) == 1
