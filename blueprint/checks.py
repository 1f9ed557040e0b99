"""Evaluate the CrossGuard pack against a synthesized graph, outside the Pulumi engine."""

from __future__ import annotations

from blueprint.graph import ResourceGraph
from policies.offline import PolicyReport, ResourceSnapshot, evaluate


def snapshots(graph: ResourceGraph) -> list[ResourceSnapshot]:
    """The graph as the pack sees a stack: every resource, components included, with its
    inputs as ``props`` (what CrossGuard's resource policies are shown at preview)."""
    return [
        ResourceSnapshot(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=r.inputs,
            protect=r.protect,
            parent=r.parent,
            provider=r.provider,
            dependencies=tuple(r.dependencies),
            property_dependencies=dict(r.property_dependencies),
        )
        for r in graph
    ]


def check(graph: ResourceGraph) -> PolicyReport:
    return evaluate(snapshots(graph))
