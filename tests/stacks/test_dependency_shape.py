"""The edge never waits on the cluster: `pulumi up` builds compute and edge in parallel, and
TargetGroupBinding joins them later from the Kubernetes side."""

from __future__ import annotations

EDGE_COMPONENTS = ("retail:edge:LoadBalancer", "retail:edge:Cdn", "retail:edge:WebFirewall")
COMPUTE_COMPONENTS = ("retail:compute:KubernetesCluster", "retail:compute:Karpenter",
                      "retail:compute:ClusterAddons", "retail:compute:TeamNamespaces",
                      "retail:compute:RetailService")


def members(graph, component_types):
    found = []
    for component in (r for r in graph if r.type in component_types):
        found.append(component)
        found.extend(graph.descendants(component.urn))
    return found


def test_no_edge_resource_waits_on_any_compute_resource(stack_graph):
    edge = members(stack_graph, EDGE_COMPONENTS)
    compute = {r.urn for r in members(stack_graph, COMPUTE_COMPONENTS)}
    assert len(edge) > 20 and len(compute) > 20
    cluster = stack_graph.one("aws:eks/cluster:Cluster")
    assert cluster.urn in compute
    waiting = sorted({(r.name, c) for r in edge for c in compute if stack_graph.depends_on(r.urn, c)})
    assert waiting == []


def test_the_check_would_see_a_dependency_on_the_cluster(stack_graph):
    # The services do wait on the cluster (through its provider): the walk finds real edges.
    service = stack_graph.one("aws:eks/podIdentityAssociation:PodIdentityAssociation",
                              "storefront-pod-identity")
    assert stack_graph.depends_on(service.urn, stack_graph.one("aws:eks/cluster:Cluster").urn)


def test_exposed_services_bind_to_the_albs_target_groups(graph_of):
    graph = graph_of("prod")
    bindings = graph.of_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    groups = {g.name.removeprefix("edge-"): g for g in graph.of_type("aws:lb/targetGroup:TargetGroup")}
    assert len(bindings) == 4
    for binding in bindings:
        target = binding.property_dependencies["spec"]
        assert any(graph.by_urn[urn].type == "aws:lb/targetGroup:TargetGroup" for urn in target)
    assert all(g.inputs["tags"]["elbv2.k8s.aws/cluster"] == "retail-prod-eks" for g in groups.values())
    assert graph.one("aws:eks/cluster:Cluster").inputs["name"] == "retail-prod-eks"
