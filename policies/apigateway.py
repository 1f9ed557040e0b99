"""API Gateway REST APIs (APIGateway.1/2/3/4/5/8/9): execution and access logging, TLS on
custom domains, X-Ray, WAF on every stage, encrypted caches, authorization on every method.

Stages and their companions (method settings, WAF associations) are linked through
``property_dependencies`` (``stageName``/``resourceArn`` came from the stage), never prop
values, which are unknown during preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from policies._helpers import (
    check_each,
    companion_policy,
    companions_by_target,
    is_prod,
    is_set,
    known,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
METHOD = "aws:apigateway/method:Method"
DOMAIN_NAME = "aws:apigateway/domainName:DomainName"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

#: Execution logging levels that log (APIGateway.1): anything but OFF.
LOGGING_LEVELS = ("ERROR", "INFO")
#: Security policies of TLS 1.2 or later (APIGateway.2): the classic TLS_1_2 and the newer
#: enhanced policies (SecurityPolicy_TLS13_..., SecurityPolicy_TLS12_...).
TLS_1_0 = "TLS_1_0"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method")
#: OpenAPI security schemes that are only API keys (no authtype): usage identifiers, not authentication.
AUTHTYPE = "x-amazon-apigateway-authtype"


# --- APIGateway.1: execution logging -------------------------------------------------------


def _all_methods(settings: PolicyResource) -> bool:
    return known(settings.props, "methodPath") == "*/*"


def _execution_logging(stage: PolicyResource, settings: PolicyResource) -> str | None:
    if not _all_methods(settings):
        return None
    block = mapping(settings.props.get("settings"))
    level = block.get("loggingLevel")
    if level not in LOGGING_LEVELS:
        return (f"method settings of stage {stage.name} log executions at {level or 'OFF'}; set "
                "settings.logging_level='ERROR' (or 'INFO' outside prod) on method_path='*/*'.")
    if is_prod(stage.props) and block.get("dataTraceEnabled") is True:
        return (f"method settings of prod stage {stage.name} log full requests and responses "
                "(data_trace_enabled=True); partner and order data would land in the logs: set it to False.")
    return None


def _execution_logging_check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    stages = [r for r in args.resources if r.resource_type == STAGE]
    if not stages:
        args.not_applicable("the stack has no API Gateway stages")
    settings = companions_by_target(args.resources, (METHOD_SETTINGS,), "stageName")

    def check(stage: PolicyResource) -> None:
        found = [s for s in settings.get(stage.urn, []) if _all_methods(s)]
        if not found:
            report_violation(
                f"stage {stage.name} has no execution logging; add an aws.apigateway.MethodSettings with "
                "rest_api=api.id, stage_name=stage.stage_name, method_path='*/*' and "
                "settings={'logging_level': 'ERROR', 'metrics_enabled': True, 'data_trace_enabled': False}.",
                stage.urn)
            return
        for companion in found:
            problem = _execution_logging(stage, companion)
            if problem:
                report_violation(problem, companion.urn)

    check_each(stages, check)


# --- APIGateway.2: TLS 1.2+ on custom domains ----------------------------------------------


def _domain_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    policy = known(args.props, "securityPolicy")
    if policy is None and is_set(args.props, "securityPolicy"):
        return  # unknown during preview
    if not policy or policy == TLS_1_0:
        report_violation(f"custom domain allows {policy or 'the default (TLS 1.0)'}; set "
                         "security_policy='TLS_1_2'.", None)


# --- APIGateway.3: X-Ray -------------------------------------------------------------------


def _xray(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.props.get("xrayTracingEnabled") is not True:
        report_violation("stage does not trace requests with X-Ray; set xray_tracing_enabled=True.", None)


# --- APIGateway.4: WAF ---------------------------------------------------------------------

_waf = companion_policy(
    "apigateway-stage-waf",
    "APIGateway.4: every API Gateway REST stage is associated with a WAFv2 web ACL",
    (STAGE,), "API Gateway stages", (WEB_ACL_ASSOCIATION,), "resourceArn",
    lambda stage: (f"stage {stage.name} has no web ACL; add an aws.wafv2.WebAclAssociation with "
                   "resource_arn=stage.arn and web_acl_arn=<a REGIONAL web ACL>.arn."),
)


# --- APIGateway.5: cache encryption --------------------------------------------------------


def _cache_encryption(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    cached = [r for r in args.resources if r.resource_type == STAGE and r.props.get("cacheClusterEnabled") is True]
    caching_settings = [r for r in args.resources if r.resource_type == METHOD_SETTINGS
                        and mapping(r.props.get("settings")).get("cachingEnabled") is True]
    if not cached and not caching_settings:
        args.not_applicable("no API Gateway stage caches responses")
    settings = companions_by_target(args.resources, (METHOD_SETTINGS,), "stageName")

    def unencrypted(setting: PolicyResource) -> bool:
        return mapping(setting.props.get("settings")).get("cacheDataEncrypted") is not True

    def check_stage(stage: PolicyResource) -> None:
        everything = [s for s in settings.get(stage.urn, []) if _all_methods(s)]
        if not everything or any(unencrypted(s) for s in everything):
            report_violation(
                f"stage {stage.name} has a cache cluster but its cache data is not encrypted for all methods; "
                "add (or fix) the MethodSettings with method_path='*/*' and settings.cache_data_encrypted=True.",
                stage.urn)

    def check_setting(setting: PolicyResource) -> None:
        if unencrypted(setting):
            report_violation(
                f"method settings {setting.name} cache responses unencrypted; set settings.cache_data_encrypted="
                "True.", setting.urn)

    check_each(cached, check_stage)
    check_each(caching_settings, check_setting)


# --- APIGateway.8: authorization on every method -------------------------------------------


def _body(props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    raw = known(props, "body")
    if not raw:
        return None
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return None  # YAML bodies: checked by the API's own tests, not here
    return mapping(document)


def _authenticating(requirement: Any, schemes: Mapping[str, Any]) -> bool:
    """Whether one security requirement includes a scheme that authenticates: an authorizer
    (IAM, Cognito, Lambda, JWT) or OAuth/OpenID, not an API key alone."""
    for name in mapping(requirement):
        scheme = mapping(schemes.get(name))
        if scheme.get(AUTHTYPE) or scheme.get("x-amazon-apigateway-authorizer"):
            return True
        if scheme.get("type") in ("oauth2", "openIdConnect", "http"):
            return True
    return False


def unauthorized_operations(document: Mapping[str, Any]) -> list[str]:
    """``METHOD /path`` of every operation a caller can reach without authenticating: no
    security requirement, or one alternative that is only an API key (or empty: ``{}``)."""
    schemes = mapping(mapping(document.get("components")).get("securitySchemes")) or mapping(
        document.get("securityDefinitions"))
    default = document.get("security")
    found = []
    for path, item in mapping(document.get("paths")).items():
        for method, operation in mapping(item).items():
            if method not in HTTP_METHODS:
                continue
            operation = mapping(operation)
            if "x-amazon-apigateway-auth" in operation:
                auth = mapping(operation.get("x-amazon-apigateway-auth")).get("type", "NONE")
                if str(auth).upper() != "NONE":
                    continue
            requirements = sequence(operation["security"] if "security" in operation else default)
            if not requirements or not all(_authenticating(r, schemes) for r in requirements):
                label = "ANY" if method.startswith("x-amazon") else method.upper()
                found.append(f"{label} {path}")
    return found


def _api_authorization(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    document = _body(args.props)
    if document is None:
        return
    open_operations = unauthorized_operations(document)
    if open_operations:
        report_violation(
            f"operation(s) {', '.join(open_operations)} can be called without authenticating (no security, or "
            "an API key alone, which only identifies a caller); give each a security requirement with an "
            "authorizer: an x-amazon-apigateway-authtype awsSigv4 (IAM) or cognito_user_pools scheme, next to "
            "the API key.", None)


def _method_authorization(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    authorization = known(args.props, "authorization")
    if authorization is not None and str(authorization).upper() == "NONE":
        report_violation("method has authorization NONE; set authorization='AWS_IAM' or 'COGNITO_USER_POOLS' "
                         "(with authorizer_id), or 'CUSTOM'; api_key_required alone does not authenticate.", None)


# --- APIGateway.9: access logging ----------------------------------------------------------


def _access_logging(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    settings = mapping(args.props.get("accessLogSettings"))
    if not is_set(settings, "destinationArn") or not is_set(settings, "format"):
        report_violation("stage writes no access log; set access_log_settings={'destination_arn': "
                         "<a KMS-encrypted log group>.arn, 'format': <a JSON line of $context fields>}.", None)


# --- The policies --------------------------------------------------------------------------

POLICIES = [
    stack_policy("apigateway-execution-logging",
                 "APIGateway.1: every API Gateway REST stage logs executions (ERROR or INFO), without data "
                 "trace in prod", _execution_logging_check),
    resource_policy("apigateway-domain-tls",
                    "APIGateway.2: API Gateway custom domains accept TLS 1.2 or later only",
                    (DOMAIN_NAME,), _domain_tls),
    resource_policy("apigateway-xray",
                    "APIGateway.3: API Gateway REST stages trace requests with AWS X-Ray",
                    (STAGE,), _xray),
    _waf,
    stack_policy("apigateway-cache-encryption",
                 "APIGateway.5: API Gateway REST API cache data is encrypted at rest", _cache_encryption),
    resource_policy("apigateway-api-authorization",
                    "APIGateway.8: every API Gateway REST operation requires authorization (not an API key alone)",
                    (REST_API,), _api_authorization),
    resource_policy("apigateway-method-authorization",
                    "APIGateway.8: API Gateway methods defined as resources do not use authorization NONE",
                    (METHOD,), _method_authorization),
    resource_policy("apigateway-access-logging",
                    "APIGateway.9: API Gateway REST stages write access logs",
                    (STAGE,), _access_logging),
]
