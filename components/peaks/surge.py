"""The surge model: how fast each layer follows traffic on its own, and how long it is short.

Two questions, one table of timings:

* An **unannounced surge** (traffic jumps to ``factor`` x what the stack is sized for): how
  many seconds until each layer's capacity has doubled, how long each layer is short of the
  surge, and which layer is the slowest (the shop's doubling time is that layer's).
* A **calendar event**: the layers are raised at ``warm_at``; each needs its warm-up time, so
  the lead time must cover the slowest layer the plan raises, and the model says when each
  layer is in place and by how much it beats the start.

Every timing below is a documented default or a published figure with its source; where AWS
publishes a range we take the slow end, since the model is used to refuse a lead that is too
short, not to promise speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Layer(StrEnum):
    pods = "pods"
    nodes = "nodes"
    aurora_acu = "aurora-acu"
    aurora_readers = "aurora-readers"
    dynamodb = "dynamodb"
    alb = "alb"
    waf = "waf"


@dataclass(frozen=True)
class Timing:
    seconds: int
    what: str
    source: str


#: The timings the model is built from, each with its source.
TIMINGS: dict[str, Timing] = {
    "hpa_sync": Timing(15, "HPA evaluation period", "Kubernetes docs, Horizontal Pod Autoscaling: "
                       "--horizontal-pod-autoscaler-sync-period defaults to 15s"),
    "metrics_resolution": Timing(15, "metrics-server scrape interval (the HPA sees load this late)",
                                 "metrics-server README: --metric-resolution defaults to 15s"),
    "hpa_step": Timing(15, "HPA default scale-up: +100% or +4 pods (the larger) per 15s, no stabilization",
                       "Kubernetes docs, Horizontal Pod Autoscaling, 'Default Behavior'"),
    "pod_start": Timing(30, "pod start on a warm node: cached image, then the readiness probe passing",
                        "blueprint default: images are pre-pulled on warm nodes; readiness probes of the "
                        "services pass within 2-3 periods of 10s (Kubernetes probe periodSeconds default 10)"),
    "image_pull": Timing(20, "image pull on a new node (a few hundred MB from ECR in-region)",
                         "blueprint default; ECR in-region pulls run at hundreds of MB/s"),
    "node_launch": Timing(90, "Karpenter: pending pod to a Ready node (batching, EC2 launch, bootstrap)",
                          "Karpenter docs (batchMaxDuration 10s) and AWS EKS best practices: nodes Ready in "
                          "45-90s; the slow end"),
    "aurora_acu_doubling": Timing(60, "Aurora Serverless v2: capacity doubles (increments grow with capacity)",
                                  "Aurora User Guide, 'How Aurora Serverless v2 works': scales in seconds, in "
                                  "steps proportional to current capacity; 60s is the conservative reading"),
    "aurora_modify": Timing(300, "ModifyDBCluster of the minimum ACU applied and reached",
                            "Aurora User Guide: a capacity-range change applies without downtime, within minutes"),
    "aurora_reader": Timing(900, "a new Aurora reader instance available",
                            "Aurora User Guide, Aurora Auto Scaling: adding a replica takes 10-15 minutes; the "
                            "slow end"),
    "aurora_autoscaling_cooldown": Timing(300, "Application Auto Scaling target tracking: alarm evaluation "
                                          "before the first reader is added",
                                          "Application Auto Scaling docs: target tracking alarms need 3 "
                                          "one-minute datapoints; Aurora's default scale-out cooldown 300s"),
    "dynamodb_doubling": Timing(1800, "DynamoDB on-demand: beyond 2x the previous peak within 30 minutes "
                                "may throttle", "DynamoDB Developer Guide, on-demand capacity mode: instant "
                                "up to 2x the previous peak, throttling above that within 30 minutes"),
    "dynamodb_warm": Timing(1800, "DynamoDB warm throughput raised (UpdateTable, asynchronous)",
                            "DynamoDB Developer Guide, warm throughput: asynchronous; time depends on the "
                            "values and table size; 30 minutes planned"),
    "alb_doubling": Timing(300, "ALB scales out on its own", "ELB best practices: an ALB scales with traffic "
                           "over minutes; a step beyond 2x in 5 minutes may see 503s without a reservation"),
    "alb_reservation": Timing(7200, "ALB LCU reservation provisioned",
                              "ELB User Guide, LCU reservation: most requests fulfilled within a few minutes, "
                              "but can take up to a few hours; 2h planned"),
    "waf_update": Timing(60, "WAF web ACL change propagated", "AWS WAF Developer Guide: changes propagate "
                         "within about a minute"),
}


def _t(key: str) -> int:
    return TIMINGS[key].seconds


#: How long each layer takes from the scheduled action to capacity in place, when warmed.
WARM_UP: dict[Layer, int] = {
    # A raised HPA minimum creates pods; their nodes launch; the pods start.
    Layer.pods: _t("node_launch") + _t("image_pull") + _t("pod_start"),
    Layer.nodes: _t("node_launch"),
    Layer.aurora_acu: _t("aurora_modify"),
    Layer.aurora_readers: _t("aurora_reader"),
    Layer.dynamodb: _t("dynamodb_warm"),
    Layer.alb: _t("alb_reservation"),
    Layer.waf: _t("waf_update"),
}


def required_lead(layers: set[Layer]) -> tuple[int, Layer | None]:
    """(seconds, slowest layer) of the lead time warming ``layers`` needs."""
    if not layers:
        return 0, None
    slowest = max(sorted(layers), key=lambda layer: WARM_UP[layer])
    return WARM_UP[slowest], slowest


@dataclass(frozen=True)
class LayerSurge:
    layer: Layer
    doubling_seconds: int | None
    """From the surge's first second until the layer's capacity has doubled; None: never (a bound)."""
    short_seconds: int | None
    """How long the layer is short of the surge; None: for as long as it lasts (a bound stops it)."""
    note: str


@dataclass(frozen=True)
class SurgeReport:
    factor: float
    layers: tuple[LayerSurge, ...]

    @property
    def slowest(self) -> LayerSurge:
        return max(self.layers, key=lambda layer: math.inf if layer.doubling_seconds is None
                   else layer.doubling_seconds)

    @property
    def doubling_seconds(self) -> int | None:
        """The shop doubles when its slowest layer does."""
        return self.slowest.doubling_seconds

    @property
    def short_seconds(self) -> int | None:
        spans = [layer.short_seconds for layer in self.layers]
        return None if None in spans else max(s for s in spans if s is not None)


def _doublings(factor: float) -> int:
    return max(0, math.ceil(math.log2(factor))) if factor > 1 else 0


def pod_surge(factor: float, replicas: int, max_replicas: int, warm_nodes: bool) -> LayerSurge:
    """HPA: sees the load after a scrape and a sync, then at most doubles (or +4 pods) every 15s;
    new pods need a node unless headroom holds one, then start."""
    react = _t("metrics_resolution") + _t("hpa_sync")
    start = _t("pod_start") + (0 if warm_nodes else _t("node_launch") + _t("image_pull"))
    steps, current = 0, replicas
    target = math.ceil(replicas * factor)
    while current < min(target, max_replicas):
        current = min(max_replicas, max(current * 2, current + 4))
        steps += 1
    doubling = react + _t("hpa_step") + start if max_replicas >= 2 * replicas else None
    short = react + steps * _t("hpa_step") + start if target <= max_replicas else None
    return LayerSurge(Layer.pods, doubling, short if factor > 1 else 0,
                      f"{replicas} -> {target} replicas" + ("" if target <= max_replicas
                                                             else f", capped at maxReplicas {max_replicas}"))


def aurora_surge(factor: float, acu: float, max_acu: float) -> LayerSurge:
    """Serverless v2 doubles in about a minute up to maxAcu; beyond it, only readers (if any)
    add capacity, at the autoscaling cool-down plus a reader's creation."""
    doubling = _t("aurora_acu_doubling") if max_acu >= 2 * acu else None
    if acu * factor <= max_acu:
        short = _doublings(factor) * _t("aurora_acu_doubling")
        return LayerSurge(Layer.aurora_acu, doubling, short, f"{acu:g} -> {acu * factor:g} ACU")
    return LayerSurge(Layer.aurora_acu, doubling, None,
                      f"{acu * factor:g} ACU needed, maxAcu {max_acu:g}: short until readers are added, if allowed")


def dynamodb_surge(factor: float, over_warm: float = 0.0) -> LayerSurge:
    """On demand: instantly up to the warm throughput (and 2x the previous peak); beyond, one
    more doubling per 30 minutes. ``over_warm``: the surge's demand over the warm throughput of
    the busiest table (at most 1: no throttling at all)."""
    if over_warm <= 1:
        return LayerSurge(Layer.dynamodb, 0, 0, "within the tables' warm throughput")
    short = _doublings(over_warm) * _t("dynamodb_doubling")
    return LayerSurge(Layer.dynamodb, 0, short, f"{over_warm:.1f}x the warm throughput: one doubling per 30 min")


def alb_surge(factor: float) -> LayerSurge:
    return LayerSurge(Layer.alb, _t("alb_doubling"), _doublings(factor) * _t("alb_doubling"),
                      "scales out on its own, about a doubling per 5 minutes")


@dataclass(frozen=True)
class LayerReady:
    layer: Layer
    ready_at: datetime
    margin: timedelta
    """Before the event's start (negative: late)."""


def event_readiness(warm_at: datetime, start: datetime, layers: set[Layer]) -> list[LayerReady]:
    """When each warmed layer is in place, given every layer is raised at ``warm_at``."""
    ready = []
    for layer in sorted(layers, key=lambda item: WARM_UP[item]):
        at = warm_at + timedelta(seconds=WARM_UP[layer])
        ready.append(LayerReady(layer, at, start - at))
    return ready
