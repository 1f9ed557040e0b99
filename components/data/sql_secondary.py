"""The DR region's side of the Aurora Global Database: a secondary cluster.

Aurora's storage layer replicates the primary's writes to it (typically under a second of
lag), encrypted with the DR region's replica of the data key. What runs on it follows the DR
strategy: no instance (pilot light: storage only, an instance is added when failing over),
one reader (warm standby: a managed failover or switchover in about a minute), or a reader
that forwards writes to the primary (active-active). It is built from the same pieces as the
primary (:mod:`components.data.sql_database`), so the two cannot drift apart: port, TLS-only
parameters, IAM authentication, log export, backups and deletion rules are the primary's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.common.context import StackContext
from components.data.settings import SqlConfig
from components.data.sql_database import AuroraCluster

#: Aurora allows up to 16 instances in a cluster; a secondary's readers count like any other's.
MAX_SECONDARY_INSTANCES = 16


@dataclass(frozen=True)
class SqlSecondaryArgs:
    settings: SqlConfig
    """The primary's settings: the secondary must run the same engine version and port."""
    global_cluster_id: pulumi.Input[str]
    """The global cluster to join: ``SqlDatabase.global_cluster.id`` of the primary slice."""
    vpc_id: pulumi.Input[str]
    """The DR region's VPC."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The DR region's isolated (data) subnets."""
    data_key_arn: pulumi.Input[str]
    """The DR region's data key (the replica of the primary's multi-Region key): encrypts the
    secondary's storage and Performance Insights. A cross-region secondary must name a key in
    its own region."""
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The DR region's client groups, by client name (as ``SqlDatabaseArgs``)."""
    instances: int = 0
    """0: headless (pilot light); 1 or more: readers that take over on failover (warm standby,
    active-active)."""
    write_forwarding: bool = False
    """Forward writes made on the secondary to the primary (active-active). Needs an instance."""
    logs_key_arn: pulumi.Input[str] | None = None
    """Encrypts the exported PostgreSQL log, as on the primary (the DR region's logs key)."""
    log_retention_days: int = 365
    """Days the exported PostgreSQL log is kept, as on the primary."""

    def __post_init__(self) -> None:
        if not 0 <= self.instances <= MAX_SECONDARY_INSTANCES:
            raise ValueError(f"instances is {self.instances}: a secondary holds 0 (headless, pilot light) to "
                             f"{MAX_SECONDARY_INSTANCES} instances")
        if self.write_forwarding and self.instances == 0:
            raise ValueError("write_forwarding needs an instance to receive the writes: set instances to 1 or "
                             "more, or turn write_forwarding off (a headless secondary forwards nothing)")


class SqlSecondary(AuroraCluster):
    """A secondary cluster of an Aurora Global Database, in ``context.region`` (the DR region).
    ``grant_connect(role, db_user)`` lets a DR-region service sign in to it."""

    def __init__(self, name: str, context: StackContext, args: SqlSecondaryArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:SqlSecondary", name, context, args, opts)
        # No database name, master user or password: a secondary takes them from the primary
        # (RDS refuses them on a secondary), and the master secret stays the primary's.
        self._create_cluster(
            args,
            # RDS sets the replication source of a global secondary itself; without this every
            # `pulumi up` would show it as a change (and removing it promotes the secondary).
            ["replicationSourceIdentifier"],
            global_cluster_identifier=args.global_cluster_id,
            enable_global_write_forwarding=args.write_forwarding or None,
        )
        self._create_instances(args, args.instances)
        self._register({})
