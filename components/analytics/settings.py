"""Settings of the analytics layer: ``retail:streams`` (the Kinesis streams) and
``retail:lake`` (Firehose delivery into the data lake, the Glue catalog, Athena)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.settings import Bool, Int, SettingsModel

_STREAM_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_COLUMN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*/$")

#: Glue column types a stream's schema may use (the Parquet converter maps each one).
ColumnType = Literal["string", "bigint", "int", "double", "boolean", "timestamp", "date", "decimal(18,2)"]


class ColumnConfig(SettingsModel):
    name: str = Field(description="Column (and JSON field) name: lower case, digits and '_'.")
    type: ColumnType = Field(description="Glue/Hive type of the column.")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _COLUMN_NAME.match(value):
            raise ValueError(f"{value!r} is not a column name (lower-case letters, digits and '_', not first a "
                             "digit); rename the JSON field or map it in the producer")
        if value in ("year", "month", "day"):
            raise ValueError(f"column {value!r} clashes with the lake's date partitions (year, month, day); "
                             "rename it")
        return value


#: The event schemas the platform's streams carry: what each Glue table (and so the Parquet
#: conversion) declares. A stream not listed here must give its ``columns``.
DEFAULT_SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "clickstream": (("event_id", "string"), ("event_type", "string"), ("session_id", "string"),
                    ("customer_id", "string"), ("page", "string"), ("product_id", "string"),
                    ("referrer", "string"), ("user_agent", "string"), ("occurred_at", "timestamp")),
    "orders": (("event_id", "string"), ("event_type", "string"), ("order_id", "string"),
               ("customer_id", "string"), ("status", "string"), ("currency", "string"),
               ("total", "decimal(18,2)"), ("item_count", "int"), ("occurred_at", "timestamp")),
    # DynamoDB's Kinesis streaming destination record (the change of one item).
    "inventory-changes": (("awsregion", "string"), ("eventid", "string"), ("eventname", "string"),
                          ("tablename", "string"), ("recordformat", "string"), ("eventsource", "string"),
                          ("dynamodb", "string"), ("useridentity", "string")),
}


class StreamConfig(SettingsModel):
    name: str = Field(description="Stream name; the physical name is retail-<stack>-<name>.")
    retention_hours: Int = Field(default=24, ge=24, le=8760,
                                 description="How long records stay readable (24 hours to 365 days).")
    columns: list[ColumnConfig] | None = Field(
        default=None, description="The record schema (the lake's Glue table); built in for clickstream, orders "
        "and inventory-changes.")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _STREAM_NAME.match(value):
            raise ValueError(f"{value!r} is not a stream name (3-32 lower-case letters, digits and '-', starting "
                             "with a letter)")
        return value

    @model_validator(mode="after")
    def _has_schema(self) -> StreamConfig:
        if self.columns is None and self.name not in DEFAULT_SCHEMAS:
            raise ValueError(f"stream {self.name!r} has no built-in schema; give its `columns` (name and type of "
                             "each field) in retail:streams.streams")
        if self.columns is not None:
            names = [c.name for c in self.columns]
            if not names or len(names) != len(set(names)):
                raise ValueError(f"stream {self.name!r}: columns must be non-empty and uniquely named")
        return self

    def record_columns(self) -> list[tuple[str, str]]:
        if self.columns is not None:
            return [(c.name, c.type) for c in self.columns]
        return list(DEFAULT_SCHEMAS[self.name])


def _default_streams() -> list[StreamConfig]:
    return [StreamConfig(name=name) for name in ("clickstream", "orders", "inventory-changes")]


class StreamsConfig(SettingsModel):
    """``retail:streams``."""

    streams: list[StreamConfig] = Field(default_factory=_default_streams,
                                        description="The Kinesis streams; a stack's list replaces the preset's.")
    enhanced_monitoring: Bool = Field(default=False, description="Shard-level CloudWatch metrics (on in prod).")
    change_streams: dict[str, str] = Field(
        default_factory=lambda: {"inventory": "inventory-changes"},
        description="DynamoDB table (retail:nosql name) -> the stream its item changes are streamed to.")

    @model_validator(mode="after")
    def _consistent(self) -> StreamsConfig:
        names = [s.name for s in self.streams]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"stream names must be unique: {', '.join(duplicates)} appear more than once")
        for table, stream in self.change_streams.items():
            if stream not in names:
                raise ValueError(f"changeStreams sends table {table!r} to stream {stream!r}, which is not one of "
                                 f"the streams ({', '.join(names)}); add it to retail:streams.streams")
        return self

    def stream(self, name: str) -> StreamConfig:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"no stream {name!r}; streams: {', '.join(s.name for s in self.streams)}")


class LakeConfig(SettingsModel):
    """``retail:lake``."""

    buffering_size_mib: Int = Field(default=64, ge=64, le=128,
                                    description="Firehose buffer before a Parquet file is written (64-128 MiB; "
                                    "format conversion needs at least 64).")
    buffering_interval_seconds: Int = Field(default=300, ge=60, le=900,
                                            description="Longest a record waits in Firehose's buffer.")
    raw_prefix: str = Field(default="raw/",
                            description="Where Firehose writes: <rawPrefix><stream>/year=/month=/day=/.")
    error_prefix: str = Field(default="errors/", description="Where records Firehose could not convert go.")
    athena_results_prefix: str = Field(default="athena-results/", description="Athena query results, in the "
                                       "data-lake bucket.")
    bytes_scanned_cutoff_mib: Int = Field(default=10240, ge=10, le=10_485_760,
                                          description="Athena cancels a query that would scan more than this.")

    @field_validator("raw_prefix", "error_prefix", "athena_results_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(f"{value!r} is not a key prefix (lower-case path segments ending in '/', e.g. 'raw/')")
        return value

    @model_validator(mode="after")
    def _distinct_prefixes(self) -> LakeConfig:
        prefixes = [self.raw_prefix, self.error_prefix, self.athena_results_prefix]
        for i, a in enumerate(prefixes):
            for j, b in enumerate(prefixes):
                if i != j and b.startswith(a):
                    raise ValueError(f"lake prefixes {a!r} and {b!r} overlap; give raw, error and Athena results "
                                     "prefixes of their own")
        return self
