"""Every AWS call of plan, push (with triggers and a layer), promote, rollback, a watched canary and
a push that removes the triggers is allowed by `ci_policy` of the config: recorded with botocore
events, checked by a small IAM evaluator (action, resource, the condition keys the policy uses).

Why not moto's own IAM enforcement: moto 5.1's rejects every signed Lambda request after the
first with SignatureDoesNotMatch, evaluates other services only against Resource "*" (except IAM
roles, SQS queues and S3), evaluates no condition key without a value, and names CloudWatch's
actions `monitoring:*`. It cannot tell a least-privilege policy from a broken one, so this
evaluator does that job."""

from __future__ import annotations

import dataclasses
import fnmatch
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from lambdadeploy.aws import AwsSession
from lambdadeploy.config.model import Project
from lambdadeploy.engine.deploy import Deployer
from lambdadeploy.engine.execute import Executor
from lambdadeploy.engine.plan import FunctionPlan, Rollout
from lambdadeploy.engine.remote import read_function
from lambdadeploy.engine.triggers import plan_triggers, read_triggers
from lambdadeploy.iam.ci_policy import ci_policy

from .conftest import write_project

SERVICES = ("lambda", "iam", "sts", "s3", "sns", "events", "sqs", "dynamodb", "kinesis", "logs", "cloudwatch",
            "apigatewayv2")
# API operation -> IAM action, where the names differ.
ACTION_NAMES = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "s3:PutBucketNotification",
    ("monitoring", "GetMetricStatistics"): "cloudwatch:GetMetricStatistics",  # CloudWatch signs as monitoring
    ("monitoring", "DescribeAlarms"): "cloudwatch:DescribeAlarms",
}


@dataclass(frozen=True)
class Request:
    """One authorisation check: an IAM action on a resource, with the condition keys AWS would set."""

    operation: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class Recorder:
    """Turns each client call into the IAM requests it needs."""

    account: str
    region: str
    requests: list[Request] = field(default_factory=list)
    mapping_functions: dict[str, str] = field(default_factory=dict)  # event source mapping UUID -> function ARN

    def install(self, session: AwsSession) -> None:
        for service in SERVICES:
            events = session.client(service).meta.events
            events.register("before-parameter-build.*.*", self.before)
            events.register("after-call.*.*", self.after)

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.signing_name
        name = model.name
        action = ACTION_NAMES.get((service, name), f"{service}:{name}")
        if service == "apigateway":  # API Gateway's IAM actions are the HTTP verbs on the request's path
            action = f"apigateway:{model.http['method']}"
        context: dict[str, str] = {}
        resource = self.resource(service, name, params, model)
        if service == "lambda" and name in ("CreateEventSourceMapping", "UpdateEventSourceMapping",
                                            "DeleteEventSourceMapping"):
            context["lambda:FunctionArn"] = self.function_arn(params.get("FunctionName")) if "FunctionName" in params \
                else self.mapping_functions.get(params.get("UUID", ""), "?")
        if service == "lambda" and name == "AddPermission":
            context["lambda:Principal"] = params["Principal"]
        operation = f"{service}:{name}"
        self.requests.append(Request(operation, action, resource, tuple(sorted(context.items()))))
        if service == "lambda" and name in ("CreateFunction", "UpdateFunctionConfiguration") and params.get("Role"):
            # Lambda checks iam:PassRole on the role the function is given.
            self.requests.append(Request(operation, "iam:PassRole", params["Role"],
                                         (("iam:PassedToService", "lambda.amazonaws.com"),)))
        if service == "lambda" and name in ("CreateFunction", "UpdateFunctionConfiguration"):
            # ... and lambda:GetLayerVersion on each layer it is given.
            self.requests += [Request(operation, "lambda:GetLayerVersion", arn) for arn in params.get("Layers") or []]
            # ... the subnets and security groups of a VPC, a KMS key's grant, a file system's mount targets.
            if (params.get("VpcConfig") or {}).get("SubnetIds"):
                self.requests += [Request(operation, action, "*") for action in (
                    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")]
            if params.get("KMSKeyArn"):
                self.requests.append(Request(operation, "kms:CreateGrant", params["KMSKeyArn"]))
            if params.get("FileSystemConfigs"):
                self.requests.append(Request(operation, "elasticfilesystem:DescribeMountTargets", "*"))

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        for mapping in [parsed, *(parsed.get("EventSourceMappings") or [])]:
            if isinstance(mapping, dict) and mapping.get("UUID") and mapping.get("FunctionArn"):
                self.mapping_functions[mapping["UUID"]] = mapping["FunctionArn"]

    def function_arn(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def resource(self, service: str, name: str, params: dict[str, Any], model: Any = None) -> str:
        if service == "lambda":
            if "UUID" in params:
                return f"arn:aws:lambda:{self.region}:{self.account}:event-source-mapping:{params['UUID']}"
            if "Resource" in params:  # TagResource, UntagResource, ListTags
                return params["Resource"]
            if "LayerName" in params:  # Publish/ListLayerVersions: the layer; Get/DeleteLayerVersion: a version
                name = params["LayerName"]
                layer = name if name.startswith("arn:") else f"arn:aws:lambda:{self.region}:{self.account}:layer:{name}"
                return f"{layer}:{params['VersionNumber']}" if "VersionNumber" in params else layer
            if name in ("ListEventSourceMappings", "CreateEventSourceMapping") or "FunctionName" not in params:
                return "*"
            arn = self.function_arn(params["FunctionName"])
            return f"{arn}:{params['Qualifier']}" if params.get("Qualifier") else arn
        if service == "s3":
            return f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
        if service == "sns":
            return params.get("TopicArn") or params.get("SubscriptionArn") or "*"
        if service == "monitoring":  # CloudWatch: GetMetricStatistics takes no resource; alarms are read by name
            return "*"
        if service == "events":
            rule = params.get("Rule") or params.get("Name")
            return f"arn:aws:events:{self.region}:{self.account}:rule/{rule}" if rule else "*"
        if service == "sqs":  # the queue, named by its URL (.../ACCOUNT/NAME) or by name and owner
            if "QueueUrl" in params:
                account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
            else:
                account, name = params.get("QueueOwnerAWSAccountId", self.account), params["QueueName"]
            return f"arn:aws:sqs:{self.region}:{account}:{name}"
        if service == "apigateway":  # arn:aws:apigateway:REGION::/apis/ID/routes/ID, from the request's URI
            uri = model.http["requestUri"].split("?")[0]
            for member, shape in model.input_shape.members.items():
                if shape.serialization.get("location") == "uri" and member in params:
                    uri = uri.replace("{" + shape.serialization["name"] + "}", str(params[member]))
            return f"arn:aws:apigateway:{self.region}::{uri.removeprefix('/v2')}"
        if service == "iam" and "RoleName" in params:
            return f"arn:aws:iam::{self.account}:role/{params['RoleName']}"
        if service == "logs":
            group = params.get("logGroupName")
            return f"arn:aws:logs:{self.region}:{self.account}:log-group:{group or '*'}"
        return "*"


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            if key not in context:
                return False
            value = context[key]
            if operator == "StringEquals" and value not in listed(wanted):
                return False
            if operator == "ArnLike" and not any(fnmatch.fnmatchcase(value, w) for w in listed(wanted)):
                return False
            if operator not in ("StringEquals", "ArnLike"):
                raise AssertionError(f"evaluator does not know {operator}")
    return True


def allows(policy: dict[str, Any], request: Request) -> bool:
    context = dict(request.context)
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or request.action not in listed(statement["Action"]):
            continue
        if not any(fnmatch.fnmatchcase(request.resource, pattern) for pattern in listed(statement["Resource"])):
            continue
        if condition_holds(statement.get("Condition") or {}, context):
            return True
    return False


def create_sources(session: AwsSession) -> dict[str, str]:
    session.client("s3").create_bucket(Bucket="uploads")
    topic = session.client("sns").create_topic(Name="thumbs")["TopicArn"]
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    kinesis = session.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    return {"topic": topic, "queue": queue, "stream": stream}


def wire(session: AwsSession, project: Project, alias: str) -> None:
    """Read, plan and apply the alias's triggers, as every push does after moving the alias."""
    for fn in project.functions:
        remote = read_function(session, fn.name)
        steps = plan_triggers(fn, alias, read_triggers(session, fn, remote, alias), remote.tags)
        assert Executor(session, lambda event: None).run(FunctionPlan(fn, steps, alias, None, ""), None).failure is None


def test_every_call_of_the_deploy_workflows_is_allowed_by_the_ci_policy(session: AwsSession, tmp_path: Path) -> None:
    sources = create_sources(session)
    triggers = f"""
    triggers:
      - s3: {{alias: dev, bucket: uploads, prefix: in/}}
      - sns: {{alias: dev, topic: "{sources['topic']}", filter_policy: {{kind: [a]}}}}
      - sqs: {{alias: dev, queue: "{sources['queue']}", batch_size: 5}}
      - kinesis: {{alias: dev, stream: "{sources['stream']}"}}
      - schedule: {{alias: dev, expression: "rate(1 hour)", input: {{x: 1}}}}
      - url: {{auth: NONE}}
    """
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("python/extra.py", "VALUE = 1\n")
    layer = session.client("lambda").publish_layer_version(LayerName="shared", Content={"ZipFile": zipped.getvalue()})
    triggers = f"    layers: ['{layer['LayerVersionArn']}']" + triggers
    with_triggers = write_project(tmp_path, "return 1", triggers)
    recorder = Recorder("", session.region)
    recorder.install(session)
    recorder.account = session.account_id()  # recorded: the CI user makes this call too
    events: list[Any] = []

    def deployer(project: Project) -> Deployer:
        return Deployer(session, project, events.append)

    assert deployer(with_triggers).plan(with_triggers.functions, "dev").ok
    for fn in with_triggers.functions:
        read_triggers(session, fn, read_function(session, fn.name), "dev")
    assert all(r.ok for r in deployer(with_triggers).push(with_triggers.functions, "dev"))
    wire(session, with_triggers, "dev")
    changed = write_project(tmp_path, "return 2", triggers)
    assert all(r.ok for r in deployer(changed).push(changed.functions, "dev"))
    wire(session, changed, "dev")
    assert all(r.ok for r in deployer(changed).promote(changed.functions, "dev", "prod"))
    wire(session, changed, "prod")
    assert all(r.ok for r in deployer(changed).rollback(changed.functions, "dev", None))
    boto3.client("cloudwatch", region_name=session.region).put_metric_alarm(  # setup: not recorded
        AlarmName="p99", MetricName="Duration", Namespace="AWS/Lambda", Statistic="Maximum", Period=60,
        EvaluationPeriods=1, Threshold=1000, ComparisonOperator="GreaterThanThreshold")
    canary = write_project(tmp_path, "return 3", triggers)
    rollout = Rollout(10, watch_seconds=1, alarms=("p99",), metrics_delay=0)
    assert all(r.ok for r in deployer(canary).push(canary.functions, "dev", rollout=rollout))
    without = write_project(tmp_path, "return 2", "triggers: []")
    assert all(r.ok for r in deployer(without).push(without.functions, "dev"))
    wire(session, without, "dev")
    wire(session, without, "prod")

    operations = {r.operation for r in recorder.requests}
    # The run covered creating, changing and removing every kind of wiring.
    assert {
        "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:Invoke",
        "lambda:CreateAlias", "lambda:UpdateAlias", "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "lambda:AddPermission", "lambda:RemovePermission", "s3:PutBucketNotificationConfiguration",
        "sns:Subscribe", "sns:Unsubscribe", "lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping",
        "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule",
        "lambda:CreateFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig", "sts:GetCallerIdentity",
        "monitoring:GetMetricStatistics", "monitoring:DescribeAlarms",
    } <= operations
    # Of the sources' services the tool only reads a queue's visibility timeout (pre-flight).
    assert {op for op in operations if op.split(":")[0] in ("sqs", "dynamodb", "kinesis")} == {
        "sqs:GetQueueUrl", "sqs:GetQueueAttributes"}

    policy = ci_policy(with_triggers, session.account_id(), session.region)
    denied = sorted({(r.operation, r.action, r.resource) for r in recorder.requests if not allows(policy, r)})
    assert denied == []

    # The evaluator is not vacuous: what the config does not need is refused.
    outside = [
        Request("lambda:DeleteFunction", "lambda:DeleteFunction", recorder.function_arn("t-worker")),
        Request("lambda:UpdateFunctionCode", "lambda:UpdateFunctionCode", recorder.function_arn("other")),
        Request("s3:PutBucketNotificationConfiguration", "s3:PutBucketNotification", "arn:aws:s3:::other"),
        Request("iam:PassRole", "iam:PassRole", f"arn:aws:iam::{session.account_id()}:role/admin",
                (("iam:PassedToService", "lambda.amazonaws.com"),)),
        Request("iam:PassRole", "iam:PassRole", f"arn:aws:iam::{session.account_id()}:role/t-lambda-exec",
                (("iam:PassedToService", "ec2.amazonaws.com"),)),
        Request("lambda:CreateEventSourceMapping", "lambda:CreateEventSourceMapping", "*",
                (("lambda:FunctionArn", recorder.function_arn("other")),)),
        Request("events:PutRule", "events:PutRule", f"arn:aws:events:{session.region}:{session.account_id()}:rule/x"),
    ]
    assert [r.operation for r in outside if allows(policy, r)] == []


def test_project_layer_calls_are_allowed_by_the_ci_policy_and_no_other_layer(session: AwsSession,
                                                                             tmp_path: Path) -> None:
    """plan, push (publishing), an unchanged push (reusing, confirmed by GetLayerVersion), a change,
    promote and a prune of layer versions, each call checked against the policy."""
    from .test_project_layers import write_layered

    recorder = Recorder("", session.region)
    recorder.install(session)
    recorder.account = session.account_id()
    project = write_layered(tmp_path)
    assert Deployer(session, project, lambda e: None).plan(project.functions, "dev").ok
    for greeting in ("hello", "hello", "bonjour"):
        project = write_layered(tmp_path, greeting=greeting)
        assert Deployer(session, project, lambda e: None).push(project.functions, "dev").ok
    assert all(r.ok for r in Deployer(session, project, lambda e: None).promote(project.functions, "dev", "prod"))
    deployer = Deployer(session, project, lambda e: None)
    deployer.prune_layers({"common": (1,)})

    operations = {r.operation for r in recorder.requests}
    assert {"lambda:PublishLayerVersion", "lambda:ListLayerVersions", "lambda:GetLayerVersion",
            "lambda:DeleteLayerVersion"} <= operations
    policy = ci_policy(project, session.account_id(), session.region)
    denied = sorted({(r.operation, r.action, r.resource) for r in recorder.requests if not allows(policy, r)})
    assert denied == []
    layer = f"arn:aws:lambda:{session.region}:{session.account_id()}:layer"
    outside = [Request("lambda:PublishLayerVersion", "lambda:PublishLayerVersion", f"{layer}:someone-elses"),
               Request("lambda:DeleteLayerVersion", "lambda:DeleteLayerVersion", f"{layer}:t-commonx:1")]
    assert [r.resource for r in outside if allows(policy, r)] == []


HTTP_CONFIG = """\
project: t
aliases: [dev, prod]
functions:
  list:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: [ROUTES], cors: CORS}
  create:
    handler: app.handler
    triggers:
      - http: {api: shop, routes: "POST /items", auth: AUTH}
"""


def http_project(root: Path, routes: str, cors: str, auth: str) -> Project:
    from lambdadeploy.config import load
    from lambdadeploy.config.load import RenderContext

    for name in ("list", "create"):
        (root / "functions" / name).mkdir(parents=True, exist_ok=True)
        (root / "functions" / name / "app.py").write_text("def handler(event, context):\n    return 1\n")
    text = HTTP_CONFIG.replace("ROUTES", routes).replace("CORS", cors).replace("AUTH", auth)
    (root / "lambda.yaml").write_text(text if routes else "project: t\naliases: [dev, prod]\nfunctions:\n"
                                      "  list: {handler: app.handler}\n  create: {handler: app.handler}\n")
    return load(root / "lambda.yaml", RenderContext(alias="dev"))


def test_every_call_wiring_http_apis_is_allowed_by_the_ci_policy(session: AwsSession, tmp_path: Path) -> None:
    jwt = '{jwt: {issuer: "https://id.example.com/", audience: [shop]}}'
    first = http_project(tmp_path, '"GET /items", "GET /items/{id}"', "true", jwt)
    policy = ci_policy(first, session.account_id(), session.region)
    recorder = Recorder(session.account_id(), session.region)
    recorder.install(session)
    for project, alias in ((first, "dev"), (first, "prod"),
                           (http_project(tmp_path, '"GET /items"', "false", "iam"), "dev"),
                           (http_project(tmp_path, "", "", ""), "dev"), (http_project(tmp_path, "", "", ""), "prod")):
        assert all(r.ok for r in Deployer(session, project, lambda event: None).push(project.functions, alias))
    operations = {r.operation for r in recorder.requests if r.operation.startswith("apigateway:")}
    assert {"apigateway:CreateApi", "apigateway:GetApis", "apigateway:CreateStage", "apigateway:GetStage",
            "apigateway:CreateIntegration", "apigateway:CreateAuthorizer", "apigateway:GetAuthorizers",
            "apigateway:CreateRoute", "apigateway:UpdateRoute", "apigateway:DeleteRoute", "apigateway:DeleteAuthorizer",
            "apigateway:DeleteIntegration", "apigateway:DeleteCorsConfiguration", "apigateway:DeleteApi"} <= operations
    denied = sorted({(r.operation, r.action, r.resource) for r in recorder.requests if not allows(policy, r)})
    assert denied == []
    assert not allows(policy, Request("apigateway:DeleteApi", "apigateway:DELETE", "arn:aws:apigateway:eu-west-1::/apis/x"))


def test_every_call_managing_custom_domains_is_allowed_by_the_ci_policy(session: AwsSession, tmp_path: Path) -> None:
    """Create, map, move and remove custom domains (and release the API with its mapping), as the CI user."""
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    domains = (f'{{prod: {{name: api.example.com, certificate: "{cert}", path: v1}}, '
               f'dev: {{name: dev-api.example.com, certificate: "{cert}"}}}}')
    with_domains = http_project(tmp_path, '"GET /items"', f"true, domains: {domains}", f"none, domains: {domains}")
    policy = ci_policy(with_domains, session.account_id(), session.region)
    recorder = Recorder(session.account_id(), session.region)
    recorder.install(session)
    for project, alias in ((with_domains, "dev"), (with_domains, "prod"),
                           (http_project(tmp_path, '"GET /items"', "true", "none"), "dev"),
                           (http_project(tmp_path, "", "", ""), "prod")):
        assert all(r.ok for r in Deployer(session, project, lambda event: None).push(project.functions, alias))
    operations = {r.operation for r in recorder.requests if r.operation.startswith("apigateway:")}
    assert {"apigateway:CreateDomainName", "apigateway:GetDomainName", "apigateway:CreateApiMapping",
            "apigateway:GetApiMappings", "apigateway:DeleteApiMapping", "apigateway:DeleteDomainName",
            "apigateway:UpdateStage"} <= operations
    denied = sorted({(r.operation, r.action, r.resource) for r in recorder.requests if not allows(policy, r)})
    assert denied == []
    assert session.client("apigatewayv2").get_domain_names()["Items"] == []


def test_every_call_of_the_settings_is_allowed_by_the_ci_policy(session: AwsSession, tmp_path: Path) -> None:
    """Push, change, promote, roll back and remove every function setting, as the CI user."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="functions", VpcId=vpc)["GroupId"]
    sqs = session.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="failed")["QueueUrl"],
                                     AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    iam = session.client("iam")
    iam.create_role(RoleName="mine", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.attach_role_policy(RoleName="mine", PolicyArn=(
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"))
    iam.put_role_policy(RoleName="mine", PolicyName="dlq", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}'))

    def settings(retention: int, provisioned: int, second: bool = True, body: str = "return 1") -> Project:
        common = f"""
        vpc: {{subnets: [{subnet}], security_groups: [{group}]}}
        tracing: active
        logging: {{format: json, retention_days: {retention}}}
        dead_letter: {queue}
        async: {{retries: 0, on_failure: {queue}}}
        reserved_concurrency: 5
        provisioned_concurrency: {{prod: {provisioned}, dev: 1}}
        kms_key: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
        runtime_management: {{update: function_update}}"""
        first = write_project(tmp_path, body, common + """
        policies: [{Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/t"}]""",
                              functions=("a",))
        if not second:
            return first
        both = write_project(tmp_path, "return 1", common + "\n        role: mine", functions=("b",))
        return dataclasses.replace(first, functions=first.functions + both.functions)

    with_settings = settings(7, 2)
    assert [fn.role for fn in with_settings.functions] == [None, "mine"]
    recorder = Recorder("", session.region)
    recorder.install(session)
    recorder.account = session.account_id()

    def deployer(project: Project) -> Deployer:
        return Deployer(session, project, [].append)

    assert deployer(with_settings).plan(with_settings.functions, "dev").ok
    first = deployer(with_settings).push(with_settings.functions, "dev")
    assert all(r.ok for r in first), [r.error for r in first]
    assert all(r.ok for r in deployer(with_settings).push(with_settings.functions, "dev")), "unchanged push"
    assert all(r.ok for r in deployer(with_settings).promote(with_settings.functions, "dev", "prod")), "promote"
    # New code too, so prod gets a version it can be rolled back from.
    changed = settings(14, 3, second=False, body="return 3")
    assert all(r.ok for r in deployer(changed).push(changed.functions, "prod")), "changed push"
    back = deployer(changed).rollback(changed.functions, "prod", None)
    assert all(r.ok for r in back), [r.error for r in back]
    # Its own policies stay, so its role is kept in step: VPC and X-Ray access detached.
    without = write_project(tmp_path, "return 2", """
        policies: [{Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/t"}]""",
                            functions=("a",))
    assert all(r.ok for r in deployer(without).push(without.functions, "prod")), "settings removed"

    operations = {r.operation for r in recorder.requests}
    assert {
        "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:PutProvisionedConcurrencyConfig",
        "lambda:GetProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig",
        "lambda:PutFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig", "lambda:PutRuntimeManagementConfig",
        "lambda:GetRuntimeManagementConfig", "logs:DescribeLogGroups", "logs:CreateLogGroup",
        "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "iam:ListRolePolicies", "iam:DetachRolePolicy",
    } <= operations, operations
    policy = ci_policy(with_settings, session.account_id(), session.region)
    denied = sorted({(r.operation, r.action, r.resource) for r in recorder.requests if not allows(policy, r)})
    assert denied == []
