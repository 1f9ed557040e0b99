"""The signals a stack has, as data: what each alarm watches and what the dashboard draws.

One list, :func:`signals`, built from what exists on the stack (:class:`SignalSources`) and the
thresholds of ``retail:alarms``. :class:`~components.observability.alarms.Alarms` makes one
alarm of each and the dashboard one widget of each, so a signal cannot be alarmed on and
missing from the dashboard (or the reverse), and an absent store (no streams, no DR) has
neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from components.observability.settings import AlarmsConfig

#: CloudFront publishes its metrics, and the CLOUDFRONT-scope web ACL its WAF metrics, only in
#: us-east-1: an alarm on them must live there, and so must the topic it publishes to.
GLOBAL_METRICS_REGION = "us-east-1"

TreatMissing = Literal["breaching", "notBreaching", "ignore", "missing"]
Comparison = Literal["GreaterThanOrEqualToThreshold", "GreaterThanThreshold"]


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str
    """Sum, Average, Maximum, or a percentile (p99)."""


@dataclass(frozen=True)
class Signal:
    """One alarm and one dashboard widget."""

    key: str
    """Unique in the stack; the alarm is named ``retail-<stack>-<key>``."""
    title: str
    metrics: Mapping[str, Metric]
    """Query id -> metric; the one returned is ``expression`` if given, else the only metric."""
    threshold: float
    treat_missing_data: TreatMissing
    why_missing: str
    """Why ``treat_missing_data`` is what it is: in the alarm description, for the on-call person."""
    region: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    expression: str | None = None
    comparison: Comparison = "GreaterThanThreshold"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.expression is None and len(self.metrics) != 1:
            raise ValueError(f"signal {self.key!r}: several metrics need an expression that combines them")


@dataclass(frozen=True)
class LoadBalancerSource:
    arn_suffix: pulumi.Input[str]
    """``app/<name>/<id>``: the ``LoadBalancer`` dimension (``aws.lb.LoadBalancer.arn_suffix``)."""
    target_groups: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Name -> ``targetgroup/<name>/<id>`` (``aws.lb.TargetGroup.arn_suffix``): p99 per target group."""


@dataclass(frozen=True)
class WebAclSource:
    name: pulumi.Input[str]
    """The web ACL's name (the ``WebACL`` dimension)."""
    region: str
    """Where the ACL is: its metrics are there (us-east-1 for a CLOUDFRONT-scope ACL)."""
    cloudfront: bool = False
    """A CLOUDFRONT-scope ACL: its metrics carry no ``Region`` dimension."""


@dataclass(frozen=True)
class AuroraSource:
    cluster_identifier: pulumi.Input[str]
    max_acu: float | None
    """The cluster's ``serverlessv2_scaling_configuration.max_capacity``; None for provisioned
    instances (no ACUs: no capacity alarm)."""
    global_secondary: bool = False
    """This cluster is a secondary of an Aurora global database: alarm on its replication lag."""


@dataclass(frozen=True)
class ReplicatedBucket:
    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str
    """The replication rule whose metrics (replication metrics or RTC) are enabled."""


@dataclass(frozen=True)
class SignalSources:
    """What exists on this stack (in this region). Everything is optional: a signal is alarmed
    on only when its source is given."""

    load_balancer: LoadBalancerSource | None = None
    cloudfront_distribution_id: pulumi.Input[str] | None = None
    web_acls: Sequence[WebAclSource] = ()
    aurora: AuroraSource | None = None
    dynamodb_tables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """retail:nosql name -> physical table name."""
    dynamodb_replica_regions: Sequence[str] = ()
    """Global tables: the regions replicas receive in (``ReplicationLatency`` per receiving region)."""
    cache_replication_group_id: pulumi.Input[str] | None = None
    eks_cluster_name: pulumi.Input[str] | None = None
    """With Container Insights on the cluster (the ``amazon-cloudwatch-observability`` add-on)."""
    kinesis_streams: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """retail:streams name -> physical stream name."""
    backup_vaults: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Purpose -> vault name."""
    replicated_buckets: Mapping[str, ReplicatedBucket] = field(default_factory=dict)
    """Purpose -> its replication (cross-region DR copies)."""


def signals(sources: SignalSources, config: AlarmsConfig, region: str) -> list[Signal]:
    """Every signal present in ``sources``, in ``region`` unless its metrics live elsewhere."""
    period, n, m = config.period_seconds, config.evaluation_periods, config.datapoints_to_alarm
    out: list[Signal] = []

    def add(key: str, title: str, metrics: Mapping[str, Metric], threshold: float, treat: TreatMissing, why: str,
            *, expression: str | None = None, at: str = region, unit: str = "", comparison: Comparison =
            "GreaterThanThreshold", period_s: int | None = None, n_: int | None = None, m_: int | None = None) -> None:
        out.append(Signal(key=key, title=title, metrics=metrics, threshold=threshold, treat_missing_data=treat,
                          why_missing=why, region=at, period=period_s or period, evaluation_periods=n_ or n,
                          datapoints_to_alarm=m_ or m, expression=expression, comparison=comparison, unit=unit))

    no_traffic = "no requests means no errors to count: silence at night is not an incident"
    lb = sources.load_balancer
    if lb is not None:
        alb = {"LoadBalancer": lb.arn_suffix}
        add("alb-5xx-rate", "ALB 5xx, % of requests", {
            "elb5xx": Metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, "Sum"),
            "target5xx": Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum"),
            "requests": Metric("AWS/ApplicationELB", "RequestCount", alb, "Sum"),
        }, config.alb_error_percent, "notBreaching", no_traffic,
            # FILL: a minute with requests but no 5xx has no 5xx datapoint; it counts as 0.
            expression="100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests", unit="%")
        for name, suffix in (lb.target_groups or {"all": None}).items():
            dims = alb if suffix is None else {**alb, "TargetGroup": suffix}
            add(f"alb-p99-latency-{name}", f"ALB p99 target response time ({name})", {
                "p99": Metric("AWS/ApplicationELB", "TargetResponseTime", dims, "p99")},
                config.alb_p99_latency_seconds, "notBreaching", no_traffic, unit="s")
    if sources.cloudfront_distribution_id is not None:
        add("cloudfront-5xx-rate", "CloudFront 5xx error rate", {
            "rate": Metric("AWS/CloudFront", "5xxErrorRate",
                           {"DistributionId": sources.cloudfront_distribution_id, "Region": "Global"}, "Average")},
            config.cloudfront_error_percent, "notBreaching", no_traffic, at=GLOBAL_METRICS_REGION, unit="%")
    for index, acl in enumerate(sources.web_acls):
        dims: dict[str, pulumi.Input[str]] = {"WebACL": acl.name, "Rule": "ALL"}
        if not acl.cloudfront:
            dims["Region"] = acl.region
        label = "cdn" if acl.cloudfront else f"regional-{index}" if index else "regional"
        add(f"waf-blocked-spike-{label}", f"WAF blocked requests per 5 minutes ({label})", {
            "blocked": Metric("AWS/WAFV2", "BlockedRequests", dims, "Sum")},
            config.waf_blocked_per_five_minutes, "notBreaching", "WAF publishes BlockedRequests only when it blocks",
            at=acl.region, period_s=300, n_=1, m_=1)
    aurora = sources.aurora
    if aurora is not None:
        cluster = {"DBClusterIdentifier": aurora.cluster_identifier}
        add("aurora-cpu", "Aurora CPU", {"cpu": Metric("AWS/RDS", "CPUUtilization", cluster, "Maximum")},
            config.aurora_cpu_percent, "breaching",
            "a running cluster always reports CPU: silence means it is down or unreachable", unit="%")
        if aurora.max_acu is not None:
            add("aurora-acu-at-max", "Aurora Serverless v2 capacity pinned at max ACU", {
                "acu": Metric("AWS/RDS", "ServerlessDatabaseCapacity", cluster, "Maximum")},
                aurora.max_acu, "missing", "a gap says nothing about capacity: keep the last state",
                comparison="GreaterThanOrEqualToThreshold", n_=config.aurora_acu_at_max_periods,
                m_=config.aurora_acu_at_max_periods, unit="ACU")
        add("aurora-replica-lag", "Aurora reader replica lag", {
            "lag": Metric("AWS/RDS", "AuroraReplicaLagMaximum", cluster, "Maximum")},
            config.aurora_replica_lag_ms, "notBreaching", "a cluster without readers has no replica lag to report",
            unit="ms")
        if aurora.global_secondary:
            add("aurora-global-lag", "Aurora global database replication lag", {
                "lag": Metric("AWS/RDS", "AuroraGlobalDBReplicationLag", cluster, "Maximum")},
                config.aurora_global_lag_ms, "breaching",
                "the secondary always reports its lag: silence means replication has stopped (the RPO is at risk)",
                unit="ms")
    for name, table in sources.dynamodb_tables.items():
        add(f"dynamodb-throttled-{name}", f"DynamoDB throttled requests ({name})", {
            "throttled": Metric("AWS/DynamoDB", "ThrottledRequests", {"TableName": table}, "Sum")},
            config.dynamodb_throttled_requests, "notBreaching", "DynamoDB publishes throttles only when they happen",
            comparison="GreaterThanOrEqualToThreshold")
        for receiving in sources.dynamodb_replica_regions:
            add(f"dynamodb-replication-{name}-{receiving}", f"DynamoDB replication latency ({name} -> {receiving})", {
                "latency": Metric("AWS/DynamoDB", "ReplicationLatency",
                                  {"TableName": table, "ReceivingRegion": receiving}, "Maximum")},
                config.dynamodb_replication_latency_ms, "notBreaching",
                "latency is published only for replicated writes: a quiet table has none", unit="ms")
    if sources.cache_replication_group_id is not None:
        group = {"ReplicationGroupId": sources.cache_replication_group_id}
        add("cache-evictions", "Cache evictions", {
            "evictions": Metric("AWS/ElastiCache", "Evictions", group, "Sum")},
            config.cache_evictions, "missing", "the cache always reports evictions (0): a gap keeps the last state")
        add("cache-cpu", "Cache engine CPU", {
            "cpu": Metric("AWS/ElastiCache", "EngineCPUUtilization", group, "Maximum")},
            config.cache_cpu_percent, "breaching", "a running cache always reports CPU: silence means it is down",
            unit="%")
    if sources.eks_cluster_name is not None:
        # Container Insights, not Karpenter's own metrics: Karpenter exports Prometheus only, and
        # getting its pending-pods gauge into CloudWatch needs a Prometheus scrape job of its
        # own. Nodes running hot is the symptom of the same pressure, and Container Insights has it.
        eks = {"ClusterName": sources.eks_cluster_name}
        why = "Container Insights reports every minute: silence means the agent (or the cluster) is down"
        add("eks-node-cpu", "EKS node CPU (cluster average)", {
            "cpu": Metric("ContainerInsights", "node_cpu_utilization", eks, "Average")},
            config.node_cpu_percent, "breaching", why, unit="%")
        add("eks-node-memory", "EKS node memory (cluster average)", {
            "memory": Metric("ContainerInsights", "node_memory_utilization", eks, "Average")},
            config.node_memory_percent, "breaching", why, unit="%")
        add("eks-failed-nodes", "EKS failed nodes", {
            "failed": Metric("ContainerInsights", "cluster_failed_node_count", eks, "Maximum")},
            0, "breaching", why)
    for name, stream in sources.kinesis_streams.items():
        add(f"kinesis-iterator-age-{name}", f"Kinesis consumer lag ({name})", {
            "age": Metric("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", {"StreamName": stream}, "Maximum")},
            config.kinesis_iterator_age_ms, "notBreaching", "published only while consumers read", unit="ms")
    for name, vault in sources.backup_vaults.items():
        # Any failed job pages: one hour, one datapoint (jobs run daily; M of N would hide one).
        add(f"backup-failed-{name}", f"Failed backup jobs ({name})", {
            "failed": Metric("AWS/Backup", "NumberOfBackupJobsFailed", {"BackupVaultName": vault}, "Sum")},
            config.failed_backup_jobs, "notBreaching", "published only when jobs run",
            comparison="GreaterThanOrEqualToThreshold", period_s=3600, n_=1, m_=1)
    for name, replication in sources.replicated_buckets.items():
        add(f"s3-replication-latency-{name}", f"S3 replication latency ({name})", {
            "latency": Metric("AWS/S3", "ReplicationLatency",
                              {"SourceBucket": replication.source_bucket,
                               "DestinationBucket": replication.destination_bucket,
                               "RuleId": replication.rule_id}, "Maximum")},
            config.s3_replication_latency_seconds, "notBreaching", "published only while objects replicate",
            unit="s")
    keys = [s.key for s in out]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"signals named twice: {', '.join(duplicates)}")
    return out


def widget(signal: Signal, x: int, y: int) -> dict[str, Any]:
    """The dashboard widget of ``signal``: its metrics (the expression's inputs hidden) and the
    alarm's threshold as a line, in the region its metrics are in."""
    rows: list[list[Any]] = []
    for query_id, metric in signal.metrics.items():
        dims = [part for pair in metric.dimensions.items() for part in pair]
        rows.append([metric.namespace, metric.name, *dims,
                     {"id": query_id, "stat": metric.stat, "visible": signal.expression is None}])
    if signal.expression is not None:
        rows.append([{"expression": signal.expression, "id": "e1", "label": signal.title}])
    return {
        "type": "metric", "x": x, "y": y, "width": 12, "height": 6,
        "properties": {
            "title": signal.title, "region": signal.region, "period": signal.period, "view": "timeSeries",
            "metrics": rows,
            "annotations": {"horizontal": [{"label": "alarm", "value": signal.threshold}]},
        },
    }


def dashboard_body(all_signals: Sequence[Signal]) -> dict[str, Any]:
    """Two widgets a row, in the order of :func:`signals` (edge, data, compute, streams, DR)."""
    return {"widgets": [widget(s, 12 * (i % 2), 6 * (i // 2)) for i, s in enumerate(all_signals)]}
