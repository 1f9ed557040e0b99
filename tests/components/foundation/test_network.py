"""The Network component, read from synthesized graphs."""

from __future__ import annotations

import ipaddress
import json

import pytest
from pulumi.errors import RunError

from blueprint import ResourceGraph
from components.common.cidr import subnet_cidr
from components.common.settings import Environment
from components.foundation.network import GATEWAY_ENDPOINT_SERVICES, INTERFACE_ENDPOINT_SERVICES
from config.loader import parse_stack_config
from config.presets import PRESETS
from tests.support import PROJECT

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def subnets_by_tier(graph: ResourceGraph) -> dict[str, list]:
    tiers: dict[str, list] = {"public": [], "private": [], "isolated": []}
    for subnet in sorted(graph.of_type(SUBNET), key=lambda r: r.name):
        tiers[subnet.inputs["tags"]["tier"]].append(subnet)
    return tiers


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_subnets_follow_the_cidr_plan_in_every_az(graph_of, stack):
    graph = graph_of(stack).without_dr()
    vpc = graph.one("aws:ec2/vpc:Vpc")
    az_count = PRESETS[Environment(stack)]["network"]["azCount"]
    tiers = subnets_by_tier(graph)
    for tier, subnets in tiers.items():
        assert len(subnets) == az_count, tier
        for index, subnet in enumerate(subnets):
            assert subnet.name == f"network-{tier}-{index}"
            assert subnet.inputs["cidrBlock"] == subnet_cidr(vpc.inputs["cidrBlock"], tier, index)
            assert subnet.inputs["availabilityZone"] == f"{graph.region}{'abcdef'[index]}"
            assert subnet.inputs["vpcId"] == vpc.id
            assert subnet.parent == vpc.urn


def test_no_subnet_hands_out_public_ips(stack_graph):
    # EC2.15, on the public tier too: NAT gateways and ALBs bring their own addresses.
    for subnet in stack_graph.of_type(SUBNET):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.name


def test_subnets_carry_the_load_balancer_role_tags(graph_of):
    tiers = subnets_by_tier(graph_of("prod"))
    assert all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in tiers["public"])
    assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in tiers["private"])
    assert not any(key.startswith("kubernetes.io/role") for s in tiers["isolated"] for key in s.inputs["tags"])
    assert not any("kubernetes.io/role/elb" in s.inputs["tags"] for s in tiers["private"])


def test_prod_has_a_nat_gateway_per_az_each_serving_its_own_az(graph_of):
    graph = graph_of("prod").without_dr()
    tiers = subnets_by_tier(graph)
    nats = {nat.id: nat for nat in graph.of_type(NAT)}
    assert len(nats) == 3
    for index, public in enumerate(tiers["public"]):
        nat = graph.one(NAT, f"network-nat-{index}")
        assert nat.inputs["subnetId"] == public.id
        egress = graph.one(ROUTE, f"network-private-{index}-egress")
        assert egress.inputs["natGatewayId"] == nat.id
        assert egress.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        association = graph.one(ASSOCIATION, f"network-private-{index}")
        assert association.inputs["subnetId"] == tiers["private"][index].id


def test_dev_shares_a_single_nat_gateway(graph_of):
    graph = graph_of("dev")
    (nat,) = graph.of_type(NAT)
    routes = [r for r in graph.of_type(ROUTE) if r.name.endswith("-egress")]
    assert len(routes) == 2
    assert {r.inputs["natGatewayId"] for r in routes} == {nat.id}


def test_nat_strategy_follows_the_stack_override(synth_with):
    graph = synth_with("dev", network={"natStrategy": "perAz", "azCount": 3})
    assert len(graph.of_type(NAT)) == 3


def test_isolated_tier_has_no_route_out(stack_graph):
    isolated = stack_graph.one(ROUTE_TABLE, "network-isolated")
    assert not isolated.inputs.get("routes")
    routes_into_isolated = [r for r in stack_graph.of_type(ROUTE) if r.inputs["routeTableId"] == isolated.id]
    assert routes_into_isolated == []


def test_public_tier_routes_to_the_internet_gateway(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's network
    igw = stack_graph.one("aws:ec2/internetGateway:InternetGateway")
    route = stack_graph.one(ROUTE, "network-public-internet")
    assert route.inputs["gatewayId"] == igw.id
    assert route.inputs["routeTableId"] == stack_graph.one(ROUTE_TABLE, "network-public").id


def test_default_security_group_is_adopted_with_no_rules(stack_graph):
    # Every VPC's, the DR region's too.
    vpcs = stack_graph.of_type("aws:ec2/vpc:Vpc")
    defaults = stack_graph.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sorted(d.inputs["vpcId"] for d in defaults) == sorted(v.id for v in vpcs)
    for default in defaults:
        assert default.inputs.get("ingress", []) == []
        assert default.inputs.get("egress", []) == []


def test_gateway_endpoints_serve_private_and_isolated_route_tables(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's network
    tables = {rt.id for rt in stack_graph.of_type(ROUTE_TABLE) if rt.name != "network-public"}
    region = stack_graph.region
    for service in GATEWAY_ENDPOINT_SERVICES:
        endpoint = stack_graph.one(ENDPOINT, f"network-{service}")
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.{region}.{service}"
        assert endpoint.inputs["vpcEndpointType"] == "Gateway"
        assert set(endpoint.inputs["routeTableIds"]) == tables


@pytest.mark.parametrize("stack, expected", [("dev", False), ("staging", True), ("prod", True)])
def test_interface_endpoints_follow_the_preset(graph_of, stack, expected):
    graph = graph_of(stack).without_dr()
    interface = [e for e in graph.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    if not expected:
        assert interface == []
        return
    private_ids = {s.id for s in subnets_by_tier(graph)["private"]}
    assert sorted(e.inputs["serviceName"] for e in interface) == sorted(
        f"com.amazonaws.{graph.region}.{service}" for service in INTERFACE_ENDPOINT_SERVICES)
    security_group = graph.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints")
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert set(endpoint.inputs["subnetIds"]) == private_ids
        assert endpoint.inputs["securityGroupIds"] == [security_group.id]
    (rule,) = [r for r in graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs["securityGroupId"] == security_group.id]
    assert rule.inputs["securityGroupId"] == security_group.id
    assert rule.inputs["cidrIpv4"] == graph.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (443, 443, "tcp")


def test_flow_logs_go_to_a_log_group_encrypted_with_our_logs_key(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's network
    vpc = stack_graph.one("aws:ec2/vpc:Vpc")
    flow_log = stack_graph.one("aws:ec2/flowLog:FlowLog")
    group = stack_graph.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    logs_key = stack_graph.one("aws:kms/key:Key", "keys-logs")

    assert flow_log.inputs["vpcId"] == vpc.id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow_log.property_dependencies["logDestination"] == (group.urn,)
    # Our key, not merely "a key": the group's key input came from the logs domain key.
    assert group.property_dependencies["kmsKeyId"] == (logs_key.urn,)
    assert group.inputs["kmsKeyId"] == stack_graph.outputs["kmsKeyArns"]["logs"]


@pytest.mark.parametrize("stack, days", [("dev", 30), ("staging", 90), ("prod", 365)])
def test_flow_log_retention_follows_the_preset(graph_of, stack, days):
    group = graph_of(stack).one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert group.inputs["retentionInDays"] == days


def test_flow_log_role_is_scoped_to_its_log_group_and_account(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's network
    role = stack_graph.one("aws:iam/role:Role", "network-flow-logs")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"

    group = stack_graph.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    group_arn = f"arn:aws:logs:{stack_graph.region}:123456789012:log-group:{group.inputs['name']}"
    policy = json.loads(stack_graph.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs").inputs["policy"])
    grant, describe = policy["Statement"]
    assert grant["Resource"] == [group_arn, f"{group_arn}:*"]
    assert "*" not in json.dumps(grant["Action"])
    # The one unscoped action reads group names only; IAM cannot scope it.
    assert describe["Action"] == ["logs:DescribeLogGroups"] and describe["Resource"] == ["*"]
    assert stack_graph.one("aws:ec2/flowLog:FlowLog").property_dependencies["iamRoleArn"] == (role.urn,)


def test_flow_log_group_is_protected_only_in_prod(graph_of):
    prod = graph_of("prod").one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    dev = graph_of("dev").one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert prod.protect is True and prod.inputs["deletionProtectionEnabled"] is True
    assert dev.protect is False and dev.inputs.get("deletionProtectionEnabled") is not True


def test_prod_dr_network_follows_the_same_plan_in_the_dr_region_on_its_own_cidr(graph_of):
    graph = graph_of("prod")
    dr = parse_stack_config(PROJECT.stack_config("prod")).dr
    dr_region = graph.outputs["drRegion"]
    assert dr_region == dr.region == "eu-central-1"
    vpc = graph.one("aws:ec2/vpc:Vpc", "dr-network")
    assert vpc.region == dr_region and vpc.id == graph.outputs["drVpcId"]
    assert vpc.inputs["cidrBlock"] == dr.cidr == "10.31.0.0/16"
    assert vpc.inputs["cidrBlock"] != graph.without_dr().one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    az_count = PRESETS[Environment("prod")]["network"]["azCount"]
    dr_subnets = [s for s in graph.of_type(SUBNET) if s.name.startswith("dr-")]
    tiers = {tier: [s for s in sorted(dr_subnets, key=lambda r: r.name) if s.inputs["tags"]["tier"] == tier]
             for tier in ("public", "private", "isolated")}
    for tier, subnets in tiers.items():
        assert len(subnets) == az_count, tier
        for index, subnet in enumerate(subnets):
            assert subnet.name == f"dr-network-{tier}-{index}"
            assert subnet.inputs["cidrBlock"] == subnet_cidr(dr.cidr, tier, index)
            assert subnet.inputs["availabilityZone"] == f"{dr_region}{'abcdef'[index]}"
            assert subnet.inputs["vpcId"] == vpc.id and subnet.region == dr_region
    # A NAT gateway per AZ, each serving its own AZ's private subnet.
    for index, public in enumerate(tiers["public"]):
        nat = graph.one(NAT, f"dr-network-nat-{index}")
        assert nat.inputs["subnetId"] == public.id and nat.region == dr_region
        assert graph.one(ROUTE, f"dr-network-private-{index}-egress").inputs["natGatewayId"] == nat.id
    # Endpoints name the DR region's services; flow logs use the DR region's logs key.
    endpoints = [e for e in graph.of_type(ENDPOINT) if e.name.startswith("dr-")]
    assert endpoints and all(e.inputs["serviceName"].startswith(f"com.amazonaws.{dr_region}.") for e in endpoints)
    assert all(e.inputs["vpcId"] == vpc.id for e in endpoints)
    flow_log = graph.one("aws:ec2/flowLog:FlowLog", "dr-network-flow-logs")
    group = graph.one("aws:cloudwatch/logGroup:LogGroup", "dr-network-flow-logs")
    assert flow_log.inputs["vpcId"] == vpc.id and flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.property_dependencies["logDestination"] == (group.urn,)
    assert group.region == dr_region
    assert group.property_dependencies["kmsKeyId"] == (graph.one("aws:kms/replicaKey:ReplicaKey", "dr-keys-logs").urn,)


def test_asking_for_more_azs_than_the_region_has_fails_clearly():
    # The mocked region has six AZs, the most any AWS region offers; config caps azCount at six,
    # so the in-program check is reached only by a region with fewer. Exercised directly:
    from components.foundation.network import _require_zones

    expected = r"eu-west-3 has 2 available AZs, the stack asks for 3; lower retail:network.azCount"
    with pytest.raises(ValueError, match=expected):
        _require_zones(["eu-west-3a", "eu-west-3b"], 3, "eu-west-3")


def test_loosening_a_prod_default_is_said_out_loud(synth_with, graph_of):
    assert not any("in prod" in w for w in graph_of("prod").warnings)
    # Without the endpoints RDS Proxy could not read its secret (next test), so the proxy goes too.
    graph = synth_with("prod", network={"natStrategy": "single", "interfaceEndpoints": False},
                       sql={"proxy": {"enabled": False}})
    assert graph.without_dr().of_type("aws:rds/proxy:Proxy") == []
    assert len(graph.without_dr().of_type(NAT)) == 1
    assert any("natStrategy is 'single' in prod" in w for w in graph.warnings)
    assert any("interfaceEndpoints is off in prod" in w for w in graph.warnings)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_turning_the_endpoints_off_under_the_proxy_is_refused_naming_both_ways_out(synth_with, stack):
    # The proxy sits in the isolated subnets (no route out): its secret comes through the
    # Secrets Manager endpoint or not at all, so this would deploy a proxy that never connects.
    with pytest.raises(RunError, match=r"retail:sql\.proxy\.enabled: RDS Proxy reads the database's secret "
                       r"through the Secrets Manager interface endpoint.*set retail:network\.interfaceEndpoints: "
                       r"true, or sql\.proxy\.enabled: false"):
        synth_with(stack, network={"interfaceEndpoints": False})


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_proxy_reaches_secrets_manager_through_the_endpoints_on_443_only(graph_of, stack):
    graph = graph_of(stack).without_dr()
    endpoint = graph.one(ENDPOINT, "network-secretsmanager")
    assert endpoint.inputs["serviceName"] == f"com.amazonaws.{graph.region}.secretsmanager"
    # Private DNS: the proxy's calls to secretsmanager.<region>.amazonaws.com resolve to the endpoint.
    assert endpoint.inputs["vpcEndpointType"] == "Interface" and endpoint.inputs["privateDnsEnabled"] is True
    endpoints_group = graph.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints")
    proxy = graph.one("aws:rds/proxy:Proxy")
    (proxy_group,) = proxy.inputs["vpcSecurityGroupIds"]
    out = [(r.inputs["referencedSecurityGroupId"], r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"])
           for r in graph.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
           if r.inputs["securityGroupId"] == proxy_group]
    cluster_group = graph.one("aws:rds/cluster:Cluster").inputs["vpcSecurityGroupIds"]
    # The cluster's port, and HTTPS to the endpoints: nothing else leaves the proxy.
    assert sorted(out) == sorted([(endpoints_group.id, "tcp", 443, 443),
                                  (cluster_group[0], "tcp", 5433, 5433)])
    # The endpoints admit the VPC's range on 443, which holds the proxy's (isolated) subnets.
    isolated = subnets_by_tier(graph)["isolated"]
    assert set(proxy.inputs["vpcSubnetIds"]) == {s.id for s in isolated}
    (admitted,) = [r for r in graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.inputs["securityGroupId"] == endpoints_group.id]
    assert (admitted.inputs["ipProtocol"], admitted.inputs["fromPort"], admitted.inputs["toPort"]) == ("tcp", 443, 443)
    vpc_range = ipaddress.IPv4Network(admitted.inputs["cidrIpv4"])
    assert all(ipaddress.IPv4Network(s.inputs["cidrBlock"]).subnet_of(vpc_range) for s in isolated)


def test_the_same_choices_in_dev_are_not_warnings(synth_with):
    assert not any("natStrategy" in w for w in synth_with("dev", network={"natStrategy": "single"}).warnings)
