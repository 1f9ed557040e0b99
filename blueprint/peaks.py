"""``python -m blueprint peaks <stack>``: the peak calendar, layer by layer.

For each event of ``retail:peakEvents``: what is raised (from -> to), when (warm_at) and when
each layer is in place (the surge model's warm-up), when it comes back down (release_at); then
what the same traffic would do arriving unannounced (each layer's doubling time and how long
it is short). Plain data first (:func:`peaks_report`, also written as JSON), text second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.peaks.plan import EventPlan
from components.peaks.planner import (
    PlannerConfig,
    baseline,
    dynamodb_demand,
    raised_layers,
    surge_factor,
    unannounced_surge,
)
from components.peaks.settings import format_instant
from components.peaks.surge import TIMINGS, WARM_UP, Layer, event_readiness, required_lead
from components.resilience.objectives import format_duration


@dataclass(frozen=True)
class Raise:
    layer: str
    what: str
    before: str
    after: str


def _raises(config: PlannerConfig, plan: EventPlan) -> list[Raise]:
    base = baseline(config)
    rows = [Raise(Layer.pods, f"{name} HPA minReplicas ({peak.peak_rps} rps)", str(base.replicas[name]),
                  str(peak.min_replicas))
            for name, peak in plan.services.items() if peak.min_replicas > base.replicas[name]]
    rows.append(Raise(Layer.nodes, f"Karpenter headroom (~{plan.nodes} nodes at peak)", "0",
                      f"{plan.headroom_vcpu:g} vCPU / {plan.headroom_memory_gib:g} GiB"))
    if plan.aurora_min_acu > base.aurora_min_acu:
        rows.append(Raise(Layer.aurora_acu, "Aurora Serverless v2 minimum ACU", f"{base.aurora_min_acu:g}",
                          f"{plan.aurora_min_acu:g}"))
    if plan.aurora_readers > base.aurora_readers:
        rows.append(Raise(Layer.aurora_readers, "Aurora readers", str(base.aurora_readers), str(plan.aurora_readers)))
    demand = dynamodb_demand(config, plan.services)
    for table, (reads, writes) in demand.items():
        if table in plan.dynamodb_warm:
            warm_reads, warm_writes = plan.dynamodb_warm[table]
            rows.append(Raise(Layer.dynamodb, f"DynamoDB {table} warm throughput (reads/writes per s)", "current",
                              f"{warm_reads}/{warm_writes}"))
        else:
            rows.append(Raise(Layer.dynamodb, f"DynamoDB {table} at {reads}/{writes} r/w per s: default warm",
                              "12000/4000", "unchanged"))
    if plan.alb_lcu > base.alb_lcu:
        rows.append(Raise(Layer.alb, "ALB LCU reservation", "none", str(plan.alb_lcu)))
    if plan.waf_rate_limit is not None:
        rows.append(Raise(Layer.waf, "WAF per-IP rate limit (per 5 min)", "retail:edge.rateLimit",
                          str(plan.waf_rate_limit)))
    if plan.cache_nodes > base.cache_nodes:
        rows.append(Raise("cache", "cache nodes needed (not scheduled: raise retail:cache.nodes)",
                          str(base.cache_nodes), str(plan.cache_nodes)))
    return rows


def _instant(moment: datetime) -> str:
    return format_instant(moment)


def _seconds(value: int | None) -> str:
    return "never (a bound stops it)" if value is None else format_duration(value)


def peaks_report(config: PlannerConfig, plans: list[EventPlan]) -> dict[str, Any]:
    events = []
    for plan in plans:
        layers = raised_layers(config, plan)
        lead, slowest = required_lead(layers)
        surge = unannounced_surge(config, surge_factor(config, plan))
        ready = {r.layer.value: r for r in event_readiness(plan.warm_at, plan.event.start, layers)}
        events.append({
            "name": plan.event.name,
            "start": _instant(plan.event.start), "end": _instant(plan.event.end),
            "warmAt": _instant(plan.warm_at), "releaseAt": _instant(plan.release_at),
            "leadTime": format_duration(int(plan.event.lead.total_seconds())),
            "leadNeeded": format_duration(lead), "slowestLayer": slowest.value if slowest else None,
            "raises": [{"layer": str(r.layer), "what": r.what, "from": r.before, "to": r.after,
                        "warmAt": _instant(plan.warm_at),
                        "readyAt": _instant(ready[r.layer].ready_at) if r.layer in ready else None,
                        "releaseAt": _instant(plan.release_at)} for r in _raises(config, plan)],
            "surge": {"factor": round(surge.factor, 2), "doublingSeconds": surge.doubling_seconds,
                      "slowestLayer": surge.slowest.layer.value, "shortSeconds": surge.short_seconds,
                      "layers": [{"layer": layer.layer.value, "doublingSeconds": layer.doubling_seconds,
                                  "shortSeconds": layer.short_seconds, "note": layer.note}
                                 for layer in surge.layers]},
        })
    return {"events": events,
            "warmUpSeconds": {layer.value: seconds for layer, seconds in WARM_UP.items()},
            "timings": {key: {"seconds": t.seconds, "what": t.what, "source": t.source}
                        for key, t in TIMINGS.items()}}


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


def render_peaks(report: dict[str, Any]) -> list[str]:
    if not report["events"]:
        return ["no peak events: retail:peakEvents is empty (the prod preset declares black-friday)"]
    lines: list[str] = []
    for event in report["events"]:
        lines.append(f"{event['name']}: {event['start']} to {event['end']}, lead {event['leadTime']} "
                     f"(needed {event['leadNeeded']}, slowest: {event['slowestLayer']})")
        lines.append(f"  warm at {event['warmAt']}, released at {event['releaseAt']}")
        for row in event["raises"]:
            ready = f", ready {row['readyAt']}" if row["readyAt"] else ""
            lines.append(f"  [{row['layer']}] {row['what']}: {row['from']} -> {row['to']}{ready}")
        surge = event["surge"]
        lines.append(f"  unannounced, the same {surge['factor']:g}x surge: capacity doubles in "
                     f"{_seconds(surge['doublingSeconds'])} (slowest: {surge['slowestLayer']}); short for "
                     f"{_seconds(surge['shortSeconds'])}")
        for layer in surge["layers"]:
            lines.append(f"    {layer['layer']}: doubles in {_seconds(layer['doublingSeconds'])}, short for "
                         f"{_seconds(layer['shortSeconds'])} ({layer['note']})")
        lines.append("")
    lines.append("warm-up per layer: " + ", ".join(f"{layer} {format_duration(seconds)}"
                                                   for layer, seconds in report["warmUpSeconds"].items()))
    lines.append("timings and their sources: components/peaks/surge.py (--json lists them)")
    return lines
