"""The VPC: three subnet tiers over N AZs, egress, flow logs and private endpoints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from components.common.cidr import plan_subnets
from components.common.context import StackContext
from components.common.conventions import Conventions
from components.common.grants import policy_document, service_trust_policy, statement
from components.common.logs import log_group
from components.foundation.settings import NetworkConfig

#: Interface endpoints that let nodes in private subnets pull images, fetch credentials and
#: ship logs without crossing the NAT gateway (cheaper, and no internet path for them).
#: secretsmanager: RDS Proxy, in the isolated subnets (no NAT), reads the database's secret
#: through it.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager")

#: Gateway endpoints are free, so every stack gets them.
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")

# Tags the AWS Load Balancer Controller reads to choose subnets for load balancers.
_ELB_ROLE_TAGS = {
    "public": {"kubernetes.io/role/elb": "1"},
    "private": {"kubernetes.io/role/internal-elb": "1"},
    "isolated": {},
}

#: Flow-log records are aggregated for at most this many seconds (AWS allows 60 or 600):
#: a minute keeps incident timelines sharp.
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkConfig
    logs_key_arn: pulumi.Input[str]
    """The customer-managed key that encrypts the flow-log group."""


def flow_log_trust_policy(account_id: str) -> dict:
    return service_trust_policy("vpc-flow-logs.amazonaws.com", account_id)


def flow_log_delivery_policy(log_group_arn: str) -> dict:
    return policy_document(
        statement("DeliverFlowLogsToOneGroup",
                  ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                  [log_group_arn, f"{log_group_arn}:*"]),
        # DescribeLogGroups takes no resource (IAM authorises it on "*" only) and returns
        # group names, not log data; AWS's flow-log role documentation includes it.
        statement("FindTheLogGroup", ["logs:DescribeLogGroups"], ["*"]),
    )


class Network(pulumi.ComponentResource):
    """A VPC with public, private (workload) and isolated (data) subnets in each AZ."""

    #: The type token before the layers were named consistently (see RegionalPlatform).
    PREVIOUS_TYPE: ClassVar[str] = "retail:network:Network"

    vpc: aws.ec2.Vpc
    subnet_ids: dict[str, list[pulumi.Output[str]]]
    """Subnet ids by tier (``public``, ``private``, ``isolated``), in AZ order."""

    def __init__(self, name: str, context: StackContext, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:foundation:Network", name, None, opts)
        config, conv, region = args.settings, context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource_name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
            return conv.tags(conv.physical_name(resource_name), extra)

        zones = aws.get_availability_zones_output(state="available", region=region,
                                                  opts=pulumi.InvokeOutputOptions(parent=self))
        zone_names = zones.names.apply(lambda names: _require_zones(names, config.az_count, region))

        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=config.cidr,
            enable_dns_hostnames=True,  # Interface endpoints' private DNS needs both.
            enable_dns_support=True,
            region=region,
            tags=tags("vpc"),
            opts=child,
        )
        vpc_opts = pulumi.ResourceOptions(parent=self.vpc)

        # EC2.2: adopt the default security group and strip its rules, so nothing can use it.
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            region=region,
            tags=tags("default-closed"),
            opts=vpc_opts,
        )

        self.subnet_ids = {"public": [], "private": [], "isolated": []}
        subnets: dict[str, list[aws.ec2.Subnet]] = {"public": [], "private": [], "isolated": []}
        for plan in plan_subnets(config.cidr, config.az_count):
            subnet = aws.ec2.Subnet(
                f"{name}-{plan.tier}-{plan.az_index}",
                vpc_id=self.vpc.id,
                cidr_block=plan.cidr,
                availability_zone=zone_names[plan.az_index],
                # EC2.15, on every tier: NAT gateways and load balancers bring their own
                # addresses, so no subnet needs to hand out public IPs.
                map_public_ip_on_launch=False,
                region=region,
                tags=tags(f"{plan.tier}-{plan.az_index}", {"tier": plan.tier, **_ELB_ROLE_TAGS[plan.tier]}),
                opts=vpc_opts,
            )
            subnets[plan.tier].append(subnet)
            self.subnet_ids[plan.tier].append(subnet.id)

        # -- egress: public route table to the internet gateway, private through NAT -----
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, region=region,
                                      tags=tags("igw"), opts=vpc_opts)
        public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=self.vpc.id, region=region,
                                       tags=tags("public", {"tier": "public"}), opts=vpc_opts)
        aws.ec2.Route(f"{name}-public-internet", route_table_id=public_rt.id,
                      destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, region=region,
                      opts=pulumi.ResourceOptions(parent=public_rt))
        for index, subnet in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(f"{name}-public-{index}", subnet_id=subnet.id,
                                          route_table_id=public_rt.id, region=region,
                                          opts=pulumi.ResourceOptions(parent=public_rt))

        nat_count = config.az_count if config.nat_strategy == "perAz" else 1
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", region=region,
                              tags=tags(f"nat-{index}"), opts=vpc_opts)
            self.nat_gateways.append(aws.ec2.NatGateway(
                f"{name}-nat-{index}",
                allocation_id=eip.allocation_id,
                subnet_id=subnets["public"][index].id,
                connectivity_type="public",
                region=region,
                tags=tags(f"nat-{index}"),
                opts=pulumi.ResourceOptions(parent=self.vpc, depends_on=[igw]),
            ))

        private_route_tables: list[aws.ec2.RouteTable] = []
        for index, subnet in enumerate(subnets["private"]):
            # One table per AZ, each to its own AZ's NAT gateway when there is one: an AZ
            # outage then takes no other AZ's egress with it.
            route_table = aws.ec2.RouteTable(f"{name}-private-{index}", vpc_id=self.vpc.id, region=region,
                                             tags=tags(f"private-{index}", {"tier": "private"}),
                                             opts=vpc_opts)
            nat = self.nat_gateways[index % nat_count]
            aws.ec2.Route(f"{name}-private-{index}-egress", route_table_id=route_table.id,
                          destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id, region=region,
                          opts=pulumi.ResourceOptions(parent=route_table))
            aws.ec2.RouteTableAssociation(f"{name}-private-{index}", subnet_id=subnet.id,
                                          route_table_id=route_table.id, region=region,
                                          opts=pulumi.ResourceOptions(parent=route_table))
            private_route_tables.append(route_table)

        # The data tier has no route out at all: only the VPC and the gateway endpoints.
        isolated_rt = aws.ec2.RouteTable(f"{name}-isolated", vpc_id=self.vpc.id, region=region,
                                         tags=tags("isolated", {"tier": "isolated"}), opts=vpc_opts)
        for index, subnet in enumerate(subnets["isolated"]):
            aws.ec2.RouteTableAssociation(f"{name}-isolated-{index}", subnet_id=subnet.id,
                                          route_table_id=isolated_rt.id, region=region,
                                          opts=pulumi.ResourceOptions(parent=isolated_rt))

        # -- endpoints ------------------------------------------------------------------
        endpoint_route_tables = [rt.id for rt in [*private_route_tables, isolated_rt]]
        self.gateway_endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=endpoint_route_tables,
                region=region,
                tags=tags(f"{service}-endpoint"),
                opts=vpc_opts,
            )
            for service in GATEWAY_ENDPOINT_SERVICES
        }

        self.interface_endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        self.endpoint_security_group: aws.ec2.SecurityGroup | None = None
        if config.interface_endpoints:
            self.endpoint_security_group = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                vpc_id=self.vpc.id,
                description="Interface endpoints: HTTPS from inside the VPC only",
                region=region,
                tags=tags("endpoints"),
                opts=vpc_opts,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                security_group_id=self.endpoint_security_group.id,
                cidr_ipv4=config.cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS from the VPC",
                region=region,
                tags=tags("endpoints-https"),
                opts=pulumi.ResourceOptions(parent=self.endpoint_security_group),
            )
            for service in INTERFACE_ENDPOINT_SERVICES:
                self.interface_endpoints[service] = aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=self.vpc.id,
                    service_name=f"com.amazonaws.{region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.subnet_ids["private"],
                    security_group_ids=[self.endpoint_security_group.id],
                    region=region,
                    tags=tags(f"{service.replace('.', '-')}-endpoint"),
                    opts=vpc_opts,
                )

        # -- flow logs (EC2.6) ----------------------------------------------------------
        self.flow_log_group = log_group(
            f"{name}-flow-logs", context, name=f"/retail/{conv.stack}/vpc-flow-logs",
            retention_days=config.flow_log_retention_days, key_arn=args.logs_key_arn, tags=tags("flow-logs"),
            parent=self, region=region)
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            description=f"VPC flow logs of {conv.physical_name('vpc')} deliver to CloudWatch Logs",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(flow_log_trust_policy(account))),
            tags=tags("flow-logs"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=self.flow_log_group.arn.apply(lambda arn: json.dumps(flow_log_delivery_policy(arn))),
            opts=pulumi.ResourceOptions(parent=flow_role),
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            region=region,
            tags=tags("flow-logs"),
            opts=vpc_opts,
        )

        self.register_outputs({
            "vpcId": self.vpc.id,
            "publicSubnetIds": self.subnet_ids["public"],
            "privateSubnetIds": self.subnet_ids["private"],
            "isolatedSubnetIds": self.subnet_ids["isolated"],
            "flowLogGroup": self.flow_log_group.name,
        })


def _require_zones(names: list[str], count: int, region: str) -> list[str]:
    if len(names) < count:
        raise ValueError(f"{region} has {len(names)} available AZs, the stack asks for {count}; "
                         "lower retail:network.azCount")
    return names


def admit_clients(
    name: str,
    *,
    security_group: aws.ec2.SecurityGroup,
    client_security_group_ids: Mapping[str, pulumi.Input[str]],
    port: int,
    service: str,
    region: str,
    conventions: Conventions,
    parent: pulumi.Resource,
) -> None:
    """Let each client security group reach ``security_group`` on ``port``, and nothing else.

    Both sides are written: ingress on the service's group from the client's group, and egress
    on the client's group to the service's group (a group created by Pulumi has no egress), so
    a data store is reachable exactly by the groups its caller names. References between
    groups, never CIDRs: a new pod or node is admitted by its group, not by its address.
    Clients are keyed by name (the workload's), so the rules' names do not shift when one is
    added or removed.
    """
    for client, group_id in sorted(client_security_group_ids.items()):
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-{client}",
            security_group_id=security_group.id,
            referenced_security_group_id=group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"{service} client {client}",
            region=region,
            tags=conventions.tags(conventions.physical_name(f"{name}-from-{client}")),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{client}-to-{name}",
            security_group_id=group_id,
            referenced_security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"{client} to {service}",
            region=region,
            tags=conventions.tags(conventions.physical_name(name, "client", client)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
