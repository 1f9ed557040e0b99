"""``blueprint dr``: which disaster-recovery mechanism each primary store really has, read from
the synthesized graph (not from what ``retail:dr`` promises), the RPO/RTO that gives each tier
against the declared targets, and a failover runbook with the graph's real names.

Stdlib only (plus the objectives table), so the policy pack reuses the detection
(:func:`primary_stores`, :func:`found_mechanisms`) on the resources the engine shows it.

Links between resources are read from property dependencies first (known at preview), then
from input values (names and ARNs), so a hand-written graph and a synthesized one both work.

JSON shape (``--json``; keys sorted, two-space indent, byte-stable)::

    {"schemaVersion": 1, "stack": str, "strategy": str, "primaryRegion": str,
     "drRegion": str | null, "ok": bool, "failures": [str, ...],
     "stores": [{"kind", "name", "physicalName", "urn", "tier": str | null,
                 "mechanism": {"name", "rpo", "rto", "source"} | null,
                 "alsoFound": [str], "expected": str, "covered": bool, "meetsStrategy": bool,
                 "detail": str}],
     "tiers": [{"tier", "rpo", "rto", "targetRpo", "targetRto", "met": bool, "detail": str}]}

Durations are seconds (``null``: unbounded or not declared). Stores are sorted by kind then
name; tiers in the order databases, objects, service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprint.graph import Resource, ResourceGraph
from components.resilience.objectives import (
    AURORA_GLOBAL,
    AURORA_GLOBAL_HEADLESS,
    AURORA_GLOBAL_WRITE_FORWARDING,
    BACKUP_COPY,
    CACHE_GLOBAL,
    CACHE_REBUILT,
    DR_EXEMPT_TAG,
    DYNAMODB_GLOBAL,
    S3_REPLICATION,
    S3_REPLICATION_RTC,
    SERVICE_RTO,
    TIER_OF,
    Mechanism,
    StoreKind,
    Strategy,
    Tier,
    format_duration,
    mechanism,
)

SCHEMA_VERSION = 1

AURORA = "aws:rds/cluster:Cluster"
AURORA_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
TABLE = "aws:dynamodb/table:Table"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
               "aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2")
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
BACKUP_VAULT = "aws:backup/vault:Vault"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ARC_PLAN = "aws:arcregionswitch/plan:Plan"

#: The input that holds each store's physical name (the graph's ``id`` is the fallback).
_NAME_INPUT = {AURORA: "clusterIdentifier", TABLE: "name", BUCKETS[0]: "bucket", BUCKETS[1]: "bucket",
               CACHE: "replicationGroupId", GLOBAL_CLUSTER: "globalClusterIdentifier",
               BACKUP_VAULT: "name", BACKUP_PLAN: "name",
               "aws:redshiftserverless/namespace:Namespace": "namespaceName"}
_KIND = {AURORA: StoreKind.aurora, TABLE: StoreKind.dynamodb, BUCKETS[0]: StoreKind.s3,
         BUCKETS[1]: StoreKind.s3, CACHE: StoreKind.cache}
#: Stores that hold only derived data: never a DR mechanism of their own, but each must say by
#: its ``dr-exempt`` tag how it comes back (the warehouse: rebuilt from the replicated stores).
_DERIVED = frozenset({"aws:redshiftserverless/namespace:Namespace"})
#: AWS Backup's resource type per store kind, as ``start-restore-job`` metadata names it.
_BACKUP_RESOURCE_TYPE = {StoreKind.aurora: "Aurora", StoreKind.dynamodb: "DynamoDB", StoreKind.s3: "S3"}


# --- Reading the graph ----------------------------------------------------------------------


def physical_name(resource: Resource) -> str:
    value = resource.inputs.get(_NAME_INPUT.get(resource.type, "name"))
    if isinstance(value, str) and value:
        return value
    return resource.id or resource.name


def _deps(resource: Resource, prop: str) -> set[str]:
    return set(resource.property_dependencies.get(prop, ()))


def _refers(value: Any, target: Resource) -> bool:
    """Whether an input value names ``target``: its physical name, or an ARN ending with it."""
    if not isinstance(value, str) or not value:
        return False
    name = physical_name(target)
    return value == name or value == target.id or value.endswith((f":{name}", f"/{name}"))


def _links(resource: Resource, prop: str, target: Resource, value: Any = None) -> bool:
    if target.urn in _deps(resource, prop):
        return True
    return _refers(resource.inputs.get(prop) if value is None else value, target)


def _in(resource: Resource, region: str | None) -> bool:
    return region is not None and resource.region == region


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _tags(resource: Resource) -> Mapping[str, Any]:
    return _map(resource.inputs.get("tags"))


def _is_secondary(resource: Resource) -> bool:
    if resource.type == AURORA:
        # A secondary joins a global cluster and inherits its credentials: no master user.
        return bool(resource.inputs.get("globalClusterIdentifier")) and not resource.inputs.get("masterUsername")
    if resource.type == CACHE:
        return bool(resource.inputs.get("globalReplicationGroupId"))
    return False


def primary_stores(resources: Iterable[Resource], primary_region: str) -> list[Resource]:
    """The stateful stores of the primary region, secondaries of global databases and stores
    exempted by their ``dr-exempt`` tag (see :func:`exempt_stores`) left out."""
    return sorted((r for r in resources if r.type in _KIND and r.region == primary_region and not _is_secondary(r)
                   and DR_EXEMPT_TAG not in _tags(r)), key=lambda r: (_KIND[r.type].value, r.name))


def exempt_stores(resources: Iterable[Resource], primary_region: str) -> list[tuple[str, str]]:
    """(physical name, reason) of the primary's stores that say, by their ``dr-exempt`` tag,
    why they have no DR copy: listed in the report, never silently dropped."""
    return sorted((physical_name(r), str(_tags(r)[DR_EXEMPT_TAG])) for r in resources
                  if (r.type in _KIND or r.type in _DERIVED) and r.region == primary_region
                  and DR_EXEMPT_TAG in _tags(r))


@dataclass(frozen=True)
class Found:
    mechanism: Mechanism
    detail: str
    """What in the graph gives it (names), for the report and the runbook."""
    secondary: str | None = None
    """The DR-side resource to promote or read: secondary cluster, replica bucket, vault..."""
    group: str | None = None
    """The global cluster or global datastore id, for the failover commands."""


def found_mechanisms(resources: Iterable[Resource], store: Resource, dr_region: str | None) -> list[Found]:
    """Every DR mechanism the graph gives ``store`` towards ``dr_region``, best first."""
    everything = list(resources)
    kind = _KIND[store.type]
    found: list[Found] = []
    if dr_region is not None:
        if kind is StoreKind.aurora:
            found += _aurora(everything, store, dr_region)
        elif kind is StoreKind.dynamodb:
            found += _dynamodb(everything, store, dr_region)
        elif kind is StoreKind.s3:
            found += _s3(everything, store, dr_region)
        else:
            found += _cache(everything, store, dr_region)
        if kind in _BACKUP_RESOURCE_TYPE:
            found += _backup(everything, store, dr_region)
    return sorted(found, key=lambda f: (f.mechanism.rpo is None, f.mechanism.rpo or 0, f.mechanism.rto))


def _aurora(resources: list[Resource], store: Resource, dr_region: str) -> list[Found]:
    found: list[Found] = []
    for group in (r for r in resources if r.type == GLOBAL_CLUSTER):
        if not (_links(group, "sourceDbClusterIdentifier", store) or _links(store, "globalClusterIdentifier", group)):
            continue
        for secondary in (r for r in resources if r.type == AURORA and r is not store and _in(r, dr_region)):
            if not _links(secondary, "globalClusterIdentifier", group):
                continue
            readers = [i for i in resources if i.type == AURORA_INSTANCE and _links(i, "clusterIdentifier", secondary)]
            if not readers:
                chosen = AURORA_GLOBAL_HEADLESS
            elif secondary.inputs.get("enableGlobalWriteForwarding") is True:
                chosen = AURORA_GLOBAL_WRITE_FORWARDING
            else:
                chosen = AURORA_GLOBAL
            found.append(Found(chosen, f"global cluster {physical_name(group)}, secondary {physical_name(secondary)} "
                                       f"in {dr_region} with {len(readers)} instance(s)",
                               secondary=physical_name(secondary), group=physical_name(group)))
    return found


def _dynamodb(resources: list[Resource], store: Resource, dr_region: str) -> list[Found]:
    found: list[Found] = []
    replicas = [(_map(r), "inline replica") for r in _list(store.inputs.get("replicas"))
                if _map(r).get("regionName") == dr_region]
    replicas += [({"kmsKeyArn": r.inputs.get("kmsKeyArn"), "pointInTimeRecovery": r.inputs.get("pointInTimeRecovery")},
                  f"TableReplica {r.name}") for r in resources
                 if r.type == TABLE_REPLICA and _in(r, dr_region) and _links(r, "globalTableArn", store)]
    for replica, how in replicas:
        missing = [text for key, text in (("kmsKeyArn", "our replica key"), ("pointInTimeRecovery", "point-in-time "
                   "recovery")) if not replica.get(key)]
        if missing:
            # Without them the replica is not the mechanism the objectives count on.
            continue
        found.append(Found(DYNAMODB_GLOBAL, f"{how} in {dr_region}, key {replica['kmsKeyArn']}",
                           secondary=f"{physical_name(store)} ({dr_region})"))
    return found


def _s3(resources: list[Resource], store: Resource, dr_region: str) -> list[Found]:
    found: list[Found] = []
    replicas = [r for r in resources if r.type in BUCKETS and _in(r, dr_region)]
    for config in (r for r in resources if r.type in REPLICATION and _links(r, "bucket", store)):
        for rule in _list(config.inputs.get("rules")):
            rule = _map(rule)
            if rule.get("status") != "Enabled":
                continue
            destination = _map(rule.get("destination"))
            target = [b for b in replicas if _refers(destination.get("bucket"), b)]
            if not target:
                linked = _deps(config, "rules")
                target = [b for b in replicas if b.urn in linked]
            if not target:
                continue
            rtc = (_map(destination.get("replicationTime")).get("status") == "Enabled"
                   and _map(destination.get("metrics")).get("status") == "Enabled")
            found.append(Found(S3_REPLICATION_RTC if rtc else S3_REPLICATION,
                               f"replication rule {rule.get('id', '?')} to {physical_name(target[0])} in {dr_region}"
                               f"{' with RTC and metrics' if rtc else ', no RTC'}",
                               secondary=physical_name(target[0])))
    return found


def _cache(resources: list[Resource], store: Resource, dr_region: str) -> list[Found]:
    found: list[Found] = []
    for group in (r for r in resources if r.type == CACHE_GLOBAL_GROUP):
        if not _links(group, "primaryReplicationGroupId", store):
            continue
        for secondary in (r for r in resources if r.type == CACHE and _in(r, dr_region)):
            if _deps(secondary, "globalReplicationGroupId") & {group.urn} or _refers(
                    secondary.inputs.get("globalReplicationGroupId"), group) or (
                    str(secondary.inputs.get("globalReplicationGroupId", "")).endswith(
                        str(group.inputs.get("globalReplicationGroupIdSuffix", "\0")))):
                group_id = _global_datastore_id(group, secondary)
                found.append(Found(CACHE_GLOBAL, f"global datastore {group_id}, secondary "
                                                 f"{physical_name(secondary)} in {dr_region}",
                                   secondary=physical_name(secondary), group=group_id))
    return found


def _global_datastore_id(group: Resource, secondary: Resource) -> str:
    # AWS prefixes the suffix we choose with a per-account string, known once deployed.
    joined = secondary.inputs.get("globalReplicationGroupId")
    if isinstance(joined, str) and joined:
        return joined
    suffix = group.inputs.get("globalReplicationGroupIdSuffix")
    return f"<AWS prefix>-{suffix}" if isinstance(suffix, str) and suffix else group.id or group.name


def _selection_matches(selection: Resource, store: Resource) -> bool:
    listed = _list(selection.inputs.get("resources"))
    if "*" in listed or store.urn in _deps(selection, "resources") or any(_refers(v, store) for v in listed):
        return True
    conditions = [_map(t) for t in _list(selection.inputs.get("selectionTags"))]
    tags = _tags(store)
    return bool(conditions) and all(str(c.get("type", "")).upper() == "STRINGEQUALS"
                                    and tags.get(str(c.get("key"))) == c.get("value") for c in conditions)


def _dr_vaults(resources: list[Resource], plan: Resource, dr_region: str) -> list[str]:
    vaults = [v for v in resources if v.type == BACKUP_VAULT and _in(v, dr_region)]
    linked = _deps(plan, "rules")
    names: list[str] = []
    for rule in _list(plan.inputs.get("rules")):
        for copy in _list(_map(rule).get("copyActions")):
            arn = _map(copy).get("destinationVaultArn")
            hit = [v for v in vaults if _refers(arn, v)] or [v for v in vaults if v.urn in linked]
            if hit:
                names.append(physical_name(hit[0]))
            elif isinstance(arn, str) and f":{dr_region}:" in arn:
                names.append(arn.rsplit(":", 1)[-1])
    return sorted(set(names))


def _backup(resources: list[Resource], store: Resource, dr_region: str) -> list[Found]:
    found: list[Found] = []
    for selection in (r for r in resources if r.type == BACKUP_SELECTION and _selection_matches(r, store)):
        for plan in (p for p in resources if p.type == BACKUP_PLAN and _links(selection, "planId", p)):
            vaults = _dr_vaults(resources, plan, dr_region)
            if vaults:
                found.append(Found(BACKUP_COPY, f"backup plan {physical_name(plan)} (selection {selection.name}) "
                                                f"copies to vault {', '.join(vaults)} in {dr_region}",
                                   secondary=vaults[0], group=physical_name(plan)))
    return found


def at_least(found: Mechanism, expected: Mechanism) -> bool:
    """Whether ``found`` gives what the strategy's ``expected`` mechanism promises."""
    if expected is AURORA_GLOBAL_WRITE_FORWARDING and found is not AURORA_GLOBAL_WRITE_FORWARDING:
        return False
    rpo_ok = expected.rpo is None or (found.rpo is not None and found.rpo <= expected.rpo)
    return rpo_ok and found.rto <= expected.rto


def failover_routing(resources: Iterable[Resource]) -> tuple[list[Resource], list[Resource]]:
    """Route 53 records that fail over on a health check, and distributions with origin groups."""
    everything = list(resources)
    records = [r for r in everything if r.type == RECORD and r.inputs.get("healthCheckId")
               and (r.inputs.get("failoverRoutingPolicies") or r.inputs.get("latencyRoutingPolicies"))]
    distributions = [d for d in everything if d.type == DISTRIBUTION and _list(d.inputs.get("originGroups"))]
    return records, distributions


# --- The report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreRow:
    store: Resource
    kind: StoreKind
    found: tuple[Found, ...]
    expected: Mechanism

    @property
    def best(self) -> Found | None:
        return self.found[0] if self.found else None

    @property
    def mechanism(self) -> Mechanism | None:
        return self.best.mechanism if self.best else None

    @property
    def meets_strategy(self) -> bool:
        return self.mechanism is not None and at_least(self.mechanism, self.expected)


@dataclass(frozen=True)
class TierRow:
    tier: Tier
    rpo: int | None
    rto: int | None
    target_rpo: int | None
    target_rto: int | None
    detail: str

    @property
    def met(self) -> bool:
        return all(target is None or (achieved is not None and achieved <= target)
                   for achieved, target in ((self.rpo, self.target_rpo), (self.rto, self.target_rto)))


@dataclass(frozen=True)
class DrReport:
    stack: str
    strategy: Strategy
    primary_region: str
    dr_region: str | None
    stores: tuple[StoreRow, ...]
    tiers: tuple[TierRow, ...]
    failures: tuple[str, ...] = field(default=())
    exempt: tuple[tuple[str, str], ...] = field(default=())
    """(store, reason) for each store whose ``dr-exempt`` tag says why it has no DR copy."""

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        def mech(m: Mechanism | None) -> dict[str, Any] | None:
            return None if m is None else {"name": m.name, "rpo": m.rpo, "rto": m.rto, "source": m.source}

        return {
            "schemaVersion": SCHEMA_VERSION, "stack": self.stack, "strategy": self.strategy.value,
            "primaryRegion": self.primary_region, "drRegion": self.dr_region, "ok": self.ok,
            "failures": sorted(self.failures),
            "exempt": [{"name": name, "reason": reason} for name, reason in self.exempt],
            "stores": [{
                "kind": row.kind.value, "name": row.store.name, "physicalName": physical_name(row.store),
                "urn": row.store.urn, "tier": _tier_name(row.kind),
                "mechanism": mech(row.mechanism), "alsoFound": [f.mechanism.name for f in row.found[1:]],
                "expected": row.expected.name, "covered": row.mechanism is not None,
                "meetsStrategy": row.meets_strategy, "detail": _store_detail(self.strategy, row),
            } for row in self.stores],
            "tiers": [{"tier": t.tier.value, "rpo": t.rpo, "rto": t.rto, "targetRpo": t.target_rpo,
                       "targetRto": t.target_rto, "met": t.met, "detail": t.detail} for t in self.tiers],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def _tier_name(kind: StoreKind) -> str | None:
    tier = TIER_OF[kind]
    return None if tier is None else tier.value


def _store_detail(strategy: Strategy, row: StoreRow) -> str:
    if row.best is not None:
        return row.best.detail
    if strategy is Strategy.none:
        return "not covered: strategy none"
    return "not covered: no DR mechanism in the graph"


def dr_report(graph: ResourceGraph, strategy: Strategy, dr_region: str | None,
              targets: Mapping[Tier, tuple[int | None, int | None]] | None = None,
              *, replication_time_control: bool = True) -> DrReport:
    """The report for ``graph`` under ``strategy``; ``targets`` maps a tier to its declared
    (RPO, RTO) in seconds (None: not declared)."""
    targets = targets or {}
    rows: list[StoreRow] = []
    for store in primary_stores(graph, graph.region):
        kind = _KIND[store.type]
        expected = mechanism(strategy, kind, replication_time_control=replication_time_control)
        found = found_mechanisms(graph, store, dr_region)
        if not found and expected is CACHE_REBUILT:
            # Nothing to copy: the services refill the cache in the DR region.
            found = [Found(CACHE_REBUILT, "rebuilt empty in the DR region")]
        rows.append(StoreRow(store, kind, tuple(found), expected))

    failures: list[str] = []
    if strategy is not Strategy.none:
        for row in rows:
            if row.mechanism is None:
                failures.append(f"{row.kind.value} {physical_name(row.store)}: no DR mechanism towards {dr_region} "
                                f"in the graph ({strategy.value} needs: {row.expected.name})")
            elif not row.meets_strategy:
                failures.append(f"{row.kind.value} {physical_name(row.store)}: has {row.mechanism.name}, "
                                f"weaker than {strategy.value} needs ({row.expected.name})")

    tiers: list[TierRow] = []
    for tier in Tier:
        target_rpo, target_rto = targets.get(tier, (None, None))
        if tier is Tier.service:
            rto, detail = _service_rto(graph, strategy)
            rpo = None
        else:
            members = [row for row in rows if TIER_OF[row.kind] is tier]
            mechanisms = [row.mechanism for row in members]
            if not members:
                rpo, rto, detail = 0, 0, "no store of this tier"
            elif any(m is None for m in mechanisms):
                rpo, rto, detail = None, None, "a store of this tier is not covered"
            else:
                rpos = [m.rpo for m in mechanisms if m is not None]
                rpo = None if any(v is None for v in rpos) else max(v for v in rpos if v is not None)
                rto = max(m.rto for m in mechanisms if m is not None)
                detail = "the slowest store of the tier"
        row = TierRow(tier, rpo, rto, target_rpo, target_rto, detail)
        tiers.append(row)
        for objective, achieved, target in (("RPO", row.rpo, target_rpo), ("RTO", row.rto, target_rto)):
            if target is not None and (achieved is None or achieved > target):
                failures.append(f"{tier.value} {objective} target {format_duration(target)} not met: the graph "
                                f"gives {format_duration(achieved)}")
    return DrReport(graph.stack, strategy, graph.region, dr_region, tuple(rows), tuple(tiers),
                    tuple(sorted(failures)), tuple(exempt_stores(graph, graph.region)))


def _service_rto(graph: ResourceGraph, strategy: Strategy) -> tuple[int | None, str]:
    rto, how = SERVICE_RTO[strategy]
    if strategy not in (Strategy.warm_standby, Strategy.active_active):
        return rto, how
    records, distributions = failover_routing(graph)
    if records or distributions:
        return rto, how
    # No automatic failover in the graph: traffic moves by hand, as with a pilot light.
    manual, _ = SERVICE_RTO[Strategy.pilot_light]
    return manual, ("no health-checked failover record and no CloudFront origin group in the graph: traffic "
                    "moves by hand")


def render_report(report: DrReport) -> list[str]:
    lines = [f"stack {report.stack}: strategy {report.strategy.value}, primary {report.primary_region}, "
             f"DR region {report.dr_region or '-'}", ""]
    header = ("store", "kind", "mechanism (found in the graph)", "RPO", "RTO", "status")
    table: list[tuple[str, ...]] = [header]
    for row in report.stores:
        m = row.mechanism
        status = ("ok" if row.meets_strategy else "WEAKER") if m is not None else (
            "not covered" if report.strategy is Strategy.none else "FAIL")
        table.append((physical_name(row.store), row.kind.value, _store_detail(report.strategy, row)
                      if m is None else m.name, format_duration(m.rpo) if m else "-",
                      format_duration(m.rto) if m else "-", status))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines += ["", "tier       RPO        RTO        target RPO  target RTO  status"]
    for tier in report.tiers:
        lines.append(f"{tier.tier.value:<10} {_fmt(tier.rpo, tier.tier):<10} {_fmt(tier.rto, None):<10} "
                     f"{_target(tier.target_rpo):<11} {_target(tier.target_rto):<11} {'ok' if tier.met else 'FAIL'}")
    lines.append("")
    for name, reason in report.exempt:
        lines.append(f"exempt: {name} ({reason})")
    if report.failures:
        lines.append(f"{len(report.failures)} failure(s):")
        lines += [f"  - {failure}" for failure in report.failures]
    else:
        lines.append("strategy none: no store has a copy outside the primary region, and no target is declared"
                     if report.strategy is Strategy.none else "every store covered and every declared target met")
    return lines


def _fmt(value: int | None, tier: Tier | None) -> str:
    return "-" if tier is Tier.service else format_duration(value)


def _target(value: int | None) -> str:
    return "-" if value is None else format_duration(value)


# --- The runbook ----------------------------------------------------------------------------


def render_runbook(report: DrReport, graph: ResourceGraph) -> str:
    """A Markdown failover runbook for the graph: what to promote, what flips, how to verify."""
    dr, primary, stack = report.dr_region or "<no DR region>", report.primary_region, report.stack
    out = [f"# Failover runbook: stack {stack}, {primary} to {dr}", "",
           f"Strategy **{report.strategy.value}**. Generated by `python -m blueprint dr {stack} --runbook` from the "
           "synthesized graph: the names below are the ones the program creates.", "",
           "## Preconditions", "",
           f"1. The outage is confirmed in {primary} (AWS Health Dashboard, the health checks below), and the "
           "incident lead has decided to fail over.",
           "2. Credentials for both regions; every command below names its `--region`.",
           f"3. `python -m blueprint dr {stack}` reports every store covered (exit 0) in the last deployed commit."]
    if report.strategy is Strategy.none:
        out += ["", "The stack has no DR strategy: there is nothing to fail over to. Restore in place from "
                "the primary region's own backups."]
        return "\n".join(out) + "\n"

    steps: list[str] = []
    rows = report.stores
    if report.strategy is Strategy.backup_restore:
        for row in rows:
            best = row.best
            if best is None or best.mechanism is not BACKUP_COPY:
                continue
            name, rtype = physical_name(row.store), _BACKUP_RESOURCE_TYPE[row.kind]
            steps.append(
                f"Restore {row.kind.value} `{name}` from vault `{best.secondary}` ({dr}): find the latest copy with "
                f"`aws backup list-recovery-points-by-backup-vault --region {dr} --backup-vault-name {best.secondary} "
                f"--by-resource-type {rtype}` (resource `{name}`), then `aws backup start-restore-job --region {dr} "
                f"--recovery-point-arn <that ARN> --iam-role-arn <the DR backup role> --resource-type {rtype} "
                f"--metadata '{_restore_metadata(row.kind, name, row.store)}'`; wait with "
                "`aws backup describe-restore-job`.")
        steps.append(f"Build the DR slice around the restored stores: set `retail:dr.strategy` to `warm-standby` in "
                     f"stacks/Pulumi.{stack}.yaml, `pulumi import` each restored store into the DR slice, then "
                     f"`pulumi up --stack {stack}`.")
    for row in rows:
        best = row.best
        if best is None:
            continue
        name = physical_name(row.store)
        if best.mechanism in (AURORA_GLOBAL, AURORA_GLOBAL_WRITE_FORWARDING, AURORA_GLOBAL_HEADLESS):
            if best.mechanism is AURORA_GLOBAL_HEADLESS:
                steps.append(f"Add a DB instance to secondary cluster `{best.secondary}` ({dr}): raise the DR "
                             f"slice's strategy and `pulumi up --stack {stack}`, or `aws rds create-db-instance "
                             f"--region {dr} --db-cluster-identifier {best.secondary} ...`; wait until available.")
            steps.append(
                f"Promote Aurora: planned, `aws rds switchover-global-cluster --region {dr} "
                f"--global-cluster-identifier {best.group} --target-db-cluster-identifier <ARN of {best.secondary}>`; "
                f"region down, `aws rds "
                f"failover-global-cluster --region {dr} --global-cluster-identifier {best.group} "
                f"--target-db-cluster-identifier <ARN of {best.secondary}> --allow-data-loss`.")
        elif best.mechanism is CACHE_GLOBAL:
            steps.append(f"Promote the cache: `aws elasticache failover-global-replication-group --region {dr} "
                         f"--global-replication-group-id {best.group} --primary-region {dr} "
                         f"--primary-replication-group-id {best.secondary}`.")
        elif best.mechanism is DYNAMODB_GLOBAL:
            steps.append(f"DynamoDB `{name}`: nothing to promote, the {dr} replica takes writes already.")
        elif best.mechanism in (S3_REPLICATION_RTC, S3_REPLICATION):
            steps.append(f"S3 `{name}`: nothing to promote; the services in {dr} read `{best.secondary}`.")
    records, distributions = failover_routing(graph)
    arc = graph.of_type(ARC_PLAN)
    for plan in arc:
        plan_name = physical_name(plan)
        steps.append(f"Run the ARC Region switch plan `{plan_name}`: `aws arc-region-switch start-plan-execution "
                     f"--plan-arn <ARN of {plan_name}> --target-region {dr} --action activate`.")
    for record in records:
        steps.append(f"Route 53 record `{record.inputs.get('name', record.name)}` "
                     f"({record.inputs.get('setIdentifier', record.name)}) flips on its health check "
                     f"`{record.inputs.get('healthCheckId')}`; to force it, invert or disable that check "
                     f"(`aws route53 update-health-check --health-check-id <id> --inverted`).")
    for distribution in distributions:
        groups = ", ".join(str(_map(g).get("originId")) for g in _list(distribution.inputs.get("originGroups")))
        steps.append(f"CloudFront `{distribution.id or distribution.name}` fails over by itself through origin "
                     f"group(s) {groups}.")
    if not (records or distributions or arc):
        steps.append(f"Move traffic by hand: point the shop's DNS record at the {dr} load balancer.")
    out += ["", "## Failover, in order", ""]
    out += [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    out += ["", "## Verify", "",
            f"1. `python -m blueprint dr {stack}` against the stack, and `aws route53 get-health-check-status` for "
            "each health check: the primary unhealthy, the DR side healthy.",
            f"2. The shop answers from {dr}: the ALB's target groups healthy, orders written in {dr}."]
    if any(row.best and row.best.mechanism is BACKUP_COPY for row in rows):
        out.append("3. The restored stores hold data up to the recovery point chosen (the RPO).")
    return "\n".join(out) + "\n"


def _restore_metadata(kind: StoreKind, name: str, store: Resource) -> str:
    if kind is StoreKind.aurora:
        return json.dumps({"DBClusterIdentifier": name, "Engine": str(store.inputs.get("engine", "aurora-postgresql"))})
    if kind is StoreKind.dynamodb:
        return json.dumps({"targetTableName": name})
    return json.dumps({"DestinationBucketName": name, "NewBucket": "true"})
