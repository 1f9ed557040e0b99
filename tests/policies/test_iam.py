"""IAM.1 / IAM.21 and KMS.1 / KMS.2 on the identity policies the blueprint writes."""

from __future__ import annotations

import json

import pytest

from components.data.nosql_tables import table_read_write_policy

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/retail-prod-carts"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def role_policy(snap, *statements):
    return snap(ROLE_POLICY, "grant", {"role": "app", "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)})})


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@pytest.mark.parametrize("policy", ["iam-no-wildcard-actions", "iam-no-decrypt-on-all-keys",
                                    "iam-data-actions-on-named-stores"])
def test_the_blueprints_own_grant_passes(snap, run_policy, policy):
    grant = snap(ROLE_POLICY, "grant", {"role": "app", "policy": json.dumps(
        table_read_write_policy(TABLE, KEY, "eu-west-1"))})
    assert run_policy(policy, [grant]).violations == []


@pytest.mark.parametrize("action", ["*", "s3:*", ["dynamodb:GetItem", "dynamodb:*"]])
def test_wildcard_actions_fail(snap, run_policy, action):
    resource = role_policy(snap, allow(action, TABLE))
    [violation] = run_policy("iam-no-wildcard-actions", [resource]).violations
    assert violation.urn == resource.urn
    assert "full administration" in violation.message and "grant the named actions" in violation.message


def test_not_action_fails(snap, run_policy):
    resource = role_policy(snap, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    [violation] = run_policy("iam-no-wildcard-actions", [resource]).violations
    assert "NotAction" in violation.message


def test_a_deny_with_wildcards_is_fine(snap, run_policy):
    resource = role_policy(snap, {"Effect": "Deny", "Action": "*", "Resource": "*"}, allow("s3:GetObject", "*"))
    assert run_policy("iam-no-wildcard-actions", [resource]).violations == []


@pytest.mark.parametrize("action", ["kms:Decrypt", ["kms:ReEncryptFrom"], "kms:Decrypt*", "kms:*"])
def test_decrypt_on_every_key_fails(snap, run_policy, action):
    resource = role_policy(snap, allow(action, "*"))
    [violation] = run_policy("iam-no-decrypt-on-all-keys", [resource]).violations
    assert "name the key ARN" in violation.message


def test_decrypt_on_a_named_key_passes(snap, run_policy):
    resource = role_policy(snap, allow("kms:Decrypt", [KEY]))
    assert run_policy("iam-no-decrypt-on-all-keys", [resource]).violations == []


def test_an_unreadable_policy_is_reported(snap, run_policy):
    resource = snap(ROLE_POLICY, "grant", {"role": "app", "policy": "{not json"})
    [violation] = run_policy("iam-no-wildcard-actions", [resource]).violations
    assert "not valid JSON" in violation.message


@pytest.mark.parametrize(("action", "resource"), [
    ("dynamodb:GetItem", "*"),
    ("s3:GetObject", "arn:aws:s3:::*"),
    ("s3:GetObject", "arn:aws:s3:::*/*"),
    ("dynamodb:Query", "arn:aws:dynamodb:eu-west-1:123456789012:table/*"),
    ("rds-db:connect", "*"),
    ("secretsmanager:GetSecretValue", "*"),
])
def test_data_actions_on_every_store_fail(snap, run_policy, action, resource):
    grant = role_policy(snap, allow(action, resource))
    [violation] = run_policy("iam-data-actions-on-named-stores", [grant]).violations
    assert action in violation.message and "retail:services[].uses" in violation.message


@pytest.mark.parametrize(("action", "resource"), [
    ("dynamodb:GetItem", TABLE),
    ("dynamodb:GetItem", f"{TABLE}/index/*"),
    ("s3:GetObject", "arn:aws:s3:::retail-prod-assets-123456789012/*"),
    # Not data: EC2 reads are unscopable and hold no customer data.
    ("ec2:DescribeInstances", "*"),
])
def test_data_actions_on_named_stores_pass(snap, run_policy, action, resource):
    assert run_policy("iam-data-actions-on-named-stores", [role_policy(snap, allow(action, resource))]).violations == []
