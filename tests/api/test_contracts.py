"""Published partner API versions keep their contract: no path, method, parameter or
required response field goes away, and nothing new becomes required.

The committed snapshot (apis/published/partners-<version>.json) is the contract as
published; the document (apis/partners-<version>.yaml) may only grow. A breaking change is a
new major version: a new document and snapshot, served on its own stage.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.api.contract import PUBLISHED_DIR, breaking_changes, contract, published_path
from components.api.partner_api import API_DIR, load_document

PUBLISHED = sorted(p.stem.removeprefix("partners-") for p in PUBLISHED_DIR.glob("partners-*.json"))


def test_v1_is_published():
    assert "v1" in PUBLISHED


@pytest.mark.parametrize("version", PUBLISHED)
def test_published_version_keeps_its_contract(version):
    assert (API_DIR / f"partners-{version}.yaml").is_file(), (
        f"partners-{version} is published but its document is gone; published versions stay until retired")
    published = json.loads(published_path(version).read_text())
    problems = breaking_changes(published, contract(load_document(version)))
    assert problems == [], (f"partners-{version}.yaml breaks its published contract: {problems}; make the change "
                            f"in a new major version (partners-v{int(version[1:]) + 1}.yaml)")


def test_snapshot_pins_the_required_fields():
    published = json.loads(published_path("v1").read_text())
    assert set(published) == {"GET /inventory", "GET /orders/{orderId}", "GET /catalogue"}
    assert published["GET /orders/{orderId}"]["parameters"] == {"path:orderId": True}
    assert {"orderId", "status", "updatedAt"} <= set(published["GET /orders/{orderId}"]["responses"]["200"])
    assert "items[].sku" in published["GET /inventory"]["responses"]["200"]


# --- The check itself, on edited copies of the document --------------------------------------


def _v1() -> dict[str, Any]:
    return copy.deepcopy(load_document("v1"))


def _problems(document: dict[str, Any]) -> list[str]:
    return breaking_changes(json.loads(published_path("v1").read_text()), contract(document))


def test_adding_a_path_an_optional_parameter_or_a_field_is_fine():
    document = _v1()
    document["paths"]["/suppliers"] = {"get": {"operationId": "getSuppliers", "responses": {"200": {
        "description": "ok"}}}}
    document["paths"]["/inventory"]["get"]["parameters"].append(
        {"name": "sku", "in": "query", "required": False, "schema": {"type": "string"}})
    document["components"]["schemas"]["OrderStatus"]["required"].append("carrier")
    assert _problems(document) == []


def test_removing_a_path_breaks_the_contract():
    document = _v1()
    del document["paths"]["/catalogue"]
    assert _problems(document) == ["GET /catalogue was removed"]


def test_removing_a_required_response_field_breaks_the_contract():
    document = _v1()
    document["components"]["schemas"]["InventoryItem"]["required"].remove("available")
    assert _problems(document) == ["GET /inventory: response 200 no longer guarantees field items[].available"]


def test_new_required_parameter_or_removed_parameter_breaks_the_contract():
    document = _v1()
    parameters = document["paths"]["/inventory"]["get"]["parameters"]
    parameters[:] = [p for p in parameters if p["name"] != "pageToken"]
    parameters.append({"name": "warehouse", "in": "query", "required": True, "schema": {"type": "string"}})
    assert _problems(document) == [
        "GET /inventory: parameter query:pageToken was removed",
        "GET /inventory: new parameter query:warehouse is required (add it as optional)"]
