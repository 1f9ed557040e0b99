"""Amazon Data Firehose: delivery streams encrypted at rest with a customer-managed key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import is_set, known, mapping, names_customer_key, resource_policy

DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


# --- DataFirehose.1 -------------------------------------------------------------------------


def _encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    sse = mapping(known(props, "serverSideEncryption"))
    if is_set(props, "kinesisSourceConfiguration"):
        # Firehose refuses server-side encryption on a Kinesis source: the records are encrypted
        # in the source stream (Kinesis.1), and the destination must use our key (below).
        pass
    elif sse.get("enabled") is not True or sse.get("keyType") != "CUSTOMER_MANAGED_CMK" \
            or not names_customer_key(sse, "keyArn"):
        report_violation(
            "delivery stream is not encrypted at rest with a customer-managed key; set server_side_encryption "
            "(enabled=True, key_type='CUSTOMER_MANAGED_CMK', key_arn=the data key).",
            None,
        )
    s3 = mapping(known(props, "extendedS3Configuration"))
    if s3 and not names_customer_key(s3, "kmsKeyArn"):
        report_violation(
            "delivery stream writes to S3 without a customer-managed key; set extended_s3_configuration."
            "kms_key_arn to the stack's data key.",
            None,
        )


POLICIES = [
    resource_policy(
        "firehose-delivery-stream-encrypted",
        "DataFirehose.1: Firehose delivery streams (and their S3 delivery) are encrypted at rest with a "
        "customer-managed KMS key",
        (DELIVERY_STREAM,),
        _encrypted,
    ),
]
