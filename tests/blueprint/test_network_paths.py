"""The network half of the paths: which pods can open a connection to which store, decided from
the graph's security groups, SecurityGroupPolicies and NetworkPolicies together. Each mutation
below breaks one layer and must cut exactly the path it carries.

Prod runs RDS Proxy in its primary region (retail:sql.proxy.enabled): the declaring services reach
the proxy on 5432 and never the cluster, which admits the proxy's group alone; the DR slice's
secondary has no proxy, so its services reach the secondary cluster directly."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from blueprint.graph import Resource, ResourceGraph
from blueprint.network_paths import (
    EGRESS,
    INGRESS,
    NETWORK_POLICY,
    SECURITY_GROUP_POLICY,
    network_paths,
    network_stores,
    node_security_groups,
    workloads,
)
from components.data.sql_proxy import PROXY_PORT

CHECKOUT, CATALOG, CART = "checkout/checkout", "storefront/catalog", "storefront/cart"
#: Peak warming's placeholder pods: the primary region only, and they reach no store.
HEADROOM = "peak-warming/headroom"
DR_REGION = "eu-central-1"
SQL_PORT = 5433  # the cluster's own (non-default) port; the proxy listens on 5432


@pytest.fixture
def prod(graph_of) -> ResourceGraph:
    return graph_of("prod")


def _store(graph: ResourceGraph, kind: str, *, dr: bool = False) -> str:
    """The primary region's store of a kind (prod has its DR secondary as well), or the DR one."""
    primary = {s.id for s in network_stores(graph.without_dr())}
    (store,) = [s.id for s in network_stores(graph) if s.id.startswith(kind + ":") and (s.id in primary) != dr]
    return store


def _nodes(graph: ResourceGraph) -> frozenset[str]:
    """The primary cluster's node group."""
    (group,) = node_security_groups(graph.without_dr())
    return frozenset({group})


def _edit(graph: ResourceGraph, keep: Callable[[Resource], bool] = lambda r: True,
          change: Callable[[Resource], dict[str, Any] | None] = lambda r: None) -> ResourceGraph:
    resources = []
    for resource in graph.resources:
        if not keep(resource):
            continue
        inputs = change(resource)
        resources.append(resource if inputs is None else dataclasses.replace(resource, inputs=inputs))
    return dataclasses.replace(graph, resources=tuple(resources))


def test_in_prod_only_the_declaring_services_reach_the_database_proxy_and_the_cache(prod):
    paths, proxy, cache = network_paths(prod), _store(prod, "rds-proxy"), _store(prod, "elasticache")
    assert paths[CHECKOUT] == {proxy: PROXY_PORT}
    assert paths[CART] == {cache: 6379}
    assert paths[CATALOG] == {}
    assert paths[HEADROOM] == {}
    # Nothing in the primary region reaches the cluster itself: only the proxy does.
    sql = _store(prod, "rds")
    assert not [w for w, reached in paths.items() if sql in reached]
    assert [w for w, reached in paths.items() if proxy in reached] == [CHECKOUT]


def test_in_dev_without_the_proxy_checkout_reaches_the_cluster_itself(graph_of):
    # The off path (dev's preset): no proxy store, and checkout goes straight to the cluster's port.
    dev = graph_of("dev")
    assert not [s for s in network_stores(dev) if s.id.startswith("rds-proxy:")]
    paths, sql = network_paths(dev), _store(dev, "rds")
    assert paths[CHECKOUT] == {sql: SQL_PORT}
    assert [w for w, reached in paths.items() if sql in reached] == [CHECKOUT]


def test_the_dr_clusters_workloads_are_named_by_region_and_reach_only_the_dr_stores(prod):
    # Two clusters run the same deployments: the DR ones must not overwrite the primary ones,
    # and each reaches only its own region's secondaries (no path crosses the regions).
    paths = network_paths(prod)
    sql, cache = _store(prod, "rds", dr=True), _store(prod, "elasticache", dr=True)
    assert set(paths) == {w for name in (CHECKOUT, CATALOG, CART, "storefront/storefront")
                          for w in (name, f"{DR_REGION}:{name}")} | {HEADROOM}
    # The secondary has no proxy: the DR checkout reaches the secondary cluster on its own port,
    # and neither the primary's proxy nor its cluster.
    assert not [s for s in network_stores(prod) if s.id.startswith("rds-proxy:") and s.id != _store(prod, "rds-proxy")]
    assert paths[f"{DR_REGION}:{CHECKOUT}"] == {sql: SQL_PORT}
    assert paths[f"{DR_REGION}:{CART}"] == {cache: 6379}
    assert paths[f"{DR_REGION}:{CATALOG}"] == {}
    assert len(node_security_groups(prod)) == 2
    assert network_paths(prod.without_dr()) == {w: r for w, r in paths.items() if not w.startswith(DR_REGION)}


def test_pods_with_a_security_group_policy_carry_their_group_and_the_nodes(prod):
    nodes = _nodes(prod)
    by_id = {w.id: w for w in workloads(prod)}
    assert by_id[CHECKOUT].own_groups and nodes < by_id[CHECKOUT].security_groups
    assert not by_id[CATALOG].own_groups and by_id[CATALOG].security_groups == nodes


def test_without_its_security_group_policy_checkout_falls_back_to_the_nodes_group_and_is_cut_off(prod):
    graph = _edit(prod, keep=lambda r: r.name != "checkout-security-group-policy")
    assert network_paths(graph)[CHECKOUT] == {}


def test_without_the_proxys_ingress_rule_checkout_is_cut_off(prod):
    graph = _edit(prod, keep=lambda r: not (r.type == INGRESS and r.name == "sql-proxy-from-checkout"))
    assert network_paths(graph)[CHECKOUT] == {}
    assert network_paths(graph)[CART] == network_paths(prod)[CART]
    # The DR checkout's own rule is another rule: its path to the secondary stands.
    assert network_paths(graph)[f"{DR_REGION}:{CHECKOUT}"] == network_paths(prod)[f"{DR_REGION}:{CHECKOUT}"]


def test_without_the_dr_databases_ingress_rule_the_dr_checkout_is_cut_off(prod):
    graph = _edit(prod, keep=lambda r: not (r.type == INGRESS and r.name == "dr-sql-from-checkout"))
    assert network_paths(graph)[f"{DR_REGION}:{CHECKOUT}"] == {}
    assert network_paths(graph)[CHECKOUT] == network_paths(prod)[CHECKOUT]


def test_a_pod_group_without_egress_to_the_store_is_cut_off_unless_the_nodes_group_rides_along(prod):
    # The pod's own group lost its egress rule: the nodes' group (EKS: all egress) still carries it.
    graph = _edit(prod, keep=lambda r: not (r.type == EGRESS and r.name == "checkout-to-sql-proxy"))
    assert network_paths(graph)[CHECKOUT] == network_paths(prod)[CHECKOUT]

    # A policy listing only the pod's own group: now the missing egress rule matters.
    def own_group_only(resource: Resource) -> dict[str, Any] | None:
        if resource.type != SECURITY_GROUP_POLICY:
            return None
        spec = resource.inputs["spec"]
        own = [g for g in spec["securityGroups"]["groupIds"] if g not in node_security_groups(prod)]
        return {**resource.inputs, "spec": {**spec, "securityGroups": {"groupIds": own}}}
    alone = _edit(prod, change=own_group_only)
    assert network_paths(alone)[CHECKOUT] == network_paths(prod)[CHECKOUT]
    assert network_paths(_edit(alone, keep=lambda r: not (r.type == EGRESS and r.name == "checkout-to-sql-proxy"))
                         )[CHECKOUT] == {}


def test_a_network_policy_without_the_port_cuts_the_path_the_groups_allow(prod):
    def drop_data_ports(resource: Resource) -> dict[str, Any] | None:
        if resource.type != NETWORK_POLICY or resource.name != "checkout-egress":
            return None
        spec = resource.inputs["spec"]
        rules = [rule for rule in spec["egress"] if not any(p.get("port") == PROXY_PORT for p in rule.get("ports", []))]
        return {**resource.inputs, "spec": {**spec, "egress": rules}}
    assert network_paths(_edit(prod, change=drop_data_ports))[CHECKOUT] == {}
    assert network_paths(prod)[CHECKOUT] != {}


def test_a_cluster_admitting_the_nodes_group_opens_it_to_every_pod_around_the_proxy(prod):
    # The layout before the paths issue: the database admitted the cluster's group, so every pod
    # on every node reached its port whatever it declared (only the NetworkPolicy stood between).
    # Behind the proxy, the cluster's only ingress rule admits the proxy's group: copied to admit
    # the nodes' group instead, the pods bypass the proxy.
    rule = prod.one(INGRESS, "sql-from-sql-proxy")
    from_nodes = dataclasses.replace(rule, urn="urn:test:sql-from-nodes", inputs={
        **rule.inputs, "referencedSecurityGroupId": next(iter(_nodes(prod)))})
    sql = _store(prod, "rds")
    # The NetworkPolicies alone still hold: checkout's allows the proxy's port, not the cluster's.
    with_rule = dataclasses.replace(prod, resources=(*prod.resources, from_nodes))
    assert not any(sql in reached for reached in network_paths(with_rule).values())

    def open_policies(resource: Resource) -> dict[str, Any] | None:
        if resource.type != NETWORK_POLICY or not resource.name.endswith("-egress"):
            return None
        spec = resource.inputs["spec"]
        return {**resource.inputs, "spec": {**spec, "egress": [*spec["egress"], {}]}}  # {}: allow all

    opened = _edit(prod, change=open_policies)
    graph = dataclasses.replace(opened, resources=(*opened.resources, from_nodes))
    paths = network_paths(graph)
    services = [w for w in paths if not w.startswith(DR_REGION) and w != HEADROOM]
    assert len(services) == 4 and all(sql in paths[w] for w in services)
    # Peak warming's placeholders: their namespace's default deny (no "-egress" policy opened) holds.
    assert paths[HEADROOM] == {}
    # The primary cluster's node group means nothing in the DR region's VPC.
    assert not any(sql in reached for workload, reached in paths.items() if workload.startswith(DR_REGION))
