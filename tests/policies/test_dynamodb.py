"""DynamoDB.1 on-demand, DynamoDB.2 PITR, DynamoDB.6 deletion protection (prod), and
encryption with a customer-managed key; replicas held to the same settings."""

from __future__ import annotations

import pytest

from policies.offline import evaluate
from policies.registry import POLICIES

TABLE = "aws:dynamodb/table:Table"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DR_KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"

REPLICA = {"regionName": "eu-central-1", "kmsKeyArn": DR_KEY_ARN, "pointInTimeRecovery": True,
           "deletionProtectionEnabled": True}


@pytest.fixture
def table(snap, tags):
    """What the NoSqlTables component writes; keyword overrides, None removes a prop."""

    def make(environment="prod", **overrides):
        props = {
            "name": "retail-prod-orders",
            "billingMode": "PAY_PER_REQUEST",
            "hashKey": "orderId",
            "attributes": [{"name": "orderId", "type": "S"}],
            "pointInTimeRecovery": {"enabled": True, "recoveryPeriodInDays": 35},
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "deletionProtectionEnabled": True,
            "tags": tags(environment=environment),
            **overrides,
        }
        return snap(TABLE, "orders", {k: v for k, v in props.items() if v is not None})

    return make


def test_compliant_tables_pass_the_whole_pack(table):
    assert evaluate([table(), table(replicas=[REPLICA])], POLICIES).violations == []


# --- dynamodb-on-demand-capacity ------------------------------------------------------------


def test_on_demand_table_passes(table, run_policy):
    assert run_policy("dynamodb-on-demand-capacity", [table()]).violations == []


@pytest.mark.parametrize(("mode", "shown"), [("PROVISIONED", "PROVISIONED"),
                                             (None, "PROVISIONED (the default)")])
def test_provisioned_table_fails(table, run_policy, mode, shown):
    provisioned = table(billingMode=mode, readCapacity=5, writeCapacity=5)
    [violation] = run_policy("dynamodb-on-demand-capacity", [provisioned]).violations
    assert violation.urn == provisioned.urn
    assert f"table uses {shown} capacity" in violation.message
    assert "set billing_mode='PAY_PER_REQUEST'" in violation.message


# --- dynamodb-point-in-time-recovery --------------------------------------------------------


def test_table_with_pitr_passes(table, run_policy):
    assert run_policy("dynamodb-point-in-time-recovery", [table(replicas=[REPLICA])]).violations == []


@pytest.mark.parametrize("pitr", [{"enabled": False}, None], ids=["off", "missing"])
def test_table_without_pitr_fails(table, run_policy, pitr):
    without = table(pointInTimeRecovery=pitr)
    [violation] = run_policy("dynamodb-point-in-time-recovery", [without]).violations
    assert violation.urn == without.urn
    assert "set point_in_time_recovery={'enabled': True" in violation.message


def test_replica_without_pitr_fails(table, run_policy):
    replica = {k: v for k, v in REPLICA.items() if k != "pointInTimeRecovery"}
    [violation] = run_policy("dynamodb-point-in-time-recovery", [table(replicas=[replica])]).violations
    assert "replica in eu-central-1 has no point-in-time recovery" in violation.message
    assert "point_in_time_recovery=True on its replicas entry" in violation.message


# --- dynamodb-deletion-protection-prod ------------------------------------------------------


def test_protected_prod_table_passes(table, run_policy):
    assert run_policy("dynamodb-deletion-protection-prod", [table()]).violations == []


@pytest.mark.parametrize("protection", [False, None], ids=["false", "missing"])
def test_unprotected_prod_table_fails(table, run_policy, protection):
    prod = table(deletionProtectionEnabled=protection)
    [violation] = run_policy("dynamodb-deletion-protection-prod", [prod]).violations
    assert violation.urn == prod.urn
    assert "set deletion_protection_enabled=True" in violation.message


def test_unprotected_prod_replica_fails(table, run_policy):
    replica = {**REPLICA, "deletionProtectionEnabled": False}
    [violation] = run_policy("dynamodb-deletion-protection-prod", [table(replicas=[replica])]).violations
    assert "prod replica in eu-central-1" in violation.message


def test_dev_table_needs_no_deletion_protection(table, run_policy):
    dev = table("dev", deletionProtectionEnabled=False)
    assert run_policy("dynamodb-deletion-protection-prod", [dev]).violations == []


# --- dynamodb-cmk-encryption ----------------------------------------------------------------


def test_table_with_customer_key_passes(table, run_policy):
    assert run_policy("dynamodb-cmk-encryption", [table(replicas=[REPLICA])]).violations == []


@pytest.mark.parametrize("encryption", [None, {"enabled": False}], ids=["missing", "disabled"])
def test_table_with_aws_owned_key_fails(table, run_policy, encryption):
    owned = table(serverSideEncryption=encryption)
    [violation] = run_policy("dynamodb-cmk-encryption", [owned]).violations
    assert violation.urn == owned.urn
    assert "encrypted with an AWS-owned key" in violation.message
    assert "server_side_encryption={'enabled': True, 'kms_key_arn':" in violation.message


@pytest.mark.parametrize("encryption", [{"enabled": True},
                                        {"enabled": True, "kmsKeyArn": "alias/aws/dynamodb"}],
                         ids=["no-key", "aws-alias"])
def test_table_with_aws_managed_key_fails(table, run_policy, encryption):
    [violation] = run_policy("dynamodb-cmk-encryption", [table(serverSideEncryption=encryption)]).violations
    assert "AWS-managed aws/dynamodb key; set kms_key_arn=" in violation.message


def test_replica_without_customer_key_fails(table, run_policy):
    replica = {k: v for k, v in REPLICA.items() if k != "kmsKeyArn"}
    [violation] = run_policy("dynamodb-cmk-encryption", [table(replicas=[replica])]).violations
    assert "replica in eu-central-1 is encrypted with the AWS-managed key" in violation.message
    assert "kms_key_arn=" in violation.message
