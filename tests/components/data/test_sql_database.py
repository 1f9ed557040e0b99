"""The SqlDatabase component (Aurora PostgreSQL), built alone under the project's mocks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.aws_limits import RESERVED_DB_USERNAMES
from components.common.conventions import STANDARD_TAG_KEYS
from components.data.settings import SqlConfig, check_db_user
from components.data.sql_database import (
    BACKUP_WINDOW,
    MAINTENANCE_WINDOW,
    SqlDatabase,
    SqlDatabaseArgs,
    connect_policy,
    enhanced_monitoring_policy_arn,
    monitoring_trust_policy,
    parameter_group_family,
)
from config.loader import parse_stack_config
from config.stack import StackConfig
from policies._taggable import is_taggable
from tests.support import PROJECT, stack_context

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
COMPONENT = "retail:data:SqlDatabase"
PROXY = "aws:rds/proxy:Proxy"
PROXY_COMPONENT = "retail:data:SqlProxy"

REGION = "eu-west-1"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
ISOLATED_SUBNETS = ("subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88", "subnet-0cc99dd00ee11ff22")
CLIENT_SG = "sg-0c1e27a5b3d9f4e60"
OTHER_CLIENT_SG = "sg-0f9e8d7c6b5a49382"
ENDPOINTS_SG = "sg-0e1d2c3b4a5968778"
APP_USER = "checkout_app"
STACKS = ("dev", "staging", "prod")
#: retail:sql.proxy.enabled as the presets set it: the services reach RDS Proxy in staging and
#: prod, the cluster itself in dev.
PROXIED = {"dev": False, "staging": True, "prod": True}
PROXIED_STACKS = tuple(s for s in STACKS if PROXIED[s])


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    stack: StackConfig

    @property
    def sql(self) -> SqlConfig:
        return self.stack.sql

    @property
    def cluster(self) -> Resource:
        return self.graph.one(CLUSTER)

    @property
    def instances(self) -> list[Resource]:
        return sorted(self.graph.of_type(INSTANCE), key=lambda r: r.name)


def _stack_config(stack: str) -> StackConfig:
    return parse_stack_config(PROJECT.stack_config(stack))


def direct(stack: str) -> SqlConfig:
    """The stack's settings with RDS Proxy off: the services reach the cluster itself."""
    sql = _stack_config(stack).sql
    return sql.model_copy(update={"proxy": sql.proxy.model_copy(update={"enabled": False})})


def build(stack: str, *, sql: SqlConfig | None = None, clients: Mapping[str, str] | None = None,
          extra: Callable[[SqlDatabase], None] | None = None, endpoints: str | None = None) -> Built:
    config = _stack_config(stack)
    assert config.region == REGION  # The fake ARNs above name this region.

    def program() -> None:
        database = SqlDatabase("sql",
            stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod),
            SqlDatabaseArgs(
                settings=sql or config.sql,
                vpc_id=VPC_ID,
                subnet_ids=list(ISOLATED_SUBNETS),
                data_key_arn=DATA_KEY,
                secrets_key_arn=SECRETS_KEY,
                client_security_group_ids={"checkout": CLIENT_SG} if clients is None else dict(clients),
                endpoint_security_group_id=endpoints,
            ))
        app = aws.iam.Role("checkout", assume_role_policy="{}")
        database.grant_connect(app, APP_USER)
        pulumi.export("clusterResourceId", database.cluster.cluster_resource_id)
        pulumi.export("endpoint", database.endpoint)
        pulumi.export("readerEndpoint", database.reader_endpoint)
        pulumi.export("port", database.port)
        pulumi.export("masterSecretArn", database.master_secret_arn)
        pulumi.export("clientEndpoint", database.client_endpoint)
        pulumi.export("clientPort", database.client_port)
        if database.proxy is not None:
            pulumi.export("proxyArn", database.proxy.proxy.arn)
            pulumi.export("proxyEndpoint", database.proxy.endpoint)
        if extra is not None:
            extra(database)

    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region})
    return Built(graph, config)


@cache
def built(stack: str) -> Built:
    return build(stack)


# -- encryption, credentials, authentication ----------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_storage_is_encrypted_with_our_data_key(stack):
    cluster = built(stack).cluster
    assert cluster.inputs["storageEncrypted"] is True
    assert cluster.inputs["kmsKeyId"] == DATA_KEY


@pytest.mark.parametrize("stack", STACKS)
def test_master_password_is_managed_by_rds_and_encrypted_with_our_secrets_key(stack):
    b = built(stack)
    assert b.cluster.inputs["manageMasterUserPassword"] is True
    assert b.cluster.inputs["masterUserSecretKmsKeyId"] == SECRETS_KEY
    assert "masterPassword" not in b.cluster.inputs and "masterPasswordWo" not in b.cluster.inputs
    assert b.graph.outputs["masterSecretArn"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:rds!")


@pytest.mark.parametrize("stack", STACKS)
def test_iam_auth_on_a_custom_port_and_admin_name(stack):
    b = built(stack)
    inputs = b.cluster.inputs
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["port"] == b.sql.port == 5433  # RDS.23: not 5432
    assert inputs["masterUsername"] == "retail_admin"  # RDS.24: not postgres
    assert inputs["masterUsername"] not in RESERVED_DB_USERNAMES
    assert inputs["engine"] == "aurora-postgresql"
    assert inputs["engineVersion"] == b.sql.engine_version
    assert inputs["databaseName"] == b.sql.database_name
    assert inputs["clusterIdentifier"] == f"retail-{stack}-sql"
    assert b.graph.outputs["port"] == 5433


@pytest.mark.parametrize("stack", STACKS)
def test_parameter_group_forces_tls_and_logs_connections_ddl_and_slow_statements(stack):
    b = built(stack)
    group = b.graph.one(PARAMETER_GROUP)
    assert group.inputs["family"] == "aurora-postgresql16"
    assert group.inputs["name"] == f"retail-{stack}-sql-aurora-postgresql16"
    assert b.cluster.inputs["dbClusterParameterGroupName"] == group.inputs["name"]
    parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert parameters == {
        "rds.force_ssl": "1",
        "log_statement": "ddl",
        "log_min_duration_statement": "1000",
        "log_connections": "1",
        "log_disconnections": "1",
    }
    assert {p["applyMethod"] for p in group.inputs["parameters"]} <= {"immediate", "pending-reboot"}


def test_parameter_group_family_follows_the_major_version():
    assert parameter_group_family("16.4") == "aurora-postgresql16"
    assert parameter_group_family("17.2") == "aurora-postgresql17"
    with pytest.raises(ValueError, match="not an Aurora PostgreSQL version"):
        parameter_group_family("x.1")


@pytest.mark.parametrize("stack", STACKS)
def test_postgresql_log_is_exported_to_cloudwatch(stack):
    assert built(stack).cluster.inputs["enabledCloudwatchLogsExports"] == ["postgresql"]  # RDS.37


# -- backups and deletion ------------------------------------------------------------------

@pytest.mark.parametrize("stack, days", [("dev", 7), ("staging", 14), ("prod", 35)])
def test_backups_follow_the_preset_and_snapshots_carry_the_tags(stack, days):
    cluster = built(stack).cluster
    assert cluster.inputs["backupRetentionPeriod"] == days
    assert cluster.inputs["preferredBackupWindow"] == BACKUP_WINDOW
    assert cluster.inputs["preferredMaintenanceWindow"] == MAINTENANCE_WINDOW
    assert cluster.inputs["copyTagsToSnapshot"] is True  # RDS.16


def test_prod_cannot_be_deleted_and_leaves_a_final_snapshot():
    b = built("prod")
    inputs = b.cluster.inputs
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "retail-prod-sql-final"
    assert inputs["deleteAutomatedBackups"] is False
    assert b.cluster.protect is True
    assert [i.protect for i in b.instances] == [True, True, True]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_dev_and_staging_can_be_destroyed_without_a_snapshot(stack):
    b = built(stack)
    inputs = b.cluster.inputs
    assert inputs["deletionProtection"] is False
    assert inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in inputs
    assert b.cluster.protect is False
    assert not any(i.protect for i in b.instances)


# -- instances -----------------------------------------------------------------------------

@pytest.mark.parametrize("stack, count", [("dev", 1), ("staging", 2), ("prod", 3)])
def test_instance_one_is_promoted_first_and_no_instance_waits_for_another(stack, count):
    b = built(stack)
    instances = b.instances
    assert len(instances) == count
    first, *others = instances
    assert first.inputs["promotionTier"] == 0
    assert first.inputs["tags"]["promotion-tier"] == "0"
    for other in others:
        assert other.inputs["promotionTier"] == 1
        assert other.inputs["tags"]["promotion-tier"] == "1"
    # Created side by side: waiting for the first only serialised a fresh deploy.
    urns = {i.urn for i in instances}
    for instance in instances:
        assert not urns & set(instance.dependencies), instance.name
    assert [i.inputs["identifier"] for i in instances] == [f"retail-{stack}-sql-{n}" for n in range(1, count + 1)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_instance_is_private_with_encrypted_insights_and_enhanced_monitoring(stack):
    b = built(stack)
    role = b.graph.one(ROLE, "sql-monitoring")
    subnet_group = b.graph.one(SUBNET_GROUP)
    for instance in b.instances:
        inputs = instance.inputs
        assert inputs["publiclyAccessible"] is False  # RDS.2
        assert inputs["clusterIdentifier"] == b.cluster.id
        assert inputs["engine"] == "aurora-postgresql"
        assert inputs["instanceClass"] == b.sql.instance_class
        assert inputs["dbSubnetGroupName"] == subnet_group.inputs["name"]
        assert inputs["autoMinorVersionUpgrade"] is True  # RDS.13
        assert inputs["copyTagsToSnapshot"] is True  # RDS.17
        assert inputs["performanceInsightsEnabled"] is True
        assert inputs["performanceInsightsKmsKeyId"] == DATA_KEY
        assert inputs["performanceInsightsRetentionPeriod"] == b.sql.performance_insights_retention_days
        assert inputs["monitoringInterval"] == b.sql.monitoring_interval_seconds > 0  # RDS.6
        assert inputs["monitoringRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/sql-monitoring")
        assert instance.property_dependencies["monitoringRoleArn"] == (role.urn,)
        # RDS validates the role's permissions when the instance is created.
        assert b.graph.one(ATTACHMENT).urn in instance.dependencies


def test_prod_keeps_performance_insights_a_month():
    assert {i.inputs["performanceInsightsRetentionPeriod"] for i in built("prod").instances} == {31}
    assert {i.inputs["performanceInsightsRetentionPeriod"] for i in built("dev").instances} == {7}


def test_cluster_takes_auto_minor_upgrades_and_leaves_insights_to_the_instances():
    inputs = built("prod").cluster.inputs
    assert inputs["autoMinorVersionUpgrade"] is True  # RDS.35
    assert "performanceInsightsEnabled" not in inputs
    assert "monitoringInterval" not in inputs


def test_monitoring_role_trusts_rds_monitoring_for_this_account_only():
    b = built("dev")
    role = b.graph.one(ROLE, "sql-monitoring")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust == monitoring_trust_policy(ACCOUNT_ID)
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    attachment = b.graph.one(ATTACHMENT)
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert attachment.property_dependencies["role"] == (role.urn,)


def test_monitoring_policy_arn_carries_the_partition():
    assert enhanced_monitoring_policy_arn("aws-us-gov") == \
        "arn:aws-us-gov:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


# -- capacity ------------------------------------------------------------------------------

@pytest.mark.parametrize("stack, acu", [("dev", (0.5, 4)), ("staging", (0.5, 16)), ("prod", (2, 64))])
def test_serverless_v2_capacity_follows_the_preset(stack, acu):
    b = built(stack)
    assert b.sql.instance_class == "db.serverless"
    assert b.cluster.inputs["serverlessv2ScalingConfiguration"] == {"minCapacity": acu[0], "maxCapacity": acu[1]}
    assert {i.inputs["instanceClass"] for i in b.instances} == {"db.serverless"}


def test_a_provisioned_class_has_no_serverless_scaling():
    dev = _stack_config("dev")
    b = build("dev", sql=dev.sql.model_copy(update={"instance_class": "db.r7g.large"}))
    assert "serverlessv2ScalingConfiguration" not in b.cluster.inputs
    assert {i.inputs["instanceClass"] for i in b.instances} == {"db.r7g.large"}


@pytest.mark.parametrize("stack, low, high", [("staging", 1, 3), ("prod", 2, 8)])
def test_readers_scale_on_cpu_between_the_preset_bounds(stack, low, high):
    b = built(stack)
    target = b.graph.one(SCALING_TARGET)
    assert target.inputs["serviceNamespace"] == "rds"
    assert target.inputs["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    assert target.inputs["resourceId"] == f"cluster:retail-{stack}-sql"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (low, high)
    # Registering a scalable target needs a running writer.
    assert {i.urn for i in b.instances} <= set(target.dependencies)

    policy = b.graph.one(SCALING_POLICY)
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert policy.inputs["resourceId"] == target.inputs["resourceId"]
    assert policy.inputs["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == b.sql.reader_target_cpu == 60
    assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "RDSReaderAverageCPUUtilization"}
    assert tracking["scaleOutCooldown"] < tracking["scaleInCooldown"]
    assert not tracking.get("disableScaleIn", False)


def test_dev_has_no_reader_autoscaling():
    graph = built("dev").graph
    assert graph.of_type(SCALING_TARGET) == []
    assert graph.of_type(SCALING_POLICY) == []


def test_a_single_instance_cluster_with_max_readers_keeps_at_least_one_reader():
    dev = _stack_config("dev")
    b = build("dev", sql=dev.sql.model_copy(update={"max_readers": 2}))
    target = b.graph.one(SCALING_TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (1, 2)


# -- network -------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_subnet_group_is_the_isolated_subnets_passed_in(stack):
    b = built(stack)
    group = b.graph.one(SUBNET_GROUP)
    assert group.inputs["subnetIds"] == list(ISOLATED_SUBNETS)
    assert group.inputs["name"] == f"retail-{stack}-sql"
    assert b.cluster.inputs["dbSubnetGroupName"] == group.inputs["name"]


def test_the_presets_put_the_proxy_in_staging_and_prod_only():
    # The tests below take the proxied path from these stacks' own settings, the direct one from
    # dev's and from staging's and prod's with the proxy turned off.
    assert {stack: built(stack).sql.proxy.enabled for stack in STACKS} == PROXIED
    assert {stack: len(built(stack).graph.of_type(PROXY)) for stack in STACKS} == \
        {stack: int(on) for stack, on in PROXIED.items()}


def unproxied(stack: str) -> Built:
    """The stack's database as its services reach it without RDS Proxy (dev's preset, or
    staging's and prod's settings with the proxy off)."""
    return built(stack) if not PROXIED[stack] else _built_direct(stack)


@cache
def _built_direct(stack: str) -> Built:
    return build(stack, sql=direct(stack))


def _rules(b: Built, type_: str) -> set[tuple[str, str, str, int, int]]:
    """Every rule as (group, the other group, protocol, from, to)."""
    return {(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"], r.inputs["ipProtocol"],
             r.inputs["fromPort"], r.inputs["toPort"]) for r in b.graph.of_type(type_)}


def _no_cidr_anywhere(b: Built) -> None:
    everything = json.dumps([r.inputs for r in b.graph], default=str)
    assert "0.0.0.0/0" not in everything and "::/0" not in everything
    assert "cidrIpv4" not in everything and "cidrIpv6" not in everything


@pytest.mark.parametrize("stack", STACKS)
def test_without_a_proxy_only_the_named_client_reaches_the_database_port(stack):
    b = unproxied(stack)
    assert b.graph.of_type(PROXY) == []
    group = b.graph.one(SECURITY_GROUP)
    assert group.inputs["vpcId"] == VPC_ID
    assert not group.inputs.get("ingress") and not group.inputs.get("egress")
    assert b.cluster.inputs["vpcSecurityGroupIds"] == [group.id]

    (ingress,) = b.graph.of_type(INGRESS)
    assert ingress.inputs["securityGroupId"] == group.id
    assert ingress.inputs["referencedSecurityGroupId"] == CLIENT_SG
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == ("tcp", 5433, 5433)

    (egress,) = b.graph.of_type(EGRESS)
    assert egress.inputs["securityGroupId"] == CLIENT_SG
    assert egress.inputs["referencedSecurityGroupId"] == group.id
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == ("tcp", 5433, 5433)
    # The services are pointed at the writer, on the cluster's own port.
    assert b.graph.outputs["clientEndpoint"] == b.graph.outputs["endpoint"]
    assert b.graph.outputs["clientPort"] == 5433
    _no_cidr_anywhere(b)


@pytest.mark.parametrize("stack", PROXIED_STACKS)
def test_with_the_proxy_only_the_named_client_reaches_the_proxy_and_only_the_proxy_the_cluster(stack):
    b = built(stack)
    cluster_group, proxy_group = b.graph.one(SECURITY_GROUP, "sql"), b.graph.one(SECURITY_GROUP, "sql-proxy")
    for group in (cluster_group, proxy_group):
        assert group.inputs["vpcId"] == VPC_ID
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")
    assert b.cluster.inputs["vpcSecurityGroupIds"] == [cluster_group.id]
    assert b.graph.one(PROXY).inputs["vpcSecurityGroupIds"] == [proxy_group.id]
    # Exactly these rules: the client reaches the proxy on 5432 (RDS Proxy's fixed port), the
    # proxy reaches the cluster on 5433, and the cluster admits nobody else; a client still
    # admitted to the cluster would skip the pool.
    assert _rules(b, INGRESS) == {(proxy_group.id, CLIENT_SG, "tcp", 5432, 5432),
                                  (cluster_group.id, proxy_group.id, "tcp", 5433, 5433)}
    assert _rules(b, EGRESS) == {(CLIENT_SG, proxy_group.id, "tcp", 5432, 5432),
                                 (proxy_group.id, cluster_group.id, "tcp", 5433, 5433)}
    # The services are pointed at the proxy, on its port.
    assert b.graph.outputs["clientEndpoint"] == b.graph.outputs["proxyEndpoint"] != b.graph.outputs["endpoint"]
    assert b.graph.outputs["clientPort"] == 5432
    _no_cidr_anywhere(b)


@pytest.mark.parametrize("stack", PROXIED_STACKS)
def test_the_proxy_reaches_the_endpoints_on_https_only_and_only_when_given_their_group(stack):
    b = build(stack, endpoints=ENDPOINTS_SG)
    proxy_group = b.graph.one(SECURITY_GROUP, "sql-proxy")
    # Its secret, through the Secrets Manager endpoint: one more rule, from the proxy, on 443.
    assert _rules(b, EGRESS) - _rules(built(stack), EGRESS) == {(proxy_group.id, ENDPOINTS_SG, "tcp", 443, 443)}
    assert _rules(b, INGRESS) == _rules(built(stack), INGRESS)
    # Without a proxy, the endpoints' group gives the cluster no path out.
    assert not [r for r in build(stack, sql=direct(stack), endpoints=ENDPOINTS_SG).graph.of_type(EGRESS)
                if r.inputs["referencedSecurityGroupId"] == ENDPOINTS_SG]


def test_each_client_gets_its_own_pair_of_rules_and_none_means_no_rules():
    two = build("dev", clients={"checkout": CLIENT_SG, "returns": OTHER_CLIENT_SG}).graph
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in two.of_type(INGRESS)) == \
        sorted([CLIENT_SG, OTHER_CLIENT_SG])
    assert sorted(r.inputs["securityGroupId"] for r in two.of_type(EGRESS)) == sorted([CLIENT_SG, OTHER_CLIENT_SG])
    # Rules are named by client, so adding or removing one leaves the others' names alone.
    assert sorted(r.name for r in two.of_type(INGRESS)) == ["sql-from-checkout", "sql-from-returns"]
    assert sorted(r.name for r in two.of_type(EGRESS)) == ["checkout-to-sql", "returns-to-sql"]
    none = build("dev", clients={}).graph
    assert none.of_type(INGRESS) == [] and none.of_type(EGRESS) == []


# -- the grant -----------------------------------------------------------------------------

def _grants_on(b: Built, role: str) -> list[Resource]:
    owner = b.graph.one(ROLE, role)
    return [r for r in b.graph.of_type(ROLE_POLICY) if r.parent == owner.urn]


@pytest.mark.parametrize("stack", STACKS)
def test_without_a_proxy_grant_connect_allows_one_db_user_on_this_cluster_only(stack):
    b = unproxied(stack)
    resource_id = b.graph.outputs["clusterResourceId"]
    assert resource_id.startswith("cluster-")
    grant = b.graph.one(ROLE_POLICY)
    assert grant.inputs["role"].startswith("checkout")
    document = json.loads(grant.inputs["policy"])
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["rds-db:connect"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{resource_id}/{APP_USER}"]
    assert grant.parent == b.graph.one(ROLE, "checkout").urn


@pytest.mark.parametrize("stack", PROXIED_STACKS)
def test_with_the_proxy_grant_connect_allows_one_db_user_through_this_proxy_only(stack):
    b = built(stack)
    cluster_id = b.graph.outputs["clusterResourceId"]
    proxy_id = b.graph.outputs["proxyArn"].rsplit(":", 1)[1]
    assert cluster_id.startswith("cluster-") and proxy_id.startswith("prx-")
    # The service's role: one user, through the proxy; the cluster itself is not named, so a pod
    # that skipped the proxy could not sign in even with a network path.
    (grant,) = _grants_on(b, "checkout")
    assert grant.inputs["role"].startswith("checkout")
    (statement,) = json.loads(grant.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["rds-db:connect"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{proxy_id}/{APP_USER}"]
    assert cluster_id not in grant.inputs["policy"]
    # The proxy's role: the same user on this cluster (end-to-end IAM), and its master secret.
    on_proxy = {r.name: json.loads(r.inputs["policy"]) for r in _grants_on(b, "sql-proxy-role")}
    assert sorted(on_proxy) == [f"sql-proxy-as-{APP_USER}", "sql-proxy-master-secret"]
    (as_user,) = on_proxy[f"sql-proxy-as-{APP_USER}"]["Statement"]
    assert as_user["Action"] == ["rds-db:connect"]
    assert as_user["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{cluster_id}/{APP_USER}"]
    # No other grant exists in the program.
    assert len(b.graph.of_type(ROLE_POLICY)) == 3


def test_connect_policy_is_exact():
    assert connect_policy("aws-cn", "cn-north-1", "111122223333", "cluster-ABCDEF0123456789", "orders_ro") == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ConnectAsDbUser",
            "Effect": "Allow",
            "Action": ["rds-db:connect"],
            "Resource": ["arn:aws-cn:rds-db:cn-north-1:111122223333:dbuser:cluster-ABCDEF0123456789/orders_ro"],
        }],
    }


@pytest.mark.parametrize("db_user, reason", [
    ("*", "PostgreSQL identifier"),
    ("app*", "PostgreSQL identifier"),
    ("app?", "PostgreSQL identifier"),
    ("", "PostgreSQL identifier"),
    ("Checkout", "PostgreSQL identifier"),
    ("1app", "PostgreSQL identifier"),
    ("app-user", "PostgreSQL identifier"),
    ("app/other", "PostgreSQL identifier"),
    ("a" * 64, "PostgreSQL identifier"),
    ("postgres", "reserved"),
    ("rdsadmin", "reserved"),
    ("rds_superuser", "reserved"),
    ("rds_iam", "reserved"),
    ("pg_monitor", "reserved"),
])
def test_bad_db_users_are_refused(db_user, reason):
    with pytest.raises(ValueError, match=reason):
        connect_policy("aws", REGION, ACCOUNT_ID, "cluster-ABCDEF0123456789", db_user)


def test_the_master_user_is_refused():
    with pytest.raises(ValueError, match="master user"):
        check_db_user("retail_admin", master_username="retail_admin")
    assert check_db_user("retail_admin") == "retail_admin"  # only the master user of that cluster is special


def test_grant_connect_refuses_the_master_user_before_anything_is_attached():
    errors: list[str] = []

    def try_master(database: SqlDatabase) -> None:
        try:
            database.grant_connect(aws.iam.Role("admin", assume_role_policy="{}"), "retail_admin")
        except ValueError as exc:
            errors.append(str(exc))

    b = build("dev", extra=try_master)
    assert len(errors) == 1 and "is the master user" in errors[0]
    assert len(b.graph.of_type(ROLE_POLICY)) == 1  # only the checkout grant


@pytest.mark.parametrize("account, cluster_id, match", [
    ("*", "cluster-ABCDEF0123456789", "twelve digits"),
    (ACCOUNT_ID, "*", "cluster resource id"),
    (ACCOUNT_ID, "retail-prod-sql", "cluster resource id"),
])
def test_wildcard_accounts_and_cluster_names_are_refused(account, cluster_id, match):
    with pytest.raises(ValueError, match=match):
        connect_policy("aws", REGION, account, cluster_id, APP_USER)


@given(st.from_regex(r"[a-z][a-z0-9_]{0,62}", fullmatch=True))
def test_any_valid_user_is_the_last_segment_of_the_only_resource(db_user):
    if db_user in RESERVED_DB_USERNAMES or db_user.startswith(("pg_", "rds_")):
        return
    (statement,) = connect_policy("aws", REGION, ACCOUNT_ID, "cluster-ABC123", db_user)["Statement"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:cluster-ABC123/{db_user}"]


@given(st.text(min_size=1, max_size=70).filter(lambda s: any(c not in "abcdefghijklmnopqrstuvwxyz0123456789_"
                                                               for c in s)))
def test_any_user_with_another_character_is_refused(db_user):
    with pytest.raises(ValueError):
        check_db_user(db_user)


# -- tree, regions, tags, outputs -----------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_is_in_the_component_tree_and_in_the_stack_region(stack):
    graph = built(stack).graph
    component = graph.one(COMPONENT)
    mine = {r.urn for r in graph.descendants(component.urn)}
    checkout = graph.one("aws:iam/role:Role", "checkout")
    # The test's own role and the grant attached to it (a grant is parented under its role).
    outside = [r for r in graph if r.custom and r.urn not in mine and r.urn != checkout.urn
               and r.parent != checkout.urn]
    assert outside == []
    # The proxy (staging, prod) is a component of its own inside the database's tree.
    assert [r.type for r in graph.descendants(component.urn) if r.type == PROXY_COMPONENT] == \
        [PROXY_COMPONENT] * PROXIED[stack]
    assert (PROXY in {r.type for r in graph.descendants(component.urn)}) is PROXIED[stack]
    for resource in graph.descendants(component.urn):
        if resource.type.startswith("aws:iam/") or not resource.custom:
            continue  # global, or a component (which has no region of its own)
        assert resource.inputs["region"] == REGION, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_standard_tags(stack):
    b = built(stack)
    expected = b.stack.conventions(stack).standard_tags
    component = b.graph.one(COMPONENT)
    taggable = [r for r in b.graph.descendants(component.urn) if is_taggable(r.type)]
    types = {r.type for r in taggable}
    assert {CLUSTER, INSTANCE, PARAMETER_GROUP, SUBNET_GROUP, SECURITY_GROUP, INGRESS, EGRESS, ROLE} <= types
    if stack != "dev":
        assert SCALING_TARGET in types
    assert (PROXY in types) is PROXIED[stack]
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert {key: tags.get(key) for key in STANDARD_TAG_KEYS} == expected, resource.name
        assert tags["Name"].startswith(f"retail-{stack}-sql"), resource.name


def test_endpoints_are_the_clusters():
    outputs = built("prod").graph.outputs
    assert outputs["endpoint"].startswith("retail-prod-sql.cluster-")
    assert outputs["readerEndpoint"].startswith("retail-prod-sql.cluster-ro-")


@pytest.mark.parametrize("stack", STACKS)
def test_the_postgresql_log_lands_in_our_log_group_with_our_key_and_retention(graph_of, stack):
    graph = graph_of(stack)
    config = parse_stack_config(PROJECT.stack_config(stack))
    primary = graph.without_dr().one(CLUSTER)
    # Every cluster, the DR region's secondary too, each with its own region's logs key.
    clusters = graph.of_type(CLUSTER)
    assert len(clusters) == (2 if stack == "prod" else 1) and primary in clusters
    for cluster in clusters:
        dr = cluster is not primary
        group = graph.one("aws:cloudwatch/logGroup:LogGroup", f"{'dr-' if dr else ''}sql-postgresql")
        assert group.region == cluster.region == (graph.outputs["drRegion"] if dr else graph.region)
        # The name RDS exports to, so RDS writes into this group instead of creating its own.
        assert group.inputs["name"] == f"/aws/rds/cluster/{cluster.inputs['clusterIdentifier']}/postgresql"
        assert "postgresql" in cluster.inputs["enabledCloudwatchLogsExports"]
        assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{cluster.region}:")
        logs_key = (graph.one("aws:kms/replicaKey:ReplicaKey", "dr-keys-logs") if dr
                    else graph.one("aws:kms/key:Key", "keys-logs"))
        assert group.property_dependencies["kmsKeyId"] == (logs_key.urn,)
        assert group.inputs["retentionInDays"] == config.network.flow_log_retention_days
        assert group.protect is config.is_prod and group.inputs["deletionProtectionEnabled"] is config.is_prod
        # Created first: otherwise RDS's first write creates it, never expiring, with AWS's key.
        assert group.urn in cluster.dependencies
