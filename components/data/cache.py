"""The cache: an ElastiCache (Valkey or Redis OSS) replication group, private and encrypted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import attach, policy_document, statement
from components.data.settings import CacheConfig
from components.foundation.network import admit_clients

CACHE_PORT = 6379

#: The application user's command rights: everything but the commands that can reconfigure,
#: flush or stall the server (ACL categories of Valkey and Redis OSS 6+).
APP_ACCESS_STRING = "on ~* +@all -@dangerous -@admin"

#: Every user group must contain a user named "default"; this one can do nothing.
DISABLED_DEFAULT_ACCESS_STRING = "off -@all"

#: Replication group ids are at most 40 characters (an ElastiCache limit).
MAX_REPLICATION_GROUP_ID = 40


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


class Cache(pulumi.ComponentResource):
    """A multi-AZ replication group with automatic failover, TLS, at-rest encryption with our
    key, and IAM authentication through an RBAC user group (no shared password to leak)."""

    def __init__(self, name: str, context: StackContext, args: CacheArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:Cache", name, None, opts)
        self._name = name
        config, conv, region = args.settings, context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        physical = conv.physical_name(name, max_length=MAX_REPLICATION_GROUP_ID)

        subnet_group = aws.elasticache.SubnetGroup(
            name, name=physical, description=f"{physical}: isolated subnets", subnet_ids=list(args.subnet_ids),
            region=region, tags=conv.tags(physical), opts=child)
        self.security_group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, description=f"{physical}: cache clients only", region=region,
            tags=conv.tags(physical), opts=child)
        admit_clients(name, security_group=self.security_group,
                      client_security_group_ids=args.client_security_group_ids, port=CACHE_PORT,
                      service="cache", region=region, conventions=conv, parent=self.security_group)

        # IAM authentication requires the user id to equal the user name.
        self.app_user = aws.elasticache.User(
            f"{name}-app", user_id=f"{physical}-app", user_name=f"{physical}-app", engine=config.engine,
            access_string=APP_ACCESS_STRING,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            region=region, tags=conv.tags(f"{physical}-app"), opts=child)
        default_user = aws.elasticache.User(
            f"{name}-default", user_id=f"{physical}-default", user_name="default", engine=config.engine,
            access_string=DISABLED_DEFAULT_ACCESS_STRING,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
            region=region, tags=conv.tags(f"{physical}-default"), opts=child)
        user_group = aws.elasticache.UserGroup(
            name, user_group_id=physical, engine=config.engine,
            user_ids=[default_user.user_id, self.app_user.user_id],
            region=region, tags=conv.tags(physical), opts=child)

        multi_node = config.nodes > 1
        self.replication_group = aws.elasticache.ReplicationGroup(
            name,
            replication_group_id=physical,
            description=f"{physical}: storefront cache (sessions, catalogue, prices)",
            engine=config.engine,
            engine_version=config.engine_version,
            node_type=config.node_type,
            num_cache_clusters=config.nodes,
            port=CACHE_PORT,
            # ElastiCache.3: a replica in another AZ takes over within a minute.
            automatic_failover_enabled=multi_node,
            multi_az_enabled=multi_node,
            at_rest_encryption_enabled=True,
            kms_key_id=args.data_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            subnet_group_name=subnet_group.name,
            security_group_ids=[self.security_group.id],
            snapshot_retention_limit=config.snapshot_retention_days,
            snapshot_window="03:00-05:00",
            maintenance_window="tue:05:30-tue:07:30",
            auto_minor_version_upgrade=True,
            final_snapshot_identifier=f"{physical}-final" if context.protect else None,
            region=region,
            tags=conv.tags(physical),
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
        )
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.port = CACHE_PORT
        self.register_outputs({
            "primaryEndpoint": self.primary_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "appUser": self.app_user.user_name,
        })

    def grant_connect(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let ``role`` connect as the application user with an IAM auth token."""
        document = pulumi.Output.all(self.replication_group.arn, self.app_user.arn).apply(
            lambda arns: connect_policy(arns[0], arns[1]))
        return attach(f"{self._name}-connect-{role._name}", role, document, parent=role)
