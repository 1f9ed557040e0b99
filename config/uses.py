"""What services declare they use must exist: the tables, bucket purposes, the database user
and (for a change stream) a table that has one. Each problem at the service's key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
        sql_use = uses.get("sql")
        user = sql_use.get("user") if isinstance(sql_use, Mapping) else None
        if isinstance(user, str):
            try:
                check_db_user(user, master if isinstance(master, str) else None)
            except ValueError as exc:
                problems.append((f"{where}.sql.user", str(exc)))
    return problems
