"""The network paths with RDS Proxy in front of Aurora (retail:sql.proxy.enabled, on in the staging
and prod presets): the proxy is a store of its own on PostgreSQL's port, the cluster admits the
proxy's group alone, and no workload reaches the cluster around it.

Built from staging's own stack file: the path that ships (a dev override would also need
network.interfaceEndpoints, which the proxy reads its secret through). Prod's proxied paths, and
its DR slice without a proxy, are in test_network_paths.py; dev, without a proxy, in
tests/components/platform/test_declared_access.py."""

from __future__ import annotations

import pytest

from blueprint.graph import ResourceGraph
from blueprint.network_paths import EGRESS, INGRESS, RDS_PROXY, NetworkStore, network_paths, network_stores
from components.data.sql_proxy import PROXY_PORT

CHECKOUT = "checkout/checkout"


@pytest.fixture
def proxied(graph_of) -> ResourceGraph:
    return graph_of("staging")


def _one(graph: ResourceGraph, kind: str) -> NetworkStore:
    (store,) = [s for s in network_stores(graph) if s.id.startswith(kind + ":")]
    return store


def test_the_proxy_is_a_store_on_5432_in_the_isolated_subnets(proxied):
    (proxy,) = proxied.of_type(RDS_PROXY)
    store, cluster_store = _one(proxied, "rds-proxy"), _one(proxied, "rds")
    assert store.id == f"rds-proxy:{proxy.id}"
    assert store.port == PROXY_PORT == 5432
    assert cluster_store.port != PROXY_PORT  # the cluster keeps its own, non-default port (RDS.23)
    assert store.security_groups == frozenset(proxy.inputs["vpcSecurityGroupIds"])
    assert not store.security_groups & cluster_store.security_groups  # a group of its own
    assert store.cidrs == cluster_store.cidrs and store.cidrs  # the same isolated subnets


def test_only_checkout_reaches_the_proxy_and_no_workload_reaches_the_cluster_around_it(proxied):
    paths = network_paths(proxied)
    proxy, cache = _one(proxied, "rds-proxy"), _one(proxied, "elasticache")
    cluster = _one(proxied, "rds")
    assert paths[CHECKOUT] == {proxy.id: PROXY_PORT}
    assert [w for w, reached in paths.items() if proxy.id in reached] == [CHECKOUT]
    assert all(cluster.id not in reached for reached in paths.values())
    assert all(set(reached) <= {cache.id} for w, reached in paths.items() if w != CHECKOUT)


def test_only_the_proxy_reaches_the_cluster_and_the_proxy_nothing_else(proxied):
    proxy, cluster = _one(proxied, "rds-proxy"), _one(proxied, "rds")
    (proxy_group,) = proxy.security_groups
    # The cluster admits exactly one group, the proxy's, on its own port; no CIDR rule.
    into_cluster = [r.inputs for r in proxied.of_type(INGRESS)
                    if r.inputs["securityGroupId"] in cluster.security_groups]
    assert [(r.get("referencedSecurityGroupId"), r.get("cidrIpv4"), r["fromPort"], r["toPort"])
            for r in into_cluster] == [(proxy_group, None, cluster.port, cluster.port)]
    # The proxy sends to the cluster's port and to the endpoints' HTTPS (Secrets Manager): no other egress.
    (endpoints,) = [r.inputs["securityGroupId"] for r in proxied.of_type(INGRESS)
                    if r.name == "network-endpoints-https"]
    out_of_proxy = {(r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"], r.inputs["toPort"])
                    for r in proxied.of_type(EGRESS) if r.inputs["securityGroupId"] == proxy_group}
    assert out_of_proxy == {(next(iter(cluster.security_groups)), cluster.port, cluster.port), (endpoints, 443, 443)}
    # The proxy admits the declaring service's pod group on 5432, nothing else.
    (checkout_group,) = [r.inputs["securityGroupId"] for r in proxied.of_type(EGRESS)
                         if r.name == "checkout-to-sql-proxy"]
    into_proxy = [(r.inputs.get("referencedSecurityGroupId"), r.inputs.get("cidrIpv4"), r.inputs["fromPort"])
                  for r in proxied.of_type(INGRESS) if r.inputs["securityGroupId"] == proxy_group]
    assert into_proxy == [(checkout_group, None, PROXY_PORT)]


def test_the_access_report_shows_checkout_signing_in_to_the_proxy_not_the_cluster(proxied):
    from blueprint.access import access_report
    report = access_report(proxied)
    (proxy_store,) = [s for s in report.stores if s.id.startswith("rds-proxy:")]
    (cluster_store,) = [s for s in report.stores if s.id.startswith("rds:")]
    (checkout,) = [p.id for p in report.principals if p.name == "checkout-role"]
    assert report.access[checkout][proxy_store.id] == ["rds-db:connect as checkout_app"]
    assert report.access[checkout][cluster_store.id] == []
    # A service that does not declare the database signs in nowhere.
    (catalog,) = [p.id for p in report.principals if p.name == "catalog-role"]
    assert report.access[catalog][proxy_store.id] == []
    # The cluster lets in one principal: the proxy's role, as the granted user only.
    signing_in = {p.name: report.access[p.id][cluster_store.id] for p in report.principals
                  if report.access[p.id].get(cluster_store.id)}
    assert signing_in == {"sql-proxy-role": ["rds-db:connect as checkout_app"]}
