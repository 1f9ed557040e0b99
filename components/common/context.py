"""The stack context: what every component of one stack shares, passed once.

Naming and tagging, the account and partition, the region a component builds in, whether
the stack protects its stateful resources. A component takes the context plus an args
object holding only its own inputs; the regional slice hands each region's components the
same context moved to that region (:meth:`StackContext.in_region`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi

from components.common.conventions import Conventions


@dataclass(frozen=True)
class StackContext:
    conventions: Conventions
    """Physical names and standard tags of the stack."""
    region: str
    """Where regional resources are built: the primary region, or the DR region in its slice."""
    account_id: pulumi.Input[str]
    """The target account (from the caller's identity): ARNs and key policies name it."""
    partition: pulumi.Input[str]
    """``aws``, ``aws-cn`` or ``aws-us-gov``: ARNs name it."""
    protect: bool = False
    """Whether stateful resources are Pulumi-``protect``ed (and deletion-protected in AWS):
    true in prod, so `pulumi destroy` and a replacing diff stop before data is lost."""

    @property
    def environment(self) -> str:
        return self.conventions.environment

    def in_region(self, region: str) -> StackContext:
        """The same stack, building in another region (the DR slice, us-east-1 for CloudFront)."""
        return dataclasses.replace(self, region=region)

    def for_dr(self, region: str) -> StackContext:
        """The DR region's slice: its region, and physical names qualified with ``dr`` so that
        account-wide and global names (IAM roles, S3 buckets) do not collide with the primary's."""
        return dataclasses.replace(self, region=region,
                                   conventions=dataclasses.replace(self.conventions, qualifier="dr"))
