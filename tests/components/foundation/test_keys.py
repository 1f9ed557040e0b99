"""Customer-managed KMS keys: one per domain, rotated, hard to delete, policies without '*'."""

from __future__ import annotations

import json

import pytest

from components.foundation.keys import DELETION_WINDOW_DAYS, KEY_DOMAINS, ROTATION_PERIOD_DAYS, key_policy

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
DOMAINS = {domain.name: domain for domain in KEY_DOMAINS}


def test_every_stack_has_the_data_logs_and_secrets_keys(stack_graph):
    assert {k.name for k in stack_graph.of_type(KEY)} == {"keys-data", "keys-logs", "keys-secrets"}


def test_keys_rotate_yearly_and_wait_thirty_days_before_deletion(stack_graph):
    for key in stack_graph.of_type(KEY):
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["rotationPeriodInDays"] == ROTATION_PERIOD_DAYS
        assert key.inputs["deletionWindowInDays"] == DELETION_WINDOW_DAYS == 30


def test_each_key_has_an_alias_named_after_stack_and_domain(stack_graph):
    keys = {k.name: k for k in stack_graph.of_type(KEY)}
    for alias in stack_graph.of_type(ALIAS):
        domain = alias.name.removeprefix("keys-")
        assert alias.inputs["name"] == f"alias/retail-{stack_graph.stack}-{domain}"
        assert alias.inputs["targetKeyId"] == keys[alias.name].id
    assert len(stack_graph.of_type(ALIAS)) == len(keys)


@pytest.mark.parametrize("stack, protected", [("dev", False), ("staging", False), ("prod", True)])
def test_keys_are_protected_in_prod_only(graph_of, stack, protected):
    assert {k.protect for k in graph_of(stack).of_type(KEY)} == {protected}


def test_keys_are_multi_region_exactly_when_a_dr_region_is_set(graph_of, synth_with):
    assert all(k.inputs["multiRegion"] is True for k in graph_of("prod").of_type(KEY))
    assert all(k.inputs["multiRegion"] is False for k in graph_of("dev").of_type(KEY))
    # Backup copies re-encrypt with the DR vault's key: backup-restore needs no multi-Region key.
    backups = synth_with("dev", dr={"strategy": "backup-restore", "region": "eu-central-1"})
    assert all(k.inputs["multiRegion"] is False for k in backups.of_type(KEY) if k.inputs["region"] == "eu-west-1")
    replicated = synth_with("dev", dr={"strategy": "pilot-light", "region": "eu-central-1", "cidr": "10.11.0.0/16"})
    assert all(k.inputs["multiRegion"] is True for k in replicated.of_type(KEY) if k.inputs["region"] == "eu-west-1")


def test_key_policies_name_only_the_account_root_and_the_domains_services(stack_graph):
    for key in stack_graph.of_type(KEY):
        policy = json.loads(key.inputs["policy"])
        principals = [s["Principal"] for s in policy["Statement"]]
        assert principals[0] == {"AWS": "arn:aws:iam::123456789012:root"}
        for statement in policy["Statement"]:
            if "*" in json.dumps(statement["Principal"]):
                # Only behind conditions naming this account and the instance-launch roles.
                assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == "123456789012"
                assert all(arn.startswith("arn:aws:iam::123456789012:role/aws-service-role/")
                           for arn in statement["Condition"]["ArnLike"]["aws:PrincipalArn"])


def test_only_the_logs_key_lets_cloudwatch_logs_use_it_and_only_for_this_accounts_groups():
    regions = ["eu-west-1", "eu-central-1"]
    logs = key_policy(DOMAINS["logs"], partition="aws", account_id="111122223333", regions=regions)
    (service,) = [s for s in logs["Statement"] if "Service" in s["Principal"]]
    assert service["Principal"]["Service"] == ["logs.eu-west-1.amazonaws.com", "logs.eu-central-1.amazonaws.com"]
    assert service["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        "arn:aws:logs:eu-west-1:111122223333:log-group:*",
        "arn:aws:logs:eu-central-1:111122223333:log-group:*",
    ]
    assert "kms:*" not in service["Action"]
    secrets = key_policy(DOMAINS["secrets"], partition="aws", account_id="111122223333", regions=regions)
    assert [s["Sid"] for s in secrets["Statement"]] == ["EnableIamPoliciesOfThisAccount"]
    data = key_policy(DOMAINS["data"], partition="aws", account_id="111122223333", regions=regions)
    launch = data["Statement"][1]
    assert launch["Condition"]["StringEquals"]["kms:ViaService"] == [
        "ec2.eu-west-1.amazonaws.com", "ec2.eu-central-1.amazonaws.com"]
    assert "kms:Decrypt" in launch["Action"] and "kms:*" not in launch["Action"]


def test_key_policy_follows_the_partition():
    policy = key_policy(DOMAINS["logs"], partition="aws-us-gov", account_id="111122223333", regions=["us-gov-west-1"])
    assert policy["Statement"][0]["Principal"]["AWS"] == "arn:aws-us-gov:iam::111122223333:root"
    assert policy["Statement"][1]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        "arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:*"]


def test_key_arn_lookup_names_the_known_domains():
    from components.foundation.keys import KeyRing

    ring = KeyRing.__new__(KeyRing)
    ring.keys = {"data": object()}  # type: ignore[dict-item]
    with pytest.raises(KeyError, match="no key for domain 'payments'; domains: data"):
        ring.arn("payments")
