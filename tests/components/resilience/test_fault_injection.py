"""FIS templates: the documented action ids, targets that are this stack's resources only, a
stop condition on the stack's alarms, logs to the stack's group, and roles that can do what
their actions need and nothing more."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from moto.iam.access_control import PermissionResult

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.resilience.fault_injection import (
    ACTION_PERMISSIONS,
    CACHE_AZ_POWER,
    CROSS_REGION_DISRUPT,
    DYNAMODB_PAUSE,
    EC2_STOP,
    LOG_DELIVERY_PERMISSIONS,
    NETWORK_DISRUPT,
    RDS_FAILOVER,
    AzPowerInterruption,
    FaultInjection,
    FaultInjectionArgs,
    RegionIsolation,
)
from config.loader import parse_stack_config
from tests.iam.conftest import moto_evaluate, reference_evaluate
from tests.support import PROJECT, stack_context

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PERMITTED = PermissionResult.PERMITTED

REGION, DR, AZ = "eu-west-1", "eu-central-1", "eu-west-1a"
VPC = "vpc-0a1b2c3d4e5f60718"
AZ_SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60004")
ALL_SUBNETS = (*AZ_SUBNETS, "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60005")
DB = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-prod-aurora"
CACHE = f"arn:aws:elasticache:{REGION}:{ACCOUNT_ID}:replicationgroup:retail-prod-cache"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-carts"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/mrk-0d1e2f3a4b5c4d6e8f90a1b2c3d4e5f6"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:retail-prod-5xx"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/retail/prod/fis"
CLUSTER = "retail-prod-eks"

ARGS = FaultInjectionArgs(
    vpc_id=VPC, log_group_arn=LOG_GROUP, stop_alarm_arns=[ALARM],
    az_power=AzPowerInterruption(availability_zone=AZ, subnet_ids=list(AZ_SUBNETS), db_cluster_arn=DB,
                                 cache_replication_group_arn=CACHE, cluster_name=CLUSTER, volume_key_arn=DATA_KEY),
    region_isolation=RegionIsolation(dr_region=DR, subnet_ids=list(ALL_SUBNETS), global_table_arns=[TABLE]),
)


def build(args: FaultInjectionArgs = ARGS, stack: str = "prod") -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config(stack))

    def program() -> None:
        FaultInjection("fis", stack_context(config.conventions(stack), region=REGION), args)

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


@pytest.fixture(scope="module")
def graph() -> ResourceGraph:
    return build()


def template(graph: ResourceGraph, key: str):
    return graph.one(TEMPLATE, f"fis-{key}")


def policy(graph: ResourceGraph, key: str) -> dict[str, Any]:
    role = graph.one(ROLE, f"fis-{key}")
    (document,) = [p for p in graph.of_type(ROLE_POLICY) if p.parent == role.urn]
    return json.loads(document.inputs["policy"])


def actions_of(t) -> dict[str, dict]:
    return {a["name"]: a for a in t.inputs["actions"]}


def targets_of(t) -> dict[str, dict]:
    return {x["name"]: x for x in t.inputs["targets"]}


def granted(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def subnet_arn(subnet: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:subnet/{subnet}"


# -- the AZ rehearsal -----------------------------------------------------------------------------

def test_the_az_template_uses_the_documented_actions_on_their_target_keys(graph):
    actions = actions_of(template(graph, "az"))
    assert {a["actionId"]: a["target"]["key"] for a in actions.values()} == {
        NETWORK_DISRUPT: "Subnets", RDS_FAILOVER: "Clusters", CACHE_AZ_POWER: "ReplicationGroups",
        EC2_STOP: "Instances"}
    assert {p["key"]: p["value"] for p in actions["disrupt-az-subnets"]["parameters"]} == {
        "duration": "PT10M", "scope": "all"}
    # The nodes come back when the AZ's power does.
    assert actions["stop-az-nodes"]["parameters"] == [{"key": "startInstancesAfterDuration", "value": "PT10M"}]


def test_the_az_targets_are_this_stacks_resources_in_that_az_only(graph):
    t = template(graph, "az")
    targets = targets_of(t)
    for action in t.inputs["actions"]:
        assert action["target"]["value"] in targets
    assert targets["az-subnets"]["resourceType"] == "aws:ec2:subnet"
    assert targets["az-subnets"]["resourceArns"] == [subnet_arn(s) for s in AZ_SUBNETS]
    assert targets["database"] == {"name": "database", "resourceType": "aws:rds:cluster", "selectionMode": "ALL",
                                   "resourceArns": [DB]}
    assert targets["cache"]["resourceArns"] == [CACHE]
    assert targets["cache"]["parameters"] == {"availabilityZoneIdentifier": AZ}
    nodes = targets["az-nodes"]
    assert nodes["resourceTags"] == [{"key": f"kubernetes.io/cluster/{CLUSTER}", "value": "owned"}]
    assert {f["path"]: f["values"] for f in nodes["filters"]} == {
        "Placement.AvailabilityZone": [AZ], "State.Name": ["running"]}
    assert "resourceArns" not in nodes


def test_templates_stop_on_the_alarms_log_to_the_group_and_fail_on_empty_targets(graph):
    for key in ("az", "region"):
        t = template(graph, key)
        assert t.region == REGION
        assert t.inputs["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": ALARM}]
        logs = t.inputs["logConfiguration"]
        assert logs["cloudwatchLogsConfiguration"] == {"logGroupArn": f"{LOG_GROUP}:*"}
        assert logs["logSchemaVersion"] == 2
        assert t.inputs["experimentOptions"]["emptyTargetResolutionMode"] == "fail"
        assert t.inputs["roleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/retail-prod-fis-{key}"
        assert t.inputs["tags"]["stack"] == "prod"


def test_the_az_role_grants_exactly_what_its_actions_need(graph):
    needed = set().union(*(ACTION_PERMISSIONS[a] for a in (NETWORK_DISRUPT, RDS_FAILOVER, CACHE_AZ_POWER, EC2_STOP)))
    assert granted(policy(graph, "az")) == needed | LOG_DELIVERY_PERMISSIONS


def test_the_az_role_acts_on_this_stacks_resources_only(graph):
    document = policy(graph, "az")
    other_db = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:someone-elses"
    assert moto_evaluate(document, "rds:FailoverDBCluster", DB) == PERMITTED
    assert moto_evaluate(document, "rds:FailoverDBCluster", other_db) != PERMITTED
    assert moto_evaluate(document, "elasticache:InterruptClusterAzPower", CACHE) == PERMITTED
    assert moto_evaluate(document, "elasticache:InterruptClusterAzPower",
                         f"arn:aws:elasticache:{REGION}:{ACCOUNT_ID}:replicationgroup:other") != PERMITTED
    node = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/i-0123456789abcdef0"
    ours = {f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER}": "owned", "ec2:AvailabilityZone": AZ}
    assert reference_evaluate(document, "ec2:StopInstances", node, context=ours) == PERMITTED
    assert reference_evaluate(document, "ec2:StopInstances", node,
                              context={**ours, "ec2:AvailabilityZone": "eu-west-1b"}) != PERMITTED
    assert reference_evaluate(document, "ec2:StopInstances", node,
                              context={"aws:ResourceTag/kubernetes.io/cluster/other": "owned",
                                       "ec2:AvailabilityZone": AZ}) != PERMITTED
    assert reference_evaluate(document, "ec2:TerminateInstances", node, context=ours) != PERMITTED
    # ACLs: only those FIS made can be changed or deleted; only the AZ's subnets are swapped.
    acl = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:network-acl/acl-0123456789abcdef0"
    assert reference_evaluate(document, "ec2:DeleteNetworkAcl", acl,
                              context={"aws:ResourceTag/managedByFIS": "true"}) == PERMITTED
    assert reference_evaluate(document, "ec2:DeleteNetworkAcl", acl, context={}) != PERMITTED
    assert reference_evaluate(document, "ec2:ReplaceNetworkAclAssociation", subnet_arn(AZ_SUBNETS[0])) == PERMITTED
    assert reference_evaluate(document, "ec2:ReplaceNetworkAclAssociation", subnet_arn(ALL_SUBNETS[2])) != PERMITTED
    grant = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true"}
    assert reference_evaluate(document, "kms:CreateGrant", DATA_KEY, context=grant) == PERMITTED
    assert reference_evaluate(document, "kms:Decrypt", DATA_KEY, context=grant) != PERMITTED


def test_the_role_is_for_fis_of_this_account_and_iam_accepts_its_grant(graph):
    from moto import mock_aws

    from tests.iam.conftest import MotoAccount

    for key in ("az", "region"):
        (trust,) = json.loads(graph.one(ROLE, f"fis-{key}").inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "fis.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
        with mock_aws():
            MotoAccount(region=REGION).accepts_role_policy(policy(graph, key))


def test_a_partial_az_rehearsal_has_only_its_actions_and_their_permissions():
    network_only = replace(ARGS, region_isolation=None,
                           az_power=AzPowerInterruption(availability_zone=AZ, subnet_ids=list(AZ_SUBNETS)))
    graph = build(network_only)
    assert [a["actionId"] for a in template(graph, "az").inputs["actions"]] == [NETWORK_DISRUPT]
    assert granted(policy(graph, "az")) == set(ACTION_PERMISSIONS[NETWORK_DISRUPT]) | LOG_DELIVERY_PERMISSIONS
    assert graph.of_type(TEMPLATE) == [graph.one(TEMPLATE, "fis-az")]


# -- the region rehearsal ---------------------------------------------------------------------------

def test_the_region_template_cuts_the_subnets_off_from_the_dr_region_and_pauses_the_tables(graph):
    t = template(graph, "region")
    actions, targets = actions_of(t), targets_of(t)
    cut = actions["cut-off-dr-region"]
    assert cut["actionId"] == CROSS_REGION_DISRUPT and cut["target"] == {"key": "Subnets", "value": "subnets"}
    assert {p["key"]: p["value"] for p in cut["parameters"]} == {"duration": "PT30M", "region": DR}
    assert targets["subnets"]["resourceArns"] == [subnet_arn(s) for s in ALL_SUBNETS]
    pause = actions["pause-table-replication"]
    assert pause["actionId"] == DYNAMODB_PAUSE and pause["target"] == {"key": "Tables", "value": "global-tables"}
    assert targets["global-tables"] == {"name": "global-tables", "resourceType": "aws:dynamodb:global-table",
                                        "selectionMode": "ALL", "resourceArns": [TABLE]}


def test_the_region_role_grants_exactly_what_its_actions_need_on_this_vpc(graph):
    document = policy(graph, "region")
    needed = ACTION_PERMISSIONS[CROSS_REGION_DISRUPT] | ACTION_PERMISSIONS[DYNAMODB_PAUSE]
    assert granted(document) == needed | LOG_DELIVERY_PERMISSIONS
    table = "dynamodb:PutResourcePolicy"
    assert moto_evaluate(document, table, TABLE) == PERMITTED
    assert moto_evaluate(document, table, f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/other") != PERMITTED
    route_table = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:route-table/rtb-0123456789abcdef0"
    assert reference_evaluate(document, "ec2:DeleteRouteTable", route_table,
                              context={"aws:ResourceTag/managedByFIS": "true"}) == PERMITTED
    assert reference_evaluate(document, "ec2:DeleteRouteTable", route_table, context={}) != PERMITTED
    assert reference_evaluate(document, "ec2:AssociateRouteTable", subnet_arn("subnet-0fffffffffffffff0")) != PERMITTED


def test_nothing_is_built_unless_asked():
    graph = build(replace(ARGS, az_power=None, region_isolation=None))
    assert graph.of_type(TEMPLATE) == [] and graph.of_type(ROLE) == []


# -- refusals --------------------------------------------------------------------------------------

def test_a_template_without_a_stop_condition_must_be_asked_for():
    with pytest.raises(ValueError, match="stop_alarm_arns is empty"):
        replace(ARGS, stop_alarm_arns=[])
    unguarded = build(replace(ARGS, stop_alarm_arns=[], without_stop_condition=True))
    assert template(unguarded, "az").inputs["stopConditions"] == [{"source": "none"}]


def test_impossible_rehearsals_are_refused():
    with pytest.raises(ValueError, match="ISO 8601"):
        AzPowerInterruption(availability_zone=AZ, subnet_ids=list(AZ_SUBNETS), duration="10m")
    with pytest.raises(ValueError, match="needs volume_key_arn"):
        AzPowerInterruption(availability_zone=AZ, subnet_ids=list(AZ_SUBNETS), cluster_name=CLUSTER)
    with pytest.raises(ValueError, match="subnet_ids is empty"):
        RegionIsolation(dr_region=DR, subnet_ids=[])
    with pytest.raises(Exception, match="is not in eu-west-1"):
        build(replace(ARGS, az_power=AzPowerInterruption(availability_zone="eu-central-1a",
                                                         subnet_ids=list(AZ_SUBNETS))))
    with pytest.raises(Exception, match="the region being isolated"):
        build(replace(ARGS, region_isolation=RegionIsolation(dr_region=REGION, subnet_ids=list(ALL_SUBNETS))))
