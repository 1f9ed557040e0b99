"""The Region switch plan's execution role policy, loaded into moto: what it lets ARC do."""

from __future__ import annotations

import pytest
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.resilience.region_switch import execution_policy

PERMITTED = PermissionResult.PERMITTED
PRIMARY, DR = "eu-west-1", "eu-central-1"
ZONE = "Z0123456789ABCDEFGHIJ"
GLOBAL = f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:retail-prod-sql-global"
CLUSTERS = [f"arn:aws:rds:{PRIMARY}:{ACCOUNT_ID}:cluster:retail-prod-sql",
            f"arn:aws:rds:{DR}:{ACCOUNT_ID}:cluster:retail-prod-dr-sql"]
EKS = ["retail-prod-eks", "retail-prod-dr-eks"]

POLICY = execution_policy(partition="aws", account_id=ACCOUNT_ID, regions=(PRIMARY, DR), zone_id=ZONE,
                          aurora=["retail-prod-sql-global", *CLUSTERS], eks_clusters=EKS)


def test_iam_accepts_the_execution_policy(aws):
    aws.accepts_role_policy(POLICY, name="region-switch-execution")


@pytest.mark.parametrize(("action", "resource"), [
    ("rds:SwitchoverGlobalCluster", GLOBAL),
    ("rds:FailoverGlobalCluster", CLUSTERS[1]),
    ("rds:DescribeGlobalClusters", GLOBAL),
    ("eks:DescribeCluster", f"arn:aws:eks:{DR}:{ACCOUNT_ID}:cluster/retail-prod-dr-eks"),
    ("eks:ListAssociatedAccessPolicies", f"arn:aws:eks:{PRIMARY}:{ACCOUNT_ID}:access-entry/retail-prod-eks/role/x"),
    ("route53:ListResourceRecordSets", f"arn:aws:route53:::hostedzone/{ZONE}"),
])
def test_the_plan_may_act_on_this_stacks_resources(moto_eval, action, resource):
    assert moto_eval(POLICY, action, resource) == PERMITTED


@pytest.mark.parametrize(("action", "resource"), [
    ("rds:SwitchoverGlobalCluster", f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:someone-elses"),
    ("rds:FailoverGlobalCluster", f"arn:aws:rds:{DR}:{ACCOUNT_ID}:cluster:someone-elses"),
    ("rds:DeleteGlobalCluster", GLOBAL),
    ("rds:ModifyDBCluster", CLUSTERS[0]),
    ("eks:DescribeCluster", f"arn:aws:eks:{DR}:{ACCOUNT_ID}:cluster/another"),
    ("eks:UpdateClusterConfig", f"arn:aws:eks:{DR}:{ACCOUNT_ID}:cluster/retail-prod-dr-eks"),
    ("route53:ChangeResourceRecordSets", f"arn:aws:route53:::hostedzone/{ZONE}"),
    ("route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/ZOTHERZONE"),
])
def test_nothing_else(moto_eval, action, resource):
    assert moto_eval(POLICY, action, resource) != PERMITTED
