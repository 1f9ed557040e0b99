"""AuditServices, built alone under the project's mocks: the properties the audit evidence rests on."""

from __future__ import annotations

import json
from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.checks import snapshots
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.audit.controls import CONFIG_RULES
from components.audit.documents import audit_access_log_delivery
from components.audit.services import GUARDDUTY_FEATURES, AuditBucketRef, AuditServices, AuditServicesArgs
from components.audit.settings import AuditConfig
from components.common.conventions import Conventions
from policies import audit_bucket, cloudtrail, config, guardduty
from policies.offline import evaluate
from policies.registry import POLICIES
from tests.support import stack_context

REGION, DR_REGION = "eu-west-1", "eu-central-1"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
DR_LOGS_KEY = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
LOGS_BUCKET = f"retail-prod-logs-{ACCOUNT_ID}"
CUSTOMER_BUCKETS = [f"arn:aws:s3:::retail-prod-data-lake-{ACCOUNT_ID}",
                    f"arn:aws:s3:::retail-prod-backups-{ACCOUNT_ID}"]
AUDIT_BUCKET = f"retail-prod-audit-{ACCOUNT_ID}"

TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
ACCOUNT_LEVEL_TYPES = (DETECTOR, FEATURE, "aws:guardduty/publishingDestination:PublishingDestination",
                       "aws:securityhub/account:Account", "aws:securityhub/standardsSubscription:StandardsSubscription",
                       "aws:accessanalyzer/analyzer:Analyzer", "aws:cfg/recorder:Recorder",
                       "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus")


@cache
def built(stack: str = "prod", account_level: str = "manage", s3_data_events: str = "customerData",
          dr: bool = False) -> ResourceGraph:
    prod = stack == "prod"

    def program() -> None:
        conventions = Conventions(stack, "platform", "cc-1234", "confidential", stack)
        context = stack_context(conventions, region=REGION, protect=prod)
        settings = AuditConfig.model_validate({"accountLevel": account_level, "s3DataEvents": s3_data_events,
                                               "objectLockRetentionDays": 365 if prod else 1})
        regions = [REGION, DR_REGION] if dr else [REGION]
        primary = AuditServices("audit", context, AuditServicesArgs(
            settings, LOGS_KEY, LOGS_BUCKET, CUSTOMER_BUCKETS, detector_regions=regions))
        if dr:
            dr_context = stack_context(conventions, region=DR_REGION, protect=prod).for_dr(DR_REGION)
            AuditServices("dr-audit", dr_context, AuditServicesArgs(
                settings, DR_LOGS_KEY, f"retail-prod-dr-logs-{ACCOUNT_ID}", detector_regions=regions,
                audit_bucket=primary.bucket_ref()))

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


def test_the_trail_is_multi_region_validated_and_encrypted_with_the_logs_key():
    [trail] = built().of_type(TRAIL)
    inputs = trail.inputs
    assert inputs["isMultiRegionTrail"] is True and inputs["includeGlobalServiceEvents"] is True
    assert inputs["enableLogFileValidation"] is True
    assert inputs["kmsKeyId"] == LOGS_KEY
    assert inputs["s3BucketName"] == AUDIT_BUCKET
    assert trail.protect is True and built("dev").of_type(TRAIL)[0].protect is False
    [group] = built().of_type("aws:cloudwatch/logGroup:LogGroup")
    assert inputs["cloudWatchLogsGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group.inputs['name']}:*"
    assert group.inputs["kmsKeyId"] == LOGS_KEY and group.inputs["retentionInDays"] == 365


def _selectors(graph: ResourceGraph) -> dict[str, dict[str, dict]]:
    [trail] = graph.of_type(TRAIL)
    return {s["name"]: {f["field"]: f for f in s["fieldSelectors"]} for s in trail.inputs["advancedEventSelectors"]}


def test_management_events_read_and_write_and_data_events_on_exactly_the_customer_buckets():
    selectors = _selectors(built())
    assert selectors["management-events"] == {"eventCategory": {"field": "eventCategory", "equals": ["Management"]}}
    data = selectors["s3-customer-data-events"]
    assert data["resources.type"]["equals"] == ["AWS::S3::Object"]
    # Each bucket's objects, with the trailing "/" so that a bucket whose name extends it is not selected.
    assert data["resources.ARN"]["startsWiths"] == [f"{arn}/" for arn in CUSTOMER_BUCKETS]
    assert set(selectors) == {"management-events", "s3-customer-data-events"}


def test_no_data_events_when_the_stack_says_none():
    assert set(_selectors(built(s3_data_events="none"))) == {"management-events"}


def test_the_audit_bucket_is_locked_in_compliance_mode_encrypted_with_the_logs_key_and_logged():
    graph = built()
    [bucket] = [b for b in graph.of_type("aws:s3/bucket:Bucket")]
    assert bucket.inputs["objectLockEnabled"] is True and bucket.inputs["tags"]["purpose"] == "audit"
    assert bucket.protect is True
    [lock] = graph.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 365}
    [sse] = graph.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": LOGS_KEY}
    [logging] = graph.of_type("aws:s3/bucketLogging:BucketLogging")
    assert (logging.inputs["targetBucket"], logging.inputs["targetPrefix"]) == (LOGS_BUCKET, "s3-access/audit/")
    [lifecycle] = graph.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    assert rules["archive-current-objects"]["transitions"] == [{"storageClass": "GLACIER", "days": 90}]
    # PCI DSS 10.5.1: nothing current expires, and no old version before a year.
    assert "expire-current-objects" not in rules
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] >= 365


def test_the_recorder_records_everything_delivers_to_the_audit_bucket_and_is_started():
    graph = built()
    [recorder] = graph.of_type("aws:cfg/recorder:Recorder")
    assert recorder.inputs["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    [channel] = graph.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert (channel.inputs["s3BucketName"], channel.inputs["s3KmsKeyArn"]) == (AUDIT_BUCKET, LOGS_KEY)
    [status] = graph.of_type("aws:cfg/recorderStatus:RecorderStatus")
    assert status.inputs["isEnabled"] is True and status.inputs["name"] == recorder.inputs["name"]
    assert channel.urn in status.dependencies
    [managed] = graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert managed.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    rules = {r.inputs["source"]["sourceIdentifier"] for r in graph.of_type("aws:cfg/rule:Rule")}
    assert rules == set(CONFIG_RULES.values())
    assert {"CLOUD_TRAIL_ENCRYPTION_ENABLED", "S3_BUCKET_SSL_REQUESTS_ONLY", "RDS_STORAGE_ENCRYPTED"} <= rules


def test_guardduty_runs_every_feature_and_exports_findings_to_the_audit_bucket_with_the_logs_key():
    graph = built()
    [detector] = graph.of_type(DETECTOR)
    assert detector.inputs["enable"] is True and detector.inputs["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    features = {f.inputs["name"]: f.inputs for f in graph.of_type(FEATURE)}
    assert set(features) == set(GUARDDUTY_FEATURES) == {
        "EKS_AUDIT_LOGS", "EKS_RUNTIME_MONITORING", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "S3_DATA_EVENTS"}
    assert all(f["status"] == "ENABLED" for f in features.values())
    assert features["EKS_RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}]
    [export] = graph.of_type("aws:guardduty/publishingDestination:PublishingDestination")
    assert export.inputs["destinationArn"] == f"arn:aws:s3:::{AUDIT_BUCKET}"
    assert export.inputs["kmsKeyArn"] == LOGS_KEY


def test_security_hub_subscribes_fsbp_and_pci_dss_4_in_its_region_after_the_account():
    graph = built()
    [hub] = graph.of_type("aws:securityhub/account:Account")
    assert hub.inputs["enableDefaultStandards"] is False
    subscriptions = graph.of_type("aws:securityhub/standardsSubscription:StandardsSubscription")
    assert sorted(s.inputs["standardsArn"] for s in subscriptions) == [
        f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{REGION}::standards/pci-dss/v/4.0.1",
    ]
    assert all(hub.urn in s.dependencies for s in subscriptions)
    [analyzer] = graph.of_type("aws:accessanalyzer/analyzer:Analyzer")
    assert analyzer.inputs["type"] == "ACCOUNT"


def test_existing_account_level_builds_no_account_level_resource_but_keeps_bucket_trail_and_rules():
    graph = built(account_level="existing")
    assert [r.type for r in graph.resources if r.type in ACCOUNT_LEVEL_TYPES] == []
    assert len(graph.of_type(TRAIL)) == 1
    assert len(graph.of_type("aws:cfg/rule:Rule")) == len(CONFIG_RULES)
    # No detector of ours exports here: the bucket policy admits CloudTrail only.
    [policy] = graph.of_type("aws:s3/bucketPolicy:BucketPolicy")
    sids = {s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert "AllowCloudTrailWrite" in sids and not any("GuardDuty" in sid for sid in sids)


def test_the_dr_region_has_its_own_detector_hub_and_recorder_without_global_types_delivering_to_the_primary():
    graph = built(dr=True)
    assert len(graph.of_type(TRAIL)) == 1 and len(graph.of_type("aws:s3/bucket:Bucket")) == 1
    recorders = {r.inputs["region"]: r.inputs["recordingGroup"] for r in graph.of_type("aws:cfg/recorder:Recorder")}
    assert recorders[REGION]["includeGlobalResourceTypes"] is True
    assert recorders[DR_REGION]["includeGlobalResourceTypes"] is False
    channels = {c.inputs["region"]: c.inputs for c in graph.of_type("aws:cfg/deliveryChannel:DeliveryChannel")}
    assert channels[DR_REGION]["s3BucketName"] == AUDIT_BUCKET and channels[DR_REGION]["s3KmsKeyArn"] == LOGS_KEY
    exports = {e.inputs["region"]: e.inputs for e in graph.of_type(
        "aws:guardduty/publishingDestination:PublishingDestination")}
    assert exports[DR_REGION]["kmsKeyArn"] == LOGS_KEY  # the bucket's region's key, not the DR one
    [policy_urn] = [p.urn for p in graph.of_type("aws:s3/bucketPolicy:BucketPolicy")]
    [dr_export] = [e for e in graph.of_type("aws:guardduty/publishingDestination:PublishingDestination")
                   if e.inputs["region"] == DR_REGION]
    assert policy_urn in dr_export.dependencies
    assert {d.inputs["region"] for d in graph.of_type(DETECTOR)} == {REGION, DR_REGION}
    [policy] = graph.of_type("aws:s3/bucketPolicy:BucketPolicy")
    [gd] = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "AllowGuardDutyPutFindings"]
    assert gd["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:guardduty:{r}:{ACCOUNT_ID}:detector/*" for r in (REGION, DR_REGION)]


@pytest.mark.parametrize("stack, account_level", [("dev", "manage"), ("prod", "manage"), ("prod", "existing")])
def test_the_component_passes_the_whole_pack_and_the_audit_policies(stack, account_level):
    graph = built(stack, account_level)
    policies = [*POLICIES, *cloudtrail.POLICIES, *config.POLICIES, *guardduty.POLICIES, *audit_bucket.POLICIES]
    assert evaluate(snapshots(graph), policies).violations == []


def test_args_refuse_customer_data_events_without_buckets():
    with pytest.raises(ValueError, match="customer_data_bucket_arns is empty"):
        AuditServicesArgs(AuditConfig(), LOGS_KEY, LOGS_BUCKET, [])
    with pytest.raises(TypeError, match="list of ARNs"):
        AuditServicesArgs(AuditConfig(), LOGS_KEY, LOGS_BUCKET, CUSTOMER_BUCKETS[0])
    # A DR region's instance has no trail of its own, so it needs none.
    AuditServicesArgs(AuditConfig(), DR_LOGS_KEY, LOGS_BUCKET, [],
                      audit_bucket=AuditBucketRef(AUDIT_BUCKET, f"arn:aws:s3:::{AUDIT_BUCKET}", LOGS_KEY, REGION))


def test_the_logs_bucket_statement_names_the_audit_bucket_the_component_builds():
    [bucket] = built().of_type("aws:s3/bucket:Bucket")
    build = audit_access_log_delivery(Conventions("prod", "platform", "cc-1234", "confidential", "prod"))
    statement = build(f"arn:aws:s3:::{LOGS_BUCKET}", "aws", ACCOUNT_ID)
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == [f"arn:aws:s3:::{bucket.inputs['bucket']}"]
    assert statement["Resource"] == [f"arn:aws:s3:::{LOGS_BUCKET}/s3-access/audit/*"]
