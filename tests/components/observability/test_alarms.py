"""Alarms, their topics and the dashboard, built alone under the project's mocks."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from pydantic import ValidationError

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import Conventions
from components.observability.alarms import Alarms, AlarmsArgs, StandbySignals
from components.observability.settings import AlarmsConfig
from components.observability.signals import (
    AuroraSource,
    LoadBalancerSource,
    ReplicatedBucket,
    SignalSources,
    WebAclSource,
)
from tests.support import stack_context

REGION = "eu-west-1"
EDGE = "us-east-1"
DR = "eu-central-1"
DR_KEY = f"arn:aws:kms:{DR}:{ACCOUNT_ID}:key/aaaaaaaa-2222-3333-4444-555555555555"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
EDGE_KEY = f"arn:aws:kms:{EDGE}:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

SETTINGS = AlarmsConfig.model_validate({
    "notify": "oncall@example.com", "albErrorPercent": 2.5, "albP99LatencySeconds": 1.25,
    "cloudfrontErrorPercent": 3.0, "wafBlockedPerFiveMinutes": 500, "auroraCpuPercent": 70, "auroraAcuAtMaxPeriods": 10,
    "auroraReplicaLagMs": 800, "auroraGlobalLagMs": 3000, "dynamodbThrottledRequests": 5,
    "dynamodbReplicationLatencyMs": 2000, "cacheEvictions": 50, "cacheCpuPercent": 65, "nodeCpuPercent": 75,
    "nodeMemoryPercent": 80, "kinesisIteratorAgeMs": 30000, "s3ReplicationLatencySeconds": 600,
    "failedBackupJobs": 2, "evaluationPeriods": 4, "datapointsToAlarm": 2})

FULL = SignalSources(
    load_balancer=LoadBalancerSource("app/retail-prod/abc", {"storefront": "targetgroup/storefront/def"}),
    cloudfront_distribution_id="E2EXAMPLE",
    web_acls=(WebAclSource("retail-prod-cdn", EDGE, cloudfront=True), WebAclSource("retail-prod-alb", REGION)),
    aurora=AuroraSource("retail-prod-sql", max_acu=16),
    dynamodb_tables={"orders": "retail-prod-orders"}, dynamodb_replica_regions=("eu-central-1",),
    cache_replication_group_id="retail-prod-cache", eks_cluster_name="retail-prod",
    kinesis_streams={"orders": "retail-prod-orders"}, backup_vaults={"primary": "retail-prod-vault"},
    replicated_buckets={"assets": ReplicatedBucket("retail-prod-assets", "retail-prod-dr-assets", "dr")},
)
#: The DR slice: the Aurora secondary of the global database.
STANDBY = StandbySignals(DR, DR_KEY, SignalSources(aurora=AuroraSource("retail-prod-dr-sql", 16,
                                                                      global_secondary=True)))
#: A dev stack: one region, no CloudFront alarms, no streams, no DR.
LEAN = SignalSources(
    load_balancer=LoadBalancerSource("app/retail-dev/abc"), aurora=AuroraSource("retail-dev-sql", max_acu=4),
    dynamodb_tables={"orders": "retail-dev-orders"}, cache_replication_group_id="retail-dev-cache",
    eks_cluster_name="retail-dev")

#: Signal -> (its threshold in SETTINGS, the metric it reads).
EXPECTED = {
    "alb-5xx-rate": (2.5, None),
    "alb-p99-latency-storefront": (1.25, "TargetResponseTime"),
    "cloudfront-5xx-rate": (3.0, "5xxErrorRate"),
    "waf-blocked-spike-cdn": (500, "BlockedRequests"),
    "waf-blocked-spike-regional-1": (500, "BlockedRequests"),
    "aurora-cpu": (70, "CPUUtilization"),
    "aurora-acu-at-max": (16, "ServerlessDatabaseCapacity"),
    "aurora-replica-lag": (800, "AuroraReplicaLagMaximum"),
    "dr-aurora-cpu": (70, "CPUUtilization"),
    "dr-aurora-acu-at-max": (16, "ServerlessDatabaseCapacity"),
    "dr-aurora-replica-lag": (800, "AuroraReplicaLagMaximum"),
    "dr-aurora-global-lag": (3000, "AuroraGlobalDBReplicationLag"),
    "dynamodb-throttled-orders": (5, "ThrottledRequests"),
    "dynamodb-replication-orders-eu-central-1": (2000, "ReplicationLatency"),
    "cache-evictions": (50, "Evictions"),
    "cache-cpu": (65, "EngineCPUUtilization"),
    "eks-node-cpu": (75, "node_cpu_utilization"),
    "eks-node-memory": (80, "node_memory_utilization"),
    "eks-failed-nodes": (0, "cluster_failed_node_count"),
    "kinesis-iterator-age-orders": (30000, "GetRecords.IteratorAgeMilliseconds"),
    "backup-failed-primary": (2, "NumberOfBackupJobsFailed"),
    "s3-replication-latency-assets": (600, "ReplicationLatency"),
}


@cache
def built(which: str) -> ResourceGraph:
    def program() -> None:
        context = stack_context(Conventions("prod", "platform", "cc-1234", "confidential", "prod"), region=REGION)
        if which == "full":
            Alarms("alarms", context, AlarmsArgs(SETTINGS, KEY, FULL, edge_key_arn=EDGE_KEY, standby=STANDBY))
        else:
            Alarms("alarms", context, AlarmsArgs(SETTINGS, KEY, LEAN))

    return run_program(program, project="retail", stack="prod", config={"aws:region": REGION})


def alarms(graph: ResourceGraph) -> dict[str, Resource]:
    return {a.inputs["tags"]["signal"]: a for a in graph.of_type(ALARM)}


def topics(graph: ResourceGraph) -> dict[str, Resource]:
    return {t.inputs["region"]: t for t in graph.of_type(TOPIC)}


def returned_metric(alarm: Resource) -> dict[str, Any] | None:
    [returned] = [q for q in alarm.inputs["metricQueries"] if q.get("returnData")]
    return returned.get("metric")


def test_every_signal_has_its_alarm_with_the_configured_threshold():
    found = alarms(built("full"))
    assert set(found) == set(EXPECTED)
    for key, (threshold, metric) in EXPECTED.items():
        inputs = found[key].inputs
        assert inputs["threshold"] == threshold, key
        assert inputs["name"] == f"retail-prod-{key}"
        returned = returned_metric(found[key])
        assert (returned or {}).get("metricName") == metric, key


def test_the_5xx_rate_is_errors_over_requests_in_percent():
    alarm = alarms(built("full"))["alb-5xx-rate"].inputs
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["e1"]["expression"] == "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests"
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    assert queries["requests"]["metric"]["dimensions"] == {"LoadBalancer": "app/retail-prod/abc"}
    assert (alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (4, 2)


def test_acu_alarm_fires_only_when_pinned_at_max_for_every_period():
    alarm = alarms(built("full"))["aurora-acu-at-max"].inputs
    assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (10, 10)


def test_every_alarm_notifies_our_encrypted_topic_of_its_own_region():
    graph = built("full")
    by_region = topics(graph)
    assert set(by_region) == {REGION, EDGE, DR}
    assert by_region[REGION].inputs["kmsMasterKeyId"] == KEY
    assert by_region[EDGE].inputs["kmsMasterKeyId"] == EDGE_KEY
    assert by_region[DR].inputs["kmsMasterKeyId"] == DR_KEY
    # The topic's ARN as the mocks make it, read from the policy made for that topic.
    arns = {p.inputs["region"]: p.inputs["arn"] for p in graph.of_type("aws:sns/topicPolicy:TopicPolicy")}
    for region, topic in by_region.items():
        assert arns[region].startswith(f"arn:aws:sns:{region}:{ACCOUNT_ID}:")
        assert arns[region].endswith(topic.inputs["name"])
    assert by_region[EDGE].inputs["name"] == "retail-prod-alarms-us-east-1"
    for key, alarm in alarms(graph).items():
        topic_arn = arns[alarm.inputs["region"]]
        assert alarm.inputs["alarmActions"] == [topic_arn], key
        assert alarm.inputs["okActions"] == [topic_arn], key
        assert alarm.inputs["treatMissingData"] in ("breaching", "notBreaching", "missing")


def test_cloudfront_alarms_live_in_us_east_1_the_standbys_in_the_dr_region_the_rest_at_home():
    regions = {key: a.inputs["region"] for key, a in alarms(built("full")).items()}
    assert {k for k, r in regions.items() if r == EDGE} == {"cloudfront-5xx-rate", "waf-blocked-spike-cdn"}
    assert {k for k, r in regions.items() if r == DR} == {k for k in EXPECTED if k.startswith("dr-")}
    # The global database's lag is the secondary's metric: alarmed in the DR region only.
    assert [k for k in regions if k.endswith("aurora-global-lag")] == ["dr-aurora-global-lag"]
    dims = returned_metric(alarms(built("full"))["dr-aurora-global-lag"])
    assert dims is not None and dims["dimensions"] == {"DBClusterIdentifier": "retail-prod-dr-sql"}


def test_the_topic_policy_admits_only_cloudwatch_alarms_of_this_account_over_tls():
    for policy in built("full").of_type("aws:sns/topicPolicy:TopicPolicy"):
        region = policy.inputs["region"]
        allow, deny = json.loads(policy.inputs["policy"])["Statement"]
        assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
        assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:*"
        assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_subscription_is_the_configured_endpoint_with_its_protocol():
    subscriptions = built("full").of_type("aws:sns/topicSubscription:TopicSubscription")
    assert len(subscriptions) == 3
    for subscription in subscriptions:
        assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "oncall@example.com")


def test_a_stack_without_streams_cdn_or_dr_has_none_of_their_alarms():
    found = alarms(built("lean"))
    assert set(found) == {"alb-5xx-rate", "alb-p99-latency-all", "aurora-cpu", "aurora-acu-at-max",
                          "aurora-replica-lag", "dynamodb-throttled-orders", "cache-evictions", "cache-cpu",
                          "eks-node-cpu", "eks-node-memory", "eks-failed-nodes"}
    assert set(topics(built("lean"))) == {REGION}
    assert found["aurora-acu-at-max"].inputs["threshold"] == 4


def test_the_dashboard_draws_exactly_the_alarmed_signals_in_their_regions():
    graph = built("full")
    body = json.loads(graph.one(DASHBOARD).inputs["dashboardBody"])
    titles = {w["properties"]["title"]: w["properties"] for w in body["widgets"]}
    assert len(body["widgets"]) == len(EXPECTED)
    cloudfront = titles["CloudFront 5xx error rate"]
    assert cloudfront["region"] == EDGE
    assert cloudfront["annotations"]["horizontal"][0]["value"] == 3.0
    assert cloudfront["metrics"][0][:4] == ["AWS/CloudFront", "5xxErrorRate", "DistributionId", "E2EXAMPLE"]
    assert graph.one(DASHBOARD).inputs["dashboardName"] == "retail-prod-overview"


def test_cloudfront_alarms_without_a_us_east_1_key_are_refused():
    def program() -> None:
        context = stack_context(Conventions("prod", "platform", "cc-1234", "confidential", "prod"), region=REGION)
        Alarms("alarms", context, AlarmsArgs(SETTINGS, KEY, FULL))

    with pytest.raises(Exception, match="edge_key_arn"):
        run_program(program, project="retail", stack="prod", config={"aws:region": REGION})


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize("notify, protocol", [("oncall@example.com", "email"),
                                              ("https://hooks.slack.com/services/T0/B0/x", "https")])
def test_the_protocol_follows_from_the_endpoint(notify, protocol):
    assert AlarmsConfig(notify=notify).protocol == protocol


@pytest.mark.parametrize("notify, message", [
    ("http://hooks.example.com/x", "https"), ("oncall", "neither an e-mail"), ("https://", "https"),
    ("ftp://x.example.com", "https")])
def test_a_bad_endpoint_is_refused_naming_the_key(notify, message):
    with pytest.raises(ValidationError, match=r"retail:alarms\.notify") as error:
        AlarmsConfig(notify=notify)
    assert message in str(error.value)


def test_more_datapoints_than_periods_is_refused():
    with pytest.raises(ValidationError, match="datapointsToAlarm"):
        AlarmsConfig.model_validate({"notify": "a@example.com", "evaluationPeriods": 2, "datapointsToAlarm": 3})


@pytest.mark.parametrize("period", [30, 90])
def test_periods_are_whole_minutes(period):
    with pytest.raises(ValidationError, match="periodSeconds"):
        AlarmsConfig.model_validate({"notify": "a@example.com", "periodSeconds": period})


def test_unknown_keys_are_refused():
    with pytest.raises(ValidationError):
        AlarmsConfig.model_validate({"notify": "a@example.com", "albErrorRate": 5})


def test_a_provisioned_cluster_has_no_capacity_alarm():
    from components.observability.signals import signals

    keys = {s.key for s in signals(SignalSources(aurora=AuroraSource("retail-dev-sql", max_acu=None)), SETTINGS,
                                   REGION)}
    assert keys == {"aurora-cpu", "aurora-replica-lag"}


def test_a_dr_region_of_us_east_1_carries_cloudfronts_alarms_with_its_own_key():
    def program() -> None:
        context = stack_context(Conventions("prod", "platform", "cc-1234", "confidential", "prod"), region=REGION)
        Alarms("alarms", context, AlarmsArgs(SETTINGS, KEY, SignalSources(cloudfront_distribution_id="E2"),
                                             standby=StandbySignals(EDGE, EDGE_KEY, SignalSources())))

    graph = run_program(program, project="retail", stack="prod", config={"aws:region": REGION})
    assert {r: t.inputs["kmsMasterKeyId"] for r, t in topics(graph).items()} == {REGION: KEY, EDGE: EDGE_KEY}
    assert alarms(graph)["cloudfront-5xx-rate"].inputs["region"] == EDGE
