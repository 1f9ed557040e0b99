"""Each service's workload role gets exactly the data access it declares (retail:services[].uses),
and its pods reach exactly the ports of the stores it declares: undeclared means no access.

Where RDS Proxy is on (staging, prod: retail:sql.proxy.enabled), "the database" is the proxy in the
primary region: pods reach it on 5432, never the cluster, and the grant names the proxy. The DR
slice's secondary has no proxy: its pods reach the secondary cluster directly. Dev runs without a
proxy and keeps the direct path."""

from __future__ import annotations

import copy
import json
import re

import pytest

from blueprint.network_paths import RDS_PROXY, network_paths, network_stores
from components.common.settings import Environment
from components.data.sql_proxy import PROXY_PORT
from config.loader import ConfigError, parse_stack_config
from config.presets import PRESETS
from tests.support import PROJECT, STACKS

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DATA_ACTIONS = re.compile(r"^(dynamodb|s3|rds-db|elasticache):")


def granted(graph, role_name: str) -> set[tuple[str, str, str]]:
    """(store kind, store, access) for every data grant attached to ``role_name``, read back from
    the documents themselves: resources name the store, actions tell the access."""
    found = set()
    for policy in graph.of_type(ROLE_POLICY):
        if policy.inputs["role"] != role_name:
            continue
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"]
            for resource in statement["Resource"]:
                if match := re.match(r"arn:aws:dynamodb:[^:]+:\d+:table/retail-\w+-([\w.-]+?)(/stream/.*)?$", resource):
                    writes = any(a in actions for a in ("dynamodb:PutItem", "dynamodb:UpdateItem"))
                    kind = "stream" if match.group(2) else ("readWrite" if writes else "read")
                    found.add(("table", match.group(1), kind))
                elif match := re.match(r"arn:aws:s3:::retail-\w+-([a-z-]+)-\d{12}/\*$", resource):
                    reads, writes = "s3:GetObject" in actions, "s3:PutObject" in actions
                    found.add(("bucket", match.group(1), {(True, False): "read", (False, True): "write"}.get(
                        (reads, writes), "readWrite")))
                elif match := re.match(r"arn:aws:rds-db:[^:]+:\d+:dbuser:(prx|cluster)-[\w-]+/(\w+)$", resource):
                    found.add(("sql", match.group(2), "connect"))
                elif resource.startswith("arn:aws:elasticache:") and ":replicationgroup:" in resource:
                    found.add(("cache", "cache", "connect"))
                elif resource == "*" and any(DATA_ACTIONS.match(action) for action in actions):
                    found.add(("any", "*", "unscoped"))
    return found


def declared(stack: str) -> dict[str, set[tuple[str, str, str]]]:
    config = parse_stack_config(PROJECT.stack_config(stack), stack)
    out = {}
    for service in config.services:
        uses = service.uses
        expected = {("table", table, access) for table, access in uses.tables.items()}
        expected |= {("bucket", purpose.replace("dataLake", "data-lake"), access)
                     for purpose, access in uses.buckets.items()}
        if uses.sql is not None:
            expected.add(("sql", uses.sql.user, "connect"))
        if uses.cache:
            expected.add(("cache", "cache", "connect"))
        out[service.name] = expected
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_role_has_exactly_the_access_it_declares(graph_of, stack):
    graph = graph_of(stack)
    for service, expected in declared(stack).items():
        assert expected, f"the {stack} preset declares nothing for {service}"
        assert granted(graph, f"retail-{stack}-{service}-workload") == expected, service


def test_the_presets_give_each_service_a_different_set():
    sets = declared("prod")
    assert sets["catalog"] == {("table", "inventory", "read"), ("bucket", "assets", "read")}
    assert ("sql", "checkout_app", "connect") in sets["checkout"]
    # Nothing but checkout signs in to the database; the catalogue writes nothing.
    assert not any(kind == "sql" for name, grants in sets.items() if name != "checkout" for kind, *_ in grants)
    assert all(access == "read" for *_, access in sets["catalog"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_database_grant_names_the_proxy_where_there_is_one_and_the_cluster_elsewhere(graph_of, stack):
    # rds-db:connect takes a resource id: prx-... signs in through the proxy only (the cluster's
    # cluster-... id would let the pod bypass it, where the network allows). Which proxy the prx-
    # id is, the access report checks (tests/blueprint/test_access.py).
    graph = graph_of(stack)
    config = parse_stack_config(PROJECT.stack_config(stack), stack)
    assert len(graph.of_type(RDS_PROXY)) == len(graph.without_dr().of_type(RDS_PROXY)) == (
        1 if config.sql.proxy.enabled else 0)  # the primary's only: the DR secondary has none
    roles = {f"retail-{stack}-{s.name}-workload": s for s in config.services}
    if config.dr.strategy.value in ("warm-standby", "active-active"):
        roles |= {f"retail-{stack}-dr-{s.name}-workload": s for s in config.services}
    assert any(s.uses.sql for s in roles.values())
    for role, service in roles.items():
        resources = {resource for policy in graph.of_type(ROLE_POLICY) if policy.inputs["role"] == role
                     for st in json.loads(policy.inputs["policy"])["Statement"] if "rds-db:connect" in st["Action"]
                     for resource in st["Resource"]}
        if service.uses.sql is None:
            assert resources == set(), role
            continue
        (resource,) = resources
        dr = "-dr-" in role
        region, resource_id, user = re.fullmatch(r"arn:aws:rds-db:([\w-]+):\d{12}:dbuser:([\w-]+)/(\w+)",
                                                 resource).groups()  # type: ignore[union-attr]
        assert user == service.uses.sql.user, role
        assert region == (config.dr.region if dr else config.region), role
        assert resource_id.startswith("prx-" if config.sql.proxy.enabled and not dr else "cluster-"), role


def _database_port(config, *, dr: bool = False) -> int:
    """The port a declaring pod opens: the proxy's in a proxied primary, else the cluster's."""
    return PROXY_PORT if config.sql.proxy.enabled and not dr else config.sql.port


@pytest.mark.parametrize("stack", STACKS)
def test_pods_reach_only_the_ports_of_the_stores_they_declare(graph_of, stack):
    graph = graph_of(stack)
    config = parse_stack_config(PROJECT.stack_config(stack), stack)
    prefixes = [""]
    if config.dr.strategy.value in ("warm-standby", "active-active"):
        prefixes.append("dr-")
    for prefix in prefixes:
        for service in config.services:
            egress = graph.one(NETWORK_POLICY, f"{prefix}{service.name}-egress").inputs["spec"]["egress"]
            data_ports = {int(port["port"]) for rule in egress for port in rule.get("ports", [])
                          if any("ipBlock" in peer and not peer["ipBlock"]["cidr"].endswith(("/0", "/32"))
                                 for peer in rule.get("to", []))}
            expected = {_database_port(config, dr=bool(prefix))} if service.uses.sql else set()
            expected |= {6379} if service.uses.cache else set()
            assert data_ports == expected, (prefix, service.name)


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_opens_connections_to_exactly_the_stores_it_declares(graph_of, stack):
    # Security groups (the pods' own, through their SecurityGroupPolicy), the stores' ingress and
    # the NetworkPolicies, evaluated together: a declared store not reachable, or an undeclared
    # one reachable, fails.
    # Both regions at once: a workload reaches its own region's stores only (the DR slice's
    # workloads are named "<region>:<namespace>/<name>").
    graph = graph_of(stack)
    config = parse_stack_config(PROJECT.stack_config(stack), stack)
    paths = network_paths(graph)
    primary_ids = {store.id for store in network_stores(graph.without_dr())}
    sides = {"": {s.id.split(":", 1)[0]: s for s in network_stores(graph) if s.id in primary_ids}}
    if config.dr.strategy.value in ("warm-standby", "active-active"):
        sides[f"{config.dr.region}:"] = {s.id.split(":", 1)[0]: s for s in network_stores(graph)
                                         if s.id not in primary_ids}
    assert len(sides) == (2 if stack == "prod" else 1)
    for prefix, stores in sides.items():
        proxied = config.sql.proxy.enabled and not prefix  # the DR secondary has no proxy
        assert set(stores) == ({"rds", "rds-proxy", "elasticache"} if proxied else {"rds", "elasticache"})
        database = stores["rds-proxy" if proxied else "rds"]
        for service in config.services:
            expected = {database.id: _database_port(config, dr=bool(prefix))} if service.uses.sql else {}
            expected |= {stores["elasticache"].id: 6379} if service.uses.cache else {}
            assert paths[f"{prefix}{service.team}/{service.name}"] == expected, (prefix, service.name)
        if proxied:
            # No workload at all (services, peak warming's pods) reaches the cluster around the proxy.
            assert not [w for w, reached in paths.items() if stores["rds"].id in reached]


@pytest.mark.parametrize(("stack", "database_rules"), [("dev", "sql-from-"), ("staging", "sql-proxy-from-")])
def test_a_service_that_stops_declaring_the_database_can_no_longer_reach_its_port(synth_with, graph_of, stack,
                                                                                  database_rules):
    # dev: the cluster admits the declaring pods; staging: the proxy does (the cluster, only the proxy).
    assert [r.name for r in graph_of(stack).of_type(INGRESS)
            if r.name.startswith(database_rules)] == [f"{database_rules}checkout"]
    services = copy.deepcopy(PRESETS[Environment(stack)]["services"])
    checkout = next(s for s in services if s["name"] == "checkout")
    assert "sql" in checkout["uses"]
    del checkout["uses"]["sql"]
    graph = synth_with(stack, services=services)
    assert network_paths(graph)["checkout/checkout"] == {}
    ingress = [r.name for r in graph.of_type(INGRESS)]
    assert not [name for name in ingress if name.startswith(database_rules)]
    # Behind a proxy the cluster still admits the proxy, and nothing else.
    assert [name for name in ingress if name.startswith("sql-from-")] == (["sql-from-sql-proxy"] if stack != "dev"
                                                                          else [])


# --- the declaration is validated ---------------------------------------------------------------

def _services(change) -> str:
    services = copy.deepcopy(PRESETS[Environment.dev]["services"])
    change(services)
    return json.dumps(services)


def _problems(services: str) -> list[tuple[str, str]]:
    config = {**PROJECT.stack_config("dev"), "retail:services": services}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, "dev")
    return caught.value.problems


@pytest.mark.parametrize(("change", "path", "fragment"), [
    (lambda s: s[1]["uses"]["tables"].update({"products": "read"}), "retail:services[1].uses.tables.products",
     "not a table"),
    (lambda s: s[1]["uses"]["buckets"].update({"media": "read"}), "retail:services[1].uses.buckets.media",
     "not a bucket purpose"),
    (lambda s: s[1]["uses"]["tables"].update({"carts": "stream"}), "retail:services[1].uses.tables.carts",
     "no change stream"),
    (lambda s: s[3]["uses"].update({"sql": {"user": "retail_admin"}}), "retail:services[3].uses.sql.user",
     "master user"),
    (lambda s: s[1]["uses"]["tables"].update({"inventory": "write"}), "retail:services[1].uses.tables.inventory",
     "did you mean"),
    (lambda s: s[1]["uses"].update({"database": True}), "retail:services[1].uses.database", "unknown key"),
])
def test_a_declaration_naming_what_does_not_exist_is_refused_at_its_key(change, path, fragment):
    found = dict(_problems(_services(change)))
    assert path in found and fragment in found[path], found


def test_data_clients_need_a_node_family_that_can_give_pods_their_own_group():
    # dev's node pool mixes t4g (no trunk interface) with m7g: fine, Karpenter picks m7g for them.
    parse_stack_config(PROJECT.stack_config("dev"), "dev")
    kubernetes = copy.deepcopy(PRESETS[Environment.dev]["kubernetes"])
    kubernetes["karpenter"]["instanceFamilies"] = ["t4g", "t3"]
    config = {**PROJECT.stack_config("dev"), "retail:kubernetes": json.dumps(kubernetes)}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, "dev")
    found = dict(caught.value.problems)
    message = found["retail:kubernetes.karpenter.instanceFamilies"]
    assert "storefront, cart, checkout" in message and "m7g" in message
    # Without a data client, a burstable-only pool is the stack's own business.
    for service in (services := copy.deepcopy(PRESETS[Environment.dev]["services"])):
        service["uses"].pop("sql", None)
        service["uses"].pop("cache", None)
    parse_stack_config({**config, "retail:services": json.dumps(services)}, "dev")
