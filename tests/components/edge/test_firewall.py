"""The WebFirewall component (WAFv2 web ACLs), built alone under the project's mocks."""

from __future__ import annotations

import json
from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.compliance import CONTROL_EXCEPTIONS_TAG
from components.common.conventions import STANDARD_TAG_KEYS
from components.edge.firewall import (
    WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION,
    WebFirewall,
    WebFirewallArgs,
    managed_rule_groups,
)
from components.edge.settings import EdgeConfig
from config.loader import parse_stack_config
from config.stack import StackConfig
from tests.support import PROJECT, stack_context

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SHIELD = "aws:shield/protection:Protection"

REGION = "eu-west-1"
ALB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/app/retail-prod-edge/50dc6c495c0c9188"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
ALWAYS = {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
          "AWSManagedRulesAmazonIpReputationList"}


def stack_config(stack: str, **edge_overrides) -> StackConfig:
    raw = PROJECT.stack_config(stack)
    if edge_overrides:
        edge = json.loads(raw.get("retail:edge", "{}"))
        raw["retail:edge"] = json.dumps({**edge, **edge_overrides})
    return parse_stack_config(raw)


def build(stack: str, scope: str, *, edge: EdgeConfig | None = None, key: str | None = None,
          associate: bool | None = None) -> ResourceGraph:
    config = stack_config(stack)
    regional = scope == "REGIONAL"

    def program() -> None:
        WebFirewall("waf",
            stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod),
            WebFirewallArgs(
                scope=scope,
                settings=edge or config.edge,
                log_retention_days=365,
                logs_key_arn=key if key is not None else (LOGS_KEY if regional else None),
                associate_with=ALB_ARN if (associate if associate is not None else regional) else None,
            ))

    return run_program(program, project="retail", stack=stack, config={"aws:region": config.region})


@cache
def built(stack: str, scope: str) -> ResourceGraph:
    return build(stack, scope)


def rules(acl: Resource) -> dict[str, dict]:
    return {rule["name"]: rule for rule in acl.inputs["rules"]}


def managed_names(acl: Resource) -> set[str]:
    return {r["statement"]["managedRuleGroupStatement"]["name"] for r in acl.inputs["rules"]
            if "managedRuleGroupStatement" in r["statement"]}


# -- the ACL --------------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["REGIONAL", "CLOUDFRONT"])
def test_acl_allows_by_default_and_has_metrics_on_itself_and_every_rule(scope):
    acl = built("prod", scope).one(WEB_ACL)
    assert acl.inputs["scope"] == scope
    assert acl.inputs["defaultAction"] == {"allow": {}}
    assert acl.inputs["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    assert acl.inputs["visibilityConfig"]["sampledRequestsEnabled"] is True
    assert acl.inputs["rules"]  # WAF.10
    for rule in acl.inputs["rules"]:  # WAF.12
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True, rule["name"]
        assert rule["visibilityConfig"]["sampledRequestsEnabled"] is True, rule["name"]
    metrics = [r["visibilityConfig"]["metricName"] for r in acl.inputs["rules"]]
    assert len(set(metrics)) == len(metrics)


def test_cloudfront_acl_and_its_logs_live_in_us_east_1():
    g = built("prod", "CLOUDFRONT")
    assert g.one(WEB_ACL).inputs["region"] == "us-east-1"
    assert g.one(LOG_GROUP).inputs["region"] == "us-east-1"
    assert g.one(LOGGING).inputs["region"] == "us-east-1"
    assert g.of_type(ASSOCIATION) == []


def test_regional_acl_lives_in_the_primary_region():
    g = built("prod", "REGIONAL")
    assert {r.inputs["region"] for r in g if r.custom and r.type != SHIELD} == {REGION}


def test_priorities_are_unique_and_managed_groups_override_nothing():
    acl = built("prod", "REGIONAL").one(WEB_ACL)
    priorities = [r["priority"] for r in acl.inputs["rules"]]
    assert len(set(priorities)) == len(priorities)
    for rule in acl.inputs["rules"]:
        statement = rule["statement"]
        if "managedRuleGroupStatement" in statement:
            assert rule["overrideAction"] == {"none": {}}
            assert statement["managedRuleGroupStatement"]["vendorName"] == "AWS"
            assert "action" not in rule


def test_prod_runs_every_group_with_bot_control_at_common_level():
    acl = built("prod", "REGIONAL").one(WEB_ACL)
    assert managed_names(acl) == ALWAYS | {"AWSManagedRulesAnonymousIpList", "AWSManagedRulesBotControlRuleSet"}
    bot = rules(acl)["aws-bot-control"]["statement"]["managedRuleGroupStatement"]
    assert bot["managedRuleGroupConfigs"] == [{"awsManagedRulesBotControlRuleSet": {"inspectionLevel": "COMMON"}}]


def test_dev_has_neither_bot_control_nor_the_anonymous_ip_list():
    acl = built("dev", "REGIONAL").one(WEB_ACL)
    assert managed_names(acl) == ALWAYS


def test_rate_limit_blocks_per_ip_over_five_minutes_from_config():
    edge = stack_config("dev", rateLimit=750).edge
    acl = build("dev", "REGIONAL", edge=edge).one(WEB_ACL)
    rate = rules(acl)["rate-limit-per-ip"]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {"aggregateKeyType": "IP", "limit": 750,
                                                       "evaluationWindowSec": 300}


def test_managed_rule_groups_follow_the_config():
    assert {g for _, g, _ in managed_rule_groups(stack_config("dev").edge)} == ALWAYS
    staging = {g for _, g, _ in managed_rule_groups(stack_config("staging").edge)}
    assert staging == ALWAYS | {"AWSManagedRulesBotControlRuleSet"}


# -- logging --------------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["REGIONAL", "CLOUDFRONT"])
def test_logs_go_to_an_aws_waf_logs_group_with_credentials_redacted(scope):
    g = built("prod", scope)
    group = g.one(LOG_GROUP)
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["deletionProtectionEnabled"] is True and group.protect is True
    logging = g.one(LOGGING)
    assert logging.inputs["logDestinationConfigs"] == [
        f"arn:aws:logs:{group.inputs['region']}:{ACCOUNT_ID}:log-group:{group.inputs['name']}"]
    assert logging.inputs["resourceArn"].startswith("arn:aws:wafv2:")
    assert logging.inputs["redactedFields"] == [{"singleHeader": {"name": "authorization"}},
                                                {"singleHeader": {"name": "cookie"}}]


def test_regional_log_group_uses_the_logs_key():
    group = built("prod", "REGIONAL").one(LOG_GROUP)
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert CONTROL_EXCEPTIONS_TAG not in group.inputs["tags"]


def test_cloudfront_log_group_without_a_us_east_1_key_declares_its_exception():
    g = built("prod", "CLOUDFRONT")
    group = g.one(LOG_GROUP)
    assert "kmsKeyId" not in group.inputs
    assert group.inputs["tags"][CONTROL_EXCEPTIONS_TAG] == WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION.control
    assert any("default encryption" in w for w in g.warnings)


def test_a_key_from_another_region_is_refused():
    with pytest.raises(ValueError, match="not in us-east-1"):
        build("dev", "CLOUDFRONT", key=LOGS_KEY)


def test_cloudfront_acl_cannot_be_associated():
    with pytest.raises(ValueError, match="web_acl_id"):
        build("dev", "CLOUDFRONT", associate=True)


# -- association and Shield -----------------------------------------------------------------

def test_regional_acl_is_associated_with_the_alb():  # ELB.16
    g = built("prod", "REGIONAL")
    association = g.one(ASSOCIATION)
    assert association.inputs["resourceArn"] == ALB_ARN
    assert association.inputs["webAclArn"].startswith(f"arn:aws:wafv2:{REGION}:{ACCOUNT_ID}:regional/webacl/")


def test_shield_advanced_only_when_configured():
    assert built("prod", "REGIONAL").of_type(SHIELD) == []
    edge = stack_config("prod", shieldAdvanced=True).edge
    [protection] = build("prod", "REGIONAL", edge=edge).of_type(SHIELD)
    assert protection.inputs["resourceArn"] == ALB_ARN


@pytest.mark.parametrize("scope", ["REGIONAL", "CLOUDFRONT"])
def test_taggable_resources_carry_the_standard_tags(scope):
    g = built("dev", scope)
    for type_token in (WEB_ACL, LOG_GROUP):
        assert set(STANDARD_TAG_KEYS) <= set(g.one(type_token).inputs["tags"])
