"""Athena.1: workgroup results encrypted with our key, configuration enforced.
Evaluated from its own module (the registry lists it once the integrator wires
it in)."""

from __future__ import annotations

import pytest

from policies import athena
from policies.offline import evaluate

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def violations(module, resource):
    return [v.message for v in evaluate([resource], module.POLICIES).violations]


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
