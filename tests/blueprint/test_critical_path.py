"""The critical-path estimate follows dependencies the way the engine does."""

from __future__ import annotations

from blueprint.critical_path import CREATION_MINUTES, DEFAULT_MINUTES, longest_chain
from blueprint.graph import Resource, ResourceGraph

CLUSTER, INSTANCE = "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance"


def _graph(*resources: Resource) -> ResourceGraph:
    return ResourceGraph(project="p", stack="s", region="eu-west-1", resources=resources)


def _custom(name: str, type_: str, *deps: str, parent: str | None = None) -> Resource:
    return Resource(urn=name, type=type_, name=name, custom=True, inputs={}, dependencies=deps, parent=parent)


def test_the_slowest_chain_is_the_sum_along_dependencies():
    graph = _graph(_custom("cluster", CLUSTER), _custom("writer", INSTANCE, "cluster"),
                   _custom("reader", INSTANCE, "writer"), _custom("other", "aws:s3/bucket:Bucket"))
    chain = longest_chain(graph)
    assert chain.urns == ("cluster", "writer", "reader")
    assert chain.minutes == CREATION_MINUTES[CLUSTER] + 2 * CREATION_MINUTES[INSTANCE]


def test_parallel_readers_cost_one_instance_not_two():
    graph = _graph(_custom("cluster", CLUSTER), _custom("writer", INSTANCE, "cluster"),
                   _custom("reader", INSTANCE, "cluster"))
    assert longest_chain(graph).minutes == CREATION_MINUTES[CLUSTER] + CREATION_MINUTES[INSTANCE]


def test_waiting_on_a_component_waits_on_everything_inside_it():
    component = Resource(urn="slice", type="retail:x:Slice", name="slice", custom=False, inputs={})
    graph = _graph(component, _custom("cluster", CLUSTER, parent="slice"),
                   _custom("late", "aws:s3/bucket:Bucket", "slice"))
    chain = longest_chain(graph)
    assert chain.urns == ("cluster", "late")
    assert chain.minutes == CREATION_MINUTES[CLUSTER] + DEFAULT_MINUTES
