"""EC2.6 flow logs, EC2.2 default security group, EC2.15 no public IP on launch."""

from __future__ import annotations

import pytest

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"

ALL_TRAFFIC = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}


def linked(snap, type_, name, vpc, props=None):
    """A companion whose vpcId input comes from ``vpc``, as the engine records it."""
    return snap(type_, name, {"vpcId": "vpc-123", **(props or {})},
                property_dependencies={"vpcId": (vpc.urn,)})


# --- vpc-flow-logs --------------------------------------------------------------------------


def test_vpc_with_flow_log_passes(snap, run_policy):
    vpc = snap(VPC, "main")
    report = run_policy("vpc-flow-logs", [vpc, linked(snap, FLOW_LOG, "main-flow", vpc)])
    assert report.violations == []


def test_vpc_without_flow_log_fails_on_the_vpc(snap, run_policy):
    vpc = snap(VPC, "main")
    [violation] = run_policy("vpc-flow-logs", [vpc]).violations
    assert violation.urn == vpc.urn
    assert "VPC main has no flow log" in violation.message
    assert "aws.ec2.FlowLog" in violation.message


def test_flow_log_of_another_vpc_does_not_count(snap, run_policy):
    logged, unlogged = snap(VPC, "logged"), snap(VPC, "unlogged")
    flow_log = linked(snap, FLOW_LOG, "flow", logged)
    [violation] = run_policy("vpc-flow-logs", [logged, unlogged, flow_log]).violations
    assert violation.urn == unlogged.urn


def test_flow_log_with_vpc_id_but_no_dependency_does_not_count(snap, run_policy):
    # Only the engine's dependency record links a new VPC: its id is unknown in preview.
    vpc = snap(VPC, "main")
    flow_log = snap(FLOW_LOG, "flow", {"vpcId": "vpc-123"})
    [violation] = run_policy("vpc-flow-logs", [vpc, flow_log]).violations
    assert violation.urn == vpc.urn


def test_stack_without_vpcs_passes(snap, run_policy):
    assert run_policy("vpc-flow-logs", [snap(SUBNET, "orphan")]).violations == []


# --- default-security-group-closed ----------------------------------------------------------


@pytest.mark.parametrize("props", [{}, {"ingress": [], "egress": []}], ids=["missing", "empty"])
def test_default_sg_without_rules_passes(snap, run_policy, props):
    report = run_policy("default-security-group-closed", [snap(DEFAULT_SG, "default", props)])
    assert report.violations == []


@pytest.mark.parametrize("kind", ["ingress", "egress"])
def test_default_sg_with_a_rule_fails(snap, run_policy, kind):
    sg = snap(DEFAULT_SG, "default", {kind: [ALL_TRAFFIC]})
    [violation] = run_policy("default-security-group-closed", [sg]).violations
    assert violation.urn == sg.urn
    assert f"1 {kind} rule(s)" in violation.message
    assert "set ingress=[] and egress=[]" in violation.message


# --- default-security-group-managed ---------------------------------------------------------


def test_vpc_with_managed_default_sg_passes(snap, run_policy):
    vpc = snap(VPC, "main")
    report = run_policy("default-security-group-managed",
                        [vpc, linked(snap, DEFAULT_SG, "main-default", vpc)])
    assert report.violations == []


def test_vpc_with_unmanaged_default_sg_fails_on_the_vpc(snap, run_policy):
    other, unmanaged = snap(VPC, "other"), snap(VPC, "main")
    sg_of_other = linked(snap, DEFAULT_SG, "other-default", other)
    [violation] = run_policy("default-security-group-managed",
                             [other, unmanaged, sg_of_other]).violations
    assert violation.urn == unmanaged.urn
    assert "unmanaged" in violation.message
    assert "aws.ec2.DefaultSecurityGroup with vpc_id=vpc.id" in violation.message


# --- subnet-no-public-ip-on-launch ----------------------------------------------------------


@pytest.mark.parametrize("props", [{"mapPublicIpOnLaunch": False}, {}], ids=["false", "missing"])
def test_subnet_without_public_ips_passes(snap, run_policy, props):
    report = run_policy("subnet-no-public-ip-on-launch", [snap(SUBNET, "public-a", props)])
    assert report.violations == []


def test_subnet_with_public_ips_fails(snap, run_policy):
    subnet = snap(SUBNET, "public-a", {"mapPublicIpOnLaunch": True})
    [violation] = run_policy("subnet-no-public-ip-on-launch", [subnet]).violations
    assert violation.urn == subnet.urn
    assert "map_public_ip_on_launch=False" in violation.message
