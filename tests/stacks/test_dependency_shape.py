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
    clusters = stack_graph.of_type("aws:eks/cluster:Cluster")
    assert clusters and all(cluster.urn in compute for cluster in clusters)  # the DR cluster too
    waiting = sorted({(r.name, c) for r in edge for c in compute if stack_graph.depends_on(r.urn, c)})
    assert waiting == []


def test_the_check_would_see_a_dependency_on_the_cluster(stack_graph):
    # The services do wait on the cluster (through its provider): the walk finds real edges.
    primary = stack_graph.without_dr()
    service = primary.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "storefront-pod-identity")
    assert stack_graph.depends_on(service.urn, primary.one("aws:eks/cluster:Cluster").urn)


def test_exposed_services_bind_to_the_albs_target_groups(graph_of):
    whole = graph_of("prod")
    graph = whole.without_dr()
    bindings = graph.of_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    groups = {g.name.removeprefix("edge-"): g for g in graph.of_type("aws:lb/targetGroup:TargetGroup")}
    # The ALB's four, and the partner NLB's for the two services that answer partner operations.
    assert sorted(b.name for b in bindings if b.name.endswith("-partner-target-group-binding")) == [
        "catalog-partner-target-group-binding", "checkout-partner-target-group-binding"]
    assert len(bindings) == 6
    for binding in bindings:
        target = binding.property_dependencies["spec"]
        assert any(graph.by_urn[urn].type == "aws:lb/targetGroup:TargetGroup" for urn in target)
    assert all(g.inputs["tags"]["elbv2.k8s.aws/cluster"] == "retail-prod-eks" for g in groups.values())
    assert graph.one("aws:eks/cluster:Cluster").inputs["name"] == "retail-prod-eks"
    # The DR region has its own ALB, target groups and bindings, tagged for its own cluster.
    dr_urns = {r.urn for r in whole} - {r.urn for r in graph}
    dr_bindings = [b for b in whole.of_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding") if b.urn in dr_urns]
    dr_groups = [g for g in whole.of_type("aws:lb/targetGroup:TargetGroup") if g.urn in dr_urns]
    assert len(dr_bindings) == 4 and dr_groups
    for binding in dr_bindings:
        assert any(urn in dr_urns and whole.by_urn[urn].type == "aws:lb/targetGroup:TargetGroup"
                   for urn in binding.property_dependencies["spec"])
    assert all(g.inputs["tags"]["elbv2.k8s.aws/cluster"] == "retail-prod-dr-eks" for g in dr_groups)


def test_the_dr_slice_never_waits_on_the_primary_slices_compute(graph_of):
    # Both regions build side by side: nothing of the DR slice depends on a compute resource
    # of the primary slice (a failed primary cluster must not hold the standby back).
    graph = graph_of("prod")
    primary = graph.without_dr()
    primary_urns = {r.urn for r in primary}
    # The Region switch plan is neither region's: it names both clusters, so it waits for both.
    plan = graph.one("retail:resilience:RegionSwitchPlan")
    in_plan = {plan.urn} | {r.urn for r in graph.descendants(plan.urn)}
    dr_slice = [r for r in graph if r.urn not in primary_urns and r.urn not in in_plan]
    primary_compute = {r.urn for r in members(primary, COMPUTE_COMPONENTS)}
    assert len(dr_slice) > 100 and len(primary_compute) > 20
    assert graph.one("retail:platform:RegionalPlatform", "dr").urn in {r.urn for r in dr_slice}
    waiting = sorted({(r.name, c) for r in dr_slice for c in primary_compute if graph.depends_on(r.urn, c)})
    assert waiting == []
