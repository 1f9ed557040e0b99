"""Settings of the foundation layer: the network (stack-file section ``retail:network``)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from components.common.aws_limits import LOG_RETENTION_DAYS
from components.common.cidr import AZ_SLOTS, MAX_VPC_PREFIX, MIN_VPC_PREFIX
from components.common.settings import Bool, Int, SettingsModel

#: Prod spreads over at least three AZs: losing one still leaves a majority for quorum
#: systems (Aurora storage, etcd behind EKS) and two AZs of capacity for a surge.
PROD_MIN_AZ_COUNT = 3
MIN_AZ_COUNT = 2  # EKS and ALBs require subnets in two AZs.
MAX_AZ_COUNT = min(6, AZ_SLOTS)  # No AWS region has more than six AZs.

#: RFC 1918. Python's ``is_private`` would also admit loopback, link-local and benchmarking
#: ranges, which AWS refuses or which collide with its own addresses.
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))



class NetworkConfig(SettingsModel):
    cidr: str = Field(
        description="The VPC's IPv4 CIDR, /16 to /22; the subnet tiers are carved from it.",
    )
    az_count: Int = Field(description="How many availability zones the VPC spans.")
    nat_strategy: Literal["single", "perAz"] = Field(
        description="`perAz`: one NAT gateway per AZ (an AZ outage leaves the others' egress "
        "intact). `single`: one shared NAT gateway (cheaper, for dev).",
    )
    interface_endpoints: Bool = Field(
        description="Create interface endpoints (ECR, STS, CloudWatch Logs) so that nodes pull "
        "images and fetch credentials without crossing the NAT gateway.",
    )
    flow_log_retention_days: Int = Field(
        description="Days the VPC flow logs are kept in CloudWatch Logs.",
    )

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            reason = str(exc)
            if "has host bits set" in reason:
                raise ValueError(
                    f"{value!r} has host bits set; use the network address, e.g. "
                    f"'{ipaddress.IPv4Network(value, strict=False)}'"
                ) from None
            raise ValueError(f"{value!r} is not a valid IPv4 network (expected e.g. '10.0.0.0/16')") from None
        if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(f"{value!r} must have a prefix between /{MIN_VPC_PREFIX} and /{MAX_VPC_PREFIX} "
                             "(the smallest tier's subnets must still be /28 or larger)")
        if not any(network.subnet_of(block) for block in _RFC1918):
            raise ValueError(f"{value!r} is not a private (RFC 1918) range")
        return str(network)

    @field_validator("az_count")
    @classmethod
    def _az_bounds(cls, value: int) -> int:
        if not MIN_AZ_COUNT <= value <= MAX_AZ_COUNT:
            raise ValueError(f"must be between {MIN_AZ_COUNT} and {MAX_AZ_COUNT}, got {value}")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention_allowed(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period; use one of "
                             f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

