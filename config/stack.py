"""The stack file's schema: every layer's settings, composed, plus the stack-wide keys."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.analytics.settings import LakeConfig, StreamsConfig
from components.analytics.warehouse_settings import WarehouseConfig
from components.api.settings import ApiConfig
from components.audit.settings import AuditConfig
from components.ci.settings import CiConfig
from components.common.aws_catalog import check_region, regions, suggestion
from components.common.aws_limits import MAX_TAG_VALUE_LENGTH, TAG_VALUE_PUNCTUATION
from components.common.conventions import Conventions
from components.common.settings import DataClassification, Environment, SettingsModel
from components.compute.settings import KubernetesConfig, ServiceConfig
from components.data.settings import CacheConfig, NoSqlConfig, SqlConfig, StorageConfig
from components.edge.settings import EdgeConfig
from components.foundation.settings import NetworkConfig
from components.observability.settings import AlarmsConfig
from components.peaks.settings import PeakEventConfig
from components.resilience.settings import DrConfig

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class StackConfig(SettingsModel):
    """The whole, validated stack configuration."""

    environment: Environment = Field(description="Which preset the stack starts from.")
    owner: str = Field(min_length=1, description="Team or address accountable for the stack (tag `owner`).")
    cost_center: str = Field(min_length=1, description="Cost centre billed for the stack (tag `cost-center`).")
    data_classification: DataClassification = Field(
        description="The most sensitive data the stack holds (tag `data-classification`).",
    )
    region: str = Field(description="Primary region, from `aws:region`.")
    dr_region: str | None = Field(
        default=None,
        description="Replaced by `retail:dr` (strategy and region); refused with the migration.",
    )
    dr: DrConfig = Field(description="Disaster recovery: the strategy, its region and the declared RPO/RTO.")
    network: NetworkConfig
    storage: StorageConfig
    sql: SqlConfig
    nosql: NoSqlConfig
    cache: CacheConfig
    kubernetes: KubernetesConfig
    services: list[ServiceConfig] = Field(description="The storefront's services; a stack's list replaces the "
                                          "preset's.")
    edge: EdgeConfig
    streams: StreamsConfig = Field(default_factory=StreamsConfig, description="Kinesis streams and the tables "
                                   "whose changes feed them.")
    lake: LakeConfig = Field(default_factory=LakeConfig, description="Firehose delivery into the data lake, Glue "
                             "and Athena.")
    warehouse: WarehouseConfig | None = Field(default=None, description="Redshift Serverless, its zero-ETL "
                                              "sources and its usage limit (the presets set it).")
    api: ApiConfig | None = Field(default=None, description="The partner APIs built from apis/*.yaml (the "
                                  "presets set it).")
    alarms: AlarmsConfig | None = Field(default=None, description="Alarms on the shop's signals, their "
                                        "encrypted SNS topic and the stack's dashboard; prod must set notify.")
    ci: CiConfig = Field(default_factory=CiConfig, description="GitHub Actions OIDC: the repository whose "
                         "workflows preview and deploy this stack (off by default).")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="CloudTrail, AWS Config, GuardDuty, "
                               "Security Hub and IAM Access Analyzer, and the audit bucket they deliver to.")
    peak_events: list[PeakEventConfig] = Field(default_factory=list, description="Known traffic peaks (Black "
                                               "Friday, sales): every layer is warmed before each and released "
                                               "after it; checked against the stack's bounds.")

    @field_validator("services")
    @classmethod
    def _services_consistent(cls, services: list[ServiceConfig]) -> list[ServiceConfig]:
        names = [s.name for s in services]
        problems = []
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"service names must be unique: {', '.join(duplicates)}")
        paths: dict[str, str] = {}
        for service in services:
            if service.path is not None and service.path in paths:
                problems.append(f"path {service.path!r} of {service.name!r} is already used by "
                                f"{paths[service.path]!r}; give each exposed service its own path")
            if service.path is not None:
                paths.setdefault(service.path, service.name)
            unknown = sorted(set(service.callers) - set(names))
            if unknown:
                problems.append(f"{service.name!r} names unknown callers: {', '.join(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        return services

    @field_validator("dr_region")
    @classmethod
    def _moved_to_dr(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                f"retail:drRegion was replaced by retail:dr, which also says what the DR region holds: write "
                f"`retail:dr: {{strategy: backup-restore, region: {value}}}` (backup-restore is the closest to what "
                "drRegion did: multi-Region keys, plus backups copied there), or pilot-light, warm-standby, "
                "active-active; see the README's disaster recovery section")
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an AWS region name (expected e.g. 'eu-west-1')"
                             f"{suggestion(value, regions())}")
        return value if value is None else check_region(value)

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        # These become tag values on every resource: AWS's limits for tag values apply.
        bad = sorted({c for c in value if not (c.isalnum() or c in TAG_VALUE_PUNCTUATION)})
        if bad:
            raise ValueError(f"{value!r} becomes a tag value, which AWS allows only letters, digits, spaces and "
                             f"{TAG_VALUE_PUNCTUATION.strip()} in; remove {' '.join(repr(c) for c in bad)}")
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise ValueError(f"becomes a tag value, which AWS limits to {MAX_TAG_VALUE_LENGTH} characters "
                             f"(this is {len(value)})")
        return value

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.prod

    def conventions(self, stack: str) -> Conventions:
        return Conventions(
            environment=self.environment.value,
            owner=self.owner,
            cost_center=self.cost_center,
            data_classification=self.data_classification.value,
            stack=stack,
            dr_tags=(("dr-strategy", self.dr.strategy.value), ("dr-region", self.dr.region))
            if self.dr.region is not None else (),
        )

