"""Partner APIs: API Gateway REST APIs built from the OpenAPI documents in ``apis/``.

The documents are the single source: each published major version is one document
(``apis/partners-v1.yaml``), imported as the body of its own REST API and served on a stage
named after the version. What API Gateway needs beyond the contract is added here, not
written into the documents by hand, so that every operation gets it:

* request validation (body and parameters) on every operation;
* authorization on every operation: SigV4 (``AWS_IAM``, machine partners) or a Cognito user
  pool authorizer, *and* an API key, which only identifies the partner to its usage plan;
* the integration: an HTTP proxy over a VPC link to the services' internal NLB, so partner
  traffic reaches the services on the private network only.

Why a VPC link to an NLB passed in rather than one built here: REST API VPC links only
target NLBs, and the NLB in front of the services belongs with the services' networking
(their target groups, health checks and security groups are theirs); the API only needs its
ARN and the private host name its listener answers on.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from components.api.settings import ApiConfig
from components.common.context import StackContext
from components.common.grants import attach, policy_document, service_trust_policy, statement
from components.common.logs import log_group

#: Where the OpenAPI documents live: ``partners-<version>.yaml``.
API_DIR = Path(__file__).resolve().parents[2] / "apis"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

#: The request validator every operation uses.
VALIDATOR = "body-and-parameters"
AUTH_SCHEME = "partner-auth"
API_KEY_SCHEME = "partner-api-key"

#: TLS 1.2 or later on the custom domain (APIGateway.2).
TLS_POLICY = "TLS_1_2"

#: API Gateway's integration timeout ceiling for REST APIs, in milliseconds.
INTEGRATION_TIMEOUT_MS = 29_000

#: The access log line: one JSON object per request, no bodies, no Authorization header.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "apiKeyId": "$context.identity.apiKeyId",
    "clientCertSerial": "$context.identity.clientCert.serialNumber",
    "wafStatus": "$context.waf.status",
    "authorizerError": "$context.authorizer.error",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "responseLatency": "$context.responseLatency",
    "xrayTraceId": "$context.xrayTraceId",
}, separators=(",", ":"))


def document_path(version: str) -> Path:
    return API_DIR / f"partners-{version}.yaml"


def load_document(version: str) -> dict[str, Any]:
    path = document_path(version)
    if not path.is_file():
        raise ValueError(f"retail:api.versions lists {version!r} but {path.relative_to(API_DIR.parent)} does not "
                         "exist; add the document or remove the version")
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ValueError(f"{path.name} is not an OpenAPI 3 document")
    return document


def operations(document: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, METHOD, operation)`` of every operation in the document."""
    return [(path, method.upper(), operation)
            for path, item in (document.get("paths") or {}).items()
            for method, operation in item.items() if method in HTTP_METHODS]


def _auth_scheme(authorization: str, user_pool_arn: str | None) -> dict[str, Any]:
    if authorization == "cognito":
        return {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [user_pool_arn]}}
    return {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}


def gateway_document(document: Mapping[str, Any], *, title: str, authorization: str, user_pool_arn: str | None,
                     vpc_link_id: str, backend_urls: Mapping[str, str]) -> dict[str, Any]:
    """The OpenAPI document with the API Gateway extensions added (see the module docstring)."""
    result = copy.deepcopy(dict(document))
    result["info"] = {**result.get("info", {}), "title": title}
    components = result.setdefault("components", {})
    components["securitySchemes"] = {
        **components.get("securitySchemes", {}),
        AUTH_SCHEME: _auth_scheme(authorization, user_pool_arn),
        API_KEY_SCHEME: {"type": "apiKey", "name": "x-api-key", "in": "header"},
    }
    result["security"] = [{AUTH_SCHEME: [], API_KEY_SCHEME: []}]
    result["x-amazon-apigateway-api-key-source"] = "HEADER"
    result["x-amazon-apigateway-request-validators"] = {
        VALIDATOR: {"validateRequestBody": True, "validateRequestParameters": True}}
    result["x-amazon-apigateway-request-validator"] = VALIDATOR
    for path, method, operation in operations(result):
        operation["security"] = [{AUTH_SCHEME: [], API_KEY_SCHEME: []}]
        operation["x-amazon-apigateway-request-validator"] = VALIDATOR
        path_params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"]
        query_params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        operation["x-amazon-apigateway-integration"] = {
            "type": "http_proxy",
            "httpMethod": method,
            "uri": f"{backend_urls[operation['operationId']].rstrip('/')}{path}",
            "connectionType": "VPC_LINK",
            "connectionId": vpc_link_id,
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": INTEGRATION_TIMEOUT_MS,
            "requestParameters": {
                **{f"integration.request.path.{p}": f"method.request.path.{p}" for p in path_params},
                **{f"integration.request.querystring.{p}": f"method.request.querystring.{p}" for p in query_params},
            },
        }
    return result


def method_settings(settings: ApiConfig, rate_limit: float | None = None,
                    burst_limit: int | None = None) -> aws.apigateway.MethodSettingsSettingsArgs:
    """Every method's settings: metrics, execution logging at the configured level (APIGateway.1),
    no response cache (and encrypted if one is ever turned on: APIGateway.5); with limits, the
    throttling of one expensive operation."""
    return aws.apigateway.MethodSettingsSettingsArgs(
        metrics_enabled=True, logging_level=settings.execution_log_level, data_trace_enabled=settings.data_trace,
        caching_enabled=False, cache_data_encrypted=True, throttling_rate_limit=rate_limit,
        throttling_burst_limit=burst_limit)


def document_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def invoke_policy(execution_arn: str, stage: str, method: str, path: str) -> dict[str, Any]:
    """Call one operation of one stage (SigV4 partners): ``{path}`` parameters become ``*``."""
    resource_path = "/".join("*" if part.startswith("{") else part for part in path.strip("/").split("/"))
    return policy_document(statement("InvokeOperation", ["execute-api:Invoke"],
                                     [f"{execution_arn}/{stage}/{method}/{resource_path}"]))


def cloudwatch_push_policy(partition: str, region: str, account_id: str) -> dict[str, Any]:
    """What API Gateway needs to write execution logs: only the execution log groups."""
    groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:API-Gateway-Execution-Logs_*"
    return policy_document(
        statement("WriteExecutionLogs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                         "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
                  [groups, f"{groups}:*"]),
        statement("FindLogGroups", ["logs:DescribeLogGroups"],
                  [f"arn:{partition}:logs:{region}:{account_id}:log-group:*"]),
    )


@dataclass(frozen=True)
class PartnerApiArgs:
    settings: ApiConfig
    logs_key_arn: pulumi.Input[str]
    """The stack's logs key: access and execution log groups are encrypted with it."""
    web_acl_arn: pulumi.Input[str]
    """A REGIONAL WAFv2 web ACL (the edge firewall's regional ACL) associated with every stage."""
    nlb_arn: pulumi.Input[str]
    """The services' internal Network Load Balancer the VPC link targets."""
    backend_urls: Mapping[str, str]
    """operationId -> scheme, private host and port of the NLB listener that answers it
    (``https://partners-backend.shop.example.com:10001``); the operation's path is appended.
    Every operation of every published version must have one."""
    manage_account_logging: bool = True
    """Create the region's API Gateway CloudWatch role setting (one per account and region):
    execution logs need it. False when another stack of the account owns it."""

    def __post_init__(self) -> None:
        for operation, url in self.backend_urls.items():
            if not url.startswith("https://"):
                raise ValueError(f"PartnerApiArgs.backend_urls[{operation!r}] {url!r} must start with https://: "
                                 "the NLB's TLS listener, e.g. https://partners-backend.shop.example.com:10001")


class PartnerApi(pulumi.ComponentResource):
    """One REST API and stage per published major version, metered per partner tier."""

    apis: dict[str, aws.apigateway.RestApi]
    stages: dict[str, aws.apigateway.Stage]
    usage_plans: dict[str, aws.apigateway.UsagePlan]
    api_keys: dict[str, aws.apigateway.ApiKey]
    documents: dict[str, dict[str, Any]]

    def __init__(self, name: str, context: StackContext, args: PartnerApiArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:api:PartnerApi", name, None, opts)
        settings, conv = args.settings, context.conventions
        self._name, self._region, self._context = name, context.region, context
        if context.environment == "prod" and settings.data_trace:
            raise ValueError("retail:api.dataTrace is true in prod: execution logs would hold full partner "
                             "requests and responses; set dataTrace: false")
        if context.environment == "prod" and settings.execution_log_level != "ERROR":
            raise ValueError("retail:api.executionLogLevel must be ERROR in prod; INFO logs every request's "
                             "detail")
        mtls = settings.domain is not None and settings.domain.truststore_uri is not None
        region = context.region
        child = pulumi.ResourceOptions(parent=self)

        self.vpc_link = aws.apigateway.VpcLink(
            f"{name}-vpc-link",
            name=conv.physical_name("partners-api"),
            description="Partner API to the services' internal NLB (private path only)",
            target_arn=args.nlb_arn,
            region=region,
            tags=conv.tags(conv.physical_name("partners-api")),
            opts=child,
        )
        account = self._account_logging(name, context) if args.manage_account_logging else None

        self.apis, self.stages, self.documents = {}, {}, {}
        self._deployments: dict[str, aws.apigateway.Deployment] = {}
        for version in settings.versions:
            source = load_document(version)
            unanswered = sorted(str(op.get("operationId")) for _, _, op in operations(source)
                                if op.get("operationId") not in args.backend_urls)
            if unanswered:
                raise ValueError(f"{document_path(version).name}: no backend answers {', '.join(unanswered)}; map "
                                 "each operationId to a service in retail:api.backends")
            api_name = conv.physical_name("partners", version)
            body = self.vpc_link.id.apply(lambda link_id, source=source, api_name=api_name: json.dumps(
                gateway_document(source, title=api_name, authorization=settings.authorization,
                                 user_pool_arn=settings.cognito_user_pool_arn, vpc_link_id=link_id,
                                 backend_urls=args.backend_urls), sort_keys=True))
            self.documents[version] = gateway_document(
                source, title=api_name, authorization=settings.authorization,
                user_pool_arn=settings.cognito_user_pool_arn, vpc_link_id="<vpc-link>",
                backend_urls=args.backend_urls)
            api = aws.apigateway.RestApi(
                f"{name}-{version}",
                name=api_name,
                description=str(source.get("info", {}).get("description", "")).strip()[:1024] or None,
                body=body,
                put_rest_api_mode="overwrite",
                fail_on_warnings=True,
                api_key_source="HEADER",
                endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
                # With mutual TLS only the custom domain checks client certificates.
                disable_execute_api_endpoint=mtls,
                region=region,
                tags=conv.tags(api_name, {"api-version": version}),
                opts=child,
            )
            deployment = aws.apigateway.Deployment(
                f"{name}-{version}",
                rest_api=api.id,
                description=f"partners {version}",
                triggers={"document": body.apply(document_hash)},
                region=region,
                opts=child,
            )
            access_logs = log_group(
                f"{name}-{version}-access", context, name=f"/aws/apigateway/{api_name}/access",
                retention_days=settings.log_retention_days, key_arn=args.logs_key_arn,
                tags=conv.tags(f"{api_name}-access"), parent=self)
            # API Gateway writes execution logs to this fixed name: create it first, with our
            # key and retention, so that AWS does not create it unencrypted and kept forever.
            execution_logs = log_group(
                f"{name}-{version}-execution", context,
                name=api.id.apply(lambda api_id, version=version: f"API-Gateway-Execution-Logs_{api_id}/{version}"),
                retention_days=settings.log_retention_days, key_arn=args.logs_key_arn,
                tags=conv.tags(f"{api_name}-execution"), parent=self)
            stage = aws.apigateway.Stage(
                f"{name}-{version}",
                rest_api=api.id,
                deployment=deployment.id,
                stage_name=version,
                description=f"Partner API {version}",
                xray_tracing_enabled=True,
                cache_cluster_enabled=False,
                access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                    destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT),
                region=region,
                tags=conv.tags(f"{api_name}-{version}", {"api-version": version}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[execution_logs, *([account] if account else [])]),
            )
            aws.apigateway.MethodSettings(
                f"{name}-{version}-all",
                rest_api=api.id,
                stage_name=stage.stage_name,
                method_path="*/*",
                settings=method_settings(settings),
                region=region,
                opts=child,
            )
            paths = {(path, method) for path, method, _ in operations(source)}
            for throttled in settings.method_throttling:
                if (throttled.path, throttled.method) not in paths:
                    raise ValueError(f"retail:api.methodThrottling names {throttled.method} {throttled.path}, which "
                                     f"is not an operation of {document_path(version).name}")
                aws.apigateway.MethodSettings(
                    f"{name}-{version}-{throttled.method.lower()}-{throttled.path.strip('/').replace('/', '-')}",
                    rest_api=api.id,
                    stage_name=stage.stage_name,
                    method_path=throttled.method_path,
                    settings=method_settings(settings, throttled.throttle.rate_limit, throttled.throttle.burst_limit),
                    region=region,
                    opts=child,
                )
            aws.wafv2.WebAclAssociation(
                f"{name}-{version}-waf",
                resource_arn=stage.arn,
                web_acl_arn=args.web_acl_arn,
                region=region,
                opts=child,
            )
            self.apis[version], self.stages[version], self._deployments[version] = api, stage, deployment

        self.usage_plans = {}
        for tier in settings.tiers:
            plan_name = conv.physical_name("partners", tier.name)
            self.usage_plans[tier.name] = aws.apigateway.UsagePlan(
                f"{name}-{tier.name}",
                name=plan_name,
                description=f"Partner tier {tier.name}",
                api_stages=[aws.apigateway.UsagePlanApiStageArgs(
                    api_id=self.apis[version].id,
                    stage=self.stages[version].stage_name,
                    throttles=[aws.apigateway.UsagePlanApiStageThrottleArgs(
                        path=f"{m.path}/{m.method}", rate_limit=m.throttle.rate_limit,
                        burst_limit=m.throttle.burst_limit) for m in settings.method_throttling] or None,
                ) for version in settings.versions],
                quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(
                    limit=tier.quota.limit, period=tier.quota.period),
                throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                    rate_limit=tier.throttle.rate_limit, burst_limit=tier.throttle.burst_limit),
                region=region,
                tags=conv.tags(plan_name, {"partner-tier": tier.name}),
                opts=child,
            )
        self.api_keys = {}
        for partner in settings.partners:
            key_name = conv.physical_name("partner", partner.name)
            key = aws.apigateway.ApiKey(
                f"{name}-{partner.name}",
                name=key_name,
                description=f"Usage identifier of partner {partner.name} (not its authentication)",
                enabled=True,
                customer_id=partner.name,
                region=region,
                tags=conv.tags(key_name, {"partner": partner.name, "partner-tier": partner.tier}),
                opts=child,
            )
            aws.apigateway.UsagePlanKey(
                f"{name}-{partner.name}",
                key_id=key.id,
                key_type="API_KEY",
                usage_plan_id=self.usage_plans[partner.tier].id,
                region=region,
                opts=child,
            )
            self.api_keys[partner.name] = key

        self.domain: aws.apigateway.DomainName | None = None
        if settings.domain is not None:
            domain = settings.domain
            self.domain = aws.apigateway.DomainName(
                f"{name}-domain",
                domain_name=domain.name,
                regional_certificate_arn=domain.certificate_arn,
                endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
                security_policy=TLS_POLICY,
                mutual_tls_authentication=aws.apigateway.DomainNameMutualTlsAuthenticationArgs(
                    truststore_uri=domain.truststore_uri, truststore_version=domain.truststore_version)
                if domain.truststore_uri else None,
                region=region,
                tags=conv.tags(domain.name),
                opts=child,
            )
            for version in settings.versions:
                aws.apigateway.BasePathMapping(
                    f"{name}-{version}",
                    domain_name=self.domain.domain_name,
                    rest_api=self.apis[version].id,
                    stage_name=self.stages[version].stage_name,
                    base_path=version,
                    region=region,
                    opts=child,
                )

        self.register_outputs({
            "restApiIds": {v: a.id for v, a in self.apis.items()},
            "stageInvokeUrls": {v: s.invoke_url for v, s in self.stages.items()},
            "usagePlanIds": {t: p.id for t, p in self.usage_plans.items()},
            "apiKeyIds": {p: k.id for p, k in self.api_keys.items()},
            "domainName": self.domain.domain_name if self.domain else None,
        })

    def _account_logging(self, name: str, context: StackContext) -> aws.apigateway.Account:
        conv = context.conventions
        role_name = conv.physical_name("apigw-cloudwatch")
        role = aws.iam.Role(
            f"{name}-cloudwatch",
            name=role_name,
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(service_trust_policy("apigateway.amazonaws.com", account))),
            tags=conv.tags(role_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        document = pulumi.Output.all(context.partition, context.account_id).apply(
            lambda v: cloudwatch_push_policy(v[0], context.region, v[1]))
        push = attach(f"{name}-cloudwatch-push", role, document, parent=role)
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            region=context.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[push]),
        )

    def grant_invoke(self, role: aws.iam.Role, operation: str, version: str = "v1") -> aws.iam.RolePolicy:
        """Let a SigV4 partner's role call one operation (its ``operationId``) of one version."""
        if version not in self.apis:
            raise KeyError(f"no version {version!r}; versions: {', '.join(self.apis)}")
        found = [(path, method) for path, method, op in operations(self.documents[version])
                 if op.get("operationId") == operation]
        if not found:
            ids = sorted(str(op.get("operationId")) for _, _, op in operations(self.documents[version]))
            raise KeyError(f"no operation {operation!r} in partners-{version}; operations: {', '.join(ids)}")
        path, method = found[0]
        document = self.apis[version].execution_arn.apply(
            lambda arn: invoke_policy(arn, version, method, path))
        return attach(f"{self._name}-{version}-{operation}-invoke-{role._name}", role, document, parent=role)
