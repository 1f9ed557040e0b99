"""The audit bucket (tagged ``purpose=audit``): Object Lock in compliance mode, so no one, the
root user included, can delete or overwrite a log file while its retention runs.

Controls: PCI DSS v4.0.1 10.3.2 (audit log files protected from modification), 10.3.3 (backed up
to a store that is hard to alter), 10.5.1 (kept at least twelve months: a prod audit bucket's
default retention is at least 365 days); AWS Security Hub FSBP S3.15 (Object Lock enabled).
"""

from __future__ import annotations

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from components.common.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from policies._helpers import (
    check_each,
    companions_by_target,
    days_text,
    is_number,
    is_prod,
    known,
    mapping,
    stack_policy,
    tag_map,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
AUDIT_TAG, AUDIT_PURPOSE = "purpose", "audit"
COMPLIANCE = "COMPLIANCE"


def _retention_days(retention: object) -> float | None:
    block = mapping(retention)
    days, years = known(block, "days"), known(block, "years")
    if is_number(days):
        return float(days)
    if is_number(years):
        return float(years) * 365
    return None


def _locked(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    buckets = [r for r in args.resources if r.resource_type in BUCKET_TYPES
               and tag_map(known(r.props, "tags")).get(AUDIT_TAG) == AUDIT_PURPOSE]
    if not buckets:
        args.not_applicable("the stack has no audit bucket (tagged purpose=audit)")
    locks = companions_by_target(args.resources, (OBJECT_LOCK,), "bucket")

    def check(bucket: PolicyResource) -> None:
        if known(bucket.props, "objectLockEnabled") is not True:
            report_violation("the audit bucket was not created with Object Lock (object_lock_enabled=True; it can "
                             "only be chosen at creation), so its log files can be deleted (PCI DSS 10.3.2).",
                             bucket.urn)
        found = locks.get(bucket.urn, [])
        if not found:
            report_violation("the audit bucket has no default Object Lock retention; add an "
                             "aws.s3.BucketObjectLockConfiguration in COMPLIANCE mode.", bucket.urn)
        for lock in found:
            retention = mapping(mapping(known(lock.props, "rule")).get("defaultRetention"))
            mode = known(retention, "mode")
            if mode != COMPLIANCE:
                report_violation(f"the audit bucket's default retention is in {mode or 'no'} mode; use COMPLIANCE "
                                 "(GOVERNANCE lets a principal with s3:BypassGovernanceRetention delete log files).",
                                 lock.urn)
            days = _retention_days(retention)
            if is_prod(bucket.props) and days is not None and days < MIN_AUDIT_LOG_RETENTION_DAYS:
                report_violation(f"the prod audit bucket's default retention is {days_text(days)} days; PCI DSS "
                                 f"10.5.1 keeps audit logs {MIN_AUDIT_LOG_RETENTION_DAYS} days.", lock.urn)

    check_each(buckets, check)


POLICIES = [
    stack_policy("audit-bucket-object-lock",
                 "PCI DSS 10.3.2/10.5.1: the audit bucket has Object Lock in compliance mode (365 days in prod)",
                 _locked),
]
