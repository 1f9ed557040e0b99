"""DR.1-3, Backup.1 and S3.7: the disaster-recovery rules, each passing and failing."""

from __future__ import annotations

KEY = "arn:aws:kms:eu-central-1:111122223333:key/mrk-dr"
PRIMARY, DR = "eu-west-1", "eu-central-1"
CLUSTER = "aws:rds/cluster:Cluster"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def dr_tags(tags, strategy="warm-standby", **more):
    return tags(environment="prod", dr_strategy=strategy, dr_region=DR, **more)


# --- DR.1: every primary store covered ------------------------------------------------------


def aurora(snap, tags, readers=1):
    primary = snap(CLUSTER, "sql", {"clusterIdentifier": "retail-prod-sql", "masterUsername": "retail_admin",
                                    "region": PRIMARY, "tags": dr_tags(tags)})
    group = snap(GLOBAL_CLUSTER, "sql-global", {"globalClusterIdentifier": "retail-prod-global", "region": PRIMARY},
                 property_dependencies={"sourceDbClusterIdentifier": (primary.urn,)})
    secondary = snap(CLUSTER, "dr-sql", {"clusterIdentifier": "retail-prod-dr-sql", "region": DR,
                                         "globalClusterIdentifier": "retail-prod-global", "tags": dr_tags(tags)},
                     property_dependencies={"globalClusterIdentifier": (group.urn,)})
    instances = [snap(INSTANCE, f"dr-sql-{i}", {"clusterIdentifier": "retail-prod-dr-sql", "region": DR},
                      property_dependencies={"clusterIdentifier": (secondary.urn,)}) for i in range(readers)]
    return [primary, group, secondary, *instances]


def test_a_store_with_its_strategys_mechanism_passes(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"name": "retail-prod-carts", "region": PRIMARY, "tags": dr_tags(tags),
                                  "replicas": [{"regionName": DR, "kmsKeyArn": KEY, "pointInTimeRecovery": True}]})
    assert run_policy("dr-stores-covered", [*aurora(snap, tags), table]).violations == []


def test_an_uncovered_store_fails_naming_the_mechanism(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"name": "retail-prod-carts", "region": PRIMARY, "tags": dr_tags(tags)})
    [violation] = run_policy("dr-stores-covered", [*aurora(snap, tags), table]).violations
    assert violation.urn == table.urn
    assert "DynamoDB global table replica" in violation.message and DR in violation.message


def test_a_headless_secondary_does_not_cover_warm_standby(snap, run_policy, tags):
    resources = aurora(snap, tags, readers=0)
    [violation] = run_policy("dr-stores-covered", resources).violations
    assert violation.urn == resources[0].urn
    assert "found only: Aurora Global Database, headless" in violation.message


def test_backup_copies_cover_backup_restore(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"name": "retail-prod-carts", "region": PRIMARY,
                                  "tags": dr_tags(tags, "backup-restore", backup="hourly")})
    vault = snap(VAULT, "dr-vault", {"name": "retail-prod-dr-vault", "region": DR})
    plan = snap(PLAN, "plan", {"name": "retail-prod-backup", "region": PRIMARY, "rules": [
        {"ruleName": "hourly", "copyActions": [{"destinationVaultArn": "arn:aws:backup:eu-central-1:1:backup-vault:"
                                                                     "retail-prod-dr-vault"}]}]},
                property_dependencies={"rules": (vault.urn,)})
    selection = snap(SELECTION, "selection", {"selectionTags": [{"type": "STRINGEQUALS", "key": "backup",
                                                                  "value": "hourly"}]},
                     property_dependencies={"planId": (plan.urn,)})
    assert run_policy("dr-stores-covered", [table, vault, plan, selection]).violations == []
    # The same copies do not make a warm standby.
    warm = snap(TABLE, "carts", {**table.props, "tags": dr_tags(tags, backup="hourly")})
    assert len(run_policy("dr-stores-covered", [warm, vault, plan, selection]).violations) == 1


def test_the_dr_sides_own_stores_are_not_checked_as_primaries(snap, run_policy, tags):
    replica = snap(TABLE, "dr-carts", {"name": "retail-prod-dr-carts", "region": DR, "tags": dr_tags(tags)})
    assert run_policy("dr-stores-covered", [replica]).violations == []


def test_stores_without_a_strategy_tag_or_with_none_are_not_applicable(snap, run_policy, tags):
    table = snap(TABLE, "carts", {"name": "retail-prod-carts", "region": PRIMARY, "tags": tags()})
    none = snap(TABLE, "orders", {"name": "retail-dev-orders", "region": PRIMARY, "tags": dr_tags(tags, "none")})
    assert run_policy("dr-stores-covered", [table, none]).violations == []


# --- Backup.1 and DR.2: vaults ---------------------------------------------------------------


def test_a_vault_with_a_customer_key_passes_and_without_fails(snap, run_policy, tags):
    good = snap(VAULT, "vault", {"kmsKeyArn": KEY, "tags": tags()})
    assert run_policy("backup-vault-cmk-encryption", [good]).violations == []
    for props in ({"tags": tags()}, {"kmsKeyArn": "alias/aws/backup", "tags": tags()}):
        [violation] = run_policy("backup-vault-cmk-encryption", [snap(VAULT, "vault", props)]).violations
        assert "kms_key_arn" in violation.message


def test_a_prod_vault_locked_in_compliance_mode_passes(snap, run_policy, tags):
    vault = snap(VAULT, "vault", {"kmsKeyArn": KEY, "tags": tags(environment="prod")})
    lock = snap(LOCK, "vault-lock", {"changeableForDays": 3, "minRetentionDays": 7},
                property_dependencies={"backupVaultName": (vault.urn,)})
    assert run_policy("backup-vault-locked-prod", [vault, lock]).violations == []


def test_a_prod_vault_unlocked_or_in_governance_mode_fails(snap, run_policy, tags):
    vault = snap(VAULT, "vault", {"kmsKeyArn": KEY, "tags": tags(environment="prod")})
    [missing] = run_policy("backup-vault-locked-prod", [vault]).violations
    assert missing.urn == vault.urn and "compliance mode" in missing.message
    governance = snap(LOCK, "vault-lock", {"minRetentionDays": 7},
                      property_dependencies={"backupVaultName": (vault.urn,)})
    [violation] = run_policy("backup-vault-locked-prod", [vault, governance]).violations
    assert violation.urn == governance.urn and "governance mode" in violation.message


def test_a_dev_vault_need_not_be_locked(snap, run_policy, tags):
    assert run_policy("backup-vault-locked-prod", [snap(VAULT, "vault", {"tags": tags()})]).violations == []


# --- S3.7: prod replication with RTC -------------------------------------------------------


def replication(snap, source, destination):
    return snap(REPLICATION, "assets-replication", {"rules": [{"id": "dr", "status": "Enabled",
                                                               "destination": destination}]},
                property_dependencies={"bucket": (source.urn,)})


RTC = {"bucket": "arn:aws:s3:::retail-prod-dr-assets",
       "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
       "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}}}


def test_prod_replication_with_rtc_and_metrics_passes(snap, run_policy, tags):
    source = snap(BUCKET, "assets", {"tags": tags(environment="prod")})
    assert run_policy("s3-replication-time-control-prod", [source, replication(snap, source, RTC)]).violations == []


def test_prod_replication_without_rtc_or_metrics_fails(snap, run_policy, tags):
    source = snap(BUCKET, "assets", {"tags": tags(environment="prod")})
    config = replication(snap, source, {"bucket": RTC["bucket"], "replicationTime": RTC["replicationTime"]})
    [violation] = run_policy("s3-replication-time-control-prod", [source, config]).violations
    assert violation.urn == config.urn and "destination.metrics" in violation.message
    bare = replication(snap, source, {"bucket": RTC["bucket"]})
    [violation] = run_policy("s3-replication-time-control-prod", [source, bare]).violations
    assert "replication_time" in violation.message and "destination.metrics" in violation.message


def test_dev_replication_may_skip_rtc(snap, run_policy, tags):
    source = snap(BUCKET, "assets", {"tags": tags()})
    bare = replication(snap, source, {"bucket": RTC["bucket"]})
    assert run_policy("s3-replication-time-control-prod", [source, bare]).violations == []


# --- DR.3: origin group ---------------------------------------------------------------------

GROUP = {"originId": "alb-failover", "failoverCriteria": {"statusCodes": [500, 502, 503, 504]},
         "members": [{"originId": "alb"}, {"originId": "alb-dr"}]}


READS = ["GET", "HEAD"]
WRITES = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def test_a_warm_standby_distribution_through_an_origin_group_passes(snap, run_policy, tags):
    # Reads sit behind the group; a behaviour taking writes keeps one origin (Route 53 fails
    # its name over): CloudFront refuses a group there.
    cdn = snap(DISTRIBUTION, "cdn", {
        "tags": dr_tags(tags), "originGroups": [GROUP],
        "defaultCacheBehavior": {"targetOriginId": "alb", "allowedMethods": WRITES},
        "orderedCacheBehaviors": [{"pathPattern": "/static/*", "targetOriginId": "alb-failover",
                                   "allowedMethods": READS}]})
    assert run_policy("dr-failover-origin-group", [cdn]).violations == []


def test_a_warm_standby_distribution_without_or_around_its_origin_group_fails(snap, run_policy, tags):
    bare = snap(DISTRIBUTION, "cdn", {"tags": dr_tags(tags),
                                      "defaultCacheBehavior": {"targetOriginId": "alb", "allowedMethods": READS}})
    [violation] = run_policy("dr-failover-origin-group", [bare]).violations
    assert "no origin_groups" in violation.message
    around = snap(DISTRIBUTION, "cdn", {
        "tags": dr_tags(tags), "originGroups": [GROUP],
        "defaultCacheBehavior": {"targetOriginId": "alb", "allowedMethods": WRITES},
        "orderedCacheBehaviors": [{"pathPattern": "/static/*", "targetOriginId": "alb", "allowedMethods": READS}]})
    [violation] = run_policy("dr-failover-origin-group", [around]).violations
    assert "'/static/*' only reads" in violation.message and "not an origin group" in violation.message


def test_a_pilot_light_distribution_needs_no_origin_group(snap, run_policy, tags):
    cdn = snap(DISTRIBUTION, "cdn", {"tags": dr_tags(tags, "pilot-light"),
                                     "defaultCacheBehavior": {"targetOriginId": "alb"}})
    assert run_policy("dr-failover-origin-group", [cdn]).violations == []
