"""Load balancers and their listeners (ELB.1/4/5/6/12/13/16/17/18): HTTP only to redirect to
HTTPS, TLS 1.2/1.3 listener policies, invalid headers dropped, access logs, desync
mitigation, two or more AZs, deletion protection in prod, and a WAFv2 web ACL on every ALB.

Load balancers and listeners have two tokens each (``aws:lb/...`` and ``aws:alb/...``), one
resource under two names: every check covers both. ALB-only controls (ELB.4, ELB.5, ELB.12,
ELB.16) are not applicable to network and gateway load balancers (``loadBalancerType``;
missing means ``application``).

``alb-waf-association`` is a stack policy: a web ACL association is linked to its ALB through
its ``resourceArn`` input's ``property_dependencies`` (the ALB's ARN is unknown during
preview), and a missing one is reported on the ALB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policies._helpers import (
    companions_by_target,
    is_prod,
    is_set,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

#: ELB.17: TLS 1.2/1.3 listener policies without CBC or SHA-1 ciphers (the TLS13 families,
#: their FIPS variants and the post-quantum ones; not the wider Ext1/Ext2 sets).
RECOMMENDED_ELB_TLS = (
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
)
ELB_TLS_FIX = "ELBSecurityPolicy-TLS13-1-2-2021-06"
SECURE_LISTENER_PROTOCOLS = ("HTTPS", "TLS")
SECURE_DESYNC_MODES = ("defensive", "strictest")
MIN_LB_SUBNETS = 2


# --- Load balancers -------------------------------------------------------------------------


def _lb_type(props: Mapping[str, Any]) -> str:
    return str(props.get("loadBalancerType") or "application")


def _only_application(args: ResourceValidationArgs) -> None:
    kind = _lb_type(args.props)
    if kind != "application":
        args.not_applicable(f"a {kind} load balancer: the control covers ALBs")


def _drop_invalid_headers(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _only_application(args)
    if args.props.get("dropInvalidHeaderFields") is not True:
        report_violation(
            "ALB forwards HTTP headers with invalid names to its targets (request smuggling); "
            "set drop_invalid_header_fields=True.",
            None,
        )


def _lb_access_logs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _only_application(args)
    logs = mapping(args.props.get("accessLogs"))
    if logs.get("enabled") is not True or not is_set(logs, "bucket"):
        report_violation(
            "ALB writes no access logs; set access_logs={'bucket': <the logs bucket>.bucket, "
            "'prefix': 'alb', 'enabled': True} (the bucket keeps SSE-S3: exception S3.17).",
            None,
        )


def _lb_deletion_protection_prod(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if not is_prod(args.props):
        args.not_applicable("not tagged environment=prod")
    if args.props.get("enableDeletionProtection") is not True:
        report_violation(
            "prod load balancer can be deleted by a stray destroy or replace; set "
            "enable_deletion_protection=True.",
            None,
        )


def _desync_mitigation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _only_application(args)
    mode = args.props.get("desyncMitigationMode")
    # Missing is compliant: AWS's default is "defensive".
    if mode is not None and mode not in SECURE_DESYNC_MODES:
        report_violation(
            f"ALB's desync_mitigation_mode is {mode!r}, which lets ambiguous (smuggling) "
            "requests through; set desync_mitigation_mode='defensive' (or 'strictest').",
            None,
        )


def _multi_az(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    count = max(len(sequence(args.props.get("subnets"))),
                len(sequence(args.props.get("subnetMappings"))))
    if count < MIN_LB_SUBNETS:
        report_violation(
            f"load balancer is in {count} subnet(s), so losing one AZ takes it down; set "
            f"subnets to at least {MIN_LB_SUBNETS} subnets in different AZs (the VPC's public "
            "subnets, one per AZ).",
            None,
        )


def _waf_association(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    albs = [r for r in args.resources
            if r.resource_type in LOAD_BALANCER_TYPES and _lb_type(r.props) == "application"]
    if not albs:
        args.not_applicable("the stack has no application load balancers")
    associations = companions_by_target(args.resources, (WEB_ACL_ASSOCIATION,), "resourceArn")
    for alb in albs:
        if not associations.get(alb.urn):
            report_violation(
                f"ALB {alb.name} has no WAF web ACL, so requests that bypass CloudFront are not "
                "filtered; add an aws.wafv2.WebAclAssociation with resource_arn=alb.arn and "
                "web_acl_arn=<a REGIONAL web ACL>.arn.",
                alb.urn,
            )


def _protocol(props: Mapping[str, Any]) -> str:
    # Missing is HTTP: the provider's default for ALB listeners.
    return str(props.get("protocol") or "HTTP").upper()


def _redirects_to_https(props: Mapping[str, Any]) -> bool:
    actions = sequence(props.get("defaultActions"))
    if not actions:
        return False
    first = mapping(actions[0])
    return first.get("type") == "redirect" and str(
        mapping(first.get("redirect")).get("protocol", "")
    ).upper() == "HTTPS"


_REDIRECT_FIX = (
    "default_actions=[{'type': 'redirect', 'redirect': {'protocol': 'HTTPS', 'port': '443', "
    "'status_code': 'HTTP_301'}}]"
)


def _http_redirect(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _protocol(args.props) != "HTTP":
        args.not_applicable("not an HTTP listener")
    if not _redirects_to_https(args.props):
        report_violation(
            f"HTTP listener serves requests over plain HTTP instead of redirecting; set "
            f"{_REDIRECT_FIX}.",
            None,
        )


def _listener_tls_policy(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    protocol = _protocol(args.props)
    if protocol not in SECURE_LISTENER_PROTOCOLS:
        args.not_applicable(f"a {protocol} listener has no TLS policy")
    policy = args.props.get("sslPolicy")
    if policy not in RECOMMENDED_ELB_TLS:
        shown = "not set, so AWS uses ELBSecurityPolicy-2016-08 (TLS 1.0)" if policy is None \
            else repr(policy)
        report_violation(
            f"{protocol} listener's ssl_policy is {shown}; set ssl_policy='{ELB_TLS_FIX}' (TLS "
            "1.2 and 1.3 only).",
            None,
        )


def _listener_secure_protocol(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    protocol = _protocol(args.props)
    if protocol in SECURE_LISTENER_PROTOCOLS:
        return
    if protocol == "HTTP" and _redirects_to_https(args.props):
        return  # a redirect-only HTTP listener serves nothing in clear text
    report_violation(
        f"listener uses {protocol}, which is not encrypted; set protocol='HTTPS' with "
        f"certificate_arn and ssl_policy='{ELB_TLS_FIX}' (or, for port 80, keep HTTP with "
        f"{_REDIRECT_FIX}).",
        None,
    )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("alb-http-redirects-to-https",
                    "ELB.1: HTTP listeners redirect to HTTPS",
                    LISTENER_TYPES, _http_redirect),
    resource_policy("alb-drop-invalid-headers",
                    "ELB.4: ALBs drop invalid HTTP headers",
                    LOAD_BALANCER_TYPES, _drop_invalid_headers),
    resource_policy("alb-access-logs",
                    "ELB.5: ALBs write access logs",
                    LOAD_BALANCER_TYPES, _lb_access_logs),
    resource_policy("lb-deletion-protection-prod",
                    "ELB.6: prod load balancers have deletion protection",
                    LOAD_BALANCER_TYPES, _lb_deletion_protection_prod),
    resource_policy("alb-desync-mitigation",
                    "ELB.12: ALBs use defensive or strictest desync mitigation",
                    LOAD_BALANCER_TYPES, _desync_mitigation),
    resource_policy("lb-multi-az",
                    "ELB.13: load balancers span at least two subnets (AZs)",
                    LOAD_BALANCER_TYPES, _multi_az),
    stack_policy("alb-waf-association",
                 "ELB.16: every ALB is associated with a WAFv2 web ACL",
                 _waf_association),
    resource_policy("lb-listener-tls-policy",
                    "ELB.17: HTTPS and TLS listeners use a recommended TLS 1.2/1.3 policy",
                    LISTENER_TYPES, _listener_tls_policy),
    resource_policy("lb-listener-secure-protocol",
                    "ELB.18: listeners use HTTPS or TLS (HTTP only to redirect)",
                    LISTENER_TYPES, _listener_secure_protocol),
]
