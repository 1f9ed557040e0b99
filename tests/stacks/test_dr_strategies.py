"""Every DR strategy, not only the presets' three: what the DR region holds is what the strategy
table promises, nothing it promises to cover is left in one region, the report finds every
store covered, and the pack passes."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from blueprint.checks import check
from blueprint.dr import dr_report
from blueprint.graph import ResourceGraph
from blueprint.synth import synthesize
from components.resilience.objectives import Strategy, Tier
from tests.support import config_with

DR_REGION, PRIMARY = "eu-central-1", "eu-west-1"
#: Targets each strategy can meet (prod's preset asks warm-standby's), so every one synthesizes.
TARGETS: dict[Strategy, dict[str, Any]] = {
    Strategy.backup_restore: {"databases": {"rpo": "2h", "rto": "4h"}, "objects": {"rpo": "2h", "rto": "4h"},
                              "service": {"rto": "8h"}},
    Strategy.pilot_light: {"databases": {"rpo": "1s", "rto": "15m"}, "objects": {"rpo": "15m", "rto": "5m"},
                           "service": {"rto": "1h"}},
    Strategy.warm_standby: {"databases": {"rpo": "1s", "rto": "1m"}, "objects": {"rpo": "15m", "rto": "5m"},
                            "service": {"rto": "5m"}},
    Strategy.active_active: {"databases": {"rpo": "1s", "rto": "1m"}, "objects": {"rpo": "15m", "rto": "5m"},
                             "service": {"rto": "5m"}},
}


@cache
def graph(strategy: Strategy) -> ResourceGraph:
    if strategy is Strategy.none:
        dr: dict[str, Any] = {"strategy": "none", "region": None, "cidr": None,
                              # Prod's preset declares warm-standby's targets: none meets none.
                              "targets": {tier: {"rpo": None, "rto": None} for tier in ("databases", "objects")}
                              | {"service": {"rto": None}}}
    else:
        dr = {"strategy": strategy.value, "region": DR_REGION, "targets": TARGETS[strategy],
              "cidr": "10.31.0.0/16" if strategy in (Strategy.pilot_light, Strategy.warm_standby,
                                                      Strategy.active_active) else None}
    return synthesize("prod", config=config_with("prod", dr=dr))


def in_dr(g: ResourceGraph, type_token: str) -> list:
    return [r for r in g.of_type(type_token) if (r.inputs.get("region") or r.region) == DR_REGION]


def test_none_builds_nothing_outside_the_primary_and_the_edge():
    g = graph(Strategy.none)
    assert {r.inputs.get("region") or r.region for r in g if r.custom} <= {PRIMARY, "us-east-1", "global", None}
    assert g.of_type("retail:resilience:Backup") == []


@pytest.mark.parametrize("strategy", [s for s in Strategy if s is not Strategy.none], ids=lambda s: s.value)
def test_every_strategy_backs_up_to_a_vault_in_the_dr_region(strategy):
    g = graph(strategy)
    (plan,) = g.of_type("aws:backup/plan:Plan")
    (copy,) = [c for rule in plan.inputs["rules"] for c in rule.get("copyActions", [])]
    (destination,) = in_dr(g, "aws:backup/vault:Vault")
    assert destination.urn in plan.property_dependencies["rules"]
    assert copy["destinationVaultArn"].split(":")[3] == DR_REGION
    assert destination.inputs["kmsKeyArn"].split(":")[3] == DR_REGION


def test_backup_restore_keeps_single_region_keys_and_only_keys_and_a_vault_there():
    g = graph(Strategy.backup_restore)
    dr_types = {r.type for r in g if r.custom and (r.inputs.get("region") or r.region) == DR_REGION}
    assert dr_types <= {"aws:kms/key:Key", "aws:kms/alias:Alias", "aws:backup/vault:Vault",
                        "aws:backup/vaultLockConfiguration:VaultLockConfiguration"}
    assert all(k.inputs["multiRegion"] is False for k in g.of_type("aws:kms/key:Key"))


@pytest.mark.parametrize("strategy", [Strategy.pilot_light, Strategy.warm_standby, Strategy.active_active],
                         ids=lambda s: s.value)
def test_replicating_strategies_replicate_every_store_of_record_into_the_dr_region(strategy):
    g = graph(strategy)
    # Keys: the DR region's are replicas of the primary's multi-Region keys, every domain (data,
    # logs, secrets, and prod's alarms: the DR region's alarm topic is encrypted with it).
    replicas = in_dr(g, "aws:kms/replicaKey:ReplicaKey")
    assert sorted(r.inputs["tags"]["key-domain"] for r in replicas) == ["alarms", "data", "logs", "secrets"]
    # Tables: each has a replica in the DR region with the DR key and point-in-time recovery.
    for table in g.of_type("aws:dynamodb/table:Table"):
        (replica,) = table.inputs["replicas"]
        assert replica["regionName"] == DR_REGION and replica["pointInTimeRecovery"] is True
        assert replica["kmsKeyArn"].split(":")[3] == DR_REGION
    # Buckets: every data bucket replicates to its DR twin, with RTC.
    configs = g.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == 3
    for config in configs:
        (rule,) = config.inputs["rules"]
        assert "-dr-" in rule["destination"]["bucket"]
        assert rule["destination"]["replicationTime"]["status"] == "Enabled"
    # Aurora: one global cluster, a secondary in the DR region.
    (global_cluster,) = g.of_type("aws:rds/globalCluster:GlobalCluster")
    (secondary,) = in_dr(g, "aws:rds/cluster:Cluster")
    assert global_cluster.urn in secondary.property_dependencies["globalClusterIdentifier"]
    assert secondary.inputs["kmsKeyId"].split(":")[3] == DR_REGION
    # Its own network, on retail:dr.cidr.
    (vpc,) = in_dr(g, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.31.0.0/16"


def test_a_pilot_light_holds_network_and_data_but_no_compute_and_a_headless_database():
    g = graph(Strategy.pilot_light)
    assert in_dr(g, "aws:eks/cluster:Cluster") == [] and in_dr(g, "aws:lb/loadBalancer:LoadBalancer") == []
    assert in_dr(g, "aws:rds/clusterInstance:ClusterInstance") == []
    assert in_dr(g, "aws:elasticache/replicationGroup:ReplicationGroup") == []
    assert g.of_type("aws:route53/record:Record") == [] or not any(
        r.inputs.get("failoverRoutingPolicies") for r in g.of_type("aws:route53/record:Record"))


@pytest.mark.parametrize("strategy", [Strategy.warm_standby, Strategy.active_active], ids=lambda s: s.value)
def test_standby_strategies_run_the_slice_and_route_traffic_on_health(strategy):
    g = graph(strategy)
    (cluster,) = in_dr(g, "aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == "retail-prod-dr-eks"
    assert len(in_dr(g, "aws:rds/clusterInstance:ClusterInstance")) == 1
    (secondary_cache,) = in_dr(g, "aws:elasticache/replicationGroup:ReplicationGroup")
    assert secondary_cache.inputs["globalReplicationGroupId"]
    records = [r for r in g.of_type("aws:route53/record:Record") if r.inputs.get("healthCheckId")]
    policy = "failoverRoutingPolicies" if strategy is Strategy.warm_standby else "latencyRoutingPolicies"
    assert len(records) == 2 and all(r.inputs.get(policy) for r in records)
    (distribution,) = g.of_type("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["originGroups"]
    (sql_secondary,) = in_dr(g, "aws:rds/cluster:Cluster")
    assert bool(sql_secondary.inputs.get("enableGlobalWriteForwarding")) is (strategy is Strategy.active_active)


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.value)
def test_every_strategy_covers_every_store_and_passes_the_pack(strategy):
    g = graph(strategy)
    targets = {Tier(t): ((o.get("rpo") and _seconds(o["rpo"])), (o.get("rto") and _seconds(o["rto"])))
               for t, o in TARGETS.get(strategy, {}).items()}
    report = dr_report(g, strategy, None if strategy is Strategy.none else DR_REGION, targets)
    assert report.failures == ()
    assert [(v.policy, v.message) for v in check(g).violations if v.enforcement == "mandatory"] == []


def _seconds(text: str) -> int:
    from components.resilience.objectives import parse_duration
    return parse_duration(text)
