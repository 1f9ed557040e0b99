"""The shop's internet-facing Application Load Balancer, reachable only through CloudFront.

The ALB sits in the public subnets but admits only CloudFront: its security group takes 443
from the CloudFront origin-facing managed prefix list alone, and every listener rule also
requires the secret ``X-Origin-Verify`` header that only our distribution sends, so a request
from another CloudFront distribution (same prefix list) still gets the default 403.

TLS: CloudFront reaches the ALB over HTTPS (CloudFront.9) at ``origin.<recordName>``, a name
that an ACM certificate can cover (the ALB's own ``*.elb.amazonaws.com`` name cannot be), with
the TLS 1.3 policy (ELB.17/18). TLS terminates at the ALB; from there to the pods the traffic
is plain HTTP inside the VPC, on the service port only (targets in IP mode, security groups by
CIDR of the VPC). Re-encrypting to the pods would need a certificate per pod and buys little
inside a VPC whose only entry is this ALB; a mesh with mTLS is the place to add it.

Without a domain there is no certificate, so there is no listener at all: an HTTP origin
would break CloudFront.9, and a listener on 443 needs a certificate. The CDN then serves only
the static assets, and the component says so with a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.conventions import Conventions
from components.compute.settings import ServiceConfig
from components.edge.certificates import dns_validated_certificate
from components.edge.settings import DomainConfig

#: The header CloudFront adds to every origin request, with the origin secret as its value.
#: ALB header conditions compare case-insensitively and treat ``*`` and ``?`` as wildcards,
#: so the secret must be long and alphanumeric (e.g. ``random.RandomPassword(length=48,
#: special=False)``).
ORIGIN_SECRET_HEADER = "X-Origin-Verify"

#: The managed prefix list of CloudFront's origin-facing addresses. It counts as its maximum
#: size (about 55 entries) against the security group's rule quota (60 inbound by default),
#: so the group holds this one ingress rule and nothing else inbound.
CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"

#: ELB.17 / PCI DSS 4.2.1: TLS 1.3 and 1.2 with forward-secret ciphers only.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

HTTPS_PORT = 443
HTTP_PORT = 80

#: Where the ALB writes its access logs in the logs bucket (ELB.5):
#: ``alb/AWSLogs/<account>/elasticloadbalancing/<region>/...``.
ACCESS_LOG_PREFIX = "alb"

#: Longer than CloudFront's origin keep-alive (5 s) and read timeout (30 s), so the ALB never
#: closes a connection CloudFront is about to reuse (a source of sporadic 502s).
IDLE_TIMEOUT_SECONDS = 60

#: Targets are pods (IP mode) registered by the AWS Load Balancer Controller's
#: TargetGroupBinding; a pod being replaced drains for this long. Shorter than the default
#: 300 s so a rolling deploy during a peak finishes in minutes; requests to the shop are short.
DEREGISTRATION_DELAY_SECONDS = 30

#: The readiness endpoint every service template serves.
HEALTH_CHECK_PATH = "/readyz"
HEALTH_CHECK_INTERVAL_SECONDS = 15
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3

#: The label of the origin host name under the shop's record: ``origin.shop.example.com``.
ORIGIN_LABEL = "origin"

#: Listener rule priorities leave gaps, so a hand-made rule during an incident fits between.
RULE_PRIORITY_STEP = 10

#: ALB and target group names are at most 32 characters.
MAX_ELB_NAME_LENGTH = 32

#: The service principal that delivers ALB access logs in Regions opened since August 2022
#: and, per the current ELB guide, in all Regions.
ELB_LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"

#: The Elastic Load Balancing account of each Region opened before August 2022: bucket
#: policies there must also admit it (ELB User Guide, "Enable access logs", step 2).
ELB_LOG_DELIVERY_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}

#: Builds a bucket-policy statement from (bucket ARN, partition, account id), the shape
#: ``ObjectStoreArgs.extra_statements`` takes.
StatementBuilder = Callable[[str, str, str], dict[str, Any]]


# -- pure functions ---------------------------------------------------------------------------

def exposed_services(services: Sequence[ServiceConfig]) -> list[ServiceConfig]:
    """The services reachable from the internet (those with a ``path``), most specific path
    first: the ALB and CloudFront both match the first rule that fits, so ``/`` (a catch-all)
    must come after ``/cart``. Ties keep the config's order."""
    exposed = [service for service in services if service.path is not None]
    return sorted(exposed, key=lambda service: -len(_prefix(service.path or "/")))


def _prefix(path: str) -> str:
    return path.rstrip("/")


def is_root(path: str) -> bool:
    return _prefix(path) == ""


def path_patterns(path: str) -> list[str]:
    """ALB path patterns for a path prefix: ``/cart`` -> ``/cart`` and ``/cart/*`` (not
    ``/cart*``, which would also send ``/cartography`` to the cart); ``/`` -> ``/*``."""
    prefix = _prefix(path)
    return ["/*"] if prefix == "" else [prefix, f"{prefix}/*"]


def rule_priorities(services: Sequence[ServiceConfig]) -> dict[str, int]:
    """Listener rule priority per exposed service name, in :func:`exposed_services` order."""
    return {service.name: RULE_PRIORITY_STEP * (index + 1)
            for index, service in enumerate(exposed_services(services))}


def origin_domain_name(domain: DomainConfig) -> str:
    """The name CloudFront uses for the ALB, covered by the ALB's certificate."""
    return f"{ORIGIN_LABEL}.{domain.record_name}"


def regional_origin_domain_name(domain: DomainConfig, region: str) -> str:
    """The name of one region's ALB alone (``origin-<region>.<recordName>``), on its certificate
    beside :func:`origin_domain_name`: what CloudFront's origin group fails over to, when
    ``origin.<recordName>`` itself is a failover name that may still point at the failed region."""
    return f"{ORIGIN_LABEL}-{region}.{domain.record_name}"


def elb_name(conventions: Conventions, *parts: str) -> str:
    """A physical ELB name (ALB or target group) within 32 characters: the convention's name
    when it fits, else its head and a short hash of the whole, so long stacks and service
    names never fail a deployment and two names never collide."""
    full = conventions.physical_name(*parts, max_length=255)
    if len(full) <= MAX_ELB_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return f"{full[:MAX_ELB_NAME_LENGTH - 7].rstrip('-')}-{digest}"


def pod_health_check() -> aws.lb.TargetGroupHealthCheckArgs:
    """How a load balancer (the ALB, the partner NLB) asks a pod whether it takes traffic: its
    readiness endpoint over HTTP on the traffic port."""
    return aws.lb.TargetGroupHealthCheckArgs(
        enabled=True, protocol="HTTP", path=HEALTH_CHECK_PATH, port="traffic-port", matcher="200",
        interval=HEALTH_CHECK_INTERVAL_SECONDS, timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
        healthy_threshold=HEALTHY_THRESHOLD, unhealthy_threshold=UNHEALTHY_THRESHOLD)


def alb_log_delivery_statement(region: str) -> StatementBuilder:
    """The logs-bucket statement that lets ALB access logs in under ``alb/`` (ELB.5).

    Returns a builder for ``ObjectStoreArgs.extra_statements["logs"]``. The delivery service
    principal is always admitted; in Regions opened before August 2022 the Region's ELB
    account is admitted too, since AWS documents it there. Only this account's prefix is
    writable, so another account's ALB cannot fill the bucket.
    """
    def build(bucket_arn: str, partition: str, account_id: str) -> dict[str, Any]:
        principal: dict[str, Any] = {"Service": ELB_LOG_DELIVERY_PRINCIPAL}
        legacy = ELB_LOG_DELIVERY_ACCOUNTS.get(region)
        if legacy is not None:
            principal["AWS"] = f"arn:{partition}:iam::{legacy}:root"
        return {
            "Sid": "AllowAlbAccessLogDelivery",
            "Effect": "Allow",
            "Principal": principal,
            "Action": ["s3:PutObject"],
            "Resource": [f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"],
        }
    return build


# -- component --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    """The VPC's CIDR: the ALB may reach targets (pod IPs) in it on the service ports only."""
    public_subnet_ids: Sequence[pulumi.Input[str]]
    """At least two, in different AZs (ELB.13)."""
    logs_bucket_name: pulumi.Input[str]
    """The SSE-S3 logs bucket; its policy must carry :func:`alb_log_delivery_statement`."""
    origin_secret: pulumi.Input[str]
    """The value CloudFront sends in ``X-Origin-Verify``; without it every request gets 403."""
    services: Sequence[ServiceConfig] = ()
    """Services with a ``path`` get a target group and a listener rule."""
    domain: DomainConfig | None = None
    """Without a domain: no certificate, so no listener (see the module docstring)."""
    target_group_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on every target group, e.g. the cluster tag the AWS Load Balancer Controller
    requires before it registers pods there."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What access-log delivery needs first (the logs bucket's policy, or the ObjectStore):
    AWS refuses to enable access logs it cannot write."""
    origin_record: bool = True
    """Create the simple alias ``origin.<recordName>`` -> this ALB. False when a
    :class:`~components.edge.failover.FailoverRouting` owns that name (a DR strategy with a
    second region's ALB): Route 53 refuses a simple record beside failover or latency records
    of the same name, and two simple records would fight over it."""
    regional_origin: bool = False
    """Also answer as ``origin-<region>.<recordName>`` (a name on the certificate and a simple
    record of its own): the name a CloudFront origin group reaches this region's ALB by. Off by
    default because adding a name to an issued certificate replaces it."""


class LoadBalancer(pulumi.ComponentResource):
    """An internet-facing ALB that only CloudFront can use, one target group per exposed service."""

    alb: aws.lb.LoadBalancer
    arn: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    """``app/<name>/<id>``: the ``LoadBalancer`` dimension of the ALB's CloudWatch metrics."""
    security_group: aws.ec2.SecurityGroup
    security_group_id: pulumi.Output[str]
    target_groups: dict[str, aws.lb.TargetGroup]
    target_group_arns: dict[str, pulumi.Output[str]]
    target_group_arn_suffixes: dict[str, pulumi.Output[str]]
    """Per exposed service, ``targetgroup/<name>/<id>``: the ``TargetGroup`` metric dimension."""
    https_enabled: bool
    https_listener: aws.lb.Listener | None
    origin_domain_name: str | None
    """``origin.<recordName>``: what the Cdn's origin points at; None without a domain."""
    regional_origin_domain_name: str | None
    """``origin-<region>.<recordName>`` with ``regional_origin``; else None."""

    def __init__(self, name: str, context: StackContext, args: LoadBalancerArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:edge:LoadBalancer", name, None, opts)
        conv, region = context.conventions, context.region
        if len(args.public_subnet_ids) < 2:
            raise ValueError(f"an ALB needs public subnets in at least two AZs (ELB.13); got "
                             f"{len(args.public_subnet_ids)}")
        child = pulumi.ResourceOptions(parent=self)
        exposed = exposed_services(args.services)
        physical = conv.physical_name(name)

        # No inline rules: each rule is its own resource, so no second owner can drop one.
        self.security_group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, description=f"{physical}: HTTPS from CloudFront only", region=region,
            tags=conv.tags(physical), opts=child)
        self.security_group_id = self.security_group.id
        prefix_list = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST,
                                                             region=region)
        # EC2.18/19: nothing from 0.0.0.0/0; 443 from CloudFront's origin-facing addresses only.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-https-from-cloudfront",
            security_group_id=self.security_group.id,
            prefix_list_id=prefix_list.id,
            ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
            description="HTTPS from CloudFront origin-facing servers",
            region=region, tags=conv.tags(f"{physical}-https-from-cloudfront"), opts=pulumi.ResourceOptions(
                parent=self.security_group))
        for port in sorted({service.port for service in exposed}):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-to-targets-{port}",
                security_group_id=self.security_group.id,
                cidr_ipv4=args.vpc_cidr,
                ip_protocol="tcp", from_port=port, to_port=port,
                description=f"to pods on {port} (traffic and health checks)",
                region=region, tags=conv.tags(f"{physical}-to-targets-{port}"),
                opts=pulumi.ResourceOptions(parent=self.security_group))

        self.alb = aws.lb.LoadBalancer(
            name,
            name=elb_name(conv, name),
            load_balancer_type="application",
            internal=False,
            subnets=list(args.public_subnet_ids),
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,  # ELB.4
            desync_mitigation_mode="defensive",  # ELB.12
            enable_deletion_protection=context.protect,  # ELB.6
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            # An impaired AZ can be taken out of the ALB (by hand or ARC zonal autoshift) without
            # touching the targets: the other AZs' nodes take the traffic. Cross-zone load
            # balancing is always on for an ALB, which zonal shift accounts for.
            enable_zonal_shift=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(  # ELB.5
                bucket=args.logs_bucket_name, prefix=ACCESS_LOG_PREFIX, enabled=True),
            region=region,
            tags=conv.tags(physical),
            # The LCU reservation is the peak pre-warming schedules' (components/peaks/warming.py):
            # the program never sets it, so a refresh must not make `pulumi up` reset it mid-event.
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect, depends_on=list(args.depends_on),
                                        ignore_changes=["minimumLoadBalancerCapacity"]),
        )
        self.arn = self.alb.arn
        self.dns_name = self.alb.dns_name
        self.zone_id = self.alb.zone_id
        self.arn_suffix = self.alb.arn_suffix

        self.target_groups = {}
        for service in exposed:
            self.target_groups[service.name] = aws.lb.TargetGroup(
                f"{name}-{service.name}",
                name=elb_name(conv, service.name),
                target_type="ip",
                # TLS ends at the ALB; inside the VPC the pods speak HTTP on their port.
                protocol="HTTP",
                port=service.port,
                vpc_id=args.vpc_id,
                deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
                health_check=pod_health_check(),
                region=region,
                tags=conv.tags(conv.physical_name(name, service.name, max_length=255),
                               {"service": service.name, **args.target_group_tags}),
                opts=child,
            )
        self.target_group_arns = {svc: group.arn for svc, group in self.target_groups.items()}
        self.target_group_arn_suffixes = {svc: group.arn_suffix for svc, group in self.target_groups.items()}

        self.https_enabled = args.domain is not None
        self.https_listener = None
        self.origin_domain_name = None
        self.regional_origin_domain_name = None
        if args.domain is None:
            pulumi.log.warn(
                f"{name}: retail:edge.domain is not set, so the ALB has no certificate and no listener; "
                "CloudFront serves the static assets only and the shop's services are not reachable. "
                "Set retail:edge.domain (zoneName, recordName of a Route 53 public zone) to enable the shop.",
                resource=self)
        else:
            self._https(name, context, args, exposed)

        self.register_outputs({
            "arn": self.arn,
            "dnsName": self.dns_name,
            "zoneId": self.zone_id,
            "arnSuffix": self.arn_suffix,
            "securityGroupId": self.security_group_id,
            "targetGroupArns": self.target_group_arns,
            "httpsEnabled": self.https_enabled,
            "originDomainName": self.origin_domain_name,
            "regionalOriginDomainName": self.regional_origin_domain_name,
        })

    def origin_record_alias(self) -> pulumi.Alias:
        """Where the simple origin record lived (``origin_record=True``), for the failover record
        that takes the name over (``FailoverRoutingArgs.adopt_records``)."""
        return pulumi.Alias(name=f"{self._name}-origin", parent=self)

    def _https(self, name: str, context: StackContext, args: LoadBalancerArgs,
               exposed: list[ServiceConfig]) -> None:
        assert args.domain is not None
        conv, region = context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        zone = aws.route53.get_zone_output(name=args.domain.zone_name, private_zone=False)
        self.origin_domain_name = origin_domain_name(args.domain)
        # Each region's ALB gets its own certificate (ACM certificates are regional) for the same
        # origin name; both share one validation CNAME, see dns_validated_certificate.
        if args.regional_origin:
            self.regional_origin_domain_name = regional_origin_domain_name(args.domain, region)
        certificate = dns_validated_certificate(
            f"{name}-origin", domain_name=self.origin_domain_name, zone_id=zone.zone_id, region=region,
            conventions=conv, parent=self,
            alternative_names=[self.regional_origin_domain_name] if self.regional_origin_domain_name else ())
        # The origin name (unless failover routing owns it) and this region's own name both
        # alias this ALB.
        aliases = [(f"{name}-regional-origin", self.regional_origin_domain_name),
                   (f"{name}-origin", self.origin_domain_name if args.origin_record else None)]
        for record, record_name in aliases:
            if record_name is not None:
                aws.route53.Record(
                    record,
                    zone_id=zone.zone_id,
                    name=record_name,
                    type="A",
                    aliases=[aws.route53.RecordAliasArgs(name=self.alb.dns_name, zone_id=self.alb.zone_id,
                                                         evaluate_target_health=True)],
                    opts=child,
                )
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,  # ELB.17
            certificate_arn=certificate.arn,
            # Anything that is not ours (no secret header, unknown path) gets 403.
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="fixed-response",
                fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                    content_type="text/plain", message_body="Forbidden", status_code="403"))],
            region=region,
            tags=conv.tags(conv.physical_name(name, "https")),
            opts=child,
        )
        # ELB.1: an HTTP listener only ever redirects. The security group does not open 80 and
        # CloudFront talks HTTPS only, so this is a guard for whoever opens 80 later.
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"))],
            region=region,
            tags=conv.tags(conv.physical_name(name, "http")),
            opts=child,
        )
        priorities = rule_priorities(exposed)
        for service in exposed:
            aws.lb.ListenerRule(
                f"{name}-{service.name}",
                listener_arn=self.https_listener.arn,
                priority=priorities[service.name],
                conditions=[
                    aws.lb.ListenerRuleConditionArgs(
                        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(
                            values=path_patterns(service.path or "/"))),
                    aws.lb.ListenerRuleConditionArgs(
                        http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                            http_header_name=ORIGIN_SECRET_HEADER,
                            values=[pulumi.Output.secret(args.origin_secret)])),
                ],
                actions=[aws.lb.ListenerRuleActionArgs(
                    type="forward", target_group_arn=self.target_groups[service.name].arn)],
                region=region,
                tags=conv.tags(conv.physical_name(name, service.name, max_length=255)),
                opts=pulumi.ResourceOptions(parent=self.https_listener),
            )
