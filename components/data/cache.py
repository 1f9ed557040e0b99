"""The cache: an ElastiCache (Valkey or Redis OSS) replication group, private and encrypted.

With ``global_datastore`` the replication group is the primary of an ElastiCache Global
Datastore, which a :class:`~components.data.cache_secondary.CacheSecondary` in the DR region
joins; both are built from the pieces below, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import attach, policy_document, statement
from components.data.placement import StorePlacement, store_security_group
from components.data.settings import CacheConfig
from components.resilience.objectives import GLOBAL_DATASTORE_FAMILIES, supports_global_datastore

CACHE_PORT = 6379

#: The application user's command rights: everything but the commands that can reconfigure,
#: flush or stall the server (ACL categories of Valkey and Redis OSS 6+).
APP_ACCESS_STRING = "on ~* +@all -@dangerous -@admin"

#: Every user group must contain a user named "default"; this one can do nothing.
DISABLED_DEFAULT_ACCESS_STRING = "off -@all"

#: Replication group ids are at most 40 characters (an ElastiCache limit).
MAX_REPLICATION_GROUP_ID = 40

SNAPSHOT_WINDOW = "03:00-05:00"
MAINTENANCE_WINDOW = "tue:05:30-tue:07:30"

def check_global_datastore_node_type(node_type: str) -> str:
    """``node_type`` if a Global Datastore runs on it, else a ValueError naming the fix."""
    if not supports_global_datastore(node_type):
        raise ValueError(
            f"cache nodeType {node_type!r} cannot join an ElastiCache Global Datastore: it runs on "
            f"{', '.join(sorted(GLOBAL_DATASTORE_FAMILIES))} nodes of size large and above (no t-family, no "
            "previous generation); choose e.g. 'cache.r7g.large', or a DR strategy that rebuilds the cache")
    return node_type


def connect_policy(replication_group_arn: str, user_arn: str) -> dict[str, Any]:
    """IAM authentication to one replication group as one ElastiCache user."""
    return policy_document(statement("ConnectAsAppUser", ["elasticache:Connect"], [replication_group_arn, user_arn]))


@dataclass(frozen=True)
class CacheArgs:
    settings: CacheConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated (data) tier."""
    data_key_arn: pulumi.Input[str]
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    global_datastore: bool = False
    """Make this replication group the primary of a Global Datastore (``self.global_datastore``)
    that a :class:`~components.data.cache_secondary.CacheSecondary` joins. Needs a node type
    Global Datastore supports (:func:`check_global_datastore_node_type`)."""


# -- pieces the primary and the DR secondary share -------------------------------------------

@dataclass(frozen=True)
class CacheFoundation:
    """What a replication group stands on, whichever side of a Global Datastore it is."""

    subnet_group: aws.elasticache.SubnetGroup
    security_group: aws.ec2.SecurityGroup
    app_user: aws.elasticache.User
    user_group: aws.elasticache.UserGroup


class CachePlacement(StorePlacement, Protocol):
    """What ``CacheArgs`` and ``CacheSecondaryArgs`` share."""

    @property
    def settings(self) -> CacheConfig: ...


def cache_foundation(component: pulumi.Resource, name: str, context: StackContext,
                     args: CachePlacement) -> CacheFoundation:
    """Subnet group, security group (with its clients) and the IAM-authenticated user group of
    one replication group, in ``context.region``. Users and user groups are regional, so each
    side of a Global Datastore has its own."""
    conv, region, engine = context.conventions, context.region, args.settings.engine
    child = pulumi.ResourceOptions(parent=component)
    physical = conv.physical_name(name, max_length=MAX_REPLICATION_GROUP_ID)

    subnet_group = aws.elasticache.SubnetGroup(
        name, name=physical, description=f"{physical}: isolated subnets", subnet_ids=list(args.subnet_ids),
        region=region, tags=conv.tags(physical), opts=child)
    security_group = store_security_group(component, name, context, args, physical=physical, port=CACHE_PORT,
                                          service="cache", kind="cache")

    # IAM authentication requires the user id to equal the user name.
    app_user = aws.elasticache.User(
        f"{name}-app", user_id=f"{physical}-app", user_name=f"{physical}-app", engine=engine,
        access_string=APP_ACCESS_STRING,
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
        region=region, tags=conv.tags(f"{physical}-app"), opts=child)
    default_user = aws.elasticache.User(
        f"{name}-default", user_id=f"{physical}-default", user_name="default", engine=engine,
        access_string=DISABLED_DEFAULT_ACCESS_STRING,
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
        region=region, tags=conv.tags(f"{physical}-default"), opts=child)
    user_group = aws.elasticache.UserGroup(
        name, user_group_id=physical, engine=engine,
        user_ids=[default_user.user_id, app_user.user_id],
        region=region, tags=conv.tags(physical), opts=child)
    return CacheFoundation(subnet_group, security_group, app_user, user_group)


def replication_group_args(name: str, context: StackContext, args: CachePlacement,
                           foundation: CacheFoundation) -> dict[str, Any]:
    """The ``aws.elasticache.ReplicationGroup`` arguments a primary and a secondary share:
    nodes, failover, our key, IAM auth, placement, snapshots, maintenance, deletion."""
    config, conv = args.settings, context.conventions
    physical = conv.physical_name(name, max_length=MAX_REPLICATION_GROUP_ID)
    multi_node = config.nodes > 1
    return dict(
        replication_group_id=physical,
        description=f"{physical}: storefront cache (sessions, catalogue, prices)",
        num_cache_clusters=config.nodes,
        port=CACHE_PORT,
        # ElastiCache.3: a replica in another AZ takes over within a minute.
        automatic_failover_enabled=multi_node,
        multi_az_enabled=multi_node,
        kms_key_id=args.data_key_arn,
        user_group_ids=[foundation.user_group.user_group_id],
        subnet_group_name=foundation.subnet_group.name,
        security_group_ids=[foundation.security_group.id],
        snapshot_retention_limit=config.snapshot_retention_days,
        snapshot_window=SNAPSHOT_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        auto_minor_version_upgrade=True,
        final_snapshot_identifier=f"{physical}-final" if context.protect else None,
        region=context.region,
        tags=conv.tags(physical),
    )


class CacheReplicationGroup(pulumi.ComponentResource):
    """What the primary (:class:`Cache`) and a DR secondary (``CacheSecondary``) share: the
    foundation, the replication group with the common arguments, its endpoints and the IAM
    connect grant. A subclass adds only what is its own."""

    replication_group: aws.elasticache.ReplicationGroup
    security_group: aws.ec2.SecurityGroup
    app_user: aws.elasticache.User
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]

    def __init__(self, type_: str, name: str, context: StackContext, args: CachePlacement,
                 opts: pulumi.ResourceOptions | None):
        super().__init__(type_, name, None, opts)
        self._name, self._context = name, context
        self.foundation = cache_foundation(self, name, context, args)
        self.security_group = self.foundation.security_group
        self.app_user = self.foundation.app_user
        self.port = CACHE_PORT

    def _create_group(self, args: CachePlacement, **own: Any) -> aws.elasticache.ReplicationGroup:
        self.replication_group = aws.elasticache.ReplicationGroup(
            self._name,
            **replication_group_args(self._name, self._context, args, self.foundation),
            **own,
            opts=pulumi.ResourceOptions(parent=self, protect=self._context.protect),
        )
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        return self.replication_group

    def _register(self, outputs: Mapping[str, Any]) -> None:
        self.register_outputs({
            "primaryEndpoint": self.primary_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "appUser": self.app_user.user_name,
            **outputs,
        })

    def grant_connect(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let ``role`` connect to this replication group (in its region) as the application
        user, with an IAM auth token."""
        document = pulumi.Output.all(self.replication_group.arn, self.app_user.arn).apply(
            lambda arns: connect_policy(arns[0], arns[1]))
        return attach(f"{self._name}-connect-{role._name}", role, document, parent=role)


class Cache(CacheReplicationGroup):
    """A multi-AZ replication group with automatic failover, TLS, at-rest encryption with our
    key, and IAM authentication through an RBAC user group (no shared password to leak)."""

    global_datastore: aws.elasticache.GlobalReplicationGroup | None

    def __init__(self, name: str, context: StackContext, args: CacheArgs,
                 opts: pulumi.ResourceOptions | None = None):
        if args.global_datastore:
            check_global_datastore_node_type(args.settings.node_type)
        super().__init__("retail:data:Cache", name, context, args, opts)
        config, conv = args.settings, context.conventions

        # Engine, version, node type and both encryptions are set here only: a Global
        # Datastore's secondaries inherit them from this group.
        self._create_group(
            args,
            engine=config.engine,
            engine_version=config.engine_version,
            node_type=config.node_type,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
        )

        self.global_datastore = None
        if args.global_datastore:
            # ElastiCache prefixes the suffix with a code of the primary's region to make the
            # datastore's id; the id (``.id``) is what a secondary names to join.
            suffix = conv.physical_name(name, max_length=MAX_REPLICATION_GROUP_ID)
            self.global_datastore = aws.elasticache.GlobalReplicationGroup(
                f"{name}-global",
                global_replication_group_id_suffix=suffix,
                primary_replication_group_id=self.replication_group.id,
                global_replication_group_description=f"{suffix}: storefront cache, replicated to the DR region",
                region=context.region,
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )
        self._register({"globalDatastoreId": self.global_datastore.id if self.global_datastore is not None else None})
