"""Settings of the partner APIs (stack-file section ``retail:api``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.settings import Bool, Float, Int, SettingsModel

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.pem$")
_METHOD_PATH = re.compile(r"^/[A-Za-z0-9/{}_-]*$")
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

#: API Gateway's account-level ceiling per region (requests per second): a tier or method
#: above it is a typo, never a real plan.
MAX_RATE_LIMIT = 10_000.0

#: AWS WAF rate-based rules: requests per source IP per 5 minutes (the range AWS accepts).
WAF_MIN_RATE_LIMIT, WAF_MAX_RATE_LIMIT = 10, 2_000_000_000
WAF_WINDOW_SECONDS = 300


class ThrottleConfig(SettingsModel):
    rate_limit: Float = Field(gt=0, le=MAX_RATE_LIMIT, description="Steady-state requests per second.")
    burst_limit: Int = Field(ge=1, le=5_000, description="Requests allowed in a burst above the rate.")


class QuotaConfig(SettingsModel):
    limit: Int = Field(ge=1, description="Requests allowed per period.")
    period: Literal["DAY", "WEEK", "MONTH"] = Field(description="The quota's period.")


class TierConfig(SettingsModel):
    """One partner tier: a usage plan with its quota and throttling."""

    name: str = Field(description="Tier name (lower-case, e.g. `standard`, `premium`).")
    quota: QuotaConfig
    throttle: ThrottleConfig

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"tier name {value!r} must be 2-31 lower-case letters, digits or hyphens, starting "
                             "with a letter (e.g. 'standard')")
        return value


class PartnerConfig(SettingsModel):
    """A partner: an API key (a usage identifier, never its authentication) in one tier."""

    name: str = Field(description="Partner name (lower-case, e.g. `acme-logistics`).")
    tier: str = Field(description="The tier (one of `tiers`) whose usage plan meters it.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"partner name {value!r} must be 2-31 lower-case letters, digits or hyphens, "
                             "starting with a letter (e.g. 'acme-logistics')")
        return value


class MethodThrottleConfig(SettingsModel):
    """Stage-wide throttling of one expensive operation, and its per-tier cap in every plan."""

    path: str = Field(description="Resource path as in the OpenAPI document (e.g. `/catalogue`).")
    method: str = Field(default="GET", description="HTTP method.")
    throttle: ThrottleConfig

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _METHOD_PATH.match(value):
            raise ValueError(f"method throttling path {value!r} must be an OpenAPI path such as '/catalogue'")
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in _HTTP_METHODS:
            raise ValueError(f"method {value!r} is not one of {', '.join(_HTTP_METHODS)}")
        return value.upper()

    @property
    def method_path(self) -> str:
        """API Gateway's ``resource_path/HTTP_METHOD`` with the leading slash dropped."""
        return f"{self.path.lstrip('/')}/{self.method}"


class ApiDomainConfig(SettingsModel):
    name: str = Field(description="The API's host name (e.g. `partners.example.com`).")
    certificate_arn: str = Field(description="Regional ACM certificate for `name`, in the stack's region.")
    truststore_uri: str | None = Field(
        default=None, description="Mutual TLS: `s3://bucket/key.pem` of the partners' CA bundle. When set, "
        "partners must present a client certificate, and the default execute-api endpoint is switched off "
        "so that nobody goes around it.")
    truststore_version: str | None = Field(default=None, description="S3 object version of the truststore.")

    @field_validator("name")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOSTNAME.match(value):
            raise ValueError(f"api domain name {value!r} is not a lower-case host name such as "
                             "'partners.example.com'")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str) -> str:
        if not value.startswith("arn:") or ":acm:" not in value:
            raise ValueError(f"certificateArn {value!r} is not an ACM certificate ARN "
                             "(arn:aws:acm:<region>:<account>:certificate/<id>)")
        return value

    @field_validator("truststore_uri")
    @classmethod
    def _truststore(cls, value: str | None) -> str | None:
        if value is not None and not _S3_URI.match(value):
            raise ValueError(f"truststoreUri {value!r} must be an S3 URI of a PEM bundle, "
                             "e.g. s3://retail-prod-truststores/partners.pem")
        return value


class ApiConfig(SettingsModel):
    """``retail:api``: the partner APIs built from ``apis/*.yaml``."""

    enabled: Bool = Field(default=True, description="Build the partner APIs.")
    backends: dict[str, str] = Field(min_length=1, description="operationId -> the service (retail:services) "
                                     "that answers it, through the internal NLB and the VPC link.")
    waf_rate_limit: Int = Field(default=120_000, ge=WAF_MIN_RATE_LIMIT, le=WAF_MAX_RATE_LIMIT,
                                description="Requests per partner IP per 5 minutes before the API's web ACL "
                                "blocks it; at least the fastest tier's rate for 5 minutes.")

    versions: list[str] = Field(default=["v1"], min_length=1, description="Published major versions: each is "
                                "`apis/partners-<version>.yaml` on its own stage.")
    authorization: Literal["iam", "cognito"] = Field(
        default="iam", description="`iam`: partners sign with SigV4 as their IAM role (machine partners). "
        "`cognito`: a Cognito user pool authorizer (`cognitoUserPoolArn`).")
    cognito_user_pool_arn: str | None = Field(default=None, description="User pool for `authorization: cognito`.")
    tiers: list[TierConfig] = Field(min_length=1, description="Partner tiers, one usage plan each.")
    partners: list[PartnerConfig] = Field(default=[], description="Partners, one API key each, in a tier.")
    method_throttling: list[MethodThrottleConfig] = Field(
        default=[], description="Throttling of expensive operations (the catalogue export).")
    execution_log_level: Literal["ERROR", "INFO"] = Field(
        default="ERROR", description="Execution logging level (APIGateway.1); ERROR in prod.")
    data_trace: Bool = Field(default=False, description="Log full requests and responses in execution logs. "
                             "Never in prod: bodies carry partner and order data.")
    log_retention_days: Int = Field(default=365, ge=1, description="Retention of access and execution logs.")
    domain: ApiDomainConfig | None = Field(default=None, description="Custom domain (TLS 1.2), optionally "
                                           "with mutual TLS.")

    @field_validator("versions")
    @classmethod
    def _versions(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.fullmatch(r"v[1-9][0-9]*", v)]
        if bad:
            raise ValueError(f"versions {bad} must be major versions such as 'v1'")
        if len(set(value)) != len(value):
            raise ValueError(f"versions {value} list a version twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ApiConfig:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tiers {names} name a tier twice")
        partners = [p.name for p in self.partners]
        if len(set(partners)) != len(partners):
            raise ValueError(f"partners {partners} name a partner twice")
        unknown = sorted({p.tier for p in self.partners} - set(names))
        if unknown:
            raise ValueError(f"partners use tier(s) {unknown} that are not in tiers ({', '.join(names)}); add the "
                             "tier or move the partner")
        if self.authorization == "cognito" and not self.cognito_user_pool_arn:
            raise ValueError("authorization is 'cognito' but cognitoUserPoolArn is not set; give the user pool's "
                             "ARN or use authorization: iam")
        if self.authorization == "iam" and self.cognito_user_pool_arn:
            raise ValueError("cognitoUserPoolArn is set but authorization is 'iam'; remove it or set "
                             "authorization: cognito")
        fastest = max(tier.throttle.rate_limit for tier in self.tiers)
        if self.waf_rate_limit < fastest * WAF_WINDOW_SECONDS:
            raise ValueError(f"wafRateLimit {self.waf_rate_limit} per 5 minutes is below what the fastest tier may "
                             f"send ({fastest}/s x {WAF_WINDOW_SECONDS}s = {int(fastest * WAF_WINDOW_SECONDS)}); the "
                             "web ACL would block a partner inside its plan: raise wafRateLimit")
        for method in self.method_throttling:
            for tier in self.tiers:
                if method.throttle.rate_limit > tier.throttle.rate_limit:
                    raise ValueError(
                        f"method throttling of {method.method} {method.path} ({method.throttle.rate_limit}/s) is "
                        f"above tier {tier.name!r}'s rate ({tier.throttle.rate_limit}/s); an expensive operation "
                        "gets less than the tier, not more")
        return self
