"""ELB.1/4/5/6/12/13/16/17/18 on both load balancer tokens."""

from __future__ import annotations

import pytest

from tests.policies.builders import (
    ASSOCIATION,
    FORWARD,
    LB,
    LB_TYPES,
    LISTENER_TYPES,
    edge_stack,
    http_listener,
    https_listener,
    lb_props,
    listener,
)

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
