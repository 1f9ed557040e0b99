"""The capacity planner: what each layer needs for each event of ``retail:peakEvents``, and the
bounds of the stack that cannot carry it.

Pure functions of the validated config (no Pulumi): :func:`plan_events` gives the
:class:`~components.peaks.plan.EventPlan` the pre-warming component schedules and the cost
estimate prices; :func:`peak_problems` gives the refusals the config loader reports (each at
the key of the bound, with the number needed).

The formulas (each constant below says why it has its value):

* **Peak rate** of a service: the event's ``services[name]`` if given, else ``ceil(baselineRps
  x multiplier)``; a service named nowhere keeps its baseline.
* **Replicas** held as the HPA floor: ``max(minReplicas, ceil(peak_rps / rps_per_replica))``,
  where ``rps_per_replica`` is ``requestsPerSecondTarget`` (the per-pod rate the HPA holds) or
  :data:`DEFAULT_RPS_PER_VCPU` x the CPU request. Refused above ``maxReplicas``.
* **vCPU / memory**: replicas x the CPU / memory request (requests equal limits here). Per team
  against its quota (cpu, memory, pods); all services plus the Karpenter headroom
  (:data:`HEADROOM_FRACTION`) against Karpenter's cpuLimit / memoryLimitGi.
* **Nodes** (informational): the peak's vCPU and memory over the largest instance of the
  allowed families (sizes from pulumi-aws's instance type enum; vCPUs from the size name).
* **Aurora**: the SQL users' traffic ratio ``r = peak / baseline rps``. Demand ``D = instances
  x minAcu x r`` ACUs (the baseline cluster is sized at minAcu for baseline traffic, and CPU
  scales with requests); each instance should run at most :data:`ACU_UTILISATION` of maxAcu,
  so ``instances = max(instances, ceil(D / (0.75 maxAcu)))``, readers = instances - 1, refused
  above ``1 + maxReaders``; the minimum ACU held is ``max(minAcu, D / instances, the memory of
  the connections: connections x 8 MiB / 2 GiB)`` in 0.5 steps, refused above maxAcu.
* **Connection budget**: sum over SQL users of replicas x dbPoolSize must fit in the RDS
  Proxy's MaxConnectionsPercent (``retail:sql.proxy``; without a proxy
  :data:`PROXY_MAX_CONNECTIONS_PERCENT`) of Aurora PostgreSQL's ``max_connections``: AWS's
  published values by **maximum** ACU, capped at 2,000 when minAcu is below 1
  (components/data/connections.py, which the proxy uses too), so it is maxAcu that is raised,
  not the planned ACUs.
* **DynamoDB** warm throughput per table: each request of a service that declares the table
  does one item read (read, readWrite) and one write (readWrite); at least the on-demand
  table's default warm throughput (12,000 reads / 4,000 writes a second).
* **Cache nodes** (informational): :data:`CACHE_OPS_PER_REQUEST` operations per request of a
  cache user, :data:`CACHE_OPS_PER_NODE` a node; the primary plus the readers that carries.
* **ALB LCUs**: the largest of AWS's LCU dimensions at the exposed services' peak rate: new
  connections (25/s per LCU, with :data:`REQUESTS_PER_CONNECTION` requests per keep-alive
  connection), processed bytes (1 GB/h per LCU at :data:`RESPONSE_KIB`), rule evaluations
  (1,000/s per LCU, one per exposed path). Bytes dominate for a storefront.
* **Release**: ``COOL_DOWN`` (1h, components/peaks/settings.py) after the end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Protocol

from components.common.aws_catalog import instance_types
from components.compute.settings import KubernetesConfig, ServiceConfig
from components.data.connections import (
    AURORA_POSTGRES_MAX_CONNECTIONS_CAP,
    LOW_MINIMUM_CAP,
    aurora_max_connections,
    proxy_connection_limit,
)
from components.data.settings import CacheConfig, NoSqlConfig, SqlConfig
from components.peaks.plan import EventPlan, PeakEvent, ServicePeak
from components.peaks.settings import COOL_DOWN, PeakEventConfig
from components.peaks.surge import (
    WARM_UP,
    Layer,
    SurgeReport,
    alb_surge,
    aurora_surge,
    dynamodb_surge,
    pod_surge,
    required_lead,
)
from components.resilience.objectives import format_duration
from config.capacity import cpu_cores, memory_mebibytes

#: What one replica serves when the service sets no requestsPerSecondTarget, per vCPU it
#: requests: a conservative figure for a JSON/HTML service at the HPA's 60% CPU target; a load
#: test's number (set as requestsPerSecondTarget) replaces it.
DEFAULT_RPS_PER_VCPU = 50
#: Karpenter headroom: placeholder pods worth 20% of the event's pod capacity, so the HPA's
#: first steps beyond the planned floor land on warm nodes instead of waiting ~90s for a node.
HEADROOM_FRACTION = 0.2
#: Serverless v2 instances are planned at 75% of maxAcu: the rest absorbs what the plan missed.
ACU_UTILISATION = 0.75
#: 1 ACU is about 2 GiB of memory (Aurora User Guide, "Aurora Serverless v2 capacity").
GIB_PER_ACU = 2
#: A PostgreSQL backend holds a few MiB of its own (work_mem, catalog caches); 8 MiB each.
MIB_PER_CONNECTION = 8
#: Without a proxy the services may take this share of max_connections, leaving the rest to
#: administrators and migrations (with RDS Proxy: its MaxConnectionsPercent, retail:sql.proxy).
PROXY_MAX_CONNECTIONS_PERCENT = 90
#: DynamoDB on-demand tables start warm at 12,000 reads and 4,000 writes a second
#: (DynamoDB Developer Guide, "Understanding DynamoDB warm throughput").
DYNAMODB_DEFAULT_WARM = (12_000, 4_000)
CACHE_OPS_PER_REQUEST = 2
#: What one Valkey/Redis node serves comfortably (a fraction of its benchmark figure).
CACHE_OPS_PER_NODE = 50_000
#: ALB LCU dimensions (ELB pricing): 25 new connections/s, 1 GB processed per hour, 1,000
#: rule evaluations/s per LCU.
LCU_NEW_CONNECTIONS = 25
LCU_GB_PER_HOUR = 1
LCU_RULE_EVALUATIONS = 1_000
REQUESTS_PER_CONNECTION = 10
RESPONSE_KIB = 10


class PlannerConfig(Protocol):
    """The sections the planner reads (StackConfig has them all)."""

    @property
    def services(self) -> list[ServiceConfig]: ...
    @property
    def kubernetes(self) -> KubernetesConfig: ...
    @property
    def sql(self) -> SqlConfig: ...
    @property
    def nosql(self) -> NoSqlConfig: ...
    @property
    def cache(self) -> CacheConfig: ...
    @property
    def peak_events(self) -> list[PeakEventConfig]: ...


# -- services -------------------------------------------------------------------------------

def rps_per_replica(service: ServiceConfig) -> float:
    if service.requests_per_second_target is not None:
        return float(service.requests_per_second_target)
    return DEFAULT_RPS_PER_VCPU * (cpu_cores(service.cpu) or 0)


def baseline_rps(service: ServiceConfig) -> int:
    if service.baseline_rps is not None:
        return service.baseline_rps
    return max(1, math.floor(service.min_replicas * rps_per_replica(service)))


def peak_rps(service: ServiceConfig, event: PeakEvent) -> int:
    if service.name in event.service_rps:
        return event.service_rps[service.name]
    if event.multiplier is not None:
        return math.ceil(baseline_rps(service) * event.multiplier)
    return baseline_rps(service)


def replicas_needed(service: ServiceConfig, rps: int) -> int:
    """Replicas that serve ``rps`` (unbounded: compare with maxReplicas)."""
    return math.ceil(rps / rps_per_replica(service))


def service_peak(service: ServiceConfig, event: PeakEvent) -> ServicePeak:
    rps = peak_rps(service, event)
    replicas = min(max(service.min_replicas, replicas_needed(service, rps)), service.max_replicas)
    return ServicePeak(service=service.name, peak_rps=rps, min_replicas=replicas,
                       vcpu=replicas * (cpu_cores(service.cpu) or 0),
                       memory_gib=replicas * (memory_mebibytes(service.memory) or 0) / 1024,
                       db_connections=replicas * service.db_pool_size if service.uses.sql is not None else 0)


# -- nodes ------------------------------------------------------------------------------------

_SIZE = re.compile(r"^(\d*)xlarge$")
#: GiB per vCPU of the general-purpose, compute and memory families (c: 2, m and t: 4, r: 8).
_GIB_PER_VCPU = {"c": 2, "m": 4, "t": 4, "r": 8, "x": 16}


def _vcpus_of_size(size: str) -> int | None:
    if size == "medium":
        return 1
    if size == "large":
        return 2
    match = _SIZE.match(size)
    return 4 * int(match.group(1) or 1) if match else None


@cache
def largest_instance(family: str) -> tuple[str, int, int]:
    """(type, vCPUs, GiB) of the largest non-metal size of ``family`` pulumi-aws knows."""
    sizes = [(vcpus, kind) for kind in instance_types() if kind.split(".", 1)[0] == family
             and (vcpus := _vcpus_of_size(kind.split(".", 1)[1])) is not None]
    vcpus, kind = max(sizes) if sizes else (2, f"{family}.large")
    return kind, vcpus, vcpus * _GIB_PER_VCPU.get(family[0], 4)


def nodes_needed(families: Sequence[str], vcpu: float, memory_gib: float) -> int:
    best = max((largest_instance(f) for f in families), key=lambda item: item[1])
    _, vcpus, gib = best
    return max(math.ceil(vcpu / vcpus), math.ceil(memory_gib / gib), 1)


# -- Aurora -------------------------------------------------------------------------------------

def max_connections(max_acu: float, min_acu: float = 1) -> int:
    """Aurora PostgreSQL's default max_connections for a Serverless v2 instance: AWS's published
    values by *maximum* ACU, capped when the minimum is below 1 (components/data/connections.py,
    the one source the proxy uses too)."""
    return aurora_max_connections(max_acu, min_acu=min_acu)


def connection_budget(max_acu: float, min_acu: float = 1, percent: int = PROXY_MAX_CONNECTIONS_PERCENT) -> int:
    """The connections the services may hold (through the proxy: its MaxConnectionsPercent)."""
    return proxy_connection_limit(max_connections(max_acu, min_acu), percent)


def _half_steps(acu: float) -> float:
    return math.ceil(acu * 2) / 2


def _acu_for_connections(connections: int) -> float:
    return connections * MIB_PER_CONNECTION / 1024 / GIB_PER_ACU


@dataclass(frozen=True)
class AuroraPlan:
    min_acu: float
    readers: int
    ratio: float
    connections: int
    problems: tuple[tuple[str, str], ...] = field(default=())


def sql_ratio(config: PlannerConfig, event: PeakEvent) -> float:
    users = [s for s in config.services if s.uses.sql is not None]
    base = sum(baseline_rps(s) for s in users)
    return max(1.0, sum(peak_rps(s, event) for s in users) / base) if base else 1.0


def aurora_plan(config: PlannerConfig, event: PeakEvent, services: Mapping[str, ServicePeak]) -> AuroraPlan:
    sql = config.sql
    ratio = sql_ratio(config, event)
    connections = sum(peak.db_connections for peak in services.values())
    baseline_readers = sql.instances - 1
    allowed = 1 + (sql.max_readers if sql.max_readers is not None else baseline_readers)
    problems: list[tuple[str, str]] = []
    name = event.name
    if not sql.serverless:
        # A provisioned class does not change size by schedule: readers carry the ratio.
        needed = max(sql.instances, math.ceil(sql.instances * ratio))
        if needed > allowed:
            problems.append(("sql.maxReaders", f"event {name!r} needs {needed - 1} readers ({sql.instances} "
                             f"instances x {ratio:.2f} the SQL traffic); raise sql.maxReaders to at least "
                             f"{needed - 1}"))
        return AuroraPlan(0.0, min(needed, allowed) - 1, ratio, connections, tuple(problems))
    demand = sql.instances * sql.min_acu * ratio
    needed = max(sql.instances, math.ceil(demand / (ACU_UTILISATION * sql.max_acu)))
    if needed > allowed:
        per_instance = _half_steps(demand / allowed / ACU_UTILISATION)
        if sql.max_readers is None:
            problems.append(("sql.maxAcu", f"event {name!r} needs {demand:g} ACUs over {allowed} instances, "
                             f"{per_instance:g} ACUs each at {ACU_UTILISATION:.0%} use; raise sql.maxAcu to at least "
                             f"{per_instance:g}, or set sql.maxReaders to at least {needed - 1}"))
        else:
            problems.append(("sql.maxReaders", f"event {name!r} needs {needed - 1} readers ({demand:g} ACUs at "
                             f"{ACU_UTILISATION:.0%} of maxAcu {sql.max_acu:g}); raise sql.maxReaders to at least "
                             f"{needed - 1}, or sql.maxAcu to at least {per_instance:g}"))
    instances = min(needed, allowed)
    acu = max(sql.min_acu, _half_steps(demand / instances), _half_steps(_acu_for_connections(connections)))
    if acu > sql.max_acu:
        problems.append(("sql.maxAcu", f"event {name!r} needs a minimum of {acu:g} ACUs per instance "
                         f"({connections} connections, {demand:g} ACUs over {instances} instances); raise "
                         f"sql.maxAcu to at least {acu:g}"))
    percent = sql.proxy.max_connections_percent if sql.proxy.enabled else PROXY_MAX_CONNECTIONS_PERCENT
    budget = connection_budget(sql.max_acu, sql.min_acu, percent)
    if connections > budget:
        fits = next((a / 2 for a in range(max(2, int(sql.min_acu * 2)), 513)
                     if connection_budget(a / 2, sql.min_acu, percent) >= connections), None)
        fix = (f"raise sql.maxAcu to at least {fits:g} (max_connections grows with it)" if fits is not None
               else f"lower dbPoolSize: {AURORA_POSTGRES_MAX_CONNECTIONS_CAP} is Aurora PostgreSQL's ceiling"
               + (f" ({LOW_MINIMUM_CAP} with sql.minAcu below 1)" if sql.min_acu < 1 else ""))
        users = ", ".join(f"{p.service} {p.min_replicas} x {p.db_connections // max(p.min_replicas, 1)}"
                          for p in services.values() if p.db_connections)
        problems.append(("sql.maxAcu", f"event {name!r} opens {connections} database connections ({users}) but "
                         f"the budget at maxAcu {sql.max_acu:g} is {budget} ({percent}% of "
                         f"max_connections {max_connections(sql.max_acu, sql.min_acu)}); {fix}"))
    return AuroraPlan(min(acu, sql.max_acu), instances - 1, ratio, connections, tuple(problems))


# -- DynamoDB, cache, ALB -------------------------------------------------------------------------

def dynamodb_demand(config: PlannerConfig, services: Mapping[str, ServicePeak]) -> dict[str, tuple[int, int]]:
    """Table -> (reads/s, writes/s) the event's traffic does on it, for every table a service uses."""
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    for service in config.services:
        rps = services[service.name].peak_rps
        for table, access in service.uses.tables.items():
            if access in ("read", "readWrite"):
                reads[table] = reads.get(table, 0) + rps
                writes.setdefault(table, 0)
            if access == "readWrite":
                writes[table] = writes.get(table, 0) + rps
    return {table: (reads.get(table, 0), writes.get(table, 0)) for table in sorted(set(reads) | set(writes))}


def dynamodb_warm(config: PlannerConfig, services: Mapping[str, ServicePeak]) -> dict[str, tuple[int, int]]:
    """The tables whose demand exceeds the on-demand default warm throughput, at
    max(default, demand) on each side: warm throughput only ever goes up (UpdateTable refuses a
    decrease), so a table the default already covers is left alone."""
    low_reads, low_writes = DYNAMODB_DEFAULT_WARM
    return {table: (max(low_reads, reads), max(low_writes, writes))
            for table, (reads, writes) in dynamodb_demand(config, services).items()
            if reads > low_reads or writes > low_writes}


def cache_nodes(config: PlannerConfig, services: Mapping[str, ServicePeak]) -> int:
    ops = sum(services[s.name].peak_rps for s in config.services if s.uses.cache) * CACHE_OPS_PER_REQUEST
    return max(config.cache.nodes, 1 + math.ceil(ops / CACHE_OPS_PER_NODE) if ops else 1)


def alb_lcu(rps: int, rules: int) -> int:
    connections = rps / REQUESTS_PER_CONNECTION / LCU_NEW_CONNECTIONS
    gigabytes = rps * RESPONSE_KIB * 1024 * 3600 / 1e9 / LCU_GB_PER_HOUR
    evaluations = rps * rules / LCU_RULE_EVALUATIONS
    return max(1, math.ceil(max(connections, gigabytes, evaluations)))


def _exposed(config: PlannerConfig) -> list[ServiceConfig]:
    return [s for s in config.services if s.path is not None]


# -- plans --------------------------------------------------------------------------------------------

def plan_event(config: PlannerConfig, event: PeakEvent) -> EventPlan:
    """What ``event`` raises, layer by layer (bounds not checked: see :func:`event_problems`)."""
    services = {s.name: service_peak(s, event) for s in config.services}
    vcpu = sum(p.vcpu for p in services.values())
    memory = sum(p.memory_gib for p in services.values())
    aurora = aurora_plan(config, event, services)
    exposed = _exposed(config)
    return EventPlan(
        event=event, warm_at=event.start - event.lead, release_at=event.end + COOL_DOWN, services=services,
        headroom_vcpu=round(vcpu * HEADROOM_FRACTION, 3), headroom_memory_gib=round(memory * HEADROOM_FRACTION, 3),
        nodes=nodes_needed(config.kubernetes.karpenter.instance_families, vcpu * (1 + HEADROOM_FRACTION),
                           memory * (1 + HEADROOM_FRACTION)),
        aurora_min_acu=aurora.min_acu, aurora_readers=aurora.readers,
        dynamodb_warm=dynamodb_warm(config, services),
        alb_lcu=alb_lcu(sum(services[s.name].peak_rps for s in exposed), len(exposed)),
        cache_nodes=cache_nodes(config, services), waf_rate_limit=event.waf_rate_limit)


def plan_events(config: PlannerConfig) -> list[EventPlan]:
    """Every event of ``retail:peakEvents``, in start order."""
    events = sorted((c.event() for c in config.peak_events), key=lambda e: (e.start, e.name))
    return [plan_event(config, event) for event in events]


@dataclass(frozen=True)
class Baseline:
    """What the stack holds outside events: the "from" of every raise."""

    replicas: Mapping[str, int]
    aurora_min_acu: float
    aurora_readers: int
    alb_lcu: int
    cache_nodes: int


def baseline(config: PlannerConfig) -> Baseline:
    exposed = _exposed(config)
    return Baseline(replicas={s.name: s.min_replicas for s in config.services},
                    aurora_min_acu=config.sql.min_acu if config.sql.serverless else 0.0,
                    aurora_readers=config.sql.instances - 1,
                    alb_lcu=alb_lcu(sum(baseline_rps(s) for s in exposed), len(exposed)),
                    cache_nodes=config.cache.nodes)


def raised_layers(config: PlannerConfig, plan: EventPlan) -> set[Layer]:
    """The layers ``plan`` raises above the baseline (their warm-up sets the lead needed)."""
    base = baseline(config)
    layers: set[Layer] = set()
    if any(plan.services[name].min_replicas > replicas for name, replicas in base.replicas.items()):
        layers |= {Layer.pods, Layer.nodes}
    if plan.aurora_min_acu > base.aurora_min_acu:
        layers.add(Layer.aurora_acu)
    if plan.aurora_readers > base.aurora_readers:
        layers.add(Layer.aurora_readers)
    if plan.dynamodb_warm:
        layers.add(Layer.dynamodb)
    if plan.alb_lcu > base.alb_lcu:
        layers.add(Layer.alb)
    if plan.waf_rate_limit is not None:
        layers.add(Layer.waf)
    return layers


def _cpu(cores: float) -> str:
    return f"{cores:g}" if cores >= 1 else f"{round(cores * 1000)}m"


def event_problems(config: PlannerConfig, event: PeakEvent, index: int) -> list[tuple[str, str]]:
    """Every bound ``event`` exceeds, at the bound's key (without ``retail:``), with the number needed."""
    problems: list[tuple[str, str]] = []
    name = event.name
    known = {s.name for s in config.services}
    unknown = sorted(set(event.service_rps) - known)
    if unknown:
        problems.append((f"peakEvents[{index}].services", f"{', '.join(unknown)} not a service of retail:services "
                         f"({', '.join(sorted(known))})"))
    for position, service in enumerate(config.services):
        rps = peak_rps(service, event)
        needed = replicas_needed(service, rps)
        if needed > service.max_replicas:
            problems.append((f"services[{position}].maxReplicas",
                             f"event {name!r} needs {needed} replicas of {service.name!r} ({rps} rps at "
                             f"{rps_per_replica(service):g} rps per replica) but maxReplicas is "
                             f"{service.max_replicas}; raise it to at least {needed}"))
    plan = plan_event(config, event)
    for position, team in enumerate(config.kubernetes.teams):
        peaks = [plan.services[s.name] for s in config.services if s.team == team.name]
        cpu, memory = sum(p.vcpu for p in peaks), sum(p.memory_gib for p in peaks)
        pods = sum(p.min_replicas for p in peaks)
        quota_cpu, quota_memory = cpu_cores(team.cpu_quota) or 0, (memory_mebibytes(team.memory_quota) or 0) / 1024
        if cpu > quota_cpu:
            problems.append((f"kubernetes.teams[{position}].cpuQuota",
                             f"event {name!r} runs {_cpu(cpu)} CPU of team {team.name!r} but its quota is "
                             f"{team.cpu_quota}; raise it to at least {_cpu(cpu)}"))
        if memory > quota_memory:
            problems.append((f"kubernetes.teams[{position}].memoryQuota",
                             f"event {name!r} runs {math.ceil(memory)}Gi of team {team.name!r} but its quota is "
                             f"{team.memory_quota}; raise it to at least {math.ceil(memory)}Gi"))
        if pods > team.max_pods:
            problems.append((f"kubernetes.teams[{position}].maxPods",
                             f"event {name!r} runs {pods} pods of team {team.name!r} but maxPods is "
                             f"{team.max_pods}; raise it to at least {pods}"))
    karpenter = config.kubernetes.karpenter
    vcpu = sum(p.vcpu for p in plan.services.values()) + plan.headroom_vcpu
    memory = sum(p.memory_gib for p in plan.services.values()) + plan.headroom_memory_gib
    if vcpu > karpenter.cpu_limit:
        problems.append(("kubernetes.karpenter.cpuLimit",
                         f"event {name!r} needs {math.ceil(vcpu)} vCPUs (pods plus {HEADROOM_FRACTION:.0%} "
                         f"headroom) but cpuLimit is {karpenter.cpu_limit}; raise it to at least {math.ceil(vcpu)}"))
    if memory > karpenter.memory_limit_gi:
        problems.append(("kubernetes.karpenter.memoryLimitGi",
                         f"event {name!r} needs {math.ceil(memory)} GiB (pods plus {HEADROOM_FRACTION:.0%} "
                         f"headroom) but memoryLimitGi is {karpenter.memory_limit_gi}; raise it to at least "
                         f"{math.ceil(memory)}"))
    problems += aurora_plan(config, event, plan.services).problems
    lead, slowest = required_lead(raised_layers(config, plan))
    if event.lead.total_seconds() < lead and slowest is not None:
        problems.append((f"peakEvents[{index}].leadTime",
                         f"event {name!r} raises {slowest.value}, which takes {format_duration(WARM_UP[slowest])} "
                         f"to warm (components/peaks/surge.py), but leadTime is "
                         f"{format_duration(int(event.lead.total_seconds()))}; set it to at least "
                         f"{format_duration(lead)}"))
    return problems


def peak_problems(config: PlannerConfig) -> list[tuple[str, str]]:
    """Every event's refusals, in the calendar's order."""
    problems: list[tuple[str, str]] = []
    for index, event_config in enumerate(config.peak_events):
        problems += event_problems(config, event_config.event(), index)
    return problems


def surge_factor(config: PlannerConfig, plan: EventPlan) -> float:
    """The event's traffic over the baseline, all services together."""
    base = sum(baseline_rps(s) for s in config.services)
    return max(1.0, sum(p.peak_rps for p in plan.services.values()) / base) if base else 1.0


def unannounced_surge(config: PlannerConfig, factor: float) -> SurgeReport:
    """``factor`` x the baseline arriving at once, nothing warmed: each layer's doubling time and
    how long it is short (pods: the slowest service; nodes must launch: no warm headroom)."""
    pods = [pod_surge(factor, s.min_replicas, s.max_replicas, warm_nodes=False) for s in config.services]
    slowest_pods = max(pods, key=lambda layer: (layer.short_seconds is None, layer.short_seconds or 0))
    layers = [slowest_pods]
    if config.sql.serverless:
        layers.append(aurora_surge(sql_ratio_for(config, factor), config.sql.min_acu, config.sql.max_acu))
    surged = PeakEvent(name="surge", start=datetime.min.replace(tzinfo=UTC), end=datetime.max.replace(tzinfo=UTC),
                       lead=timedelta(0), multiplier=factor)
    demand = dynamodb_demand(config, {s.name: service_peak(s, surged) for s in config.services})
    low_reads, low_writes = DYNAMODB_DEFAULT_WARM
    over_warm = max((max(reads / low_reads, writes / low_writes) for reads, writes in demand.values()), default=0.0)
    layers += [dynamodb_surge(factor, over_warm), alb_surge(factor)]
    return SurgeReport(factor, tuple(layers))


def sql_ratio_for(config: PlannerConfig, factor: float) -> float:
    return factor if any(s.uses.sql is not None for s in config.services) else 1.0
