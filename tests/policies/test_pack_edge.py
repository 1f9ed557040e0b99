"""CloudFront.1/3/5/6/7/8/9/10/13/15 (with the no-custom-domain exception), ELB.1/4/5/6/12/13/
16/17/18 on both load balancer tokens, WAF.10/11/12 (with log redaction)."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.common import compliance
from policies import exceptions
from policies.offline import evaluate
from policies.registry import POLICIES

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
LB_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LB, LISTENER = LB_TYPES[0], LISTENER_TYPES[0]
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_RULE = "aws:wafv2/webAclRule:WebAclRule"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

CERT_ARN = "arn:aws:acm:us-east-1:111122223333:certificate/abcd"
ACL_ARN = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/retail/abcd"
CERT_EXCEPTIONS = ("CloudFront.7", "CloudFront.8", "CloudFront.15")

ALB_ORIGIN = {"originId": "alb", "domainName": "origin.shop.example.com",
              "customOriginConfig": {"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only",
                                     "originSslProtocols": ["TLSv1.2"]}}
S3_ORIGIN = {"originId": "assets", "domainName": "assets.s3.eu-west-1.amazonaws.com",
             "originAccessControlId": "oac-123"}
CUSTOM_CERT = {"acmCertificateArn": CERT_ARN, "sslSupportMethod": "sni-only",
               "minimumProtocolVersion": "TLSv1.2_2021"}
DEFAULT_CERT = {"cloudfrontDefaultCertificate": True}


def distribution_props(tags, **overrides):
    props = {
        "enabled": True,
        "defaultRootObject": "index.html",
        "aliases": ["shop.example.com"],
        "origins": [ALB_ORIGIN, S3_ORIGIN],
        "defaultCacheBehavior": {"targetOriginId": "alb", "viewerProtocolPolicy": "redirect-to-https"},
        "orderedCacheBehaviors": [{"pathPattern": "/static/*", "targetOriginId": "assets",
                                   "viewerProtocolPolicy": "https-only"}],
        "loggingConfig": {"bucket": "retail-dev-logs.s3.amazonaws.com", "prefix": "cdn/"},
        "webAclId": ACL_ARN,
        "viewerCertificate": CUSTOM_CERT,
        "tags": tags,
    }
    props.update(overrides)
    return props


@pytest.fixture
def accept_cert_exceptions(monkeypatch):
    """The registry with the no-custom-domain exceptions added, as the platform will."""
    patched = MappingProxyType({**compliance.ACCEPTED_EXCEPTIONS, **{
        control: "a distribution without a custom domain can only serve CloudFront's default "
                 "*.cloudfront.net certificate" for control in CERT_EXCEPTIONS}})
    monkeypatch.setattr(compliance, "ACCEPTED_EXCEPTIONS", patched)
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS", patched)


@pytest.fixture
def refuse_cert_exceptions(monkeypatch):
    """The registry without the no-custom-domain exceptions, whatever it holds today."""
    patched = MappingProxyType({control: reason for control, reason in compliance.ACCEPTED_EXCEPTIONS.items()
                                if control not in CERT_EXCEPTIONS})
    monkeypatch.setattr(compliance, "ACCEPTED_EXCEPTIONS", patched)
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS", patched)


ALL_CERT_EXCEPTIONS = " ".join(CERT_EXCEPTIONS)


def no_domain_props(tags, exceptions=ALL_CERT_EXCEPTIONS):
    props = distribution_props({**tags, "control-exceptions": exceptions},
                               viewerCertificate=DEFAULT_CERT)
    del props["aliases"]
    return props


def lb_props(tags, **overrides):
    props = {"loadBalancerType": "application", "internal": False, "subnets": ["subnet-a", "subnet-b"],
             "securityGroups": ["sg-1"], "dropInvalidHeaderFields": True, "desyncMitigationMode": "defensive",
             "enableDeletionProtection": True,
             "accessLogs": {"bucket": "retail-dev-logs", "prefix": "alb", "enabled": True}, "tags": tags}
    props.update(overrides)
    return props


REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
FORWARD = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}]


def listener(snap, tags, type_=LISTENER, name="https", **props):
    return snap(type_, name, {"loadBalancerArn": "arn:lb", "tags": tags, **props})


def https_listener(snap, tags, type_=LISTENER):
    return listener(snap, tags, type_, protocol="HTTPS", port=443, certificateArn=CERT_ARN,
                    sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions=FORWARD)


def http_listener(snap, tags, type_=LISTENER, actions=REDIRECT):
    return listener(snap, tags, type_, name="http", protocol="HTTP", port=80, defaultActions=actions)


VISIBLE = {"cloudwatchMetricsEnabled": True, "sampledRequestsEnabled": True, "metricName": "m"}


def acl_props(tags, **overrides):
    props = {"scope": "CLOUDFRONT", "defaultAction": {"allow": {}}, "visibilityConfig": VISIBLE,
             "rules": [{"name": "common", "priority": 1, "overrideAction": {"none": {}},
                        "statement": {"managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet",
                                                                    "vendorName": "AWS"}},
                        "visibilityConfig": VISIBLE}],
             "tags": tags}
    props.update(overrides)
    return props


def redact(*headers):
    return [{"singleHeader": {"name": h}} for h in headers]


def waf_logging(snap, acl, headers=("authorization", "cookie")):
    return snap(WAF_LOGGING, f"{acl.name}-logging",
                {"logDestinationConfigs": ["arn:aws:logs:us-east-1:1:log-group:aws-waf-logs-retail"],
                 "resourceArn": ACL_ARN, "redactedFields": redact(*headers)},
                property_dependencies={"resourceArn": (acl.urn,)})


def edge_stack(snap, tags, distribution_tags=None, lb_type=LB):
    acl = snap(WEB_ACL, "cdn", acl_props(tags()))
    regional = snap(WEB_ACL, "alb", acl_props(tags(), scope="REGIONAL"))
    alb = snap(lb_type, "alb", lb_props(tags()))
    return [
        snap(DISTRIBUTION, "cdn", distribution_props(distribution_tags or tags())),
        acl, waf_logging(snap, acl), regional, waf_logging(snap, regional), alb,
        snap(ASSOCIATION, "alb-waf", {"resourceArn": "arn:alb", "webAclArn": "arn:acl"},
             property_dependencies={"resourceArn": (alb.urn,), "webAclArn": (regional.urn,)}),
        https_listener(snap, tags()), http_listener(snap, tags()),
    ]


def test_compliant_edge_passes_the_whole_pack(snap, tags):
    assert evaluate(edge_stack(snap, tags), POLICIES).violations == []


def test_no_domain_distribution_passes_the_whole_pack_once_exceptions_are_accepted(
    snap, tags, accept_cert_exceptions
):
    resources = [snap(DISTRIBUTION, "cdn", no_domain_props(tags())), *edge_stack(snap, tags)[1:]]
    assert evaluate(resources, POLICIES).violations == []


# --- CloudFront.1 / .3 / .6 / .9 / .10 / .13 ------------------------------------------------


@pytest.mark.parametrize("policy", ["cloudfront-default-root-object", "cloudfront-viewer-https", "cloudfront-waf",
                                    "cloudfront-origin-https", "cloudfront-origin-tls",
                                    "cloudfront-s3-origin-access-control", "cloudfront-custom-certificate",
                                    "cloudfront-sni", "cloudfront-viewer-tls-policy",
                                    "cloudfront-access-logging"])
def test_compliant_distribution_passes(snap, tags, run_policy, policy):
    assert run_policy(policy, [snap(DISTRIBUTION, "cdn", distribution_props(tags()))]).violations == []


def test_missing_default_root_object_fails(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["defaultRootObject"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-default-root-object", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "default_root_object='index.html'" in violation.message


def test_plain_http_viewers_fail_per_behaviour(snap, tags, run_policy):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(
        tags(), defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"},
        orderedCacheBehaviors=[{"pathPattern": "/api/*", "viewerProtocolPolicy": "allow-all"}]))
    first, second = run_policy("cloudfront-viewer-https", [cdn]).violations
    assert first.urn == second.urn == cdn.urn
    assert first.message.startswith("default cache behavior has viewer_protocol_policy='allow-all'")
    assert second.message.startswith("ordered cache behavior /api/* has")
    assert "viewer_protocol_policy='redirect-to-https'" in second.message


def test_waf_arn_unknown_at_preview_passes(snap, tags, run_policy):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), webAclId=UNKNOWN_STRING_VALUE))
    assert run_policy("cloudfront-waf", [cdn]).violations == []


@pytest.mark.parametrize(("acl", "says"), [(None, "has no WAF web ACL"),
                                           ("a1b2c3d4-classic", "is not a WAFv2 web ACL ARN")])
def test_distribution_without_wafv2_fails(snap, tags, run_policy, acl, says):
    props = distribution_props(tags())
    if acl is None:
        del props["webAclId"]
    else:
        props["webAclId"] = acl
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-waf", [cdn]).violations
    assert violation.urn == cdn.urn
    assert says in violation.message and "aws.wafv2.WebAcl" in violation.message


@pytest.mark.parametrize("policy", ["http-only", "match-viewer"])
def test_custom_origin_over_http_fails(snap, tags, run_policy, policy):
    origin = {**ALB_ORIGIN, "customOriginConfig": {**ALB_ORIGIN["customOriginConfig"],
                                                   "originProtocolPolicy": policy}}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[origin, S3_ORIGIN]))
    [violation] = run_policy("cloudfront-origin-https", [cdn]).violations
    assert violation.urn == cdn.urn
    assert f"origin alb has origin_protocol_policy={policy!r}" in violation.message
    assert "origin_protocol_policy='https-only'" in violation.message


def test_custom_origin_with_deprecated_tls_fails(snap, tags, run_policy):
    origin = {**ALB_ORIGIN, "customOriginConfig": {**ALB_ORIGIN["customOriginConfig"],
                                                   "originSslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"]}}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[origin]))
    [violation] = run_policy("cloudfront-origin-tls", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "origin alb allows TLSv1, TLSv1.1" in violation.message
    assert "origin_ssl_protocols=['TLSv1.2']" in violation.message


@pytest.mark.parametrize("origin", [{"originId": "assets", "domainName": "a.s3.amazonaws.com"},
                                    {"originId": "assets", "domainName": "a.s3.amazonaws.com",
                                     "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/x"}}],
                         ids=["nothing", "legacy-oai"])
def test_s3_origin_without_oac_fails(snap, tags, run_policy, origin):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[ALB_ORIGIN, origin]))
    [violation] = run_policy("cloudfront-s3-origin-access-control", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "S3 origin assets has no origin access control" in violation.message
    assert "origin_access_control_id=oac.id" in violation.message


# --- CloudFront.5 ---------------------------------------------------------------------------


def logging_v2(snap, cdn, delivered=True, log_type="ACCESS_LOGS"):
    source = snap(LOG_SOURCE, "cdn-logs", {"logType": log_type, "resourceArn": "arn:cdn", "name": "cdn"},
                  property_dependencies={"resourceArn": (cdn.urn,)})
    delivery = snap(LOG_DELIVERY, "cdn-delivery", {"deliverySourceName": "cdn", "deliveryDestinationArn": "arn:d"},
                    property_dependencies={"deliverySourceName": (source.urn,)})
    return [source, delivery] if delivered else [source]


def test_standard_logging_v2_passes(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    assert run_policy("cloudfront-access-logging", [cdn, *logging_v2(snap, cdn)]).violations == []


def test_distribution_without_logging_fails_on_the_distribution(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-access-logging", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "distribution cdn writes no access logs" in violation.message
    assert "resource_arn=distribution.arn and log_type='ACCESS_LOGS'" in violation.message


def test_log_source_without_delivery_fails_on_the_source(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [source] = logging_v2(snap, cdn, delivered=False)
    [violation] = run_policy("cloudfront-access-logging", [cdn, source]).violations
    assert violation.urn == source.urn
    assert "delivers nowhere; add an aws.cloudwatch.LogDelivery" in violation.message


# --- CloudFront.7 / .8 / .15 and their exceptions -------------------------------------------


@pytest.mark.parametrize(("policy", "control"), [("cloudfront-custom-certificate", "CloudFront.7"),
                                                 ("cloudfront-sni", "CloudFront.8"),
                                                 ("cloudfront-viewer-tls-policy", "CloudFront.15")])
def test_default_certificate_fails_without_an_accepted_exception(snap, tags, run_policy, policy, control,
                                                                refuse_cert_exceptions):
    # Tagged, but the registry does not accept the exception.
    cdn = snap(DISTRIBUTION, "cdn", no_domain_props(tags()))
    [violation] = run_policy(policy, [cdn]).violations
    assert violation.urn == cdn.urn
    assert "viewer_certificate={'acm_certificate_arn'" in violation.message
    assert f"accepted exception {control}: tag it control-exceptions='{control}'" in violation.message


@pytest.mark.parametrize("policy", ["cloudfront-custom-certificate", "cloudfront-sni",
                                    "cloudfront-viewer-tls-policy"])
def test_default_certificate_passes_under_the_accepted_exception(snap, tags, run_policy, policy,
                                                                 accept_cert_exceptions):
    assert run_policy(policy, [snap(DISTRIBUTION, "cdn", no_domain_props(tags()))]).violations == []


def test_exception_for_another_control_does_not_count(snap, tags, run_policy, accept_cert_exceptions):
    cdn = snap(DISTRIBUTION, "cdn", no_domain_props(tags(), exceptions="CloudFront.8 CloudFront.15"))
    [violation] = run_policy("cloudfront-custom-certificate", [cdn]).violations
    assert violation.urn == cdn.urn


def test_exception_does_not_excuse_a_custom_certificate_misconfigured(snap, tags, run_policy,
                                                                      accept_cert_exceptions):
    cert = {**CUSTOM_CERT, "sslSupportMethod": "vip", "minimumProtocolVersion": "TLSv1"}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(
        {**tags(), "control-exceptions": " ".join(CERT_EXCEPTIONS)}, viewerCertificate=cert))
    [sni] = run_policy("cloudfront-sni", [cdn]).violations
    assert "ssl_support_method is 'vip'" in sni.message and "ssl_support_method='sni-only'" in sni.message
    [tls] = run_policy("cloudfront-viewer-tls-policy", [cdn]).violations
    assert "minimum_protocol_version is 'TLSv1'" in tls.message
    assert "minimum_protocol_version='TLSv1.2_2021'" in tls.message


# --- ELB.4 / .5 / .6 / .12 / .13 on both tokens ---------------------------------------------


@pytest.mark.parametrize("type_", LB_TYPES)
@pytest.mark.parametrize("policy", ["alb-drop-invalid-headers", "alb-access-logs", "lb-deletion-protection-prod",
                                    "alb-desync-mitigation", "lb-multi-az"])
def test_compliant_load_balancer_passes(snap, tags, run_policy, type_, policy):
    assert run_policy(policy, [snap(type_, "alb", lb_props(tags(environment="prod")))]).violations == []


@pytest.mark.parametrize("type_", LB_TYPES)
@pytest.mark.parametrize(
    ("policy", "change", "fix"),
    [
        ("alb-drop-invalid-headers", {"dropInvalidHeaderFields": False}, "drop_invalid_header_fields=True"),
        ("alb-access-logs", {"accessLogs": {"bucket": "logs", "enabled": False}}, "access_logs={'bucket'"),
        ("lb-deletion-protection-prod", {"enableDeletionProtection": False}, "enable_deletion_protection=True"),
        ("alb-desync-mitigation", {"desyncMitigationMode": "monitor"}, "desync_mitigation_mode='defensive'"),
        ("lb-multi-az", {"subnets": ["subnet-a"]}, "at least 2 subnets in different AZs"),
    ],
)
def test_misconfigured_load_balancer_fails(snap, tags, run_policy, type_, policy, change, fix):
    alb = snap(type_, "alb", lb_props(tags(environment="prod"), **change))
    [violation] = run_policy(policy, [alb]).violations
    assert violation.urn == alb.urn
    assert fix in violation.message


def test_deletion_protection_is_only_required_in_prod(snap, tags, run_policy):
    alb = snap(LB, "alb", lb_props(tags(), enableDeletionProtection=False))
    assert run_policy("lb-deletion-protection-prod", [alb]).violations == []


def test_alb_only_controls_skip_network_load_balancers(snap, tags, run_policy):
    nlb = snap(LB, "nlb", lb_props(tags(), loadBalancerType="network", dropInvalidHeaderFields=None,
                                   accessLogs=None, desyncMitigationMode=None))
    for policy in ("alb-drop-invalid-headers", "alb-access-logs", "alb-desync-mitigation", "alb-waf-association"):
        assert run_policy(policy, [nlb]).violations == [], policy


# --- ELB.16 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", LB_TYPES)
def test_alb_with_web_acl_passes(snap, tags, run_policy, type_):
    assert run_policy("alb-waf-association", edge_stack(snap, tags, lb_type=type_)).violations == []


@pytest.mark.parametrize("type_", LB_TYPES)
def test_alb_without_web_acl_fails_on_the_alb(snap, tags, run_policy, type_):
    alb = snap(type_, "alb", lb_props(tags()))
    other = snap(type_, "other", lb_props(tags()))
    association = snap(ASSOCIATION, "other-waf", {"resourceArn": "arn:other"},
                       property_dependencies={"resourceArn": (other.urn,)})
    [violation] = run_policy("alb-waf-association", [alb, other, association]).violations
    assert violation.urn == alb.urn
    assert "ALB alb has no WAF web ACL" in violation.message
    assert "aws.wafv2.WebAclAssociation with resource_arn=alb.arn" in violation.message


# --- ELB.1 / .17 / .18 on both tokens -------------------------------------------------------


@pytest.mark.parametrize("type_", LISTENER_TYPES)
@pytest.mark.parametrize("policy", ["alb-http-redirects-to-https", "lb-listener-tls-policy",
                                    "lb-listener-secure-protocol"])
def test_https_and_redirect_listeners_pass(snap, tags, run_policy, type_, policy):
    listeners = [https_listener(snap, tags(), type_), http_listener(snap, tags(), type_)]
    assert run_policy(policy, listeners).violations == []


@pytest.mark.parametrize("type_", LISTENER_TYPES)
@pytest.mark.parametrize("actions", [FORWARD, [{"type": "redirect", "redirect": {"port": "8080"}}]],
                         ids=["forward", "redirect-keeps-http"])
def test_http_listener_serving_plain_http_fails(snap, tags, run_policy, type_, actions):
    http = http_listener(snap, tags(), type_, actions)
    [violation] = run_policy("alb-http-redirects-to-https", [http]).violations
    assert violation.urn == http.urn
    assert "default_actions=[{'type': 'redirect', 'redirect': {'protocol': 'HTTPS'" in violation.message
    [insecure] = run_policy("lb-listener-secure-protocol", [http]).violations
    assert insecure.urn == http.urn
    assert "listener uses HTTP, which is not encrypted; set protocol='HTTPS'" in insecure.message


def test_listener_without_protocol_is_http(snap, tags, run_policy):
    bare = listener(snap, tags(), defaultActions=FORWARD)
    [violation] = run_policy("alb-http-redirects-to-https", [bare]).violations
    assert violation.urn == bare.urn


def test_tcp_listener_fails_secure_protocol(snap, tags, run_policy):
    tcp = listener(snap, tags(), name="tcp", protocol="TCP", port=5432, defaultActions=FORWARD)
    [violation] = run_policy("lb-listener-secure-protocol", [tcp]).violations
    assert "listener uses TCP" in violation.message


@pytest.mark.parametrize("type_", LISTENER_TYPES)
@pytest.mark.parametrize(("policy", "shown"), [(None, "not set, so AWS uses ELBSecurityPolicy-2016-08"),
                                               ("ELBSecurityPolicy-2016-08", "'ELBSecurityPolicy-2016-08'"),
                                               ("ELBSecurityPolicy-TLS-1-1-2017-01", "'ELBSecurityPolicy-TLS-1-1")])
def test_https_listener_with_old_tls_policy_fails(snap, tags, run_policy, type_, policy, shown):
    https = https_listener(snap, tags(), type_)
    props = {**https.props, "sslPolicy": policy}
    if policy is None:
        del props["sslPolicy"]
    https = snap(type_, "https", props)
    [violation] = run_policy("lb-listener-tls-policy", [https]).violations
    assert violation.urn == https.urn
    assert f"ssl_policy is {shown}" in violation.message
    assert "ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06'" in violation.message


# --- WAF.10 ---------------------------------------------------------------------------------


def test_acl_with_inline_json_or_separate_rules_passes(snap, tags, run_policy):
    inline = snap(WEB_ACL, "inline", acl_props(tags()))
    as_json = snap(WEB_ACL, "json", acl_props(tags(), rules=None, ruleJson=json.dumps([{"Name": "r"}])))
    separate = snap(WEB_ACL, "separate", acl_props(tags(), rules=[]))
    rule = snap(WEB_ACL_RULE, "rate", {"priority": 1, "webAclArn": "arn", "visibilityConfig": VISIBLE},
                property_dependencies={"webAclArn": (separate.urn,)})
    assert run_policy("waf-web-acl-has-rules", [inline, as_json, separate, rule]).violations == []


def test_acl_without_rules_fails_on_the_acl(snap, tags, run_policy):
    empty = snap(WEB_ACL, "empty", acl_props(tags(), rules=[]))
    [violation] = run_policy("waf-web-acl-has-rules", [empty]).violations
    assert violation.urn == empty.urn
    assert "web ACL empty has no rules" in violation.message
    assert "AWSManagedRulesCommonRuleSet" in violation.message


# --- WAF.11 ---------------------------------------------------------------------------------


def test_acl_logging_with_redaction_passes(snap, tags, run_policy):
    acl = snap(WEB_ACL, "cdn", acl_props(tags()))
    logging = waf_logging(snap, acl, ("Authorization", "cookie", "x-api-key"))
    assert run_policy("waf-web-acl-logging", [acl, logging]).violations == []


def test_acl_without_logging_fails_on_the_acl(snap, tags, run_policy):
    acl = snap(WEB_ACL, "cdn", acl_props(tags()))
    [violation] = run_policy("waf-web-acl-logging", [acl]).violations
    assert violation.urn == acl.urn
    assert "aws.wafv2.WebAclLoggingConfiguration with resource_arn=acl.arn" in violation.message
    assert "redacted_fields=[{'single_header': {'name': 'authorization'}}" in violation.message


def test_logging_without_redaction_fails_on_the_logging(snap, tags, run_policy):
    acl = snap(WEB_ACL, "cdn", acl_props(tags()))
    logging = waf_logging(snap, acl, ("authorization",))
    [violation] = run_policy("waf-web-acl-logging", [acl, logging]).violations
    assert violation.urn == logging.urn
    assert "writes the cookie header(s) in clear" in violation.message
    assert "{'single_header': {'name': 'cookie'}} to redacted_fields" in violation.message


# --- WAF.12 ---------------------------------------------------------------------------------


def test_acl_and_rules_with_metrics_pass(snap, tags, run_policy):
    report = run_policy("waf-cloudwatch-metrics", [
        snap(WEB_ACL, "cdn", acl_props(tags())),
        snap(WEB_ACL_RULE, "rate", {"priority": 1, "webAclArn": "arn", "visibilityConfig": VISIBLE}),
    ])
    assert report.violations == []


def test_acl_or_rule_without_metrics_fails(snap, tags, run_policy):
    off = {**VISIBLE, "cloudwatchMetricsEnabled": False}
    rules = [{"name": "common", "priority": 1, "visibilityConfig": off}]
    acl = snap(WEB_ACL, "cdn", acl_props(tags(), visibilityConfig=off, rules=rules))
    first, second = run_policy("waf-cloudwatch-metrics", [acl]).violations
    assert first.urn == second.urn == acl.urn
    assert "web ACL has CloudWatch metrics off" in first.message
    assert "web ACL rule(s) common have CloudWatch metrics off" in second.message
    assert "cloudwatch_metrics_enabled=True on each rule" in second.message


def test_json_and_separate_rules_without_metrics_fail(snap, tags, run_policy):
    rule_json = json.dumps([{"Name": "geo", "VisibilityConfig": {"CloudWatchMetricsEnabled": False}}])
    acl = snap(WEB_ACL, "cdn", acl_props(tags(), rules=None, ruleJson=rule_json))
    rule = snap(WEB_ACL_RULE, "rate", {"priority": 1, "webAclArn": "arn"})
    violations = run_policy("waf-cloudwatch-metrics", [acl, rule]).violations
    assert [v.urn for v in violations] == [acl.urn, rule.urn]
    assert "rule(s) geo" in violations[0].message
    assert "set visibility_config cloudwatch_metrics_enabled=True" in violations[1].message
