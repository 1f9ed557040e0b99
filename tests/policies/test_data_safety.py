"""DATA.1: prod data stores are protected in Pulumi and in AWS; dev ones may be destroyed."""

from __future__ import annotations

import pytest

from components.common.compliance import STATEFUL_TYPES

POLICY = "stateful-resources-protected-prod"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"


def test_protected_prod_table_with_deletion_protection_passes(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"tags": tags(environment="prod"), "deletionProtectionEnabled": True},
                 protect=True)
    assert run_policy(POLICY, [table]).violations == []


def test_unprotected_prod_table_fails_naming_the_option(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"tags": tags(environment="prod"), "deletionProtectionEnabled": True},
                 protect=False)
    [violation] = run_policy(POLICY, [table]).violations
    assert violation.urn == table.urn
    assert "protect=True" in violation.message


def test_prod_table_without_aws_deletion_protection_fails(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"tags": tags(environment="prod")}, protect=True)
    [violation] = run_policy(POLICY, [table]).violations
    assert "deletionProtectionEnabled" in violation.message


def test_a_type_without_aws_deletion_protection_needs_pulumi_protect_only(snap, run_policy, tags):
    assert STATEFUL_TYPES[BUCKET] is None
    bucket = snap(BUCKET, "logs", {"tags": tags(environment="prod")}, protect=True)
    assert run_policy(POLICY, [bucket]).violations == []


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_non_prod_data_stores_may_be_destroyed(snap, run_policy, tags, environment):
    table = snap(TABLE, "carts", {"tags": tags(environment=environment)}, protect=False)
    assert run_policy(POLICY, [table]).violations == []


def test_non_stateful_types_are_ignored(snap, run_policy, tags):
    subnet = snap("aws:ec2/subnet:Subnet", "private-0", {"tags": tags(environment="prod")})
    assert run_policy(POLICY, [subnet]).violations == []


@pytest.mark.parametrize(("type_", "flag"), [
    ("aws:rds/globalCluster:GlobalCluster", "deletionProtection"),
    ("aws:backup/vault:Vault", None),
    ("aws:kinesis/stream:Stream", None),
    ("aws:kms/replicaKey:ReplicaKey", None),
])
def test_what_dr_and_the_lake_add_is_held_to_the_same_rule(snap, run_policy, tags, type_, flag):
    # The global database, the backup vault, the streams and the replica keys hold data (or the key to it).
    props = {"tags": tags(environment="prod"), **({flag: True} if flag else {})}
    assert run_policy(POLICY, [snap(type_, "store", props, protect=True)]).violations == []
    [violation] = run_policy(POLICY, [snap(type_, "store", props, protect=False)]).violations
    assert "protect=True" in violation.message
    if flag:
        [violation] = run_policy(POLICY, [snap(type_, "store", {"tags": tags(environment="prod")},
                                               protect=True)]).violations
        assert flag in violation.message
