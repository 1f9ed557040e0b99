"""SecretsManager.1: every secret is rotated and encrypted with a customer-managed key (the
Aurora master password, a check of the cluster, is in test_rds.py)."""

from __future__ import annotations

import pytest

CLUSTER = "aws:rds/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROTATOR = "arn:aws:lambda:eu-west-1:111122223333:function:rotate"

MANAGED = {"engine": "aurora-postgresql", "masterUsername": "retail_admin",
           "manageMasterUserPassword": True, "masterUserSecretKmsKeyId": KEY_ARN}


def cluster(snap, **overrides):
    props = {**MANAGED, **overrides}
    return snap(CLUSTER, "aurora", {k: v for k, v in props.items() if v is not None})


# --- secretsmanager-cmk-and-rotation --------------------------------------------------------


def rotated(snap, secret_props=None, rotation_props=None, rotate=True):
    secret = snap(SECRET, "api-key", {"kmsKeyId": KEY_ARN, **(secret_props or {})})
    resources = [secret]
    if rotate:
        props = {"secretId": "arn:secret", "rotationLambdaArn": ROTATOR,
                 "rotationRules": {"automaticallyAfterDays": 30}}
        resources.append(snap(ROTATION, "api-key", {**props, **(rotation_props or {})},
                              property_dependencies={"secretId": (secret.urn,)}))
    return resources


@pytest.mark.parametrize("rules", [{"automaticallyAfterDays": 30}, {"scheduleExpression": "rate(30 days)"}],
                         ids=["days", "schedule"])
def test_rotated_secret_with_customer_key_passes(snap, run_policy, rules):
    resources = rotated(snap, rotation_props={"rotationRules": rules})
    assert run_policy("secretsmanager-cmk-and-rotation", resources).violations == []


def test_stack_without_secrets_passes(snap, run_policy):
    assert run_policy("secretsmanager-cmk-and-rotation", [cluster(snap)]).violations == []


def test_secret_without_rotation_fails_on_the_secret(snap, run_policy):
    [secret] = rotated(snap, rotate=False)
    [violation] = run_policy("secretsmanager-cmk-and-rotation", [secret]).violations
    assert violation.urn == secret.urn
    assert "secret api-key is never rotated" in violation.message
    assert "add an aws.secretsmanager.SecretRotation with secret_id=secret.id" in violation.message


def test_rotation_without_dependency_does_not_count(snap, run_policy):
    [secret] = rotated(snap, rotate=False)
    loose = snap(ROTATION, "loose", {"secretId": "arn:secret", "rotationRules": {"automaticallyAfterDays": 30}})
    [violation] = run_policy("secretsmanager-cmk-and-rotation", [secret, loose]).violations
    assert violation.urn == secret.urn


@pytest.mark.parametrize("key", [None, "alias/aws/secretsmanager"], ids=["missing", "aws-alias"])
def test_secret_with_aws_managed_key_fails(snap, run_policy, key):
    secret, rotation = rotated(snap, secret_props={"kmsKeyId": key})
    [violation] = run_policy("secretsmanager-cmk-and-rotation", [secret, rotation]).violations
    assert violation.urn == secret.urn
    assert "set kms_key_id=<the secrets key's ARN>" in violation.message


def test_switched_off_rotation_fails_on_the_rotation(snap, run_policy):
    secret, rotation = rotated(snap, rotation_props={"rotationEnabled": False})
    [violation] = run_policy("secretsmanager-cmk-and-rotation", [secret, rotation]).violations
    assert violation.urn == rotation.urn
    assert "remove rotation_enabled=False" in violation.message


def test_rotation_without_schedule_fails(snap, run_policy):
    secret, rotation = rotated(snap, rotation_props={"rotationRules": {"duration": "3h"}})
    [violation] = run_policy("secretsmanager-cmk-and-rotation", [secret, rotation]).violations
    assert violation.urn == rotation.urn
    assert "set rotation_rules={'automatically_after_days': 30}" in violation.message
