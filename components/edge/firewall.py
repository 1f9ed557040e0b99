"""AWS WAF (v2) web ACLs for the edge: one CLOUDFRONT ACL for the distribution, one REGIONAL
ACL for the ALB (defence in depth, ELB.16), both with the same rules.

Rules (PCI DSS 6.4.2): AWS managed groups for IP reputation, common exploits, known bad
inputs and SQL injection, optionally anonymising proxies and Bot Control, plus a per-IP
rate limit that blocks. Every rule and the ACL publish CloudWatch metrics and sampled
requests (WAF.12); full logs go to a CloudWatch log group in the ACL's region with the
``authorization`` and ``cookie`` headers redacted (WAF.11, PCI DSS 3.3: no session tokens in
logs). Shield Advanced protects the associated resource when the stack subscribes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.common.compliance import CONTROL_EXCEPTIONS_TAG, WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION
from components.common.context import StackContext
from components.common.conventions import Conventions
from components.common.logs import log_group
from components.edge.settings import EdgeConfig

Scope = Literal["CLOUDFRONT", "REGIONAL"]

#: CloudFront reads web ACLs (and certificates) only from us-east-1.
CLOUDFRONT_REGION = "us-east-1"

#: AWS WAF delivers to CloudWatch Logs only into log groups whose name starts with this.
LOG_GROUP_PREFIX = "aws-waf-logs-"

#: Headers that carry credentials or session tokens: logged as REDACTED.
REDACTED_HEADERS = ("authorization", "cookie")

#: WAF rate-based rules count over this window (seconds); 300 is what ``rateLimit`` means.
RATE_WINDOW_SECONDS = 300

AWS_VENDOR = "AWS"

#: (rule name, managed group, priority). Fixed priorities, so turning an optional group on or
#: off never renumbers the others. Cheap reputation lists first (drop known-bad sources
#: before anything inspects a body), the rate limit next, the inspecting groups after, and
#: Bot Control last: it is billed per request it inspects.
IP_REPUTATION: tuple[str, str, int] = ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList", 10)
ANONYMOUS_IP: tuple[str, str, int] = ("aws-anonymous-ip", "AWSManagedRulesAnonymousIpList", 20)
RATE_LIMIT_RULE = ("rate-limit-per-ip", None, 30)
COMMON: tuple[str, str, int] = ("aws-common", "AWSManagedRulesCommonRuleSet", 40)
KNOWN_BAD_INPUTS: tuple[str, str, int] = ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet", 50)
SQLI: tuple[str, str, int] = ("aws-sqli", "AWSManagedRulesSQLiRuleSet", 60)
BOT_CONTROL: tuple[str, str, int] = ("aws-bot-control", "AWSManagedRulesBotControlRuleSet", 70)

#: Bot Control's cheaper level: self-identifying bots and common automation (the TARGETED
#: level adds browser interrogation and costs several times more).
BOT_CONTROL_INSPECTION_LEVEL = "COMMON"



def managed_rule_groups(config: EdgeConfig) -> list[tuple[str, str, int]]:
    """The managed groups the config asks for, as (rule name, group name, priority)."""
    groups = [IP_REPUTATION, COMMON, KNOWN_BAD_INPUTS, SQLI]
    if config.anonymous_ip:
        groups.append(ANONYMOUS_IP)
    if config.bot_control:
        groups.append(BOT_CONTROL)
    return sorted(groups, key=lambda item: item[2])


def acl_region(scope: Scope, region: str) -> str:
    return CLOUDFRONT_REGION if scope == "CLOUDFRONT" else region


def _region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


def _visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=metric_name)


def web_acl_rules(config: EdgeConfig, metric_prefix: str) -> list[aws.wafv2.WebAclRuleArgs]:
    """Every rule of the ACL, in priority order, each with its metrics (WAF.12)."""
    rules: list[tuple[int, aws.wafv2.WebAclRuleArgs]] = []
    for rule_name, group, priority in managed_rule_groups(config):
        configs = None
        if group == BOT_CONTROL[1]:
            configs = [aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigArgs(
                aws_managed_rules_bot_control_rule_set=(
                    aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigAwsManagedRulesBotControlRuleSetArgs(
                        inspection_level=BOT_CONTROL_INSPECTION_LEVEL)))]
        rules.append((priority, aws.wafv2.WebAclRuleArgs(
            name=rule_name,
            priority=priority,
            # The group's own actions apply (block); "none" overrides nothing.
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name=AWS_VENDOR, managed_rule_group_configs=configs)),
            visibility_config=_visibility(f"{metric_prefix}-{rule_name}"),
        )))
    rate_name, _, rate_priority = RATE_LIMIT_RULE
    rules.append((rate_priority, aws.wafv2.WebAclRuleArgs(
        name=rate_name,
        priority=rate_priority,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP", limit=config.rate_limit, evaluation_window_sec=RATE_WINDOW_SECONDS)),
        visibility_config=_visibility(f"{metric_prefix}-{rate_name}"),
    )))
    return [rule for _, rule in sorted(rules, key=lambda item: item[0])]


@dataclass(frozen=True)
class WebFirewallArgs:
    scope: Scope
    settings: EdgeConfig
    log_retention_days: int
    logs_key_arn: pulumi.Input[str] | None = None
    """KMS key for the WAF log group, in the ACL's region. None: CloudWatch Logs' own
    encryption, declared as :data:`WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION` on the log group."""
    associate_with: pulumi.Input[str] | None = None
    """REGIONAL only: the ALB ARN (ELB.16). CloudFront takes its ACL by ``web_acl_id`` instead."""


class WebFirewall(pulumi.ComponentResource):
    """A WAFv2 web ACL with managed rules and a rate limit, logged and (REGIONAL) associated."""

    web_acl: aws.wafv2.WebAcl
    arn: pulumi.Output[str]
    log_group: aws.cloudwatch.LogGroup
    region: str

    def __init__(self, name: str, context: StackContext, args: WebFirewallArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:edge:WebFirewall", name, None, opts)
        conv = context.conventions
        if args.scope not in ("CLOUDFRONT", "REGIONAL"):
            raise ValueError(f"scope {args.scope!r} must be 'CLOUDFRONT' or 'REGIONAL'")
        if args.scope == "CLOUDFRONT" and args.associate_with is not None:
            raise ValueError("a CLOUDFRONT web ACL is attached by the distribution's web_acl_id, not by an "
                             "association; leave associate_with unset")
        self.region = region = acl_region(args.scope, context.region)
        if isinstance(args.logs_key_arn, str) and _region_of_arn(args.logs_key_arn) not in (None, region):
            raise ValueError(f"logs_key_arn {args.logs_key_arn!r} is not in {region}, where the {args.scope} web "
                             "ACL and its log group live; a log group can only use a key of its own region")
        child = pulumi.ResourceOptions(parent=self)
        physical = conv.physical_name(name)

        self.web_acl = aws.wafv2.WebAcl(
            name,
            name=physical,
            description=f"{physical}: managed rules and a per-IP rate limit",
            scope=args.scope,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(args.settings, physical),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=physical),
            region=region,
            tags=conv.tags(physical),
            opts=child,
        )
        self.arn = self.web_acl.arn

        log_tags = None
        if args.logs_key_arn is None:
            log_tags = {CONTROL_EXCEPTIONS_TAG: WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION.control}
            pulumi.log.warn(f"{name}: the WAF log group in {region} uses CloudWatch Logs' default encryption: "
                            f"{WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION.reason}. Hand in a KMS key of {region} as "
                            "logs_key_arn to use a customer key.", resource=self)
        log_name = f"{LOG_GROUP_PREFIX}{physical}"
        self.log_group = log_group(
            name, context, name=log_name, retention_days=args.log_retention_days, key_arn=args.logs_key_arn,
            tags=conv.tags(log_name, log_tags), parent=self, region=region)
        # WAF.11. WAF adds the log group's resource policy for delivery.logs.amazonaws.com itself
        # (the deployer needs logs:PutResourcePolicy and logs:DescribeResourcePolicies).
        aws.wafv2.WebAclLoggingConfiguration(
            name,
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header))
                for header in REDACTED_HEADERS
            ],
            region=region,
            opts=child,
        )

        self.protected: list[aws.shield.Protection] = []
        if args.associate_with is not None:
            aws.wafv2.WebAclAssociation(  # ELB.16
                name, resource_arn=args.associate_with, web_acl_arn=self.web_acl.arn, region=region, opts=child)
            if args.settings.shield_advanced:
                self.protected.append(shield_protection(f"{name}-shield", args.associate_with, conv, self))

        self.register_outputs({"arn": self.arn, "logGroupName": self.log_group.name, "region": region})


def shield_protection(name: str, resource_arn: pulumi.Input[str], conventions: Conventions,
                      parent: pulumi.Resource) -> aws.shield.Protection:
    """Shield Advanced on one resource (needs the account's subscription, which is not made
    here: it is a 12-month commitment someone signs, not a side effect of a stack)."""
    physical = conventions.physical_name(name)
    return aws.shield.Protection(name, name=physical, resource_arn=resource_arn, tags=conventions.tags(physical),
                                 opts=pulumi.ResourceOptions(parent=parent))

