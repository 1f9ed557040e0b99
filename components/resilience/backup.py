"""AWS Backup: an hourly plan in the primary region whose recovery points are copied to a vault
in the DR region, for the backup-and-restore strategy (and as the floor under the others:
replication copies a bad write within a second, a backup still holds the data from before it).

What is backed up is chosen by tag, not by ARN: a store opts in with :func:`backup_tags`, so
adding a table does not mean editing the plan, and a store built later (the DR slice's
restored cluster) is covered the moment it carries the tag.

The vault of each region is encrypted with our key of that region. Cross-region copies are
re-encrypted by AWS Backup with the destination vault's key, so the DR side needs a key of its
own region (a replica or an independent key, either works) and the backup role needs to use
both sides' keys (:func:`kms_policy`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.conventions import BACKUP_TAG_KEY, Conventions
from components.common.grants import attach, policy_document, service_trust_policy, statement
from components.resilience.objectives import BACKUP_SCHEDULE

#: AWS managed policies of the backup role, under ``arn:<partition>:iam::aws:policy/``. The S3
#: ones are separate from the service-role ones (S3 backups need bucket notifications, object
#: listing and tagging that the generic policies lack) and live at the root path.
MANAGED_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)

#: The resource types we back up, as AWS Backup names them in its region settings.
BACKED_UP_TYPES = ("Aurora", "DynamoDB", "S3")

#: Key operations AWS Backup performs with the stores' keys and the vaults' keys: read the
#: source's data keys, write the copy's under the destination vault's key, describe both.
BACKUP_KMS_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
#: Snapshot copies hand the key to the storage service through a grant (RDS copies a snapshot
#: cross-region as itself), so CreateGrant is needed too, only for AWS resources.
BACKUP_KMS_GRANT_ACTIONS = ("kms:CreateGrant",)
#: The services that call KMS on the backup role's behalf: AWS Backup itself (DynamoDB advanced
#: backups, S3, the vaults) and the storage services whose native snapshots it drives.
KMS_CALLING_SERVICES = ("backup", "rds", "dynamodb", "s3")

#: AWS Backup refuses a compliance-mode lock whose grace time is under three days.
MIN_CHANGEABLE_FOR_DAYS = 3

#: An hourly job may start within the hour it is due, and must end well before the next-but-one.
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 180


def backup_tags(conventions: Conventions) -> dict[str, str]:
    """The tags that put a store under the stack's plan (:meth:`Conventions.backup_tags`)."""
    return conventions.backup_tags()


@dataclass(frozen=True)
class BackupDr:
    """The DR side of the backup: where each recovery point is copied."""

    region: str
    vault_key_arn: pulumi.Input[str]
    """A KMS key *in ``region``* (the DR slice's data key): the copy is re-encrypted with it."""
    retention_days: int | None = None
    """How long copies are kept; the primary's retention when not given."""


@dataclass(frozen=True)
class BackupArgs:
    vault_key_arn: pulumi.Input[str]
    """The primary vault's key, in ``context.region`` (the slice's data key)."""
    source_key_arns: Sequence[pulumi.Input[str]]
    """Keys that encrypt the backed-up stores (the slice's data key): the backup role decrypts
    with them, through the storage services and AWS Backup only."""
    dr: BackupDr | None = None
    """Copy every recovery point to this region's vault; None: no copy (a stack without DR)."""
    retention_days: int = 35
    locked: bool = False
    """Vault Lock in compliance mode on every vault: once ``changeable_for_days`` pass, nobody,
    root included, can delete a recovery point before ``min_retention_days`` or the vault.
    Meant for prod (ransomware and insider deletion); irreversible after the grace time."""
    changeable_for_days: int = MIN_CHANGEABLE_FOR_DAYS
    """Grace time of the lock, during which it can still be removed."""
    min_retention_days: int | None = None
    """The lock's minimum retention; ``retention_days`` (and the copies' retention) when not given."""
    max_retention_days: int = 365
    """The lock's maximum retention: a plan keeping points longer fails its jobs."""
    manage_region_settings: bool = False
    """Opt the account in to backing up Aurora, DynamoDB and S3 and turn on AWS Backup's
    advanced DynamoDB features (needed to copy DynamoDB backups cross-region), in the primary
    and the DR region. These settings are per account and region, not per stack: exactly one
    stack per account should set this, or two stacks fight over them."""
    schedule: str = BACKUP_SCHEDULE
    extra_source_key_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """Further keys of stores in the primary region (a separate key per store, if any)."""

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError(f"BackupArgs.retention_days is {self.retention_days}: keep recovery points at least a day")
        if not self.source_key_arns:
            raise ValueError("BackupArgs.source_key_arns is empty: pass the keys of the backed-up stores "
                             "(the slice's data key), or the role cannot read what it backs up")
        if self.dr is not None and self.dr.retention_days is not None and self.dr.retention_days < 1:
            raise ValueError(f"BackupDr.retention_days is {self.dr.retention_days}: keep copies at least a day")
        if not self.locked:
            return
        if self.changeable_for_days < MIN_CHANGEABLE_FOR_DAYS:
            raise ValueError(f"BackupArgs.changeable_for_days is {self.changeable_for_days}: AWS Backup needs at "
                             f"least {MIN_CHANGEABLE_FOR_DAYS} days of grace before a compliance lock sets")
        kept = [self.retention_days] + ([self.dr_retention_days] if self.dr is not None else [])
        if self.lock_min_retention_days > min(kept):
            raise ValueError(f"BackupArgs.min_retention_days ({self.lock_min_retention_days}) is above a retention "
                             f"({min(kept)} days): the locked vault would refuse every recovery point; lower it")
        if self.max_retention_days < max(kept):
            raise ValueError(f"BackupArgs.max_retention_days ({self.max_retention_days}) is below a retention "
                             f"({max(kept)} days): the locked vault would refuse every recovery point; raise it")

    @property
    def dr_retention_days(self) -> int:
        return self.retention_days if self.dr is None or self.dr.retention_days is None else self.dr.retention_days

    @property
    def lock_min_retention_days(self) -> int:
        if self.min_retention_days is not None:
            return self.min_retention_days
        return min(self.retention_days, self.dr_retention_days)


def kms_policy(source_keys: Sequence[str], source_region: str, dr_keys: Sequence[str] = (),
               dr_region: str | None = None) -> dict[str, Any]:
    """The backup role's key grants: each region's keys, only through AWS Backup and the
    storage services of that region (the copy is made in the DR region by the DR region's
    services), and grants only for AWS resources."""
    def via(region: str) -> list[str]:
        return [f"{service}.{region}.amazonaws.com" for service in KMS_CALLING_SERVICES]

    sides = [("Source", list(source_keys), source_region)]
    if dr_keys:
        if dr_region is None:
            raise ValueError("kms_policy: dr_keys given without dr_region")
        sides.append(("DrVault", list(dr_keys), dr_region))
    statements = []
    for sid, keys, region in sides:
        statements.append(statement(f"Use{sid}Keys", BACKUP_KMS_ACTIONS, keys,
                                    condition={"StringEquals": {"kms:ViaService": via(region)}}))
        statements.append(statement(f"Grant{sid}KeysToAwsResources", BACKUP_KMS_GRANT_ACTIONS, keys,
                                    condition={"StringEquals": {"kms:ViaService": via(region)},
                                               "Bool": {"kms:GrantIsForAWSResource": "true"}}))
    return policy_document(*statements)


def backup_trust_policy(account_id: str) -> dict[str, Any]:
    return service_trust_policy("backup.amazonaws.com", account_id)


class Backup(pulumi.ComponentResource):
    """Vaults, an hourly plan copying to the DR vault, a tag selection and the role it runs as.

    Build it once, in the primary slice (``context`` of the primary region): it makes the DR
    vault in ``args.dr.region`` itself, named as the DR slice names things.
    """

    vault: aws.backup.Vault
    dr_vault: aws.backup.Vault | None
    locks: dict[str, aws.backup.VaultLockConfiguration]
    plan: aws.backup.Plan
    selection: aws.backup.Selection
    role: aws.iam.Role
    region_settings: dict[str, aws.backup.RegionSettings]

    def __init__(self, name: str, context: StackContext, args: BackupArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:resilience:Backup", name, None, opts)
        if args.dr is not None and args.dr.region == context.region:
            raise ValueError(f"BackupArgs.dr.region is the primary region {context.region}: a copy in the same "
                             "region survives no regional outage; give the DR region")
        conv = context.conventions
        stateful = pulumi.ResourceOptions(parent=self, protect=context.protect)

        self.vault = self._vault(name, context, args.vault_key_arn, stateful)
        self.dr_vault = None
        self.locks = {}
        if args.dr is not None:
            dr_context = context.for_dr(args.dr.region)
            self.dr_vault = self._vault(f"{name}-dr", dr_context, args.dr.vault_key_arn, stateful)
        if args.locked:
            self.locks[context.region] = self._lock(name, context.region, self.vault, args, stateful)
            if self.dr_vault is not None and args.dr is not None:
                self.locks[args.dr.region] = self._lock(f"{name}-dr", args.dr.region, self.dr_vault, args, stateful)

        copy_actions = None
        if self.dr_vault is not None:
            copy_actions = [aws.backup.PlanRuleCopyActionArgs(
                destination_vault_arn=self.dr_vault.arn,
                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=args.dr_retention_days),
            )]
        self.plan = aws.backup.Plan(
            name,
            name=conv.physical_name("backup"),
            rules=[aws.backup.PlanRuleArgs(
                rule_name="hourly",
                target_vault_name=self.vault.name,
                schedule=args.schedule,
                start_window=START_WINDOW_MINUTES,
                completion_window=COMPLETION_WINDOW_MINUTES,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days),
                copy_actions=copy_actions,
                recovery_point_tags=conv.tags(),
            )],
            region=context.region,
            tags=conv.tags(conv.physical_name("backup")),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.role = aws.iam.Role(
            f"{name}-role",
            name=conv.physical_name("backup"),
            description=f"AWS Backup backs up, copies and restores the stores of {conv.physical_name()}",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(backup_trust_policy(account))),
            tags=conv.tags(conv.physical_name("backup")),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=self.role.name,
            policy_arn=pulumi.Output.from_input(context.partition).apply(
                lambda partition, policy=policy: f"arn:{partition}:iam::aws:policy/{policy}"),
            opts=pulumi.ResourceOptions(parent=self.role),
        ) for policy in MANAGED_POLICIES]
        dr_keys: list[pulumi.Input[str]] = [args.dr.vault_key_arn] if args.dr is not None else []
        document = pulumi.Output.all(
            source=pulumi.Output.all(*args.source_key_arns, *args.extra_source_key_arns, args.vault_key_arn),
            dr=pulumi.Output.all(*dr_keys),
        ).apply(lambda keys: kms_policy(sorted(set(keys["source"])), context.region, keys["dr"],
                                        args.dr.region if args.dr is not None else None))
        self.kms_grant = attach(f"{name}-kms", self.role, document, parent=self.role)

        self.selection = aws.backup.Selection(
            name,
            name=conv.physical_name("backup", "tagged"),
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            selection_tags=[aws.backup.SelectionSelectionTagArgs(
                type="STRINGEQUALS", key=BACKUP_TAG_KEY, value=backup_tags(conv)[BACKUP_TAG_KEY])],
            region=context.region,
            # A job that starts before the role can use the keys fails, and is not retried
            # until the next hour.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, self.kms_grant]),
        )

        self.region_settings = {}
        if args.manage_region_settings:
            regions = [context.region] + ([args.dr.region] if args.dr is not None else [])
            for region in regions:
                self.region_settings[region] = aws.backup.RegionSettings(
                    f"{name}-settings-{region}",
                    resource_type_opt_in_preference=dict.fromkeys(BACKED_UP_TYPES, True),
                    resource_type_management_preference={"DynamoDB": True},
                    region=region,
                    opts=pulumi.ResourceOptions(parent=self),
                )

        self.register_outputs({
            "vaultArn": self.vault.arn,
            "drVaultArn": self.dr_vault.arn if self.dr_vault is not None else None,
            "planId": self.plan.id,
            "roleArn": self.role.arn,
        })

    def _vault(self, name: str, context: StackContext, key_arn: pulumi.Input[str],
               opts: pulumi.ResourceOptions) -> aws.backup.Vault:
        conv = context.conventions
        return aws.backup.Vault(
            name,
            name=conv.physical_name("backup"),
            kms_key_arn=key_arn,
            force_destroy=False,
            region=context.region,
            tags=conv.tags(conv.physical_name("backup")),
            opts=opts,
        )

    def _lock(self, name: str, region: str, vault: aws.backup.Vault, args: BackupArgs,
              opts: pulumi.ResourceOptions) -> aws.backup.VaultLockConfiguration:
        return aws.backup.VaultLockConfiguration(
            name,
            backup_vault_name=vault.name,
            # Setting it is what makes the lock compliance mode (governance mode leaves out
            # the grace time, and lets privileged users remove the lock at any time).
            changeable_for_days=args.changeable_for_days,
            min_retention_days=args.lock_min_retention_days,
            max_retention_days=args.max_retention_days,
            region=region,
            opts=opts,
        )
