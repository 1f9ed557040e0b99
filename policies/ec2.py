"""EC2 and VPC: every VPC has a flow log (EC2.6) and a managed, closed default security group
(EC2.2), subnets assign no public IPs on launch (EC2.15); IMDSv2, EBS encryption and no
public addresses on launch templates and Karpenter node classes (EC2.8 / EC2.170, EC2.181,
EC2.25); unrestricted security-group ingress only on the web ports and never on high-risk
ports (EC2.18, EC2.19).

The VPC policies are stack policies: a VPC's flow log and default security group are linked
to it through their ``vpcId`` input's ``property_dependencies`` (a new VPC's id is unknown
during preview), and a missing one is reported on the VPC.

Karpenter's ``EC2NodeClass`` is a custom resource: its props are the manifest
(``apiVersion``, ``kind``, ``metadata``, ``spec``), not pulumi-aws inputs, and a field it
leaves out takes Karpenter's default, which is the secure one (``httpTokens: required``,
an encrypted root volume, no public IP outside public subnets). So a node class fails only
on what it sets; a launch template, whose AWS defaults are the insecure ones, fails on what
it leaves out.

Security-group ingress comes in three shapes, all checked: inline ``ingress`` blocks of
``aws.ec2.SecurityGroup``, ``aws.vpc.SecurityGroupIngressRule`` (one CIDR each) and the
older ``aws.ec2.SecurityGroupRule`` with ``type='ingress'``. "Unrestricted" is any IPv4 or
IPv6 network with prefix length 0 (``0.0.0.0/0``, ``::/0``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policies._helpers import (
    days_text,
    is_number,
    linked_urns,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_TYPES = (SECURITY_GROUP, INGRESS_RULE, SECURITY_GROUP_RULE)

#: EC2.18: the only ports the world may reach (the ALB's HTTP redirect and HTTPS).
AUTHORIZED_PUBLIC_PORTS = frozenset({80, 443})

#: EC2.19: Security Hub's high-risk ports (FTP, SSH, Telnet, SMTP, POP3, RPC, IMAP, SMB, SQL
#: Server, dev servers, MySQL, RDP, PostgreSQL, Kibana, proxies, Elasticsearch...).
HIGH_RISK_PORTS = (20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333,
                   5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300)

#: Protocol values meaning every protocol and so every port.
ALL_PROTOCOLS = ("-1", "all")
#: ICMP has types and codes, not ports: never a high-risk port, never an authorized one.
ICMP_PROTOCOLS = ("icmp", "1", "icmpv6", "58")


def _truthy(value: Any) -> bool:
    # Launch-template booleans are strings in pulumi-aws ("true"), node-class ones YAML bools.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


# --- VPC: EC2.6, EC2.2, EC2.15 -------------------------------------------------------------


def _vpc_flow_logs(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    vpcs = [r for r in args.resources if r.resource_type == VPC]
    if not vpcs:
        args.not_applicable("the stack has no VPCs")
    logged = linked_urns(args.resources, FLOW_LOG, "vpcId")
    for vpc in vpcs:
        if vpc.urn not in logged:
            report_violation(
                f"VPC {vpc.name} has no flow log; add an aws.ec2.FlowLog with "
                "vpc_id=vpc.id (traffic_type='ALL') so network traffic is auditable.",
                vpc.urn,
            )


def _default_security_group_closed(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing ingress/egress is compliant: the provider then removes every rule.
    rules = {kind: args.props.get(kind) or () for kind in ("ingress", "egress")}
    open_kinds = [f"{len(found)} {kind}" for kind, found in rules.items() if len(found)]
    if open_kinds:
        report_violation(
            f"default security group has {' and '.join(open_kinds)} rule(s); set ingress=[] "
            "and egress=[] and put the rules on a dedicated security group.",
            None,
        )


def _default_security_group_managed(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    vpcs = [r for r in args.resources if r.resource_type == VPC]
    if not vpcs:
        args.not_applicable("the stack has no VPCs")
    managed = linked_urns(args.resources, DEFAULT_SECURITY_GROUP, "vpcId")
    for vpc in vpcs:
        if vpc.urn not in managed:
            report_violation(
                f"VPC {vpc.name} leaves its default security group unmanaged, and AWS's "
                "default allows all traffic within the group; add an "
                "aws.ec2.DefaultSecurityGroup with vpc_id=vpc.id and no ingress or egress.",
                vpc.urn,
            )


def _subnet_no_public_ip_on_launch(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing is compliant: AWS's default is false.
    if args.props.get("mapPublicIpOnLaunch") is True:
        report_violation(
            "subnet assigns public IPs on launch; set map_public_ip_on_launch=False "
            "(NAT gateways and load balancers bring their own addresses).",
            None,
        )


# --- EC2.8 / EC2.170 ------------------------------------------------------------------------


def _imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        tokens = mapping(args.props.get("metadataOptions")).get("httpTokens")
        # Missing is a violation: the instance then takes the AMI's or account's default,
        # which for most AMIs still answers IMDSv1.
        if tokens != "required":
            shown = "not set" if tokens is None else repr(tokens)
            report_violation(
                f"launch template's metadata_options.http_tokens is {shown}, so instances "
                "answer IMDSv1 and an SSRF can steal the node role's credentials; set "
                "metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}.",
                None,
            )
        return
    # EC2NodeClass: missing is Karpenter's default, httpTokens: required.
    tokens = mapping(mapping(args.props.get("spec")).get("metadataOptions")).get("httpTokens")
    if tokens not in (None, "required"):
        report_violation(
            f"EC2NodeClass sets spec.metadataOptions.httpTokens={tokens!r}, so nodes answer "
            "IMDSv1; set spec.metadataOptions.httpTokens to 'required' (or leave it out: "
            "Karpenter's default is 'required').",
            None,
        )


# --- EC2.181 --------------------------------------------------------------------------------


def _ebs_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        mappings = [mapping(m) for m in sequence(args.props.get("blockDeviceMappings"))]
        volumes = [m for m in mappings if m.get("ebs") is not None]
        if not volumes:
            # Without a mapping the root volume is whatever the AMI's snapshot is: unencrypted
            # unless the account happens to encrypt by default.
            report_violation(
                "launch template has no block_device_mappings, so the root volume's encryption "
                "depends on the AMI and the account default; add block_device_mappings=[{"
                "'device_name': '/dev/xvda', 'ebs': {'encrypted': 'true', 'kms_key_id': "
                "<the data key's ARN>, 'volume_type': 'gp3'}}].",
                None,
            )
        for volume in volumes:
            if not _truthy(mapping(volume.get("ebs")).get("encrypted")):
                report_violation(
                    f"launch template's EBS volume {volume.get('deviceName') or '(no device)'} "
                    "is not encrypted; set ebs={'encrypted': 'true', 'kms_key_id': <the data "
                    "key's ARN>} on its block_device_mappings entry.",
                    None,
                )
        return
    # EC2NodeClass: no blockDeviceMappings = Karpenter's encrypted root volume default.
    for device in sequence(mapping(args.props.get("spec")).get("blockDeviceMappings")):
        device = mapping(device)
        if not _truthy(mapping(device.get("ebs")).get("encrypted")):
            report_violation(
                f"EC2NodeClass block device {device.get('deviceName') or '(no device)'} is not "
                "encrypted; set ebs.encrypted: true (and ebs.kmsKeyID) in "
                "spec.blockDeviceMappings.",
                None,
            )


# --- EC2.25 ---------------------------------------------------------------------------------


def _no_public_ip(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        for index, interface in enumerate(sequence(args.props.get("networkInterfaces"))):
            if _truthy(mapping(interface).get("associatePublicIpAddress")):
                report_violation(
                    f"launch template's network interface #{index} sets "
                    "associate_public_ip_address, so every instance gets a public IPv4 "
                    "address; set associate_public_ip_address='false' (nodes live in private "
                    "subnets and reach out through NAT).",
                    None,
                )
        return
    if _truthy(mapping(args.props.get("spec")).get("associatePublicIPAddress")):
        report_violation(
            "EC2NodeClass sets spec.associatePublicIPAddress: true, so every node gets a "
            "public IPv4 address; set it to false (or leave it out) and select private subnets "
            "in spec.subnetSelectorTerms.",
            None,
        )


# --- EC2.18 / EC2.19 ------------------------------------------------------------------------


def _unrestricted(cidrs: Iterable[Any]) -> list[str]:
    found = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if network.prefixlen == 0:
            found.append(str(cidr))
    return found


def _port(value: Any) -> int | None:
    return int(value) if is_number(value) else None


class _Ingress:
    """One ingress permission: where from, which protocol, which ports."""

    def __init__(self, label: str, sources: list[str], protocol: Any, from_port: Any, to_port: Any):
        self.label = label
        self.sources = sources
        self.protocol = str(protocol).lower() if protocol is not None else ""
        self.all_ports = self.protocol in ALL_PROTOCOLS
        self.icmp = self.protocol in ICMP_PROTOCOLS
        low, high = _port(from_port), _port(to_port)
        if not self.all_ports and not self.icmp and (low is None or high is None):
            # A port rule without ports is not one AWS accepts; read it as all ports.
            self.all_ports = True
        self.low = low if low is not None else 0
        self.high = high if high is not None else 65535

    def ports_text(self) -> str:
        if self.icmp:
            return "ICMP"
        if self.all_ports:
            return "all ports"
        if self.low == self.high:
            return f"port {days_text(self.low)}"
        return f"ports {days_text(self.low)}-{days_text(self.high)}"

    def high_risk(self) -> list[int]:
        if self.icmp:
            return []
        return [p for p in HIGH_RISK_PORTS if self.all_ports or self.low <= p <= self.high]

    def authorized_only(self) -> bool:
        return not self.all_ports and not self.icmp and self.low == self.high and self.low in AUTHORIZED_PUBLIC_PORTS


def _ingresses(resource_type: str, props: Mapping[str, Any]) -> list[_Ingress]:
    """The unrestricted ingress permissions of one resource (others are not returned)."""
    found: list[_Ingress] = []
    if resource_type == SECURITY_GROUP:
        for index, rule in enumerate(sequence(props.get("ingress"))):
            rule = mapping(rule)
            sources = _unrestricted([*sequence(rule.get("cidrBlocks")),
                                     *sequence(rule.get("ipv6CidrBlocks"))])
            if sources:
                found.append(_Ingress(f"ingress rule #{index}", sources, rule.get("protocol"),
                                      rule.get("fromPort"), rule.get("toPort")))
    elif resource_type == INGRESS_RULE:
        sources = _unrestricted([c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c])
        if sources:
            found.append(_Ingress("ingress rule", sources, props.get("ipProtocol"),
                                  props.get("fromPort"), props.get("toPort")))
    elif props.get("type") == "ingress":
        sources = _unrestricted([*sequence(props.get("cidrBlocks")),
                                 *sequence(props.get("ipv6CidrBlocks"))])
        if sources:
            found.append(_Ingress("ingress rule", sources, props.get("protocol"),
                                  props.get("fromPort"), props.get("toPort")))
    return found


_RESTRICT_FIX = (
    "allow only the sources that need it (source_security_group_id / "
    "referenced_security_group_id of the ALB or a VPC CIDR), or reach hosts through SSM "
    "Session Manager instead of opening a port"
)


def _authorized_ports(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for ingress in _ingresses(args.resource_type, args.props):
        if not ingress.authorized_only():
            report_violation(
                f"{ingress.label} opens {ingress.ports_text()} to {', '.join(ingress.sources)}; "
                "only ports 80 and 443 (each as its own rule, from_port=to_port) may be open to "
                f"the internet: {_RESTRICT_FIX}.",
                None,
            )


def _no_high_risk_ports(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for ingress in _ingresses(args.resource_type, args.props):
        risky = ingress.high_risk()
        if risky:
            shown = ", ".join(str(p) for p in _head(risky))
            report_violation(
                f"{ingress.label} opens {ingress.ports_text()} to {', '.join(ingress.sources)}, "
                f"including high-risk port(s) {shown}; {_RESTRICT_FIX}.",
                None,
            )


def _head(ports: Sequence[int], limit: int = 8) -> list[Any]:
    return [*ports[:limit], "..."] if len(ports) > limit else list(ports)


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    stack_policy("vpc-flow-logs", "EC2.6: every VPC has a flow log", _vpc_flow_logs),
    resource_policy("default-security-group-closed",
                    "EC2.2: managed default security groups have no ingress or egress rules",
                    [DEFAULT_SECURITY_GROUP], _default_security_group_closed),
    stack_policy("default-security-group-managed",
                 "EC2.2: every VPC's default security group is managed (and so closed)",
                 _default_security_group_managed),
    resource_policy("subnet-no-public-ip-on-launch",
                    "EC2.15: subnets do not assign public IPv4 addresses on launch",
                    [SUBNET], _subnet_no_public_ip_on_launch),
    resource_policy(
        "launch-template-imdsv2",
        "EC2.8 / EC2.170: launch templates and Karpenter node classes require IMDSv2",
        (LAUNCH_TEMPLATE, NODE_CLASS),
        _imdsv2,
    ),
    resource_policy(
        "launch-template-ebs-encrypted",
        "EC2.181: launch templates and Karpenter node classes encrypt their EBS volumes",
        (LAUNCH_TEMPLATE, NODE_CLASS),
        _ebs_encrypted,
    ),
    resource_policy(
        "launch-template-no-public-ip",
        "EC2.25: launch templates and Karpenter node classes assign no public IP addresses",
        (LAUNCH_TEMPLATE, NODE_CLASS),
        _no_public_ip,
    ),
    resource_policy(
        "sg-unrestricted-ingress-authorized-ports",
        "EC2.18: security groups allow unrestricted ingress only on ports 80 and 443",
        INGRESS_TYPES,
        _authorized_ports,
    ),
    resource_policy(
        "sg-no-unrestricted-high-risk-ports",
        "EC2.19: security groups allow no unrestricted ingress to high-risk ports",
        INGRESS_TYPES,
        _no_high_risk_ports,
    ),
]
