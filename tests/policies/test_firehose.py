"""DataFirehose.1: delivery streams encrypted with a customer-managed key.
Evaluated from its own module (the registry lists it once the integrator wires
it in)."""

from __future__ import annotations

import pytest

from policies import firehose
from policies.offline import evaluate

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def violations(module, resource):
    return [v.message for v in evaluate([resource], module.POLICIES).violations]


S3 = {"bucketArn": "arn:aws:s3:::lake", "roleArn": "arn:aws:iam::111122223333:role/r", "kmsKeyArn": KEY}
SOURCE = {"kinesisStreamArn": "arn:aws:kinesis:eu-west-1:111122223333:stream/orders",
          "roleArn": "arn:aws:iam::111122223333:role/r"}


def test_kinesis_sourced_delivery_with_our_key_passes(snap):
    delivery = snap(firehose.DELIVERY_STREAM, "d", {"destination": "extended_s3",
                                                   "kinesisSourceConfiguration": SOURCE, "extendedS3Configuration": S3})
    assert violations(firehose, delivery) == []


def test_direct_put_delivery_with_our_key_passes(snap):
    delivery = snap(firehose.DELIVERY_STREAM, "d", {
        "destination": "extended_s3", "extendedS3Configuration": S3,
        "serverSideEncryption": {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": KEY}})
    assert violations(firehose, delivery) == []


@pytest.mark.parametrize("sse", [None, {"enabled": False}, {"enabled": True, "keyType": "AWS_OWNED_CMK"}])
def test_direct_put_delivery_without_our_key_fails(snap, sse):
    props = {"destination": "extended_s3", "extendedS3Configuration": S3}
    if sse is not None:
        props["serverSideEncryption"] = sse
    [message] = violations(firehose, snap(firehose.DELIVERY_STREAM, "d", props))
    assert "server_side_encryption" in message


def test_delivery_to_s3_without_our_key_fails(snap):
    s3 = {k: v for k, v in S3.items() if k != "kmsKeyArn"}
    delivery = snap(firehose.DELIVERY_STREAM, "d", {"destination": "extended_s3",
                                                   "kinesisSourceConfiguration": SOURCE, "extendedS3Configuration": s3})
    [message] = violations(firehose, delivery)
    assert "kms_key_arn" in message
