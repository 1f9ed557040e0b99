"""RegionSwitchPlan: the ARC Region switch plan, its workflows and its roles."""

from __future__ import annotations

import json
from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.resilience.objectives import Strategy
from components.resilience.region_switch import (
    STEP_APPROVAL,
    STEP_AURORA,
    STEP_ROUTE53,
    STEP_SCALE,
    AuroraGlobal,
    EksScaling,
    RegionSwitchArgs,
    RegionSwitchPlan,
    ScaledDeployment,
    plan_name,
)
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

PLAN = "aws:arcregionswitch/plan:Plan"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"

PRIMARY, DR = "eu-west-1", "eu-central-1"
ZONE = "Z0123456789ABCDEFGHIJ"
RECORD = "origin.shop.example.com"
GLOBAL_ID = "retail-prod-sql-global"
CLUSTERS = {PRIMARY: f"arn:aws:rds:{PRIMARY}:{ACCOUNT_ID}:cluster:retail-prod-sql",
            DR: f"arn:aws:rds:{DR}:{ACCOUNT_ID}:cluster:retail-prod-dr-sql"}
EKS = {PRIMARY: "retail-prod-eks", DR: "retail-prod-dr-eks"}
APPROVER = f"arn:aws:iam::{ACCOUNT_ID}:role/oncall"
DEPLOYMENTS = (ScaledDeployment("storefront", "storefront", "storefront"), ScaledDeployment("checkout", "checkout",
                                                                                          "checkout"))


@cache
def built(strategy: Strategy = Strategy.warm_standby, approvers: bool = True) -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config("prod"))

    def program() -> None:
        RegionSwitchPlan("region-switch", stack_context(conventions=config.conventions("prod"), region=PRIMARY),
                         RegionSwitchArgs(strategy=strategy, dr_region=DR, hosted_zone_id=ZONE, record_name=RECORD,
                                          aurora=AuroraGlobal(GLOBAL_ID, CLUSTERS),
                                          eks=EksScaling(EKS, DEPLOYMENTS),
                                          approver_arns=[APPROVER] if approvers else ()))

    return run_program(program, project="retail", stack="prod", config={"aws:region": PRIMARY})


def plan(g: ResourceGraph) -> dict:
    return g.one(PLAN).inputs


def workflows(g: ResourceGraph) -> dict[tuple[str, str], list[dict]]:
    return {(w["workflowTargetAction"], w["workflowTargetRegion"]): w["steps"] for w in plan(g)["workflows"]}


def role_policy(g: ResourceGraph, role_name_part: str) -> dict:
    role = next(r for r in g.of_type(ROLE) if role_name_part in r.inputs["name"])
    [policy] = [p for p in g.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])


def test_warm_standby_is_active_passive_between_the_primary_and_the_dr_region():
    inputs = plan(built())
    assert inputs["recoveryApproach"] == "activePassive"
    assert inputs["regions"] == [PRIMARY, DR] and inputs["primaryRegion"] == PRIMARY
    assert inputs["region"] == PRIMARY
    assert inputs["recoveryTimeObjectiveMinutes"] == 5
    assert "triggers" not in inputs
    assert len(inputs["name"]) <= 32


def test_activation_approves_then_scales_then_moves_the_writer_then_the_traffic():
    flows = workflows(built())
    assert set(flows) == {("activate", PRIMARY), ("activate", DR)}
    for steps in flows.values():
        assert [s["name"] for s in steps] == [STEP_APPROVAL, STEP_SCALE, STEP_AURORA, STEP_ROUTE53]
        assert [s["executionBlockType"] for s in steps] == [
            "ManualApproval", "EKSResourceScaling", "AuroraGlobalDatabase", "Route53HealthCheck"]


def test_steps_name_this_stacks_resources():
    g = built()
    steps = {s["name"]: s for s in workflows(g)[("activate", DR)]}
    [aurora] = steps[STEP_AURORA]["globalAuroraConfigs"]
    assert aurora["globalClusterIdentifier"] == GLOBAL_ID
    assert sorted(aurora["databaseClusterArns"]) == sorted(CLUSTERS.values())
    assert aurora["behavior"] == "switchoverOnly" and aurora["ungracefuls"] == [{"ungraceful": "failover"}]
    [route53] = steps[STEP_ROUTE53]["route53HealthCheckConfigs"]
    assert (route53["hostedZoneId"], route53["recordName"]) == (ZONE, RECORD)
    assert route53["recordSets"] == [{"recordSetIdentifier": r, "region": r} for r in (PRIMARY, DR)]
    [eks] = steps[STEP_SCALE]["eksResourceScalingConfigs"]
    assert [c["clusterArn"] for c in eks["eksClusters"]] == [
        f"arn:aws:eks:{r}:{ACCOUNT_ID}:cluster/{EKS[r]}" for r in (PRIMARY, DR)]
    assert {s["namespace"] for s in eks["scalingResources"]} == {"storefront", "checkout"}
    [approval] = steps[STEP_APPROVAL]["executionApprovalConfigs"]
    approval_role = next(r for r in g.of_type(ROLE) if "approval" in r.inputs["name"])
    assert approval["approvalRole"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{approval_role.inputs['name']}"


def test_active_active_deactivation_moves_the_writer_and_the_records_activation_scales():
    flows = workflows(built(Strategy.active_active))
    assert plan(built(Strategy.active_active))["recoveryApproach"] == "activeActive"
    assert set(flows) == {(a, r) for a in ("activate", "deactivate") for r in (PRIMARY, DR)}
    for region in (PRIMARY, DR):
        assert [s["name"] for s in flows[("activate", region)]] == [STEP_SCALE, STEP_ROUTE53]
        assert [s["name"] for s in flows[("deactivate", region)]] == [STEP_APPROVAL, STEP_AURORA, STEP_ROUTE53]


def test_without_approvers_there_is_no_approval_step_and_no_approval_role():
    g = built(approvers=False)
    for steps in workflows(g).values():
        assert STEP_APPROVAL not in [s["name"] for s in steps]
    assert [r.inputs["name"] for r in g.of_type(ROLE)] == ["retail-prod-region-switch-execution"]


def test_execution_role_trusts_region_switch_for_this_account_only():
    role = next(r for r in built().of_type(ROLE) if r.inputs["name"].endswith("execution"))
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "arc-region-switch.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_execution_role_is_limited_to_the_stacks_resources():
    statements = {s["Sid"]: s for s in role_policy(built(), "execution")["Statement"]}
    for s in statements.values():
        assert "*" not in s["Resource"] and s["Effect"] == "Allow"
    assert statements["ReadOriginRecords"]["Resource"] == [f"arn:aws:route53:::hostedzone/{ZONE}"]
    rds = [f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:{GLOBAL_ID}", *CLUSTERS.values()]
    assert statements["MoveGlobalDatabaseWriter"]["Resource"] == rds
    assert statements["MoveGlobalDatabaseWriter"]["Action"] == ["rds:FailoverGlobalCluster",
                                                                "rds:SwitchoverGlobalCluster"]
    assert statements["DescribeGlobalDatabase"]["Resource"] == rds
    assert statements["DescribeClusters"]["Resource"] == [
        f"arn:aws:eks:{r}:{ACCOUNT_ID}:cluster/{EKS[r]}" for r in (PRIMARY, DR)]
    assert statements["ReadOwnAccessEntries"]["Resource"] == [
        f"arn:aws:eks:{r}:{ACCOUNT_ID}:access-entry/{EKS[r]}/*" for r in (PRIMARY, DR)]
    actions = {a for s in statements.values() for a in s["Action"]}
    assert not any(a.endswith("*") for a in actions)


def test_approvers_may_approve_this_plan_only():
    g = built()
    [statement] = role_policy(g, "approval")["Statement"]
    assert statement["Action"] == ["arc-region-switch:ApprovePlanExecutionStep"]
    [resource] = statement["Resource"]
    assert resource.endswith(f":{ACCOUNT_ID}:plan/{plan(g)['name']}")
    role = next(r for r in g.of_type(ROLE) if "approval" in r.inputs["name"])
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"AWS": [APPROVER]}


def test_the_role_scales_only_the_named_namespaces_in_both_clusters():
    g = built()
    entries = {e.region: e.inputs for e in g.of_type(ACCESS_ENTRY)}
    assert {r: e["clusterName"] for r, e in entries.items()} == EKS
    for association in g.of_type(ASSOCIATION):
        inputs = association.inputs
        assert inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonARCRegionSwitchScalingPolicy"
        assert inputs["accessScope"] == {"type": "namespace", "namespaces": ["checkout", "storefront"]}
        assert inputs["clusterName"] == EKS[association.region]


@pytest.mark.parametrize(("strategy", "dr", "message"), [
    (Strategy.pilot_light, DR, "no running standby"),
    (Strategy.warm_standby, PRIMARY, "is the primary region"),
])
def test_impossible_args_are_refused(strategy, dr, message):
    refused(RegionSwitchArgs(strategy=strategy, dr_region=dr, hosted_zone_id=ZONE, record_name=RECORD), message)


def test_cluster_maps_must_name_both_regions():
    refused(RegionSwitchArgs(strategy=Strategy.warm_standby, dr_region=DR, hosted_zone_id=ZONE, record_name=RECORD,
                             aurora=AuroraGlobal(GLOBAL_ID, {PRIMARY: "x"})),
            r"aurora\.cluster_arns must name exactly")


def refused(args: RegionSwitchArgs, message: str) -> None:
    config = parse_stack_config(PROJECT.stack_config("prod"))
    context = stack_context(conventions=config.conventions("prod"), region=PRIMARY)
    with pytest.raises(ValueError, match=message):
        run_program(lambda: RegionSwitchPlan("rs", context, args),
                    project="retail", stack="prod", config={"aws:region": PRIMARY})


def test_long_plan_names_fit_32_characters_and_stay_distinct():
    a, b = plan_name("retail-long-stack-name-region-switch-a"), plan_name("retail-long-stack-name-region-switch-b")
    assert len(a) <= 32 and len(b) <= 32 and a != b
    assert plan_name("retail-prod-region-switch") == "retail-prod-region-switch"
