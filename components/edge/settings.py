"""Settings of the edge layer: domain, CDN and web firewall (stack-file section ``retail:edge``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.aws_limits import MAX_RATE_LIMIT, MIN_RATE_LIMIT
from components.common.settings import Bool, Int, SettingsModel

_HOSTNAME = re.compile(r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class DomainConfig(SettingsModel):
    zone_name: str = Field(description="Route 53 public hosted zone that validates the certificates.")
    record_name: str = Field(description="The shop's host name, inside the zone (e.g. 'shop.example.com').")

    @field_validator("zone_name", "record_name")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if not _HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a DNS name (e.g. 'shop.example.com')")
        return value

    @model_validator(mode="after")
    def _inside_zone(self) -> DomainConfig:
        if not (self.record_name == self.zone_name or self.record_name.endswith(f".{self.zone_name}")):
            raise ValueError(f"recordName {self.record_name!r} is not inside zoneName {self.zone_name!r}")
        return self


class GeoRestrictionConfig(SettingsModel):
    type: Literal["whitelist", "blacklist"]
    locations: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2 country codes.")

    @field_validator("locations")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _COUNTRY.match(v)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not ISO 3166-1 alpha-2 codes (e.g. 'DE')")
        return values




class EdgeConfig(SettingsModel):
    domain: DomainConfig | None = Field(
        default=None, description="Custom domain. Without it the CDN serves its *.cloudfront.net name with "
        "CloudFront's certificate and the ALB listens with HTTPS only once a certificate exists: see README.")
    rate_limit: Int = Field(description="Requests per client IP per 5 minutes before WAF blocks it.")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        description="CloudFront edge locations used (and paid for).")
    geo_restriction: GeoRestrictionConfig | None = None
    bot_control: Bool = Field(default=False, description="AWS WAF Bot Control managed rules (extra cost).")
    anonymous_ip: Bool = Field(default=False, description="Block anonymising proxies, VPNs and Tor.")
    shield_advanced: Bool = Field(default=False, description="Shield Advanced protection of the CDN and ALB "
                                  "(needs an active subscription).")

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: int) -> int:
        if value < MIN_RATE_LIMIT:
            raise ValueError(f"{value} is below AWS WAF's minimum rate limit of {MIN_RATE_LIMIT} requests per "
                             "5 minutes; a limit of 0 or less would block nobody or everybody")
        if value > MAX_RATE_LIMIT:
            raise ValueError(f"{value} is above AWS WAF's maximum rate limit of {MAX_RATE_LIMIT:,}")
        return value

