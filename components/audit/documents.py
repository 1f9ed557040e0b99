"""The audit layer's policy documents, as pure functions of names and ARNs (loaded into moto
and the reference evaluator by the tests exactly as the component attaches them).

Sources: AWS CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail" and "Sending events
to CloudWatch Logs" (role policy); AWS Config Developer Guide, "Permissions for the IAM role
assigned to AWS Config" and "Permissions for the Amazon S3 bucket"; Amazon GuardDuty User Guide,
"Exporting findings" (bucket policy). Each service statement is scoped with ``aws:SourceAccount``
and ``aws:SourceArn``, so another account's trail or detector cannot write here through the
same service principal (the confused-deputy problem).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from components.common.conventions import Conventions
from components.common.grants import kms_via_service, policy_document, service_trust_policy, statement
from components.data.bucket_policies import ACCESS_LOG_PREFIX, S3_LOG_DELIVERY_PRINCIPAL, bucket_policy

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
CONFIG_PRINCIPAL = "config.amazonaws.com"
GUARDDUTY_PRINCIPAL = "guardduty.amazonaws.com"

#: The AWS managed policy that lets AWS Config read the configuration of every supported type.
CONFIG_MANAGED_POLICY = "policy/service-role/AWS_ConfigRole"

#: The purpose tag and slug of the audit bucket (the policy pack finds it by ``purpose=audit``).
AUDIT_PURPOSE = "audit"

#: CloudTrail, GuardDuty and Config all write under ``AWSLogs/<account>/``.
LOGS_PREFIX = "AWSLogs"

#: The canned ACL CloudTrail and Config send; with ACLs disabled (BucketOwnerEnforced) S3
#: accepts only this one, and the bucket policy asks for it as AWS's own example does.
OWNER_FULL_CONTROL = "bucket-owner-full-control"


def trail_arn(partition: str, region: str, account_id: str, trail_name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def detector_arns(partition: str, regions: Sequence[str], account_id: str) -> list[str]:
    # A detector's id is GuardDuty's choice: the ARN pattern names the account and regions.
    return [f"arn:{partition}:guardduty:{region}:{account_id}:detector/*" for region in regions]


def _service(principal: str, stmt: dict[str, Any]) -> dict[str, Any]:
    return {"Sid": stmt["Sid"], "Effect": stmt["Effect"], "Principal": {"Service": principal}, **stmt}


def cloudtrail_delivery_statements(bucket_arn: str, account_id: str, source_trail_arn: str) -> list[dict[str, Any]]:
    """CloudTrail of this account's one trail may check the bucket's ACL and write log files under
    ``AWSLogs/<account>/`` (CloudTrail Digest files included), and nothing else."""
    source = {"aws:SourceArn": source_trail_arn, "aws:SourceAccount": account_id}
    return [
        _service(CLOUDTRAIL_PRINCIPAL, statement("AllowCloudTrailAclCheck", ["s3:GetBucketAcl"], [bucket_arn],
                                                 condition={"StringEquals": source})),
        _service(CLOUDTRAIL_PRINCIPAL, statement(
            "AllowCloudTrailWrite", ["s3:PutObject"], [f"{bucket_arn}/{LOGS_PREFIX}/{account_id}/*"],
            condition={"StringEquals": {**source, "s3:x-amz-acl": OWNER_FULL_CONTROL}})),
    ]


def guardduty_export_statements(bucket_arn: str, account_id: str, detectors: Sequence[str]) -> list[dict[str, Any]]:
    """GuardDuty's detectors of this account (in the given ARN patterns) may locate the bucket
    and write findings under ``AWSLogs/<account>/GuardDuty/``."""
    condition = {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": list(detectors)}}
    return [
        _service(GUARDDUTY_PRINCIPAL, statement("AllowGuardDutyGetBucketLocation", ["s3:GetBucketLocation"],
                                                [bucket_arn], condition=condition)),
        _service(GUARDDUTY_PRINCIPAL, statement(
            "AllowGuardDutyPutFindings", ["s3:PutObject"], [f"{bucket_arn}/{LOGS_PREFIX}/{account_id}/GuardDuty/*"],
            condition=condition)),
    ]


def deny_object_deletion(bucket_arn: str) -> dict[str, Any]:
    """No one deletes an audit object or version, whatever IAM grants (PCI DSS 10.3.2); Object
    Lock already refuses it while the retention runs, this refuses it after as well, until a
    deliberate change of this policy. Lifecycle expiration is not a request and still applies."""
    return {"Sid": "DenyAuditObjectDeletion", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"], "Resource": [f"{bucket_arn}/*"]}


def audit_bucket_policy(bucket_arn: str, key_arn: str, *, account_id: str, source_trail_arn: str | None,
                        detectors: Sequence[str]) -> dict[str, Any]:
    """The audit bucket's one policy: the object store's baseline (TLS only, uploads only with
    the logs key), no deletes, then CloudTrail's and GuardDuty's delivery. AWS Config writes as
    its own role (:func:`config_delivery_policy`), so it needs no statement here."""
    extra = [deny_object_deletion(bucket_arn)]
    if source_trail_arn is not None:
        extra += cloudtrail_delivery_statements(bucket_arn, account_id, source_trail_arn)
    if detectors:
        extra += guardduty_export_statements(bucket_arn, account_id, detectors)
    return bucket_policy(bucket_arn, key_arn, account_id=account_id, extra_statements=extra)


def audit_access_log_statement(audit_bucket_arn: str, logs_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """For the logs bucket's policy: S3 may deliver the audit bucket's server access logs under
    ``s3-access/audit/`` (the store's own statement admits only the store's buckets)."""
    return {"Sid": "AllowAuditBucketAccessLogDelivery", "Effect": "Allow",
            "Principal": {"Service": S3_LOG_DELIVERY_PRINCIPAL}, "Action": ["s3:PutObject"],
            "Resource": [f"{logs_bucket_arn}/{ACCESS_LOG_PREFIX}{AUDIT_PURPOSE}/*"],
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                          "ArnLike": {"aws:SourceArn": [audit_bucket_arn]}}}


def audit_bucket_name(conventions: Conventions, account_id: str) -> str:
    """The audit bucket's name: ``retail-<stack>-audit-<account>`` (bucket names are global)."""
    return f"{conventions.physical_name(AUDIT_PURPOSE)}-{account_id}"


def audit_access_log_delivery(conventions: Conventions) -> Callable[[str, str, str], dict[str, Any]]:
    """A builder for ``ObjectStoreArgs.extra_statements["logs"]`` (a StatementBuilder of
    components/data/bucket_policies.py): the audit bucket's name is known from the conventions,
    so the logs bucket can admit it without waiting for the audit bucket (no cycle)."""

    def build(logs_bucket_arn: str, partition: str, account_id: str) -> dict[str, Any]:
        audit_arn = f"arn:{partition}:s3:::{audit_bucket_name(conventions, account_id)}"
        return audit_access_log_statement(audit_arn, logs_bucket_arn, account_id)

    return build


def cloudtrail_logs_trust_policy(account_id: str) -> dict[str, Any]:
    """Only CloudTrail, acting for this account, may assume the trail's CloudWatch Logs role."""
    return service_trust_policy(CLOUDTRAIL_PRINCIPAL, account_id)


def cloudtrail_logs_policy(log_group_arn: str, account_id: str) -> dict[str, Any]:
    """Create the trail's streams and put events into them, in the trail's one log group only.
    A multi-Region trail writes one stream per region, ``<account>_CloudTrail_<region>``."""
    group = log_group_arn.removesuffix(":*")
    return policy_document(statement("WriteTrailEvents", ["logs:CreateLogStream", "logs:PutLogEvents"],
                                     [f"{group}:log-stream:{account_id}_CloudTrail_*"]))


def config_trust_policy(account_id: str) -> dict[str, Any]:
    return service_trust_policy(CONFIG_PRINCIPAL, account_id)


def config_delivery_policy(bucket_arn: str, account_id: str, key_arn: str, bucket_region: str) -> dict[str, Any]:
    """What AWS Config's role needs beyond AWS_ConfigRole to deliver: check the bucket's ACL and
    write configuration history and snapshots under ``AWSLogs/<account>/Config/``, encrypted with
    the logs key through S3 (in the bucket's region)."""
    return policy_document(
        statement("CheckAuditBucketAcl", ["s3:GetBucketAcl"], [bucket_arn]),
        statement("DeliverConfiguration", ["s3:PutObject"], [f"{bucket_arn}/{LOGS_PREFIX}/{account_id}/Config/*"]),
        kms_via_service("EncryptThroughS3", key_arn, ["kms:Decrypt", "kms:GenerateDataKey"], "s3", bucket_region),
    )
