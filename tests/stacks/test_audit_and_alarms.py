"""Audit, detection and alarms as the stacks build them: the trail records the customer data
with *our* logs key, every region of the stack runs a detector and a recorder delivering to the
one audit bucket, and every alarm a person must see reaches *our* encrypted topic of its own
region."""

from __future__ import annotations

import json

import pytest

from blueprint.graph import ResourceGraph
from config.loader import ConfigError, parse_stack_config
from tests.support import config_with

TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"


def regions_of(graph: ResourceGraph) -> list[str]:
    return [graph.region, *([graph.outputs["drRegion"]] if graph.outputs.get("drStrategy") in
                            ("pilot-light", "warm-standby", "active-active") else [])]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_one_trail_records_every_region_and_the_customer_data_with_our_logs_key(graph_of, stack):
    graph = graph_of(stack)
    (trail,) = graph.of_type(TRAIL)
    assert trail.inputs["isMultiRegionTrail"] is True and trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["kmsKeyId"] == graph.outputs["kmsKeyArns"]["logs"]
    data = [s for s in trail.inputs["advancedEventSelectors"]
            if {"field": "eventCategory", "equals": ["Data"]} in s["fieldSelectors"]]
    (selector,) = data
    (arns,) = [f["startsWiths"] for f in selector["fieldSelectors"] if f["field"] == "resources.ARN"]
    buckets = graph.outputs["bucketNames"]
    assert sorted(arns) == sorted(f"arn:aws:s3:::{buckets[p]}/" for p in ("dataLake", "backups"))
    assert trail.inputs["s3BucketName"] == f"retail-{stack}-audit-123456789012"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_region_of_the_stack_is_watched_and_delivers_to_the_one_audit_bucket(graph_of, stack):
    graph = graph_of(stack)
    regions = regions_of(graph)
    assert sorted(d.region for d in graph.of_type(DETECTOR)) == sorted(regions)
    assert sorted(r.region for r in graph.of_type(RECORDER)) == sorted(regions)
    assert {c.inputs["s3BucketName"] for c in graph.of_type(CHANNEL)} == {f"retail-{stack}-audit-123456789012"}
    # Global resource types are recorded once, in the primary.
    recorded_global = [r.region for r in graph.of_type(RECORDER)
                       if r.inputs.get("recordingGroup", {}).get("includeGlobalResourceTypes")]
    assert recorded_global == [graph.region]
    standards = {(s.region, s.inputs["standardsArn"].split("::standards/")[1]) for s in graph.of_type(STANDARD)}
    for region in regions:
        assert {(region, "aws-foundational-security-best-practices/v/1.0.0"),
                (region, "pci-dss/v/4.0.1")} <= standards
    assert sorted(a.region for a in graph.of_type(ANALYZER)) == sorted(regions)


def test_an_existing_landing_zone_keeps_its_account_level_services(synth_with):
    graph = synth_with("dev", audit={"accountLevel": "existing"})
    assert not graph.of_type(DETECTOR) and not graph.of_type(RECORDER) and not graph.of_type(STANDARD)
    assert len(graph.of_type(TRAIL)) == 1  # the stack's own trail stays


def test_every_paging_alarm_reaches_our_encrypted_topic_of_its_region(graph_of):
    graph = graph_of("prod")
    topics = {t.region: t for t in graph.of_type(TOPIC)}
    assert set(topics) == {"eu-west-1", "eu-central-1", "us-east-1"}
    keys = {k.region: k for k in [*graph.of_type(KEY), *graph.of_type(REPLICA_KEY)]
            if (k.inputs.get("tags") or {}).get("key-domain") == "alarms"}
    for region, topic in topics.items():
        assert topic.inputs["kmsMasterKeyId"].split(":")[3] == region
        assert keys[region].urn in topic.property_dependencies["kmsMasterKeyId"]
    paging = [a for a in graph.of_type(ALARM) if "control-exceptions" not in a.inputs["tags"]]
    assert len(paging) >= 20
    for alarm in paging:
        topic = topics[alarm.region]
        expected = f"arn:aws:sns:{alarm.region}:123456789012:{topic.inputs['name']}"
        assert alarm.inputs["alarmActions"] == [expected], alarm.name
        assert alarm.inputs["okActions"] == [expected], alarm.name
    # CloudFront's metrics exist only in us-east-1: its alarms are there.
    assert any(a.region == "us-east-1" for a in paging)


def test_the_alarms_cover_the_shops_signals(graph_of):
    graph = graph_of("prod")
    namespaces = {q.get("metric", {}).get("namespace") or a.inputs.get("namespace")
                  for a in graph.of_type(ALARM) for q in (a.inputs.get("metricQueries") or [{}])}
    assert {"AWS/ApplicationELB", "AWS/CloudFront", "AWS/WAFV2", "AWS/RDS", "AWS/DynamoDB", "AWS/ElastiCache",
            "ContainerInsights", "AWS/Kinesis", "AWS/Backup", "AWS/S3"} <= namespaces


def test_one_dashboard_and_container_insights_where_alarms_are(graph_of):
    prod, dev = graph_of("prod"), graph_of("dev")
    (dashboard,) = prod.of_type(DASHBOARD)
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    assert len(widgets) >= 10
    assert {a.region for a in prod.of_type(ADDON) if a.inputs["addonName"] == "amazon-cloudwatch-observability"} \
        == {"eu-west-1", "eu-central-1"}
    # Dev sets no retail:alarms: no topic, no dashboard, no add-on.
    assert not dev.of_type(DASHBOARD) and not dev.of_type(TOPIC)
    assert not [a for a in dev.of_type(ADDON) if a.inputs["addonName"] == "amazon-cloudwatch-observability"]


def test_prod_without_alarms_is_refused():
    config = config_with("prod")
    config.pop("retail:alarms")
    with pytest.raises(ConfigError) as info:
        parse_stack_config(config)
    assert [path for path, _ in info.value.problems] == ["retail:alarms.notify"]


def test_prod_never_deploys_from_a_branch():
    with pytest.raises(ConfigError) as info:
        parse_stack_config(config_with("prod", ci={"deployFromBranches": True}))
    assert [path for path, _ in info.value.problems] == ["retail:ci.deployFromBranches"]


def test_ci_roles_trust_only_this_repository(synth_with):
    graph = synth_with("prod", ci={"enabled": True, "repository": "acme/retail"})
    roles = {r.inputs["name"]: json.loads(r.inputs["assumeRolePolicy"]) for r in graph.of_type(ROLE)
             if "token.actions.githubusercontent.com" in r.inputs["assumeRolePolicy"]}
    assert len(roles) == 2
    for trust in roles.values():
        for statement in trust["Statement"]:
            subjects = [v for op in statement["Condition"].values() for k, vs in op.items() if k.endswith(":sub")
                        for v in (vs if isinstance(vs, list) else [vs])]
            assert subjects and all(s.startswith("repo:acme/retail:") for s in subjects)
    assert set(graph.outputs) >= {"ciPreviewRoleArn", "ciDeployRoleArn"}
