"""Where a data store goes and who reaches it: what a store's args give its shared builders,
whether the store is the primary or its secondary in the DR region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.foundation.network import admit_clients


class StorePlacement(Protocol):
    @property
    def vpc_id(self) -> pulumi.Input[str]: ...
    @property
    def subnet_ids(self) -> Sequence[pulumi.Input[str]]:
        """The isolated (data) subnets of the store's region."""
        ...
    @property
    def data_key_arn(self) -> pulumi.Input[str]:
        """The data key of the store's region (in the DR region, the primary key's replica)."""
        ...
    @property
    def client_security_group_ids(self) -> Mapping[str, pulumi.Input[str]]:
        """The groups admitted to the store's port, by client name."""
        ...


def store_security_group(component: pulumi.Resource, name: str, context: StackContext, args: StorePlacement, *,
                         physical: str, port: int, service: str, kind: str) -> aws.ec2.SecurityGroup:
    """The store's own security group, admitting each client group of ``args`` on ``port``.
    ``kind`` ("database", "cache") is in the group's description, which cannot change
    without replacing the group.

    No inline rules: ingress and egress are separate rule resources, so no rule is ever
    dropped by a second owner. Without an egress rule the group answers only replies.
    """
    group = aws.ec2.SecurityGroup(
        name, vpc_id=args.vpc_id, description=f"{physical}: {kind} clients only", region=context.region,
        tags=context.conventions.tags(physical), opts=pulumi.ResourceOptions(parent=component))
    admit_clients(name, security_group=group, client_security_group_ids=args.client_security_group_ids, port=port,
                  service=service, region=context.region, conventions=context.conventions, parent=group)
    return group
