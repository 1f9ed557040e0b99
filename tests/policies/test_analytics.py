"""Kinesis.1, DataFirehose.1 and Athena.1, evaluated from their own modules (the registry
lists them once the integrator wires them in)."""

from __future__ import annotations

import pytest

from policies import athena, firehose, kinesis
from policies.offline import evaluate

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AWS_KEY = "arn:aws:kms:eu-west-1:111122223333:alias/aws/kinesis"


def violations(module, resource):
    return [v.message for v in evaluate([resource], module.POLICIES).violations]


def test_stream_with_our_key_passes(snap, tags):
    stream = snap(kinesis.STREAM, "orders", {"encryptionType": "KMS", "kmsKeyId": KEY, "tags": tags()})
    assert violations(kinesis, stream) == []


@pytest.mark.parametrize("props", [{}, {"encryptionType": "NONE"}, {"encryptionType": "KMS"},
                                   {"encryptionType": "KMS", "kmsKeyId": AWS_KEY}])
def test_stream_without_our_key_fails(snap, props):
    [message] = violations(kinesis, snap(kinesis.STREAM, "orders", props))
    assert "customer-managed" in message


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


def workgroup(**configuration):
    base = {"enforceWorkgroupConfiguration": True, "resultConfiguration": {
        "outputLocation": "s3://lake/athena-results/",
        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY}}}
    return {"name": "wg", "configuration": {**base, **configuration}}


def test_encrypted_enforced_workgroup_passes(snap):
    assert violations(athena, snap(athena.WORKGROUP, "wg", workgroup())) == []


@pytest.mark.parametrize("result", [
    {"outputLocation": "s3://lake/athena-results/"},
    {"encryptionConfiguration": {"encryptionOption": "SSE_S3"}},
    {"encryptionConfiguration": {"encryptionOption": "SSE_KMS"}},
])
def test_workgroup_without_our_key_fails(snap, result):
    [message] = violations(athena, snap(athena.WORKGROUP, "wg", workgroup(resultConfiguration=result)))
    assert "customer-managed" in message


def test_workgroup_that_does_not_enforce_fails(snap):
    [message] = violations(athena, snap(athena.WORKGROUP, "wg", workgroup(enforceWorkgroupConfiguration=False)))
    assert "enforce_workgroup_configuration" in message


def test_workgroup_without_configuration_fails(snap):
    assert violations(athena, snap(athena.WORKGROUP, "wg", {"name": "wg"}))
