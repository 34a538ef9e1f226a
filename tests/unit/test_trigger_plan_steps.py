"""The trigger kinds' pure plans, step for step: every field of every TriggerStep (action,
resource, summary, changes, the params `apply` sends), for each path through each kind's
plan(). test_trigger_plans.py checks the shape; these pin the content, so a step that would
send AWS the wrong parameters cannot pass (found by the mutation run, docs/mutation.md).

Expected values are written out, never computed with the code under test (only the
unmutated Target.owned_name / short_hash of triggers/base.py give the stable Ids)."""

from __future__ import annotations

from typing import Any

from lambdadeploy.diff import FieldChange
from lambdadeploy.triggers.base import Target, TriggerStep, short_hash
from lambdadeploy.triggers.mapping_settings import PARAMS, api_value, non_default, normal, observed
from lambdadeploy.triggers.mappings import MappingState
from lambdadeploy.triggers.registry import kind, make_trigger
from lambdadeploy.triggers.s3 import BucketState
from lambdadeploy.triggers.schedule import RuleState, rule_name, rule_prefix
from lambdadeploy.triggers.sns import TopicState
from lambdadeploy.triggers.url import UrlState, normal_cors

ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-resize:dev"
TARGET = Target("shop-resize", "dev", ARN, True)
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
TOPIC = "arn:aws:sns:us-east-1:123456789012:thumbs"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:audit"
CREATED = "s3:ObjectCreated:*"
REMOVED = "s3:ObjectRemoved:*"


# -- s3 -----------------------------------------------------------------------------------

def s3_id(bucket: str, events: list[str], prefix: str | None = None, suffix: str | None = None) -> str:
    return TARGET.owned_name("s3", bucket, events, prefix, suffix)


def s3_plan(triggers: list, observed_buckets: dict) -> list[TriggerStep]:
    return kind("s3").plan(TARGET, triggers, observed_buckets)


def test_s3_create_sends_one_notification_with_sorted_unique_events_and_both_filter_rules() -> None:
    trigger = make_trigger("s3", {"bucket": "uploads", "events": [REMOVED, CREATED, CREATED], "prefix": "in/",
                                  "suffix": ".jpg"})
    config_id = s3_id("uploads", [CREATED, REMOVED], "in/", ".jpg")
    assert config_id.startswith("lambdadeploy-shop-resize-dev-") and len(config_id) == len("lambdadeploy-shop-resize-dev-") + 8
    config = {"Id": config_id, "LambdaFunctionArn": ARN, "Events": [CREATED, REMOVED],
              "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".jpg"}]}}}
    assert s3_plan([trigger], {}) == [TriggerStep(
        "s3", "create", "bucket uploads", f"notify on {CREATED}, {REMOVED} (prefix in/, suffix .jpg)", (),
        {"bucket": "uploads", "id": config_id, "config": config})]


def test_s3_notifications_without_a_filter_have_none_and_one_filter_rule_is_alone() -> None:
    plain = make_trigger("s3", {"bucket": "uploads"})
    suffix = make_trigger("s3", {"bucket": "photos", "suffix": ".png"})
    steps = s3_plan([plain, suffix], {"uploads": BucketState(True, {}), "photos": BucketState(True, {})})
    assert [s.params["config"] for s in steps] == [  # buckets in name order
        {"Id": s3_id("photos", [CREATED], None, ".png"), "LambdaFunctionArn": ARN, "Events": [CREATED],
         "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}}},
        {"Id": s3_id("uploads", [CREATED]), "LambdaFunctionArn": ARN, "Events": [CREATED]},
    ]
    assert [s.summary for s in steps] == [f"notify on {CREATED} (suffix .png)", f"notify on {CREATED}"]


def test_s3_two_triggers_on_one_bucket_are_two_notifications() -> None:
    steps = s3_plan([make_trigger("s3", {"bucket": "uploads", "prefix": "a/"}),
                     make_trigger("s3", {"bucket": "uploads", "prefix": "b/"})], {})
    assert [(s.action, s.params["id"]) for s in steps] == [
        ("create", s3_id("uploads", [CREATED], "a/")), ("create", s3_id("uploads", [CREATED], "b/"))]


def test_s3_what_aws_answers_for_an_unchanged_notification_plans_nothing() -> None:
    trigger = make_trigger("s3", {"bucket": "uploads", "events": [CREATED, REMOVED], "prefix": "in/", "suffix": ".jpg"})
    config_id = s3_id("uploads", [CREATED, REMOVED], "in/", ".jpg")
    # GetBucketNotificationConfiguration capitalises the rule names and keeps its own order.
    answered = {"Id": config_id, "LambdaFunctionArn": ARN, "Events": [REMOVED, CREATED],
                "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".jpg"}, {"Name": "Prefix", "Value": "in/"}]}}}
    assert s3_plan([trigger], {"uploads": BucketState(True, {config_id: answered})}) == []


def test_s3_update_names_the_events_and_filter_that_change() -> None:
    trigger = make_trigger("s3", {"bucket": "uploads", "events": [CREATED], "prefix": "in/"})
    config_id = s3_id("uploads", [CREATED], "in/")
    have = {"Id": config_id, "LambdaFunctionArn": ARN, "Events": [REMOVED],
            "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "old/"}]}}}
    want = {"Id": config_id, "LambdaFunctionArn": ARN, "Events": [CREATED],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}
    assert s3_plan([trigger], {"uploads": BucketState(True, {config_id: have})}) == [TriggerStep(
        "s3", "update", "bucket uploads", f"notify on {CREATED} (prefix in/)",
        (FieldChange("events", [REMOVED], [CREATED]), FieldChange("filter", {"prefix": "old/"}, {"prefix": "in/"})),
        {"bucket": "uploads", "id": config_id, "config": want})]
    # only the filter differs: one change; only the function ARN differs: an update with no field to name
    same_events = {**have, "Events": [CREATED]}
    (update,) = s3_plan([trigger], {"uploads": BucketState(True, {config_id: same_events})})
    assert update.changes == (FieldChange("filter", {"prefix": "old/"}, {"prefix": "in/"}),)
    other_arn = {**want, "LambdaFunctionArn": ARN + "x"}
    (update,) = s3_plan([trigger], {"uploads": BucketState(True, {config_id: other_arn})})
    assert (update.action, update.changes) == ("update", ())


def test_s3_removes_its_own_notifications_that_left_lambda_yaml_and_skips_missing_buckets() -> None:
    old_id = s3_id("old", [CREATED], "x/")
    old = {"Id": old_id, "LambdaFunctionArn": ARN, "Events": [CREATED],
           "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "x/"}]}}}
    wanted = make_trigger("s3", {"bucket": "uploads"})
    kept_id = s3_id("uploads", [CREATED])
    kept = {"Id": kept_id, "LambdaFunctionArn": ARN, "Events": [CREATED]}
    stale_id = s3_id("uploads", [REMOVED])
    stale = {"Id": stale_id, "LambdaFunctionArn": ARN, "Events": [REMOVED]}
    steps = s3_plan([wanted, make_trigger("s3", {"bucket": "gone"})], {
        "old": BucketState(True, {old_id: old}),
        "uploads": BucketState(True, {kept_id: kept, stale_id: stale}),
        "gone": BucketState(False, {}),
    })
    assert steps == [
        TriggerStep("s3", "delete", "bucket old", f"notify on {CREATED} (prefix x/)", (),
                    {"bucket": "old", "id": old_id, "config": None}),
        TriggerStep("s3", "delete", "bucket uploads", f"notify on {REMOVED}", (),
                    {"bucket": "uploads", "id": stale_id, "config": None}),
    ]


# -- event source mappings (sqs, kinesis, dynamodb) -----------------------------------------

def test_sqs_create_sends_only_what_differs_from_aws_defaults() -> None:
    (step,) = kind("sqs").plan(TARGET, [make_trigger("sqs", {"queue": QUEUE})], MappingState())
    assert step == TriggerStep("sqs", "create", "queue jobs", "event source mapping (batch 10)",
                               (FieldChange("BatchSize", None, 10), FieldChange("Enabled", None, True)),
                               {"BatchSize": 10, "Enabled": True, "EventSourceArn": QUEUE})


def test_sqs_create_with_every_setting_sends_each_in_the_api_s_shape() -> None:
    trigger = make_trigger("sqs", {"queue": QUEUE, "batch_size": 50, "batching_window": 2, "enabled": False,
                                   "report_batch_item_failures": True, "filter": {"body": {"kind": ["order"]}},
                                   "maximum_concurrency": 5})
    (step,) = kind("sqs").plan(TARGET, [trigger], MappingState())
    assert step == TriggerStep(
        "sqs", "create", "queue jobs",
        "event source mapping (batch 50, window 2s, reports batch item failures, 1 filter(s), disabled)",
        (FieldChange("BatchSize", None, 50), FieldChange("Enabled", None, False),
         FieldChange("MaximumBatchingWindowInSeconds", None, 2), FieldChange("FunctionResponseTypes", None, True),
         FieldChange("FilterCriteria", None, [{"body": {"kind": ["order"]}}]),
         FieldChange("ScalingConfig", None, 5)),
        {"BatchSize": 50, "Enabled": False, "MaximumBatchingWindowInSeconds": 2,
         "FunctionResponseTypes": ["ReportBatchItemFailures"],
         "FilterCriteria": {"Filters": [{"Pattern": '{"body":{"kind":["order"]}}'}]},
         "ScalingConfig": {"MaximumConcurrency": 5}, "EventSourceArn": QUEUE})


def test_stream_create_adds_the_starting_position_and_names_the_stream_or_table() -> None:
    (kinesis,) = kind("kinesis").plan(TARGET, [make_trigger("kinesis", {"stream": STREAM})], MappingState())
    assert kinesis == TriggerStep(
        "kinesis", "create", "stream clicks", "event source mapping (batch 100)",
        (FieldChange("BatchSize", None, 100), FieldChange("Enabled", None, True)),
        {"BatchSize": 100, "Enabled": True, "StartingPosition": "LATEST", "EventSourceArn": STREAM})
    trigger = make_trigger("dynamodb", {"stream": TABLE_STREAM, "starting_position": "TRIM_HORIZON",
                                        "bisect_on_error": True, "maximum_retry_attempts": 3,
                                        "maximum_record_age": 3600, "on_failure": QUEUE,
                                        "parallelization_factor": 2, "tumbling_window": 60})
    (dynamodb,) = kind("dynamodb").plan(TARGET, [trigger], MappingState())
    assert (dynamodb.resource, dynamodb.params) == ("stream orders", {
        "BatchSize": 100, "Enabled": True, "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 3,
        "MaximumRecordAgeInSeconds": 3600, "DestinationConfig": {"OnFailure": {"Destination": QUEUE}},
        "ParallelizationFactor": 2, "TumblingWindowInSeconds": 60, "StartingPosition": "TRIM_HORIZON",
        "EventSourceArn": TABLE_STREAM})


SQS_MAPPING = {"UUID": "u-1", "EventSourceArn": QUEUE, "BatchSize": 10, "State": "Enabled",
               "MaximumBatchingWindowInSeconds": 0}


def test_a_mapping_as_aws_describes_it_with_defaults_plans_nothing() -> None:
    trigger = make_trigger("sqs", {"queue": QUEUE})
    assert kind("sqs").plan(TARGET, [trigger], MappingState((SQS_MAPPING,))) == []
    answered = {**SQS_MAPPING, "FunctionResponseTypes": [], "FilterCriteria": {"Filters": []}, "ScalingConfig": {}}
    assert kind("sqs").plan(TARGET, [trigger], MappingState((answered,))) == []
    stream = {"UUID": "u-2", "EventSourceArn": STREAM, "BatchSize": 100, "State": "Enabled",
              "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1,
              "DestinationConfig": {"OnFailure": {}}, "ParallelizationFactor": 1, "TumblingWindowInSeconds": 0,
              "StartingPosition": "TRIM_HORIZON"}  # set at creation; not compared afterwards
    assert kind("kinesis").plan(TARGET, [make_trigger("kinesis", {"stream": STREAM})], MappingState((stream,))) == []


def test_a_mapping_update_sends_only_what_changed_in_the_api_s_shape() -> None:
    trigger = make_trigger("sqs", {"queue": QUEUE, "batch_size": 5, "filter": [{"a": [1]}], "enabled": False})
    current = {**SQS_MAPPING, "ScalingConfig": {"MaximumConcurrency": 7}, "State": "Enabled"}
    (step,) = kind("sqs").plan(TARGET, [trigger], MappingState((current,)))
    assert step == TriggerStep(
        "sqs", "update", "queue jobs", "event source mapping (batch 5, 1 filter(s), disabled)",
        (FieldChange("BatchSize", 10, 5), FieldChange("Enabled", True, False),
         FieldChange("FilterCriteria", [], [{"a": [1]}]), FieldChange("ScalingConfig", 7, None)),
        {"UUID": "u-1", "BatchSize": 5, "Enabled": False, "FilterCriteria": {"Filters": [{"Pattern": '{"a":[1]}'}]},
         "ScalingConfig": {}})


def test_a_mapping_being_disabled_counts_as_disabled() -> None:
    disabled = make_trigger("sqs", {"queue": QUEUE, "enabled": False})
    for state in ("Disabled", "Disabling"):
        assert kind("sqs").plan(TARGET, [disabled], MappingState(({**SQS_MAPPING, "State": state},))) == []
    (enable,) = kind("sqs").plan(TARGET, [make_trigger("sqs", {"queue": QUEUE})],
                                 MappingState(({**SQS_MAPPING, "State": "Disabling"},)))
    assert (enable.changes, enable.params) == ((FieldChange("Enabled", False, True),), {"UUID": "u-1", "Enabled": True})


def test_mappings_of_sources_that_left_lambda_yaml_are_deleted_and_the_rest_kept() -> None:
    other = {**SQS_MAPPING, "UUID": "u-9", "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:old"}
    steps = kind("sqs").plan(TARGET, [make_trigger("sqs", {"queue": QUEUE})], MappingState((SQS_MAPPING, other)))
    assert steps == [TriggerStep("sqs", "delete", "queue old", "event source mapping", (), {"UUID": "u-9"})]


def test_mapping_settings_read_back_from_aws_in_normal_form() -> None:
    fields = tuple(PARAMS)
    assert observed({}, fields) == {p.api: p.default for p in PARAMS.values()}
    assert observed({"MaximumBatchingWindowInSeconds": 3, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                     "FilterCriteria": {"Filters": [{"Pattern": '{"a":1}'}, {"Pattern": "not json"}, {}]},
                     "ScalingConfig": {"MaximumConcurrency": 4}, "BisectBatchOnFunctionError": 1,
                     "MaximumRetryAttempts": "2", "MaximumRecordAgeInSeconds": "60",
                     "DestinationConfig": {"OnFailure": {"Destination": QUEUE}}, "ParallelizationFactor": "3",
                     "TumblingWindowInSeconds": "30"}, fields) == {
        "MaximumBatchingWindowInSeconds": 3, "FunctionResponseTypes": True,
        "FilterCriteria": [{"a": 1}, "not json", None], "ScalingConfig": 4, "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2, "MaximumRecordAgeInSeconds": 60, "DestinationConfig": QUEUE,
        "ParallelizationFactor": 3, "TumblingWindowInSeconds": 30}
    assert observed({"FunctionResponseTypes": ["Other"], "FilterCriteria": {}, "DestinationConfig": {},
                     "ScalingConfig": {}}, fields)["FunctionResponseTypes"] is False


def test_mapping_settings_go_to_aws_in_its_shape() -> None:
    assert api_value("FunctionResponseTypes", True) == ["ReportBatchItemFailures"]
    assert api_value("FunctionResponseTypes", False) == []
    assert api_value("ScalingConfig", None) == {}
    assert api_value("DestinationConfig", None) == {"OnFailure": {}}
    assert api_value("DestinationConfig", QUEUE) == {"OnFailure": {"Destination": QUEUE}}
    assert api_value("FilterCriteria", [{"b": 2, "a": 1}]) == {"Filters": [{"Pattern": '{"a":1,"b":2}'}]}
    assert api_value("BatchSize", 5) == 5  # not a mapping setting: as is
    assert non_default({"BatchSize": 10, "MaximumRetryAttempts": -1, "ParallelizationFactor": 2},
                       ("maximum_retry_attempts", "parallelization_factor")) == {"BatchSize": 10, "ParallelizationFactor": 2}
    settings = make_trigger("kinesis", {"stream": STREAM, "filter": {"a": 1}}).settings
    assert normal(settings, ("filter", "maximum_retry_attempts", "bisect_on_error")) == {
        "FilterCriteria": [{"a": 1}], "MaximumRetryAttempts": -1, "BisectBatchOnFunctionError": False}


# -- sns -----------------------------------------------------------------------------------

def test_sns_subscribes_with_the_filter_policy_or_without_one() -> None:
    with_filter = make_trigger("sns", {"topic": TOPIC, "filter_policy": {"kind": ["b", "a"], "at": [1]}})
    assert kind("sns").plan(TARGET, [with_filter], {}) == [TriggerStep(
        "sns", "create", "topic thumbs", 'subscribe (filter {"at": [1], "kind": ["b", "a"]})', (),
        {"topic": TOPIC, "filter_policy": {"kind": ["b", "a"], "at": [1]}})]
    empty_filter = make_trigger("sns", {"topic": TOPIC, "filter_policy": {}})  # {} is no filter
    assert kind("sns").plan(TARGET, [empty_filter], {TOPIC: TopicState(True)}) == [TriggerStep(
        "sns", "create", "topic thumbs", "subscribe", (), {"topic": TOPIC, "filter_policy": None})]
    assert kind("sns").plan(TARGET, [empty_filter], {TOPIC: TopicState(True, (("sub-1", None),))}) == []


def test_sns_changes_the_filter_of_the_first_subscription() -> None:
    trigger = make_trigger("sns", {"topic": TOPIC})
    state = TopicState(True, (("sub-1", {"kind": ["a"]}), ("sub-2", None)))
    assert kind("sns").plan(TARGET, [trigger], {TOPIC: state}) == [TriggerStep(
        "sns", "update", "topic thumbs", "subscribe", (FieldChange("filter_policy", {"kind": ["a"]}, None),),
        {"subscription": "sub-1", "filter_policy": None, "topic": TOPIC})]


def test_sns_unsubscribes_every_subscription_of_a_topic_that_left_and_skips_gone_topics() -> None:
    steps = kind("sns").plan(TARGET, [make_trigger("sns", {"topic": "arn:aws:sns:us-east-1:123456789012:gone"})], {
        TOPIC: TopicState(True, (("sub-1", None), ("sub-2", {"a": [1]}))),
        OTHER_TOPIC: TopicState(True, (("sub-3", None),)),
        "arn:aws:sns:us-east-1:123456789012:gone": TopicState(False),
    })
    assert steps == [  # topics in ARN order
        TriggerStep("sns", "delete", "topic audit", "unsubscribe", (), {"subscription": "sub-3", "topic": OTHER_TOPIC}),
        TriggerStep("sns", "delete", "topic thumbs", "unsubscribe", (), {"subscription": "sub-1", "topic": TOPIC}),
        TriggerStep("sns", "delete", "topic thumbs", "unsubscribe", (), {"subscription": "sub-2", "topic": TOPIC}),
    ]


# -- schedule ------------------------------------------------------------------------------

def test_schedule_rule_names_fit_eventbridge_and_change_with_expression_and_input() -> None:
    trigger = make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"b": 1, "a": 2}})
    name = rule_name(TARGET, trigger)
    identity = short_hash("schedule", "rate(1 hour)", {"a": 2, "b": 1})
    assert name == "lambdadeploy-shop-resize-dev-" + short_hash("shop-resize", "dev", identity)
    assert rule_name(TARGET, make_trigger("schedule", {"expression": "rate(1 hour)"})) != name
    assert rule_name(TARGET, make_trigger("schedule", {"expression": "rate(2 hours)", "input": {"b": 1, "a": 2}})) != name
    long = Target("f" * 60, "production", ARN, True)
    assert rule_prefix(long) == ("lambdadeploy-" + "f" * 60)[:55] + "-"
    assert len(rule_name(long, trigger)) == 64


def test_schedule_create_sends_the_rule_and_its_one_target() -> None:
    trigger = make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"b": 1, "a": [2]}})
    name = rule_name(TARGET, trigger)
    assert kind("schedule").plan(TARGET, [trigger], {}) == [TriggerStep(
        "schedule", "create", f"rule {name}", 'schedule rate(1 hour) with input {"a":[2],"b":1}', (),
        {"rule": {"Name": name, "ScheduleExpression": "rate(1 hour)", "State": "ENABLED",
                  "Description": "lambdadeploy: invoke shop-resize:dev on rate(1 hour)"},
         "target": {"Id": "lambdadeploy", "Arn": ARN, "Input": '{"a":[2],"b":1}'}})]
    quiet = make_trigger("schedule", {"expression": "cron(0 12 * * ? *)", "enabled": False, "description": "noon",
                                      "input": 0})
    (step,) = kind("schedule").plan(TARGET, [quiet], {})
    assert (step.summary, step.params["rule"]["State"], step.params["rule"]["Description"], step.params["target"]) == (
        "schedule cron(0 12 * * ? *) with input 0 (disabled)", "DISABLED", "noon",
        {"Id": "lambdadeploy", "Arn": ARN, "Input": "0"})
    (plain,) = kind("schedule").plan(TARGET, [make_trigger("schedule", {"expression": "rate(5 minutes)"})], {})
    assert (plain.summary, plain.params["target"]) == ("schedule rate(5 minutes)", {"Id": "lambdadeploy", "Arn": ARN})


def rule_state(trigger: Any, *targets: dict, state: str = "ENABLED", description: str | None = None) -> RuleState:
    name = rule_name(TARGET, trigger)
    rule = {"Name": name, "ScheduleExpression": trigger.settings.expression, "State": state,
            "Description": description if description is not None
            else f"lambdadeploy: invoke shop-resize:dev on {trigger.settings.expression}"}
    return RuleState(rule, targets)


def test_schedule_as_eventbridge_answers_it_plans_nothing() -> None:
    trigger = make_trigger("schedule", {"expression": "rate(1 hour)", "input": {"a": 1}})
    ours = {"Id": "lambdadeploy", "Arn": ARN, "Input": '{"a": 1}'}  # spacing differs: same JSON
    assert kind("schedule").plan(TARGET, [trigger], {rule_name(TARGET, trigger): rule_state(trigger, ours)}) == []
    plain = make_trigger("schedule", {"expression": "rate(1 hour)"})
    state = rule_state(plain, {"Id": "lambdadeploy", "Arn": ARN}, {"Id": "someone-else", "Arn": "x"})
    assert kind("schedule").plan(TARGET, [plain], {rule_name(TARGET, plain): state}) == []


def test_schedule_update_names_state_and_description_and_rewrites_a_wrong_target() -> None:
    trigger = make_trigger("schedule", {"expression": "rate(1 hour)", "enabled": False, "description": "hourly"})
    name = rule_name(TARGET, trigger)
    target = {"Id": "lambdadeploy", "Arn": ARN}
    have = rule_state(trigger, target, state="ENABLED", description="")
    want_rule = {"Name": name, "ScheduleExpression": "rate(1 hour)", "State": "DISABLED", "Description": "hourly"}
    assert kind("schedule").plan(TARGET, [trigger], {name: have}) == [TriggerStep(
        "schedule", "update", f"rule {name}", "schedule rate(1 hour) (disabled)",
        (FieldChange("State", "ENABLED", "DISABLED"), FieldChange("Description", "", "hourly")),
        {"rule": want_rule, "target": target})]
    no_description = RuleState({k: v for k, v in want_rule.items() if k != "Description"}, (target,))
    (step,) = kind("schedule").plan(TARGET, [trigger], {name: no_description})
    assert step.changes == (FieldChange("Description", "", "hourly"),)
    for targets in [(), ({**target, "Arn": ARN + "x"},), (target, target), ({**target, "Input": "{}"},),
                    ({**target, "Id": "other"},)]:
        (step,) = kind("schedule").plan(TARGET, [trigger], {name: RuleState(want_rule, targets)})
        assert (step.action, step.changes, step.params["target"]) == ("update", (), target), targets


def test_schedule_rules_that_left_lambda_yaml_are_deleted_with_their_targets() -> None:
    gone = make_trigger("schedule", {"expression": "rate(1 day)"})
    name = rule_name(TARGET, gone)
    state = rule_state(gone, {"Id": "lambdadeploy", "Arn": ARN}, {"Id": "extra", "Arn": ARN})
    assert kind("schedule").plan(TARGET, [], {name: state}) == [TriggerStep(
        "schedule", "delete", f"rule {name}", "schedule rate(1 day)", (),
        {"name": name, "targets": ["lambdadeploy", "extra"]})]
    bare = RuleState({"Name": name}, ())
    assert kind("schedule").plan(TARGET, [], {name: bare}) == [TriggerStep(
        "schedule", "delete", f"rule {name}", "schedule ?", (), {"name": name, "targets": []})]


# -- url -----------------------------------------------------------------------------------

def test_url_without_a_trigger_removes_the_alias_s_url_or_does_nothing() -> None:
    assert kind("url").plan(TARGET, [], UrlState(None)) == []
    assert kind("url").plan(TARGET, [], UrlState({"AuthType": "AWS_IAM", "FunctionUrl": "https://u"})) == [
        TriggerStep("url", "delete", "function URL", "auth AWS_IAM", (), {"url": "https://u"})]


def test_url_create_sends_auth_and_cors() -> None:
    assert kind("url").plan(TARGET, [make_trigger("url", {})], UrlState(None)) == [
        TriggerStep("url", "create", "function URL", "auth NONE", (), {"AuthType": "NONE", "Cors": {}})]
    cors = make_trigger("url", {"auth": "AWS_IAM", "cors": {"allow_origins": ["b", "a"], "allow_methods": "GET"}})
    assert kind("url").plan(TARGET, [cors], UrlState(None)) == [TriggerStep(
        "url", "create", "function URL", "auth AWS_IAM, CORS AllowMethods, AllowOrigins", (),
        {"AuthType": "AWS_IAM", "Cors": {"AllowOrigins": ["a", "b"], "AllowMethods": ["GET"]}})]


def test_url_compares_cors_as_aws_answers_it_and_updates_what_differs() -> None:
    trigger = make_trigger("url", {"cors": {"allow_origins": ["*"], "max_age": 60}})
    answered = {"AuthType": "NONE", "FunctionUrl": "https://u",
                "Cors": {"AllowOrigins": ["*"], "MaxAge": 60, "AllowHeaders": [], "AllowCredentials": False,
                         "ExposeHeaders": None, "AllowMethods": ""}}
    assert kind("url").plan(TARGET, [trigger], UrlState(answered)) == []
    changed = {**answered, "AuthType": "AWS_IAM", "Cors": {"AllowOrigins": ["https://x"]}}
    assert kind("url").plan(TARGET, [trigger], UrlState(changed)) == [TriggerStep(
        "url", "update", "function URL", "auth NONE, CORS AllowOrigins, MaxAge",
        (FieldChange("AuthType", "AWS_IAM", "NONE"),
         FieldChange("Cors", {"AllowOrigins": ["https://x"]}, {"AllowOrigins": ["*"], "MaxAge": 60})),
        {"AuthType": "NONE", "Cors": {"AllowOrigins": ["*"], "MaxAge": 60}})]
    (no_cors,) = kind("url").plan(TARGET, [make_trigger("url", {})], UrlState({"AuthType": "NONE", "Cors": {"MaxAge": 5}}))
    assert no_cors.changes == (FieldChange("Cors", {"MaxAge": 5}, {}),)


def test_normal_cors_drops_empty_fields_and_sorts_lists() -> None:
    assert normal_cors(None) == {}
    assert normal_cors({"A": None, "B": [], "C": False, "D": 0, "E": "", "F": ["z", "a"], "G": True, "H": 5}) == {
        "F": ["a", "z"], "G": True, "H": 5}
