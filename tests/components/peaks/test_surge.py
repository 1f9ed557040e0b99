"""The surge model: doubling times and shortfalls worked out from the timings table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from components.peaks.surge import (
    TIMINGS,
    WARM_UP,
    Layer,
    LayerSurge,
    SurgeReport,
    alb_surge,
    aurora_surge,
    dynamodb_surge,
    event_readiness,
    pod_surge,
    required_lead,
)


def test_every_timing_has_a_source():
    assert all(t.seconds > 0 and t.source and t.what for t in TIMINGS.values())
    assert TIMINGS["hpa_sync"].seconds == 15 and "15s" in TIMINGS["hpa_sync"].source


def test_pods_on_cold_nodes():
    # Seen after a scrape and a sync (30s); 6 -> 12 -> 24 -> 48 -> 96 covers 60 in 4 steps of 15s;
    # then a node (90s), the image (20s) and the pod's start (30s).
    surge = pod_surge(10, 6, 200, warm_nodes=False)
    assert surge.short_seconds == 30 + 4 * 15 + 90 + 20 + 30
    assert surge.doubling_seconds == 30 + 15 + 90 + 20 + 30


def test_pods_on_warm_nodes_and_the_four_pod_step():
    # 1 -> 5 (+4 beats +100%) -> 9 covers 8 in two steps.
    surge = pod_surge(8, 1, 20, warm_nodes=True)
    assert surge.short_seconds == 30 + 2 * 15 + 30
    assert surge.doubling_seconds == 30 + 15 + 30


def test_pods_capped_by_max_replicas_stay_short():
    surge = pod_surge(10, 6, 30, warm_nodes=True)
    assert surge.short_seconds is None
    assert "capped at maxReplicas 30" in surge.note
    assert pod_surge(10, 6, 8, warm_nodes=True).doubling_seconds is None


def test_aurora_doubles_a_minute_up_to_max_acu():
    assert aurora_surge(10, 2, 64).short_seconds == 4 * 60
    assert aurora_surge(10, 2, 64).doubling_seconds == 60
    beyond = aurora_surge(10, 2, 16)
    assert beyond.short_seconds is None and "maxAcu 16" in beyond.note


def test_dynamodb_is_instant_within_warm_throughput_then_doubles_per_half_hour():
    assert dynamodb_surge(10, 0.5).short_seconds == 0
    assert dynamodb_surge(10, 3).short_seconds == 2 * 1800
    assert alb_surge(10).short_seconds == 4 * 300


def test_the_shop_doubles_when_its_slowest_layer_does():
    report = SurgeReport(4, (LayerSurge(Layer.pods, 75, 90, ""), LayerSurge(Layer.alb, 300, 600, "")))
    assert (report.doubling_seconds, report.slowest.layer, report.short_seconds) == (300, Layer.alb, 600)
    capped = SurgeReport(4, (LayerSurge(Layer.pods, None, None, ""), LayerSurge(Layer.alb, 300, 600, "")))
    assert capped.doubling_seconds is None and capped.short_seconds is None


def test_lead_needed_is_the_slowest_raised_layer():
    assert required_lead({Layer.pods, Layer.aurora_readers}) == (900, Layer.aurora_readers)
    assert required_lead({Layer.pods, Layer.alb}) == (7200, Layer.alb)
    assert required_lead(set()) == (0, None)


def test_readiness_before_the_start():
    start = datetime(2026, 11, 27, tzinfo=UTC)
    ready = {r.layer: r for r in event_readiness(start - timedelta(hours=1), start, {Layer.pods, Layer.alb})}
    assert ready[Layer.pods].ready_at == start - timedelta(hours=1) + timedelta(seconds=WARM_UP[Layer.pods])
    assert ready[Layer.alb].margin == timedelta(hours=-1)  # a 1h lead is an hour short for the ALB
