"""The peak pre-warming schedules' execution roles in moto: IAM accepts their trust and grants;
moto's evaluator (conftest.py) shows each grant allows the one action on its own resource and
nothing next to it (moto authorises RDS, DynamoDB and ELB calls against "*", so the
resource-scoped verdicts come from the evaluator); the trust policy's service principal and
conditions are judged by the reference evaluator (moto's cannot read a Service principal)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.peaks.warming import (
    modify_capacity_policy,
    modify_cluster_policy,
    scheduler_trust_policy,
    update_tables_policy,
)
from tests.iam.conftest import MotoAccount, moto_evaluate, reference_evaluate

PERMITTED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.NEUTRAL
REGION = "eu-west-1"
CLUSTER = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-prod-orders-db"
OTHER_CLUSTER = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-prod-reporting-db"
CARTS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-carts"
SESSIONS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-sessions"
ORDERS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-orders"
ALB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/app/retail-prod/0123456789abcdef"
NLB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/net/retail-prod-partners/0123456789abcdef"
GROUP = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule-group/retail-prod-peaks"
SCHEDULER = ("Service", "scheduler.amazonaws.com")

AURORA = modify_cluster_policy(CLUSTER)
DYNAMODB = update_tables_policy([CARTS, SESSIONS])
LOAD_BALANCER = modify_capacity_policy(ALB)


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


@pytest.mark.parametrize("name, policy", [("aurora", AURORA), ("dynamodb", DYNAMODB), ("alb", LOAD_BALANCER)])
def test_iam_accepts_each_role_trust_and_grant(account, name, policy):
    account.accepts_role_policy(policy, name=name)
    account.client("iam").update_assume_role_policy(
        RoleName=name, PolicyDocument=json.dumps(scheduler_trust_policy(ACCOUNT_ID, GROUP)))


def test_the_aurora_role_modifies_only_its_cluster():
    assert moto_evaluate(AURORA, "rds:ModifyDBCluster", CLUSTER) == PERMITTED
    assert moto_evaluate(AURORA, "rds:ModifyDBCluster", OTHER_CLUSTER) != PERMITTED
    for action in ("rds:DeleteDBCluster", "rds:FailoverDBCluster", "rds:ModifyDBInstance", "rds:StopDBCluster"):
        assert moto_evaluate(AURORA, action, CLUSTER) != PERMITTED, action


def test_the_dynamodb_role_updates_only_the_warmed_tables():
    for table in (CARTS, SESSIONS):
        assert moto_evaluate(DYNAMODB, "dynamodb:UpdateTable", table) == PERMITTED
    assert moto_evaluate(DYNAMODB, "dynamodb:UpdateTable", ORDERS) != PERMITTED
    for action in ("dynamodb:DeleteTable", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateTimeToLive"):
        assert moto_evaluate(DYNAMODB, action, CARTS) != PERMITTED, action


def test_the_alb_role_reserves_capacity_only_on_the_alb():
    assert moto_evaluate(LOAD_BALANCER, "elasticloadbalancing:ModifyCapacityReservation", ALB) == PERMITTED
    assert moto_evaluate(LOAD_BALANCER, "elasticloadbalancing:ModifyCapacityReservation", NLB) != PERMITTED
    for action in ("elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
                   "elasticloadbalancing:ModifyListener"):
        assert moto_evaluate(LOAD_BALANCER, action, ALB) != PERMITTED, action


def test_only_scheduler_for_this_account_and_group_may_assume_the_roles():
    # The reference evaluator (ours): moto's cannot evaluate a Service principal.
    trust = scheduler_trust_policy(ACCOUNT_ID, GROUP)
    ours = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": GROUP}
    assert reference_evaluate(trust, "sts:AssumeRole", principal=SCHEDULER, context=ours) == PERMITTED
    other_account = {**ours, "aws:SourceAccount": "210987654321"}
    assert reference_evaluate(trust, "sts:AssumeRole", principal=SCHEDULER, context=other_account) == NEUTRAL
    other_group = {**ours, "aws:SourceArn": GROUP.replace("retail-prod-peaks", "someone-else")}
    assert reference_evaluate(trust, "sts:AssumeRole", principal=SCHEDULER, context=other_group) == NEUTRAL
    assert reference_evaluate(trust, "sts:AssumeRole", principal=("Service", "lambda.amazonaws.com"),
                              context=ours) == NEUTRAL
