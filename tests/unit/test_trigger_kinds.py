"""The rest of what a trigger kind says, besides its plan: the resource-policy statements it
needs (grants), what `status` shows (wired), the pre-flight problems, how it names its
source, and the statements and events it exports. All pure, no AWS."""

from __future__ import annotations

from lambdadeploy.triggers.base import (
    Grant,
    PolicyScope,
    PreflightItem,
    Problem,
    Target,
    Wired,
    short_hash,
)
from lambdadeploy.triggers.mappings import MappingState
from lambdadeploy.triggers.registry import kind, make_trigger
from lambdadeploy.triggers.s3 import BucketState, _lowercase_rules, is_owned
from lambdadeploy.triggers.schedule import RuleState, rule_name
from lambdadeploy.triggers.sns import TopicState
from lambdadeploy.triggers.url import UrlState

ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-resize:dev"
TARGET = Target("shop-resize", "dev", ARN, True)
CN = Target("shop-resize", "dev", "arn:aws-cn:lambda:cn-north-1:210987654321:function:shop-resize:dev", True)
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
TOPIC = "arn:aws:sns:us-east-1:123456789012:thumbs"
OVERLAP = ("InvalidArgument: Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
           "the prefixes are overlapping for the same event type.")


# -- grants --------------------------------------------------------------------------------

def test_s3_grants_one_statement_per_bucket_scoped_to_it_and_the_account() -> None:
    triggers = [make_trigger("s3", {"bucket": b, "prefix": p}) for b, p in (("photos", "a/"), ("uploads", "x"),
                                                                            ("photos", "b/"))]
    assert kind("s3").grants(CN, triggers) == [
        Grant(f"lambdadeploy-s3-{short_hash('photos')}-dev", "s3", "s3.amazonaws.com", "bucket photos",
              source_arn="arn:aws-cn:s3:::photos", source_account="210987654321"),
        Grant(f"lambdadeploy-s3-{short_hash('uploads')}-dev", "s3", "s3.amazonaws.com", "bucket uploads",
              source_arn="arn:aws-cn:s3:::uploads", source_account="210987654321"),
    ]
    assert kind("s3").grants(CN, []) == []


def test_sns_grants_one_statement_per_topic() -> None:
    other = "arn:aws:sns:us-east-1:123456789012:audit"
    triggers = [make_trigger("sns", {"topic": t}) for t in (TOPIC, other, TOPIC)]
    assert kind("sns").grants(TARGET, triggers) == [
        Grant(f"lambdadeploy-sns-{short_hash(other)}-dev", "sns", "sns.amazonaws.com", "topic audit", source_arn=other),
        Grant(f"lambdadeploy-sns-{short_hash(TOPIC)}-dev", "sns", "sns.amazonaws.com", "topic thumbs", source_arn=TOPIC),
    ]


def test_schedule_grants_one_statement_per_rule_named_by_its_hash() -> None:
    hourly = make_trigger("schedule", {"expression": "rate(1 hour)"})
    name = rule_name(CN, hourly)
    assert kind("schedule").grants(CN, [hourly, hourly]) == [
        Grant(f"lambdadeploy-events-{name.rsplit('-', 1)[1]}-dev", "schedule", "events.amazonaws.com",
              f"rule {name}", source_arn=f"arn:aws-cn:events:cn-north-1:210987654321:rule/{name}")]


def test_url_grants_both_public_statements_only_for_auth_none() -> None:
    assert kind("url").grants(TARGET, [make_trigger("url", {})]) == [
        Grant("lambdadeploy-url-dev", "url", "*", "anyone, through the URL", action="lambda:InvokeFunctionUrl",
              extra={"FunctionUrlAuthType": "NONE"}),
        Grant("lambdadeploy-urlinvoke-dev", "url", "*", "anyone, through the URL", action="lambda:InvokeFunction",
              extra={"InvokedViaFunctionUrl": True}),
    ]
    assert kind("url").grants(TARGET, [make_trigger("url", {"auth": "AWS_IAM"})]) == []
    assert kind("url").grants(TARGET, []) == []


def test_mapping_kinds_need_no_resource_policy() -> None:
    assert kind("sqs").grants(TARGET, [make_trigger("sqs", {"queue": QUEUE})]) == []
    assert [kind(k).invoke_principal() for k in ("s3", "sns", "sqs", "kinesis", "schedule", "url")] == [
        "s3.amazonaws.com", "sns.amazonaws.com", None, None, "events.amazonaws.com", "*"]


# -- what status shows -------------------------------------------------------------------

def test_s3_shows_its_own_notifications_and_others_to_this_alias() -> None:
    own = {"Id": TARGET.owned_name("x"), "LambdaFunctionArn": ARN, "Events": ["s3:ObjectCreated:*"],
           "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}}}
    theirs = {"Id": "made-by-hand", "LambdaFunctionArn": ARN, "Events": ["s3:ObjectRemoved:*"]}
    elsewhere = {"Id": "other-function", "LambdaFunctionArn": ARN + "x", "Events": ["s3:ObjectRemoved:*"]}
    assert kind("s3").wired(TARGET, {
        "uploads": BucketState(True, {own["Id"]: own}, (theirs, elsewhere)),
        "archive": BucketState(True, {}, (theirs,)),
    }) == [
        Wired("s3", "dev", "bucket archive", "notify on s3:ObjectRemoved:*", managed=False),
        Wired("s3", "dev", "bucket uploads", "notify on s3:ObjectCreated:* (prefix in/)", managed=True),
        Wired("s3", "dev", "bucket uploads", "notify on s3:ObjectRemoved:*", managed=False),
    ]


def test_an_s3_notification_is_the_tool_s_when_its_id_and_destination_are() -> None:
    assert is_owned(TARGET, {"Id": "lambdadeploy-shop-resize-dev-1a2b3c4d", "LambdaFunctionArn": ARN})
    assert not is_owned(TARGET, {"Id": "lambdadeploy-shop-resize-dev-1a2b3c4d", "LambdaFunctionArn": ARN + "x"})
    assert not is_owned(TARGET, {"Id": "lambdadeploy-shop-resize-prod-1a2b3c4d", "LambdaFunctionArn": ARN})
    assert not is_owned(TARGET, {"LambdaFunctionArn": ARN})


def test_s3_rules_are_written_back_in_lower_case_as_put_requires() -> None:
    plain = {"Id": "a", "Events": ["s3:ObjectCreated:*"]}
    assert _lowercase_rules(plain) is plain
    answered = {"Id": "b", "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".jpg"},
                                                             {"Name": "Prefix", "Value": "in/"}]}, "Other": 1}}
    assert _lowercase_rules(answered) == {"Id": "b", "Filter": {"Other": 1, "Key": {"FilterRules": [
        {"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".jpg"}]}}}


def test_mappings_show_their_source_settings_and_state() -> None:
    mapping = {"UUID": "u", "EventSourceArn": QUEUE, "BatchSize": 5, "State": "Disabled",
               "MaximumBatchingWindowInSeconds": 3, "FunctionResponseTypes": ["ReportBatchItemFailures"],
               "FilterCriteria": {"Filters": [{"Pattern": "{}"}, {"Pattern": "{}"}]}}
    assert kind("sqs").wired(TARGET, MappingState((mapping,))) == [Wired(
        "sqs", "dev", "queue jobs",
        "event source mapping (batch 5, window 3s, reports batch item failures, 2 filter(s), disabled)",
        state="Disabled", detail=QUEUE)]


def test_sns_schedule_and_url_show_what_is_wired() -> None:
    assert kind("sns").wired(TARGET, {TOPIC: TopicState(True, (("sub-1", {"a": [1]}), ("sub-2", None))),
                                      "arn:aws:sns:us-east-1:123456789012:gone": TopicState(False)}) == [
        Wired("sns", "dev", "topic thumbs", 'subscribe (filter {"a": [1]})', detail="sub-1"),
        Wired("sns", "dev", "topic thumbs", "subscribe", detail="sub-2")]
    assert kind("schedule").wired(TARGET, {"r1": RuleState({"ScheduleExpression": "rate(1 hour)", "State": "DISABLED"},
                                                           ())}) == [
        Wired("schedule", "dev", "rule r1", "schedule rate(1 hour)", state="DISABLED")]
    assert kind("url").wired(TARGET, UrlState(None)) == []
    assert kind("url").wired(TARGET, UrlState({"AuthType": "AWS_IAM", "FunctionUrl": "https://u",
                                               "Cors": {"AllowOrigins": ["*"], "MaxAge": 0}})) == [
        Wired("url", "dev", "function URL", "auth AWS_IAM, CORS AllowOrigins", detail="https://u")]


# -- pre-flight ----------------------------------------------------------------------------

def item(triggers: list, observed: object, steps: tuple = (), key: str = "resize",
         timeout: int = 10) -> PreflightItem:
    return PreflightItem("shop-resize", key, timeout, TARGET, tuple(triggers), observed, steps)


def test_mapping_sources_in_another_region_are_refused() -> None:
    far = "arn:aws:kinesis:eu-west-1:123456789012:stream/far"
    items = [item([make_trigger("kinesis", {"stream": STREAM}), make_trigger("kinesis", {"stream": far})],
                  MappingState())]
    assert kind("kinesis").preflight(items, "us-east-1") == [Problem(
        "resize", f"stream {far} is in eu-west-1; Lambda reads streams only in the function's own region (us-east-1)",
        "use a stream in us-east-1, or deploy with --region")]


def test_a_queue_must_exist_and_stay_invisible_long_enough() -> None:
    def problems(source: dict, timeout: int = 10, window: int | None = None) -> list[Problem]:
        trigger = make_trigger("sqs", {"queue": QUEUE, "batching_window": window, "batch_size": 5})
        return kind("sqs").preflight([item([trigger], MappingState((), {QUEUE: source}), timeout=timeout)],
                                     "us-east-1")

    assert problems({}) == []
    assert problems({"missing": True}) == [Problem("resize", f"queue {QUEUE} does not exist",
                                                   "create it first, or fix the ARN in lambda.yaml")]
    assert problems({"visibility_timeout": 60}) == []  # 6 x 10 s
    assert problems({"visibility_timeout": 62}, window=2) == []
    assert problems({"visibility_timeout": 61}, window=2) == [Problem(
        "resize", f"queue {QUEUE}: visibility timeout 61 s is below the 62 s AWS advises (6 x timeout + batching window)",
        "messages of a throttled batch may be delivered twice", level="warning")]
    assert problems({"visibility_timeout": 9}) == [Problem(
        "resize", f"queue {QUEUE}: InvalidParameterValueException: Queue visibility timeout: 9 seconds is less than "
        "Function timeout: 10 seconds", "raise the queue's VisibilityTimeout to 60 s, or lower `timeout:`")]
    assert problems({"visibility_timeout": 10}) != [] and problems({"visibility_timeout": 10})[0].level == "warning"


def s3_step(bucket: str, config_id: str, config: dict | None):
    from lambdadeploy.triggers.base import TriggerStep

    return TriggerStep("s3", "create" if config else "delete", f"bucket {bucket}", "", (),
                       {"bucket": bucket, "id": config_id, "config": config})


def notification(config_id: str, prefix: str = "", events: tuple = ("s3:ObjectCreated:*",)) -> dict:
    config = {"Id": config_id, "LambdaFunctionArn": ARN, "Events": list(events)}
    if prefix:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
    return config


def test_s3_refuses_a_bucket_in_another_region_it_is_asked_to_use() -> None:
    from lambdadeploy.awsrules.s3 import rules_of

    trigger = make_trigger("s3", {"bucket": "uploads"})
    far = BucketState(True, {}, (), (), "eu-west-1")
    assert kind("s3").preflight([item([trigger], {"uploads": far, "old": BucketState(True, {}, (), (), "eu-west-1"),
                                                        "gone": BucketState(False, {})})], "us-east-1") == [Problem(
        "resize", "bucket uploads is in eu-west-1; S3 notifies only functions in its own region, and this one deploys "
        "to us-east-1", "use a bucket in the function's region, or deploy with --region")]
    here = BucketState(True, {}, (), tuple(rules_of({"LambdaFunctionConfigurations": [notification("x", "a/")]})),
                       "us-east-1")
    assert kind("s3").preflight([item([trigger], {"uploads": here})], "us-east-1") == []


def test_s3_refuses_rules_that_would_overlap_once_the_push_is_done() -> None:
    from lambdadeploy.awsrules.s3 import rules_of

    existing = rules_of({"QueueConfigurations": [{"Id": "theirs", "QueueArn": "arn:q", "Events": ["s3:ObjectCreated:*"],
                                                  "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}}}],
                         "LambdaFunctionConfigurations": [notification("ours-old", "in/raw/")]})
    state = BucketState(True, {}, (), tuple(existing), "us-east-1")
    trigger = make_trigger("s3", {"bucket": "uploads", "prefix": "out/"})
    # replacing our old rule with a disjoint one: fine
    fine = item([trigger], {"uploads": state}, (s3_step("uploads", "ours-old", None),
                                                      s3_step("uploads", "ours-new", notification("ours-new", "out/"))))
    assert kind("s3").preflight([fine], "us-east-1") == []
    # adding one under someone else's prefix: refused, naming both rules
    clash = item([trigger], {"uploads": state}, (s3_step("uploads", "ours-old", None),
                                                       s3_step("uploads", "ours-new", notification("ours-new", "in/x/"))))
    assert kind("s3").preflight([clash], "us-east-1") == [Problem(
        None, f"bucket uploads: rules theirs (arn:q) and ours-new ({ARN}) would match the same objects for the same "
        f"event: {OVERLAP}", "give the triggers distinct prefixes or suffixes, or different events")]
    # two functions of one push adding overlapping rules: refused too
    first = item([trigger], {"uploads": BucketState(True, {}, (), (), "us-east-1")},
                 (s3_step("uploads", "a", notification("a", "out/")),))
    second = item([trigger], {"uploads": BucketState(True, {}, (), (), "us-east-1")},
                  (s3_step("uploads", "b", notification("b", "out/2024/")),), key="thumbs")
    (problem,) = kind("s3").preflight([first, second], "us-east-1")
    assert problem.message.startswith(f"bucket uploads: rules a ({ARN}) and b ({ARN}) would match")


# -- names, policies, exports --------------------------------------------------------------

def test_each_kind_names_its_source_in_words_that_identify_it() -> None:
    assert kind("s3").source(make_trigger("s3", {"bucket": "uploads"}).settings) == "bucket uploads"
    assert kind("s3").source(make_trigger("s3", {"bucket": "uploads", "prefix": "in/", "suffix": ".jpg", "events": [
        "s3:ObjectRemoved:*", "s3:ObjectCreated:Put"]}).settings) == (
        "bucket uploads (prefix in/, suffix .jpg, s3:ObjectCreated:Put, s3:ObjectRemoved:*)")
    assert kind("s3").source(make_trigger("s3", {"bucket": "uploads", "suffix": ".jpg"}).settings) == (
        "bucket uploads (suffix .jpg)")
    assert kind("sqs").source(make_trigger("sqs", {"queue": QUEUE}).settings) == f"queue {QUEUE}"
    assert kind("sns").source(make_trigger("sns", {"topic": TOPIC}).settings) == f"topic {TOPIC}"
    assert kind("schedule").source(make_trigger("schedule", {"expression": "rate(1 hour)"}).settings) == "rate(1 hour)"
    assert kind("schedule").source(make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"b": 1, "a": 2}})
                                   .settings) == 'rate(1 hour) with input {"a":2,"b":1}'
    assert kind("url").source(make_trigger("url", {"auth": "AWS_IAM"}).settings) == "function URL (auth AWS_IAM)"


SCOPE = PolicyScope("aws", "us-east-1", "123456789012", (
    "arn:aws:lambda:us-east-1:123456789012:function:shop-resize",
    "arn:aws:lambda:us-east-1:123456789012:function:shop-resize:*"))


def test_the_ci_user_may_change_only_what_the_triggers_need() -> None:
    sqs = [make_trigger("sqs", {"queue": q}) for q in (QUEUE, "arn:aws:sqs:us-east-1:123456789012:a", QUEUE)]
    statements = kind("sqs").ci_statements(sqs, SCOPE)
    assert statements == [
        {"Sid": "ListEventSourceMappings", "Effect": "Allow", "Action": ["lambda:ListEventSourceMappings"],
         "Resource": "*"},
        {"Sid": "ChangeEventSourceMappings", "Effect": "Allow",
         "Action": ["lambda:DeleteEventSourceMapping", "lambda:CreateEventSourceMapping",
                    "lambda:UpdateEventSourceMapping"], "Resource": "*",
         "Condition": {"ArnLike": {"lambda:FunctionArn": list(SCOPE.function_resources)}}},
        {"Sid": "ReadQueueAttributes", "Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
         "Resource": ["arn:aws:sqs:us-east-1:123456789012:a", QUEUE]},
    ]
    # no queue left: mappings may still be listed and deleted, nothing more
    assert [s["Action"] for s in kind("sqs").ci_statements([], SCOPE)] == [
        ["lambda:ListEventSourceMappings"], ["lambda:DeleteEventSourceMapping"]]
    assert kind("sns").ci_statements([make_trigger("sns", {"topic": TOPIC})], SCOPE) == [
        {"Sid": "SubscribeToTopics", "Effect": "Allow", "Action": ["sns:ListSubscriptionsByTopic", "sns:Subscribe"],
         "Resource": [TOPIC]},
        {"Sid": "ManageSubscriptions", "Effect": "Allow",
         "Action": ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
         "Resource": "*"}]
    assert kind("sns").ci_statements([], SCOPE) == []
    assert kind("schedule").ci_statements([], SCOPE) == [
        {"Sid": "ListRules", "Effect": "Allow", "Action": ["events:ListRules"], "Resource": "*"},
        {"Sid": "ManageScheduleRules", "Effect": "Allow",
         "Action": ["events:DeleteRule", "events:ListTargetsByRule", "events:PutRule", "events:PutTargets",
                    "events:RemoveTargets"],
         "Resource": ["arn:aws:events:us-east-1:123456789012:rule/lambdadeploy-shop-resize-*"]}]
    long = PolicyScope("aws", "us-east-1", "123456789012", (f"arn:aws:lambda:us-east-1:1:function:{'f' * 60}",))
    assert kind("schedule").ci_statements([], long)[1]["Resource"] == [
        "arn:aws:events:us-east-1:123456789012:rule/" + ("lambdadeploy-" + "f" * 60)[:55] + "*"]
    assert kind("url").ci_statements([make_trigger("url", {})], SCOPE) == [
        {"Sid": "ConfigureFunctionUrls", "Effect": "Allow",
         "Action": ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
         "Resource": list(SCOPE.function_resources)}]
    assert kind("url").ci_statements([], SCOPE) == []


def test_the_execution_role_may_read_exactly_the_configured_sources() -> None:
    assert kind("sqs").execution_role_actions([make_trigger("sqs", {"queue": QUEUE})] * 2) == [
        (("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"), (QUEUE,))]
    assert kind("kinesis").execution_role_actions([make_trigger("kinesis", {"stream": STREAM})]) == [
        (("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
          "kinesis:ListShards"), (STREAM,)),
        (("kinesis:ListStreams",), ("*",))]
    assert kind("sqs").execution_role_actions([]) == []


def test_sqs_and_schedule_export_their_settings_to_sam() -> None:
    assert kind("sqs").sam_properties(make_trigger("sqs", {"queue": QUEUE}).settings) == {"BatchSize": 10}
    settings = make_trigger("sqs", {"queue": QUEUE, "batch_size": 20, "batching_window": 1, "enabled": False,
                                    "report_batch_item_failures": True, "filter": {"a": 1},
                                    "maximum_concurrency": 3}).settings
    assert kind("sqs").sam_properties(settings) == {
        "BatchSize": 20, "MaximumBatchingWindowInSeconds": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": {"a": 1}}]}, "ScalingConfig": {"MaximumConcurrency": 3},
        "Enabled": False}
    event = kind("schedule").sam_event(make_trigger("schedule", {"expression": "rate(1 hour)", "enabled": False,
                                                                 "input": {"b": 1}}), "shop-resize", "dev")
    assert (event.name, event.type, event.properties) == ("Schedule", "Schedule", {
        "Schedule": "rate(1 hour)", "Description": "lambdadeploy: invoke shop-resize:dev on rate(1 hour)",
        "Input": '{"b":1}', "Enabled": False})
    described = kind("schedule").sam_event(make_trigger("schedule", {"expression": "rate(1 hour)",
                                                                     "description": "hourly"}), "f", "dev")
    assert described.properties == {"Schedule": "rate(1 hour)", "Description": "hourly"}
