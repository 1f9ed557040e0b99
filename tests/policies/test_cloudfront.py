"""CloudFront.1/3/5/6/7/8/9/10/13/15, with the no-custom-domain exception; the whole edge
(CloudFront, the ALB and their WAF web ACLs) against the whole pack."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.common import compliance
from policies import exceptions
from policies.offline import evaluate
from policies.registry import POLICIES
from tests.policies.builders import (
    ALB_ORIGIN,
    CUSTOM_CERT,
    DEFAULT_CERT,
    DISTRIBUTION,
    LOG_DELIVERY,
    LOG_SOURCE,
    S3_ORIGIN,
    distribution_props,
    edge_stack,
)

CERT_EXCEPTIONS = ("CloudFront.7", "CloudFront.8", "CloudFront.15")


@pytest.fixture
def accept_cert_exceptions(monkeypatch):
    """The registry with the no-custom-domain exceptions added, as the platform will."""
    patched = MappingProxyType({**compliance.ACCEPTED_EXCEPTIONS, **{
        control: "a distribution without a custom domain can only serve CloudFront's default "
                 "*.cloudfront.net certificate" for control in CERT_EXCEPTIONS}})
    monkeypatch.setattr(compliance, "ACCEPTED_EXCEPTIONS", patched)
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS", patched)


@pytest.fixture
def refuse_cert_exceptions(monkeypatch):
    """The registry without the no-custom-domain exceptions, whatever it holds today."""
    patched = MappingProxyType({control: reason for control, reason in compliance.ACCEPTED_EXCEPTIONS.items()
                                if control not in CERT_EXCEPTIONS})
    monkeypatch.setattr(compliance, "ACCEPTED_EXCEPTIONS", patched)
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS", patched)


ALL_CERT_EXCEPTIONS = " ".join(CERT_EXCEPTIONS)


def no_domain_props(tags, exceptions=ALL_CERT_EXCEPTIONS):
    props = distribution_props({**tags, "control-exceptions": exceptions},
                               viewerCertificate=DEFAULT_CERT)
    del props["aliases"]
    return props


def test_compliant_edge_passes_the_whole_pack(snap, tags):
    assert evaluate(edge_stack(snap, tags), POLICIES).violations == []


def test_no_domain_distribution_passes_the_whole_pack_once_exceptions_are_accepted(
    snap, tags, accept_cert_exceptions
):
    resources = [snap(DISTRIBUTION, "cdn", no_domain_props(tags())), *edge_stack(snap, tags)[1:]]
    assert evaluate(resources, POLICIES).violations == []


# --- CloudFront.1 / .3 / .6 / .9 / .10 / .13 ------------------------------------------------


@pytest.mark.parametrize("policy", ["cloudfront-default-root-object", "cloudfront-viewer-https", "cloudfront-waf",
                                    "cloudfront-origin-https", "cloudfront-origin-tls",
                                    "cloudfront-s3-origin-access-control", "cloudfront-custom-certificate",
                                    "cloudfront-sni", "cloudfront-viewer-tls-policy",
                                    "cloudfront-access-logging"])
def test_compliant_distribution_passes(snap, tags, run_policy, policy):
    assert run_policy(policy, [snap(DISTRIBUTION, "cdn", distribution_props(tags()))]).violations == []


def test_missing_default_root_object_fails(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["defaultRootObject"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-default-root-object", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "default_root_object='index.html'" in violation.message


def test_plain_http_viewers_fail_per_behaviour(snap, tags, run_policy):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(
        tags(), defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"},
        orderedCacheBehaviors=[{"pathPattern": "/api/*", "viewerProtocolPolicy": "allow-all"}]))
    first, second = run_policy("cloudfront-viewer-https", [cdn]).violations
    assert first.urn == second.urn == cdn.urn
    assert first.message.startswith("default cache behavior has viewer_protocol_policy='allow-all'")
    assert second.message.startswith("ordered cache behavior /api/* has")
    assert "viewer_protocol_policy='redirect-to-https'" in second.message


def test_waf_arn_unknown_at_preview_passes(snap, tags, run_policy):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), webAclId=UNKNOWN_STRING_VALUE))
    assert run_policy("cloudfront-waf", [cdn]).violations == []


@pytest.mark.parametrize(("acl", "says"), [(None, "has no WAF web ACL"),
                                           ("a1b2c3d4-classic", "is not a WAFv2 web ACL ARN")])
def test_distribution_without_wafv2_fails(snap, tags, run_policy, acl, says):
    props = distribution_props(tags())
    if acl is None:
        del props["webAclId"]
    else:
        props["webAclId"] = acl
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-waf", [cdn]).violations
    assert violation.urn == cdn.urn
    assert says in violation.message and "aws.wafv2.WebAcl" in violation.message


@pytest.mark.parametrize("policy", ["http-only", "match-viewer"])
def test_custom_origin_over_http_fails(snap, tags, run_policy, policy):
    origin = {**ALB_ORIGIN, "customOriginConfig": {**ALB_ORIGIN["customOriginConfig"],
                                                   "originProtocolPolicy": policy}}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[origin, S3_ORIGIN]))
    [violation] = run_policy("cloudfront-origin-https", [cdn]).violations
    assert violation.urn == cdn.urn
    assert f"origin alb has origin_protocol_policy={policy!r}" in violation.message
    assert "origin_protocol_policy='https-only'" in violation.message


def test_custom_origin_with_deprecated_tls_fails(snap, tags, run_policy):
    origin = {**ALB_ORIGIN, "customOriginConfig": {**ALB_ORIGIN["customOriginConfig"],
                                                   "originSslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"]}}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[origin]))
    [violation] = run_policy("cloudfront-origin-tls", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "origin alb allows TLSv1, TLSv1.1" in violation.message
    assert "origin_ssl_protocols=['TLSv1.2']" in violation.message


@pytest.mark.parametrize("origin", [{"originId": "assets", "domainName": "a.s3.amazonaws.com"},
                                    {"originId": "assets", "domainName": "a.s3.amazonaws.com",
                                     "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/x"}}],
                         ids=["nothing", "legacy-oai"])
def test_s3_origin_without_oac_fails(snap, tags, run_policy, origin):
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(tags(), origins=[ALB_ORIGIN, origin]))
    [violation] = run_policy("cloudfront-s3-origin-access-control", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "S3 origin assets has no origin access control" in violation.message
    assert "origin_access_control_id=oac.id" in violation.message


# --- CloudFront.5 ---------------------------------------------------------------------------


def logging_v2(snap, cdn, delivered=True, log_type="ACCESS_LOGS"):
    source = snap(LOG_SOURCE, "cdn-logs", {"logType": log_type, "resourceArn": "arn:cdn", "name": "cdn"},
                  property_dependencies={"resourceArn": (cdn.urn,)})
    delivery = snap(LOG_DELIVERY, "cdn-delivery", {"deliverySourceName": "cdn", "deliveryDestinationArn": "arn:d"},
                    property_dependencies={"deliverySourceName": (source.urn,)})
    return [source, delivery] if delivered else [source]


def test_standard_logging_v2_passes(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    assert run_policy("cloudfront-access-logging", [cdn, *logging_v2(snap, cdn)]).violations == []


def test_distribution_without_logging_fails_on_the_distribution(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [violation] = run_policy("cloudfront-access-logging", [cdn]).violations
    assert violation.urn == cdn.urn
    assert "distribution cdn writes no access logs" in violation.message
    assert "resource_arn=distribution.arn and log_type='ACCESS_LOGS'" in violation.message


def test_log_source_without_delivery_fails_on_the_source(snap, tags, run_policy):
    props = distribution_props(tags())
    del props["loggingConfig"]
    cdn = snap(DISTRIBUTION, "cdn", props)
    [source] = logging_v2(snap, cdn, delivered=False)
    [violation] = run_policy("cloudfront-access-logging", [cdn, source]).violations
    assert violation.urn == source.urn
    assert "delivers nowhere; add an aws.cloudwatch.LogDelivery" in violation.message


# --- CloudFront.7 / .8 / .15 and their exceptions -------------------------------------------


@pytest.mark.parametrize(("policy", "control"), [("cloudfront-custom-certificate", "CloudFront.7"),
                                                 ("cloudfront-sni", "CloudFront.8"),
                                                 ("cloudfront-viewer-tls-policy", "CloudFront.15")])
def test_default_certificate_fails_without_an_accepted_exception(snap, tags, run_policy, policy, control,
                                                                refuse_cert_exceptions):
    # Tagged, but the registry does not accept the exception.
    cdn = snap(DISTRIBUTION, "cdn", no_domain_props(tags()))
    [violation] = run_policy(policy, [cdn]).violations
    assert violation.urn == cdn.urn
    assert "viewer_certificate={'acm_certificate_arn'" in violation.message
    assert f"accepted exception {control}: tag it control-exceptions='{control}'" in violation.message


@pytest.mark.parametrize("policy", ["cloudfront-custom-certificate", "cloudfront-sni",
                                    "cloudfront-viewer-tls-policy"])
def test_default_certificate_passes_under_the_accepted_exception(snap, tags, run_policy, policy,
                                                                 accept_cert_exceptions):
    assert run_policy(policy, [snap(DISTRIBUTION, "cdn", no_domain_props(tags()))]).violations == []


def test_exception_for_another_control_does_not_count(snap, tags, run_policy, accept_cert_exceptions):
    cdn = snap(DISTRIBUTION, "cdn", no_domain_props(tags(), exceptions="CloudFront.8 CloudFront.15"))
    [violation] = run_policy("cloudfront-custom-certificate", [cdn]).violations
    assert violation.urn == cdn.urn


def test_exception_does_not_excuse_a_custom_certificate_misconfigured(snap, tags, run_policy,
                                                                      accept_cert_exceptions):
    cert = {**CUSTOM_CERT, "sslSupportMethod": "vip", "minimumProtocolVersion": "TLSv1"}
    cdn = snap(DISTRIBUTION, "cdn", distribution_props(
        {**tags(), "control-exceptions": " ".join(CERT_EXCEPTIONS)}, viewerCertificate=cert))
    [sni] = run_policy("cloudfront-sni", [cdn]).violations
    assert "ssl_support_method is 'vip'" in sni.message and "ssl_support_method='sni-only'" in sni.message
    [tls] = run_policy("cloudfront-viewer-tls-policy", [cdn]).violations
    assert "minimum_protocol_version is 'TLSv1'" in tls.message
    assert "minimum_protocol_version='TLSv1.2_2021'" in tls.message


# --- CloudFront.13 with SSE-KMS: the bucket's key admits the distribution --------------------

OAC_KMS = "cloudfront-oac-kms-key-admits-distribution"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
S3_BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
CDN_ARN = "arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*", "Resource": "*"}


def cloudfront_decrypt(condition=None, action=("kms:Decrypt",)):
    return {"Sid": "CloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": list(action), "Resource": "*",
            "Condition": condition or {"StringEquals": {"AWS:SourceArn": CDN_ARN}}}


def key_doc(*extra):
    return json.dumps({"Version": "2012-10-17", "Statement": [ROOT, *extra]})


def oac_stack(snap, tags, *, key_statements=(), key_policy_statements=None, distribution_arn=None,
              origins=None):
    """Key -> SSE on the assets bucket -> distribution origin (with OAC); optionally a KeyPolicy
    whose policy input came from the distribution."""
    key = snap(KMS_KEY, "data", {"policy": key_doc(*key_statements), "enableKeyRotation": True})
    bucket = snap(S3_BUCKET, "assets", {"bucket": "assets", "tags": tags()})
    sse = snap(SSE, "assets-encryption",
               {"bucket": "assets", "rules": [{"applyServerSideEncryptionByDefault": {
                   "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-west-1:111122223333:key/k"}}]},
               property_dependencies={"bucket": (bucket.urn,), "rules": (key.urn,)})
    oac = snap(OAC, "cdn", {"originAccessControlOriginType": "s3"})
    props = distribution_props(tags(), origins=origins or [ALB_ORIGIN, S3_ORIGIN])
    if distribution_arn is not None:
        props["arn"] = distribution_arn
    cdn = snap(DISTRIBUTION, "cdn", props, property_dependencies={"origins": (bucket.urn, oac.urn)})
    resources = [key, bucket, sse, oac, cdn]
    if key_policy_statements is not None:
        resources.append(snap(KMS_KEY_POLICY, "data", {"keyId": "k", "policy": key_doc(*key_policy_statements)},
                              property_dependencies={"keyId": (key.urn,), "policy": (cdn.urn,)}))
    return resources


def test_key_policy_admitting_the_distribution_passes(snap, tags, run_policy):
    resources = oac_stack(snap, tags, key_policy_statements=[cloudfront_decrypt()])
    assert run_policy(OAC_KMS, resources).violations == []


def test_key_own_policy_admitting_the_known_distribution_arn_passes(snap, tags, run_policy):
    resources = oac_stack(snap, tags, key_statements=[cloudfront_decrypt()], distribution_arn=CDN_ARN)
    assert run_policy(OAC_KMS, resources).violations == []


def test_key_without_a_cloudfront_statement_fails_on_the_key(snap, tags, run_policy):
    resources = oac_stack(snap, tags)
    [violation] = run_policy(OAC_KMS, resources).violations
    assert violation.urn == resources[0].urn
    assert "KMS key data encrypts bucket assets, which distribution cdn reads through origin access control" \
        in violation.message
    assert "AWS:SourceArn" in violation.message


@pytest.mark.parametrize("statement", [
    pytest.param(cloudfront_decrypt({"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/*"}}),
                 id="any-distribution-of-the-account"),
    pytest.param(cloudfront_decrypt(action=("kms:Encrypt",)), id="not-decrypt"),
    pytest.param({**cloudfront_decrypt(), "Principal": {"Service": "s3.amazonaws.com"}}, id="another-service"),
    pytest.param({**cloudfront_decrypt(), "Effect": "Deny"}, id="a-deny"),
])
def test_key_policy_that_does_not_admit_exactly_the_distribution_fails_on_the_key_policy(snap, tags, run_policy,
                                                                                         statement):
    resources = oac_stack(snap, tags, key_policy_statements=[statement])
    [violation] = run_policy(OAC_KMS, resources).violations
    assert violation.urn == resources[-1].urn


def test_key_admitting_another_distribution_fails(snap, tags, run_policy):
    other = cloudfront_decrypt({"StringEquals": {"AWS:SourceArn": CDN_ARN.replace("E2EXAMPLE", "EOTHER")}})
    resources = oac_stack(snap, tags, key_statements=[other], distribution_arn=CDN_ARN)
    [violation] = run_policy(OAC_KMS, resources).violations
    assert violation.urn == resources[0].urn


def test_key_policy_naming_a_distribution_it_did_not_come_from_fails(snap, tags, run_policy):
    # The ARN looks right, but nothing ties it to this distribution (and its ARN is unknown).
    resources = oac_stack(snap, tags, key_statements=[cloudfront_decrypt()])
    assert [v.urn for v in run_policy(OAC_KMS, resources).violations] == [resources[0].urn]


def test_secret_wrapped_origins_are_read(snap, tags, run_policy):
    # The offline plan hands origins over in the RPC secret wrapper (the ALB origin's header).
    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
               "value": [ALB_ORIGIN, S3_ORIGIN]}
    resources = oac_stack(snap, tags, origins=wrapped)
    assert len(run_policy(OAC_KMS, resources).violations) == 1


def test_bucket_read_without_oac_is_not_this_policys_concern(snap, tags, run_policy):
    without_oac = {k: v for k, v in S3_ORIGIN.items() if k != "originAccessControlId"}
    resources = oac_stack(snap, tags, origins=[ALB_ORIGIN, without_oac])
    assert run_policy(OAC_KMS, resources).violations == []


def test_no_distribution_is_not_applicable(snap, tags, run_policy):
    resources = [r for r in oac_stack(snap, tags) if r.type != DISTRIBUTION]
    report = run_policy(OAC_KMS, resources)
    assert report.violations == [] and report.evaluated == [OAC_KMS]
