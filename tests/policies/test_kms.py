"""KMS.4 rotation, KMS.5 no public key policy, KMS.3 deletion window."""

from __future__ import annotations

import json

import pytest

KEY = "aws:kms/key:Key"

ACCOUNT_ROOT = {"AWS": "arn:aws:iam::111122223333:root"}


def key_policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, sid: str = "Use", **extra) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "kms:*",
            "Resource": "*", **extra}


# --- kms-key-rotation -----------------------------------------------------------------------


def test_rotation_on_passes(snap, run_policy):
    report = run_policy("kms-key-rotation", [snap(KEY, "data", {"enableKeyRotation": True})])
    assert report.violations == []
    assert report.evaluated == ["kms-key-rotation"]


@pytest.mark.parametrize("props", [{"enableKeyRotation": False}, {}], ids=["off", "missing"])
def test_rotation_off_or_missing_fails(snap, run_policy, props):
    key = snap(KEY, "data", props)
    [violation] = run_policy("kms-key-rotation", [key]).violations
    assert violation.urn == key.urn
    assert violation.enforcement == "mandatory"
    assert "rotation off" in violation.message
    assert "enable_key_rotation=True" in violation.message


def test_rotation_not_applicable_to_asymmetric_keys(snap, run_policy):
    # AWS cannot rotate asymmetric keys, so demanding it would be an unfixable violation.
    key = snap(KEY, "signing", {"customerMasterKeySpec": "RSA_2048"})
    assert run_policy("kms-key-rotation", [key]).violations == []


def test_rotation_ignores_other_types(snap, run_policy):
    alias = snap("aws:kms/alias:Alias", "data", {"enableKeyRotation": False})
    assert run_policy("kms-key-rotation", [alias]).violations == []


# --- kms-key-not-public ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, ["*"]],
    ids=["star", "aws-star", "aws-list-with-star", "list-with-star"],
)
def test_public_principal_without_condition_fails(snap, run_policy, principal):
    key = snap(KEY, "data", {"policy": key_policy(allow(ACCOUNT_ROOT, "Root"),
                                                  allow(principal, "Everyone"))})
    [violation] = run_policy("kms-key-not-public", [key]).violations
    assert violation.urn == key.urn
    assert "statement Everyone allows every AWS principal ('*') without a Condition" in violation.message
    assert "principals, or add a Condition" in violation.message


def test_key_policy_resource_is_checked_as_the_key_is(snap, run_policy):
    # An aws.kms.KeyPolicy carries a key's whole effective policy (the data key's does).
    holder = snap("aws:kms/keyPolicy:KeyPolicy", "data",
                  {"keyId": "k", "policy": key_policy(allow(ACCOUNT_ROOT, "Root"), allow("*", "Everyone"))})
    [violation] = run_policy("kms-key-not-public", [holder]).violations
    assert violation.urn == holder.urn and "statement Everyone" in violation.message
    fine = snap("aws:kms/keyPolicy:KeyPolicy", "ok", {"keyId": "k", "policy": key_policy(allow(ACCOUNT_ROOT))})
    assert run_policy("kms-key-not-public", [fine]).violations == []


def test_public_principal_with_condition_passes(snap, run_policy):
    statement = allow("*", Condition={"StringEquals": {"kms:CallerAccount": "111122223333"}})
    key = snap(KEY, "data", {"policy": key_policy(statement)})
    assert run_policy("kms-key-not-public", [key]).violations == []


def test_account_principal_and_public_deny_pass(snap, run_policy):
    deny = {"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
            "Resource": "*"}
    key = snap(KEY, "data", {"policy": key_policy(allow(ACCOUNT_ROOT), deny)})
    assert run_policy("kms-key-not-public", [key]).violations == []


def test_policy_given_as_a_dict_is_checked(snap, run_policy):
    # A single Statement object (not a list) is valid IAM and must not slip through.
    document = {"Version": "2012-10-17", "Statement": allow({"AWS": "*"}, "Open")}
    key = snap(KEY, "data", {"policy": document})
    [violation] = run_policy("kms-key-not-public", [key]).violations
    assert "Open" in violation.message


def test_allow_with_not_principal_fails(snap, run_policy):
    statement = {"Sid": "AllBut", "Effect": "Allow", "NotPrincipal": ACCOUNT_ROOT,
                 "Action": "kms:*", "Resource": "*"}
    key = snap(KEY, "data", {"policy": key_policy(statement)})
    [violation] = run_policy("kms-key-not-public", [key]).violations
    assert "AllBut allows every AWS principal outside NotPrincipal" in violation.message


def test_missing_policy_passes(snap, run_policy):
    assert run_policy("kms-key-not-public", [snap(KEY, "data", {})]).violations == []


def test_invalid_json_policy_fails(snap, run_policy):
    key = snap(KEY, "data", {"policy": "{not json"})
    [violation] = run_policy("kms-key-not-public", [key]).violations
    assert "not valid JSON" in violation.message
    assert "json.dumps" in violation.message


# --- kms-key-deletion-window ----------------------------------------------------------------


@pytest.mark.parametrize("props", [{"deletionWindowInDays": 30}, {"deletionWindowInDays": 30.0}, {}],
                         ids=["30", "30-as-float", "missing"])
def test_deletion_window_of_30_or_default_passes(snap, run_policy, props):
    assert run_policy("kms-key-deletion-window", [snap(KEY, "data", props)]).violations == []


def test_short_deletion_window_fails(snap, run_policy):
    key = snap(KEY, "data", {"deletionWindowInDays": 7})
    [violation] = run_policy("kms-key-deletion-window", [key]).violations
    assert violation.urn == key.urn
    assert "deletion window is 7 days" in violation.message
    assert "deletion_window_in_days=30" in violation.message
