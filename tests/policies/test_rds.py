"""Aurora: RDS.2, .3, .7, .11, .12, .13, .15, .23, .24, .37, rds.force_ssl and no master
password in the program (PCI DSS 8.6.2)."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies import rds
from policies.offline import evaluate
from policies.registry import POLICIES

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: What the Aurora component is expected to write.
COMPLIANT_CLUSTER = {
    "engine": "aurora-postgresql",
    "engineVersion": "16.4",
    "storageEncrypted": True,
    "kmsKeyId": KEY_ARN,
    "deletionProtection": True,
    "backupRetentionPeriod": 7,
    "iamDatabaseAuthenticationEnabled": True,
    "port": 5433,
    "masterUsername": "retail_admin",
    "manageMasterUserPassword": True,
    "masterUserSecretKmsKeyId": KEY_ARN,
    "enabledCloudwatchLogsExports": ["postgresql"],
    "dbClusterParameterGroupName": "retail-prod-aurora",
}


@pytest.fixture
def cluster(snap, tags):
    def make(environment="prod", name="aurora", **overrides):
        props = {**COMPLIANT_CLUSTER, "tags": tags(environment=environment), **overrides}
        return snap(CLUSTER, name, {k: v for k, v in props.items() if v is not None})

    return make


@pytest.fixture
def aurora(snap, tags, cluster):
    """A compliant prod cluster, its parameter group and instances, linked as the engine
    records them; ``aurora(instances=1, force_ssl="0", group=False, zones=...)`` varies it."""

    def make(instances=2, force_ssl="1", group=True, zones=None, **cluster_overrides):
        resources = []
        group_deps = {}
        if group:
            parameter_group = snap(PARAMETER_GROUP, "aurora", {
                "family": "aurora-postgresql16", "tags": tags(environment="prod"),
                "parameters": [{"name": "log_min_duration_statement", "value": "500"},
                               {"name": "rds.force_ssl", "value": force_ssl,
                                "applyMethod": "pending-reboot"}]})
            resources.append(parameter_group)
            group_deps = {"dbClusterParameterGroupName": (parameter_group.urn,)}
        main = snap(CLUSTER, "aurora", {**COMPLIANT_CLUSTER, "tags": tags(environment="prod"),
                                        **cluster_overrides},
                    property_dependencies=group_deps)
        resources.insert(0, main)
        for index in range(instances):
            props = {"clusterIdentifier": "retail-prod-aurora", "engine": "aurora-postgresql",
                     "instanceClass": "db.serverless", "publiclyAccessible": False,
                     "autoMinorVersionUpgrade": True, "tags": tags(environment="prod")}
            if zones:
                props["availabilityZone"] = zones[index]
            resources.append(snap(CLUSTER_INSTANCE, f"aurora-{index + 1}", props,
                                  property_dependencies={"clusterIdentifier": (main.urn,)}))
        return resources

    return make


def test_compliant_aurora_passes_the_whole_pack(aurora):
    assert evaluate(aurora(), POLICIES).violations == []


@pytest.mark.parametrize("policy", [p.name for p in rds.POLICIES])
def test_stack_without_databases_passes(snap, run_policy, policy):
    assert run_policy(policy, [snap("aws:ec2/vpc:Vpc", "main")]).violations == []


# --- rds-instance-not-public ----------------------------------------------------------------


@pytest.mark.parametrize("type_", [CLUSTER_INSTANCE, INSTANCE])
@pytest.mark.parametrize("props", [{"publiclyAccessible": False}, {}], ids=["false", "missing"])
def test_private_instance_passes(snap, run_policy, type_, props):
    assert run_policy("rds-instance-not-public", [snap(type_, "db", props)]).violations == []


@pytest.mark.parametrize("type_", [CLUSTER_INSTANCE, INSTANCE])
def test_public_instance_fails(snap, run_policy, type_):
    instance = snap(type_, "db", {"publiclyAccessible": True})
    [violation] = run_policy("rds-instance-not-public", [instance]).violations
    assert violation.urn == instance.urn
    assert "set publicly_accessible=False" in violation.message


# --- rds-cluster-encrypted ------------------------------------------------------------------


def test_cluster_encrypted_with_customer_key_passes(cluster, run_policy):
    assert run_policy("rds-cluster-encrypted", [cluster()]).violations == []


@pytest.mark.parametrize("encrypted", [False, None], ids=["false", "missing"])
def test_unencrypted_cluster_fails(cluster, run_policy, encrypted):
    unencrypted = cluster(storageEncrypted=encrypted, kmsKeyId=None)
    [violation] = run_policy("rds-cluster-encrypted", [unencrypted]).violations
    assert violation.urn == unencrypted.urn
    assert "storage is not encrypted; set storage_encrypted=True and kms_key_id=" in violation.message


@pytest.mark.parametrize("key", [None, "alias/aws/rds"], ids=["missing", "aws-managed-alias"])
def test_cluster_with_aws_managed_key_fails(cluster, run_policy, key):
    [violation] = run_policy("rds-cluster-encrypted", [cluster(kmsKeyId=key)]).violations
    assert "AWS-managed aws/rds key; set kms_key_id=" in violation.message


# --- rds-cluster-deletion-protection-prod ---------------------------------------------------


def test_protected_prod_cluster_passes(cluster, run_policy):
    assert run_policy("rds-cluster-deletion-protection-prod", [cluster()]).violations == []


@pytest.mark.parametrize("protection", [False, None], ids=["false", "missing"])
def test_unprotected_prod_cluster_fails(cluster, run_policy, protection):
    prod = cluster(deletionProtection=protection)
    [violation] = run_policy("rds-cluster-deletion-protection-prod", [prod]).violations
    assert violation.urn == prod.urn
    assert "set deletion_protection=True" in violation.message


def test_dev_and_untagged_clusters_need_no_deletion_protection(cluster, snap, run_policy):
    untagged = snap(CLUSTER, "untagged", {"engine": "aurora-postgresql"})
    report = run_policy("rds-cluster-deletion-protection-prod",
                        [cluster("dev", name="dev", deletionProtection=False), untagged])
    assert report.violations == []


# --- rds-cluster-automatic-backups ----------------------------------------------------------


@pytest.mark.parametrize("days", [1, 7, 35.0, None], ids=["1", "7", "35-as-float", "missing-is-1"])
def test_cluster_with_backups_passes(cluster, run_policy, days):
    assert run_policy("rds-cluster-automatic-backups", [cluster(backupRetentionPeriod=days)]).violations == []


def test_cluster_without_backups_fails(cluster, run_policy):
    no_backups = cluster(backupRetentionPeriod=0)
    [violation] = run_policy("rds-cluster-automatic-backups", [no_backups]).violations
    assert violation.urn == no_backups.urn
    assert "keeps automated backups for 0 days; set backup_retention_period to at least 1" in violation.message


# --- rds-cluster-iam-auth -------------------------------------------------------------------


def test_cluster_with_iam_auth_passes(cluster, run_policy):
    assert run_policy("rds-cluster-iam-auth", [cluster()]).violations == []


@pytest.mark.parametrize("enabled", [False, None], ids=["false", "missing"])
def test_cluster_without_iam_auth_fails(cluster, run_policy, enabled):
    without = cluster(iamDatabaseAuthenticationEnabled=enabled)
    [violation] = run_policy("rds-cluster-iam-auth", [without]).violations
    assert violation.urn == without.urn
    assert "set iam_database_authentication_enabled=True" in violation.message


# --- rds-instance-auto-minor-version-upgrade ------------------------------------------------


@pytest.mark.parametrize("props", [{"autoMinorVersionUpgrade": True}, {}], ids=["true", "missing"])
def test_patched_instance_passes(snap, run_policy, props):
    report = run_policy("rds-instance-auto-minor-version-upgrade", [snap(CLUSTER_INSTANCE, "db", props)])
    assert report.violations == []


@pytest.mark.parametrize("type_", [CLUSTER_INSTANCE, INSTANCE])
def test_unpatched_instance_fails(snap, run_policy, type_):
    instance = snap(type_, "db", {"autoMinorVersionUpgrade": False})
    [violation] = run_policy("rds-instance-auto-minor-version-upgrade", [instance]).violations
    assert violation.urn == instance.urn
    assert "set auto_minor_version_upgrade=True" in violation.message


# --- rds-cluster-multi-az-prod --------------------------------------------------------------


@pytest.mark.parametrize("zones", [None, ["eu-west-1a", "eu-west-1b"]], ids=["unpinned", "two-azs"])
def test_prod_cluster_with_two_instances_passes(aurora, run_policy, zones):
    assert run_policy("rds-cluster-multi-az-prod", aurora(zones=zones)).violations == []


@pytest.mark.parametrize("instances", [0, 1])
def test_prod_cluster_with_one_instance_fails_on_the_cluster(aurora, run_policy, instances):
    resources = aurora(instances=instances)
    [violation] = run_policy("rds-cluster-multi-az-prod", resources).violations
    assert violation.urn == resources[0].urn
    assert f"prod cluster aurora has {instances} instance(s)" in violation.message
    assert "add aws.rds.ClusterInstance readers with cluster_identifier=cluster.id" in violation.message


def test_instances_pinned_to_one_az_fail(aurora, run_policy):
    resources = aurora(zones=["eu-west-1a", "eu-west-1a"])
    [violation] = run_policy("rds-cluster-multi-az-prod", resources).violations
    assert "pins all 2 instances to eu-west-1a" in violation.message


def test_instance_without_dependency_does_not_count(aurora, snap, run_policy):
    resources = aurora(instances=1)
    loose = snap(CLUSTER_INSTANCE, "loose", {"clusterIdentifier": "retail-prod-aurora"})
    [violation] = run_policy("rds-cluster-multi-az-prod", [*resources, loose]).violations
    assert violation.urn == resources[0].urn


def test_a_global_database_secondary_runs_the_size_its_strategy_chose(aurora, run_policy):
    # The DR region's secondary: joined to the global cluster, no master user of its own.
    secondary = aurora(instances=1, globalClusterIdentifier="retail-prod-sql-global", masterUsername=None)
    assert run_policy("rds-cluster-multi-az-prod", secondary).violations == []
    # A primary that joined the global cluster is held to two instances still.
    primary = aurora(instances=1, globalClusterIdentifier="retail-prod-sql-global")
    assert len(run_policy("rds-cluster-multi-az-prod", primary).violations) == 1


def test_dev_cluster_may_have_one_instance(snap, tags, run_policy):
    dev = snap(CLUSTER, "aurora", {**COMPLIANT_CLUSTER, "tags": tags(environment="dev")})
    assert run_policy("rds-cluster-multi-az-prod", [dev]).violations == []


# --- rds-cluster-non-default-port -----------------------------------------------------------


def test_cluster_on_another_port_passes(cluster, run_policy):
    assert run_policy("rds-cluster-non-default-port", [cluster()]).violations == []


@pytest.mark.parametrize(("port", "shown"), [(5432, "5432"), (5432.0, "5432"), (None, "not set")])
def test_cluster_on_the_default_port_fails(cluster, run_policy, port, shown):
    default = cluster(port=port)
    [violation] = run_policy("rds-cluster-non-default-port", [default]).violations
    assert violation.urn == default.urn
    assert f"cluster port is {shown}, so it listens on aurora-postgresql's default 5432" in violation.message
    assert "set port to another value" in violation.message


def test_mysql_default_port_is_its_own(cluster, run_policy):
    assert run_policy("rds-cluster-non-default-port", [cluster(engine="aurora-mysql", port=5432)]).violations == []
    assert len(run_policy("rds-cluster-non-default-port",
                          [cluster(engine="aurora-mysql", port=3306)]).violations) == 1


# --- rds-cluster-custom-admin-username ------------------------------------------------------


def test_custom_admin_username_passes(cluster, run_policy):
    assert run_policy("rds-cluster-custom-admin-username", [cluster()]).violations == []


@pytest.mark.parametrize("username", ["postgres", "admin", "root", "Postgres", "rdsadmin"])
def test_default_admin_username_fails(cluster, run_policy, username):
    default = cluster(masterUsername=username)
    [violation] = run_policy("rds-cluster-custom-admin-username", [default]).violations
    assert violation.urn == default.urn
    assert f"master username is {username!r}" in violation.message
    assert "set master_username to a name of your own" in violation.message


def test_cluster_without_username_inherits_it(cluster, run_policy):
    restored = cluster(masterUsername=None, snapshotIdentifier="arn:aws:rds:::snapshot:x")
    assert run_policy("rds-cluster-custom-admin-username", [restored]).violations == []


# --- rds-cluster-postgresql-logs ------------------------------------------------------------


def test_cluster_exporting_postgresql_log_passes(cluster, run_policy):
    assert run_policy("rds-cluster-postgresql-logs", [cluster()]).violations == []


@pytest.mark.parametrize("exports", [None, [], ["iam-db-auth-error"]], ids=["missing", "empty", "other"])
def test_cluster_not_exporting_postgresql_log_fails(cluster, run_policy, exports):
    quiet = cluster(enabledCloudwatchLogsExports=exports)
    [violation] = run_policy("rds-cluster-postgresql-logs", [quiet]).violations
    assert violation.urn == quiet.urn
    assert "add 'postgresql' to enabled_cloudwatch_logs_exports" in violation.message


def test_mysql_cluster_is_not_checked_for_postgresql_logs(cluster, run_policy):
    mysql = cluster(engine="aurora-mysql", enabledCloudwatchLogsExports=[])
    report = run_policy("rds-cluster-postgresql-logs", [mysql])
    assert report.violations == []


# --- rds-force-ssl --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", 1, 1.0])
def test_parameter_group_forcing_ssl_passes(aurora, run_policy, value):
    assert run_policy("rds-force-ssl", aurora(force_ssl=value)).violations == []


def test_parameter_group_not_forcing_ssl_fails_on_the_group(aurora, run_policy):
    resources = aurora(force_ssl="0")
    group = next(r for r in resources if r.type == PARAMETER_GROUP)
    [violation] = run_policy("rds-force-ssl", resources).violations
    assert violation.urn == group.urn
    assert "does not set rds.force_ssl=1" in violation.message
    assert "add {'name': 'rds.force_ssl', 'value': '1'} to its parameters" in violation.message


def test_cluster_without_parameter_group_fails_on_the_cluster(aurora, run_policy):
    resources = aurora(group=False)
    [violation] = run_policy("rds-force-ssl", resources).violations
    assert violation.urn == resources[0].urn
    assert "has no cluster parameter group of this stack" in violation.message
    assert "set db_cluster_parameter_group_name=group.name" in violation.message


# --- secrets-managed-master-password --------------------------------------------------------

MANAGED = {"engine": "aurora-postgresql", "masterUsername": "retail_admin",
           "manageMasterUserPassword": True, "masterUserSecretKmsKeyId": KEY_ARN}


def managed_cluster(snap, **overrides):
    props = {**MANAGED, **overrides}
    return snap(CLUSTER, "aurora", {k: v for k, v in props.items() if v is not None})


def test_managed_master_password_passes(snap, run_policy):
    assert run_policy("secrets-managed-master-password", [managed_cluster(snap)]).violations == []


def test_key_unknown_during_preview_counts_as_a_customer_key(snap, run_policy):
    preview = managed_cluster(snap, masterUserSecretKmsKeyId=UNKNOWN_STRING_VALUE)
    assert run_policy("secrets-managed-master-password", [preview]).violations == []


@pytest.mark.parametrize(("prop", "python"), [("masterPassword", "master_password"),
                                              ("masterPasswordWo", "master_password_wo")])
def test_password_in_the_program_fails(snap, run_policy, prop, python):
    leaky = managed_cluster(snap, manageMasterUserPassword=None, masterUserSecretKmsKeyId=None,
                    **{prop: "hunter2hunter2"})
    messages = [v.message for v in run_policy("secrets-managed-master-password", [leaky]).violations]
    assert any(f"cluster sets {python}" in m and f"remove {python}" in m for m in messages)
    assert any("set manage_master_user_password=True" in m for m in messages)
    assert all(v.urn == leaky.urn
               for v in run_policy("secrets-managed-master-password", [leaky]).violations)


def test_password_alongside_managed_password_still_fails(snap, run_policy):
    both = managed_cluster(snap, masterPassword="hunter2hunter2")
    [violation] = run_policy("secrets-managed-master-password", [both]).violations
    assert "cluster sets master_password" in violation.message


def test_unmanaged_password_fails(snap, run_policy):
    unmanaged = managed_cluster(snap, manageMasterUserPassword=False)
    [violation] = run_policy("secrets-managed-master-password", [unmanaged]).violations
    assert violation.urn == unmanaged.urn
    assert "set manage_master_user_password=True and master_user_secret_kms_key_id=" in violation.message


@pytest.mark.parametrize("key", [None, "alias/aws/secretsmanager"], ids=["missing", "aws-alias"])
def test_managed_secret_with_aws_managed_key_fails(snap, run_policy, key):
    [violation] = run_policy("secrets-managed-master-password",
                             [managed_cluster(snap, masterUserSecretKmsKeyId=key)]).violations
    assert "AWS-managed aws/secretsmanager key; set master_user_secret_kms_key_id=" in violation.message


def test_global_secondary_cluster_inherits_its_credentials(snap, run_policy):
    secondary = snap(CLUSTER, "aurora-dr", {"engine": "aurora-postgresql",
                                            "globalClusterIdentifier": "retail-prod"})
    assert run_policy("secrets-managed-master-password", [secondary]).violations == []
