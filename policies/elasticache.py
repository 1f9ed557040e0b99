"""ElastiCache (Valkey / Redis OSS) replication groups: backups, patches, failover,
encryption at rest with our key and in transit, authentication, and a subnet group of
our own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from policies._helpers import (
    days_text,
    is_number,
    is_set,
    names_customer_key,
    resource_policy,
)

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
MIN_SNAPSHOT_RETENTION_DAYS = 1
#: The subnet group ElastiCache falls back to: the default VPC's subnets.
DEFAULT_SUBNET_GROUP = "default"


def _nodes_per_shard(props: Mapping[str, Any]) -> float:
    """Primary plus replicas of one shard: numCacheClusters without cluster mode, else
    1 + replicasPerNodeGroup; 1 (a lone primary) when neither is set."""
    clusters = props.get("numCacheClusters")
    if is_number(clusters):
        return clusters
    replicas = props.get("replicasPerNodeGroup")
    if is_number(replicas):
        return 1 + replicas
    return 1


# --- ElastiCache.1 --------------------------------------------------------------------------


def _automatic_backups(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    retention = args.props.get("snapshotRetentionLimit")
    # Missing is a violation: AWS's default is 0, no automatic backups.
    if not is_number(retention) or retention < MIN_SNAPSHOT_RETENTION_DAYS:
        shown = "not set (0 by default)" if retention is None else days_text(retention)
        report_violation(
            f"cache keeps automatic backups for {shown} days; set snapshot_retention_limit to "
            "at least 1 (the stack config's cache.snapshotRetentionDays) and a "
            "snapshot_window.",
            None,
        )


# --- ElastiCache.2 --------------------------------------------------------------------------


def _auto_minor_version_upgrade(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing is compliant: the default is true (Redis OSS 6+ and Valkey).
    if args.props.get("autoMinorVersionUpgrade") is False:
        report_violation(
            "cache does not take minor engine upgrades (security patches); set "
            "auto_minor_version_upgrade=True.",
            None,
        )


# --- ElastiCache.3 --------------------------------------------------------------------------


def _automatic_failover(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    nodes = _nodes_per_shard(args.props)
    if nodes < 2:
        # A single-node (dev) cache has no replica to fail over to.
        args.not_applicable(f"{days_text(nodes)} node per shard: nothing to fail over to")
    # Missing is a violation: the provider's default for both is false.
    off = [
        python
        for camel, python in (
            ("automaticFailoverEnabled", "automatic_failover_enabled"),
            ("multiAzEnabled", "multi_az_enabled"),
        )
        if args.props.get(camel) is not True
    ]
    if off:
        report_violation(
            f"cache has {days_text(nodes)} nodes but {' and '.join(off)} off, so losing the "
            f"primary's node or AZ stops it; set {', '.join(f'{flag}=True' for flag in off)}.",
            None,
        )


# --- ElastiCache.4 --------------------------------------------------------------------------


def _encrypted_at_rest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # A Global Datastore secondary inherits encryption from the primary (checked there) and
    # may not set it; it still names the key of its own region.
    if args.props.get("globalReplicationGroupId"):
        if not names_customer_key(args.props, "kmsKeyId"):
            report_violation("cache is a Global Datastore secondary without a customer key; set kms_key_id=<the DR "
                             "region's data key ARN>.", None)
        return
    # Missing is a violation: the provider leaves it to the engine's default, which is off
    # for Redis OSS; say it.
    if args.props.get("atRestEncryptionEnabled") is not True:
        report_violation(
            "cache is not encrypted at rest; set at_rest_encryption_enabled=True and "
            "kms_key_id=<the data key's ARN> (only possible when the group is created).",
            None,
        )
    elif not names_customer_key(args.props, "kmsKeyId"):
        report_violation(
            "cache is encrypted at rest with an AWS-managed key; set kms_key_id=<the data key's "
            "ARN>.",
            None,
        )


# --- ElastiCache.5 --------------------------------------------------------------------------


def _encrypted_in_transit(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.props.get("globalReplicationGroupId"):
        args.not_applicable("a Global Datastore secondary inherits in-transit encryption from its primary, "
                            "which this rule checks")
    # Missing is a violation: say it explicitly, whatever the engine's default.
    if args.props.get("transitEncryptionEnabled") is not True:
        report_violation(
            "cache accepts unencrypted connections; set transit_encryption_enabled=True and "
            "transit_encryption_mode='required'.",
            None,
        )
    # Missing mode is compliant: with encryption on, AWS's default mode is required.
    elif args.props.get("transitEncryptionMode") == "preferred":
        report_violation(
            "cache has transit_encryption_mode='preferred', which still accepts plain-text "
            "clients; set transit_encryption_mode='required' once every client uses TLS.",
            None,
        )


# --- ElastiCache.6 --------------------------------------------------------------------------


def _auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # RBAC user groups (Valkey, Redis OSS 6+) or an AUTH token (any Redis OSS): either way no
    # client connects without credentials.
    if not any(is_set(args.props, key) for key in ("userGroupIds", "authToken", "authTokenWo")):
        report_violation(
            "cache lets any client that reaches it connect without credentials; set "
            "user_group_ids=[user_group.user_group_id] (an aws.elasticache.UserGroup of "
            "IAM-authenticated users, for Valkey and Redis OSS 6+), or auth_token_wo for Redis "
            "OSS before 6.",
            None,
        )


# --- ElastiCache.7 --------------------------------------------------------------------------


def _not_default_subnet_group(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    try:
        group = args.props.get("subnetGroupName")
    except UnknownValueError:
        return  # unknown in preview: the name of a subnet group this program creates
    # Missing is a violation: ElastiCache then uses the default subnet group (default VPC).
    if not group or group == DEFAULT_SUBNET_GROUP:
        report_violation(
            "cache uses the default subnet group, in the default VPC; create an "
            "aws.elasticache.SubnetGroup of the isolated subnets and set "
            "subnet_group_name=subnet_group.name.",
            None,
        )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "elasticache-automatic-backups",
        f"ElastiCache.1: caches keep automatic backups for at least "
        f"{MIN_SNAPSHOT_RETENTION_DAYS} day",
        (REPLICATION_GROUP,),
        _automatic_backups,
    ),
    resource_policy(
        "elasticache-auto-minor-version-upgrade",
        "ElastiCache.2: caches take minor engine upgrades automatically",
        (REPLICATION_GROUP,),
        _auto_minor_version_upgrade,
    ),
    resource_policy(
        "elasticache-automatic-failover",
        "ElastiCache.3: caches with replicas fail over automatically, across AZs",
        (REPLICATION_GROUP,),
        _automatic_failover,
    ),
    resource_policy(
        "elasticache-encrypted-at-rest",
        "ElastiCache.4: caches are encrypted at rest with a customer-managed KMS key",
        (REPLICATION_GROUP,),
        _encrypted_at_rest,
    ),
    resource_policy(
        "elasticache-encrypted-in-transit",
        "ElastiCache.5: caches require TLS",
        (REPLICATION_GROUP,),
        _encrypted_in_transit,
    ),
    resource_policy(
        "elasticache-auth",
        "ElastiCache.6: caches authenticate clients (RBAC user groups or an AUTH token)",
        (REPLICATION_GROUP,),
        _auth,
    ),
    resource_policy(
        "elasticache-not-default-subnet-group",
        "ElastiCache.7: caches use a subnet group of their own, not the default one",
        (REPLICATION_GROUP,),
        _not_default_subnet_group,
    ),
]
