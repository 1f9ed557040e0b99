"""What a known peak needs, layer by layer: the interface between the capacity planner (which
computes it from the stack config and the peak calendar), the pre-warming component (which
schedules it) and the cost estimate (which prices it).

Plain data, no Pulumi: the planner is pure, and everything downstream reads these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PeakEvent:
    """One entry of ``retail:peakEvents``, validated (UTC, end after start)."""

    name: str
    """A DNS-label-like name (``black-friday``): in the scheduled actions' names."""
    start: datetime
    end: datetime
    lead: timedelta
    """How long before ``start`` every layer must be warm."""
    multiplier: float | None = None
    """Peak traffic as a multiple of each service's baseline requests per second ..."""
    service_rps: Mapping[str, int] = field(default_factory=dict)
    """... or the expected peak requests per second of named services (these win)."""
    waf_rate_limit: int | None = None
    """An event-specific per-IP WAF rate limit (requests per 5 minutes), if configured."""


@dataclass(frozen=True)
class ServicePeak:
    """One service during one event."""

    service: str
    peak_rps: int
    min_replicas: int
    """Replicas held as a floor (HPA minimum) from warm-up to release."""
    vcpu: float
    """CPU requested by those replicas, in vCPUs."""
    memory_gib: float
    db_connections: int = 0
    """Replicas x the service's connection pool (0 for a service without the database)."""


@dataclass(frozen=True)
class EventPlan:
    """Everything raised for one event, when, and when it comes back down."""

    event: PeakEvent
    warm_at: datetime
    """``event.start - event.lead``: every layer is raised at this instant."""
    release_at: datetime
    """After ``event.end`` (plus a cool-down): every layer goes back to its baseline."""
    services: Mapping[str, ServicePeak]
    headroom_vcpu: float
    """Karpenter headroom: placeholder capacity so new pods land on warm nodes."""
    headroom_memory_gib: float
    nodes: int
    """Nodes of the largest allowed instance size the peak needs (informational)."""
    aurora_min_acu: float
    """Serverless v2 minimum ACU held during the event (per instance)."""
    aurora_readers: int
    """Reader instances held during the event."""
    dynamodb_warm: Mapping[str, tuple[int, int]]
    """Table (logical name, as in retail:nosql.tables) -> (read units/s, write units/s) pre-warmed."""
    alb_lcu: int
    """Load balancer capacity units reserved on the ALB."""
    cache_nodes: int
    """Cache nodes the peak needs (informational: the cache is not scaled by schedule)."""
    waf_rate_limit: int | None = None
