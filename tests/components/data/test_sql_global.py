"""The Aurora Global Database: the primary's global cluster and the DR region's secondary,
built together under the project's mocks as the integrator wires them (primary slice and
DR slice, ``StackContext.for_dr``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pulumi_aws as aws
import pytest

from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID, RecordingMonitor, RetailMocks
from blueprint.synth import run_program
from components.data.sql_database import CLUSTER_PARAMETERS, SqlDatabase, SqlDatabaseArgs
from components.data.sql_secondary import SqlSecondary, SqlSecondaryArgs
from config.loader import parse_stack_config
from tests.components.data.dr_support import (
    CLIENT_SG,
    DATA_KEY,
    DR_CLIENT_SG,
    DR_DATA_KEY,
    DR_ISOLATED_SUBNETS,
    DR_REGION,
    DR_VPC_ID,
    ISOLATED_SUBNETS,
    REGION,
    SECURITY_GROUP,
    VPC_ID,
    BothSides,
)
from tests.support import PROJECT, stack_context

CLUSTER = "aws:rds/cluster:Cluster"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PRIMARY = "retail:data:SqlDatabase"
SECONDARY = "retail:data:SqlSecondary"

SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
DR_LOGS_KEY = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/mrk-7a8b9c0d1e2f4a3b8c5d6e7f8a9b0c1d"
APP_USER = "checkout_app"


class IgnoreChangesMonitor(RecordingMonitor):
    """Also keeps each resource's ``ignoreChanges`` (the graph does not carry it)."""

    def __init__(self, mocks: Any):
        super().__init__(mocks)
        self.ignore_changes: dict[str, list[str]] = {}

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        self.ignore_changes[response.urn] = list(request.ignoreChanges)
        return response


@dataclass(frozen=True)
class Built(BothSides):
    ignore_changes: Mapping[str, list[str]]

    @property
    def primary(self) -> Resource:
        return self.one_of(PRIMARY, CLUSTER)

    @property
    def secondary(self) -> Resource:
        return self.one_of(SECONDARY, CLUSTER)


def build(stack: str, *, global_database: bool = True, secondary: Mapping[str, Any] | None = None) -> Built:
    config = parse_stack_config(PROJECT.stack_config(stack))
    assert config.region == REGION

    def program() -> None:
        context = stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod)
        primary = SqlDatabase("sql", context, SqlDatabaseArgs(
            settings=config.sql, vpc_id=VPC_ID, subnet_ids=list(ISOLATED_SUBNETS), data_key_arn=DATA_KEY,
            secrets_key_arn=SECRETS_KEY, client_security_group_ids={"checkout": CLIENT_SG},
            global_database=global_database))
        if primary.global_cluster is None:
            return
        dr = SqlSecondary("sql", context.for_dr(DR_REGION), SqlSecondaryArgs(
            settings=config.sql, global_cluster_id=primary.global_cluster.id, vpc_id=DR_VPC_ID,
            subnet_ids=list(DR_ISOLATED_SUBNETS), data_key_arn=DR_DATA_KEY,
            client_security_group_ids={"checkout": DR_CLIENT_SG}, logs_key_arn=DR_LOGS_KEY,
            **(secondary or {})))
        dr.grant_connect(aws.iam.Role("checkout-dr", assume_role_policy="{}"), APP_USER)

    monitor = IgnoreChangesMonitor(RetailMocks(default_region=REGION))
    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region},
                        monitor=monitor)
    return Built(graph, config, monitor.ignore_changes)


@cache
def built(stack: str, instances: int = 1, write_forwarding: bool = False) -> Built:
    return build(stack, secondary={"instances": instances, "write_forwarding": write_forwarding})


# -- the primary's side ----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_global_cluster_is_created_from_the_primary_clusters_arn(stack):
    b = built(stack)
    (global_cluster,) = b.graph.of_type(GLOBAL_CLUSTER)
    assert global_cluster.parent == b.graph.one(PRIMARY).urn
    assert global_cluster.inputs["sourceDbClusterIdentifier"] == \
        f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-{stack}-sql"
    assert global_cluster.property_dependencies["sourceDbClusterIdentifier"] == (b.primary.urn,)
    assert global_cluster.inputs["globalClusterIdentifier"] == f"retail-{stack}-sql-global"
    assert global_cluster.inputs["region"] == REGION
    # Engine and version are the source cluster's; naming them too conflicts with the source.
    assert "engine" not in global_cluster.inputs and "engineVersion" not in global_cluster.inputs
    assert global_cluster.inputs["forceDestroy"] is True  # required with a source cluster
    assert global_cluster.inputs["tags"]["Name"] == f"retail-{stack}-sql-global"


def test_prod_global_cluster_is_deletion_protected_and_dev_is_not():
    prod, dev = built("prod").graph.one(GLOBAL_CLUSTER), built("dev").graph.one(GLOBAL_CLUSTER)
    assert prod.inputs["deletionProtection"] is True and prod.protect is True
    assert dev.inputs["deletionProtection"] is False and dev.protect is False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_primary_ignores_the_global_cluster_id_it_is_given_so_it_is_converted_in_place(stack):
    b = built(stack)
    assert b.ignore_changes[b.primary.urn] == ["globalClusterIdentifier"]
    assert "globalClusterIdentifier" not in b.primary.inputs
    # The primary keeps its own credentials, name and key.
    assert b.primary.inputs["masterUsername"] == "retail_admin"
    assert b.primary.inputs["kmsKeyId"] == DATA_KEY


def test_without_a_global_database_nothing_changes_on_the_primary():
    b = build("prod", global_database=False)
    assert b.graph.of_type(GLOBAL_CLUSTER) == []
    cluster = b.graph.one(CLUSTER)
    assert b.ignore_changes[cluster.urn] == []


# -- the secondary joins this global cluster, in the DR region, with the DR key -----------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_secondary_joins_this_global_cluster_in_the_dr_region(stack):
    b = built(stack)
    global_cluster = b.graph.one(GLOBAL_CLUSTER)
    secondary = b.secondary
    assert secondary.inputs["globalClusterIdentifier"] == global_cluster.id
    assert secondary.property_dependencies["globalClusterIdentifier"] == (global_cluster.urn,)
    assert secondary.inputs["region"] == DR_REGION
    assert secondary.inputs["clusterIdentifier"] == f"retail-{stack}-dr-sql"
    # AWS sets the replication source of a secondary; a diff on it would be noise (or a promotion).
    assert b.ignore_changes[secondary.urn] == ["replicationSourceIdentifier"]
    for resource in b.mine(SECONDARY):
        if resource.type.startswith("aws:iam/"):
            continue
        assert resource.inputs["region"] == DR_REGION, resource.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_secondary_is_encrypted_with_the_dr_replica_key(stack):
    b = built(stack)
    assert b.secondary.inputs["storageEncrypted"] is True
    assert b.secondary.inputs["kmsKeyId"] == DR_DATA_KEY != b.primary.inputs["kmsKeyId"]
    for instance in b.of(SECONDARY, INSTANCE):
        assert instance.inputs["performanceInsightsKmsKeyId"] == DR_DATA_KEY


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_secondary_sets_no_master_credentials_or_database(stack):
    inputs = built(stack).secondary.inputs
    for key in ("masterUsername", "masterPassword", "masterPasswordWo", "manageMasterUserPassword",
                "masterUserSecretKmsKeyId", "databaseName"):
        assert key not in inputs, key


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_secondary_has_the_primarys_engine_port_auth_parameters_and_log_export(stack):
    b = built(stack)
    primary, secondary = b.primary.inputs, b.secondary.inputs
    for key in ("engine", "engineVersion", "port", "iamDatabaseAuthenticationEnabled", "enabledCloudwatchLogsExports",
                "backupRetentionPeriod", "preferredBackupWindow", "copyTagsToSnapshot",
                "serverlessv2ScalingConfiguration"):
        assert secondary.get(key) == primary.get(key), key
    assert secondary["iamDatabaseAuthenticationEnabled"] is True
    group = b.one_of(SECONDARY, PARAMETER_GROUP)
    assert group.inputs["region"] == DR_REGION
    assert group.inputs["name"] == f"retail-{stack}-dr-sql-aurora-postgresql16"
    assert secondary["dbClusterParameterGroupName"] == group.inputs["name"]
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {p: v for p, v, _ in CLUSTER_PARAMETERS}
    assert group.inputs["parameters"] == b.one_of(PRIMARY, PARAMETER_GROUP).inputs["parameters"]


def test_the_secondary_log_lands_in_its_own_dr_log_group_with_the_dr_logs_key():
    b = built("prod")
    group = b.one_of(SECONDARY, LOG_GROUP)
    assert group.inputs["name"] == "/aws/rds/cluster/retail-prod-dr-sql/postgresql"
    assert group.inputs["region"] == DR_REGION
    assert group.inputs["kmsKeyId"] == DR_LOGS_KEY
    assert group.protect is True and group.inputs["deletionProtectionEnabled"] is True
    assert group.urn in b.secondary.dependencies


def test_prod_secondary_cannot_be_deleted_and_leaves_a_final_snapshot():
    b = built("prod")
    inputs = b.secondary.inputs
    assert inputs["deletionProtection"] is True and b.secondary.protect is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "retail-prod-dr-sql-final"
    assert all(i.protect for i in b.of(SECONDARY, INSTANCE))


def test_dev_secondary_can_be_destroyed_without_a_snapshot():
    inputs = built("dev").secondary.inputs
    assert inputs["deletionProtection"] is False and inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in inputs


# -- what runs on the secondary, per strategy ---------------------------------------------------

def test_pilot_light_secondary_is_headless():
    b = built("prod", instances=0)
    assert b.of(SECONDARY, INSTANCE) == []
    assert "enableGlobalWriteForwarding" not in b.secondary.inputs


def test_warm_standby_secondary_has_one_reader_in_the_dr_subnets_and_no_write_forwarding():
    b = built("prod", instances=1)
    (reader,) = b.of(SECONDARY, INSTANCE)
    subnet_group = b.one_of(SECONDARY, SUBNET_GROUP)
    assert subnet_group.inputs["subnetIds"] == list(DR_ISOLATED_SUBNETS)
    assert subnet_group.inputs["region"] == DR_REGION
    assert reader.inputs["clusterIdentifier"] == b.secondary.id
    assert reader.inputs["dbSubnetGroupName"] == subnet_group.inputs["name"] == b.secondary.inputs["dbSubnetGroupName"]
    assert reader.inputs["identifier"] == "retail-prod-dr-sql-1"
    assert reader.inputs["region"] == DR_REGION
    assert reader.inputs["publiclyAccessible"] is False
    assert reader.inputs["instanceClass"] == b.stack.sql.instance_class
    assert "enableGlobalWriteForwarding" not in b.secondary.inputs


def test_active_active_secondary_forwards_writes():
    b = built("prod", instances=1, write_forwarding=True)
    assert b.secondary.inputs["enableGlobalWriteForwarding"] is True
    assert len(b.of(SECONDARY, INSTANCE)) == 1


@pytest.mark.parametrize("instances, write_forwarding, match", [
    (0, True, "write_forwarding needs an instance"),
    (-1, False, "instances is -1"),
    (17, False, "instances is 17"),
])
def test_impossible_secondaries_are_refused(instances, write_forwarding, match):
    config = parse_stack_config(PROJECT.stack_config("dev"))
    with pytest.raises(ValueError, match=match):
        SqlSecondaryArgs(settings=config.sql, global_cluster_id="g", vpc_id=DR_VPC_ID, subnet_ids=["s"],
                         data_key_arn=DR_DATA_KEY, instances=instances, write_forwarding=write_forwarding)


def test_the_secondary_waits_for_nothing_of_the_primarys_compute():
    b = built("prod")
    primary_side = {r.urn for r in b.mine(PRIMARY)} - {b.graph.one(GLOBAL_CLUSTER).urn}
    for resource in b.mine(SECONDARY):
        waits_for = set(resource.dependencies) | {u for deps in resource.property_dependencies.values() for u in deps}
        assert not waits_for & primary_side, resource.name


# -- clients and the grant --------------------------------------------------------------------

def test_dr_clients_are_admitted_by_group_reference_only():
    b = built("prod")
    b.assert_clients_admitted_by_reference(SECONDARY, b.stack.sql.port)
    assert b.secondary.inputs["vpcSecurityGroupIds"] == [b.one_of(SECONDARY, SECURITY_GROUP).id]


def test_grant_connect_names_the_secondary_cluster_in_the_dr_region():
    b = built("prod")
    grant = b.grant_of("checkout-dr")
    (statement,) = json.loads(grant.inputs["policy"])["Statement"]
    assert statement["Action"] == ["rds-db:connect"]
    resource = statement["Resource"]
    assert len(resource) == 1
    assert resource[0].startswith(f"arn:aws:rds-db:{DR_REGION}:{ACCOUNT_ID}:dbuser:cluster-")
    assert resource[0].endswith(f"/{APP_USER}")
    assert grant.property_dependencies["policy"] == (b.secondary.urn,)
