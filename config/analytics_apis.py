"""Rules of the warehouse and the partner APIs that span sections: Redshift Serverless needs
three AZs, its zero-ETL tables must exist, and every partner operation needs a service that
answers it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.api.partner_api import document_path, load_document, operations

#: Redshift Serverless places a workgroup in subnets of at least three AZs.
WAREHOUSE_MIN_AZ_COUNT = 3


def _enabled(section: Any) -> bool:
    return isinstance(section, Mapping) and section.get("enabled", True) is True


def warehouse_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    warehouse = data.get("warehouse")
    if not _enabled(warehouse):
        return []
    assert isinstance(warehouse, Mapping)
    problems: list[tuple[str, str]] = []
    network = data.get("network")
    az_count = network.get("azCount") if isinstance(network, Mapping) else None
    # Prod's own floor asks for three AZs already: one mistake, one message.
    prod = data.get("environment") == "prod"
    if isinstance(az_count, int) and not isinstance(az_count, bool) and az_count < WAREHOUSE_MIN_AZ_COUNT \
            and not prod:
        problems.append(("warehouse.enabled", f"Redshift Serverless needs the isolated subnets in at least "
                         f"{WAREHOUSE_MIN_AZ_COUNT} AZs and retail:network.azCount is {az_count}; set azCount to "
                         f"{WAREHOUSE_MIN_AZ_COUNT} or warehouse.enabled: false"))
    zero_etl = warehouse.get("zeroEtl")
    tables = zero_etl.get("tables") if isinstance(zero_etl, Mapping) else None
    nosql = data.get("nosql")
    declared = nosql.get("tables") if isinstance(nosql, Mapping) else None
    if isinstance(tables, list) and isinstance(declared, list):
        names = {t.get("name") for t in declared if isinstance(t, Mapping) and isinstance(t.get("name"), str)}
        problems += [(f"warehouse.zeroEtl.tables[{index}]", f"{table!r} is not a table in retail:nosql.tables "
                      f"({', '.join(sorted(str(n) for n in names)) or 'none'})")
                     for index, table in enumerate(tables) if isinstance(table, str) and table not in names]
    return problems


def api_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    api = data.get("api")
    if not _enabled(api):
        return []
    assert isinstance(api, Mapping)
    problems: list[tuple[str, str]] = []
    backends = api.get("backends")
    if not isinstance(backends, Mapping):
        return problems
    services = data.get("services")
    names = {s.get("name") for s in services if isinstance(s, Mapping) and isinstance(s.get("name"), str)} \
        if isinstance(services, list) else None
    for operation, service in backends.items():
        if names is not None and isinstance(service, str) and service not in names:
            problems.append((f"api.backends.{operation}", f"{service!r} is not a service in retail:services "
                             f"({', '.join(sorted(str(n) for n in names))})"))
    versions = api.get("versions", ["v1"])
    for version in versions if isinstance(versions, list) else ():
        if not isinstance(version, str) or not document_path(version).is_file():
            continue  # the field's own validation names it
        ids = {str(op.get("operationId")) for _, _, op in operations(load_document(version))}
        problems += [(f"api.backends.{operation}", f"{operation!r} is not an operation of "
                      f"{document_path(version).name} ({', '.join(sorted(ids))})")
                     for operation in backends if str(operation) not in ids]
        problems += [("api.backends", f"{document_path(version).name}'s {operation} has no backend: map it to the "
                      "service that answers it")
                     for operation in sorted(ids - set(backends))]
    return problems
