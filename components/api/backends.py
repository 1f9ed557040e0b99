"""The partner APIs' private path to the services: an internal Network Load Balancer that only
API Gateway's VPC link reaches.

REST API VPC links target NLBs only, and an NLB routes by port, not by path: each service
that answers a partner operation gets a TLS listener on a port of its own (from
:func:`backend_ports`) forwarding to an IP target group, in which the AWS Load Balancer
Controller registers that service's pods (a TargetGroupBinding, as for the ALB). The API's
integration for the operation then calls ``https://partners-backend.<recordName>:<port><path>``.

Who reaches the NLB: its security group has no inbound rule at all, and it does not evaluate
its rules for PrivateLink traffic (``enforce_security_group_inbound_rules_on_private_link_traffic
= "off"``): the VPC link is the only way in, so no workload in the VPC can call a backend
around the API's authorization, validation, WAF and quotas. Out: the service ports, to the
private subnets where the pods run, and nothing else.

Where it lives: the public subnets, although it is internal (private addresses only, no
internet route in). The pods' NetworkPolicies admit the load balancers by the subnets their
nodes sit in; the public subnets hold no pods (only NAT gateways and load balancer nodes),
so admitting them admits no workload, which admitting the private subnets would.

TLS all the way to the VPC: API Gateway verifies the backend's certificate against the
integration's host name, so the NLB answers on ``partners-backend.<recordName>`` (an alias
record in the shop's zone, private addresses only) with an ACM certificate for exactly that
name, DNS-validated there, and the ALB's TLS policy (TLS 1.2/1.3). As at the ALB, TLS ends at
the load balancer and the last hop to the pods is plain HTTP on the service port. This is why
the partner APIs need ``retail:edge.domain``, like the shop's own services.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.compute.settings import ServiceConfig
from components.edge.certificates import dns_validated_certificate
from components.edge.load_balancer import DEREGISTRATION_DELAY_SECONDS, TLS_POLICY, elb_name, pod_health_check
from components.edge.settings import DomainConfig

#: The label of the NLB's name in the shop's zone.
BACKEND_LABEL = "partners-backend"

#: The first listener port; each backend service takes the next, in name order.
FIRST_BACKEND_PORT = 10_001


def backend_ports(backends: Mapping[str, str]) -> dict[str, int]:
    """Service -> the NLB listener port answering for it (operationId -> service in ``backends``).
    Name order, so adding an operation to a service already listed moves no port."""
    return {service: FIRST_BACKEND_PORT + index for index, service in enumerate(sorted(set(backends.values())))}


@dataclass(frozen=True)
class PartnerBackendsArgs:
    backends: Mapping[str, str]
    """operationId -> service (``retail:api.backends``)."""
    services: Sequence[ServiceConfig]
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The public subnets (see the module docstring)."""
    pod_cidrs: Sequence[str]
    """The private subnets' CIDRs, where the pods run: the only place the NLB sends to."""
    domain: DomainConfig
    """The shop's zone: the NLB's name and certificate are made in it."""
    target_group_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags the load balancer controller needs to register pods (the cluster's)."""

    def __post_init__(self) -> None:
        known = {s.name for s in self.services}
        unknown = sorted(set(self.backends.values()) - known)
        if unknown:
            raise ValueError(f"PartnerBackendsArgs.backends names services that do not exist: {', '.join(unknown)}")


class PartnerBackends(pulumi.ComponentResource):
    """Internal NLB, its security group, and a listener and target group per backend service."""

    nlb: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    target_groups: dict[str, aws.lb.TargetGroup]
    ports: dict[str, int]

    def __init__(self, name: str, context: StackContext, args: PartnerBackendsArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:api:PartnerBackends", name, None, opts)
        conv, region = context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        physical = elb_name(conv, name)
        self.ports = backend_ports(args.backends)
        by_name = {s.name: s for s in args.services}

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=conv.physical_name(name, "nlb"),
            description=f"{physical}: reached through the partner API's VPC link only; to the backend pods",
            vpc_id=args.vpc_id,
            region=region,
            tags=conv.tags(conv.physical_name(name, "nlb")),
            opts=child,
        )
        for service, port in sorted(self.ports.items()):
            target_port = by_name[service].port
            for index, cidr in enumerate(args.pod_cidrs):
                rule = f"{name}-to-{service}-{index}"
                aws.vpc.SecurityGroupEgressRule(
                    rule, security_group_id=self.security_group.id, ip_protocol="tcp", from_port=target_port,
                    to_port=target_port, cidr_ipv4=cidr, description=f"to {service} pods (listener {port})",
                    region=region, tags=conv.tags(conv.physical_name(rule)),
                    opts=pulumi.ResourceOptions(parent=self.security_group))

        self.nlb = aws.lb.LoadBalancer(
            name,
            name=physical,
            load_balancer_type="network",
            internal=True,
            subnets=list(args.subnet_ids),
            security_groups=[self.security_group.id],
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=context.protect,
            region=region,
            tags=conv.tags(physical),
            opts=child,
        )

        self.host = backend_host(args.domain)
        zone = aws.route53.get_zone_output(name=args.domain.zone_name, private_zone=False)
        certificate = dns_validated_certificate(f"{name}-backend", domain_name=self.host, zone_id=zone.zone_id,
                                                region=region, conventions=conv, parent=self)
        aws.route53.Record(
            f"{name}-backend",
            zone_id=zone.zone_id,
            name=self.host,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=self.nlb.dns_name, zone_id=self.nlb.zone_id,
                                                 evaluate_target_health=True)],
            opts=child,
        )

        self.target_groups = {}
        for service, port in sorted(self.ports.items()):
            spec = by_name[service]
            group = aws.lb.TargetGroup(
                f"{name}-{service}",
                name=elb_name(conv, "partners", service),
                target_type="ip",
                protocol="TCP",
                port=spec.port,
                vpc_id=args.vpc_id,
                deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
                health_check=pod_health_check(),
                region=region,
                tags=conv.tags(conv.physical_name("partners", service, max_length=255),
                               {"service": service, **args.target_group_tags}),
                opts=child,
            )
            aws.lb.Listener(
                f"{name}-{service}",
                load_balancer_arn=self.nlb.arn,
                port=port,
                protocol="TLS",
                certificate_arn=certificate.arn,
                ssl_policy=TLS_POLICY,
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)],
                region=region,
                tags=conv.tags(conv.physical_name(name, service)),
                opts=pulumi.ResourceOptions(parent=self.nlb),
            )
            self.target_groups[service] = group

        self.register_outputs({
            "nlbArn": self.nlb.arn,
            "host": self.host,
            "ports": self.ports,
            "securityGroupId": self.security_group.id,
        })

    def backend_urls(self) -> dict[str, str]:
        """Service -> ``https://<host>:<port>``, the base of its operations' integrations."""
        return {service: f"https://{self.host}:{port}" for service, port in self.ports.items()}


def backend_host(domain: DomainConfig) -> str:
    """The NLB's name, covered by its certificate."""
    return f"{BACKEND_LABEL}.{domain.record_name}"
