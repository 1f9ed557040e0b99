"""retail:warehouse and retail:api: presets, and the rules that span sections, each refused
at its key path with the fix, before anything is built."""

from __future__ import annotations

from typing import Any

import pytest

from config.analytics_apis import api_problems
from config.loader import ConfigError, parse_stack_config
from config.presets import PRESETS
from tests.support import PROJECT, config_with


def problems(stack: str, **overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_stack_config(config_with(stack, **overrides))
    return info.value.problems


def test_presets_turn_the_warehouse_and_the_api_on_where_the_stack_can_carry_them():
    stacks = {name: parse_stack_config(PROJECT.stack_config(name)) for name in ("dev", "staging", "prod")}
    assert {name: (c.warehouse is not None and c.warehouse.enabled) for name, c in stacks.items()} == \
        {"dev": False, "staging": True, "prod": True}
    assert {name: (c.api is not None and c.api.enabled) for name, c in stacks.items()} == \
        {"dev": False, "staging": True, "prod": True}
    prod = stacks["prod"]
    assert prod.api is not None and prod.api.execution_log_level == "ERROR" and prod.api.data_trace is False
    assert prod.warehouse is not None and prod.warehouse.breach_action == "emit-metric"
    assert prod.warehouse.admin_username not in {"admin", "awsuser"} and prod.warehouse.database_name != "dev"


def test_every_preset_maps_every_operation_to_a_service_it_has():
    for preset in PRESETS.values():
        services = {s["name"] for s in preset["services"]}
        assert set(preset["api"]["backends"].values()) <= services


def test_a_warehouse_in_two_azs_is_refused_with_the_fix():
    [(path, message)] = problems("dev", warehouse={"enabled": True})
    assert path == "retail:warehouse.enabled"
    assert "at least 3 AZs" in message and "azCount" in message


def test_the_warehouse_may_be_turned_on_in_dev_with_three_azs():
    config = parse_stack_config(config_with("dev", warehouse={"enabled": True}, network={"azCount": 3}))
    assert config.warehouse is not None and config.warehouse.enabled


def test_a_zero_etl_table_that_does_not_exist_is_refused():
    [(path, message)] = problems("prod", warehouse={"zeroEtl": {"tables": ["orders", "ordres"]}})
    assert path == "retail:warehouse.zeroEtl.tables[1]"
    assert "'ordres' is not a table" in message and "orders" in message


def test_a_default_admin_name_is_refused():
    [(path, message)] = problems("prod", warehouse={"adminUsername": "admin"})
    assert path == "retail:warehouse.adminUsername" and "wh_owner" in message


def test_an_operation_answered_by_an_unknown_service_is_refused():
    backends = {"getInventory": "catalogue", "getCatalogue": "catalog", "getOrderStatus": "checkout"}
    [(path, message)] = problems("prod", api={"backends": backends})
    assert path == "retail:api.backends.getInventory"
    assert "'catalogue' is not a service" in message and "catalog" in message


def test_a_backend_without_an_operation_is_refused():
    backends = {"getCatalog": "catalog"}
    [(path, message)] = problems("prod", api={"backends": backends})
    assert path == "retail:api.backends.getCatalog"
    assert "not an operation of partners-v1.yaml" in message and "getCatalogue" in message


def test_an_operation_without_a_backend_is_refused():
    # Stack files merge into the preset's backends, so only a hand-made section lacks one.
    data = {"api": {"backends": {"getInventory": "catalog", "getOrderStatus": "checkout"}},
            "services": [{"name": "catalog"}, {"name": "checkout"}]}
    assert api_problems(data) == [("api.backends", "partners-v1.yaml's getCatalogue has no backend: map it to the "
                                   "service that answers it")]


def test_a_waf_limit_below_a_tiers_rate_is_refused():
    [(path, message)] = problems("prod", api={"wafRateLimit": 50_000})
    assert path.startswith("retail:api") and "raise wafRateLimit" in message
