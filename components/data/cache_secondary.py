"""The DR region's side of the ElastiCache Global Datastore: a secondary replication group.

ElastiCache replicates the primary's writes to it (typically under a second of lag); it
serves reads in the DR region and is promoted to primary by hand when failing over
(ElastiCache does not fail over across regions by itself). It inherits engine, version,
node type, parameter group and both encryption settings from the Global Datastore: a member
that sets them is refused. What stays regional is ours to give: the DR region's replica of
the data key, the isolated subnets and security group, and the IAM-authenticated user group
(users and user groups are regional resources, so the DR side has its own, alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.common.context import StackContext
from components.data.cache import CacheReplicationGroup, check_global_datastore_node_type
from components.data.settings import CacheConfig


@dataclass(frozen=True)
class CacheSecondaryArgs:
    settings: CacheConfig
    """The primary's settings: the secondary has the same nodes, multi-AZ and snapshots."""
    global_datastore_id: pulumi.Input[str]
    """The Global Datastore to join: ``Cache.global_datastore.id`` of the primary slice."""
    vpc_id: pulumi.Input[str]
    """The DR region's VPC."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The DR region's isolated (data) subnets."""
    data_key_arn: pulumi.Input[str]
    """The DR region's data key (the replica of the primary's multi-Region key): encrypts the
    secondary at rest (the key must be in the secondary's region)."""
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The DR region's client groups, by client name (as ``CacheArgs``)."""


class CacheSecondary(CacheReplicationGroup):
    """A secondary replication group of a Global Datastore, in ``context.region`` (the DR
    region). ``grant_connect(role)`` lets a DR-region service connect as the DR side's
    application user."""

    def __init__(self, name: str, context: StackContext, args: CacheSecondaryArgs,
                 opts: pulumi.ResourceOptions | None = None):
        check_global_datastore_node_type(args.settings.node_type)
        super().__init__("retail:data:CacheSecondary", name, context, args, opts)
        self._create_group(args, global_replication_group_id=args.global_datastore_id)
        self._register({})
