"""AWS Backup: hourly to our vault, copied to the DR region's vault under its key, by tag."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.resilience.backup import (
    BACKED_UP_TYPES,
    BACKUP_TAG_KEY,
    Backup,
    BackupArgs,
    BackupDr,
    backup_tags,
)
from components.resilience.objectives import BACKUP_SCHEDULE
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
SETTINGS = "aws:backup/regionSettings:RegionSettings"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

PRIMARY, DR = "eu-west-1", "eu-central-1"
DATA_KEY = f"arn:aws:kms:{PRIMARY}:{ACCOUNT_ID}:key/mrk-0d1e2f3a4b5c4d6e8f90a1b2c3d4e5f6"
DR_KEY = f"arn:aws:kms:{DR}:{ACCOUNT_ID}:key/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"

PROD_ARGS = BackupArgs(vault_key_arn=DATA_KEY, source_key_arns=[DATA_KEY], dr=BackupDr(region=DR, vault_key_arn=DR_KEY),
                       locked=True, retention_days=35, manage_region_settings=True)


def build(args: BackupArgs = PROD_ARGS, stack: str = "prod") -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config(stack))

    def program() -> None:
        context = stack_context(config.conventions(stack), region=PRIMARY, protect=config.is_prod)
        Backup("backup", context, args)

    return run_program(program, project="retail", stack=stack, config={"aws:region": PRIMARY})


@pytest.fixture(scope="module")
def prod() -> ResourceGraph:
    return build()


def test_each_region_has_a_vault_under_its_own_key(prod):
    by_region = {v.region: v for v in prod.of_type(VAULT)}
    assert set(by_region) == {PRIMARY, DR}
    assert by_region[PRIMARY].inputs["kmsKeyArn"] == DATA_KEY
    assert by_region[DR].inputs["kmsKeyArn"] == DR_KEY
    assert by_region[PRIMARY].inputs["name"] == "retail-prod-backup"
    assert by_region[DR].inputs["name"] == "retail-prod-dr-backup"
    assert all(v.protect and v.inputs["forceDestroy"] is False for v in by_region.values())


def test_the_hourly_rule_copies_each_recovery_point_to_the_dr_vault(prod):
    by_region = {v.region: v for v in prod.of_type(VAULT)}
    plan = prod.one(PLAN)
    assert plan.region == PRIMARY
    (rule,) = plan.inputs["rules"]
    assert rule["schedule"] == BACKUP_SCHEDULE
    assert rule["targetVaultName"] == by_region[PRIMARY].inputs["name"]
    assert rule["lifecycle"] == {"deleteAfter": 35}
    (copy,) = rule["copyActions"]
    dr_arn = f"arn:aws:backup:{DR}:{ACCOUNT_ID}:"
    assert copy["destinationVaultArn"].startswith(dr_arn) and copy["destinationVaultArn"].endswith(
        "/retail-prod-dr-backup")
    assert copy["lifecycle"] == {"deleteAfter": 35}


def test_no_copy_without_a_dr_side_and_dr_retention_can_differ():
    alone = build(replace(PROD_ARGS, dr=None, locked=False, manage_region_settings=False), stack="dev")
    (rule,) = alone.one(PLAN).inputs["rules"]
    assert "copyActions" not in rule
    assert len(alone.of_type(VAULT)) == 1
    longer = build(replace(PROD_ARGS, dr=BackupDr(region=DR, vault_key_arn=DR_KEY, retention_days=90),
                           max_retention_days=365))
    (rule,) = longer.one(PLAN).inputs["rules"]
    assert rule["copyActions"][0]["lifecycle"] == {"deleteAfter": 90}


def test_vaults_are_locked_in_compliance_mode_only_when_asked(prod):
    locks = {lock.region: lock for lock in prod.of_type(LOCK)}
    vault_names = {v.region: v.inputs["name"] for v in prod.of_type(VAULT)}
    assert set(locks) == {PRIMARY, DR}
    for region, lock in locks.items():
        assert lock.inputs["backupVaultName"] == vault_names[region]
        # changeableForDays is what makes it compliance mode rather than governance mode.
        assert lock.inputs["changeableForDays"] == 3
        assert lock.inputs["minRetentionDays"] == 35
        assert lock.inputs["maxRetentionDays"] == 365
        assert lock.protect
    unlocked = build(replace(PROD_ARGS, locked=False))
    assert unlocked.of_type(LOCK) == []


def test_impossible_locks_are_refused():
    with pytest.raises(ValueError, match="changeable_for_days is 1"):
        replace(PROD_ARGS, changeable_for_days=1)
    with pytest.raises(ValueError, match="min_retention_days \\(40\\) is above a retention"):
        replace(PROD_ARGS, min_retention_days=40)
    with pytest.raises(ValueError, match="max_retention_days \\(30\\) is below a retention"):
        replace(PROD_ARGS, max_retention_days=30)
    with pytest.raises(ValueError, match="source_key_arns is empty"):
        replace(PROD_ARGS, source_key_arns=[])


def test_a_dr_side_in_the_primary_region_is_refused():
    with pytest.raises(Exception, match=r"dr\.region is the primary region"):
        build(replace(PROD_ARGS, dr=BackupDr(region=PRIMARY, vault_key_arn=DATA_KEY)))


def test_the_selection_takes_what_carries_the_stacks_backup_tag(prod):
    selection = prod.one(SELECTION)
    conventions = parse_stack_config(PROJECT.stack_config("prod")).conventions("prod")
    assert selection.inputs["selectionTags"] == [
        {"type": "STRINGEQUALS", "key": BACKUP_TAG_KEY, "value": "retail-prod"}]
    assert backup_tags(conventions) == {BACKUP_TAG_KEY: "retail-prod"}
    # The DR slice's stores carry the same tag: the stack, not the slice, is what is selected.
    assert backup_tags(replace(conventions, qualifier="dr")) == backup_tags(conventions)
    assert selection.inputs["planId"] == prod.one(PLAN).id
    assert selection.inputs["iamRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/retail-prod-backup"
    grants = {r.urn for r in prod.of_type(ATTACHMENT) + prod.of_type(ROLE_POLICY)}
    assert grants <= set(selection.dependencies)


def test_the_role_is_for_aws_backup_of_this_account_with_the_backup_and_restore_policies(prod):
    role = prod.one(ROLE)
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert {a.inputs["policyArn"] for a in prod.of_type(ATTACHMENT)} == {
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
        "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
    }


def test_the_roles_kms_grant_names_the_source_key_and_the_dr_vault_key_each_in_its_region(prod):
    (grant,) = prod.of_type(ROLE_POLICY)
    statements = {s["Sid"]: s for s in json.loads(grant.inputs["policy"])["Statement"]}
    assert statements["UseSourceKeys"]["Resource"] == [DATA_KEY]
    assert statements["UseDrVaultKeys"]["Resource"] == [DR_KEY]
    assert f"backup.{PRIMARY}.amazonaws.com" in statements["UseSourceKeys"]["Condition"]["StringEquals"][
        "kms:ViaService"]
    assert all(PRIMARY not in via for via in statements["UseDrVaultKeys"]["Condition"]["StringEquals"][
        "kms:ViaService"])
    assert statements["GrantDrVaultKeysToAwsResources"]["Condition"]["Bool"] == {
        "kms:GrantIsForAWSResource": "true"}


def test_region_settings_only_when_managed_and_in_both_regions(prod):
    settings = {s.region: s for s in prod.of_type(SETTINGS)}
    assert set(settings) == {PRIMARY, DR}
    for s in settings.values():
        assert s.inputs["resourceTypeOptInPreference"] == dict.fromkeys(BACKED_UP_TYPES, True)
        assert s.inputs["resourceTypeManagementPreference"] == {"DynamoDB": True}
    assert build(replace(PROD_ARGS, manage_region_settings=False)).of_type(SETTINGS) == []


def test_tagged_resources_carry_the_standard_tags(prod):
    for resource in prod.of_type(VAULT) + prod.of_type(PLAN) + prod.of_type(ROLE):
        assert resource.inputs["tags"]["stack"] == "prod"
        assert resource.inputs["tags"]["managed-by"] == "pulumi"


def test_dev_is_not_protected():
    dev = build(replace(PROD_ARGS, locked=False), stack="dev")
    assert not any(v.protect for v in dev.of_type(VAULT))
