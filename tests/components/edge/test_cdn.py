"""The Cdn component (CloudFront), built alone under the project's mocks."""

from __future__ import annotations

import json
from functools import cache

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.compliance import CONTROL_EXCEPTIONS_TAG
from components.common.conventions import STANDARD_TAG_KEYS
from components.edge.cdn import (
    ASSETS_PATH_PATTERN,
    AssetsBucket,
    Cdn,
    CdnArgs,
    assets_bucket_policy_statement,
    assets_key_policy_statement,
    cloudfront_log_delivery_acl_check_statement,
    cloudfront_log_delivery_write_statement,
)
from config.loader import parse_stack_config
from config.stack import StackConfig
from tests.support import PROJECT, stack_context

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
REQUEST_POLICY = "aws:cloudfront/originRequestPolicy:OriginRequestPolicy"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
CERTIFICATE = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"
SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
SHIELD = "aws:shield/protection:Protection"

REGION = "eu-west-1"
ASSETS = AssetsBucket(name=f"retail-prod-assets-{ACCOUNT_ID}", arn=f"arn:aws:s3:::retail-prod-assets-{ACCOUNT_ID}",
                      regional_domain_name=f"retail-prod-assets-{ACCOUNT_ID}.s3.{REGION}.amazonaws.com")
LOGS_ARN = f"arn:aws:s3:::retail-prod-logs-{ACCOUNT_ID}"
WEB_ACL = f"arn:aws:wafv2:us-east-1:{ACCOUNT_ID}:global/webacl/retail-prod-cdn-waf/1a2b3c4d5e6f7a8b"
ORIGIN = "origin.shop.example.com"
SECRET = "Q3xv9TqLk2mZ8rWbN4yHc7JdF6sGa1Pe"
DOMAIN = {"zoneName": "example.com", "recordName": "shop.example.com"}
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def unsecret(value):
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def stack_config(stack: str, **edge_overrides) -> StackConfig:
    raw = PROJECT.stack_config(stack)
    edge = json.loads(raw.get("retail:edge", "{}"))
    raw["retail:edge"] = json.dumps({**edge, **edge_overrides})
    return parse_stack_config(raw)


@cache
def built(stack: str = "prod", with_domain: bool = True, geo: bool = False, shield: bool = False) -> ResourceGraph:
    overrides: dict = {}
    if with_domain:
        overrides["domain"] = DOMAIN
    if geo:
        overrides["geoRestriction"] = {"type": "whitelist", "locations": ["DE", "FR", "NL"]}
    if shield:
        overrides["shieldAdvanced"] = True
    config = stack_config(stack, **overrides)

    def program() -> None:
        Cdn("cdn",
            stack_context(conventions=config.conventions(stack)),
            CdnArgs(
                settings=config.edge,
                assets_bucket=ASSETS,
                web_acl_arn=WEB_ACL,
                logs_bucket_arn=LOGS_ARN,
                origin_domain_name=ORIGIN if with_domain else None,
                origin_secret=SECRET if with_domain else None,
                services=config.services,
            ))

    return run_program(program, project="retail", stack=stack, config={"aws:region": config.region})


def distribution(g: ResourceGraph) -> Resource:
    return g.one(DISTRIBUTION)


def origins(g: ResourceGraph) -> dict[str, dict]:
    return {o["originId"]: o for o in unsecret(distribution(g).inputs["origins"])}


def behaviours(g: ResourceGraph) -> dict[str, dict]:
    return {b["pathPattern"]: b for b in distribution(g).inputs.get("orderedCacheBehaviors", [])}


# -- distribution basics --------------------------------------------------------------------

def test_distribution_basics_and_controls():
    g = built()
    inputs = distribution(g).inputs
    assert inputs["enabled"] is True
    assert inputs["httpVersion"] == "http2and3"
    assert inputs["isIpv6Enabled"] is True
    assert inputs["defaultRootObject"] == "index.html"  # CloudFront.1
    assert inputs["webAclId"] == WEB_ACL  # CloudFront.6
    assert inputs["priceClass"] == "PriceClass_200"
    assert "loggingConfig" not in inputs  # v2 logging instead (ACLs are off on the logs bucket)
    assert set(STANDARD_TAG_KEYS) <= set(inputs["tags"])


def test_every_behaviour_is_https_only_for_viewers():  # CloudFront.3
    g = built()
    inputs = distribution(g).inputs
    policies = [inputs["defaultCacheBehavior"]["viewerProtocolPolicy"]]
    policies += [b["viewerProtocolPolicy"] for b in inputs["orderedCacheBehaviors"]]
    assert set(policies) == {"redirect-to-https"}


def test_assets_come_through_origin_access_control():  # CloudFront.13
    g = built()
    assets = origins(g)["assets"]
    assert assets["domainName"] == ASSETS.regional_domain_name
    assert assets["originAccessControlId"] == g.one(OAC).id
    oac = g.one(OAC).inputs
    assert (oac["originAccessControlOriginType"], oac["signingBehavior"], oac["signingProtocol"]) == (
        "s3", "always", "sigv4")


def test_alb_origin_is_https_only_tls12_with_the_secret_header():  # CloudFront.9/.10
    alb = origins(built())["alb"]
    assert alb["domainName"] == ORIGIN
    custom = alb["customOriginConfig"]
    assert custom["originProtocolPolicy"] == "https-only"
    assert custom["originSslProtocols"] == ["TLSv1.2"]
    assert alb["customHeaders"] == [{"name": "X-Origin-Verify", "value": SECRET}]
    assert distribution(built()).inputs["origins"] != unsecret(distribution(built()).inputs["origins"])


def test_storefront_owns_the_default_and_assets_move_under_assets():
    g = built()
    inputs = distribution(g).inputs
    assert inputs["defaultCacheBehavior"]["targetOriginId"] == "alb"
    ordered = inputs["orderedCacheBehaviors"]
    assert ordered[0]["pathPattern"] == ASSETS_PATH_PATTERN and ordered[0]["targetOriginId"] == "assets"
    shop = behaviours(g)
    for path in ("/cart", "/cart/*", "/catalog", "/catalog/*", "/checkout", "/checkout/*"):
        assert shop[path]["targetOriginId"] == "alb"
        assert set(shop[path]["allowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}


def test_cache_policies():
    g = built()
    policies = {r.name: r.inputs for r in g.of_type(CACHE_POLICY)}
    static, dynamic = policies["cdn-static"], policies["cdn-dynamic"]
    assert (static["defaultTtl"], static["maxTtl"]) == (86_400, 31_536_000)
    key = static["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["enableAcceptEncodingGzip"] is True and key["enableAcceptEncodingBrotli"] is True
    assert key["cookiesConfig"] == {"cookieBehavior": "none"}
    assert dynamic["defaultTtl"] == 0 and dynamic["minTtl"] == 0
    dynamic_key = dynamic["parametersInCacheKeyAndForwardedToOrigin"]
    assert dynamic_key["cookiesConfig"] == {"cookieBehavior": "whitelist", "cookies": {"items": ["session", "cart"]}}
    assert dynamic_key["headersConfig"] == {"headerBehavior": "whitelist", "headers": {"items": ["Accept-Language"]}}
    default = distribution(g).inputs["defaultCacheBehavior"]
    assert default["cachePolicyId"] == g.one(CACHE_POLICY, "cdn-dynamic").id


def test_origin_request_policy_forwards_everything_but_host():
    policy = built().one(REQUEST_POLICY).inputs
    assert policy["headersConfig"] == {"headerBehavior": "allExcept", "headers": {"items": ["Host"]}}


def test_security_headers_on_every_behaviour():
    g = built()
    headers = g.one(HEADERS_POLICY).inputs["securityHeadersConfig"]
    assert headers["strictTransportSecurity"] == {"accessControlMaxAgeSec": 31_536_000, "includeSubdomains": True,
                                                  "preload": True, "override": True}
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"]["frameOption"] == "DENY"
    assert headers["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    assert headers["contentSecurityPolicy"]["contentSecurityPolicy"].startswith("default-src 'self'")
    assert headers["xssProtection"]["protection"] is True
    policy_id = g.one(HEADERS_POLICY).id
    inputs = distribution(g).inputs
    for behaviour in [inputs["defaultCacheBehavior"], *inputs["orderedCacheBehaviors"]]:
        assert behaviour["responseHeadersPolicyId"] == policy_id


# -- TLS and DNS ----------------------------------------------------------------------------

def test_custom_domain_uses_a_us_east_1_certificate_with_sni_and_tls12_2021():  # CloudFront.7/.8/.15
    g = built()
    inputs = distribution(g).inputs
    certificate = g.one(CERTIFICATE)
    assert certificate.inputs["region"] == "us-east-1"
    assert certificate.inputs["domainName"] == "shop.example.com"
    viewer = inputs["viewerCertificate"]
    assert viewer["acmCertificateArn"].startswith(f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/")
    assert viewer["sslSupportMethod"] == "sni-only"
    assert viewer["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert "cloudfrontDefaultCertificate" not in viewer
    assert inputs["aliases"] == ["shop.example.com"]
    assert CONTROL_EXCEPTIONS_TAG not in inputs["tags"]


def test_alias_records_point_at_the_distribution():
    g = built()
    aliases = {r.inputs["type"]: r.inputs for r in g.of_type(RECORD) if "aliases" in r.inputs}
    assert set(aliases) == {"A", "AAAA"}
    for record in aliases.values():
        assert record["name"] == "shop.example.com"
        assert record["aliases"][0]["name"].endswith(".cloudfront.net")
        assert record["aliases"][0]["zoneId"] == "Z2FDTNDATAQYW2"


# -- logging, geo, shield -------------------------------------------------------------------

def test_standard_logging_v2_to_the_logs_bucket_from_us_east_1():  # CloudFront.5
    g = built()
    source, destination, delivery = g.one(SOURCE), g.one(DESTINATION), g.one(DELIVERY)
    assert {source.inputs["region"], destination.inputs["region"], delivery.inputs["region"]} == {"us-east-1"}
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert source.inputs["resourceArn"].startswith(f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/")
    assert destination.inputs["deliveryDestinationConfiguration"] == {"destinationResourceArn": LOGS_ARN}
    assert delivery.inputs["deliverySourceName"] == source.inputs["name"]


def test_geo_restriction_from_config_or_none():
    none = distribution(built()).inputs["restrictions"]["geoRestriction"]
    assert none["restrictionType"] == "none"
    geo = distribution(built(geo=True)).inputs["restrictions"]["geoRestriction"]
    assert geo == {"restrictionType": "whitelist", "locations": ["DE", "FR", "NL"]}


def test_shield_advanced_protects_the_distribution_only_when_configured():
    assert built().of_type(SHIELD) == []
    [protection] = built(shield=True).of_type(SHIELD)
    assert protection.inputs["resourceArn"].startswith(f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/")


# -- without a domain -----------------------------------------------------------------------

def test_without_a_domain_only_assets_are_served_with_the_default_certificate():
    g = built("dev", with_domain=False)
    inputs = distribution(g).inputs
    assert set(origins(g)) == {"assets"}
    assert inputs["defaultCacheBehavior"]["targetOriginId"] == "assets"
    assert inputs.get("orderedCacheBehaviors", []) == []
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert inputs["tags"][CONTROL_EXCEPTIONS_TAG] == "CloudFront.7 CloudFront.8 CloudFront.15"
    assert g.of_type(CERTIFICATE) == [] and g.of_type(RECORD) == []
    assert any("static assets only" in w for w in g.warnings)
    assert inputs["webAclId"] == WEB_ACL and inputs["defaultRootObject"] == "index.html"


# -- policy statements ----------------------------------------------------------------------

def test_assets_statements_name_the_distribution():
    dist = f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/E2EXAMPLE"
    statement = assets_bucket_policy_statement(ASSETS.arn, dist)
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == ["s3:GetObject"] and statement["Resource"] == [f"{ASSETS.arn}/*"]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": dist}}
    key = assets_key_policy_statement(dist)
    assert key["Action"] == ["kms:Decrypt"] and key["Condition"] == {"StringEquals": {"AWS:SourceArn": dist}}


def test_log_delivery_statements_are_scoped_to_this_account():
    write = cloudfront_log_delivery_write_statement(LOGS_ARN, "aws", ACCOUNT_ID)
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"] == [f"{LOGS_ARN}/AWSLogs/{ACCOUNT_ID}/CloudFront/*"]
    assert write["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID,
                                                  "s3:x-amz-acl": "bucket-owner-full-control"}
    assert write["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:delivery-source:*"}
    check = cloudfront_log_delivery_acl_check_statement(LOGS_ARN, "aws", ACCOUNT_ID)
    assert check["Resource"] == [LOGS_ARN] and set(check["Action"]) == {"s3:GetBucketAcl", "s3:ListBucket"}
    assert write["Sid"] != check["Sid"]


def test_logs_bucket_statements_merge_into_the_object_store_policy():
    from components.data.bucket_policies import bucket_policy
    from components.edge.cdn import CLOUDFRONT_LOG_DELIVERY_STATEMENTS
    from components.edge.load_balancer import alb_log_delivery_statement

    builders = (alb_log_delivery_statement(REGION), *CLOUDFRONT_LOG_DELIVERY_STATEMENTS)
    document = bucket_policy(LOGS_ARN, None, account_id=ACCOUNT_ID, access_log_sources=[ASSETS.arn],
                             extra_statements=[build(LOGS_ARN, "aws", ACCOUNT_ID) for build in builders])
    sids = [s["Sid"] for s in document["Statement"]]
    expected = {"AllowAlbAccessLogDelivery", "AllowCloudFrontLogDelivery", "AllowCloudFrontLogDeliveryAclCheck"}
    assert expected <= set(sids)
