"""Kinesis Data Streams: encrypted at rest with a customer-managed key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import known, names_customer_key, resource_policy

STREAM = "aws:kinesis/stream:Stream"


# --- Kinesis.1 ------------------------------------------------------------------------------


def _encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is a violation: the provider's default encryption type is NONE.
    if known(args.props, "encryptionType") != "KMS" or not names_customer_key(args.props, "kmsKeyId"):
        report_violation(
            "stream is not encrypted with a customer-managed KMS key; set encryption_type='KMS' and "
            "kms_key_id to the stack's data key (not alias/aws/kinesis).",
            None,
        )


POLICIES = [
    resource_policy(
        "kinesis-stream-encrypted",
        "Kinesis.1: Kinesis streams are encrypted at rest with a customer-managed KMS key",
        (STREAM,),
        _encrypted,
    ),
]
