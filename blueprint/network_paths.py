"""Which workloads can open a connection to which network data store, from the graph.

IAM decides what a caller may do once connected; this decides whether the packets arrive. A
workload (a Deployment's pods) reaches a store (an Aurora cluster, an ElastiCache replication
group) on the store's port when all of these hold, as AWS and Kubernetes evaluate them:

- **the pods' security groups**: the groups a ``SecurityGroupPolicy`` selecting the pods lists
  (security groups for pods), or else the nodes' group: the EKS cluster security group, which
  EKS creates with all egress open and which every node carries;
- **egress** from one of those groups to the store's group (a rule referencing it) or to a CIDR
  holding the store's subnets, on the port; the EKS cluster group's egress is open;
- **ingress** on one of the store's groups from one of the pods' groups (or from a CIDR
  holding the private subnets the pods live in), on the port;
- **the pods' egress NetworkPolicies**: when any policy selects the pods for egress, one of its
  rules must allow the port to every subnet of the store (a store's endpoint can move between
  its subnets on failover, so a path to only some of them is no path).

A stack with a DR region has two clusters: each Kubernetes object belongs to the cluster its
provider talks to, a workload carries its own cluster's node group and pod subnets, only the
policies of its own cluster apply to it, and a workload outside the stack's primary region is
named ``<region>:<namespace>/<deployment>`` so the two clusters' workloads never collide.

Not modelled: network ACLs (the blueprint's are open inside the VPC), route tables (one VPC per region),
pod-to-pod traffic on one node (standard enforcing mode skips groups there; no store runs on a
node), and the store's own authentication (the IAM report covers that).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from blueprint.graph import Resource, ResourceGraph
from blueprint.mocks import cluster_security_group_id

SECURITY_GROUP_POLICY = "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
RDS_CLUSTER, RDS_SUBNETS = "aws:rds/cluster:Cluster", "aws:rds/subnetGroup:SubnetGroup"
#: RDS Proxy: a store of its own on the network (its ENIs, its group, PostgreSQL's port); the
#: cluster behind it admits the proxy's group, not the workloads'.
RDS_PROXY = "aws:rds/proxy:Proxy"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"

#: The ports AWS uses when a store names none.
DEFAULT_PORTS = {"rds": 5432, "elasticache": 6379}


@dataclass(frozen=True)
class NetworkStore:
    id: str
    """``<kind>:<physical name>``, as in the access report."""
    port: int
    security_groups: frozenset[str]
    cidrs: tuple[str, ...]
    """The CIDRs of the store's subnets."""


@dataclass(frozen=True)
class Workload:
    id: str
    """``<namespace>/<deployment>``, prefixed ``<region>:`` outside the primary region."""
    security_groups: frozenset[str]
    own_groups: bool
    """True when a SecurityGroupPolicy gives the pods their groups; False: the nodes' group."""
    egress_policies: tuple[Mapping[str, Any], ...]
    """The specs of the NetworkPolicies that select the pods for egress."""
    pod_cidrs: tuple[str, ...] = ()
    """Where the pods get their addresses: their cluster's subnets."""


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _cidrs_of(graph: ResourceGraph, subnet_ids: Iterable[str]) -> tuple[str, ...]:
    by_id = {s.id: s.inputs.get("cidrBlock") for s in graph.of_type(SUBNET)}
    return tuple(sorted(str(by_id[i]) for i in subnet_ids if by_id.get(i)))


def network_stores(graph: ResourceGraph) -> list[NetworkStore]:
    stores: list[NetworkStore] = []
    rds_subnets = {g.inputs.get("name") or g.id: g.inputs.get("subnetIds", []) for g in graph.of_type(RDS_SUBNETS)}
    for cluster in graph.of_type(RDS_CLUSTER):
        stores.append(NetworkStore(
            f"rds:{cluster.id}", _int(cluster.inputs.get("port"), DEFAULT_PORTS["rds"]),
            frozenset(cluster.inputs.get("vpcSecurityGroupIds", [])),
            _cidrs_of(graph, rds_subnets.get(cluster.inputs.get("dbSubnetGroupName"), []))))
    for proxy in graph.of_type(RDS_PROXY):
        # RDS Proxy listens on the engine family's default port; it has no port setting.
        stores.append(NetworkStore(
            f"rds-proxy:{proxy.id}", DEFAULT_PORTS["rds"], frozenset(proxy.inputs.get("vpcSecurityGroupIds", [])),
            _cidrs_of(graph, proxy.inputs.get("vpcSubnetIds", []))))
    cache_subnets = {g.inputs.get("name") or g.id: g.inputs.get("subnetIds", [])
                     for g in graph.of_type(CACHE_SUBNETS)}
    for group in graph.of_type(CACHE_GROUP):
        stores.append(NetworkStore(
            f"elasticache:{group.id}", _int(group.inputs.get("port"), DEFAULT_PORTS["elasticache"]),
            frozenset(group.inputs.get("securityGroupIds", [])),
            _cidrs_of(graph, cache_subnets.get(group.inputs.get("subnetGroupName"), []))))
    return sorted(stores, key=lambda s: s.id)


def _selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """A ``matchLabels`` selector (the only form the blueprint writes) against pod labels; an
    empty selector selects every pod of the namespace."""
    if not isinstance(selector, Mapping):
        return False
    if set(selector) - {"matchLabels"}:
        raise NotImplementedError(f"selector {dict(selector)} uses more than matchLabels")
    match = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in match.items())


def _node_group(graph: ResourceGraph, cluster: Resource) -> str:
    return cluster_security_group_id(cluster.name, cluster.inputs.get("region") or cluster.region or graph.region)


def node_security_groups(graph: ResourceGraph) -> frozenset[str]:
    """The groups the nodes carry: each EKS cluster's cluster security group (the managed node
    group gets it by default, and the Karpenter node class selects it)."""
    return frozenset(_node_group(graph, c) for c in graph.of_type(EKS_CLUSTER))


def _cluster_of(graph: ResourceGraph, resource: Resource) -> Resource | None:
    """The EKS cluster a Kubernetes object is sent to: the cluster created beside (under the same
    component as) its provider; the only cluster when the provider says nothing."""
    clusters = graph.of_type(EKS_CLUSTER)
    reference = resource.provider or ""
    # A provider reference is the provider's URN, followed by ``::<id>`` once the engine has one.
    provider = next((p for p in graph.resources if reference in (p.urn, f"{p.urn}::{p.id}")), None)
    if provider is not None:
        beside = [c for c in clusters if c.parent == provider.parent]
        if len(beside) == 1:
            return beside[0]
    return clusters[0] if len(clusters) == 1 else None


def _cluster_key(cluster: Resource | None) -> str | None:
    return cluster.urn if cluster is not None else None


def workloads(graph: ResourceGraph) -> list[Workload]:
    found: list[Workload] = []
    policies = {kind: [(r, _cluster_key(_cluster_of(graph, r))) for r in graph.of_type(kind)]
                for kind in (SECURITY_GROUP_POLICY, NETWORK_POLICY)}
    for deployment in graph.of_type(DEPLOYMENT):
        cluster = _cluster_of(graph, deployment)
        key = _cluster_key(cluster)
        nodes = frozenset({_node_group(graph, cluster)}) if cluster is not None else node_security_groups(graph)
        meta = deployment.inputs.get("metadata") or {}
        namespace, name = meta.get("namespace", "default"), meta.get("name", deployment.name)
        labels = ((deployment.inputs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        mine = {kind: [r for r, k in found_ if k == key] for kind, found_ in policies.items()}
        groups: set[str] = set()
        for policy in _in_namespace(mine[SECURITY_GROUP_POLICY], namespace):
            spec = policy.inputs.get("spec") or {}
            if _selects(spec.get("podSelector"), labels):
                groups.update((spec.get("securityGroups") or {}).get("groupIds", []))
        egress = tuple(spec for policy in _in_namespace(mine[NETWORK_POLICY], namespace)
                       if "Egress" in (spec := policy.inputs.get("spec") or {}).get("policyTypes", [])
                       and _selects(spec.get("podSelector"), labels))
        region = (cluster.inputs.get("region") or cluster.region) if cluster is not None else None
        prefix = f"{region}:" if region and region != graph.region else ""
        found.append(Workload(f"{prefix}{namespace}/{name}", frozenset(groups or nodes), bool(groups), egress,
                              _node_cidrs(graph, [cluster] if cluster is not None else None)))
    return sorted(found, key=lambda w: w.id)


def _in_namespace(resources: Iterable[Resource], namespace: str) -> list[Resource]:
    return [r for r in resources if (r.inputs.get("metadata") or {}).get("namespace", "default") == namespace]


def _covers(rule: Mapping[str, Any], port: int) -> bool:
    protocol = str(rule.get("ipProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    return protocol in ("tcp", "6") and _int(rule.get("fromPort"), -1) <= port <= _int(rule.get("toPort"), -1)


def _within(inner: str, outer: str) -> bool:
    return ipaddress.ip_network(inner).subnet_of(ipaddress.ip_network(outer))  # type: ignore[arg-type]


def _node_cidrs(graph: ResourceGraph, clusters: Iterable[Resource] | None = None) -> tuple[str, ...]:
    """Where pods get their addresses: the clusters' subnets (every cluster's by default)."""
    clusters = graph.of_type(EKS_CLUSTER) if clusters is None else clusters
    ids = {i for c in clusters for i in (c.inputs.get("vpcConfig") or {}).get("subnetIds", [])}
    return _cidrs_of(graph, ids)


class _Rules:
    def __init__(self, graph: ResourceGraph):
        self.graph, self.nodes = graph, node_security_groups(graph)
        self.ingress = [r.inputs for r in graph.of_type(INGRESS)]
        self.egress = [r.inputs for r in graph.of_type(EGRESS)]

    def leaves(self, groups: frozenset[str], store: NetworkStore) -> bool:
        if groups & self.nodes:  # EKS creates the cluster group with all egress open
            return True
        return any(rule.get("securityGroupId") in groups and _covers(rule, store.port) and (
            rule.get("referencedSecurityGroupId") in store.security_groups
            or (rule.get("cidrIpv4") and store.cidrs and all(_within(c, rule["cidrIpv4"]) for c in store.cidrs)))
            for rule in self.egress)

    def enters(self, groups: frozenset[str], store: NetworkStore, pod_cidrs: tuple[str, ...]) -> bool:
        return any(rule.get("securityGroupId") in store.security_groups and _covers(rule, store.port) and (
            rule.get("referencedSecurityGroupId") in groups
            or (rule.get("cidrIpv4") and any(_within(c, rule["cidrIpv4"]) for c in pod_cidrs)))
            for rule in self.ingress)


def _policy_allows(policies: tuple[Mapping[str, Any], ...], store: NetworkStore) -> bool:
    if not policies:
        return True  # no NetworkPolicy selects the pods for egress: Kubernetes allows all
    return all(any(_rule_allows(rule, cidr, store.port) for spec in policies for rule in spec.get("egress") or [])
               for cidr in store.cidrs) and bool(store.cidrs)


def _port_allowed(ports: list[Mapping[str, Any]], port: int) -> bool:
    if not ports:
        return True  # a rule without ports allows every port
    for entry in ports:
        if str(entry.get("protocol", "TCP")).upper() != "TCP":
            continue
        if entry.get("port") is None:
            return True
        low = _int(entry["port"], -1)  # a named port is not modelled: it never matches
        if low <= port <= _int(entry.get("endPort"), low):
            return True
    return False


def _rule_allows(rule: Mapping[str, Any], cidr: str, port: int) -> bool:
    if not _port_allowed(rule.get("ports") or [], port):
        return False
    peers = rule.get("to") or []
    if not peers:
        return True  # a rule without peers allows every destination
    for peer in peers:
        block = peer.get("ipBlock")
        if isinstance(block, Mapping) and _within(cidr, str(block.get("cidr"))) and not any(
                ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(str(e))) for e in block.get("except") or []):
            return True
    return False


def network_paths(graph: ResourceGraph) -> dict[str, dict[str, int]]:
    """Workload id -> {store id: port} for every store it can open a connection to."""
    rules, stores = _Rules(graph), network_stores(graph)
    paths: dict[str, dict[str, int]] = {}
    for workload in workloads(graph):
        reached = {store.id: store.port for store in stores
                   if rules.leaves(workload.security_groups, store)
                   and rules.enters(workload.security_groups, store, workload.pod_cidrs)
                   and _policy_allows(workload.egress_policies, store)}
        paths[workload.id] = reached
    return paths
