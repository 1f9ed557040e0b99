"""The regional slice: the primary keeps every resource it had before the slice existed, and
the slice can be built a second time for another region."""

from __future__ import annotations

from collections import Counter

import pulumi
import pulumi_random as random
import pytest

from blueprint import ResourceGraph
from blueprint.synth import GLOBAL, run_program
from components.common.context import StackContext
from components.data.object_storage import ObjectStore
from components.foundation.keys import KeyRing
from components.foundation.network import Network
from components.platform.regional import RegionalPlatform, RegionalPlatformArgs
from config.loader import parse_stack_config
from tests.support import PROJECT, STACKS

SLICE = "retail:platform:RegionalPlatform"
ACCOUNT_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PREVIOUS = {cls.PREVIOUS_TYPE.replace("retail:security:", "retail:foundation:")
            .replace("retail:network:", "retail:foundation:").replace("retail:storage:", "retail:data:"):
            cls.PREVIOUS_TYPE for cls in (KeyRing, Network, ObjectStore)}


def _pre_slice_urn(urn: str) -> str:
    """Where a resource of the primary slice lived before the slice existed."""
    urn = urn.replace(f"{SLICE}$", "", 1)
    for current, previous in PREVIOUS.items():
        urn = urn.replace(f"${current}$", f"${previous}$").replace(f"${current}::", f"${previous}::")
    return urn


def test_previous_types_name_the_layer_tokens_they_replace():
    assert PREVIOUS == {"retail:foundation:KeyRing": "retail:security:KeyRing",
                        "retail:foundation:Network": "retail:network:Network",
                        "retail:data:ObjectStore": "retail:storage:ObjectStore"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_of_the_primary_keeps_its_pre_slice_identity(graph_of, stack):
    graph = graph_of(stack)
    primary = graph.one(SLICE, "primary")
    below = graph.descendants(primary.urn)
    assert len(below) > 200
    missing = [r.urn for r in below if _pre_slice_urn(r.urn) not in r.aliases]
    assert missing == []


#: What each stack's DR strategy adds beside the primary slice (retail:dr): backup-restore its
#: DR keys and AWS Backup; warm-standby a DR slice (holding its keys), AWS Backup and failover.
DR_CHILDREN = {
    "dev": set(),
    "staging": {("retail:foundation:KeyRing", "dr-keys"), ("retail:resilience:Backup", "backup")},
    "prod": {(SLICE, "dr"), ("retail:resilience:Backup", "backup"),
             ("retail:edge:FailoverRouting", "origin-failover"),
             ("retail:resilience:RegionSwitchPlan", "region-switch")},
}
#: The FIS rehearsals (retail:dr.faultInjection: dev and staging): an AZ's loss is rehearsed with
#: or without a DR region, so they belong to the primary's view.
REHEARSALS = {("retail:resilience:FaultInjection", "fis"), ("aws:cloudwatch/logGroup:LogGroup", "fis"),
              ("aws:cloudwatch/metricAlarm:MetricAlarm", "fis-stop")}
REHEARSED = {"dev": REHEARSALS, "staging": REHEARSALS, "prod": set()}
#: The stack's alarms (retail:alarms: staging and prod): global, one topic per region they watch.
ALARMS = {("retail:observability:Alarms", "alarms")}
OBSERVED = {"dev": set(), "staging": ALARMS, "prod": ALARMS}


@pytest.mark.parametrize("stack", STACKS)
def test_the_global_edge_stays_outside_the_slice(graph_of, stack):
    graph = graph_of(stack)
    root = graph.one("retail:platform:RetailPlatform")
    edge = {(SLICE, "primary"), ("retail:edge:Cdn", "cdn"), ("retail:edge:WebFirewall", "waf-cdn"),
            ("random:index/randomPassword:RandomPassword", "origin-secret"),
            (ACCOUNT_BLOCK, "storage-account-public-access-block"), ("retail:foundation:KeyRing", "edge-keys")}
    assert {(c.type, c.name) for c in graph.children(root.urn)} == \
        edge | DR_CHILDREN[stack] | REHEARSED[stack] | OBSERVED[stack]
    # What DR adds is exactly what the primary region's view leaves out.
    assert {(c.type, c.name) for c in graph.without_dr().children(root.urn)} == \
        edge | REHEARSED[stack] | OBSERVED[stack]


def test_the_prod_dr_slice_lives_in_the_dr_region_and_mirrors_the_primary(graph_of):
    graph = graph_of("prod")
    dr_region = graph.outputs["drRegion"]
    dr = graph.descendants(graph.one(SLICE, "dr").urn)
    primary = graph.descendants(graph.one(SLICE, "primary").urn)
    assert {r.region for r in dr if r.region not in (None, GLOBAL)} == {dr_region} != {graph.region}
    assert {r.region for r in primary if r.region not in (None, GLOBAL)} == {graph.region}
    # Logical names tell the DR side apart (most start with "dr-"; grants and client rules name
    # their DR target), so no URN of the stack collides.
    assert all("dr-" in r.name for r in dr)
    assert [urn for urn, n in Counter(r.urn for r in graph).items() if n > 1] == []
    # The DR slice is new: its aliases are type renames of its own names only, never a
    # pre-slice (primary) identity.
    primary_aliases = {alias for r in primary for alias in r.aliases}
    assert all(alias.rsplit("::", 1)[1] == r.name for r in dr for alias in r.aliases)
    assert not primary_aliases & {alias for r in dr for alias in r.aliases}
    # The same stores, networks and compute on the DR side: secondaries instead of the cache and
    # the database, and no tables (the primary's tables replicate there as global tables).
    # Analytics (streams, the lake, the warehouse) run in the primary only: rebuilt from the
    # replicated stores; so do the partner APIs (their contract is served from one region).
    # RDS Proxy fronts the primary's writer only (the secondary is read-only until promoted, and
    # the DR services reach it directly), and peaks are warmed in the primary only.
    primary_only = {"retail:data:Cache", "retail:data:SqlDatabase", "retail:data:SqlProxy",
                    "retail:data:NoSqlTables", "retail:analytics:Streams", "retail:analytics:Lake",
                    "retail:analytics:Warehouse", "retail:api:PartnerApi", "retail:api:PartnerBackends",
                    "retail:peaks:PeakWarming"}
    kinds = {r.type for r in primary if not r.custom} - primary_only
    assert kinds <= {r.type for r in dr if not r.custom}
    assert {"retail:data:CacheSecondary", "retail:data:SqlSecondary"} <= {r.type for r in dr}
    # Left out of the DR side on purpose, not by accident: the primary has them, the DR none.
    assert {"retail:data:SqlProxy", "retail:peaks:PeakWarming"} <= {r.type for r in primary}
    dr_types = {r.type for r in dr}
    assert not {"retail:data:SqlProxy", "aws:rds/proxy:Proxy", "retail:peaks:PeakWarming"} & dr_types


def test_the_account_wide_public_access_block_is_built_once_with_all_four_flags(graph_of):
    graph = graph_of("prod")
    block = graph.one(ACCOUNT_BLOCK)
    assert block.parent == graph.one("retail:platform:RetailPlatform").urn
    assert block.inputs == {"accountId": "123456789012", "blockPublicAcls": True, "blockPublicPolicy": True,
                            "ignorePublicAcls": True, "restrictPublicBuckets": True}
    # Account-wide: destroying one stack must not reopen public access, so never protected
    # (it is retained on delete instead) and never inside a region's slice.
    assert not block.protect
    # It was the object store's child before the slice: the alias keeps it from being recreated.
    assert f"{graph.one('retail:platform:RetailPlatform').urn.rsplit('::', 1)[0]}$retail:storage:ObjectStore" \
           f"${ACCOUNT_BLOCK}::storage-account-public-access-block" in block.aliases


def test_no_account_public_access_block_when_the_stack_turns_it_off(synth_with):
    assert synth_with("dev", storage={"accountPublicAccessBlock": False}).of_type(ACCOUNT_BLOCK) == []


def _two_slices(dr_region: str) -> None:
    config = parse_stack_config(PROJECT.stack_config("prod"))
    context = StackContext(conventions=config.conventions("prod"), region=config.region,
                           account_id="123456789012", partition="aws", protect=True)
    secret = random.RandomPassword("origin-secret", length=48, special=False)

    def args(**extra) -> RegionalPlatformArgs:
        return RegionalPlatformArgs(network=config.network, storage=config.storage, sql=config.sql,
                                    nosql=config.nosql, cache=config.cache, kubernetes=config.kubernetes,
                                    services=config.services, edge=config.edge, origin_secret=secret.result,
                                    **extra)

    root = pulumi.ComponentResource("test:index:Root", "root")
    RegionalPlatform("primary", context, args(key_replica_region=dr_region, moved_from=root),
                     opts=pulumi.ResourceOptions(parent=root))
    RegionalPlatform("dr", context.in_region(dr_region), args(name_prefix="dr-"),
                     opts=pulumi.ResourceOptions(parent=root))


def test_the_slice_builds_twice_without_a_urn_collision_and_in_its_own_region():
    graph = run_program(lambda: _two_slices("eu-central-1"), project="retail", stack="prod",
                        config=PROJECT.stack_config("prod"))
    counts = Counter(r.urn for r in graph)
    assert [urn for urn, n in counts.items() if n > 1] == []
    dr = graph.descendants(graph.one(SLICE, "dr").urn)
    primary = graph.descendants(graph.one(SLICE, "primary").urn)
    assert len(dr) == len(primary)
    assert {r.region for r in dr if r.region not in (None, GLOBAL)} == {"eu-central-1"}
    assert {r.region for r in primary if r.region not in (None, GLOBAL)} == {"eu-west-1"}
    # Only the primary carries aliases to where its resources were before the slice.
    primary_aliases = {alias for r in primary for alias in r.aliases}
    assert not primary_aliases & {alias for r in dr for alias in r.aliases}
    # Keys of the primary are multi-Region so that DR replicas can decrypt its data.
    keys = [r for r in primary if r.type == "aws:kms/key:Key"]
    assert keys and all(k.inputs["multiRegion"] for k in keys)


INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def _database_rules(graph: ResourceGraph, groups: set[str]) -> set[tuple[str, str, str, int]]:
    """Every rule on or to these groups: (kind, group, the other group, port), by group name."""
    names = {g.id: g.name for g in graph.of_type("aws:ec2/securityGroup:SecurityGroup")}
    return {(kind, names[r.inputs["securityGroupId"]], names.get(r.inputs.get("referencedSecurityGroupId"), "?"),
             int(r.inputs["fromPort"]))
            for kind, type_ in (("in", INGRESS), ("out", EGRESS)) for r in graph.of_type(type_)
            if {r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId")} & groups}


def _egress_ports(graph: ResourceGraph, policy: str) -> set[int]:
    """The ports a service's egress NetworkPolicy opens to IP ranges (the data subnets, 443...)."""
    spec = graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", policy).inputs["spec"]
    return {int(port["port"]) for rule in spec["egress"] if any("ipBlock" in peer for peer in rule["to"])
            for port in rule["ports"]}


def test_the_primary_services_reach_the_proxy_and_the_dr_services_the_secondary_directly(graph_of):
    graph = graph_of("prod")
    config = parse_stack_config(PROJECT.stack_config("prod"))
    assert config.sql.proxy.enabled  # prod's preset
    users = {s.name: s.uses.sql.user for s in config.services if s.uses.sql is not None}
    assert users, "prod declares a database user"
    dr_region = graph.outputs["drRegion"]
    primary, dr = graph.without_dr(), graph.descendants(graph.one(SLICE, "dr").urn)
    (proxy,) = graph.of_type("aws:rds/proxy:Proxy")
    assert proxy.region == graph.region
    (cluster,) = primary.of_type("aws:rds/cluster:Cluster")
    (secondary,) = [r for r in dr if r.type == "aws:rds/cluster:Cluster"]
    (proxy_group,), (cluster_group,), (secondary_group,) = (
        proxy.inputs["vpcSecurityGroupIds"], cluster.inputs["vpcSecurityGroupIds"],
        secondary.inputs["vpcSecurityGroupIds"])

    # The network: primary pods -> proxy:5432 -> cluster:5433 (and the proxy to the endpoints);
    # DR pods -> secondary:5433. Nothing else touches a database's group.
    assert _database_rules(graph, {proxy_group, cluster_group}) == {
        *{(k, g, o, 5432) for s in users for k, g, o in (("in", "sql-proxy", f"{s}-pods"),
                                                          ("out", f"{s}-pods", "sql-proxy"))},
        ("in", "sql", "sql-proxy", 5433), ("out", "sql-proxy", "sql", 5433),
        ("out", "sql-proxy", "network-endpoints", 443)}
    assert _database_rules(graph, {secondary_group}) == {
        (k, g, o, 5433) for s in users for k, g, o in (("in", "dr-sql", f"dr-{s}-pods"),
                                                        ("out", f"dr-{s}-pods", "dr-sql"))}
    for service in users:
        # The pods' own NetworkPolicy opens the port of what they reach, not the other one.
        assert {5432, 5433} & _egress_ports(graph, f"{service}-egress") == {5432}
        assert {5432, 5433} & _egress_ports(graph, f"dr-{service}-egress") == {5433}
        # And the ConfigMap points them there.
        configmaps = {c.name: c.inputs["data"] for c in graph.of_type("kubernetes:core/v1:ConfigMap")
                      if c.name in (f"{service}-database", f"dr-{service}-database")}
        here, there = configmaps[f"{service}-database"], configmaps[f"dr-{service}-database"]
        assert here["DATABASE_HOST"].startswith(f"{proxy.inputs['name']}.proxy-")
        assert here["DATABASE_HOST"].endswith(f".{graph.region}.rds.amazonaws.com")
        assert there["DATABASE_HOST"].startswith(f"{secondary.inputs['clusterIdentifier']}.cluster-")
        assert there["DATABASE_HOST"].endswith(f".{dr_region}.rds.amazonaws.com")
        assert (here["DATABASE_PORT"], there["DATABASE_PORT"]) == ("5432", "5433")
        assert here["DATABASE_USER"] == there["DATABASE_USER"] == users[service]
