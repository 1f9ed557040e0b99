"""WAF.10/11/12 on WAFv2 web ACLs and their rules, with credentials redacted in the log."""

from __future__ import annotations

import json

from tests.policies.builders import (
    VISIBLE,
    WEB_ACL,
    WEB_ACL_RULE,
    acl_props,
    waf_logging,
)

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
