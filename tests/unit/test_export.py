"""`export --format sam`: the template as data (no AWS), the written files, and cfn-lint on the result."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdadeploy.config import RenderContext, load
from lambdadeploy.config.model import FunctionConfig, Project, Trigger
from lambdadeploy.errors import InvalidInputError
from lambdadeploy.export import CODE_DIR_NAME, CanarySettings, dump_yaml, sam_template, write_export
from lambdadeploy.export.s3_notifications import HANDLER_CODE, HANDLER_ID, RESOURCE_TYPE
from lambdadeploy.triggers.base import Target
from lambdadeploy.triggers.registry import make_trigger
from lambdadeploy.triggers.s3 import notification_config

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:thumbs"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
TABLE_STREAM = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders/stream/2024-01-01T00:00:00.000"
KINESIS = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/custom"


def function(key: str, **fields: Any) -> FunctionConfig:
    return FunctionConfig(key=key, name=f"shop-{key}", source=Path("/p/functions") / key, handler="app.handler",
                          **fields)


def project(*functions: FunctionConfig) -> Project:
    return Project(config_file=Path("/p/lambda.yaml"), functions=functions, project="shop")


def every_trigger() -> tuple[Trigger, ...]:
    return (
        make_trigger("s3", {"bucket": "uploads", "events": ["s3:ObjectCreated:*"], "prefix": "in/", "suffix": ".jpg"}),
        make_trigger("sns", {"topic": TOPIC, "filter_policy": {"kind": ["img"]}}),
        make_trigger("sqs", {"queue": QUEUE, "batch_size": 5, "batching_window": 2}),
        make_trigger("dynamodb", {"stream": TABLE_STREAM, "starting_position": "TRIM_HORIZON"}),
        make_trigger("kinesis", {"stream": KINESIS, "enabled": False}),
        make_trigger("schedule", {"expression": "rate(5 minutes)", "input": {"ping": True}}),
        make_trigger("url", {"auth": "NONE", "cors": {"allow_origins": ["https://example.com"]}}),
    )


def sample() -> Project:
    return project(
        function("resize", memory=512, timeout=30, description="Resize images", environment={"STAGE": "dev"},
                 layers=(f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:pillow:3",), tags={"team": "media"},
                 architecture="arm64", triggers=every_trigger()),
        function("report", role=ROLE, triggers=(
            make_trigger("schedule", {"expression": "cron(0 12 * * ? *)"}, alias="prod"),
            make_trigger("url", {"auth": "AWS_IAM"}, alias="prod"),
            make_trigger("s3", {"bucket": "uploads", "prefix": "reports/"}, alias="prod"),
        )),
    )


def uris(p: Project) -> dict[str, str]:
    return {fn.key: f"lambdadeploy-export/{fn.name}-0123456789ab.zip" for fn in p.functions}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_function_alias_and_trigger_is_named() -> None:
    p = sample()
    template = sam_template(p, "dev", uris(p))
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    functions = of_type(template, "AWS::Serverless::Function")
    assert set(functions) == {"ResizeFunction", "ReportFunction"}
    resize = props(template, "ResizeFunction")
    assert resize["FunctionName"] == "shop-resize"
    assert resize["AutoPublishAlias"] == "dev" and resize["AutoPublishAliasAllProperties"] is True
    assert resize["DeploymentPreference"] == {"Type": "AllAtOnce"}
    assert resize["CodeUri"] == "lambdadeploy-export/shop-resize-0123456789ab.zip"
    assert {k: resize[k] for k in ("Handler", "Runtime", "Architectures", "MemorySize", "Timeout")} == {
        "Handler": "app.handler", "Runtime": "python3.12", "Architectures": ["arm64"], "MemorySize": 512,
        "Timeout": 30}
    assert resize["Description"] == "Resize images"
    assert resize["Environment"] == {"Variables": {"STAGE": "dev"}}
    assert resize["Layers"] == [f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:pillow:3"]
    assert resize["Tags"] == {"team": "media"}

    events = resize["Events"]
    assert events["SnsThumbs"] == {"Type": "SNS", "Properties": {"Topic": TOPIC, "FilterPolicy": {"kind": ["img"]}}}
    assert events["SqsJobs"] == {"Type": "SQS", "Properties": {"Queue": QUEUE, "BatchSize": 5,
                                                               "MaximumBatchingWindowInSeconds": 2}}
    assert events["DynamoDBOrders"] == {"Type": "DynamoDB", "Properties": {
        "Stream": TABLE_STREAM, "StartingPosition": "TRIM_HORIZON", "BatchSize": 100}}
    assert events["KinesisClicks"] == {"Type": "Kinesis", "Properties": {
        "Stream": KINESIS, "StartingPosition": "LATEST", "BatchSize": 100, "Enabled": False}}
    schedule = events["Schedule"]["Properties"]
    assert schedule["Schedule"] == "rate(5 minutes)" and json.loads(schedule["Input"]) == {"ping": True}
    assert resize["FunctionUrlConfig"] == {"AuthType": "NONE", "Cors": {"AllowOrigins": ["https://example.com"]}}

    # S3: a permission for the bucket to invoke the alias, and the notification on the existing bucket.
    notifications = of_type(template, RESOURCE_TYPE)
    assert list(notifications) == ["UploadsBucketNotifications"]
    merged = notifications["UploadsBucketNotifications"]
    assert merged["Properties"]["Bucket"] == "uploads"
    assert merged["Properties"]["ServiceToken"] == {"Fn::GetAtt": [HANDLER_ID, "Arn"]}
    [config] = merged["Properties"]["Configurations"]
    assert config["LambdaFunctionArn"] == {"Ref": "ResizeFunction.Alias"}
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert config["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                        {"Name": "suffix", "Value": ".jpg"}]}}
    [permission_id] = merged["DependsOn"]
    permission = props(template, permission_id)
    assert permission["FunctionName"] == {"Ref": "ResizeFunction.Alias"}
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::uploads"}

    assert template["Outputs"]["ResizeFunctionAliasArn"]["Value"] == {"Ref": "ResizeFunction.Alias"}
    assert template["Outputs"]["ResizeFunctionUrlEndpoint"]["Value"] == {"Fn::GetAtt": ["ResizeFunctionUrl",
                                                                                        "FunctionUrl"]}
    named = template["Metadata"]["lambdadeploy"]["functions"]
    assert named["resize"]["name"] == "shop-resize" and named["resize"]["alias"] == "dev"
    assert named["resize"]["triggers"] == [
        "s3 bucket uploads (prefix in/, suffix .jpg)", f"sns topic {TOPIC}", f"sqs queue {QUEUE}", f"dynamodb stream {TABLE_STREAM}",
        f"kinesis stream {KINESIS}", 'schedule rate(5 minutes) with input {"ping":true}', "url function URL (auth NONE)"]


def test_triggers_restricted_to_another_alias_are_left_out() -> None:
    p = sample()
    dev = sam_template(p, "dev", uris(p))
    report = props(dev, "ReportFunction")
    assert "Events" not in report and "FunctionUrlConfig" not in report
    assert dev["Metadata"]["lambdadeploy"]["functions"]["report"]["triggers"] == []
    assert all(c["LambdaFunctionArn"] == {"Ref": "ResizeFunction.Alias"}
               for r in of_type(dev, RESOURCE_TYPE).values() for c in r["Properties"]["Configurations"])

    prod = sam_template(p, "prod", uris(p))
    report = props(prod, "ReportFunction")
    assert report["AutoPublishAlias"] == "prod"
    assert report["Events"]["Schedule"]["Properties"]["Schedule"] == "cron(0 12 * * ? *)"
    assert report["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    [uploads] = of_type(prod, RESOURCE_TYPE).values()
    targets = sorted(c["LambdaFunctionArn"]["Ref"] for c in uploads["Properties"]["Configurations"])
    assert targets == ["ReportFunction.Alias", "ResizeFunction.Alias"]
    assert len(uploads["DependsOn"]) == 2  # one permission per function


def test_s3_notification_ids_are_the_clis() -> None:
    """The same Id as `push` writes, so a bucket the CLI wired is taken over rather than doubled."""
    p = sample()
    [uploads] = of_type(sam_template(p, "dev", uris(p)), RESOURCE_TYPE).values()
    resize = p.functions[0]
    expected = notification_config(Target(resize.name, "dev", "arn:aws:lambda:us-east-1:1:function:x:dev", False),
                              resize.triggers[0])["Id"]
    assert uploads["Properties"]["Configurations"][0]["Id"] == expected
    assert expected.startswith("lambdadeploy-shop-resize-dev-")


def test_roles() -> None:
    p = project(
        function("a", triggers=(make_trigger("sqs", {"queue": QUEUE}), make_trigger("sqs", {"queue": QUEUE + "2"},
                                                                               alias="prod"))),
        function("b", role=ROLE),
        function("c", role="team/lambda-runner"),
    )
    template = sam_template(p, "dev", uris(p))
    assert props(template, "AFunction")["Role"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert props(template, "BFunction")["Role"] == ROLE
    assert props(template, "CFunction")["Role"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/team/lambda-runner"}
    role = props(template, "ExecutionRole")
    assert "RoleName" not in role  # CloudFormation names it: PROJECT-lambda-exec may exist already
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}]
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Resource"] == [QUEUE]  # the prod-only queue is not exported for dev
    assert "sqs:ReceiveMessage" in statement["Action"]

    own = project(function("b", role=ROLE))
    assert "ExecutionRole" not in sam_template(own, "dev", uris(own))["Resources"]


def test_canary_uses_sams_types_or_a_deployment_config() -> None:
    p = project(function("a"))
    predefined = sam_template(p, "prod", uris(p), canary=CanarySettings(10, 15))
    assert props(predefined, "AFunction")["DeploymentPreference"] == {"Type": "Canary10Percent15Minutes"}
    assert "CanaryDeploymentConfig" not in predefined["Resources"]

    custom = sam_template(p, "prod", uris(p), canary=CanarySettings(25, 7))
    assert props(custom, "AFunction")["DeploymentPreference"] == {"Type": {"Ref": "CanaryDeploymentConfig"}}
    assert props(custom, "CanaryDeploymentConfig") == {
        "ComputePlatform": "Lambda",
        "TrafficRoutingConfig": {"Type": "TimeBasedCanary",
                                 "TimeBasedCanary": {"CanaryPercentage": 25, "CanaryInterval": 7}}}

    assert CanarySettings.from_seconds(10, 300).predefined == "Canary10Percent5Minutes"
    assert CanarySettings.from_seconds(20, 61) == CanarySettings(20, 2)
    for bad in ((0, 5), (100, 5), (12.5, 5), (10, 0)):
        with pytest.raises(InvalidInputError):
            CanarySettings(*bad)  # type: ignore[arg-type]


def test_names_ids_and_input_errors() -> None:
    p = project(function("my-fn"), function("my_fn"), function("3d"))
    template = sam_template(p, "dev", uris(p))
    assert {"MyFnFunction", "MyFnFunction2", "N3dFunction"} <= set(template["Resources"])
    generated = sam_template(p, "dev", uris(p), keep_names=False)
    assert "FunctionName" not in props(generated, "MyFnFunction")

    with pytest.raises(InvalidInputError, match="staging"):
        sam_template(p, "staging", uris(p))
    with pytest.raises(InvalidInputError, match="my_fn"):
        sam_template(p, "dev", {"my-fn": "a.zip", "3d": "b.zip"})


def test_secret_environment_values_become_noecho_parameters() -> None:
    p = project(function("api", environment={"API_TOKEN": "tok-3f9a8b7c", "PLAIN": "visible"}))
    p = dataclasses.replace(p, secret_values=frozenset({"tok-3f9a8b7c"}))
    template = sam_template(p, "dev", uris(p))
    assert props(template, "ApiFunction")["Environment"]["Variables"] == {
        "API_TOKEN": {"Ref": "ApiFunctionEnvAPITOKEN"}, "PLAIN": "visible"}
    assert template["Parameters"]["ApiFunctionEnvAPITOKEN"]["NoEcho"] is True
    assert "tok-3f9a8b7c" not in dump_yaml(template)


def test_custom_resource_code_fits_inline() -> None:
    assert len(HANDLER_CODE) <= 4096  # CloudFormation's limit for Code.ZipFile
    compile(HANDLER_CODE, "index.py", "exec")


def test_yaml_is_plain_data() -> None:
    p = sample()
    template = sam_template(p, "dev", uris(p))
    text = dump_yaml(template)
    assert yaml.safe_load(text) == template
    assert "!" not in text.split("ZipFile")[0] and "&id" not in text  # long-form intrinsics, no anchors


# --- written files and cfn-lint ------------------------------------------------------------

LAMBDA_YAML = f"""\
project: shop
aliases: [dev, prod]
functions:
  resize:
    handler: app.handler
    memory: 512
    environment: {{STAGE: "{{{{ alias }}}}", DB_PASSWORD: hunter2-secret}}
    triggers:
      - s3: {{bucket: uploads, prefix: "in/{{{{ alias }}}}/", suffix: .jpg}}
      - s3: {{bucket: my.archive-2, alias: prod}}
      - sns: {{topic: "{TOPIC}", alias: prod}}
      - schedule: {{expression: "rate(5 minutes)", input: {{ping: true, stage: "{{{{ alias }}}}"}}}}
      - schedule: {{expression: "cron(0 12 * * ? *)", enabled: false, alias: prod}}
      - url: {{auth: NONE, cors: true}}
  jobs:
    handler: app.handler
    architecture: arm64
    role: jobs-runner
    triggers:
      - sqs: {{queue: "{QUEUE}", batch_size: 5, alias: prod}}
      - dynamodb: {{stream: "{TABLE_STREAM}", alias: prod}}
      - kinesis: {{stream: "{KINESIS}", starting_position: TRIM_HORIZON, alias: prod}}
      - s3: {{bucket: uploads, prefix: "jobs/{{{{ alias }}}}/"}}
      - url: {{auth: AWS_IAM, alias: prod}}
  thumbs:
    handler: app.handler
    triggers:
      - sqs: {{queue: "{QUEUE}-thumbs", alias: prod}}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("resize", "jobs", "thumbs"):
        source = tmp_path / "functions" / name
        source.mkdir(parents=True)
        (source / "app.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    (tmp_path / "lambda.yaml").write_text(LAMBDA_YAML)
    return load(tmp_path / "lambda.yaml")


def cfn_lint(path: Path) -> list[str]:
    """Every cfn-lint finding (errors, warnings and informational ones) as text."""
    try:
        from cfnlint.api import lint_file
    except ImportError:  # a missing linter must not pass the test
        pytest.fail("cfn-lint is not installed: pip install -e '.[test]'")
    matches = lint_file(path, config={"include_checks": ["I"], "regions": ["us-east-1", "eu-west-1"]})
    return [f"{m.rule.id} {m.message} ({path.name}:{m.linenumber})" for m in matches]


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation's AWS::Serverless transform makes of the template (after `sam package`).

    cfn-lint checks a SAM template against SAM's schemas only; the transform is where SAM
    rejects, e.g., an S3 event on a bucket outside the template, and its output is plain
    CloudFormation that cfn-lint checks fully (ranges, references)."""
    try:
        import boto3
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
    except ImportError:
        pytest.fail("aws-sam-translator is not installed: pip install -e '.[test]'")
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        code_uri = resource["Properties"].get("CodeUri")
        if resource["Type"] == "AWS::Serverless::Function" and not code_uri.startswith("s3://"):
            resource["Properties"]["CodeUri"] = "s3://artifacts/" + code_uri  # what `sam package` does
    translator = Translator(managed_policy_map={}, sam_parser=Parser(),
                            boto_session=boto3.Session(region_name="us-east-1"))
    return translator.translate(sam_template=template, parameter_values={})


def lint_all(path: Path) -> list[str]:
    """cfn-lint on the SAM template and on its transformed, plain CloudFormation form."""
    transformed = path.with_suffix(".transformed.json")
    transformed.write_text(json.dumps(sam_transform(yaml.safe_load(path.read_text())), indent=1))
    return cfn_lint(path) + cfn_lint(transformed)


@pytest.mark.parametrize(("alias", "canary"), [("dev", None), ("prod", CanarySettings(25, 10))])
def test_written_template_passes_cfn_lint(config: Project, tmp_path: Path, alias: str,
                                          canary: CanarySettings | None) -> None:
    out = tmp_path / "deploy" / "template.yaml"
    text = write_export(config, alias, out, canary=canary)
    assert out.read_text() == text
    template = yaml.safe_load(text)
    zips = sorted((tmp_path / "deploy" / CODE_DIR_NAME).iterdir())
    assert [z.name.rsplit("-", 1)[0] for z in zips] == ["shop-jobs", "shop-resize", "shop-thumbs"]
    for fn in config.functions:
        uri = template["Resources"][f"{fn.key.capitalize()}Function"]["Properties"]["CodeUri"]
        assert (out.parent / uri).is_file() and uri.startswith(f"{CODE_DIR_NAME}/{fn.name}-")
        assert template["Metadata"]["lambdadeploy"]["functions"][fn.key]["codeSha256"]
    assert "hunter2-secret" not in text and "NoEcho" in text
    assert lint_all(out) == []


def test_lint_check_is_not_vacuous(tmp_path: Path) -> None:
    p = project(function("a", timeout=2000))
    path = tmp_path / "bad.yaml"
    path.write_text(dump_yaml(sam_template(p, "dev", uris(p))))
    assert any("900" in finding for finding in lint_all(path))

    # Why S3 triggers are not SAM events: the transform refuses buckets outside the template.
    template = sam_template(p, "dev", uris(p))
    props(template, "AFunction")["Events"] = {"Uploads": {"Type": "S3", "Properties": {
        "Bucket": "uploads", "Events": "s3:ObjectCreated:*"}}}
    with pytest.raises(Exception, match="S3 bucket in the same template"):
        sam_transform(template)


def test_rewrite_replaces_old_zips_and_s3_prefix(config: Project, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "shop-resize-000000000000.zip").write_bytes(b"old")
    (code / "shop-resize-extra-000000000000.zip").write_bytes(b"not ours")
    text = write_export(config, "dev", None, code_dir=code, s3_prefix="s3://artifacts/shop/")
    names = sorted(p.name for p in code.iterdir())
    assert "shop-resize-000000000000.zip" not in names and "shop-resize-extra-000000000000.zip" in names
    uri = yaml.safe_load(text)["Resources"]["ResizeFunction"]["Properties"]["CodeUri"]
    assert uri.startswith("s3://artifacts/shop/shop-resize-") and (code / uri.rsplit("/", 1)[1]).is_file()
    with pytest.raises(InvalidInputError):
        write_export(config, "dev", None, code_dir=code, s3_prefix="artifacts/shop")


def test_the_transform_wires_everything_to_the_alias(config: Project, tmp_path: Path) -> None:
    template = yaml.safe_load(write_export(config, "prod", tmp_path / "t.yaml", canary=CanarySettings(25, 10)))
    resources = sam_transform(template)["Resources"]
    assert resources["ResizeFunctionAliasprod"]["Properties"]["Name"] == "prod"
    uploads = resources["UploadsBucketNotifications"]["Properties"]["Configurations"]
    assert [c["LambdaFunctionArn"] for c in uploads] == [{"Ref": "JobsFunctionAliasprod"},
                                                         {"Ref": "ResizeFunctionAliasprod"}]
    assert resources["JobsFunctionUrl"]["Properties"]["TargetFunctionArn"] == {"Ref": "JobsFunctionAliasprod"}
    assert resources["JobsFunctionSqsJobs"]["Properties"]["FunctionName"] == {"Ref": "JobsFunctionAliasprod"}
    rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert {r["Properties"].get("State", "ENABLED") for r in rules} == {
        "ENABLED", "DISABLED"}
    assert all(r["Properties"]["Targets"][0]["Arn"] == {"Ref": "ResizeFunctionAliasprod"} for r in rules)
    assert resources["ResizeFunctionDeploymentGroup"]["Properties"]["DeploymentConfigName"] == {
        "Ref": "CanaryDeploymentConfig"}


def test_a_public_function_url_is_granted_both_permissions_aws_requires(config: Project, tmp_path: Path) -> None:
    """Since October 2025 a new public URL needs lambda:InvokeFunctionUrl and lambda:InvokeFunction
    (restricted to calls through the URL); the exported template, once transformed, grants both."""
    template = yaml.safe_load(write_export(config, "dev", tmp_path / "t.yaml"))
    resources = sam_transform(template)["Resources"]
    public = sorted((r["Properties"]["Action"], r["Properties"].get("FunctionUrlAuthType"),
                     r["Properties"].get("InvokedViaFunctionUrl")) for r in resources.values()
                    if r["Type"] == "AWS::Lambda::Permission" and r["Properties"].get("Principal") == "*"
                    and r["Properties"]["FunctionName"] == {"Ref": "ResizeFunctionAliasdev"})
    assert public == [("lambda:InvokeFunction", None, True), ("lambda:InvokeFunctionUrl", "NONE", None)]


SECRET_YAML = f"""\
project: shop
aliases: [dev, prod]
functions:
  api:
    handler: app.handler
    description: "calls {{{{ env.PARTNER }}}} with key {{{{ env.API_KEY }}}}"
    role: "{{{{ env.ROLE }}}}"
    memory: {{{{ env.MEMORY }}}}
    environment: {{API_KEY: "{{{{ env.API_KEY }}}}", PLAIN: visible}}
    tags: {{owner: "{{{{ env.API_KEY }}}}", team: "team-{{{{ env.PARTNER }}}}"}}
    triggers:
      - sqs: {{queue: "{QUEUE}-{{{{ env.PARTNER }}}}", alias: dev}}
      - s3: {{bucket: "{{{{ env.BUCKET }}}}", alias: dev}}
      - schedule: {{expression: "rate(5 minutes)", input: {{token: "{{{{ env.API_KEY }}}}"}}, alias: dev}}
"""
SECRET_ENV = {"API_KEY": "k3y-5ecr3t-value", "PARTNER": "acme-partner", "ROLE": ROLE, "MEMORY": "1024",
              "BUCKET": "private-bucket-77"}


def test_a_secret_anywhere_is_a_noecho_parameter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdadeploy.config import RenderContext

    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "functions" / "api").mkdir(parents=True)
    (tmp_path / "functions" / "api" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text(SECRET_YAML)
    p = load(tmp_path / "lambda.yaml", RenderContext(env=SECRET_ENV))
    out = tmp_path / "deploy" / "template.yaml"
    text = write_export(p, "dev", out)
    for name, value in SECRET_ENV.items():
        assert value not in text, f"{name} written in clear"
    template = yaml.safe_load(text)
    parameters = template["Parameters"]
    assert all(parameter["NoEcho"] is True for parameter in parameters.values())
    api = props(template, "ApiFunction")
    key = api["Environment"]["Variables"]["API_KEY"]["Ref"]
    assert api["Tags"]["owner"] == {"Ref": key}  # one parameter per secret value
    assert api["Role"] == {"Ref": next(n for n in parameters if "Role" in n)}
    assert api["MemorySize"]["Ref"] in parameters and parameters[api["MemorySize"]["Ref"]]["Type"] == "Number"
    partner = api["Tags"]["team"]["Fn::Sub"].removeprefix("team-${").removesuffix("}")
    assert partner in parameters and partner != key
    assert api["Description"] == {"Fn::Sub": f"calls ${{{partner}}} with key ${{{key}}}"}
    # Not even as a logical id made from it (a queue or bucket name -> AcmePartner, PrivateBucket77).
    squashed = text.lower().replace("-", "")
    assert not [name for name, value in SECRET_ENV.items()
                if name != "MEMORY" and value.lower().replace("-", "") in squashed]
    assert api["Environment"]["Variables"]["PLAIN"] == "visible"
    # What CloudFormation makes of it is valid, and wires the parameters through.
    assert lint_all(out) == []


def test_a_secret_used_as_a_name_is_refused(tmp_path: Path) -> None:
    p = project(function("api", tags={"k3y-5ecr3t-value": "x"}))
    p = dataclasses.replace(p, secret_values=frozenset({"k3y-5ecr3t-value"}))
    with pytest.raises(InvalidInputError) as caught:
        sam_template(p, "dev", uris(p))
    assert "Tags" in caught.value.message and "k3y-5ecr3t-value" not in caught.value.render()


SETTINGS_YAML = f"""\
project: shop
aliases: [dev, prod]
defaults:
  environment: {{STAGE: "{{{{ alias }}}}", LOG: info}}
  tracing: active
functions:
  api:
    handler: app.handler
    environment: {{LOG: debug}}
    vpc: {{subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1], security_groups: [sg-0123456789abcdef0]}}
    ephemeral_storage: 2048
    logging: {{format: json, level: warn, system_level: info, retention_days: 14}}
    dead_letter: "{QUEUE}"
    async: {{retries: 0, max_event_age: 3600, on_success: "{TOPIC}", on_failure: "{QUEUE}"}}
    reserved_concurrency: 10
    provisioned_concurrency: {{prod: 2}}
    kms_key: arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab
    file_system: {{arn: "arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:access-point/fsap-0123456789abcdef0", \
mount: /mnt/data}}
    runtime_management: {{update: function_update}}
    policies:
      - {{Effect: Allow, Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"}}
  cold:
    handler: app.handler
    runtime: python3.12
    snap_start: true
    tracing: passthrough
    logging: {{format: text, group: /shop/cold, retention_days: 7}}
"""


@pytest.mark.parametrize("alias", ["dev", "prod"])
def test_every_function_setting_is_exported_and_passes_the_transform_and_cfn_lint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alias: str) -> None:
    monkeypatch.setenv("LAMBDADEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("api", "cold"):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lambda.yaml").write_text(SETTINGS_YAML)
    out = tmp_path / "deploy" / "template.yaml"
    template = yaml.safe_load(write_export(load(tmp_path / "lambda.yaml", RenderContext(alias=alias)), alias, out))
    assert lint_all(out) == []
    resources = sam_transform(template)["Resources"]
    api = resources["ApiFunction"]["Properties"]
    assert api["Environment"]["Variables"] == {"STAGE": alias, "LOG": "debug"}  # defaults merged, the function wins
    assert api["VpcConfig"]["SubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    assert (api["EphemeralStorage"], api["TracingConfig"]) == ({"Size": 2048}, {"Mode": "Active"})
    assert api["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO"}
    assert api["DeadLetterConfig"] == {"TargetArn": QUEUE}
    assert api["ReservedConcurrentExecutions"] == 10
    assert api["KmsKeyArn"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert api["FileSystemConfigs"][0]["LocalMountPath"] == "/mnt/data"
    assert api["RuntimeManagementConfig"] == {"UpdateRuntimeOn": "FunctionUpdate"}
    assert api["Role"] == {"Fn::GetAtt": ["ApiFunctionExecutionRole", "Arn"]}
    statements = [s for p in resources["ApiFunctionExecutionRole"]["Properties"]["Policies"]
                  for s in p["PolicyDocument"]["Statement"]]
    assert any(s["Action"] == ["dynamodb:GetItem"] for s in statements), statements
    provisioned = resources[f"ApiFunctionAlias{alias}"]["Properties"].get("ProvisionedConcurrencyConfig")
    assert provisioned == ({"ProvisionedConcurrentExecutions": 2} if alias == "prod" else None)
    (invoke,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert (invoke["Qualifier"], invoke["MaximumRetryAttempts"]) == (alias, 0)
    assert invoke["DestinationConfig"] == {"OnSuccess": {"Destination": TOPIC}, "OnFailure": {"Destination": QUEUE}}
    cold = resources["ColdFunction"]["Properties"]
    assert cold["SnapStart"] == {"ApplyOn": "PublishedVersions"} and "TracingConfig" not in cold
    groups = {r["Properties"]["RetentionInDays"]: r["Properties"]["LogGroupName"] for r in resources.values()
              if r["Type"] == "AWS::Logs::LogGroup"}
    assert groups == {14: "/aws/lambda/shop-api", 7: "/shop/cold"}
