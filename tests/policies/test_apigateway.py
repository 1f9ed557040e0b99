"""APIGateway.1/2/3/4/5/8/9 on REST APIs, stages, method settings and custom domains.

The policies are run from ``policies.apigateway.POLICIES`` directly (the registry lists them
once the integrator wires them in), and over the PartnerApi component's own graph.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from blueprint.checks import snapshots
from policies.apigateway import (
    DOMAIN_NAME,
    METHOD,
    METHOD_SETTINGS,
    POLICIES,
    REST_API,
    STAGE,
    WEB_ACL_ASSOCIATION,
    unauthorized_operations,
)
from policies.offline import PolicyReport, ResourceSnapshot, evaluate
from policies.registry import POLICIES as REGISTERED


def run(name: str, items: Sequence[ResourceSnapshot]) -> PolicyReport:
    [policy] = [p for p in POLICIES if p.name == name]
    return evaluate(items, [policy])


def stage_props(tags: dict[str, str], **overrides: Any) -> dict[str, Any]:
    props = {"stageName": "v1", "restApi": "a1b2c3", "deployment": "d1", "xrayTracingEnabled": True,
             "accessLogSettings": {"destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:access",
                                   "format": '{"requestId":"$context.requestId"}'},
             "tags": tags}
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def method_settings(snap, stage: ResourceSnapshot, name: str = "all", **settings: Any) -> ResourceSnapshot:
    block = {"loggingLevel": "ERROR", "metricsEnabled": True, "dataTraceEnabled": False, **settings}
    return snap(METHOD_SETTINGS, name, {"restApi": "a1b2c3", "stageName": "v1", "methodPath": "*/*",
                                        "settings": {k: v for k, v in block.items() if v is not None}},
                property_dependencies={"stageName": (stage.urn,)})


SIGV4 = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
KEY = {"type": "apiKey", "name": "x-api-key", "in": "header"}


def api_body(security: Any, *, schemes: dict[str, Any] | None = None) -> str:
    operation: dict[str, Any] = {"responses": {"200": {"description": "ok"}}}
    if security is not None:
        operation["security"] = security
    return json.dumps({"openapi": "3.0.3", "components": {"securitySchemes": schemes or {"sigv4": SIGV4,
                                                                                        "key": KEY}},
                       "paths": {"/inventory": {"get": operation}}})


# --- APIGateway.1 ---------------------------------------------------------------------------


def test_stage_with_error_logging_passes(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags(environment="prod")))
    assert run("apigateway-execution-logging", [stage, method_settings(snap, stage)]).violations == []


def test_stage_without_method_settings_fails(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags()))
    other = method_settings(snap, stage, "one", methodPath=None)
    other = snap(METHOD_SETTINGS, "catalogue", {**other.props, "methodPath": "catalogue/GET"},
                 property_dependencies={"stageName": (stage.urn,)})
    [violation] = run("apigateway-execution-logging", [stage, other]).violations
    assert violation.urn == stage.urn and "method_path='*/*'" in violation.message


@pytest.mark.parametrize("level", ["OFF", None])
def test_logging_off_fails_on_the_settings(snap, tags, level):
    stage = snap(STAGE, "v1", stage_props(tags()))
    settings = method_settings(snap, stage, loggingLevel=level)
    [violation] = run("apigateway-execution-logging", [stage, settings]).violations
    assert violation.urn == settings.urn and "logging_level='ERROR'" in violation.message


def test_data_trace_fails_in_prod_only(snap, tags):
    prod = snap(STAGE, "v1", stage_props(tags(environment="prod")))
    dev = snap(STAGE, "dev", stage_props(tags()))
    traced = [method_settings(snap, prod, "p", dataTraceEnabled=True),
              method_settings(snap, dev, "d", dataTraceEnabled=True)]
    [violation] = run("apigateway-execution-logging", [prod, dev, *traced]).violations
    assert violation.urn == traced[0].urn and "data_trace_enabled=True" in violation.message


# --- APIGateway.2 ---------------------------------------------------------------------------


def test_domain_with_tls_1_2_passes(snap, tags):
    domain = snap(DOMAIN_NAME, "api", {"domainName": "partners.example.com", "securityPolicy": "TLS_1_2",
                                        "tags": tags()})
    assert run("apigateway-domain-tls", [domain]).violations == []


@pytest.mark.parametrize("policy", ["TLS_1_0", None])
def test_domain_with_tls_1_0_or_default_fails(snap, tags, policy):
    props = {"domainName": "partners.example.com", "tags": tags()}
    if policy:
        props["securityPolicy"] = policy
    [violation] = run("apigateway-domain-tls", [snap(DOMAIN_NAME, "api", props)]).violations
    assert "security_policy='TLS_1_2'" in violation.message


# --- APIGateway.3 and .9 --------------------------------------------------------------------


def test_stage_with_xray_and_access_logs_passes(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags()))
    assert run("apigateway-xray", [stage]).violations == []
    assert run("apigateway-access-logging", [stage]).violations == []


def test_stage_without_xray_fails(snap, tags):
    [violation] = run("apigateway-xray", [snap(STAGE, "v1", stage_props(tags(), xrayTracingEnabled=False))]
                      ).violations
    assert "xray_tracing_enabled=True" in violation.message


@pytest.mark.parametrize("settings", [None, {"destinationArn": "arn:aws:logs:eu-west-1:1:log-group:x"}])
def test_stage_without_access_logs_fails(snap, tags, settings):
    [violation] = run("apigateway-access-logging",
                      [snap(STAGE, "v1", stage_props(tags(), accessLogSettings=settings))]).violations
    assert "access_log_settings" in violation.message


# --- APIGateway.4 ---------------------------------------------------------------------------


def test_stage_with_web_acl_passes(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags()))
    association = snap(WEB_ACL_ASSOCIATION, "waf", {"resourceArn": "arn", "webAclArn": "acl"},
                       property_dependencies={"resourceArn": (stage.urn,)})
    assert run("apigateway-stage-waf", [stage, association]).violations == []


def test_stage_without_web_acl_fails(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags()))
    [violation] = run("apigateway-stage-waf", [stage]).violations
    assert violation.urn == stage.urn and "aws.wafv2.WebAclAssociation" in violation.message


# --- APIGateway.5 ---------------------------------------------------------------------------


def test_no_cache_is_not_applicable_and_encrypted_cache_passes(snap, tags):
    stage = snap(STAGE, "v1", stage_props(tags()))
    assert run("apigateway-cache-encryption", [stage, method_settings(snap, stage)]).violations == []
    cached = snap(STAGE, "cached", stage_props(tags(), cacheClusterEnabled=True))
    settings = method_settings(snap, cached, cachingEnabled=True, cacheDataEncrypted=True)
    assert run("apigateway-cache-encryption", [cached, settings]).violations == []


def test_unencrypted_cache_fails_on_stage_and_settings(snap, tags):
    cached = snap(STAGE, "cached", stage_props(tags(), cacheClusterEnabled=True))
    settings = method_settings(snap, cached, cachingEnabled=True)
    violations = run("apigateway-cache-encryption", [cached, settings]).violations
    assert {v.urn for v in violations} == {cached.urn, settings.urn}
    assert all("cache_data_encrypted=True" in v.message for v in violations)


# --- APIGateway.8 ---------------------------------------------------------------------------


def test_operations_with_sigv4_and_key_pass(snap, tags):
    api = snap(REST_API, "partners", {"body": api_body([{"sigv4": [], "key": []}]), "tags": tags()})
    assert run("apigateway-api-authorization", [api]).violations == []
    cognito = {"type": "apiKey", "name": "Authorization", "in": "header",
               "x-amazon-apigateway-authtype": "cognito_user_pools",
               "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn"]}}
    assert unauthorized_operations(json.loads(api_body([{"pool": []}], schemes={"pool": cognito}))) == []


@pytest.mark.parametrize("security", [None, [], [{"key": []}], [{"sigv4": []}, {}], [{"sigv4": []}, {"key": []}]])
def test_operation_open_or_behind_an_api_key_alone_fails(snap, tags, security):
    api = snap(REST_API, "partners", {"body": api_body(security), "tags": tags()})
    [violation] = run("apigateway-api-authorization", [api]).violations
    assert "GET /inventory" in violation.message and "API key alone" in violation.message


def test_method_resources_with_authorization_none_fail(snap):
    good = snap(METHOD, "good", {"httpMethod": "GET", "authorization": "AWS_IAM", "restApi": "a", "resourceId": "r"})
    bad = snap(METHOD, "bad", {"httpMethod": "GET", "authorization": "NONE", "apiKeyRequired": True,
                               "restApi": "a", "resourceId": "r"})
    [violation] = run("apigateway-method-authorization", [good, bad]).violations
    assert violation.urn == bad.urn


# --- The component passes its own rules -----------------------------------------------------


def test_partner_api_component_passes_the_whole_pack_and_these_rules():
    from tests.components.api.test_partner_api import built, with_domain

    items = snapshots(with_domain())
    assert {s.type for s in items} >= {REST_API, STAGE, METHOD_SETTINGS, DOMAIN_NAME, WEB_ACL_ASSOCIATION}
    # Standard tags, log retention and keys, DATA.1 protection, IAM rules...: the registered pack too.
    assert evaluate(items, [*REGISTERED, *POLICIES]).violations == []
    assert evaluate(snapshots(built("dev")), [*REGISTERED, *POLICIES]).violations == []
    # ...and the rules do look at it: without its WAF association the stage fails APIGateway.4.
    without_waf = [s for s in items if s.type != WEB_ACL_ASSOCIATION]
    [violation] = evaluate(without_waf, POLICIES).violations
    assert violation.policy == "apigateway-stage-waf" and violation.urn == next(
        s.urn for s in items if s.type == STAGE)
