"""``blueprint dr``: the mechanism found in the graph per primary store, the tiers against the
declared targets, the runbook, and the CLI's exit codes on the real stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprint.__main__ import EXIT_BAD_INPUT, EXIT_OK, main
from blueprint.dr import dr_report, render_report, render_runbook
from blueprint.graph import Resource, ResourceGraph
from components.resilience.objectives import (
    AURORA_GLOBAL,
    AURORA_GLOBAL_HEADLESS,
    AURORA_GLOBAL_WRITE_FORWARDING,
    BACKUP_COPY,
    CACHE_GLOBAL,
    CACHE_REBUILT,
    DYNAMODB_GLOBAL,
    HOUR,
    MINUTE,
    S3_REPLICATION,
    S3_REPLICATION_RTC,
    Strategy,
    Tier,
)

PRIMARY, DR, ELSEWHERE = "eu-west-1", "eu-central-1", "us-east-1"
TAGS = {"environment": "prod", "stack": "prod", "backup": "hourly"}
PROD_TARGETS = {Tier.databases: (1, MINUTE), Tier.objects: (15 * MINUTE, 5 * MINUTE), Tier.service: (None, 5 * MINUTE)}
STAGING_TARGETS = {Tier.databases: (2 * HOUR, 4 * HOUR), Tier.objects: (2 * HOUR, 4 * HOUR),
                   Tier.service: (None, 8 * HOUR)}


def res(type_: str, name: str, inputs: dict[str, Any], region: str | None = PRIMARY,
        deps: dict[str, list[Resource]] | None = None, id_: str | None = None) -> Resource:
    return Resource(urn=f"urn:pulumi:prod::retail::{type_}::{name}", type=type_, name=name, custom=True,
                    inputs=inputs, id=id_, region=region,
                    property_dependencies={k: tuple(r.urn for r in v) for k, v in (deps or {}).items()})


def graph(*resources: Resource, stack: str = "prod") -> ResourceGraph:
    return ResourceGraph(project="retail", stack=stack, region=PRIMARY,
                         resources=tuple(sorted(resources, key=lambda r: r.urn)))


def aurora(instances: int = 1, secondary_region: str = DR, write_forwarding: bool = False) -> list[Resource]:
    primary = res("aws:rds/cluster:Cluster", "sql", {"clusterIdentifier": "retail-prod-sql",
                                                     "masterUsername": "retail_admin", "tags": TAGS})
    group = res("aws:rds/globalCluster:GlobalCluster", "sql-global",
                {"globalClusterIdentifier": "retail-prod-global", "sourceDbClusterIdentifier": "arn:aws:rds:"
                 "eu-west-1:123456789012:cluster:retail-prod-sql"}, deps={"sourceDbClusterIdentifier": [primary]})
    secondary = res("aws:rds/cluster:Cluster", "dr-sql", {"clusterIdentifier": "retail-prod-dr-sql",
                                                          "globalClusterIdentifier": "retail-prod-global",
                                                          "enableGlobalWriteForwarding": write_forwarding,
                                                          "tags": TAGS}, region=secondary_region,
                    deps={"globalClusterIdentifier": [group]})
    readers = [res("aws:rds/clusterInstance:ClusterInstance", f"dr-sql-{i}",
                   {"clusterIdentifier": "retail-prod-dr-sql"}, region=secondary_region) for i in range(instances)]
    return [primary, group, secondary, *readers]


def table(replica: dict[str, Any] | None = None) -> list[Resource]:
    replica = {"regionName": DR, "kmsKeyArn": f"arn:aws:kms:{DR}:123456789012:key/mrk-dr",
               "pointInTimeRecovery": True} if replica is None else replica
    return [res("aws:dynamodb/table:Table", "tables-carts", {"name": "retail-prod-carts", "tags": TAGS,
                                                            "replicas": [replica] if replica else []})]


def bucket(rtc: bool = True, replica_region: str = DR) -> list[Resource]:
    source = res("aws:s3/bucket:Bucket", "storage-assets", {"bucket": "retail-prod-assets", "tags": TAGS})
    replica = res("aws:s3/bucket:Bucket", "dr-storage-assets", {"bucket": "retail-prod-dr-assets", "tags": TAGS},
                  region=replica_region)
    destination: dict[str, Any] = {"bucket": "arn:aws:s3:::retail-prod-dr-assets"}
    if rtc:
        destination |= {"replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
                        "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}}}
    config = res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "storage-assets-replication",
                 {"bucket": "retail-prod-assets", "rules": [{"id": "dr", "status": "Enabled",
                                                             "destination": destination}]},
                 deps={"bucket": [source], "rules": [replica]})
    return [source, replica, config]


def cache() -> list[Resource]:
    primary = res("aws:elasticache/replicationGroup:ReplicationGroup", "cache",
                  {"replicationGroupId": "retail-prod-cache", "tags": TAGS})
    group = res("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup", "cache-global",
                {"globalReplicationGroupIdSuffix": "retail-prod-cache", "primaryReplicationGroupId":
                 "retail-prod-cache"}, deps={"primaryReplicationGroupId": [primary]}, id_="ldgnf-retail-prod-cache")
    secondary = res("aws:elasticache/replicationGroup:ReplicationGroup", "dr-cache",
                    {"replicationGroupId": "retail-prod-dr-cache", "globalReplicationGroupId":
                     "ldgnf-retail-prod-cache"}, region=DR, deps={"globalReplicationGroupId": [group]})
    return [primary, group, secondary]


def routing() -> list[Resource]:
    check = res("aws:route53/healthCheck:HealthCheck", "edge-primary-health", {"fqdn": "origin.shop.example.com"},
                region="global", id_="hc-primary")
    record = res("aws:route53/record:Record", "edge-origin-primary",
                 {"name": "origin.shop.example.com", "setIdentifier": "primary", "healthCheckId": "hc-primary",
                  "failoverRoutingPolicies": [{"type": "PRIMARY"}]}, region="global", deps={"healthCheckId": [check]})
    cdn = res("aws:cloudfront/distribution:Distribution", "cdn",
              {"originGroups": [{"originId": "alb-failover", "failoverCriteria": {"statusCodes": [502, 503]},
                                 "members": [{"originId": "alb"}, {"originId": "alb-dr"}]}]},
              region="global", id_="E123CDN")
    return [check, record, cdn]


def warm_standby(**overrides: list[Resource]) -> ResourceGraph:
    parts = {"aurora": aurora(), "table": table(), "bucket": bucket(), "cache": cache(), "routing": routing()}
    parts.update(overrides)
    return graph(*(r for part in parts.values() for r in part))


def mechanisms(report) -> dict[str, Any]:
    return {row.store.name: row.mechanism for row in report.stores}


# --- Mechanisms as found --------------------------------------------------------------------


def test_a_full_warm_standby_graph_meets_prods_targets():
    report = dr_report(warm_standby(), Strategy.warm_standby, DR, PROD_TARGETS)
    assert mechanisms(report) == {"sql": AURORA_GLOBAL, "tables-carts": DYNAMODB_GLOBAL,
                                  "storage-assets": S3_REPLICATION_RTC, "cache": CACHE_GLOBAL}
    assert report.failures == () and report.ok
    # The DR side's own resources are never listed as stores of the primary.
    assert {row.store.region for row in report.stores} == {PRIMARY}


def test_a_headless_secondary_is_weaker_than_warm_standby_and_misses_the_rto():
    report = dr_report(warm_standby(aurora=aurora(instances=0)), Strategy.warm_standby, DR, PROD_TARGETS)
    assert mechanisms(report)["sql"] is AURORA_GLOBAL_HEADLESS
    assert any("retail-prod-sql: has Aurora Global Database, headless" in f for f in report.failures)
    assert "databases RTO target 1m not met: the graph gives 15m" in report.failures
    # ...and is exactly what a pilot light needs.
    assert dr_report(warm_standby(aurora=aurora(instances=0)), Strategy.pilot_light, DR).stores[0].meets_strategy


def test_active_active_needs_write_forwarding():
    without = dr_report(warm_standby(), Strategy.active_active, DR)
    assert any("retail-prod-sql" in f and "write forwarding" in f for f in without.failures)
    report = dr_report(warm_standby(aurora=aurora(write_forwarding=True)), Strategy.active_active, DR)
    assert mechanisms(report)["sql"] is AURORA_GLOBAL_WRITE_FORWARDING
    assert report.ok


def test_a_secondary_in_another_region_does_not_cover_the_dr_region():
    report = dr_report(warm_standby(aurora=aurora(secondary_region=ELSEWHERE)), Strategy.warm_standby, DR)
    assert mechanisms(report)["sql"] is None
    assert any(f.startswith("aurora retail-prod-sql: no DR mechanism towards eu-central-1") for f in report.failures)


@pytest.mark.parametrize("replica", [
    {"regionName": DR, "pointInTimeRecovery": True},  # no replica key
    {"regionName": DR, "kmsKeyArn": "arn:aws:kms:eu-central-1:1:key/k"},  # no PITR
    {"regionName": ELSEWHERE, "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k", "pointInTimeRecovery": True},
])
def test_a_dynamodb_replica_counts_only_in_the_dr_region_with_key_and_pitr(replica):
    report = dr_report(warm_standby(table=table(replica)), Strategy.warm_standby, DR)
    assert mechanisms(report)["tables-carts"] is None
    assert not report.ok


def test_replication_without_rtc_leaves_the_objects_rpo_unbounded():
    report = dr_report(warm_standby(bucket=bucket(rtc=False)), Strategy.warm_standby, DR, PROD_TARGETS)
    assert mechanisms(report)["storage-assets"] is S3_REPLICATION
    assert "objects RPO target 15m not met: the graph gives unbounded" in report.failures


def test_replication_to_a_bucket_outside_the_dr_region_does_not_count():
    report = dr_report(warm_standby(bucket=bucket(replica_region=ELSEWHERE)), Strategy.warm_standby, DR)
    assert mechanisms(report)["storage-assets"] is None


def test_without_failover_routing_the_service_moves_by_hand_and_misses_five_minutes():
    report = dr_report(warm_standby(routing=[]), Strategy.warm_standby, DR, PROD_TARGETS)
    [service] = [t for t in report.tiers if t.tier is Tier.service]
    assert service.rto == HOUR and not service.met
    assert "service RTO target 5m not met: the graph gives 1h" in report.failures


# --- Backup and restore ---------------------------------------------------------------------


def backup_graph(vault_region: str = DR, tags: dict[str, str] | None = None) -> ResourceGraph:
    stores = [res("aws:rds/cluster:Cluster", "sql", {"clusterIdentifier": "retail-staging-sql",
                                                     "masterUsername": "retail_admin", "tags": TAGS}),
              res("aws:dynamodb/table:Table", "tables-carts", {"name": "retail-staging-carts", "tags": TAGS}),
              res("aws:s3/bucket:Bucket", "storage-assets", {"bucket": "retail-staging-assets", "tags": TAGS}),
              res("aws:elasticache/replicationGroup:ReplicationGroup", "cache",
                  {"replicationGroupId": "retail-staging-cache", "tags": TAGS})]
    vault = res("aws:backup/vault:Vault", "dr-backup-vault", {"name": "retail-staging-dr-vault"}, region=vault_region)
    plan = res("aws:backup/plan:Plan", "backup-plan", {"name": "retail-staging-backup", "rules": [
        {"ruleName": "hourly", "targetVaultName": "retail-staging-vault", "schedule": "cron(0 * ? * * *)",
         "copyActions": [{"destinationVaultArn": f"arn:aws:backup:{vault_region}:123456789012:backup-vault:"
                                                 "retail-staging-dr-vault"}]}]}, deps={"rules": [vault]},
               id_="plan-123")
    selection = res("aws:backup/selection:Selection", "backup-selection",
                    {"planId": "plan-123", "selectionTags": [{"type": "STRINGEQUALS", "key": key, "value": value}
                                                             for key, value in (tags or {"backup": "hourly"}).items()]},
                    deps={"planId": [plan]})
    return graph(*stores, vault, plan, selection, stack="staging")


def test_backup_copies_to_the_dr_vault_cover_every_store_but_the_cache():
    report = dr_report(backup_graph(), Strategy.backup_restore, DR, STAGING_TARGETS)
    assert mechanisms(report) == {"sql": BACKUP_COPY, "tables-carts": BACKUP_COPY, "storage-assets": BACKUP_COPY,
                                  "cache": CACHE_REBUILT}
    assert report.ok


def test_backups_copied_to_the_primary_region_do_not_cover():
    report = dr_report(backup_graph(vault_region=PRIMARY), Strategy.backup_restore, DR, STAGING_TARGETS)
    assert mechanisms(report)["sql"] is None and not report.ok


def test_a_selection_whose_tags_the_stores_lack_covers_nothing():
    report = dr_report(backup_graph(tags={"backup": "daily"}), Strategy.backup_restore, DR)
    assert mechanisms(report)["tables-carts"] is None and not report.ok


def test_backups_are_weaker_than_warm_standby():
    report = dr_report(backup_graph(), Strategy.warm_standby, DR)
    assert any("has AWS Backup" in f and "weaker than warm-standby" in f for f in report.failures)


# --- Strategy none, the output --------------------------------------------------------------


def test_strategy_none_lists_stores_as_not_covered_without_failing():
    report = dr_report(backup_graph(), Strategy.none, None)
    assert report.ok
    assert {row.mechanism for row in report.stores} == {None}
    assert "not covered: strategy none" in "\n".join(render_report(report))


def test_strategy_none_fails_against_declared_targets():
    report = dr_report(backup_graph(), Strategy.none, None, {Tier.databases: (None, 4 * HOUR)})
    assert report.failures == ("databases RTO target 4h not met: the graph gives unbounded",)


def test_the_json_is_sorted_and_byte_stable():
    text = dr_report(warm_standby(), Strategy.warm_standby, DR, PROD_TARGETS).dumps()
    assert text == dr_report(warm_standby(), Strategy.warm_standby, DR, PROD_TARGETS).dumps()
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert [(s["kind"], s["name"]) for s in data["stores"]] == sorted((s["kind"], s["name"]) for s in data["stores"])
    [sql] = [s for s in data["stores"] if s["kind"] == "aurora"]
    assert sql["mechanism"]["rto"] == MINUTE and sql["covered"] and sql["meetsStrategy"]
    assert [t["tier"] for t in data["tiers"]] == ["databases", "objects", "service"]


# --- The runbook ----------------------------------------------------------------------------


def test_the_warm_standby_runbook_promotes_with_the_real_names():
    g = warm_standby()
    text = render_runbook(dr_report(g, Strategy.warm_standby, DR), g)
    assert text.index("## Preconditions") < text.index("## Failover, in order") < text.index("## Verify")
    assert ("aws rds failover-global-cluster --region eu-central-1 --global-cluster-identifier retail-prod-global "
            "--target-db-cluster-identifier <ARN of retail-prod-dr-sql> --allow-data-loss") in text
    assert "aws rds switchover-global-cluster --region eu-central-1" in text
    assert ("aws elasticache failover-global-replication-group --region eu-central-1 --global-replication-group-id "
            "ldgnf-retail-prod-cache --primary-region eu-central-1 --primary-replication-group-id "
            "retail-prod-dr-cache") in text
    assert "DynamoDB `retail-prod-carts`: nothing to promote" in text
    assert "`origin.shop.example.com` (primary) flips on its health check `hc-primary`" in text
    assert "origin group(s) alb-failover" in text
    # Aurora is promoted before traffic moves.
    assert text.index("failover-global-cluster") < text.index("flips on its health check")
    assert "start-restore-job" not in text


def test_an_arc_region_switch_plan_is_run_in_the_runbook():
    arc = res("aws:arcregionswitch/plan:Plan", "region-switch", {"name": "retail-prod-switch",
                                                                  "primaryRegion": PRIMARY, "regions": [PRIMARY, DR]})
    g = warm_standby(routing=[arc])
    text = render_runbook(dr_report(g, Strategy.warm_standby, DR), g)
    assert ("aws arc-region-switch start-plan-execution --plan-arn <ARN of retail-prod-switch> --target-region "
            "eu-central-1 --action activate") in text
    assert "Move traffic by hand" not in text


def test_the_backup_restore_runbook_restores_each_store_then_builds_the_slice():
    g = backup_graph()
    text = render_runbook(dr_report(g, Strategy.backup_restore, DR), g)
    for name, rtype in (("retail-staging-sql", "Aurora"), ("retail-staging-carts", "DynamoDB"),
                        ("retail-staging-assets", "S3")):
        assert (f"aws backup list-recovery-points-by-backup-vault --region eu-central-1 --backup-vault-name "
                f"retail-staging-dr-vault --by-resource-type {rtype}` (resource `{name}`)") in text
        assert "aws backup start-restore-job --region eu-central-1 --recovery-point-arn <that ARN>" in text
        assert f"--resource-type {rtype} --metadata" in text
    assert "`pulumi up --stack staging`" in text
    assert text.index("start-restore-job") < text.index("pulumi up --stack staging")
    assert "failover-global-cluster" not in text


# --- The CLI on the real stacks -------------------------------------------------------------


def test_dev_has_no_strategy_and_passes(capsys):
    assert main(["dr", "dev"]) == EXIT_OK
    assert "not covered: strategy none" in capsys.readouterr().out


def test_prod_warm_standby_passes_now_the_dr_slice_is_wired(tmp_path, capsys):
    # The DR slice is wired: every prod store is covered by a DR mechanism.
    target = tmp_path / "dr.json"
    assert main(["dr", "prod", "--json", str(target), "--runbook", str(tmp_path / "rb.md")]) == EXIT_OK
    data = json.loads(target.read_text())
    assert data["ok"]
    assert data["strategy"] == "warm-standby" and data["drRegion"] == "eu-central-1"
    assert data["stores"] and all(store["mechanism"] is not None for store in data["stores"])
    assert "no DR mechanism" not in capsys.readouterr().out
    assert (tmp_path / "rb.md").read_text().startswith("# Failover runbook: stack prod, eu-west-1 to eu-central-1")


def test_an_unknown_stack_exits_2_without_a_traceback(capsys):
    assert main(["dr", "qa"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_strategy_none_says_what_it_means_rather_than_covered(graph_of):
    from blueprint.dr import dr_report, render_report
    from components.resilience.objectives import Strategy
    lines = render_report(dr_report(graph_of("dev"), Strategy.none, None))
    assert lines[-1].startswith("strategy none: no store has a copy outside the primary region")
    assert not any("every store covered" in line for line in lines)
