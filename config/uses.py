"""What services declare they use must exist: the tables, bucket purposes, the database user
and (for a change stream) a table that has one. Each problem at the service's key. And a
service that declares the database or the cache needs nodes that can give its pods their own
security group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.analytics.settings import StreamsConfig
from components.common.aws_limits import supports_pod_security_groups
from components.data.settings import BUCKET_PURPOSES, SqlConfig, check_db_user


def uses_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    services = data.get("services")
    if not isinstance(services, list):
        return []
    nosql = data.get("nosql")
    tables = nosql.get("tables") if isinstance(nosql, Mapping) else None
    streams = {t["name"]: t.get("stream") is not None for t in tables or []
               if isinstance(t, Mapping) and isinstance(t.get("name"), str)}
    sql = data.get("sql")
    master = sql.get("masterUsername") if isinstance(sql, Mapping) else None
    master = master if master is not None else SqlConfig.model_fields["master_username"].default
    problems: list[tuple[str, str]] = []
    for index, service in enumerate(services):
        uses = service.get("uses") if isinstance(service, Mapping) else None
        if not isinstance(uses, Mapping):
            continue
        where = f"services[{index}].uses"
        declared_tables = uses.get("tables")
        for table, access in (declared_tables.items() if isinstance(declared_tables, Mapping) else ()):
            if isinstance(tables, list) and table not in streams:
                problems.append((f"{where}.tables.{table}", f"{table!r} is not a table in retail:nosql.tables "
                                 f"({', '.join(sorted(map(str, streams))) or 'none'})"))
            elif access == "stream" and not streams.get(table):
                problems.append((f"{where}.tables.{table}", f"table {table!r} has no change stream to read; set "
                                 "its `stream` in retail:nosql.tables or declare read access"))
        declared_buckets = uses.get("buckets")
        for purpose in (declared_buckets if isinstance(declared_buckets, Mapping) else ()):
            if purpose not in BUCKET_PURPOSES:
                problems.append((f"{where}.buckets.{purpose}", f"{purpose!r} is not a bucket purpose "
                                 f"({', '.join(BUCKET_PURPOSES)})"))
        declared_streams = uses.get("streams")
        known_streams = _stream_names(data)
        for stream in (declared_streams if isinstance(declared_streams, Mapping) else ()):
            if known_streams is not None and stream not in known_streams:
                problems.append((f"{where}.streams.{stream}", f"{stream!r} is not a stream in retail:streams "
                                 f"({', '.join(sorted(known_streams)) or 'none'})"))
        sql_use = uses.get("sql")
        user = sql_use.get("user") if isinstance(sql_use, Mapping) else None
        if isinstance(user, str):
            try:
                check_db_user(user, master if isinstance(master, str) else None)
            except ValueError as exc:
                problems.append((f"{where}.sql.user", str(exc)))
    problems += _pod_security_group_problems(data, services)
    return problems


def change_stream_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``retail:streams.changeStreams`` maps tables of ``retail:nosql.tables`` to streams."""
    raw = data.get("streams")
    mapping = raw.get("changeStreams") if isinstance(raw, Mapping) else None
    if mapping is None:
        mapping = StreamsConfig().change_streams
    nosql = data.get("nosql")
    tables = nosql.get("tables") if isinstance(nosql, Mapping) else None
    if not isinstance(mapping, Mapping) or not isinstance(tables, list):
        return []
    names = {t["name"] for t in tables if isinstance(t, Mapping) and isinstance(t.get("name"), str)}
    return [(f"streams.changeStreams.{table}", f"{table!r} is not a table in retail:nosql.tables "
             f"({', '.join(sorted(names)) or 'none'}); remove it from "
             "retail:streams.changeStreams (the presets map inventory to inventory-changes)")
            for table in mapping if table not in names]


def _pod_security_group_problems(data: Mapping[str, Any], services: list[Any]) -> list[tuple[str, str]]:
    """The stores admit a data client's pods by their own security group; Karpenter must be able
    to launch a node that can attach one, or those pods stay Pending."""
    clients = [s.get("name") for s in services if isinstance(s, Mapping) and isinstance(s.get("uses"), Mapping)
               and (s["uses"].get("sql") is not None or s["uses"].get("cache"))]
    kubernetes = data.get("kubernetes")
    karpenter = kubernetes.get("karpenter") if isinstance(kubernetes, Mapping) else None
    families = karpenter.get("instanceFamilies") if isinstance(karpenter, Mapping) else None
    if not clients or not isinstance(families, list) or not all(isinstance(f, str) for f in families):
        return []
    if any(supports_pod_security_groups(f) for f in families):
        return []
    return [("kubernetes.karpenter.instanceFamilies",
             f"{', '.join(map(str, clients))} declare the database or the cache, so their pods carry their own "
             f"security group, which none of {', '.join(families)} can attach (burstable t families and "
             "generations before 5 have no trunk interface); add a family such as m7g or c7g")]


def _stream_names(data: Mapping[str, Any]) -> set[str] | None:
    """The stack's stream names: its own list, else the defaults; None when the list is
    malformed (its field error says why)."""
    raw = data.get("streams")
    if raw is None:
        return {stream.name for stream in StreamsConfig().streams}
    streams = raw.get("streams") if isinstance(raw, Mapping) else None
    if streams is None:
        return {stream.name for stream in StreamsConfig().streams}
    if not isinstance(streams, list):
        return None
    return {s["name"] for s in streams if isinstance(s, Mapping) and isinstance(s.get("name"), str)}
