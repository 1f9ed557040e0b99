"""The typed stack configuration.

A stack file says *what* differs for that stack; the environment preset (dev, staging,
prod) carries everything else. The raw Pulumi config (a flat map of ``namespace:key`` to
string, as the engine hands it to the program) is merged over the preset and validated in
one pass, so a stack file with three mistakes gets one message with three lines, each
naming the key path and the expected form. Nothing here imports the AWS SDK: validation
runs before any resource exists.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.common.aws_limits import (
    LOG_RETENTION_DAYS,
    MIN_RATE_LIMIT,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    POSTGRES_DEFAULT_PORT,
    RESERVED_DB_USERNAMES,
    SUPPORTED_KUBERNETES_VERSIONS,
)
from components.common.cidr import AZ_SLOTS, MAX_VPC_PREFIX, MIN_VPC_PREFIX
from components.common.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from components.common.conventions import Conventions

#: The project's config namespace: stack files say ``retail:network``.
NAMESPACE = "retail"


PROD_MIN_LOG_RETENTION_DAYS = MIN_AUDIT_LOG_RETENTION_DAYS

#: Prod spreads over at least three AZs: losing one still leaves a majority for quorum
#: systems (Aurora storage, etcd behind EKS) and two AZs of capacity for a surge.
PROD_MIN_AZ_COUNT = 3
MIN_AZ_COUNT = 2  # EKS and ALBs require subnets in two AZs.
MAX_AZ_COUNT = min(6, AZ_SLOTS)  # No AWS region has more than six AZs.

#: RFC 1918. Python's ``is_private`` would also admit loopback, link-local and benchmarking
#: ranges, which AWS refuses or which collide with its own addresses.
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

#: Prod holds customer data: anything less than confidential would mislabel it.
PROD_CLASSIFICATIONS = ("confidential", "restricted")

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class Environment(StrEnum):
    dev = "dev"
    staging = "staging"
    prod = "prod"


class DataClassification(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class _Model(BaseModel):
    """Stack-file models: camelCase keys, unknown keys refused, values checked strictly enough
    that a quoted number still works (Pulumi hands scalars to programs as strings)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


class NetworkConfig(_Model):
    cidr: str = Field(
        description="The VPC's IPv4 CIDR, /16 to /22; the subnet tiers are carved from it.",
    )
    az_count: int = Field(description="How many availability zones the VPC spans.")
    nat_strategy: Literal["single", "perAz"] = Field(
        description="`perAz`: one NAT gateway per AZ (an AZ outage leaves the others' egress "
        "intact). `single`: one shared NAT gateway (cheaper, for dev).",
    )
    interface_endpoints: bool = Field(
        description="Create interface endpoints (ECR, STS, CloudWatch Logs) so that nodes pull "
        "images and fetch credentials without crossing the NAT gateway.",
    )
    flow_log_retention_days: int = Field(
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


# -- data tier ----------------------------------------------------------------------------

BUCKET_PURPOSES = ("assets", "dataLake", "logs", "backups")

_ENGINE_VERSION = re.compile(r"^\d+\.\d+$")
_AURORA_PG_VERSION = re.compile(r"^(1[3-9]|[2-9]\d)\.\d{1,2}$")
_DB_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RDS_INSTANCE_CLASS = re.compile(r"^db\.(serverless|[a-z0-9]+\.[a-z0-9]+)$")
_CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")

#: Prod keeps database backups at least a week (RDS.11 expects 7 or more).
PROD_MIN_BACKUP_RETENTION_DAYS = 7


class BucketConfig(_Model):
    noncurrent_version_expiration_days: int = Field(
        ge=1, description="Days a replaced or deleted object version is kept before it expires.")
    glacier_transition_days: int | None = Field(
        default=None, ge=1, description="Move current objects to S3 Glacier Flexible Retrieval after this many "
        "days; none keeps them in S3 Standard.")
    expiration_days: int | None = Field(
        default=None, ge=1, description="Delete current objects after this many days; none keeps them.")
    object_lock: bool = Field(
        default=False, description="Write-once-read-many: object versions cannot be deleted or overwritten "
        "during the retention period. Can only be switched on when the bucket is created.")
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE", description="GOVERNANCE lets principals with s3:BypassGovernanceRetention "
        "remove locks; COMPLIANCE lets nobody, the root user included, until retention ends.")
    object_lock_retention_days: int = Field(default=35, ge=1, le=36500,
                                            description="Default retention of new object versions.")

    @model_validator(mode="after")
    def _expiry_after_transition(self) -> BucketConfig:
        if (self.expiration_days is not None and self.glacier_transition_days is not None
                and self.expiration_days <= self.glacier_transition_days):
            raise ValueError(f"expirationDays ({self.expiration_days}) must come after glacierTransitionDays "
                             f"({self.glacier_transition_days})")
        return self


class BucketsConfig(_Model):
    """One bucket per purpose; a purpose not listed here is refused."""

    assets: BucketConfig = Field(description="Static storefront assets, served by the CDN.")
    data_lake: BucketConfig = Field(description="Raw and curated analytics data.")
    logs: BucketConfig = Field(description="Access logs of the other buckets and the load balancers.")
    backups: BucketConfig = Field(description="Exports and backups; Object Lock in prod.")


class StorageConfig(_Model):
    account_public_access_block: bool = Field(
        default=True, description="Turn on S3 Block Public Access for the whole account (S3.1).")
    buckets: BucketsConfig


class SqlConfig(_Model):
    engine_version: str = Field(description="Aurora PostgreSQL engine version, major.minor (e.g. '16.4').")
    database_name: str = Field(default="retail", description="Database created with the cluster.")
    master_username: str = Field(default="retail_admin", description="Administrator user (not a default name, "
                                 "RDS.24); its password lives in Secrets Manager, rotated by RDS.")
    port: int = Field(default=5433, ge=1150, le=65535, description="Listener port; not 5432 (RDS.23).")
    instance_class: str = Field(description="`db.serverless` for Aurora Serverless v2, or a provisioned "
                                "class such as `db.r7g.large`.")
    min_acu: float = Field(default=0.5, ge=0, le=256, description="Serverless v2 minimum capacity (ACUs).")
    max_acu: float = Field(default=4, ge=1, le=256, description="Serverless v2 maximum capacity (ACUs).")
    instances: int = Field(ge=1, le=15, description="Writer plus readers, spread over the AZs.")
    backup_retention_days: int = Field(ge=1, le=35, description="Days of automated backups (point-in-time "
                                       "restore window).")
    max_readers: int | None = Field(default=None, ge=1, le=15, description="Reader autoscaling ceiling; none "
                                    "turns reader autoscaling off.")
    reader_target_cpu: int = Field(default=60, ge=10, le=90, description="Average reader CPU (%) that reader "
                                   "autoscaling holds.")
    performance_insights_retention_days: int = Field(default=7, description="7 (free) or whole months.")
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(
        default=60, description="Enhanced Monitoring granularity.")

    @field_validator("engine_version")
    @classmethod
    def _engine_version_shape(cls, value: str) -> str:
        if not _AURORA_PG_VERSION.match(value):
            raise ValueError(f"{value!r} is not an Aurora PostgreSQL version; use major.minor, e.g. '16.4'")
        return value

    @field_validator("database_name", "master_username")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _DB_IDENTIFIER.match(value):
            raise ValueError(f"{value!r} must start with a letter and hold only lower-case letters, digits "
                             "and underscores (at most 63)")
        if value in RESERVED_DB_USERNAMES:
            raise ValueError(f"{value!r} is a default or reserved name; choose your own (RDS.24)")
        return value

    @field_validator("port")
    @classmethod
    def _not_default_port(cls, value: int) -> int:
        if value == POSTGRES_DEFAULT_PORT:
            raise ValueError(f"{POSTGRES_DEFAULT_PORT} is PostgreSQL's default port; choose another (RDS.23)")
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class_shape(cls, value: str) -> str:
        if not _RDS_INSTANCE_CLASS.match(value):
            raise ValueError(f"{value!r} is not an RDS instance class (expected 'db.serverless' or e.g. "
                             "'db.r7g.large')")
        return value

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _insights_retention(cls, value: int) -> int:
        if value not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(f"{value} is not a Performance Insights retention; use 7 or a multiple of 31 up "
                             "to 713, or 731")
        return value

    @model_validator(mode="after")
    def _capacity(self) -> SqlConfig:
        if self.min_acu > self.max_acu:
            raise ValueError(f"minAcu ({self.min_acu:g}) is greater than maxAcu ({self.max_acu:g})")
        if (self.min_acu * 2) % 1 or (self.max_acu * 2) % 1:
            raise ValueError("minAcu and maxAcu go in steps of 0.5")
        if self.max_readers is not None and self.max_readers < self.instances - 1:
            raise ValueError(f"maxReaders ({self.max_readers}) is below the {self.instances - 1} readers the "
                             "cluster starts with")
        return self

    @property
    def serverless(self) -> bool:
        return self.instance_class == "db.serverless"


class KeyAttribute(_Model):
    name: str = Field(min_length=1, max_length=255)
    type: Literal["S", "N", "B"] = Field(description="S (string), N (number) or B (binary).")


class TableIndexConfig(_Model):
    name: str = Field(min_length=3, max_length=255)
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class TableConfig(_Model):
    name: str = Field(description="Logical table name; the physical name is retail-<stack>-<name>.")
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    ttl_attribute: str | None = Field(default=None, description="Attribute holding the expiry time (epoch "
                                      "seconds); items past it are deleted by DynamoDB.")
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = Field(
        default=None, description="Change stream view; none turns the stream off.")
    global_secondary_indexes: list[TableIndexConfig] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _TABLE_NAME.match(value):
            raise ValueError(f"{value!r} is not a DynamoDB table name (3-255 of letters, digits, '_', '-', '.')")
        return value

    @model_validator(mode="after")
    def _consistent_key_types(self) -> TableConfig:
        keys = [self.partition_key, self.sort_key]
        for index in self.global_secondary_indexes:
            keys += [index.partition_key, index.sort_key]
        seen: dict[str, str] = {}
        for key in filter(None, keys):
            if seen.setdefault(key.name, key.type) != key.type:
                raise ValueError(f"attribute {key.name!r} is declared both {seen[key.name]} and {key.type}")
        names = [index.name for index in self.global_secondary_indexes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"index names must be unique: {', '.join(duplicates)} appear more than once")
        return self


class NoSqlConfig(_Model):
    tables: list[TableConfig] = Field(description="The DynamoDB tables; a stack's list replaces the preset's.")

    @field_validator("tables")
    @classmethod
    def _unique_names(cls, tables: list[TableConfig]) -> list[TableConfig]:
        names = [table.name for table in tables]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"table names must be unique: {', '.join(repr(d) for d in duplicates)} "
                             "appear more than once")
        return tables


class CacheConfig(_Model):
    engine: Literal["valkey", "redis"] = Field(default="valkey", description="Valkey, or Redis OSS.")
    engine_version: str = Field(description="Engine version, major.minor (e.g. '8.0').")
    node_type: str = Field(description="Cache node type, e.g. 'cache.r7g.large'.")
    nodes: int = Field(ge=1, le=6, description="Primary plus replicas, spread over the AZs.")
    snapshot_retention_days: int = Field(ge=1, le=35, description="Days of automatic snapshots "
                                         "(ElastiCache.1).")

    @field_validator("engine_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        if not _ENGINE_VERSION.match(value):
            raise ValueError(f"{value!r} is not an engine version; use major.minor, e.g. '8.0'")
        return value

    @field_validator("node_type")
    @classmethod
    def _node_type_shape(cls, value: str) -> str:
        if not _CACHE_NODE_TYPE.match(value):
            raise ValueError(f"{value!r} is not a cache node type (expected e.g. 'cache.r7g.large')")
        return value


# -- compute and edge -----------------------------------------------------------------------


_INSTANCE_FAMILY = re.compile(r"^[a-z]+[0-9]+[a-z]*$")
_INSTANCE_TYPE = re.compile(r"^[a-z]+[0-9]+[a-z]*\.[a-z0-9]+$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Mi|Gi)$")
_IMAGE = re.compile(r"^[\w.-]+(:\d+)?(/[\w.-]+)+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
_HOSTNAME = re.compile(r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class NodeGroupConfig(_Model):
    instance_type: str = Field(description="Instance type of the small system node group (Graviton by default).")
    min_size: int = Field(ge=1, le=10)
    desired_size: int = Field(ge=1, le=10)
    max_size: int = Field(ge=1, le=10)

    @field_validator("instance_type")
    @classmethod
    def _instance_type_shape(cls, value: str) -> str:
        if not _INSTANCE_TYPE.match(value):
            raise ValueError(f"{value!r} is not an EC2 instance type (expected e.g. 'm7g.large')")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"sizes must satisfy minSize <= desiredSize <= maxSize, got "
                             f"{self.min_size}, {self.desired_size}, {self.max_size}")
        return self


class KarpenterConfig(_Model):
    version: str = Field(description="Karpenter Helm chart version.")
    instance_families: list[str] = Field(min_length=1, description="EC2 families Karpenter may launch, "
                                         "e.g. m7g, c7g, r7g.")
    capacity_types: list[Literal["spot", "on-demand"]] = Field(min_length=1, description="Spot, on-demand or both "
                                                               "(on-demand is the fallback when spot runs out).")
    cpu_limit: int = Field(ge=1, description="Most vCPUs the node pool may hold: the ceiling of a surge, and of "
                           "the bill.")
    memory_limit_gi: int = Field(ge=1, description="Most memory (GiB) the node pool may hold.")
    consolidate_after: str = Field(default="1m", pattern=r"^\d+(s|m|h)$",
                                   description="How long a node must be underused before it is consolidated.")
    disruption_budget: str = Field(default="10%", pattern=r"^(\d+%|\d+)$",
                                   description="Most nodes Karpenter may disrupt at once.")

    @field_validator("instance_families")
    @classmethod
    def _families(cls, families: list[str]) -> list[str]:
        bad = [f for f in families if not _INSTANCE_FAMILY.match(f)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not an EC2 instance family (expected e.g. 'm7g', "
                             "without a size)")
        return families


class TeamConfig(_Model):
    name: str = Field(description="Namespace name (a DNS label).")
    cpu_quota: str = Field(description="Total CPU requests the namespace may hold, e.g. '20'.")
    memory_quota: str = Field(description="Total memory requests the namespace may hold, e.g. '40Gi'.")
    max_pods: int = Field(default=100, ge=1, le=5000)

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value) or value in ("default", "kube-system", "kube-public", "kube-node-lease"):
            raise ValueError(f"{value!r} is not a usable namespace name (a DNS label, not a system namespace)")
        return value

    @field_validator("cpu_quota")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.match(value):
            raise ValueError(f"{value!r} is not a CPU quantity (e.g. '20' or '500m')")
        return value

    @field_validator("memory_quota")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"{value!r} is not a memory quantity (e.g. '40Gi' or '512Mi')")
        return value


class KubernetesConfig(_Model):
    version: str = Field(description="EKS Kubernetes version.")
    public_endpoint: bool = Field(description="Expose the API server endpoint publicly (restricted to "
                                  "publicAccessCidrs); the private endpoint is always on.")
    public_access_cidrs: list[str] = Field(default_factory=list, description="Who may reach the public endpoint.")
    admin_role_arns: list[str] = Field(default_factory=list, description="IAM roles given cluster-admin "
                                       "through EKS access entries.")
    system_nodes: NodeGroupConfig
    karpenter: KarpenterConfig
    teams: list[TeamConfig] = Field(description="Team namespaces, each restricted (PSS), default-deny, "
                                    "with a quota.")

    @field_validator("version")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError(f"{value!r} is not a supported EKS version; use one of "
                             f"{', '.join(SUPPORTED_KUBERNETES_VERSIONS)} (EKS.2)")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError:
                raise ValueError(f"{value!r} is not a valid IPv4 network") from None
        return values

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _IAM_ROLE_ARN.match(v)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not an IAM role ARN "
                             "(arn:aws:iam::<account>:role/<name>)")
        return values

    @model_validator(mode="after")
    def _public_needs_cidrs(self) -> KubernetesConfig:
        if self.public_endpoint and not self.public_access_cidrs:
            raise ValueError("publicEndpoint is on but publicAccessCidrs is empty: name who may reach it")
        if not self.public_endpoint and self.public_access_cidrs:
            raise ValueError("publicAccessCidrs is set but publicEndpoint is off; remove one of them")
        names = [team.name for team in self.teams]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"team names must be unique: {', '.join(duplicates)}")
        return self


class ServiceConfig(_Model):
    name: str = Field(description="Service name (a DNS label); also its Deployment, Service and identity.")
    team: str = Field(description="The team namespace it runs in.")
    image: str = Field(description="Container image, pinned by tag or digest (not 'latest').")
    port: int = Field(default=8080, ge=1024, le=65535, description="Container port (unprivileged).")
    cpu: str = Field(description="CPU request (and limit), e.g. '500m'.")
    memory: str = Field(description="Memory request (and limit), e.g. '512Mi'.")
    min_replicas: int = Field(ge=1, le=500)
    max_replicas: int = Field(ge=1, le=1000)
    target_cpu: int = Field(default=60, ge=10, le=95, description="Average CPU (%) the HPA holds.")
    path: str | None = Field(default=None, description="ALB path prefix that routes to it; none keeps it internal.")
    callers: list[str] = Field(default_factory=list, description="Services allowed to call it (NetworkPolicy).")
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables.")
    secrets: list[str] = Field(default_factory=list, description="Kubernetes Secret names mounted as files.")
    requests_per_second_target: int | None = Field(
        default=None, ge=1, description="Optional custom metric target (requests per second per pod).")

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not a DNS label (lower-case letters, digits and '-')")
        return value

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if value.endswith(":latest") or not _IMAGE.match(value):
            raise ValueError(f"{value!r} must be a registry image pinned by tag or digest, not 'latest' "
                             "(e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront:1.4.2')")
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        return TeamConfig._cpu(value)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        return TeamConfig._memory(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[\w./-]*$", value):
            raise ValueError(f"{value!r} is not a URL path prefix (e.g. '/cart')")
        return value

    @model_validator(mode="after")
    def _replicas(self) -> ServiceConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) is greater than maxReplicas ({self.max_replicas})")
        return self


class DomainConfig(_Model):
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


class GeoRestrictionConfig(_Model):
    type: Literal["whitelist", "blacklist"]
    locations: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2 country codes.")

    @field_validator("locations")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _COUNTRY.match(v)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not ISO 3166-1 alpha-2 codes (e.g. 'DE')")
        return values




class EdgeConfig(_Model):
    domain: DomainConfig | None = Field(
        default=None, description="Custom domain. Without it the CDN serves its *.cloudfront.net name with "
        "CloudFront's certificate and the ALB listens with HTTPS only once a certificate exists: see README.")
    rate_limit: int = Field(description="Requests per client IP per 5 minutes before WAF blocks it.")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        description="CloudFront edge locations used (and paid for).")
    geo_restriction: GeoRestrictionConfig | None = None
    bot_control: bool = Field(default=False, description="AWS WAF Bot Control managed rules (extra cost).")
    anonymous_ip: bool = Field(default=False, description="Block anonymising proxies, VPNs and Tor.")
    shield_advanced: bool = Field(default=False, description="Shield Advanced protection of the CDN and ALB "
                                  "(needs an active subscription).")

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: int) -> int:
        if value < MIN_RATE_LIMIT:
            raise ValueError(f"{value} is below AWS WAF's minimum rate limit of {MIN_RATE_LIMIT} requests per "
                             "5 minutes; a limit of 0 or less would block nobody or everybody")
        return value


class StackConfig(_Model):
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
        description="Disaster-recovery region. When set, KMS keys are multi-Region.",
    )
    network: NetworkConfig
    storage: StorageConfig
    sql: SqlConfig
    nosql: NoSqlConfig
    cache: CacheConfig
    kubernetes: KubernetesConfig
    services: list[ServiceConfig] = Field(description="The storefront's services; a stack's list replaces the "
                                          "preset's.")
    edge: EdgeConfig

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

    @field_validator("region", "dr_region")
    @classmethod
    def _region_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REGION_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an AWS region name (expected e.g. 'eu-west-1')")
        return value

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        problems = cross_field_problems(self.model_dump(by_alias=True, mode="json"))
        if problems:
            raise _CrossFieldError(problems)
        return self

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.prod

    def loosened_defaults(self) -> list[str]:
        """Allowed but weaker-than-preset choices in prod, each with what it costs: the
        platform logs them as warnings so a loosening is always said out loud."""
        notes = self.account_wide_loosenings()
        if not self.is_prod:
            return notes
        if self.network.nat_strategy == "single":
            notes.append("retail:network.natStrategy is 'single' in prod: an outage of that NAT "
                         "gateway's AZ cuts internet egress for every AZ")
        if not self.network.interface_endpoints:
            notes.append("retail:network.interfaceEndpoints is off in prod: image pulls, STS and "
                         "log shipping cross the NAT gateway instead of staying on private endpoints")
        if not self.storage.buckets.backups.object_lock:
            notes.append("retail:storage.buckets.backups.objectLock is off in prod: backups can be "
                         "deleted or overwritten by anyone allowed to write them (ransomware)")
        if self.kubernetes.public_endpoint:
            notes.append("retail:kubernetes.publicEndpoint is on in prod: the API server is reachable from "
                         f"{', '.join(self.kubernetes.public_access_cidrs)} (EKS.1)")
        if self.sql.max_readers is None:
            notes.append("retail:sql.maxReaders is unset in prod: readers do not scale out for a peak")
        return notes

    def account_wide_loosenings(self) -> list[str]:
        """Loosenings that matter in every environment."""
        notes = []
        if not self.storage.account_public_access_block:
            notes.append("retail:storage.accountPublicAccessBlock is off: a bucket elsewhere in the account "
                         "can be made public (S3.1)")
        if any(cidr.endswith("/0") for cidr in self.kubernetes.public_access_cidrs):
            notes.append("retail:kubernetes.publicAccessCidrs opens the API server endpoint to the whole "
                         "internet")
        return notes

    def conventions(self, stack: str) -> Conventions:
        return Conventions(
            environment=self.environment.value,
            owner=self.owner,
            cost_center=self.cost_center,
            data_classification=self.data_classification.value,
            stack=stack,
        )


def _as_int(value: Any) -> int | None:
    """The whole number pydantic would read from ``value`` ("2", 2.0, "2.0"), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


@dataclass(frozen=True)
class _Floor:
    """A minimum some environments impose on a numeric key."""

    environments: tuple[Environment, ...]
    path: tuple[str, ...]
    minimum: int
    what: str
    why: str

    def check(self, data: Mapping[str, Any]) -> tuple[str, str] | None:
        if data.get("environment") not in {env.value for env in self.environments}:
            return None
        value: Any = data
        for part in self.path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        number = _as_int(value)
        if number is None or number >= self.minimum:
            return None
        where = " and ".join(env.value for env in self.environments)
        verb = "needs" if len(self.environments) == 1 else "need"
        return ".".join(self.path), f"{where} {verb} at least {self.minimum} {self.what} ({self.why}), got {number}"


_PROD = (Environment.prod,)
_FLOORS = (
    _Floor(_PROD, ("network", "azCount"), PROD_MIN_AZ_COUNT, "AZs", "losing one still leaves a majority"),
    _Floor(_PROD, ("network", "flowLogRetentionDays"), PROD_MIN_LOG_RETENTION_DAYS, "days of flow logs",
           "PCI DSS 10.5.1"),
    _Floor(_PROD, ("storage", "buckets", "logs", "expirationDays"), MIN_AUDIT_LOG_RETENTION_DAYS,
           "days before access logs expire", "PCI DSS 10.5.1"),
    _Floor(_PROD, ("sql", "instances"), 2, "database instances", "a writer and a reader in another AZ"),
    _Floor(_PROD, ("sql", "backupRetentionDays"), PROD_MIN_BACKUP_RETENTION_DAYS, "days of database backups",
           "RDS.11"),
    _Floor((Environment.staging, Environment.prod), ("cache", "nodes"), 2, "cache nodes",
           "a replica takes over when the primary fails"),
)


def cross_field_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules that span several keys, as (key path, message) pairs.

    Works on raw (camelCase, possibly ill-typed) data so that these problems are reported
    together with field errors rather than only once every field is valid. A value of the
    wrong type is skipped here: field validation reports it.
    """
    problems: list[tuple[str, str]] = []
    region, dr_region = data.get("region"), data.get("drRegion")
    if dr_region is not None and dr_region == region:
        problems.append((
            "drRegion",
            f"{dr_region!r} is the primary region; a DR region must be a different region",
        ))
    is_prod = data.get("environment") == Environment.prod.value
    classification = data.get("dataClassification")
    if is_prod and isinstance(classification, str) and classification not in PROD_CLASSIFICATIONS \
            and classification in {c.value for c in DataClassification}:
        problems.append((
            "dataClassification",
            f"prod holds customer data: classify it {' or '.join(PROD_CLASSIFICATIONS)}, not {classification!r}",
        ))
    problems.extend(problem for floor in _FLOORS if (problem := floor.check(data)) is not None)
    kubernetes = data.get("kubernetes")
    teams = kubernetes.get("teams") if isinstance(kubernetes, Mapping) else None
    services = data.get("services")
    if isinstance(teams, list) and isinstance(services, list):
        known = {team.get("name") for team in teams if isinstance(team, Mapping)}
        for index, team in enumerate(teams):
            if not isinstance(team, Mapping):
                continue
            peak = sum(_as_int(s.get("maxReplicas")) or 0 for s in services
                       if isinstance(s, Mapping) and s.get("team") == team.get("name"))
            pods = _as_int(team.get("maxPods", 100))
            # A rollout at peak adds maxSurge (25%) on top of maxReplicas.
            if pods is not None and peak and pods < peak * 5 // 4:
                problems.append((f"kubernetes.teams[{index}].maxPods",
                                 f"{pods} pods cannot hold the team's services at maxReplicas ({peak}) plus a 25% "
                                 f"rollout surge; raise it to at least {peak * 5 // 4}"))
        for index, service in enumerate(services):
            team = service.get("team") if isinstance(service, Mapping) else None
            if isinstance(team, str) and team not in known:
                problems.append((f"services[{index}].team", f"{team!r} is not a team in retail:kubernetes.teams "
                                 f"({', '.join(sorted(filter(None, known))) or 'none'})"))
    return problems


class _CrossFieldError(ValueError):
    """Rules that span several fields, each reported at its own key path."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


#: The retail tables every environment starts with.
DEFAULT_TABLES: list[dict[str, Any]] = [
    # Carts and sessions expire on their own: abandoned carts must not pile up for ever.
    {"name": "carts", "partitionKey": {"name": "cartId", "type": "S"}, "ttlAttribute": "expiresAt"},
    {"name": "sessions", "partitionKey": {"name": "sessionId", "type": "S"}, "ttlAttribute": "expiresAt"},
    # Stock changes stream out to the warehouse and to cache invalidation.
    {"name": "inventory", "partitionKey": {"name": "sku", "type": "S"},
     "sortKey": {"name": "warehouseId", "type": "S"}, "stream": "NEW_AND_OLD_IMAGES"},
    {"name": "orders", "partitionKey": {"name": "orderId", "type": "S"},
     "globalSecondaryIndexes": [{"name": "byCustomer", "partitionKey": {"name": "customerId", "type": "S"},
                                 "sortKey": {"name": "createdAt", "type": "S"}}]},
]


def _buckets(noncurrent_days: int, logs: dict[str, Any], backups: dict[str, Any]) -> dict[str, Any]:
    return {
        "assets": {"noncurrentVersionExpirationDays": noncurrent_days},
        "dataLake": {"noncurrentVersionExpirationDays": noncurrent_days},
        "logs": {"noncurrentVersionExpirationDays": noncurrent_days, **logs},
        "backups": {"noncurrentVersionExpirationDays": noncurrent_days, **backups},
    }


def _kubernetes(nodes: tuple[str, int, int, int], families: list[str], capacity: list[str], cpu: int,
                memory: int, quotas: dict[str, tuple[str, str, int]]) -> dict[str, Any]:
    instance_type, low, desired, high = nodes
    return {
        "version": "1.35",
        # Private by default: kubectl from inside the VPC (VPN, SSM); a stack opens the public
        # endpoint to named CIDRs only.
        "publicEndpoint": False,
        "systemNodes": {"instanceType": instance_type, "minSize": low, "desiredSize": desired, "maxSize": high},
        "karpenter": {"version": "1.8.1", "instanceFamilies": families, "capacityTypes": capacity,
                      "cpuLimit": cpu, "memoryLimitGi": memory},
        # Quotas cover every service of the team at maxReplicas plus a 25% rollout surge.
        "teams": [{"name": team, "cpuQuota": cpu_quota, "memoryQuota": memory_quota, "maxPods": pods}
                  for team, (cpu_quota, memory_quota, pods) in quotas.items()],
    }


def _services(replicas: dict[str, tuple[int, int]], cpu: str, memory: str) -> list[dict[str, Any]]:
    registry = "registry.example.com/retail"
    shape = {
        # name: (team, path, callers)
        "storefront": ("storefront", "/", []),
        "catalog": ("storefront", "/catalog", ["storefront"]),
        "cart": ("storefront", "/cart", ["storefront", "checkout"]),
        "checkout": ("checkout", "/checkout", ["storefront"]),
    }
    return [
        {"name": name, "team": team, "image": f"{registry}/{name}:1.0.0", "cpu": cpu, "memory": memory,
         "minReplicas": replicas[name][0], "maxReplicas": replicas[name][1], "path": path, "callers": callers}
        for name, (team, path, callers) in shape.items()
    ]


#: Environment presets: a stack file overrides only what differs. (``dataClassification``
#: defaults in Pulumi.yaml, where the CLI applies it, so it is not repeated here.)
PRESETS: dict[Environment, dict[str, Any]] = {
    Environment.dev: {
        "network": {
            "cidr": "10.10.0.0/16",
            "azCount": 2,
            "natStrategy": "single",
            "interfaceEndpoints": False,
            "flowLogRetentionDays": 30,
        },
        "storage": {"buckets": _buckets(30, logs={"expirationDays": 90}, backups={})},
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 0.5, "maxAcu": 4,
                "instances": 1, "backupRetentionDays": 7},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.t4g.small", "nodes": 1, "snapshotRetentionDays": 1},
        "kubernetes": _kubernetes(("t4g.medium", 2, 2, 3), ["t4g", "m7g"], ["spot"], 32, 64,
                                  {"storefront": ("8", "16Gi", 50), "checkout": ("4", "8Gi", 20)}),
        "services": _services({"storefront": (1, 2), "catalog": (1, 2), "cart": (1, 2), "checkout": (1, 2)},
                              "250m", "256Mi"),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_100"},
    },
    Environment.staging: {
        "network": {
            "cidr": "10.20.0.0/16",
            "azCount": 3,
            "natStrategy": "single",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 90,
        },
        "storage": {"buckets": _buckets(30, logs={"expirationDays": 180}, backups={})},
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 0.5, "maxAcu": 16,
                "instances": 2, "backupRetentionDays": 14, "maxReaders": 3},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.t4g.medium", "nodes": 2, "snapshotRetentionDays": 3},
        "kubernetes": _kubernetes(("m7g.large", 2, 2, 4), ["m7g", "c7g"], ["spot", "on-demand"], 128, 256,
                                  {"storefront": ("40", "80Gi", 100), "checkout": ("20", "40Gi", 50)}),
        "services": _services({"storefront": (2, 6), "catalog": (2, 6), "cart": (2, 6), "checkout": (2, 6)},
                              "500m", "512Mi"),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_100", "botControl": True},
    },
    Environment.prod: {
        "network": {
            "cidr": "10.30.0.0/16",
            "azCount": 3,
            "natStrategy": "perAz",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 365,
        },
        # Logs stay in S3 Standard for a year (PCI DSS 10.5.1: immediately available), then
        # Glacier until seven years; backups are write-once.
        "storage": {"buckets": _buckets(
            90,
            logs={"glacierTransitionDays": 365, "expirationDays": 2557},
            backups={"objectLock": True, "objectLockRetentionDays": 35},
        )},
        # A writer and two readers, one per AZ; readers scale out for peaks.
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 2, "maxAcu": 64,
                "instances": 3, "backupRetentionDays": 35, "maxReaders": 8,
                "performanceInsightsRetentionDays": 31},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.r7g.large", "nodes": 3, "snapshotRetentionDays": 7},
        # Karpenter may grow to 1,000 vCPUs for a Black Friday peak; on-demand first, spot for
        # the surge.
        "kubernetes": _kubernetes(("m7g.large", 3, 3, 6), ["m7g", "c7g", "r7g"], ["on-demand", "spot"], 1000, 2000,
                                  {"storefront": ("500", "500Gi", 500), "checkout": ("80", "80Gi", 100)}),
        "services": _services({"storefront": (6, 200), "catalog": (3, 100), "cart": (3, 100),
                               "checkout": (3, 60)}, "1", "1Gi"),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_200", "botControl": True, "anonymousIp": True},
    },
}


class ConfigError(ValueError):
    """Every problem found in a stack config, each as (key path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = [f"  {path}: {message}" for path, message in problems]
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"invalid stack configuration ({len(problems)} {noun}):\n" + "\n".join(lines))


def _decode(value: Any) -> Any:
    """Pulumi hands structured values to programs as JSON text and scalars as plain text.

    Only objects and arrays are decoded here: decoding every value would turn an owner named
    ``"123"`` into a number. Scalars stay text and pydantic coerces ``"3"`` where a number is due.
    """
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _key_path(loc: tuple[Any, ...]) -> str:
    """``('network', 'cidr')`` -> ``retail:network.cidr``; list indexes read ``[0]``."""
    if not loc:
        return f"{NAMESPACE}:"
    if loc[0] == "region":
        head = "aws:region"
    else:
        head = f"{NAMESPACE}:{loc[0]}"
    tail = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
    return head + tail


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (camelCase path from the stack's top)."""
    model: type[BaseModel] = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        candidates += [inner for c in candidates for inner in typing.get_args(c)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _unknown_key(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    if model is None:
        return "unknown key; check the spelling against the config reference in README.md"
    # The primary region is `aws:region`, never a `retail:` key.
    known = [field.alias or name for name, field in model.model_fields.items()
             if not (model is StackConfig and name == "region")]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}expected one of: {', '.join(known)}"


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(tuple(error["loc"]))
    if kind == "missing":
        return "required key is missing; add it to the stack file"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not one of {expected}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not one of {expected}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg'].lower()} (got {error['input']!r})"


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Parse the flat Pulumi config map (``{"retail:owner": "...", "aws:region": "..."}``).

    Raises :class:`ConfigError` listing every problem. Keys of other namespaces (``aws:profile``,
    ``kubernetes:context``) belong to their providers and are left to them.
    """
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            values[key] = _decode(value)
    if "region" in values:
        # The primary region is the provider's: one key, not two that could disagree.
        del values["region"]
        problems.append((f"{NAMESPACE}:region", "set the primary region with `aws:region` instead"))
    if raw.get("aws:region") is not None:
        values["region"] = raw["aws:region"]

    environment = values.get("environment")
    known_environment = environment in {env.value for env in Environment}
    # With no valid environment there is no preset, and every key a preset would have
    # supplied would be reported missing: noise that hides the one real mistake.
    preset = PRESETS[Environment(environment)] if known_environment else {}
    merged = _deep_merge(preset, values)

    try:
        config = StackConfig.model_validate(merged)
    except ValidationError as exc:
        config = None
        preset_keys = set().union(*PRESETS.values())
        for error in exc.errors():
            if isinstance(error.get("ctx", {}).get("error"), _CrossFieldError):
                continue  # Reported below from the raw data, with or without field errors.
            if not known_environment and error["type"] == "missing" and error["loc"][0] in preset_keys:
                continue
            problems.append((_key_path(error["loc"]), _describe(error)))
    problems.extend((f"{NAMESPACE}:{path}", message) for path, message in cross_field_problems(merged))
    if problems or config is None:
        raise ConfigError(problems)
    return config
