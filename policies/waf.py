"""WAFv2 web ACLs, in front of CloudFront and the ALB (WAF.10/11/12): rules, logging with
credentials redacted, and CloudWatch metrics on the ACL and every rule.

Stack policies link companions through ``property_dependencies``, never prop values (an ARN
is unknown during preview): a web ACL logging configuration through its ``resourceArn``, a
separately managed web ACL rule or rule group association through its ``webAclArn``.
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

from policies._helpers import (
    check_each,
    companions_by_target,
    is_set,
    known,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_RULE_TYPES = ("aws:wafv2/webAclRule:WebAclRule",
                      "aws:wafv2/webAclRuleGroupAssociation:WebAclRuleGroupAssociation")
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

#: Headers the WAF log must redact: they carry sessions and bearer tokens.
REDACTED_HEADERS = ("authorization", "cookie")


# --- WAF ------------------------------------------------------------------------------------


def _json_rules(props: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The rules of ``ruleJson``, or None when it is not set."""
    raw = known(props, "ruleJson")
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
