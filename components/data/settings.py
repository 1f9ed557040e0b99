"""Settings of the data layer: object storage, SQL, NoSQL and the cache (stack-file
sections ``retail:storage``, ``retail:sql``, ``retail:nosql`` and ``retail:cache``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.aws_catalog import check_instance_type
from components.common.aws_limits import (
    CACHE_ENGINE_VERSIONS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    POSTGRES_DEFAULT_PORT,
    RESERVED_DB_USERNAMES,
)
from components.common.settings import Bool, Float, Int, SettingsModel

BUCKET_PURPOSES = ("assets", "dataLake", "logs", "backups")

_ENGINE_VERSION = re.compile(r"^\d+\.\d+$")
_AURORA_PG_VERSION = re.compile(r"^(1[3-9]|[2-9]\d)\.\d{1,2}$")
_DB_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: Role-name prefixes PostgreSQL (``pg_``) and RDS (``rds_``: rds_superuser, rds_iam, ...) keep
#: for their own roles.
_RESERVED_ROLE_PREFIXES = ("pg_", "rds_")
_RDS_INSTANCE_CLASS = re.compile(r"^db\.(serverless|[a-z0-9]+\.[a-z0-9]+)$")
_CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class BucketConfig(SettingsModel):
    noncurrent_version_expiration_days: Int = Field(
        ge=1, description="Days a replaced or deleted object version is kept before it expires.")
    glacier_transition_days: Int | None = Field(
        default=None, ge=1, description="Move current objects to S3 Glacier Flexible Retrieval after this many "
        "days; none keeps them in S3 Standard.")
    expiration_days: Int | None = Field(
        default=None, ge=1, description="Delete current objects after this many days; none keeps them.")
    object_lock: Bool = Field(
        default=False, description="Write-once-read-many: object versions cannot be deleted or overwritten "
        "during the retention period. Can only be switched on when the bucket is created.")
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE", description="GOVERNANCE lets principals with s3:BypassGovernanceRetention "
        "remove locks; COMPLIANCE lets nobody, the root user included, until retention ends.")
    object_lock_retention_days: Int = Field(default=35, ge=1, le=36500,
                                            description="Default retention of new object versions.")

    @model_validator(mode="after")
    def _expiry_after_transition(self) -> BucketConfig:
        if (self.expiration_days is not None and self.glacier_transition_days is not None
                and self.expiration_days <= self.glacier_transition_days):
            raise ValueError(f"expirationDays ({self.expiration_days}) must come after glacierTransitionDays "
                             f"({self.glacier_transition_days})")
        return self


class BucketsConfig(SettingsModel):
    """One bucket per purpose; a purpose not listed here is refused."""

    assets: BucketConfig = Field(description="Static storefront assets, served by the CDN.")
    data_lake: BucketConfig = Field(description="Raw and curated analytics data.")
    logs: BucketConfig = Field(description="Access logs of the other buckets and the load balancers.")
    backups: BucketConfig = Field(description="Exports and backups; Object Lock in prod.")


class StorageConfig(SettingsModel):
    account_public_access_block: Bool = Field(
        default=True, description="Turn on S3 Block Public Access for the whole account (S3.1).")
    buckets: BucketsConfig


class SqlProxyConfig(SettingsModel):
    """RDS Proxy in front of the writer (``retail:sql.proxy``): pooled connections, so a surge of
    pods opens connections to the proxy, not to Aurora; failover is absorbed by the proxy."""

    enabled: Bool = Field(
        default=False, description="Put an RDS Proxy in front of the cluster and point the services at it. Off "
        "unless a stack turns it on: it is billed per vCPU (or ACU) of the database behind it.")
    max_connections_percent: Int = Field(
        default=90, ge=1, le=100, description="Share (%) of Aurora's max_connections the proxy may open; the "
        "rest stays for administrators, replication and the monitoring agents.")
    max_idle_connections_percent: Int = Field(
        default=50, ge=0, le=100, description="Share (%) of Aurora's max_connections the proxy keeps open while "
        "idle, ready for the next surge; at most maxConnectionsPercent.")
    borrow_timeout_seconds: Int = Field(
        default=120, ge=1, le=3600, description="How long a client waits for a pooled connection when all are "
        "in use before the proxy refuses it.")
    idle_client_timeout_seconds: Int = Field(
        default=1800, ge=1, le=28800, description="A client connection idle this long is closed by the proxy.")

    @model_validator(mode="after")
    def _idle_within_max(self) -> SqlProxyConfig:
        if self.max_idle_connections_percent > self.max_connections_percent:
            raise ValueError(f"proxy.maxIdleConnectionsPercent ({self.max_idle_connections_percent}) is above "
                             f"proxy.maxConnectionsPercent ({self.max_connections_percent}); lower it to at most "
                             f"{self.max_connections_percent}")
        return self


class SqlConfig(SettingsModel):
    engine_version: str = Field(description="Aurora PostgreSQL engine version, major.minor (e.g. '16.4').")
    database_name: str = Field(default="retail", description="Database created with the cluster.")
    master_username: str = Field(default="retail_admin", description="Administrator user (not a default name, "
                                 "RDS.24); its password lives in Secrets Manager, rotated by RDS.")
    port: Int = Field(default=5433, ge=1150, le=65535, description="Listener port; not 5432 (RDS.23).")
    instance_class: str = Field(description="`db.serverless` for Aurora Serverless v2, or a provisioned "
                                "class such as `db.r7g.large`.")
    min_acu: Float = Field(default=0.5, ge=0, le=256, description="Serverless v2 minimum capacity (ACUs).")
    max_acu: Float = Field(default=4, ge=1, le=256, description="Serverless v2 maximum capacity (ACUs).")
    instances: Int = Field(ge=1, le=15, description="Writer plus readers, spread over the AZs.")
    backup_retention_days: Int = Field(ge=1, le=35, description="Days of automated backups (point-in-time "
                                       "restore window).")
    max_readers: Int | None = Field(default=None, ge=1, le=15, description="Reader autoscaling ceiling; none "
                                    "turns reader autoscaling off.")
    reader_target_cpu: Int = Field(default=60, ge=10, le=90, description="Average reader CPU (%) that reader "
                                   "autoscaling holds.")
    performance_insights_retention_days: Int = Field(default=7, description="7 (free) or whole months.")
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(
        default=60, description="Enhanced Monitoring granularity.")
    proxy: SqlProxyConfig = Field(default_factory=SqlProxyConfig,
                                  description="RDS Proxy in front of the writer; off by default.")

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
        return value if value == "db.serverless" else check_instance_type(value, "db.")

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


class KeyAttribute(SettingsModel):
    name: str = Field(min_length=1, max_length=255)
    type: Literal["S", "N", "B"] = Field(description="S (string), N (number) or B (binary).")


class TableIndexConfig(SettingsModel):
    name: str = Field(min_length=3, max_length=255)
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class TableConfig(SettingsModel):
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


class NoSqlConfig(SettingsModel):
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


class CacheConfig(SettingsModel):
    engine: Literal["valkey", "redis"] = Field(default="valkey", description="Valkey, or Redis OSS.")
    engine_version: str = Field(description="Engine version, major.minor (e.g. '8.0').")
    node_type: str = Field(description="Cache node type, e.g. 'cache.r7g.large'.")
    nodes: Int = Field(ge=1, le=6, description="Primary plus replicas, spread over the AZs.")
    snapshot_retention_days: Int = Field(ge=1, le=35, description="Days of automatic snapshots "
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
        return check_instance_type(value, "cache.")

    @model_validator(mode="after")
    def _engine_offers_version(self) -> CacheConfig:
        offered = CACHE_ENGINE_VERSIONS[self.engine]
        if self.engine_version not in offered:
            other = next((e for e, versions in CACHE_ENGINE_VERSIONS.items() if self.engine_version in versions), None)
            hint = f"; {self.engine_version} is a {other} version: set engine: {other}" if other else ""
            raise ValueError(f"engineVersion {self.engine_version!r} does not exist for engine {self.engine!r} "
                             f"(it offers {', '.join(offered)}){hint}")
        return self


def check_db_user(db_user: str, master_username: str | None = None) -> str:
    """``db_user`` if IAM tokens may be granted for it, else a ValueError saying why.

    The name goes into an IAM resource ARN, so anything but a plain lower-case PostgreSQL
    identifier is refused: ``*`` or ``?`` there would be a wildcard over every database user,
    the master user included. The master user is refused too: it signs in with the password
    RDS keeps and rotates in Secrets Manager, for break-glass administration; IAM tokens are
    for application users, each created with ``GRANT rds_iam`` and only the rights it needs.
    """
    if not isinstance(db_user, str) or not _DB_IDENTIFIER.match(db_user):
        raise ValueError(f"database user {db_user!r} must start with a lower-case letter and hold only lower-case "
                         "letters, digits and underscores (at most 63): a PostgreSQL identifier, no wildcards")
    if db_user in RESERVED_DB_USERNAMES or db_user.startswith(_RESERVED_ROLE_PREFIXES):
        raise ValueError(f"database user {db_user!r} is a default or reserved PostgreSQL/RDS role; grant an "
                         "application user instead")
    if master_username is not None and db_user == master_username:
        raise ValueError(f"database user {db_user!r} is the master user: it signs in with its Secrets Manager "
                         "password, not IAM tokens; grant an application user instead")
    return db_user
