"""Subnet planning: carve a VPC CIDR into three tiers, one subnet per tier and AZ.

The layout is fixed per AZ *slot*, not per AZ count: a subnet's CIDR depends only on the
VPC CIDR, its tier and its AZ index. Growing a stack from 2 to 3 AZs therefore adds
subnets and never renumbers (which would replace) the existing ones.

Layout of a VPC with prefix /p (eight AZ slots per tier):

- private (workloads): the first half, /p+4 per AZ. The largest tier, because EKS's VPC CNI
  gives every pod an address from it.
- isolated (data): the third quarter, /p+5 per AZ. No route to the internet.
- public (load balancers, NAT): the first half of the last quarter, /p+6 per AZ.
- the last eighth stays free for tiers that come later (e.g. transit gateway attachments).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

AZ_SLOTS = 8
TIERS = ("public", "private", "isolated")

#: AWS's smallest subnet is a /28; the public tier is /p+6, so the VPC can be at most a /22.
MIN_SUBNET_PREFIX = 28
MAX_VPC_PREFIX = MIN_SUBNET_PREFIX - 6
MIN_VPC_PREFIX = 16  # AWS's largest VPC CIDR.


@dataclass(frozen=True)
class SubnetPlan:
    tier: str
    az_index: int
    cidr: str


def _tier_block(vpc: ipaddress.IPv4Network, tier: str) -> tuple[ipaddress.IPv4Network, int]:
    """The block a tier owns and the prefix of each of its subnets."""
    halves = list(vpc.subnets(prefixlen_diff=1))
    quarters = list(halves[1].subnets(prefixlen_diff=1))
    if tier == "private":
        return halves[0], vpc.prefixlen + 4
    if tier == "isolated":
        return quarters[0], vpc.prefixlen + 5
    if tier == "public":
        return next(quarters[1].subnets(prefixlen_diff=1)), vpc.prefixlen + 6
    raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")


def subnet_cidr(vpc_cidr: str, tier: str, az_index: int) -> str:
    vpc = ipaddress.IPv4Network(vpc_cidr)
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(f"VPC CIDR {vpc_cidr} must be between /{MIN_VPC_PREFIX} and /{MAX_VPC_PREFIX}")
    if not 0 <= az_index < AZ_SLOTS:
        raise ValueError(f"AZ index {az_index} is outside 0..{AZ_SLOTS - 1}")
    block, prefix = _tier_block(vpc, tier)
    return str(list(block.subnets(new_prefix=prefix))[az_index])


def plan_subnets(vpc_cidr: str, az_count: int) -> list[SubnetPlan]:
    """Every subnet of a VPC over ``az_count`` AZs, tier by tier."""
    if not 1 <= az_count <= AZ_SLOTS:
        raise ValueError(f"az_count {az_count} is outside 1..{AZ_SLOTS}")
    return [
        SubnetPlan(tier=tier, az_index=index, cidr=subnet_cidr(vpc_cidr, tier, index))
        for tier in TIERS
        for index in range(az_count)
    ]
