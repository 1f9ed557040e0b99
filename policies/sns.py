"""SNS topics: encrypted at rest with a customer-managed key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import names_customer_key, resource_policy

TOPIC = "aws:sns/topic:Topic"


# --- SNS.1 ----------------------------------------------------------------------------------


def _encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Stricter than FSBP SNS.1 (any KMS key): alias/aws/sns is refused too, because its policy
    # cannot admit CloudWatch, so alarms could not publish to the topic, and nobody could narrow
    # who decrypts its messages.
    if not names_customer_key(args.props, "kmsMasterKeyId"):
        report_violation(
            "topic is not encrypted with a customer-managed KMS key; set kms_master_key_id to the stack's "
            "alarms key (not alias/aws/sns, whose policy CloudWatch alarms cannot use).",
            None,
        )


POLICIES = [
    resource_policy(
        "sns-topic-encrypted",
        "SNS.1: SNS topics are encrypted at rest with a customer-managed KMS key",
        (TOPIC,),
        _encrypted,
    ),
]
