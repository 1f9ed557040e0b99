"""The edge: CloudFront (CloudFront.1/3/5/6/7/8/9/10/13/15), the Application Load Balancer and
its listeners (ELB.1/4/5/6/12/13/16/17/18) and the WAFv2 web ACLs in front of both
(WAF.10/11/12, plus redaction of credentials in the WAF log).

Load balancers and listeners have two tokens each (``aws:lb/...`` and ``aws:alb/...``), one
resource under two names: every check covers both. ALB-only controls (ELB.4, ELB.5, ELB.12,
ELB.16) are not applicable to network and gateway load balancers (``loadBalancerType``;
missing means ``application``).

Stack policies link companions through ``property_dependencies``, never prop values (an ARN
is unknown during preview): a web ACL association, a web ACL logging configuration and a
CloudWatch log delivery source through their ``resourceArn``, a log delivery through its
``deliverySourceName``, a separately managed web ACL rule through its ``webAclArn``.

Accepted exceptions: a distribution without a custom domain serves its ``*.cloudfront.net``
name with CloudFront's own certificate, which cannot meet CloudFront.7 (custom certificate),
CloudFront.8 (SNI) or CloudFront.15 (TLS policy: CloudFront fixes it for its certificate).
The distribution may say so in its ``control-exceptions`` tag; each policy honours the id
only if it is in ``ACCEPTED_EXCEPTIONS`` and the distribution really uses the default
certificate (``cloudfrontDefaultCertificate`` true, no ACM certificate).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError

from policies import control_exceptions
from policies._helpers import (
    check_each,
    companions_by_target,
    is_prod,
    is_set,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_RULE_TYPES = ("aws:wafv2/webAclRule:WebAclRule",
                      "aws:wafv2/webAclRuleGroupAssociation:WebAclRuleGroupAssociation")
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

#: Viewer protocol policies that never serve plain HTTP.
HTTPS_VIEWER_POLICIES = ("https-only", "redirect-to-https")
#: CloudFront.15: viewer TLS policies with TLS 1.2 or later and no CBC/SHA-1 leftovers.
RECOMMENDED_CLOUDFRONT_TLS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
CLOUDFRONT_TLS_FIX = "TLSv1.2_2021"
#: CloudFront.10: the only protocol CloudFront may speak to a custom origin.
SECURE_ORIGIN_PROTOCOLS = frozenset({"TLSv1.2"})
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
#: Headers the WAF log must redact: they carry sessions and bearer tokens.
REDACTED_HEADERS = ("authorization", "cookie")

CLOUDFRONT_7, CLOUDFRONT_8, CLOUDFRONT_15 = "CloudFront.7", "CloudFront.8", "CloudFront.15"


def _known(props: Mapping[str, Any], key: str) -> Any:
    """``props[key]``, or None when it is unknown during preview (another resource's
    output, never empty) or missing."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


# --- CloudFront -----------------------------------------------------------------------------


def _default_root_object(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_set(args.props, "defaultRootObject"):
        report_violation(
            "distribution has no default root object, so a request for '/' reaches the "
            "origin's listing or error page; set default_root_object='index.html'.",
            None,
        )


def _viewer_https(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    behaviours = [("default cache behavior", mapping(args.props.get("defaultCacheBehavior")))]
    behaviours += [
        (f"ordered cache behavior {mapping(b).get('pathPattern') or f'#{i}'}", mapping(b))
        for i, b in enumerate(sequence(args.props.get("orderedCacheBehaviors")))
    ]
    for label, behaviour in behaviours:
        policy = behaviour.get("viewerProtocolPolicy")
        if policy not in HTTPS_VIEWER_POLICIES:
            report_violation(
                f"{label} has viewer_protocol_policy={policy!r}, so viewers can use plain "
                "HTTP; set viewer_protocol_policy='redirect-to-https' (or 'https-only').",
                None,
            )


def _logged(
    distribution: PolicyResource,
    sources: Mapping[str, list[PolicyResource]],
    deliveries: Mapping[str, list[PolicyResource]],
) -> tuple[bool, list[PolicyResource]]:
    """Whether the distribution logs (legacy or v2), and its v2 sources without a delivery."""
    if is_set(mapping(distribution.props.get("loggingConfig")), "bucket"):
        return True, []
    linked = [s for s in sources.get(distribution.urn, [])
              if _known(s.props, "logType") in (None, "ACCESS_LOGS")]
    delivered = [s for s in linked if deliveries.get(s.urn)]
    return bool(delivered), [s for s in linked if not deliveries.get(s.urn)]


def _access_logging(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    distributions = [r for r in args.resources if r.resource_type == DISTRIBUTION]
    if not distributions:
        args.not_applicable("the stack has no CloudFront distributions")
    sources = companions_by_target(args.resources, (LOG_DELIVERY_SOURCE,), "resourceArn")
    deliveries = companions_by_target(args.resources, (LOG_DELIVERY,), "deliverySourceName")

    def check(distribution: PolicyResource) -> None:
        logged, undelivered = _logged(distribution, sources, deliveries)
        if logged:
            return
        for source in undelivered:
            report_violation(
                f"log delivery source of distribution {distribution.name} delivers nowhere; "
                "add an aws.cloudwatch.LogDelivery with delivery_source_name=source.name and "
                "delivery_destination_arn=<the S3 or CloudWatch Logs destination>.arn.",
                source.urn,
            )
        if not undelivered:
            report_violation(
                f"distribution {distribution.name} writes no access logs; add standard logging "
                "v2 (an aws.cloudwatch.LogDeliverySource in us-east-1 with "
                "resource_arn=distribution.arn and log_type='ACCESS_LOGS', a "
                "LogDeliveryDestination and a LogDelivery) or set logging_config={'bucket': "
                "<the logs bucket>.bucket_domain_name}.",
                distribution.urn,
            )

    check_each(distributions, check)


def _waf_enabled(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_set(args.props, "webAclId"):
        report_violation(
            "distribution has no WAF web ACL; set web_acl_id to the ARN of an "
            "aws.wafv2.WebAcl with scope='CLOUDFRONT' (created in us-east-1).",
            None,
        )
        return
    value = _known(args.props, "webAclId")
    if isinstance(value, str) and ":wafv2:" not in value:
        report_violation(
            f"distribution's web_acl_id {value!r} is not a WAFv2 web ACL ARN (WAF Classic is "
            "retired); set web_acl_id to an aws.wafv2.WebAcl's arn.",
            None,
        )


def _uses_default_certificate(props: Mapping[str, Any]) -> bool:
    certificate = mapping(props.get("viewerCertificate"))
    return certificate.get("cloudfrontDefaultCertificate") is True and not is_set(
        certificate, "acmCertificateArn"
    )


def _excepted(props: Mapping[str, Any], control: str) -> bool:
    """An accepted exception to ``control`` that the distribution really needs: it serves
    CloudFront's own certificate (no custom domain)."""
    return _uses_default_certificate(props) and control_exceptions.has_accepted_exception(
        props, control
    )


_CERT_FIX = (
    "viewer_certificate={'acm_certificate_arn': <an ACM certificate in us-east-1>.arn, "
    f"'ssl_support_method': 'sni-only', 'minimum_protocol_version': '{CLOUDFRONT_TLS_FIX}'}} "
    "with the custom domain in aliases"
)


def _no_domain_note(control: str) -> str:
    return (
        f" (a distribution without a custom domain may keep CloudFront's certificate only under "
        f"the accepted exception {control}: tag it control-exceptions='{control}')"
    )


def _custom_certificate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    certificate = mapping(args.props.get("viewerCertificate"))
    if is_set(certificate, "acmCertificateArn") and certificate.get(
        "cloudfrontDefaultCertificate"
    ) is not True:
        return
    if _excepted(args.props, CLOUDFRONT_7):
        return
    report_violation(
        "distribution serves CloudFront's default *.cloudfront.net certificate, not a custom "
        f"one; set {_CERT_FIX}{_no_domain_note(CLOUDFRONT_7)}.",
        None,
    )


def _sni(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _uses_default_certificate(args.props):
        if not _excepted(args.props, CLOUDFRONT_8):
            report_violation(
                "distribution uses CloudFront's default certificate, so it has no SNI setting; "
                f"set {_CERT_FIX}{_no_domain_note(CLOUDFRONT_8)}.",
                None,
            )
        return
    method = mapping(args.props.get("viewerCertificate")).get("sslSupportMethod")
    if method != "sni-only":
        report_violation(
            f"distribution's viewer_certificate.ssl_support_method is {method!r}, which needs "
            "dedicated IP addresses (and costs accordingly); set ssl_support_method='sni-only'.",
            None,
        )


def _viewer_tls_policy(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _uses_default_certificate(args.props):
        if not _excepted(args.props, CLOUDFRONT_15):
            report_violation(
                "distribution uses CloudFront's default certificate, for which CloudFront "
                "still accepts TLSv1; set "
                f"{_CERT_FIX}{_no_domain_note(CLOUDFRONT_15)}.",
                None,
            )
        return
    version = mapping(args.props.get("viewerCertificate")).get("minimumProtocolVersion")
    if version not in RECOMMENDED_CLOUDFRONT_TLS:
        report_violation(
            f"distribution's viewer_certificate.minimum_protocol_version is {version!r}; set "
            f"minimum_protocol_version='{CLOUDFRONT_TLS_FIX}' (or one of "
            f"{', '.join(RECOMMENDED_CLOUDFRONT_TLS)}).",
            None,
        )


def _origins(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(str(mapping(o).get("originId") or f"#{i}"), mapping(o))
            for i, o in enumerate(sequence(props.get("origins")))]


def _origin_https(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for origin_id, origin in _origins(args.props):
        custom = origin.get("customOriginConfig")
        if custom is None:
            continue
        policy = mapping(custom).get("originProtocolPolicy")
        if policy != "https-only":
            report_violation(
                f"origin {origin_id} has origin_protocol_policy={policy!r}, so CloudFront may "
                "reach it over plain HTTP; set custom_origin_config origin_protocol_policy="
                "'https-only' (the origin needs a certificate for its domain name).",
                None,
            )


def _origin_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for origin_id, origin in _origins(args.props):
        custom = origin.get("customOriginConfig")
        if custom is None:
            continue
        protocols = [str(p) for p in sequence(mapping(custom).get("originSslProtocols"))]
        weak = [p for p in protocols if p not in SECURE_ORIGIN_PROTOCOLS]
        if weak or not protocols:
            shown = ", ".join(weak) if weak else "nothing"
            report_violation(
                f"origin {origin_id} allows {shown} between CloudFront and the origin; set "
                "custom_origin_config origin_ssl_protocols=['TLSv1.2'].",
                None,
            )


def _s3_origin_access_control(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    for origin_id, origin in _origins(args.props):
        # An origin without a custom or VPC origin config is an S3 origin.
        if origin.get("customOriginConfig") is not None or origin.get("vpcOriginConfig") is not None:
            continue
        oai = mapping(origin.get("s3OriginConfig")).get("originAccessIdentity")
        if not is_set(origin, "originAccessControlId"):
            legacy = " (a legacy origin access identity is set)" if oai else ""
            report_violation(
                f"S3 origin {origin_id} has no origin access control{legacy}; create an "
                "aws.cloudfront.OriginAccessControl (origin_access_control_origin_type='s3', "
                "signing_behavior='always', signing_protocol='sigv4'), set "
                "origin_access_control_id=oac.id and remove s3_origin_config.",
                None,
            )


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


# --- WAF ------------------------------------------------------------------------------------


def _json_rules(props: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The rules of ``ruleJson``, or None when it is not set."""
    raw = _known(props, "ruleJson")
    if not raw:
        return None
    try:
        rules = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return []
    return [mapping(r) for r in sequence(rules)]


def _has_rules(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    acls = [r for r in args.resources if r.resource_type == WEB_ACL]
    if not acls:
        args.not_applicable("the stack has no WAFv2 web ACLs")
    separate = companions_by_target(args.resources, WEB_ACL_RULE_TYPES, "webAclArn")

    def check(acl: PolicyResource) -> None:
        if sequence(acl.props.get("rules")) or _json_rules(acl.props) or separate.get(acl.urn):
            return
        if is_set(acl.props, "ruleJson") and _json_rules(acl.props) is None:
            return  # rule_json unknown during preview: built from other outputs
        report_violation(
            f"web ACL {acl.name} has no rules, so it only applies its default action; add "
            "rules (the AWS managed rule groups AWSManagedRulesCommonRuleSet and "
            "AWSManagedRulesKnownBadInputsRuleSet, and a rate-based rule) to rules.",
            acl.urn,
        )

    check_each(acls, check)


def _redacted(config: PolicyResource) -> set[str]:
    return {
        str(mapping(mapping(field).get("singleHeader")).get("name", "")).lower()
        for field in sequence(config.props.get("redactedFields"))
    }


_REDACT_FIX = ", ".join(f"{{'single_header': {{'name': '{h}'}}}}" for h in REDACTED_HEADERS)


def _waf_logging(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    acls = [r for r in args.resources if r.resource_type == WEB_ACL]
    if not acls:
        args.not_applicable("the stack has no WAFv2 web ACLs")
    configs = companions_by_target(args.resources, (WEB_ACL_LOGGING,), "resourceArn")

    def check(acl: PolicyResource) -> None:
        found = configs.get(acl.urn, [])
        if not found:
            report_violation(
                f"web ACL {acl.name} does not log the requests it inspects; add an "
                "aws.wafv2.WebAclLoggingConfiguration with resource_arn=acl.arn, "
                "log_destination_configs=[<a log group named aws-waf-logs-...>.arn] and "
                f"redacted_fields=[{_REDACT_FIX}].",
                acl.urn,
            )
        for config in found:
            missing = [h for h in REDACTED_HEADERS if h not in _redacted(config)]
            if missing:
                report_violation(
                    f"logging of web ACL {acl.name} writes the {', '.join(missing)} header(s) "
                    "in clear, so session cookies and bearer tokens end up in the logs; add "
                    + ", ".join(f"{{'single_header': {{'name': '{h}'}}}}" for h in missing)
                    + " to redacted_fields.",
                    config.urn,
                )

    check_each(acls, check)


def _metrics_on(visibility: Any, key: str = "cloudwatchMetricsEnabled") -> bool:
    return mapping(visibility).get(key) is True


def _waf_metrics(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    fix = "set visibility_config cloudwatch_metrics_enabled=True"
    if args.resource_type != WEB_ACL:
        if not _metrics_on(props.get("visibilityConfig")):
            report_violation(f"web ACL rule has CloudWatch metrics off; {fix}.", None)
        return
    if not _metrics_on(props.get("visibilityConfig")):
        report_violation(f"web ACL has CloudWatch metrics off; {fix} on the web ACL.", None)
    off = [str(mapping(r).get("name") or f"#{i}") for i, r in enumerate(sequence(props.get("rules")))
           if not _metrics_on(mapping(r).get("visibilityConfig"))]
    off += [str(r.get("Name") or f"#{i}") for i, r in enumerate(_json_rules(props) or ())
            if not _metrics_on(r.get("VisibilityConfig"), "CloudWatchMetricsEnabled")]
    if off:
        report_violation(
            f"web ACL rule(s) {', '.join(off)} have CloudWatch metrics off; {fix} on each rule.",
            None,
        )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("cloudfront-default-root-object",
                    "CloudFront.1: distributions have a default root object",
                    (DISTRIBUTION,), _default_root_object),
    resource_policy("cloudfront-viewer-https",
                    "CloudFront.3: every cache behavior redirects viewers to HTTPS or requires it",
                    (DISTRIBUTION,), _viewer_https),
    stack_policy("cloudfront-access-logging",
                 "CloudFront.5: distributions write access logs (standard logging v2 or legacy)",
                 _access_logging),
    resource_policy("cloudfront-waf",
                    "CloudFront.6: distributions are protected by a WAFv2 web ACL",
                    (DISTRIBUTION,), _waf_enabled),
    resource_policy("cloudfront-custom-certificate",
                    "CloudFront.7: distributions serve a custom ACM certificate",
                    (DISTRIBUTION,), _custom_certificate),
    resource_policy("cloudfront-sni",
                    "CloudFront.8: distributions serve HTTPS with SNI",
                    (DISTRIBUTION,), _sni),
    resource_policy("cloudfront-origin-https",
                    "CloudFront.9: custom origins are reached over HTTPS only",
                    (DISTRIBUTION,), _origin_https),
    resource_policy("cloudfront-origin-tls",
                    "CloudFront.10: custom origins are reached with TLS 1.2, no SSLv3/TLSv1/TLSv1.1",
                    (DISTRIBUTION,), _origin_tls),
    resource_policy("cloudfront-s3-origin-access-control",
                    "CloudFront.13: S3 origins are reached through origin access control",
                    (DISTRIBUTION,), _s3_origin_access_control),
    resource_policy("cloudfront-viewer-tls-policy",
                    "CloudFront.15: distributions use a recommended viewer TLS policy",
                    (DISTRIBUTION,), _viewer_tls_policy),
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
    stack_policy("waf-web-acl-has-rules",
                 "WAF.10: every WAFv2 web ACL has at least one rule or rule group",
                 _has_rules),
    stack_policy("waf-web-acl-logging",
                 "WAF.11: every WAFv2 web ACL logs, with authorization and cookie headers redacted",
                 _waf_logging),
    resource_policy("waf-cloudwatch-metrics",
                    "WAF.12: WAFv2 web ACLs and every rule publish CloudWatch metrics",
                    (WEB_ACL, *WEB_ACL_RULE_TYPES), _waf_metrics),
]
