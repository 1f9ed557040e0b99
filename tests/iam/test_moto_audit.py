"""The audit layer's documents in moto and the reference evaluator (conftest.py says which
judges what): the trail's CloudWatch Logs role, AWS Config's delivery grant, the audit bucket's
policy, and the logs key's statements for CloudTrail and GuardDuty.

moto's IAM validates the role documents; the bucket and key policies go through its grammar
validator (S3 and KMS take them unchecked). Service principals, ``ArnLike`` and the ``Null``/
``Bool`` conditions are beyond moto's evaluator, so those verdicts are the reference
evaluator's (ours, not AWS's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.audit.documents import (
    audit_access_log_statement,
    audit_bucket_policy,
    cloudtrail_logs_policy,
    cloudtrail_logs_trust_policy,
    config_delivery_policy,
    config_trust_policy,
    detector_arns,
    trail_arn,
)
from components.foundation.keys import KEY_DOMAINS, key_policy
from tests.iam.conftest import MotoAccount, moto_evaluate, reference_evaluate, validate_policy_grammar

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
REGION, DR_REGION = "eu-west-1", "eu-central-1"
OTHER_ACCOUNT = "210987654321"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
BUCKET_ARN = f"arn:aws:s3:::retail-prod-audit-{ACCOUNT_ID}"
TRAIL = trail_arn("aws", REGION, ACCOUNT_ID, "retail-prod-trail")
OTHER_TRAIL = trail_arn("aws", REGION, OTHER_ACCOUNT, "retail-prod-trail")
GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/cloudtrail/retail-prod-trail"
DETECTOR = f"arn:aws:guardduty:{REGION}:{ACCOUNT_ID}:detector/12abc34d567e8fa901bc2d34e56789f0"

BUCKET_POLICY = audit_bucket_policy(BUCKET_ARN, KEY, account_id=ACCOUNT_ID, source_trail_arn=TRAIL,
                                    detectors=detector_arns("aws", [REGION, DR_REGION], ACCOUNT_ID))
TRAIL_ROLE_POLICY = cloudtrail_logs_policy(f"{GROUP}:*", ACCOUNT_ID)
CONFIG_POLICY = config_delivery_policy(BUCKET_ARN, ACCOUNT_ID, KEY, REGION)
CLOUDTRAIL = ("Service", "cloudtrail.amazonaws.com")
GUARDDUTY = ("Service", "guardduty.amazonaws.com")
ADMIN = ("AWS", f"arn:aws:iam::{ACCOUNT_ID}:role/admin")
TLS = {"aws:SecureTransport": "true"}


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


# -- roles ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, trust, policy", [
    ("trail-logs", cloudtrail_logs_trust_policy(ACCOUNT_ID), TRAIL_ROLE_POLICY),
    ("config", config_trust_policy(ACCOUNT_ID), CONFIG_POLICY),
])
def test_iam_accepts_the_roles_trust_and_grants(account, name, trust, policy):
    iam = account.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="grant", PolicyDocument=json.dumps(policy))
    assert iam.get_role_policy(RoleName=name, PolicyName="grant")["PolicyDocument"] == policy


def test_only_cloudtrail_of_this_account_may_assume_the_trail_role():
    [trust] = cloudtrail_logs_trust_policy(ACCOUNT_ID)["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_the_trail_role_writes_only_the_trails_streams_of_its_own_group():
    stream = f"{GROUP}:log-stream:{ACCOUNT_ID}_CloudTrail_{REGION}"
    assert moto_evaluate(TRAIL_ROLE_POLICY, "logs:PutLogEvents", stream) == PERMITTED
    assert moto_evaluate(TRAIL_ROLE_POLICY, "logs:CreateLogStream",
                         f"{GROUP}:log-stream:{ACCOUNT_ID}_CloudTrail_{DR_REGION}") == PERMITTED
    other_group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/eks/retail-prod/cluster"
    assert moto_evaluate(TRAIL_ROLE_POLICY, "logs:PutLogEvents",
                         f"{other_group}:log-stream:{ACCOUNT_ID}_CloudTrail_{REGION}") != PERMITTED
    assert moto_evaluate(TRAIL_ROLE_POLICY, "logs:PutLogEvents", f"{GROUP}:log-stream:forged") != PERMITTED
    for action in ("logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:GetLogEvents"):
        assert moto_evaluate(TRAIL_ROLE_POLICY, action, GROUP) != PERMITTED


def test_config_delivers_only_under_its_prefix_and_uses_the_key_only_through_s3():
    assert moto_evaluate(CONFIG_POLICY, "s3:PutObject",
                         f"{BUCKET_ARN}/AWSLogs/{ACCOUNT_ID}/Config/{REGION}/2026/11/25/x.json.gz") == PERMITTED
    assert moto_evaluate(CONFIG_POLICY, "s3:PutObject", f"{BUCKET_ARN}/AWSLogs/{ACCOUNT_ID}/CloudTrail/x") != PERMITTED
    assert moto_evaluate(CONFIG_POLICY, "s3:DeleteObject", f"{BUCKET_ARN}/AWSLogs/{ACCOUNT_ID}/Config/x") != PERMITTED
    via = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert reference_evaluate(CONFIG_POLICY, "kms:GenerateDataKey", KEY, context=via) == PERMITTED
    assert reference_evaluate(CONFIG_POLICY, "kms:GenerateDataKey", KEY,
                              context={"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}) != PERMITTED


# -- the audit bucket's policy ----------------------------------------------------------------

def test_the_bucket_policy_is_valid_grammar():
    validate_policy_grammar(BUCKET_POLICY)
    validate_policy_grammar({"Version": "2012-10-17",
                             "Statement": [audit_access_log_statement(BUCKET_ARN, "arn:aws:s3:::logs", ACCOUNT_ID)]})


def _cloudtrail_put(key: str, source_arn: str = TRAIL, account: str = ACCOUNT_ID, **extra: str) -> PermissionResult:
    headers = {"s3:x-amz-acl": "bucket-owner-full-control", "s3:x-amz-server-side-encryption": "aws:kms",
               "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}
    context = {**TLS, **headers, "aws:SourceArn": source_arn, "aws:SourceAccount": account, **extra}
    return reference_evaluate(BUCKET_POLICY, "s3:PutObject", f"{BUCKET_ARN}/{key}", context=context,
                              principal=CLOUDTRAIL)


def test_this_accounts_trail_may_write_under_awslogs_of_this_account():
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/25/log.json.gz") == PERMITTED
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/CloudTrail-Digest/{REGION}/2026/11/25/d.json.gz") == PERMITTED
    assert reference_evaluate(BUCKET_POLICY, "s3:GetBucketAcl", BUCKET_ARN, principal=CLOUDTRAIL,
                              context={**TLS, "aws:SourceArn": TRAIL, "aws:SourceAccount": ACCOUNT_ID}) == PERMITTED


def test_another_accounts_trail_may_not_write_even_under_our_prefix():
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/CloudTrail/x", OTHER_TRAIL, OTHER_ACCOUNT) == NEUTRAL
    assert _cloudtrail_put(f"AWSLogs/{OTHER_ACCOUNT}/CloudTrail/x", OTHER_TRAIL, OTHER_ACCOUNT) == NEUTRAL
    # Another trail of this account (not the stack's) is not admitted either.
    other = trail_arn("aws", REGION, ACCOUNT_ID, "someone-elses-trail")
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/CloudTrail/x", other) == NEUTRAL


def test_the_trail_writes_only_over_tls_with_the_logs_key_and_outside_awslogs_not_at_all():
    assert _cloudtrail_put("elsewhere/x") == NEUTRAL
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/x", **{"aws:SecureTransport": "false"}) == DENIED
    other_key = KEY.replace("66666666", "77777777")
    assert _cloudtrail_put(f"AWSLogs/{ACCOUNT_ID}/x", **{"s3:x-amz-server-side-encryption-aws-kms-key-id":
                                                         other_key}) == DENIED


def test_guardduty_of_this_accounts_detectors_may_export_findings():
    context = {**TLS, "aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": DETECTOR}
    findings = f"{BUCKET_ARN}/AWSLogs/{ACCOUNT_ID}/GuardDuty/{REGION}/2026/11/25/f.jsonl.gz"
    assert reference_evaluate(BUCKET_POLICY, "s3:PutObject", findings, context=context,
                              principal=GUARDDUTY) == PERMITTED
    foreign = {**context, "aws:SourceAccount": OTHER_ACCOUNT,
               "aws:SourceArn": DETECTOR.replace(ACCOUNT_ID, OTHER_ACCOUNT)}
    assert reference_evaluate(BUCKET_POLICY, "s3:PutObject", findings, context=foreign, principal=GUARDDUTY) == NEUTRAL
    elsewhere = {**context, "aws:SourceArn": DETECTOR.replace(REGION, "us-east-1")}
    assert reference_evaluate(BUCKET_POLICY, "s3:PutObject", findings, context=elsewhere,
                              principal=GUARDDUTY) == NEUTRAL


@pytest.mark.parametrize("action", ["s3:DeleteObject", "s3:DeleteObjectVersion"])
def test_no_principal_may_delete_an_audit_object(action):
    resource = f"{BUCKET_ARN}/AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/25/log.json.gz"
    assert reference_evaluate(BUCKET_POLICY, action, resource, context=TLS, principal=ADMIN) == DENIED
    assert reference_evaluate(BUCKET_POLICY, action, resource, context=TLS, principal=CLOUDTRAIL) == DENIED


def test_a_plain_principal_gets_nothing_from_the_bucket_policy():
    assert reference_evaluate(BUCKET_POLICY, "s3:GetObject", f"{BUCKET_ARN}/AWSLogs/x", context=TLS,
                              principal=ADMIN) == NEUTRAL


def test_the_logs_bucket_admits_the_audit_buckets_access_logs_only():
    logs = "arn:aws:s3:::retail-prod-logs"
    policy = {"Version": "2012-10-17", "Statement": [audit_access_log_statement(BUCKET_ARN, logs, ACCOUNT_ID)]}
    delivery = ("Service", "logging.s3.amazonaws.com")
    context = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": BUCKET_ARN}
    assert reference_evaluate(policy, "s3:PutObject", f"{logs}/s3-access/audit/x", context=context,
                              principal=delivery) == PERMITTED
    assert reference_evaluate(policy, "s3:PutObject", f"{logs}/s3-access/assets/x", context=context,
                              principal=delivery) == NEUTRAL
    assert reference_evaluate(policy, "s3:PutObject", f"{logs}/s3-access/audit/x", principal=delivery,
                              context={**context, "aws:SourceArn": "arn:aws:s3:::attacker"}) == NEUTRAL


# -- the logs key -----------------------------------------------------------------------------

LOGS_KEY_POLICY = key_policy(next(d for d in KEY_DOMAINS if d.name == "logs"), partition="aws",
                             account_id=ACCOUNT_ID, regions=[REGION, DR_REGION])
DATA_KEY_POLICY = key_policy(next(d for d in KEY_DOMAINS if d.name == "data"), partition="aws",
                             account_id=ACCOUNT_ID, regions=[REGION, DR_REGION])


def test_the_logs_key_policy_is_valid_grammar():
    validate_policy_grammar(LOGS_KEY_POLICY)


def _trail_encrypts(policy, trail: str = TRAIL, account: str = ACCOUNT_ID, principal=CLOUDTRAIL) -> PermissionResult:
    context = {"aws:SourceAccount": account, "kms:EncryptionContext:aws:cloudtrail:arn": trail}
    return reference_evaluate(policy, "kms:GenerateDataKey", KEY, context=context, principal=principal)


def test_cloudtrail_of_this_account_may_encrypt_with_the_logs_key():
    assert _trail_encrypts(LOGS_KEY_POLICY) == PERMITTED
    assert reference_evaluate(LOGS_KEY_POLICY, "kms:DescribeKey", KEY, principal=CLOUDTRAIL,
                              context={"aws:SourceAccount": ACCOUNT_ID}) == PERMITTED


def test_another_accounts_trail_an_unrelated_service_and_the_data_key_are_refused():
    assert _trail_encrypts(LOGS_KEY_POLICY, OTHER_TRAIL, OTHER_ACCOUNT) == NEUTRAL
    assert _trail_encrypts(LOGS_KEY_POLICY, OTHER_TRAIL, ACCOUNT_ID) == NEUTRAL
    assert _trail_encrypts(LOGS_KEY_POLICY, principal=("Service", "sns.amazonaws.com")) == NEUTRAL
    # CloudTrail may not decrypt what it wrote: readers decrypt through their own IAM grants.
    assert reference_evaluate(LOGS_KEY_POLICY, "kms:Decrypt", KEY, principal=CLOUDTRAIL,
                              context={"aws:SourceAccount": ACCOUNT_ID}) == NEUTRAL
    # The customer-data key admits neither CloudTrail nor GuardDuty.
    assert _trail_encrypts(DATA_KEY_POLICY) == NEUTRAL


@pytest.mark.parametrize("region, expected", [(REGION, PERMITTED), (DR_REGION, PERMITTED), ("us-east-1", NEUTRAL)])
def test_guardduty_detectors_of_the_stacks_regions_may_encrypt_findings(region, expected):
    context = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": DETECTOR.replace(REGION, region)}
    assert reference_evaluate(LOGS_KEY_POLICY, "kms:GenerateDataKey", KEY, context=context,
                              principal=GUARDDUTY) == expected
    assert reference_evaluate(DATA_KEY_POLICY, "kms:GenerateDataKey", KEY, context=context,
                              principal=GUARDDUTY) == NEUTRAL
