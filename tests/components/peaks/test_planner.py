"""The capacity planner: numbers worked out by hand on a small config, and every refusal with
the bound it names and the number it needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.peaks.planner import (
    alb_lcu,
    connection_budget,
    dynamodb_demand,
    largest_instance,
    max_connections,
    plan_event,
    plan_events,
    raised_layers,
)
from components.peaks.surge import Layer
from config.loader import ConfigError, parse_stack_config
from config.stack import StackConfig
from tests.support import config_with

EVENT = {"name": "sale", "start": "2026-12-10T08:00Z", "end": "2026-12-10T20:00Z", "leadTime": "3h",
         "multiplier": 4}


def _services(web: dict[str, Any] | None = None, orders: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Two services, numbers chosen to be checked by hand:
    storefront: 1 vCPU, 100 rps per replica (its HPA target), 150 rps normally;
    checkout: 500m, no target (50 rps per vCPU: 25 per replica), 50 rps normally, 5 connections a pod."""
    return [
        {"name": "storefront", "team": "storefront", "image": "registry.example.com/retail/storefront:1.0.0",
         "cpu": "1", "memory": "1Gi", "minReplicas": 2, "maxReplicas": 20, "requestsPerSecondTarget": 100,
         "baselineRps": 150, "path": "/", "uses": {"tables": {"sessions": "readWrite"}, "cache": True},
         **(web or {})},
        {"name": "checkout", "team": "checkout", "image": "registry.example.com/retail/checkout:1.0.0",
         "cpu": "500m", "memory": "512Mi", "minReplicas": 2, "maxReplicas": 10, "baselineRps": 50,
         "dbPoolSize": 5, "path": "/checkout", "callers": ["storefront"],
         "uses": {"tables": {"orders": "readWrite", "inventory": "read"}, "sql": {"user": "checkout_app"}},
         **(orders or {})},
    ]


def _raw(events: list[dict[str, Any]], **overrides: Any) -> dict[str, str]:
    overrides.setdefault("services", _services())
    # The partner API of the dev preset (off) names catalog; these two services answer it.
    overrides.setdefault("api", {"backends": {"getInventory": "checkout", "getCatalogue": "storefront",
                                              "getOrderStatus": "checkout"}})
    return config_with("dev", peakEvents=events, **overrides)


def stack(events: list[dict[str, Any]] | None = None, **overrides: Any) -> StackConfig:
    return parse_stack_config(_raw([EVENT] if events is None else events, **overrides))


def problems(events: list[dict[str, Any]] | None = None, **overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        stack(events, **overrides)
    return caught.value.problems


def test_the_plan_of_a_small_config_by_hand():
    config = stack()
    [plan] = plan_events(config)
    # Warm 3h before 08:00, released an hour after 20:00.
    assert plan.warm_at == datetime(2026, 12, 10, 5, 0, tzinfo=UTC)
    assert plan.release_at == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)
    web, orders = plan.services["storefront"], plan.services["checkout"]
    # 150 x 4 = 600 rps at 100 a replica: 6 replicas, 6 vCPU, 6 GiB.
    assert (web.peak_rps, web.min_replicas, web.vcpu, web.memory_gib, web.db_connections) == (600, 6, 6.0, 6.0, 0)
    # 50 x 4 = 200 rps at 25 a replica (50 per vCPU x 0.5): 8 replicas, 4 vCPU, 4 GiB, 8 x 5 connections.
    assert (orders.peak_rps, orders.min_replicas, orders.vcpu, orders.memory_gib, orders.db_connections) == \
        (200, 8, 4.0, 4.0, 40)
    # 20% headroom of 10 vCPU / 10 GiB; one m7g.16xlarge (64 vCPU) carries 12 vCPU.
    assert (plan.headroom_vcpu, plan.headroom_memory_gib, plan.nodes) == (2.0, 2.0, 1)
    # SQL traffic x4: demand 1 instance x 0.5 ACU x 4 = 2 ACU, within 75% of maxAcu 4 on one instance.
    assert (plan.aurora_min_acu, plan.aurora_readers) == (2.0, 0)
    # 600 + 200 rps, 10 KiB each: 800 x 10240 x 3600 B/h = 29.5 GB/h -> 30 LCU (bytes dominate).
    assert plan.alb_lcu == 30
    # 600 rps x 2 cache operations = 1,200/s: the primary plus one reader.
    assert plan.cache_nodes == 2
    # Within the on-demand tables' default warm throughput: nothing to pre-warm.
    assert dynamodb_demand(config, plan.services) == {"inventory": (200, 0), "orders": (200, 200),
                                                      "sessions": (600, 600)}
    assert plan.dynamodb_warm == {}
    assert raised_layers(config, plan) == {Layer.pods, Layer.nodes, Layer.aurora_acu, Layer.alb}


def test_per_service_rates_win_over_the_multiplier_and_warm_the_tables_they_exceed():
    config = stack(services=_services(web={"requestsPerSecondTarget": 1000}))
    event = config.peak_events[0].event()
    bigger = plan_event(config, type(event)(name="flash", start=event.start, end=event.end, lead=event.lead,
                                           multiplier=2, service_rps={"storefront": 13_000}))
    assert bigger.services["storefront"].peak_rps == 13_000
    assert bigger.services["storefront"].min_replicas == 13
    assert bigger.services["checkout"].peak_rps == 100
    # 13,000 reads and writes a second on sessions: above 12,000 / 4,000, so warmed.
    assert bigger.dynamodb_warm == {"sessions": (13_000, 13_000)}


def test_aurora_formulas():
    # AWS's published values by maximum ACU: 4 ACU -> 823, 64 ACU -> capped at 5000; a minimum
    # below 1 ACU caps it at 2,000; the budget is the proxy's 90% of it.
    assert max_connections(4) == 823
    assert max_connections(64) == 5000
    assert max_connections(64, min_acu=0.5) == 2000
    assert connection_budget(4) == 740
    assert largest_instance("m7g") == ("m7g.16xlarge", 64, 256)
    assert largest_instance("c7g")[1:] == (64, 128)
    # 1,000 rps with one rule: 4 LCU of connections, 1 of rules, 37 of bytes.
    assert alb_lcu(1000, 1) == 37


def test_a_peak_beyond_max_replicas_is_refused_with_the_number_needed():
    event = {**EVENT, "services": {"checkout": 1000}}
    found = dict(problems([event]))
    assert "retail:services[1].maxReplicas" in found
    message = found["retail:services[1].maxReplicas"]
    assert "needs 40 replicas of 'checkout'" in message and "maxReplicas is 10" in message
    assert "at least 40" in message


def test_a_peak_beyond_a_team_quota_is_refused():
    # 250 rps at 25 a replica: 10 replicas x 500m = 5 CPU, over checkout's quota of 4.
    event = {**EVENT, "services": {"checkout": 250}}
    [(path, message)] = problems([event])
    assert path == "retail:kubernetes.teams[1].cpuQuota"
    assert "runs 5 CPU of team 'checkout'" in message and "quota is 4" in message and "at least 5" in message


def test_a_peak_beyond_karpenter_is_refused():
    found = dict(problems(kubernetes={"karpenter": {"version": "1.8.1", "instanceFamilies": ["m7g"],
                                                    "capacityTypes": ["spot"], "cpuLimit": 10,
                                                    "memoryLimitGi": 64}}))
    # 10 vCPU of pods plus 2 of headroom.
    message = found["retail:kubernetes.karpenter.cpuLimit"]
    assert "needs 12 vCPUs" in message and "cpuLimit is 10" in message and "at least 12" in message


def test_a_peak_beyond_max_acu_is_refused():
    # 1 instance at minAcu 2, SQL traffic x4: 8 ACUs, over 75% of maxAcu 4 and no readers allowed.
    sql = {"minAcu": 2, "maxAcu": 4}
    found = problems(sql=sql)
    messages = [m for p, m in found if p == "retail:sql.maxAcu"]
    assert any("needs 8 ACUs over 1 instances" in m and "raise sql.maxAcu to at least 11" in m
               and "sql.maxReaders to at least 2" in m for m in messages), found


def test_a_peak_beyond_max_readers_is_refused():
    found = dict(problems(sql={"minAcu": 2, "maxAcu": 4, "maxReaders": 1}))
    message = found["retail:sql.maxReaders"]
    assert "needs 2 readers" in message and "raise sql.maxReaders to at least 2" in message


def test_a_peak_beyond_the_connection_budget_is_refused():
    # 8 replicas x 200 connections = 1,600; at maxAcu 4 the budget is 90% of 901 = 810; 8 ACUs give 1,621.
    found = problems(services=_services(orders={"dbPoolSize": 200}))
    [message] = [m for p, m in found if p == "retail:sql.maxAcu" and "connections (" in m]
    assert "opens 1600 database connections (checkout 8 x 200)" in message
    assert "budget at maxAcu 4 is 740" in message and "max_connections 823" in message
    assert "raise sql.maxAcu to at least 16" in message


def test_a_lead_shorter_than_the_slowest_layer_is_refused():
    [(path, message)] = problems([{**EVENT, "leadTime": "1h"}])
    assert path == "retail:peakEvents[0].leadTime"
    assert "raises alb, which takes 2h" in message and "at least 2h" in message


def test_a_lead_is_only_held_to_the_layers_raised():
    # Only WAF changes (160 rps fit the storefront's floor of 2 x 100): five minutes are enough.
    event = {key: value for key, value in EVENT.items() if key != "multiplier"}
    config = stack([{**event, "services": {"storefront": 160}, "leadTime": "5m", "wafRateLimit": 500}])
    assert raised_layers(config, plan_events(config)[0]) == {Layer.waf}


def test_overlapping_events_with_different_waf_limits_are_refused():
    second = {**EVENT, "name": "flash", "start": "2026-12-10T12:00Z", "end": "2026-12-10T14:00Z",
              "wafRateLimit": 5000}
    [(path, message)] = problems([EVENT, second])
    assert path == "retail:peakEvents[1].wafRateLimit"
    assert "'flash' overlaps 'sale'" in message and "5000 where 'sale' asks for the default" in message


def test_an_event_warmed_during_another_ones_cool_down_contradicts_it():
    # 'sale' ends at 20:00 and is held until 21:00; 'late' is warmed at 20:35 with another WAF limit.
    late = {"name": "late", "start": "2026-12-10T20:40Z", "end": "2026-12-10T21:30Z", "leadTime": "5m",
            "services": {"storefront": 160}, "wafRateLimit": 5000}
    [(path, message)] = problems([EVENT, late])
    assert path == "retail:peakEvents[1].wafRateLimit" and "overlaps 'sale' (warm-up to release)" in message
    # An hour later, after the release, it is a separate event.
    stack([EVENT, {**late, "start": "2026-12-10T21:10Z", "end": "2026-12-10T22:00Z"}])


def test_overlapping_events_that_agree_are_allowed_and_sorted():
    later = {**EVENT, "name": "flash", "start": "2026-12-10T12:00Z", "end": "2026-12-10T14:00Z"}
    config = stack([later, EVENT])
    assert [p.event.name for p in plan_events(config)] == ["sale", "flash"]


def test_a_name_used_twice_is_refused():
    other = {**EVENT, "start": "2027-01-10T08:00Z", "end": "2027-01-10T20:00Z"}
    [(path, message)] = problems([EVENT, other])
    assert path == "retail:peakEvents[1].name"
    assert "'sale' is already used by peakEvents[0]" in message


@pytest.mark.parametrize(("change", "path", "expected"), [
    ({"end": "2026-12-10T07:00Z"}, "retail:peakEvents[0]", "end (2026-12-10T07:00Z) must come after start"),
    ({"start": "2026-12-10 08:00"}, "retail:peakEvents[0].start", "ending in Z"),
    ({"leadTime": "4 hours"}, "retail:peakEvents[0].leadTime", "is not a duration"),
    ({"multiplier": None}, "retail:peakEvents[0]", "say how big the peak is"),
    ({"name": "Black Friday"}, "retail:peakEvents[0].name", "DNS label"),
    ({"wafRateLimit": 5}, "retail:peakEvents[0].wafRateLimit", "outside AWS WAF's rate-based limits"),
    ({"services": {"nope": 10}}, "retail:peakEvents[0].services", "nope not a service of retail:services"),
])
def test_event_field_errors_name_the_key(change, path, expected):
    event = {key: value for key, value in {**EVENT, **change}.items() if value is not None}
    found = problems([event])
    assert any(p == path and expected in m for p, m in found), found


def test_the_presets_validate_and_prod_declares_black_friday_and_a_sale():
    for name in ("dev", "staging", "prod"):
        parse_stack_config(config_with(name), name)
    prod = parse_stack_config(config_with("prod"), "prod")
    plans = {p.event.name: p for p in plan_events(prod)}
    assert set(plans) == {"black-friday", "summer-sale"}
    friday = plans["black-friday"]
    assert friday.event.start == datetime(2026, 11, 27, tzinfo=UTC)
    assert friday.warm_at == friday.event.start - timedelta(hours=4)
    # x10 of the floors' traffic: storefront 6 -> 60, the others 3 -> 30.
    assert {name: peak.min_replicas for name, peak in friday.services.items()} == \
        {"storefront": 60, "catalog": 30, "cart": 30, "checkout": 30}
    assert friday.aurora_min_acu == 20
    assert parse_stack_config(config_with("dev"), "dev").peak_events == []
