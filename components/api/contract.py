"""The published contract of a partner API version, and what breaks it.

A contract is what partners rely on: every path and method, the request parameters the
API accepts and which of them are required, and the fields every success response is
guaranteed to carry (required, nested through objects and arrays). The contract of each
published version is committed in ``apis/published/partners-<version>.json``; the
document may grow (new paths, new optional parameters, new response fields), never shrink.

Write a version's snapshot once, when it is published:
``python -m components.api.contract v1``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.api.partner_api import API_DIR, load_document, operations

PUBLISHED_DIR = API_DIR / "published"


def published_path(version: str) -> Path:
    return PUBLISHED_DIR / f"partners-{version}.json"


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, Mapping) and "$ref" in node):
            return node
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        node = _lookup(document, ref)
    raise ValueError("$ref chain longer than 32 links (a cycle?)")


def _lookup(document: Mapping[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def required_fields(document: Mapping[str, Any], schema: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the fields a schema requires (``items[].sku``), through $refs."""
    schema = _resolve(document, schema)
    if not isinstance(schema, Mapping):
        return []
    if schema.get("type") == "array":
        return required_fields(document, schema.get("items"), f"{prefix}[]")
    fields: list[str] = []
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        path = f"{prefix}.{name}" if prefix else name
        fields.append(path)
        fields += required_fields(document, properties.get(name), path)
    return fields


def contract(document: Mapping[str, Any]) -> dict[str, Any]:
    """``{"METHOD /path": {"parameters": {...}, "responses": {...}}}`` of a document."""
    result: dict[str, Any] = {}
    for path, method, operation in operations(document):
        parameters = {f"{p['in']}:{p['name']}": bool(p.get("required", False))
                      for p in (_resolve(document, p) for p in operation.get("parameters", []))}
        responses = {}
        for status, response in (operation.get("responses") or {}).items():
            response = _resolve(document, response)
            schema = (((response.get("content") or {}).get("application/json") or {}).get("schema"))
            responses[str(status)] = sorted(required_fields(document, schema))
        result[f"{method} {path}"] = {"operationId": operation.get("operationId"), "parameters": parameters,
                                      "responses": responses}
    return dict(sorted(result.items()))


def breaking_changes(published: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What ``current`` (a contract) breaks of ``published``: removals, and new requirements."""
    problems: list[str] = []
    for operation, before in published.items():
        after = current.get(operation)
        if after is None:
            problems.append(f"{operation} was removed")
            continue
        if after.get("operationId") != before.get("operationId"):
            problems.append(f"{operation}: operationId changed from {before.get('operationId')!r} to "
                            f"{after.get('operationId')!r} (generated clients use it)")
        for parameter, required in before["parameters"].items():
            if parameter not in after["parameters"]:
                problems.append(f"{operation}: parameter {parameter} was removed")
            elif after["parameters"][parameter] and not required:
                problems.append(f"{operation}: parameter {parameter} became required")
        for parameter, required in after["parameters"].items():
            if parameter not in before["parameters"] and required:
                problems.append(f"{operation}: new parameter {parameter} is required (add it as optional)")
        for status, fields in before["responses"].items():
            if status not in after["responses"]:
                problems.append(f"{operation}: response {status} was removed")
                continue
            for field in sorted(set(fields) - set(after["responses"][status])):
                problems.append(f"{operation}: response {status} no longer guarantees field {field}")
    return problems


def main(argv: list[str]) -> int:
    for version in argv or ["v1"]:
        path = published_path(version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(contract(load_document(version)), indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
