"""Kinesis.1: streams encrypted with a customer-managed key.
Evaluated from its own module (the registry lists it once the integrator wires
it in)."""

from __future__ import annotations

import pytest

from policies import kinesis
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
