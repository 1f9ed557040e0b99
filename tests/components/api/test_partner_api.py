"""The PartnerApi component (API Gateway REST APIs from apis/*.yaml), built alone under mocks."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.api.partner_api import (
    API_KEY_SCHEME,
    AUTH_SCHEME,
    PartnerApi,
    PartnerApiArgs,
    cloudwatch_push_policy,
    invoke_policy,
    load_document,
    operations,
)
from components.api.settings import ApiConfig
from components.common.conventions import STANDARD_TAG_KEYS
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

REGION = "eu-west-1"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
WEB_ACL = f"arn:aws:wafv2:{REGION}:{ACCOUNT_ID}:regional/webacl/retail-prod-edge/1234"
NLB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/net/retail-prod-int/50dc6c495c0c9188"
CERT = f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/11111111-2222-3333-4444-555555555555"
TRUSTSTORE = "s3://retail-prod-truststores/partners.pem"

REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
API_KEY = "aws:apigateway/apiKey:ApiKey"
USAGE_PLAN_KEY = "aws:apigateway/usagePlanKey:UsagePlanKey"
DOMAIN = "aws:apigateway/domainName:DomainName"
MAPPING = "aws:apigateway/basePathMapping:BasePathMapping"
VPC_LINK = "aws:apigateway/vpcLink:VpcLink"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

BACKENDS = {"getInventory": "catalog", "getOrderStatus": "checkout", "getCatalogue": "catalog"}
BACKEND_URLS = {operation: f"https://partners-backend.shop.example.com:{10001 if service == 'catalog' else 10002}"
                for operation, service in BACKENDS.items()}

PRESET: dict[str, Any] = {
    "backends": BACKENDS,
    "tiers": [
        {"name": "standard", "quota": {"limit": 100000, "period": "DAY"},
         "throttle": {"rateLimit": 20, "burstLimit": 40}},
        {"name": "premium", "quota": {"limit": 2000000, "period": "DAY"},
         "throttle": {"rateLimit": 200, "burstLimit": 400}},
    ],
    "partners": [{"name": "acme-logistics", "tier": "standard"}, {"name": "big-marketplace", "tier": "premium"}],
    "methodThrottling": [{"path": "/catalogue", "method": "GET", "throttle": {"rateLimit": 2, "burstLimit": 5}}],
}


def settings(**overrides: Any) -> ApiConfig:
    return ApiConfig.model_validate({**PRESET, **overrides})


def build(stack: str = "prod", api: ApiConfig | None = None) -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config(stack))

    def program() -> None:
        PartnerApi("partners", stack_context(conventions=config.conventions(stack), region=REGION,
                                             protect=config.is_prod),
                   PartnerApiArgs(settings=api or settings(), logs_key_arn=LOGS_KEY, web_acl_arn=WEB_ACL,
                                  nlb_arn=NLB, backend_urls=BACKEND_URLS))

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


@cache
def built(stack: str = "prod") -> ResourceGraph:
    return build(stack)


@cache
def with_domain() -> ResourceGraph:
    return build("prod", settings(domain={"name": "partners.example.com", "certificateArn": CERT,
                                          "truststoreUri": TRUSTSTORE}))


def body(graph: ResourceGraph) -> dict[str, Any]:
    return json.loads(graph.one(REST_API).inputs["body"])


def test_the_api_is_the_openapi_document_plus_gateway_extensions():
    document, source = body(built()), load_document("v1")
    # Every path and operation of the document, and only those: the document is the source.
    assert {(p, m) for p, m, _ in operations(document)} == {(p, m) for p, m, _ in operations(source)} == {
        ("/inventory", "GET"), ("/orders/{orderId}", "GET"), ("/catalogue", "GET")}
    assert document["components"]["schemas"] == source["components"]["schemas"]
    assert document["x-amazon-apigateway-request-validators"]["body-and-parameters"] == {
        "validateRequestBody": True, "validateRequestParameters": True}
    api = built().one(REST_API)
    assert api.inputs["failOnWarnings"] is True and api.inputs["endpointConfiguration"] == {"types": "REGIONAL"}


def test_every_operation_is_validated_signed_and_metered():
    document = body(built())
    schemes = document["components"]["securitySchemes"]
    assert schemes[AUTH_SCHEME]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert schemes[API_KEY_SCHEME] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    for path, method, operation in operations(document):
        # Both requirements in ONE security requirement object: SigV4 AND the key, never the key alone.
        assert operation["security"] == [{AUTH_SCHEME: [], API_KEY_SCHEME: []}], (path, method)
        assert operation["x-amazon-apigateway-request-validator"] == "body-and-parameters"


def test_cognito_authorizer_names_the_user_pool():
    pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{REGION}_abc123"
    document = body(build("prod", settings(authorization="cognito", cognitoUserPoolArn=pool)))
    scheme = document["components"]["securitySchemes"][AUTH_SCHEME]
    assert scheme["x-amazon-apigateway-authorizer"] == {"type": "cognito_user_pools", "providerARNs": [pool]}
    assert all(op["security"] == [{AUTH_SCHEME: [], API_KEY_SCHEME: []}] for _, _, op in operations(document))


def test_integrations_go_over_the_vpc_link_to_the_internal_nlb_only():
    graph = built()
    link = graph.one(VPC_LINK)
    assert link.inputs["targetArn"] == NLB
    for path, method, operation in operations(body(graph)):
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["connectionType"] == "VPC_LINK" and integration["connectionId"] == link.id
        assert integration["uri"] == f"{BACKEND_URLS[operation['operationId']]}{path}"
        assert integration["httpMethod"] == method
    order = body(graph)["paths"]["/orders/{orderId}"]["get"]["x-amazon-apigateway-integration"]
    assert order["requestParameters"] == {"integration.request.path.orderId": "method.request.path.orderId"}


def test_one_stage_per_version_with_a_deployment_keyed_on_the_document():
    graph = built()
    stage, deployment = graph.one(STAGE), graph.one(DEPLOYMENT)
    assert stage.inputs["stageName"] == "v1" and stage.inputs["xrayTracingEnabled"] is True
    assert stage.property_dependencies["deployment"] == (deployment.urn,)
    assert deployment.inputs["triggers"] == {
        "document": hashlib.sha256(graph.one(REST_API).inputs["body"].encode()).hexdigest()}


def test_access_logs_are_json_in_a_log_group_encrypted_with_our_logs_key():
    graph = built()
    stage = graph.one(STAGE)
    [access] = [g for g in graph.of_type(LOG_GROUP) if g.urn == stage.property_dependencies["accessLogSettings"][0]]
    assert access.inputs["kmsKeyId"] == LOGS_KEY and access.protect is True
    assert access.inputs["deletionProtectionEnabled"] is True
    fields = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert {"requestId", "status", "caller", "apiKeyId", "wafStatus"} <= set(fields)
    # The execution log group AWS writes to exists first, with our key and retention.
    [execution] = [g for g in graph.of_type(LOG_GROUP) if g.name.endswith("-execution")]
    assert execution.inputs["name"].startswith("API-Gateway-Execution-Logs_")
    assert execution.inputs["name"].endswith("/v1")
    assert execution.inputs["kmsKeyId"] == LOGS_KEY and execution.urn in stage.dependencies


def test_execution_logging_is_error_level_without_bodies_in_prod_and_metrics_on():
    settings_ = {s.inputs["methodPath"]: s.inputs["settings"] for s in built().of_type(METHOD_SETTINGS)}
    everything = settings_["*/*"]
    assert everything["loggingLevel"] == "ERROR" and everything["dataTraceEnabled"] is False
    assert everything["metricsEnabled"] is True and everything["cachingEnabled"] is False
    with pytest.raises(ValueError, match="dataTrace is true in prod"):
        build("prod", settings(dataTrace=True))


def test_the_catalogue_export_is_throttled_per_method_on_the_stage_and_in_every_plan():
    graph = built()
    catalogue = {s.inputs["methodPath"]: s.inputs["settings"] for s in graph.of_type(METHOD_SETTINGS)}[
        "catalogue/GET"]
    assert (catalogue["throttlingRateLimit"], catalogue["throttlingBurstLimit"]) == (2, 5)
    for plan in graph.of_type(USAGE_PLAN):
        [stage] = plan.inputs["apiStages"]
        assert stage["throttles"] == [{"path": "/catalogue/GET", "rateLimit": 2, "burstLimit": 5}]
    with pytest.raises(ValueError, match=r"not an operation of partners-v1\.yaml"):
        build("prod", settings(methodThrottling=[{"path": "/exports", "throttle": {"rateLimit": 1,
                                                                                   "burstLimit": 1}}]))


def test_usage_plans_per_tier_and_one_key_per_partner_in_its_tier():
    graph = built()
    plans = {p.inputs["name"]: p for p in graph.of_type(USAGE_PLAN)}
    standard, premium = plans["retail-prod-partners-standard"], plans["retail-prod-partners-premium"]
    assert standard.inputs["quotaSettings"] == {"limit": 100000, "period": "DAY"}
    assert standard.inputs["throttleSettings"] == {"rateLimit": 20, "burstLimit": 40}
    assert premium.inputs["quotaSettings"] == {"limit": 2000000, "period": "DAY"}
    keys = {k.urn: k for k in graph.of_type(API_KEY)}
    tier_of = {}
    for link in graph.of_type(USAGE_PLAN_KEY):
        [key_urn], [plan_urn] = link.property_dependencies["keyId"], link.property_dependencies["usagePlanId"]
        tier_of[keys[key_urn].inputs["customerId"]] = graph.by_urn[plan_urn].inputs["name"]
    assert tier_of == {"acme-logistics": "retail-prod-partners-standard",
                       "big-marketplace": "retail-prod-partners-premium"}
    # The key's value is AWS-generated: nothing secret is in the program or the state inputs.
    assert all("value" not in k.inputs for k in keys.values())


def test_waf_is_associated_with_every_stage():
    graph = built()
    [association] = graph.of_type(WAF_ASSOCIATION)
    assert association.inputs["webAclArn"] == WEB_ACL
    assert association.property_dependencies["resourceArn"] == (graph.one(STAGE).urn,)


def test_no_custom_domain_unless_configured():
    assert built().of_type(DOMAIN) == [] and built().one(REST_API).inputs["disableExecuteApiEndpoint"] is False


def test_custom_domain_is_tls_1_2_with_mutual_tls_and_no_bypass():
    graph = with_domain()
    domain = graph.one(DOMAIN)
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    assert domain.inputs["regionalCertificateArn"] == CERT
    assert domain.inputs["mutualTlsAuthentication"] == {"truststoreUri": TRUSTSTORE}
    [mapping] = graph.of_type(MAPPING)
    assert mapping.inputs["basePath"] == "v1" and mapping.inputs["stageName"] == "v1"
    # With mTLS the execute-api endpoint would let a partner in without a client certificate.
    assert graph.one(REST_API).inputs["disableExecuteApiEndpoint"] is True


def test_every_taggable_resource_has_the_standard_tags():
    graph = with_domain()
    taggable = [r for r in graph.resources if r.custom and "tags" in r.inputs]
    assert {r.type for r in taggable} >= {REST_API, STAGE, USAGE_PLAN, API_KEY, DOMAIN, VPC_LINK, LOG_GROUP}
    for resource in taggable:
        assert set(STANDARD_TAG_KEYS) <= set(resource.inputs["tags"]), resource.name
        assert resource.region == ("global" if resource.type.startswith("aws:iam/") else REGION)


def test_execution_log_role_is_for_api_gateway_of_this_account_and_only_its_log_groups():
    graph = built()
    role = graph.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    document = cloudwatch_push_policy("aws", REGION, ACCOUNT_ID)
    resources = [r for s in document["Statement"] for r in s["Resource"]]
    assert "*" not in resources and all(r.startswith(f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:")
                                        for r in resources)


def test_invoke_grant_names_one_operation_of_one_stage():
    api = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:a1b2c3d4e5"
    assert invoke_policy(api, "v1", "GET", "/orders/{orderId}") == {"Version": "2012-10-17", "Statement": [{
        "Sid": "InvokeOperation", "Effect": "Allow", "Action": ["execute-api:Invoke"],
        "Resource": [f"{api}/v1/GET/orders/*"]}]}


def test_grant_invoke_attaches_an_inline_policy_for_the_operation():
    config = parse_stack_config(PROJECT.stack_config("prod"))

    def program() -> None:
        component = PartnerApi("partners", stack_context(conventions=config.conventions("prod"), region=REGION),
                               PartnerApiArgs(settings=settings(), logs_key_arn=LOGS_KEY, web_acl_arn=WEB_ACL,
                                              nlb_arn=NLB, backend_urls=BACKEND_URLS,
                                              manage_account_logging=False))
        role = aws.iam.Role("acme", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        component.grant_invoke(role, "getInventory")
        with pytest.raises(KeyError, match="no operation 'deleteEverything'"):
            component.grant_invoke(role, "deleteEverything")
        pulumi.export("ok", True)

    graph = run_program(program, project="retail", stack="prod", config={"aws:region": REGION})
    [policy] = graph.of_type("aws:iam/rolePolicy:RolePolicy")
    [statement] = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Action"] == ["execute-api:Invoke"]
    assert len(statement["Resource"]) == 1 and statement["Resource"][0].endswith("/v1/GET/inventory")


@pytest.mark.parametrize("override, message", [
    ({"partners": [{"name": "acme", "tier": "gold"}]}, "tier\\(s\\) \\['gold'\\] that are not in tiers"),
    ({"authorization": "cognito"}, "cognitoUserPoolArn is not set"),
    ({"methodThrottling": [{"path": "/catalogue", "throttle": {"rateLimit": 500, "burstLimit": 5}}]},
     "above tier 'standard'"),
    ({"domain": {"name": "partners.example.com", "certificateArn": CERT, "truststoreUri": "https://x/ca.pem"}},
     "truststoreUri"),
    ({"versions": ["1"]}, "major versions such as 'v1'"),
    ({"apiKeysOnly": True}, "Extra inputs are not permitted"),
])
def test_settings_refuse_inconsistent_config_with_a_clear_fix(override, message):
    with pytest.raises(ValidationError, match=message):
        settings(**override)
