"""EC2.6 flow logs, EC2.2 default security group, EC2.15 no public IP on launch; EC2.8 /
EC2.170 IMDSv2, EC2.181 EBS encryption and EC2.25 no public IPs on launch templates and
Karpenter node classes; EC2.18 / EC2.19 unrestricted security-group ingress."""

from __future__ import annotations

import pytest

from policies import ec2
from policies.offline import evaluate
from policies.registry import POLICIES

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ALL_TRAFFIC = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}


def linked(snap, type_, name, vpc, props=None):
    """A companion whose vpcId input comes from ``vpc``, as the engine records it."""
    return snap(type_, name, {"vpcId": "vpc-123", **(props or {})},
                property_dependencies={"vpcId": (vpc.urn,)})


def template_props(**overrides):
    props = {
        "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled",
                            "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                 "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN, "volumeType": "gp3"}}],
        "networkInterfaces": [{"associatePublicIpAddress": "false", "deviceIndex": 0}],
    }
    props.update(overrides)
    return props


def node_class_props(**spec):
    return {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": "default"},
            "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}], "role": "karpenter-node", **spec}}


def test_compliant_compute_passes_the_whole_pack(snap, tags):
    resources = [
        snap(LAUNCH_TEMPLATE, "system-nodes", {**template_props(), "tags": tags()}),
        snap(NODE_CLASS, "default", node_class_props()),
        snap(SG, "alb", {"tags": tags(), "ingress": [
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"],
             "ipv6CidrBlocks": ["::/0"]}]}),
        snap(INGRESS_RULE, "alb-http", {"tags": tags(), "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
                                        "fromPort": 80, "toPort": 80}),
        snap(SG_RULE, "db", {"type": "ingress", "protocol": "tcp", "fromPort": 5432, "toPort": 5432,
                             "cidrBlocks": ["10.0.0.0/16"]}),
    ]
    assert evaluate(resources, POLICIES).violations == []


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


# --- launch-template-imdsv2 -----------------------------------------------------------------


def test_template_requiring_imdsv2_passes(snap, run_policy):
    assert run_policy("launch-template-imdsv2", [snap(LAUNCH_TEMPLATE, "lt", template_props())]).violations == []


@pytest.mark.parametrize("options", [{}, {"httpTokens": "optional"}], ids=["missing", "optional"])
def test_template_without_imdsv2_fails(snap, run_policy, options):
    template = snap(LAUNCH_TEMPLATE, "lt", template_props(metadataOptions=options))
    [violation] = run_policy("launch-template-imdsv2", [template]).violations
    assert violation.urn == template.urn
    assert "metadata_options={'http_tokens': 'required'" in violation.message


@pytest.mark.parametrize("spec", [{}, {"metadataOptions": {"httpTokens": "required"}}],
                         ids=["karpenter-default", "explicit"])
def test_node_class_with_imdsv2_passes(snap, run_policy, spec):
    assert run_policy("launch-template-imdsv2", [snap(NODE_CLASS, "nc", node_class_props(**spec))]).violations == []


def test_node_class_with_imdsv1_fails(snap, run_policy):
    node_class = snap(NODE_CLASS, "nc", node_class_props(metadataOptions={"httpTokens": "optional"}))
    [violation] = run_policy("launch-template-imdsv2", [node_class]).violations
    assert violation.urn == node_class.urn
    assert "set spec.metadataOptions.httpTokens to 'required'" in violation.message


# --- launch-template-ebs-encrypted ----------------------------------------------------------


@pytest.mark.parametrize("encrypted", ["true", True])
def test_template_with_encrypted_volumes_passes(snap, run_policy, encrypted):
    props = template_props(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": encrypted}}])
    assert run_policy("launch-template-ebs-encrypted", [snap(LAUNCH_TEMPLATE, "lt", props)]).violations == []


@pytest.mark.parametrize("ebs", [{"encrypted": "false"}, {"volumeSize": 50}], ids=["false", "missing"])
def test_template_with_unencrypted_volume_fails(snap, run_policy, ebs):
    template = snap(LAUNCH_TEMPLATE, "lt", template_props(blockDeviceMappings=[
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}, {"deviceName": "/dev/xvdb", "ebs": ebs}]))
    [violation] = run_policy("launch-template-ebs-encrypted", [template]).violations
    assert violation.urn == template.urn
    assert "EBS volume /dev/xvdb is not encrypted" in violation.message
    assert "ebs={'encrypted': 'true'" in violation.message


def test_template_without_mappings_fails(snap, run_policy):
    props = template_props()
    del props["blockDeviceMappings"]
    [violation] = run_policy("launch-template-ebs-encrypted", [snap(LAUNCH_TEMPLATE, "lt", props)]).violations
    assert "has no block_device_mappings" in violation.message
    assert "block_device_mappings=[{'device_name': '/dev/xvda'" in violation.message


@pytest.mark.parametrize("spec", [{}, {"blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                                                "ebs": {"encrypted": True}}]}],
                         ids=["karpenter-default", "explicit"])
def test_node_class_with_encrypted_volumes_passes(snap, run_policy, spec):
    assert run_policy("launch-template-ebs-encrypted",
                      [snap(NODE_CLASS, "nc", node_class_props(**spec))]).violations == []


def test_node_class_with_unencrypted_volume_fails(snap, run_policy):
    node_class = snap(NODE_CLASS, "nc", node_class_props(
        blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "50Gi"}}]))
    [violation] = run_policy("launch-template-ebs-encrypted", [node_class]).violations
    assert violation.urn == node_class.urn
    assert "block device /dev/xvda is not encrypted; set ebs.encrypted: true" in violation.message


# --- launch-template-no-public-ip -----------------------------------------------------------


def test_template_and_node_class_without_public_ip_pass(snap, run_policy):
    report = run_policy("launch-template-no-public-ip", [
        snap(LAUNCH_TEMPLATE, "lt", template_props()),
        snap(LAUNCH_TEMPLATE, "bare", {}),
        snap(NODE_CLASS, "nc", node_class_props(associatePublicIPAddress=False)),
    ])
    assert report.violations == []


def test_template_with_public_ip_fails(snap, run_policy):
    template = snap(LAUNCH_TEMPLATE, "lt", template_props(
        networkInterfaces=[{"associatePublicIpAddress": "true"}]))
    [violation] = run_policy("launch-template-no-public-ip", [template]).violations
    assert violation.urn == template.urn
    assert "network interface #0 sets associate_public_ip_address" in violation.message
    assert "set associate_public_ip_address='false'" in violation.message


def test_node_class_with_public_ip_fails(snap, run_policy):
    node_class = snap(NODE_CLASS, "nc", node_class_props(associatePublicIPAddress=True))
    [violation] = run_policy("launch-template-no-public-ip", [node_class]).violations
    assert violation.urn == node_class.urn
    assert "spec.associatePublicIPAddress: true" in violation.message
    assert "set it to false" in violation.message


# --- sg-unrestricted-ingress-authorized-ports (EC2.18) --------------------------------------


def ingress(protocol="tcp", low=443, high=443, cidr="0.0.0.0/0"):
    return {"protocol": protocol, "fromPort": low, "toPort": high, "cidrBlocks": [cidr]}


def test_unrestricted_web_ports_and_restricted_others_pass(snap, run_policy):
    report = run_policy("sg-unrestricted-ingress-authorized-ports", [
        snap(SG, "alb", {"ingress": [ingress(low=80, high=80), ingress(),
                                     ingress(low=22, high=22, cidr="10.0.0.0/8")]}),
        snap(INGRESS_RULE, "https6", {"cidrIpv6": "::/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}),
        snap(INGRESS_RULE, "from-alb", {"referencedSecurityGroupId": "sg-1", "ipProtocol": "-1"}),
        snap(SG_RULE, "egress", {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0,
                                 "cidrBlocks": ["0.0.0.0/0"]}),
    ])
    assert report.violations == []


@pytest.mark.parametrize(
    ("rule", "opens"),
    [
        (ingress(low=8443, high=8443), "port 8443"),
        (ingress(low=80, high=443), "ports 80-443"),
        (ingress("-1", 0, 0), "all ports"),
        (ingress("icmp", -1, -1), "ICMP"),
    ],
    ids=["other-port", "range", "all", "icmp"],
)
def test_unrestricted_other_ingress_fails(snap, run_policy, rule, opens):
    sg = snap(SG, "app", {"ingress": [ingress(), rule]})
    [violation] = run_policy("sg-unrestricted-ingress-authorized-ports", [sg]).violations
    assert violation.urn == sg.urn
    assert f"ingress rule #1 opens {opens} to 0.0.0.0/0" in violation.message
    assert "only ports 80 and 443" in violation.message
    assert "source_security_group_id" in violation.message


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        (INGRESS_RULE, {"cidrIpv6": "::/0", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080}),
        (SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 8080, "toPort": 8080,
                   "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}),
    ],
    ids=["ingress-rule", "sg-rule"],
)
def test_standalone_rules_are_checked(snap, run_policy, type_, props):
    rule = snap(type_, "rule", props)
    [violation] = run_policy("sg-unrestricted-ingress-authorized-ports", [rule]).violations
    assert violation.urn == rule.urn
    assert "opens port 8080" in violation.message


# --- sg-no-unrestricted-high-risk-ports (EC2.19) --------------------------------------------


def test_high_risk_ports_from_known_networks_pass(snap, run_policy):
    report = run_policy("sg-no-unrestricted-high-risk-ports", [
        snap(SG, "bastion", {"ingress": [ingress(low=22, high=22, cidr="203.0.113.0/24"), ingress()]}),
        snap(INGRESS_RULE, "https", {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443,
                                     "toPort": 443}),
    ])
    assert report.violations == []


@pytest.mark.parametrize(
    ("type_", "props", "ports"),
    [
        (SG, {"ingress": [ingress(low=22, high=22, cidr="::/0")]}, "22"),
        (INGRESS_RULE, {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 3300,
                        "toPort": 3400}, "3306, 3389"),
        (SG_RULE, {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0,
                   "cidrBlocks": ["0.0.0.0/0"]}, "20, 21, 22"),
    ],
    ids=["ssh-ipv6", "range", "all-traffic"],
)
def test_unrestricted_high_risk_ports_fail(snap, run_policy, type_, props, ports):
    resource = snap(type_, "risky", props)
    [violation] = run_policy("sg-no-unrestricted-high-risk-ports", [resource]).violations
    assert violation.urn == resource.urn
    assert f"including high-risk port(s) {ports}" in violation.message
    assert "SSM Session Manager" in violation.message


def test_high_risk_port_list_is_security_hubs():
    assert len(ec2.HIGH_RISK_PORTS) == 24 and {22, 3389, 5432, 9300} <= set(ec2.HIGH_RISK_PORTS)
