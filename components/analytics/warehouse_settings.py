"""The warehouse's stack-file section, ``retail:warehouse``: Redshift Serverless capacity,
its usage limit and the names of its admin user and database."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.settings import Bool, Int, SettingsModel

#: Redshift Serverless capacity moves in steps of 8 RPU.
RPU_STEP = 8
MIN_BASE_RPU, MAX_BASE_RPU = 8, 1024
MAX_MAX_RPU = 5632

#: Names Redshift or its tooling give by default, and names an attacker tries first.
DEFAULT_ADMIN_NAMES = frozenset({"admin", "awsuser", "root", "master", "administrator", "rdsdb", "postgres"})
#: ``dev`` is the database a Redshift namespace creates when none is named.
DEFAULT_DATABASE_NAMES = frozenset({"dev", "postgres", "template0", "template1", "padb_harvest"})

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class ZeroEtlConfig(SettingsModel):
    """What reaches the warehouse without a pipeline (zero-ETL integrations)."""

    sql: Bool = Field(default=True, description="Replicate the Aurora PostgreSQL database (orders ledger) "
                      "into the warehouse. Sets the logical-replication cluster parameters zero-ETL needs "
                      "(static: they apply at the cluster's next reboot).")
    tables: list[str] = Field(default=["orders", "inventory"], description="DynamoDB tables of retail:nosql "
                              "replicated into the warehouse.")

    @field_validator("tables")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({t for t in value if value.count(t) > 1})
        if repeated:
            raise ValueError(f"tables {repeated} are listed twice; list each table once")
        return value


class WarehouseConfig(SettingsModel):
    """``retail:warehouse``."""

    enabled: Bool = Field(default=True, description="Build the warehouse. Redshift Serverless needs the "
                          "isolated subnets in at least three AZs (retail:network.azCount 3 or more).")

    base_capacity: Int = Field(ge=MIN_BASE_RPU, le=MAX_BASE_RPU,
                               description="Base Redshift Processing Units (8-1024, steps of 8).")
    max_capacity: Int = Field(ge=MIN_BASE_RPU, le=MAX_MAX_RPU,
                              description="Most RPUs the workgroup scales to (steps of 8, at least baseCapacity).")
    usage_limit_rpu_hours: Int = Field(ge=1, description="RPU-hours per usageLimitPeriod before breachAction.")
    usage_limit_period: Literal["daily", "weekly", "monthly"] = Field(
        default="monthly", description="The period the usage limit counts over.")
    breach_action: Literal["log", "emit-metric", "deactivate"] = Field(
        description="What Redshift Serverless does when the limit is reached: log, emit-metric or deactivate "
                    "(stops queries until the next period).")
    admin_username: str = Field(description="The admin user (not a default name such as admin or awsuser).")
    database_name: str = Field(description="The database the namespace creates (not dev).")
    zero_etl: ZeroEtlConfig = Field(default_factory=ZeroEtlConfig, description="Zero-ETL sources.")

    @field_validator("base_capacity", "max_capacity")
    @classmethod
    def _rpu_step(cls, value: int) -> int:
        if value % RPU_STEP:
            nearest = value // RPU_STEP * RPU_STEP or RPU_STEP
            raise ValueError(f"{value} RPU is not a multiple of {RPU_STEP}; use e.g. {nearest}")
        return value

    @field_validator("admin_username")
    @classmethod
    def _admin_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"adminUsername {value!r} is not a lower-case identifier (a-z, 0-9, _; up to 63, "
                             "starting with a letter)")
        if value in DEFAULT_ADMIN_NAMES:
            raise ValueError(f"adminUsername {value!r} is a default or well-known name; choose one of your own "
                             "(e.g. 'wh_owner')")
        return value

    @field_validator("database_name")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"databaseName {value!r} is not a lower-case identifier (a-z, 0-9, _; up to 63, "
                             "starting with a letter)")
        if value in DEFAULT_DATABASE_NAMES:
            raise ValueError(f"databaseName {value!r} is a default database name; choose one of your own "
                             "(e.g. 'analytics')")
        return value

    @model_validator(mode="after")
    def _max_covers_base(self) -> WarehouseConfig:
        if self.max_capacity < self.base_capacity:
            raise ValueError(f"maxCapacity {self.max_capacity} is below baseCapacity {self.base_capacity}; set "
                             f"maxCapacity to at least {self.base_capacity}")
        return self
