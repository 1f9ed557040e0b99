"""The ElastiCache Global Datastore: the primary's global replication group and the DR
region's secondary, built together under the project's mocks as the integrator wires them."""

from __future__ import annotations

import json
from functools import cache

import pulumi_aws as aws
import pytest

from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.data.cache import (
    APP_ACCESS_STRING,
    CACHE_PORT,
    DISABLED_DEFAULT_ACCESS_STRING,
    Cache,
    CacheArgs,
    check_global_datastore_node_type,
)
from components.data.cache_secondary import CacheSecondary, CacheSecondaryArgs
from components.data.settings import CacheConfig
from config.loader import parse_stack_config
from config.stack import StackConfig
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

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"
PRIMARY = "retail:data:Cache"
SECONDARY = "retail:data:CacheSecondary"

#: Inherited from the Global Datastore: a member that sets them is refused.
INHERITED = ("engine", "engineVersion", "nodeType", "parameterGroupName", "numNodeGroups",
             "atRestEncryptionEnabled", "transitEncryptionEnabled", "transitEncryptionMode")


class Built(BothSides):

    @property
    def primary(self) -> Resource:
        return self.one_of(PRIMARY, GROUP)

    @property
    def secondary(self) -> Resource:
        return self.one_of(SECONDARY, GROUP)


def _settings(stack: str) -> tuple[StackConfig, CacheConfig]:
    config = parse_stack_config(PROJECT.stack_config(stack))
    # Global Datastore needs large nodes: the staging preset's t-family node is refused.
    settings = config.cache if stack == "prod" else config.cache.model_copy(update={"node_type": "cache.r7g.large"})
    return config, settings


def build(stack: str, *, global_datastore: bool = True) -> Built:
    config, settings = _settings(stack)
    assert config.region == REGION

    def program() -> None:
        context = stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod)
        primary = Cache("cache", context, CacheArgs(
            settings=settings, vpc_id=VPC_ID, subnet_ids=list(ISOLATED_SUBNETS), data_key_arn=DATA_KEY,
            client_security_group_ids={"storefront": CLIENT_SG}, global_datastore=global_datastore))
        if primary.global_datastore is None:
            return
        dr = CacheSecondary("cache", context.for_dr(DR_REGION), CacheSecondaryArgs(
            settings=settings, global_datastore_id=primary.global_datastore.id, vpc_id=DR_VPC_ID,
            subnet_ids=list(DR_ISOLATED_SUBNETS), data_key_arn=DR_DATA_KEY,
            client_security_group_ids={"storefront": DR_CLIENT_SG}))
        dr.grant_connect(aws.iam.Role("storefront-dr", assume_role_policy="{}"))

    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region})
    return Built(graph, config)


@cache
def built(stack: str) -> Built:
    return build(stack)


# -- the primary's side ----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_global_datastore_is_created_from_the_primary_replication_group(stack):
    b = built(stack)
    (datastore,) = b.graph.of_type(GLOBAL)
    assert datastore.parent == b.graph.one(PRIMARY).urn
    assert datastore.inputs["primaryReplicationGroupId"] == b.primary.id == f"retail-{stack}-cache"
    assert datastore.property_dependencies["primaryReplicationGroupId"] == (b.primary.urn,)
    assert datastore.inputs["globalReplicationGroupIdSuffix"] == f"retail-{stack}-cache"
    assert datastore.inputs["region"] == REGION
    assert datastore.protect is (stack == "prod")


def test_the_primary_sets_what_the_secondary_inherits():
    inputs = built("prod").primary.inputs
    assert inputs["atRestEncryptionEnabled"] is True and inputs["kmsKeyId"] == DATA_KEY
    assert inputs["transitEncryptionEnabled"] is True and inputs["transitEncryptionMode"] == "required"
    assert (inputs["engine"], inputs["nodeType"]) == ("valkey", "cache.r7g.large")


def test_without_a_global_datastore_there_is_none():
    assert build("prod", global_datastore=False).graph.of_type(GLOBAL) == []


@pytest.mark.parametrize("node_type", ["cache.t4g.small", "cache.t4g.medium", "cache.t3.micro", "cache.r7g.medium",
                                       "cache.m4.large", "cache.r4.xlarge"])
def test_node_types_a_global_datastore_cannot_run_on_are_refused(node_type):
    with pytest.raises(ValueError, match="cannot join an ElastiCache Global Datastore"):
        check_global_datastore_node_type(node_type)


@pytest.mark.parametrize("node_type", ["cache.r7g.large", "cache.m6g.xlarge", "cache.r6gd.2xlarge",
                                       "cache.m5.12xlarge"])
def test_large_current_nodes_are_accepted(node_type):
    assert check_global_datastore_node_type(node_type) == node_type


def test_a_t_family_primary_is_refused_before_anything_is_built():
    config = parse_stack_config(PROJECT.stack_config("staging"))
    assert config.cache.node_type.startswith("cache.t")
    errors: list[str] = []

    def program() -> None:
        try:
            Cache("cache", stack_context(conventions=config.conventions("staging")), CacheArgs(
                settings=config.cache, vpc_id=VPC_ID, subnet_ids=list(ISOLATED_SUBNETS), data_key_arn=DATA_KEY,
                global_datastore=True))
        except ValueError as exc:
            errors.append(str(exc))

    graph = run_program(program, project="retail", stack="staging", config={"aws:region": REGION})
    assert len(errors) == 1 and config.cache.node_type in errors[0]
    assert graph.of_type(GROUP) == []


# -- the secondary joins this datastore, in the DR region, with the DR key ----------------------

@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_secondary_joins_this_global_datastore_in_the_dr_region(stack):
    b = built(stack)
    datastore = b.graph.one(GLOBAL)
    secondary = b.secondary
    assert secondary.inputs["globalReplicationGroupId"] == datastore.id
    assert secondary.property_dependencies["globalReplicationGroupId"] == (datastore.urn,)
    assert secondary.inputs["replicationGroupId"] == f"retail-{stack}-dr-cache"
    assert secondary.inputs["region"] == DR_REGION
    for resource in b.mine(SECONDARY):
        assert resource.inputs["region"] == DR_REGION, resource.name


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_secondary_is_encrypted_with_the_dr_key_and_inherits_the_rest(stack):
    inputs = built(stack).secondary.inputs
    assert inputs["kmsKeyId"] == DR_DATA_KEY
    for key in INHERITED:
        assert key not in inputs, key


@pytest.mark.parametrize("stack, nodes", [("staging", 2), ("prod", 3)])
def test_the_secondary_fails_over_within_its_region_like_the_primary(stack, nodes):
    b = built(stack)
    inputs = b.secondary.inputs
    assert inputs["numCacheClusters"] == nodes == b.primary.inputs["numCacheClusters"]
    assert inputs["automaticFailoverEnabled"] is True and inputs["multiAzEnabled"] is True
    assert inputs["snapshotRetentionLimit"] == b.stack.cache.snapshot_retention_days
    assert inputs["autoMinorVersionUpgrade"] is True


def test_prod_secondary_is_protected_and_keeps_a_final_snapshot():
    prod, staging = built("prod").secondary, built("staging").secondary
    assert prod.protect is True and prod.inputs["finalSnapshotIdentifier"] == "retail-prod-dr-cache-final"
    assert staging.protect is False and "finalSnapshotIdentifier" not in staging.inputs


def test_the_secondary_lives_in_the_dr_isolated_subnets_behind_its_own_group():
    b = built("prod")
    subnet_group = b.one_of(SECONDARY, SUBNET_GROUP)
    assert subnet_group.inputs["subnetIds"] == list(DR_ISOLATED_SUBNETS)
    assert b.secondary.inputs["subnetGroupName"] == subnet_group.inputs["name"] == "retail-prod-dr-cache"
    group = b.one_of(SECONDARY, SECURITY_GROUP)
    assert group.inputs["vpcId"] == DR_VPC_ID
    assert b.secondary.inputs["securityGroupIds"] == [group.id]


def test_dr_clients_are_admitted_by_group_reference_only():
    built("prod").assert_clients_admitted_by_reference(SECONDARY, CACHE_PORT)


def test_the_secondary_authenticates_with_its_own_iam_user_group():
    b = built("prod")
    user_group = b.one_of(SECONDARY, USER_GROUP)
    assert b.secondary.inputs["userGroupIds"] == [user_group.inputs["userGroupId"]]
    assert b.secondary.property_dependencies["userGroupIds"] == (user_group.urn,)
    assert "authToken" not in b.secondary.inputs
    users = {u.inputs["userName"]: u for u in b.of(SECONDARY, USER)}
    app = users["retail-prod-dr-cache-app"]
    assert app.inputs["authenticationMode"] == {"type": "iam"} and app.inputs["accessString"] == APP_ACCESS_STRING
    assert users["default"].inputs["accessString"] == DISABLED_DEFAULT_ACCESS_STRING
    assert set(user_group.inputs["userIds"]) == {u.inputs["userId"] for u in users.values()}


def test_grant_connect_names_the_secondary_and_its_app_user_in_the_dr_region():
    (statement,) = json.loads(built("prod").grant_of("storefront-dr").inputs["policy"])["Statement"]
    assert statement["Action"] == ["elasticache:Connect"]
    assert statement["Resource"] == [
        f"arn:aws:elasticache:{DR_REGION}:{ACCOUNT_ID}:replicationgroup:retail-prod-dr-cache",
        f"arn:aws:elasticache:{DR_REGION}:{ACCOUNT_ID}:user:retail-prod-dr-cache-app",
    ]
