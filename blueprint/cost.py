"""``blueprint cost``: what a stack costs a month, read from its resource graph, and what each
planned peak event adds.

Sizes come from the graph wherever it states them (instance types and counts, node groups'
desired size, NAT gateways, Aurora minimum ACUs x instances, cache node type x nodes, keys,
load balancers, web ACLs and their rules, log retention); what depends on traffic comes from
the stated assumptions in ``ASSUMPTIONS``, printed with every estimate. Prices come from the
dated table in ``blueprint/prices.py``: no network, the same figures for the same graph.

It is an estimate of on-demand list prices, not an invoice: no free tier, no Savings Plans or
reserved capacity, no tax, no data transfer beyond the lines named. Its use is to compare: the
baseline against a peak, one graph against another (``--compare``).
"""

from __future__ import annotations

import json
import math
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blueprint.graph import DR_SLICE_NAME, DR_SLICE_TYPE, Resource, ResourceGraph
from blueprint.prices import CURRENCY, HOURS_PER_MONTH, INSTANCE_SIZES, PRICES, PRICES_DATE, price
from components.peaks.plan import EventPlan

GLOBAL = "global"
#: ElastiCache for Valkey node-based clusters are priced 20% below Redis OSS
#: (https://aws.amazon.com/elasticache/pricing/).
VALKEY_FACTOR = 0.8


@dataclass(frozen=True)
class Assumption:
    value: float
    unit: str
    why: str


#: What the graph cannot say: traffic and data volumes. Deliberately round numbers for a
#: mid-size shop; override them (``estimate(..., assumptions=...)``) with the account's own.
ASSUMPTIONS: dict[str, Assumption] = {
    "natGbPerGateway": Assumption(100, "GB/month per NAT gateway",
                                  "image pulls and partner calls go out through NAT; AWS APIs use endpoints"),
    "nodeRootVolumeGb": Assumption(20, "GB gp3 per node", "the EKS-optimised AMI's default root volume"),
    "nodeOverhead": Assumption(0.15, "fraction of a node's vCPUs",
                               "kube-reserved, DaemonSets and bin-packing slack on Karpenter's nodes"),
    "auroraStorageGb": Assumption(100, "GB per Aurora cluster", "orders and payments ledger, each region's copy"),
    "auroraIoMillion": Assumption(50, "million I/Os/month per cluster", "Aurora Standard bills I/O"),
    "auroraReplicatedIoMillion": Assumption(20, "million write I/Os/month", "replicated to each global secondary"),
    "albLcu": Assumption(5, "LCUs on average per ALB", "new connections and rule evaluations of normal days"),
    "nlbNlcu": Assumption(1, "NLCUs on average per NLB", "partner API traffic only"),
    "cloudfrontGb": Assumption(2000, "GB/month to viewers", "pages and product media"),
    "cloudfrontRequestsMillion": Assumption(100, "million HTTPS requests/month", ""),
    "wafRequestsMillion": Assumption(100, "million requests/month per web ACL", "every request a web ACL inspects"),
    "kmsRequestsMillionPerKey": Assumption(1, "million requests/month per key",
                                           "S3 bucket keys and data-key caching keep this low"),
    "logsGbPerGroup": Assumption(5, "GB ingested/month per log group", "flow, WAF, audit and service logs"),
    "kinesisGbPerStream": Assumption(10, "GB written/month per stream", "clickstream and order events"),
    "firehoseGbPerStream": Assumption(10, "GB/month per delivery stream", "the same events into the lake"),
    "redshiftActiveHours": Assumption(120, "hours/month at base capacity",
                                      "Redshift Serverless bills only while queries run: ~4 h a day of reports"),
    "apiCallsMillion": Assumption(10, "million REST calls/month per API", "partners' stock and order polling"),
    "s3GbPerBucket": Assumption(50, "GB stored per bucket", "assets, lake, logs and backups, on average"),
    "s3ReplicatedGbPerRule": Assumption(20, "GB/month replicated per rule", "new objects only"),
    "backupGb": Assumption(100, "GB of recovery points per copy", "the Aurora cluster's snapshots"),
    "backupCopyGb": Assumption(30, "GB/month copied to the DR vault", "incremental copies"),
    "configItemsPerRecorder": Assumption(2000, "items/month per recorder", "changes recorded in one region"),
    "configEvaluationsPerRule": Assumption(1000, "evaluations/month per rule", "change-triggered rules"),
    "cloudtrailDataEventsMillion": Assumption(5, "million data events/month", "S3 object events on the lake "
                                                                             "and backups"),
    "dynamodbReadsMillion": Assumption(100, "million read units/month per table", "normal days"),
    "dynamodbWritesMillion": Assumption(20, "million write units/month per table", "normal days"),
    "dynamodbGbPerTable": Assumption(10, "GB per table (each replica too)", ""),
}

#: What the estimate leaves out, said once with every estimate.
NOT_PRICED: tuple[str, ...] = (
    "data transfer out other than CloudFront's; data transfer between AZs",
    "Performance Insights beyond 7 days; CloudWatch metrics, alarms, dashboards",
    "SQS, Athena, Glue, ECR, Security Hub, Access Analyzer; ACM (free)",
    "DynamoDB warm throughput (a one-off charge the table has no price for)",
    "free tiers, Savings Plans, reserved capacity, spot discounts, tax",
)


@dataclass(frozen=True)
class CostLine:
    item: str
    """What is priced, with its unit: ``NAT gateway hours``."""
    price_key: str
    region: str
    quantity: float
    unit_price: float
    approximate: bool
    """The price is approximate (see ``blueprint/prices.py``)."""
    assumed: bool = False
    """The quantity comes from ``ASSUMPTIONS``, not from the graph."""
    resources: tuple[str, ...] = ()

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_price

    @property
    def key(self) -> str:
        return f"{self.item} [{self.region}]"

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "priceKey": self.price_key, "region": self.region,
                "quantity": round(self.quantity, 4), "unitPrice": self.unit_price,
                "unit": price(self.price_key).unit, "monthly": round(self.cost, 2),
                "approximate": self.approximate, "assumed": self.assumed, "resources": list(self.resources)}


@dataclass(frozen=True)
class EventCost:
    name: str
    warm_at: str
    release_at: str
    hours: float
    """From warm-up to release: how long the raised capacity is paid for."""
    lines: tuple[CostLine, ...]
    notes: tuple[str, ...] = ()

    @property
    def extra(self) -> float:
        return sum(line.cost for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "warmAt": self.warm_at, "releaseAt": self.release_at,
                "hours": round(self.hours, 2), "extra": round(self.extra, 2),
                "lines": [line.to_json() for line in self.lines], "notes": list(self.notes)}


@dataclass(frozen=True)
class CostEstimate:
    stack: str
    region: str
    dr_region: str | None
    lines: tuple[CostLine, ...]
    events: tuple[EventCost, ...] = ()
    assumptions: Mapping[str, Assumption] = field(default_factory=lambda: dict(ASSUMPTIONS))
    events_planned: bool = True
    """False when no planner was available (the CLI says "no peak events planned")."""
    unpriced: tuple[str, ...] = ()
    """Items of the graph the price table has no price for (left out of the total)."""

    @property
    def monthly(self) -> float:
        return sum(line.cost for line in self.lines)

    def by_region(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for line in self.lines:
            totals[line.region] += line.cost
        return dict(totals)

    @property
    def dr_monthly(self) -> float:
        """The DR region's share: what runs there (the warm standby, vaults, replicas)."""
        return self.by_region().get(self.dr_region, 0.0) if self.dr_region else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "region": self.region, "drRegion": self.dr_region,
            "currency": CURRENCY, "pricesDate": PRICES_DATE,
            "baseline": {"monthly": round(self.monthly, 2),
                         "drRegion": round(self.dr_monthly, 2),
                         "byRegion": {k: round(v, 2) for k, v in sorted(self.by_region().items())},
                         "lines": [line.to_json() for line in self.lines]},
            "events": [event.to_json() for event in self.events],
            "eventsPlanned": self.events_planned,
            "assumptions": {k: {"value": a.value, "unit": a.unit, "why": a.why}
                            for k, a in sorted(self.assumptions.items())},
            "notPriced": list(NOT_PRICED),
            "unpriced": list(self.unpriced),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)


# -- the baseline -----------------------------------------------------------------------------


class _Lines:
    """Accumulates quantities per (item, price, region), then prices them."""

    def __init__(self) -> None:
        self._quantities: dict[tuple[str, str, str, bool, float], float] = defaultdict(float)
        self._resources: dict[tuple[str, str, str, bool, float], list[str]] = defaultdict(list)
        self.unpriced: set[str] = set()

    def add(self, item: str, price_key: str, region: str, quantity: float, resource: str | None = None, *,
            assumed: bool = False, factor: float = 1.0) -> None:
        if quantity <= 0:
            return
        key = (item, price_key, region, assumed, factor)
        self._quantities[key] += quantity
        if resource is not None and resource not in self._resources[key]:
            self._resources[key].append(resource)

    def lines(self) -> tuple[CostLine, ...]:
        out = []
        for (item, price_key, region, assumed, factor), quantity in self._quantities.items():
            if price_key not in PRICES:
                # An instance or node type the table does not hold: said, never a crash (the
                # plan summary must not fail over a price).
                self.unpriced.add(f"{item} [{region}]: no price {price_key!r} in blueprint/prices.py")
                continue
            entry = price(price_key)
            out.append(CostLine(item=item, price_key=price_key, region=region, quantity=quantity,
                                unit_price=round(entry.at(region) * factor, 6),
                                approximate=entry.approximate_in(region), assumed=assumed,
                                resources=tuple(sorted(self._resources[(item, price_key, region, assumed, factor)]))))
        return tuple(sorted(out, key=lambda line: (line.region, line.item)))


def _num(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) else default


def _region_of(graph: ResourceGraph, resource: Resource) -> str:
    """A resource's region; for what has none (Kubernetes objects), the region of the cluster
    its provider talks to: the first sibling of the provider that has a region."""
    if resource.region is not None:
        return resource.region
    # A provider reference is "<provider URN>::<provider id>".
    provider = graph.by_urn.get(resource.provider.rsplit("::", 1)[0]) if resource.provider else None
    if provider is not None and provider.parent is not None:
        for sibling in graph.children(provider.parent):
            if sibling.region is not None and sibling.region != GLOBAL:
                return sibling.region
    in_dr = any(a.type == DR_SLICE_TYPE and a.name == DR_SLICE_NAME for a in graph.ancestors(resource.urn))
    dr = graph.outputs.get("drRegion")
    return dr if in_dr and isinstance(dr, str) else graph.region


def _cpu(quantity: Any) -> float:
    """A Kubernetes CPU quantity (``"1"``, ``"500m"``) in vCPUs."""
    text = str(quantity or "0")
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def service_baselines(graph: ResourceGraph) -> dict[tuple[str, str], float]:
    """(region, service) -> vCPUs requested at the HPA's minimum replicas."""
    deployments = {(d.provider, (d.inputs.get("metadata") or {}).get("name")): d
                   for d in graph.of_type("kubernetes:apps/v1:Deployment")}
    out: dict[tuple[str, str], float] = {}
    for hpa in graph.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
        spec = hpa.inputs.get("spec") or {}
        name = (spec.get("scaleTargetRef") or {}).get("name")
        deployment = deployments.get((hpa.provider, name))
        if deployment is None or not isinstance(name, str):
            continue
        containers = (((deployment.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers") or []
        cpu = sum(_cpu(((c.get("resources") or {}).get("requests") or {}).get("cpu")) for c in containers)
        out[(_region_of(graph, hpa), name)] = _num(spec.get("minReplicas"), 1) * cpu
    return out


def node_type(graph: ResourceGraph, region: str) -> str:
    """The instance type Karpenter's capacity is priced as: the first allowed family of the
    region's NodePool at size large (the presets' families all have a priced ``large``)."""
    for pool in graph.of_type("kubernetes:karpenter.sh/v1:NodePool"):
        if _region_of(graph, pool) != region:
            continue
        requirements = ((((pool.inputs.get("spec") or {}).get("template") or {}).get("spec") or {})
                        .get("requirements") or [])
        for requirement in requirements:
            if requirement.get("key") == "karpenter.k8s.aws/instance-family" and requirement.get("values"):
                priced = [f for f in requirement["values"] if f"ec2.{f}.large.hour" in PRICES]
                return f"{(priced or requirement['values'])[0]}.large"
    return "m7g.large"


def _nodes_for(vcpu: float, instance_type: str, overhead: float) -> int:
    per_node = INSTANCE_SIZES.get(instance_type, (2, 8))[0] * (1 - overhead)
    return math.ceil(vcpu / per_node - 1e-9) if vcpu > 0 else 0


def _cache_nodes(group: Resource) -> float:
    inputs = group.inputs
    if inputs.get("numNodeGroups"):
        return _num(inputs["numNodeGroups"]) * (_num(inputs.get("replicasPerNodeGroup")) + 1)
    return _num(inputs.get("numCacheClusters"), 1)


def baseline_lines(graph: ResourceGraph, assumptions: Mapping[str, Assumption] = ASSUMPTIONS) -> tuple[CostLine, ...]:
    return _baseline(graph, assumptions)[0]


def _baseline(graph: ResourceGraph, assumptions: Mapping[str, Assumption]) -> tuple[tuple[CostLine, ...], list[str]]:
    a = {key: item.value for key, item in assumptions.items()}
    lines = _Lines()
    month = HOURS_PER_MONTH

    def each(type_token: str) -> Iterable[tuple[Resource, str]]:
        for resource in graph.of_type(type_token):
            yield resource, _region_of(graph, resource)

    # Network.
    for nat, region in each("aws:ec2/natGateway:NatGateway"):
        lines.add("NAT gateway hours", "nat.hour", region, month, nat.name)
        lines.add("NAT gateway GB processed", "nat.gb", region, a["natGbPerGateway"], nat.name, assumed=True)
    for eip, region in each("aws:ec2/eip:Eip"):
        lines.add("public IPv4 address hours", "ipv4.hour", region, month, eip.name)
    for endpoint, region in each("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if endpoint.inputs.get("vpcEndpointType") == "Interface":
            azs = len(endpoint.inputs.get("subnetIds") or []) or 1
            lines.add("interface endpoint-AZ hours", "vpce.interface.hour", region, month * azs, endpoint.name)

    # Compute: the control plane, the managed node group, Karpenter's nodes for the pods.
    for cluster, region in each("aws:eks/cluster:Cluster"):
        lines.add("EKS control plane hours", "eks.cluster.hour", region, month, cluster.name)
    for group, region in each("aws:eks/nodeGroup:NodeGroup"):
        types = group.inputs.get("instanceTypes") or ["m7g.large"]
        desired = _num((group.inputs.get("scalingConfig") or {}).get("desiredSize"), 1)
        lines.add(f"{types[0]} node hours (node group)", f"ec2.{types[0]}.hour", region, desired * month, group.name)
        lines.add("node root volume GB-months", "ebs.gp3.gb-month", region, desired * a["nodeRootVolumeGb"],
                  group.name, assumed=True)
    workload: dict[str, float] = defaultdict(float)
    for (region, _), vcpu in service_baselines(graph).items():
        workload[region] += vcpu
    for region, vcpu in sorted(workload.items()):
        instance_type = node_type(graph, region)
        nodes = _nodes_for(vcpu, instance_type, a["nodeOverhead"])
        lines.add(f"{instance_type} node hours (Karpenter, HPA min)", f"ec2.{instance_type}.hour", region,
                  nodes * month)
        lines.add("node root volume GB-months", "ebs.gp3.gb-month", region, nodes * a["nodeRootVolumeGb"],
                  assumed=True)

    # Aurora: Serverless v2 instances at their minimum ACUs (the floor they never go below).
    instances: dict[str, list[Resource]] = defaultdict(list)
    for instance in graph.of_type("aws:rds/clusterInstance:ClusterInstance"):
        instances[str(instance.inputs.get("clusterIdentifier"))].append(instance)
    for cluster, region in each("aws:rds/cluster:Cluster"):
        members = instances.get(str(cluster.inputs.get("clusterIdentifier")), [])
        scaling = cluster.inputs.get("serverlessv2ScalingConfiguration") or {}
        for member in members:
            klass = str(member.inputs.get("instanceClass"))
            if klass == "db.serverless":
                lines.add("Aurora Serverless v2 ACU-hours (min ACU)", "aurora.acu.hour", region,
                          _num(scaling.get("minCapacity"), 0.5) * month, member.name)
            else:
                lines.add(f"Aurora {klass} instance hours", f"aurora.{klass}.hour", region, month, member.name)
        lines.add("Aurora storage GB-months", "aurora.storage.gb-month", region, a["auroraStorageGb"], cluster.name,
                  assumed=True)
        if cluster.inputs.get("storageType") != "aurora-iopt1":
            lines.add("Aurora I/O (million)", "aurora.io.million", region, a["auroraIoMillion"], cluster.name,
                      assumed=True)
        if cluster.inputs.get("globalClusterIdentifier") and region != graph.region:
            lines.add("Aurora global replicated write I/O (million)", "aurora.global.replicated-io.million", region,
                      a["auroraReplicatedIoMillion"], cluster.name, assumed=True)
        if cluster.inputs.get("manageMasterUserPassword"):
            lines.add("Secrets Manager secret-months", "secretsmanager.secret.month", region, 1, cluster.name)
    for secret, region in each("aws:secretsmanager/secret:Secret"):
        lines.add("Secrets Manager secret-months", "secretsmanager.secret.month", region, 1, secret.name)

    # ElastiCache: node type x nodes; a global datastore's secondary inherits the primary's.
    groups = graph.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    primaries = {g.inputs.get("replicationGroupId"): g for g in groups}
    global_primary = {str(gg.urn): primaries.get(gg.inputs.get("primaryReplicationGroupId"))
                      for gg in graph.of_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")}
    for group, region in each("aws:elasticache/replicationGroup:ReplicationGroup"):
        source = group
        if not group.inputs.get("nodeType") and group.inputs.get("globalReplicationGroupId"):
            source = next((p for p in global_primary.values() if p is not None), group)
        node = source.inputs.get("nodeType")
        if not node:
            continue
        engine = source.inputs.get("engine") or "redis"
        factor = VALKEY_FACTOR if engine == "valkey" else 1.0
        label = f"{node} node hours" + (" (Valkey, -20%)" if factor != 1.0 else "")
        lines.add(label, f"elasticache.{node}.hour", region, _cache_nodes(group) * month, group.name, factor=factor)

    # DynamoDB on demand: requests and storage are usage; replicas pay replicated writes.
    for table, region in each("aws:dynamodb/table:Table"):
        if table.inputs.get("billingMode") != "PAY_PER_REQUEST":
            continue
        lines.add("DynamoDB read units (million)", "dynamodb.rru.million", region, a["dynamodbReadsMillion"],
                  table.name, assumed=True)
        lines.add("DynamoDB write units (million)", "dynamodb.wru.million", region, a["dynamodbWritesMillion"],
                  table.name, assumed=True)
        lines.add("DynamoDB storage GB-months", "dynamodb.storage.gb-month", region, a["dynamodbGbPerTable"],
                  table.name, assumed=True)
        for replica in table.inputs.get("replicas") or []:
            where = str(replica.get("regionName"))
            lines.add("DynamoDB replicated write units (million)", "dynamodb.wru.million", where,
                      a["dynamodbWritesMillion"], table.name, assumed=True)
            lines.add("DynamoDB storage GB-months", "dynamodb.storage.gb-month", where, a["dynamodbGbPerTable"],
                      table.name, assumed=True)

    # Load balancers: hours from the graph, capacity units from assumptions, plus a standing
    # capacity reservation if the graph sets one.
    for balancer, region in each("aws:lb/loadBalancer:LoadBalancer"):
        kind = "nlb" if balancer.inputs.get("loadBalancerType") == "network" else "alb"
        label = "NLB" if kind == "nlb" else "ALB"
        lines.add(f"{label} hours", f"{kind}.hour", region, month, balancer.name)
        lines.add(f"{label} capacity unit-hours (average)", f"{kind}.{'nlcu' if kind == 'nlb' else 'lcu'}.hour", region,
                  a["nlbNlcu" if kind == "nlb" else "albLcu"] * month, balancer.name, assumed=True)
        reserved = _num((balancer.inputs.get("minimumLoadBalancerCapacity") or {}).get("capacityUnits"))
        lines.add(f"{label} reserved capacity unit-hours", f"{kind}.{'nlcu' if kind == 'nlb' else 'lcu'}.hour",
                  region, reserved * month, balancer.name)

    # Edge.
    for distribution, _ in each("aws:cloudfront/distribution:Distribution"):
        lines.add("CloudFront GB to viewers", "cloudfront.gb", GLOBAL, a["cloudfrontGb"], distribution.name,
                  assumed=True)
        lines.add("CloudFront HTTPS requests (million)", "cloudfront.https.million", GLOBAL,
                  a["cloudfrontRequestsMillion"], distribution.name, assumed=True)
    for acl, region in each("aws:wafv2/webAcl:WebAcl"):
        rules = acl.inputs.get("rules") or []
        lines.add("WAF web ACL-months", "waf.acl.month", region, 1, acl.name)
        lines.add("WAF rule-months", "waf.rule.month", region, len(rules), acl.name)
        lines.add("WAF requests (million)", "waf.requests.million", region, a["wafRequestsMillion"], acl.name,
                  assumed=True)
        bot = sum(1 for rule in rules if ((rule.get("statement") or {}).get("managedRuleGroupStatement") or {})
                  .get("name") == "AWSManagedRulesBotControlRuleSet")
        lines.add("WAF Bot Control subscription-months", "waf.botcontrol.month", region, bot, acl.name)
        lines.add("WAF Bot Control requests (million)", "waf.botcontrol.requests.million", region,
                  bot * a["wafRequestsMillion"], acl.name, assumed=True)
    for api, region in each("aws:apigateway/restApi:RestApi"):
        lines.add("API Gateway REST calls (million)", "apigw.rest.million", region, a["apiCallsMillion"], api.name,
                  assumed=True)
    zones = {str(record.inputs.get("zoneId")) for record in graph.of_type("aws:route53/record:Record")}
    zones |= {z.name for z in graph.of_type("aws:route53/zone:Zone")}
    # The zone the records go in is billed even when created outside the stack.
    lines.add("Route 53 hosted zone-months", "route53.zone.month", GLOBAL, len(zones))
    for check, _ in each("aws:route53/healthCheck:HealthCheck"):
        lines.add("Route 53 health check-months", "route53.healthcheck.month", GLOBAL, 1, check.name)

    # Keys, audit.
    for key_type in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
        for key, region in each(key_type):
            lines.add("KMS key-months", "kms.key.month", region, 1, key.name)
            lines.add("KMS requests (10,000)", "kms.requests.10k", region, a["kmsRequestsMillionPerKey"] * 100,
                      key.name, assumed=True)
    for detector, region in each("aws:guardduty/detector:Detector"):
        lines.add("GuardDuty region-months (assumed flat)", "guardduty.region.month", region, 1, detector.name,
                  assumed=True)
    for recorder, region in each("aws:cfg/recorder:Recorder"):
        lines.add("Config items recorded", "config.item", region, a["configItemsPerRecorder"], recorder.name,
                  assumed=True)
    for rule, region in each("aws:cfg/rule:Rule"):
        lines.add("Config rule evaluations", "config.evaluation", region, a["configEvaluationsPerRule"], rule.name,
                  assumed=True)
    for trail, region in each("aws:cloudtrail/trail:Trail"):
        selectors = trail.inputs.get("advancedEventSelectors") or []
        if any(f.get("field") == "eventCategory" and "Data" in (f.get("equals") or [])
               for s in selectors for f in (s.get("fieldSelectors") or [])):
            lines.add("CloudTrail data events (100,000)", "cloudtrail.data.100k", region,
                      a["cloudtrailDataEventsMillion"] * 10, trail.name, assumed=True)

    # Logs, streams, analytics.
    for group, region in each("aws:cloudwatch/logGroup:LogGroup"):
        ingest = a["logsGbPerGroup"]
        # Steady state: what the retention keeps (never-expiring groups counted at a year).
        months = min(_num(group.inputs.get("retentionInDays"), 365), 3653) / 30.4
        lines.add("CloudWatch Logs GB ingested", "logs.ingest.gb", region, ingest, group.name, assumed=True)
        lines.add("CloudWatch Logs GB-months stored", "logs.storage.gb-month", region, ingest * months, group.name,
                  assumed=True)
    for stream, region in each("aws:kinesis/stream:Stream"):
        if ((stream.inputs.get("streamModeDetails") or {}).get("streamMode")) == "ON_DEMAND":
            lines.add("Kinesis on-demand stream hours", "kinesis.stream.hour", region, month, stream.name)
            lines.add("Kinesis GB written", "kinesis.in.gb", region, a["kinesisGbPerStream"], stream.name,
                      assumed=True)
    for delivery, region in each("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        lines.add("Firehose GB ingested", "firehose.gb", region, a["firehoseGbPerStream"], delivery.name, assumed=True)
    limits = {(u.region): _num(u.inputs.get("amount")) for u in graph.of_type(
        "aws:redshiftserverless/usageLimit:UsageLimit") if u.inputs.get("usageType") == "serverless-compute"}
    for workgroup, region in each("aws:redshiftserverless/workgroup:Workgroup"):
        rpu_hours = _num(workgroup.inputs.get("baseCapacity"), 128) * a["redshiftActiveHours"]
        if limits.get(region):
            rpu_hours = min(rpu_hours, limits[region])
        lines.add("Redshift Serverless RPU-hours", "redshift.rpu.hour", region, rpu_hours, workgroup.name,
                  assumed=True)

    # Storage, backups, replication.
    for bucket, region in each("aws:s3/bucket:Bucket"):
        lines.add("S3 Standard GB-months", "s3.standard.gb-month", region, a["s3GbPerBucket"], bucket.name,
                  assumed=True)
    for config, region in each("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        for rule in config.inputs.get("rules") or []:
            lines.add("S3 GB replicated across regions", "s3.replication.gb", region, a["s3ReplicatedGbPerRule"],
                      config.name, assumed=True)
            if ((rule.get("destination") or {}).get("replicationTime") or {}).get("status") == "Enabled":
                lines.add("S3 GB replicated with RTC", "s3.rtc.gb", region, a["s3ReplicatedGbPerRule"], config.name,
                          assumed=True)
    for vault, region in each("aws:backup/vault:Vault"):
        lines.add("AWS Backup GB-months", "backup.warm.gb-month", region, a["backupGb"], vault.name, assumed=True)
    for plan, region in each("aws:backup/plan:Plan"):
        if any(rule.get("copyActions") for rule in plan.inputs.get("rules") or []):
            lines.add("AWS Backup cross-region copy GB", "transfer.interregion.gb", region, a["backupCopyGb"],
                      plan.name, assumed=True)
    return lines.lines(), sorted(lines.unpriced)


# -- peak events ------------------------------------------------------------------------------


def event_cost(plan: EventPlan, graph: ResourceGraph,
               assumptions: Mapping[str, Assumption] = ASSUMPTIONS) -> EventCost:
    """What one event adds to the month, in the primary region: capacity held from warm-up to
    release above the baseline the graph declares, and requests at the peak rate during the
    event itself (counted whole: pessimistic, since part of that traffic is the baseline's)."""
    a = {key: item.value for key, item in assumptions.items()}
    region = graph.region
    hours = (plan.release_at - plan.warm_at).total_seconds() / 3600
    event_seconds = (plan.event.end - plan.event.start).total_seconds()
    lines = _Lines()
    notes: list[str] = []

    # Pods and nodes: the vCPUs above each service's baseline, plus Karpenter's headroom.
    baselines = service_baselines(graph)
    extra = sum(max(0.0, peak.vcpu - baselines.get((region, name), 0.0)) for name, peak in plan.services.items())
    extra += plan.headroom_vcpu
    instance_type = node_type(graph, region)
    nodes = _nodes_for(extra, instance_type, a["nodeOverhead"])
    lines.add(f"{instance_type} node hours ({nodes} nodes for {extra:g} vCPUs)", f"ec2.{instance_type}.hour",
              region, nodes * hours)

    # Aurora: the minimum raised on every instance, and the readers added.
    cluster = next((c for c in graph.of_type("aws:rds/cluster:Cluster")
                    if c.region == region and not c.inputs.get("replicationSourceIdentifier")), None)
    if cluster is not None:
        members = [i for i in graph.of_type("aws:rds/clusterInstance:ClusterInstance")
                   if i.inputs.get("clusterIdentifier") == cluster.inputs.get("clusterIdentifier")]
        base_min = _num((cluster.inputs.get("serverlessv2ScalingConfiguration") or {}).get("minCapacity"), 0.5)
        raised = max(0.0, plan.aurora_min_acu - base_min)
        lines.add(f"Aurora ACU-hours (min {base_min:g}->{plan.aurora_min_acu:g} ACU x {len(members)})",
                  "aurora.acu.hour", region, raised * len(members) * hours)
        added = max(0, plan.aurora_readers - max(0, len(members) - 1))
        lines.add(f"Aurora ACU-hours (+{added} readers at {max(base_min, plan.aurora_min_acu):g} ACU)",
                  "aurora.acu.hour", region, added * max(base_min, plan.aurora_min_acu) * hours)

    # DynamoDB: on-demand requests at the pre-warmed rates for the event's duration.
    tables = {t.name.removeprefix("tables-"): t for t in graph.of_type("aws:dynamodb/table:Table")
              if t.region == region}
    for name, (reads, writes) in sorted(plan.dynamodb_warm.items()):
        lines.add("DynamoDB read units (million)", "dynamodb.rru.million", region,
                  reads * event_seconds / 1e6, name)
        lines.add("DynamoDB write units (million)", "dynamodb.wru.million", region,
                  writes * event_seconds / 1e6, name)
        table = tables.get(name)
        for replica in (table.inputs.get("replicas") or []) if table is not None else []:
            lines.add("DynamoDB replicated write units (million)", "dynamodb.wru.million",
                      str(replica.get("regionName")), writes * event_seconds / 1e6, name)
    if plan.dynamodb_warm:
        notes.append("DynamoDB warm throughput itself is not priced (a one-off charge the table does not hold)")

    # The ALB's LCU reservation, held from warm-up to release.
    lines.add(f"ALB reserved LCU-hours ({plan.alb_lcu} LCUs)", "alb.lcu.hour", region, plan.alb_lcu * hours)

    cache_nodes = sum(_cache_nodes(g) for g in graph.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
                      if g.region == region)
    if plan.cache_nodes > cache_nodes:
        notes.append(f"the cache needs {plan.cache_nodes} nodes for this peak and has {cache_nodes:g}: "
                     "it is not scaled by schedule, so nothing is added here")
    priced = lines.lines()
    notes += sorted(lines.unpriced)
    return EventCost(name=plan.event.name, warm_at=plan.warm_at.isoformat(), release_at=plan.release_at.isoformat(),
                     hours=hours, lines=priced, notes=tuple(notes))


def estimate(graph: ResourceGraph, plans: Sequence[EventPlan] | None = (),
             assumptions: Mapping[str, Assumption] = ASSUMPTIONS) -> CostEstimate:
    """The baseline of ``graph`` and each planned event's added cost. ``plans=None`` says no
    planner was available (rendered as "no peak events planned")."""
    dr = graph.outputs.get("drRegion")
    lines, unpriced = _baseline(graph, assumptions)
    return CostEstimate(stack=graph.stack, region=graph.region, dr_region=dr if isinstance(dr, str) and dr else None,
                        lines=lines, unpriced=tuple(unpriced),
                        events=tuple(event_cost(p, graph, assumptions) for p in plans or ()),
                        assumptions=dict(assumptions), events_planned=plans is not None)


# -- comparing two graphs ---------------------------------------------------------------------


@dataclass(frozen=True)
class CostDelta:
    key: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


def compare(before: CostEstimate, after: CostEstimate) -> list[CostDelta]:
    """Line items whose monthly cost differs, largest change first."""
    old = {line.key: line.cost for line in before.lines}
    new = {line.key: line.cost for line in after.lines}
    deltas = [CostDelta(key, old.get(key, 0.0), new.get(key, 0.0)) for key in sorted(set(old) | set(new))]
    return sorted((d for d in deltas if abs(d.delta) >= 0.005), key=lambda d: (-abs(d.delta), d.key))


def compare_json(before: CostEstimate, after: CostEstimate) -> dict[str, Any]:
    return {"pricesDate": PRICES_DATE, "currency": CURRENCY,
            "before": {"stack": before.stack, "monthly": round(before.monthly, 2)},
            "after": {"stack": after.stack, "monthly": round(after.monthly, 2)},
            "delta": round(after.monthly - before.monthly, 2),
            "lines": [{"item": d.key, "before": round(d.before, 2), "after": round(d.after, 2),
                       "delta": round(d.delta, 2)} for d in compare(before, after)]}


# -- text -------------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def _short(instant: str) -> str:
    """``2026-11-27T00:00:00+00:00`` -> ``2026-11-27 00:00`` (the plans are in UTC)."""
    return instant[:16].replace("T", " ")


def headline(est: CostEstimate) -> str:
    """The plan summary's line."""
    dr = f", DR region {_money(est.dr_monthly)}" if est.dr_region else ""
    return f"~{_money(est.monthly)}/month baseline (prices of {PRICES_DATE}){dr}"


def _line_text(line: CostLine, width: int = 46) -> str:
    flags = ("~" if line.approximate else " ") + ("*" if line.assumed else " ")
    item = line.item if len(line.item) <= width else line.item[: width - 3] + "..."
    return f"  {flags}{item:<{width}} {line.region:<13}{_money(line.cost):>14}"


def render_text(est: CostEstimate) -> list[str]:
    out = [f"Cost estimate for stack {est.stack} (primary {est.region}), {CURRENCY} per month,",
           f"on-demand list prices of {PRICES_DATE} (blueprint/prices.py); not an invoice.",
           "  ~ approximate price   * quantity assumed (see Assumptions)", "", "Baseline"]
    def order(region: str) -> tuple[bool, bool, bool, str]:
        return (region != est.region, region != est.dr_region, region == GLOBAL, region)

    out += [_line_text(line) for line in sorted(est.lines, key=lambda line: (order(line.region), line.item))]
    out.append("")
    by_region = est.by_region()
    for region in sorted(by_region, key=order):
        note = " (primary)" if region == est.region else " (DR region)" if region == est.dr_region else ""
        out.append(f"  {region + note:<38}{_money(by_region[region]):>14}")
    out.append(f"  {'baseline total':<38}{'~' + _money(est.monthly):>14}")
    out += ["", "Peak events"]
    if not est.events_planned or not est.events:
        out.append("  no peak events planned")
    for event in est.events:
        window = f"{_short(event.warm_at)} -> {_short(event.release_at)} UTC"
        out.append(f"  {event.name}: {window} ({event.hours:g} h): +{_money(event.extra)}")
        out += ["  " + _line_text(line, 44) for line in sorted(event.lines, key=lambda line: (order(line.region),
                                                                                          line.item))]
        for note in event.notes:
            out += textwrap.wrap(note, 80, initial_indent="     note: ", subsequent_indent=" " * 11)
    out += ["", "Assumptions (usage the graph cannot state)"]
    out += [f"  {key:<28} {item.value:>8g} {item.unit}" for key, item in sorted(est.assumptions.items())]
    out += ["", "Not priced"] + [f"  - {item}" for item in NOT_PRICED]
    for item in est.unpriced:
        out += textwrap.wrap(item, 80, initial_indent="  - ", subsequent_indent="    ")
    return out


def render_compare(before: CostEstimate, after: CostEstimate) -> list[str]:
    """The monthly delta by line item, largest change first (80 columns: the item, its region,
    the new monthly figure and the change; the JSON form has the old figure too)."""
    out = [f"Monthly cost, {before.stack} -> {after.stack} ({CURRENCY}, prices of {PRICES_DATE})",
           f"  {'item':<42} {'region':<13}{'after':>10} {'change':>10}"]
    for d in compare(before, after):
        item, _, region = d.key.rpartition(" [")
        item = item if len(item) <= 42 else item[:39] + "..."
        sign = "+" if d.delta >= 0 else "-"
        out.append(f"  {item:<42} {region.rstrip(']'):<13}{_money(d.after):>10} {sign + _money(abs(d.delta)):>10}")
    delta = after.monthly - before.monthly
    out.append(f"  total: {_money(before.monthly)} -> {_money(after.monthly)} "
               f"({'+' if delta >= 0 else '-'}{_money(abs(delta))})")
    return out
