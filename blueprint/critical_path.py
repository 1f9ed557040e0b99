"""The longest chain of a fresh `pulumi up`: what a deploy (or a DR region's first build) waits on.

The engine creates a resource once everything it depends on exists, so a first deployment
takes at least as long as the slowest chain of dependencies, weighted by how long each
resource takes to create. The weights below are typical creation times, rounded: they are
estimates from AWS's documentation where it states one and from common experience where it
does not, good for comparing layouts (what a change adds to the chain), not for promising a
deploy time. Every type not listed counts as a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from blueprint.graph import ResourceGraph

#: Typical creation minutes of the slow resource types.
CREATION_MINUTES: dict[str, float] = {
    "aws:eks/cluster:Cluster": 10,
    "aws:eks/nodeGroup:NodeGroup": 4,
    "aws:eks/addon:Addon": 1,
    "aws:rds/cluster:Cluster": 6,
    "aws:rds/clusterInstance:ClusterInstance": 9,
    "aws:rds/globalCluster:GlobalCluster": 1,
    "aws:elasticache/replicationGroup:ReplicationGroup": 12,
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": 10,
    "aws:cloudfront/distribution:Distribution": 5,
    "aws:acm/certificateValidation:CertificateValidation": 3,
    "aws:ec2/natGateway:NatGateway": 2,
    "aws:lb/loadBalancer:LoadBalancer": 3,
    "aws:ec2/vpcEndpoint:VpcEndpoint": 2,
    "aws:dynamodb/table:Table": 1,
    "kubernetes:helm.sh/v3:Release": 2,
    "aws:kms/replicaKey:ReplicaKey": 0.5,
}
DEFAULT_MINUTES = 0.05


def minutes_of(type_token: str) -> float:
    return CREATION_MINUTES.get(type_token, DEFAULT_MINUTES)


@dataclass(frozen=True)
class Chain:
    minutes: float
    urns: tuple[str, ...]
    """From the first resource created to the last."""


def longest_chain(graph: ResourceGraph) -> Chain:
    """The slowest dependency chain of custom resources (components take no time; a
    component's dependencies pass to its children, as the engine applies them)."""
    by_urn = graph.by_urn

    def waits_on(urn: str) -> set[str]:
        resource = by_urn[urn]
        found: set[str] = set(resource.dependencies)
        for deps in resource.property_dependencies.values():
            found.update(deps)
        for ancestor in graph.ancestors(urn):  # depends_on given to a component holds for its children
            found.update(ancestor.dependencies)
        expanded: set[str] = set()
        for dep in found:
            if dep not in by_urn:
                continue
            if by_urn[dep].custom:
                expanded.add(dep)
            else:  # waiting on a component means waiting on everything in it
                expanded.update(r.urn for r in graph.descendants(dep) if r.custom)
        expanded.discard(urn)
        return expanded

    @cache
    def finish(urn: str) -> Chain:
        before = [finish(dep) for dep in waits_on(urn)]
        slowest = max(before, key=lambda c: c.minutes, default=Chain(0.0, ()))
        return Chain(slowest.minutes + minutes_of(by_urn[urn].type), (*slowest.urns, urn))

    chains = [finish(r.urn) for r in graph if r.custom and not r.type.startswith("pulumi:providers:")]
    return max(chains, key=lambda c: c.minutes, default=Chain(0.0, ()))
