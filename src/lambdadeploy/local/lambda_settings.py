"""The sandbox's function settings, as AWS keeps and checks them (moto 5.x does not).

moto stores VpcConfig, TracingConfig, EphemeralStorage and KMSKeyArn at creation only
(UpdateFunctionConfiguration drops all but VpcConfig), never stores DeadLetterConfig,
LoggingConfig, FileSystemConfigs or SnapStart, answers a fixed VpcId, and loses a reserved
concurrency of 0 from GetFunction. Here:

- CreateFunction and UpdateFunctionConfiguration keep every one of those settings; each
  published version freezes its own (moto copies the function object: the settings live in
  one dict that is replaced, never changed in place, so versions keep theirs);
- they are refused as AWS refuses them: subnets and security groups that do not exist or
  are in different VPCs, an execution role that may not create network interfaces (VPC) or
  send to the dead-letter queue, log levels with Text logs, a file system without a VPC,
  SnapStart on a runtime or with a setting it excludes (awsrules/lambda_settings.py);
- SnapStart versions report OptimizationStatus On; GetFunction keeps Concurrency at 0, and
  a function throttled to 0 refuses every Invoke (429, as Lambda does);
- a VPC function's network interfaces are made after the request, as Lambda makes them: for
  a moment after a create with VpcConfig the function is State Pending, after an update that
  changes VpcConfig its LastUpdateStatus is InProgress, and UpdateFunctionConfiguration,
  UpdateFunctionCode and PublishVersion meanwhile are refused with ResourceConflictException
  (so a tool that does not wait for Active/Successful fails here as on AWS); a SnapStart
  version is Pending for a moment after PublishVersion, and invoking it is refused meanwhile;
- CloudWatch Logs' PutRetentionPolicy takes only the periods CloudWatch accepts.

The APIs moto lacks (provisioned concurrency, runtime management) and asynchronous
invocation per qualifier are in lambda_settings_routes.py. `install` is called once, by
seam.install_invoke_seam, so the sandbox server and in-process tests (tests/aws) share it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..awsrules import Violation, lambda_api
from ..awsrules import lambda_settings as aws
from . import lambda_settings_routes as routes
from .lambda_settings_routes import SETTINGS_ATTRIBUTE, settings_of

# How long a VPC set-up or a SnapStart snapshot keeps a function Pending / InProgress: long enough that a
# push is seen waiting, short enough for tests (AWS takes seconds to a minute or two).
SETTLING_SECONDS = 0.3
SETTLING_ATTRIBUTE = "_lambdadeploy_settling"  # on a moto LambdaFunction: (monotonic deadline, "create"|"update")
PENDING = {"State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating"}
IN_PROGRESS = {"LastUpdateStatus": "InProgress", "LastUpdateStatusReason": "The function is being created.",
               "LastUpdateStatusReasonCode": "Creating"}
DLQ_ACTIONS = {"sqs": ("sqs:SendMessage", "SendMessage on SQS"), "sns": ("sns:Publish", "Publish on SNS")}


def _no_qualifier() -> str | None:
    return None


# The ?Qualifier= of the Invoke being served, which moto 5.2 does not pass on: the seam, which
# reads it, sets this when it installs the module (the seam imports this module, not the reverse).
requested_qualifier: Callable[[], str | None] = _no_qualifier


def install() -> None:
    """Patch moto's functions, their configuration answers, Invoke and PutRetentionPolicy
    (idempotent: called under the seam's lock, once per process).

    Long because the patches are closures over moto's originals, kept together so what is
    replaced reads as one list."""
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.logs.models import LogsBackend

    init, update, configuration, code = (LambdaFunction.__init__, LambdaFunction.update_configuration,
                                         LambdaFunction.get_configuration, LambdaFunction.get_code)
    update_code, publish = LambdaFunction.update_function_code, LambdaBackend.publish_version
    backend_invoke, put_retention = LambdaBackend.invoke, LogsBackend.put_retention_policy

    def create(self: Any, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
        init(self, account_id, spec, region, version)
        _check(self, spec, creating=True)
        _keep(self, spec)
        if str(self.version) == "$LATEST" and (spec.get("VpcConfig") or {}).get("SubnetIds"):
            _settle(self, "create")

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        _refuse_while_settling(self)
        _check(self, config_updates, creating=False)
        before = _subnets_and_groups(self.vpc_config)
        _keep(self, config_updates)
        answer = update(self, config_updates)
        if "VpcConfig" in config_updates and _subnets_and_groups(config_updates["VpcConfig"]) != before:
            _settle(self, "update")
            answer.update(IN_PROGRESS)
        return answer

    def update_function_code(self: Any, updated_spec: dict[str, Any]) -> dict[str, Any]:
        _refuse_while_settling(self)
        return update_code(self, updated_spec)

    def publish_version(self: Any, function_name: str, description: str = "") -> Any:
        latest = self.get_function(function_name.split(":function:")[-1].split(":")[0])
        _refuse_while_settling(latest)
        version = publish(self, function_name, description)
        # A SnapStart version is Pending while Lambda initializes it and takes the snapshot
        # (an unchanged $LATEST answers its last version again, whose snapshot is taken).
        if version is not None and settings_of(version).get("SnapStart") == "PublishedVersions" \
                and getattr(version, SETTLING_ATTRIBUTE, (0.0, ""))[1] != "snapshot":
            _settle(version, "snapshot")
        return version

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        answer = _with_settings(self, configuration(self, on_create))
        settling = _settling(self)
        if settling is not None:
            answer.update(IN_PROGRESS if settling == "update" else PENDING)
        return answer

    def get_code(self: Any) -> dict[str, Any]:
        answer = code(self)
        if self.reserved_concurrency is not None:  # moto leaves out 0, the most important value
            answer["Concurrency"] = {"ReservedConcurrentExecutions": int(self.reserved_concurrency)}
        return answer

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> Any:
        latest = self.get_function(function_name.split(":function:")[-1].split(":")[0])
        target = _quietly(lambda: self.get_function(function_name, qualifier or requested_qualifier()))
        if target is not None and _settling(target) is not None:  # Lambda refuses to invoke it yet
            raise routes.error(lambda_api.state_conflict("Pending"))
        if latest.reserved_concurrency is not None and int(latest.reserved_concurrency) == 0:
            raise routes.error(Violation("TooManyRequestsException", "Rate Exceeded.", 429),
                               Reason="ReservedFunctionConcurrentInvocationLimitExceeded")
        return backend_invoke(self, function_name, qualifier, body, headers, response_headers)

    def put_retention_policy(self: Any, log_group_name: str, retention_in_days: Any) -> None:
        if (found := aws.retention_violation(retention_in_days)) is not None:
            from moto.logs.exceptions import InvalidParameterException

            raise InvalidParameterException(msg=found.message)
        put_retention(self, log_group_name, retention_in_days)

    LambdaFunction.__init__ = create
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.get_code = get_code
    LambdaFunction.update_function_code = update_function_code
    LambdaBackend.publish_version = publish_version
    LambdaBackend.invoke = invoke
    LogsBackend.put_retention_policy = put_retention_policy
    routes.install()


def _settle(fn: Any, kind: str) -> None:
    setattr(fn, SETTLING_ATTRIBUTE, (time.monotonic() + SETTLING_SECONDS, kind))


def _settling(fn: Any) -> str | None:
    """"create" or "update" while $LATEST's network interfaces are being made, "snapshot" while a
    SnapStart version's snapshot is taken, else None."""
    deadline, kind = getattr(fn, SETTLING_ATTRIBUTE, (0.0, ""))
    return kind if time.monotonic() < deadline else None


def _quietly(find: Any) -> Any:
    try:
        return find()
    except Exception:  # an unknown function or qualifier: moto's invoke answers that
        return None


def _refuse_while_settling(fn: Any) -> None:
    settling = _settling(fn)
    if settling in ("create", "snapshot"):
        raise routes.error(lambda_api.state_conflict("Pending"))
    if settling == "update":
        raise routes.error(Violation("ResourceConflictException", "The operation cannot be performed at this time. "
                                     f"An update is in progress for resource: {fn.function_arn}", 409))


def _subnets_and_groups(vpc: Mapping[str, Any] | None) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset((vpc or {}).get("SubnetIds") or ()), frozenset((vpc or {}).get("SecurityGroupIds") or ())


def _keep(fn: Any, spec: Mapping[str, Any]) -> None:
    """Record the settings of a create or update request on the function (a new dict each time)."""
    kept = dict(settings_of(fn))
    if "DeadLetterConfig" in spec:
        kept["DeadLetterConfig"] = (spec["DeadLetterConfig"] or {}).get("TargetArn") or None
    if "LoggingConfig" in spec:
        kept["LoggingConfig"] = _logging(fn, spec["LoggingConfig"] or {}, kept.get("LoggingConfig"))
    if "FileSystemConfigs" in spec:
        kept["FileSystemConfigs"] = [{"Arn": c["Arn"], "LocalMountPath": c["LocalMountPath"]}
                                     for c in spec["FileSystemConfigs"] or []]
    if "SnapStart" in spec:
        kept["SnapStart"] = (spec["SnapStart"] or {}).get("ApplyOn") or "None"
    if "VpcConfig" in spec:
        kept["VpcId"] = _vpc_of(fn, spec["VpcConfig"] or {})
    if "KMSKeyArn" in spec:
        fn.kms_key_arn = spec["KMSKeyArn"] or None
    if "TracingConfig" in spec:
        fn.tracing_config = {"Mode": (spec["TracingConfig"] or {}).get("Mode") or "PassThrough"}
    if "EphemeralStorage" in spec:
        fn.ephemeral_storage = (spec["EphemeralStorage"] or {}).get("Size") or aws.EPHEMERAL_MIN
    setattr(fn, SETTINGS_ATTRIBUTE, kept)


def _logging(fn: Any, given: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, Any]:
    """LoggingConfig as Lambda answers it: levels only for JSON (INFO unless given), a group always."""
    log_format = given.get("LogFormat") or "Text"
    result = {"LogFormat": log_format,
              "LogGroup": given.get("LogGroup") or (before or {}).get("LogGroup") or f"/aws/lambda/{fn.function_name}"}
    if log_format == "JSON":
        result["ApplicationLogLevel"] = given.get("ApplicationLogLevel") or aws.DEFAULT_LOG_LEVEL
        result["SystemLogLevel"] = given.get("SystemLogLevel") or aws.DEFAULT_LOG_LEVEL
    return result


def _with_settings(fn: Any, config: dict[str, Any]) -> dict[str, Any]:
    kept = settings_of(fn)
    config["LoggingConfig"] = kept.get("LoggingConfig") or {"LogFormat": "Text",
                                                            "LogGroup": f"/aws/lambda/{fn.function_name}"}
    if kept.get("DeadLetterConfig"):
        config["DeadLetterConfig"] = {"TargetArn": kept["DeadLetterConfig"]}
    if kept.get("FileSystemConfigs"):
        config["FileSystemConfigs"] = list(kept["FileSystemConfigs"])
    apply_on = kept.get("SnapStart", "None")
    published = str(fn.version) != "$LATEST"
    config["SnapStart"] = {"ApplyOn": apply_on,
                           "OptimizationStatus": "On" if apply_on == "PublishedVersions" and published else "Off"}
    vpc = config.get("VpcConfig")
    if vpc is not None:
        config["VpcConfig"] = {**vpc, "VpcId": kept.get("VpcId") or ""}
    if not config.get("KMSKeyArn"):
        config.pop("KMSKeyArn", None)  # AWS answers it only when a key is set
    config["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(fn)}
    return config


def runtime_version_arn(fn: Any) -> str:
    """The runtime version a function runs: the one pinned with Manual mode, else a stable one per runtime."""
    pinned = routes.runtime_management(fn).get("RuntimeVersionArn")
    if pinned:
        return str(pinned)
    digest = hashlib.sha256(str(fn.run_time).encode()).hexdigest()
    return f"arn:{fn.partition}:lambda:{fn.region}::runtime:{digest}"


def _check(fn: Any, spec: Mapping[str, Any], *, creating: bool) -> None:
    """Refuse what AWS refuses about the settings of a create or update request."""
    kept = settings_of(fn)
    logging = spec.get("LoggingConfig") or {}
    if (found := aws.logging_violation(logging)) is not None:
        raise routes.error(found)
    file_systems = spec.get("FileSystemConfigs", kept.get("FileSystemConfigs") or [])
    vpc = spec.get("VpcConfig") if "VpcConfig" in spec else (fn.vpc_config if not creating else None)
    subnets = (vpc or {}).get("SubnetIds") or []
    if file_systems and not subnets:
        raise routes.invalid("Function's VPC configuration must be set to use an EFS file system "
                             "(FileSystemConfigs needs VpcConfig)")
    apply_on = (spec.get("SnapStart") or {}).get("ApplyOn") or kept.get("SnapStart", "None")
    if apply_on == "PublishedVersions":
        storage = (spec.get("EphemeralStorage") or {}).get("Size") or fn.ephemeral_storage
        problems = aws.snap_start_conflicts(spec.get("Runtime") or fn.run_time, int(storage), len(file_systems),
                                            routes.has_provisioned(fn))
        if problems:
            raise routes.invalid(problems[0])
    role = spec.get("Role") or fn.role
    if "VpcConfig" in spec and subnets:
        _check_vpc(fn, spec["VpcConfig"])
        if not _role_allows(fn, role, ("ec2:CreateNetworkInterface",)):
            raise routes.invalid("The provided execution role does not have permissions to call "
                                 "CreateNetworkInterface on EC2")
    target = (spec.get("DeadLetterConfig") or {}).get("TargetArn")
    if target:
        action, words = DLQ_ACTIONS.get(aws.arn_service(target) or "", ("", ""))
        if not action:
            raise routes.invalid(f"The DeadLetterConfig target {target} is neither an SQS queue nor an SNS topic")
        if not _role_allows(fn, role, (action,)):
            raise routes.invalid(f"The provided execution role does not have permissions to call {words}")


def _check_vpc(fn: Any, vpc: Mapping[str, Any]) -> None:
    """Subnets and security groups must exist, in one VPC (Lambda asks EC2)."""
    _vpc_of(fn, vpc)


def _vpc_of(fn: Any, vpc: Mapping[str, Any]) -> str:
    """The VPC of the subnets and security groups (refused like AWS when one is unknown or they differ)."""
    from moto.ec2.models import ec2_backends

    subnets = vpc.get("SubnetIds") or []
    if not subnets:
        return ""
    ec2 = ec2_backends[fn.account_id][fn.region]
    vpcs = set()
    for subnet_id in subnets:
        try:
            vpcs.add(ec2.get_subnet(subnet_id).vpc_id)
        except Exception as error:  # moto's InvalidSubnetIdError
            raise routes.invalid(f"Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
                                 f"EC2 Error Message: The subnet ID '{subnet_id}' does not exist") from error
    for group_id in vpc.get("SecurityGroupIds") or []:
        group = ec2.get_security_group_from_id(group_id)
        if group is None:
            raise routes.invalid(f"Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
                                 f"EC2 Error Message: The security group '{group_id}' does not exist")
        vpcs.add(group.vpc_id)
    if len(vpcs) > 1:
        raise routes.invalid("Security Groups and Subnets must belong to the same VPC")
    return vpcs.pop()


def _role_allows(fn: Any, role_arn: str, actions: Iterable[str]) -> bool:
    """Whether the role's policies (attached and inline) allow the actions; an unknown role is
    moto's to refuse (put_function), so it passes here."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[fn.account_id][fn.partition].get_role_by_arn(role_arn)
    except Exception:
        return True
    documents = [json.loads(doc) if isinstance(doc, str) else doc for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None and default.document:
            documents.append(json.loads(default.document) if isinstance(default.document, str) else default.document)
    allowed = [pattern for document in documents for pattern in _allowed_actions(document)]
    return all(any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in allowed) for a in actions)


def _allowed_actions(document: Mapping[str, Any]) -> list[str]:
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    found: list[str] = []
    for statement in statements:
        if statement.get("Effect") == "Allow":
            actions = statement.get("Action") or []
            found += [actions] if isinstance(actions, str) else list(actions)
    return found
