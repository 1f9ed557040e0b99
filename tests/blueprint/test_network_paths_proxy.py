"""The network paths with RDS Proxy in front of Aurora (retail:sql.proxy.enabled): the proxy is
a store of its own on PostgreSQL's port, and no workload reaches the cluster around it."""

from __future__ import annotations

import pytest

from blueprint.graph import ResourceGraph
from blueprint.network_paths import RDS_PROXY, network_paths, network_stores

CHECKOUT = "checkout/checkout"


@pytest.fixture(scope="module")
def proxied() -> ResourceGraph:
    from blueprint.synth import synthesize
    from tests.support import config_with
    return synthesize("dev", config=config_with("dev", sql={"proxy": {"enabled": True}}))


def test_the_proxy_is_a_store_on_5432_in_the_isolated_subnets(proxied):
    (proxy,) = proxied.of_type(RDS_PROXY)
    (store,) = [s for s in network_stores(proxied) if s.id.startswith("rds-proxy:")]
    assert store.id == f"rds-proxy:{proxy.id}"
    assert store.port == 5432
    assert store.security_groups == frozenset(proxy.inputs["vpcSecurityGroupIds"])
    (cluster_store,) = [s for s in network_stores(proxied) if s.id.startswith("rds:")]
    assert store.cidrs == cluster_store.cidrs and store.cidrs  # the same isolated subnets


def test_no_workload_reaches_the_cluster_around_the_proxy(proxied):
    (cluster_store,) = [s.id for s in network_stores(proxied) if s.id.startswith("rds:")]
    assert all(cluster_store not in reached for reached in network_paths(proxied).values())


def test_the_access_report_shows_checkout_signing_in_to_the_proxy_not_the_cluster(proxied):
    from blueprint.access import access_report
    report = access_report(proxied)
    (proxy_store,) = [s for s in report.stores if s.id.startswith("rds-proxy:")]
    (cluster_store,) = [s for s in report.stores if s.id.startswith("rds:")]
    (checkout,) = [p.id for p in report.principals if p.name == "checkout-role"]
    assert report.access[checkout][proxy_store.id]
    assert all("rds-db:connect" in action for action in report.access[checkout][proxy_store.id])
    assert report.access[checkout][cluster_store.id] == []
    # A service that does not declare the database signs in nowhere.
    (catalog,) = [p.id for p in report.principals if p.name == "catalog-role"]
    assert report.access[catalog][proxy_store.id] == []
