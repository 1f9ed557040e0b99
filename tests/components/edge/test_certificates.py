"""DNS-validated ACM certificates, built alone under the project's mocks: an ALB certificate in the
provider's region and a CloudFront certificate in us-east-1, side by side as the edge builds them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pulumi
import pulumi_aws as aws
import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import Conventions
from components.edge.certificates import KEY_ALGORITHM, VALIDATION_RECORD_TTL, dns_validated_certificate

CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
LISTENER_CERTIFICATE = "aws:lb/listenerCertificate:ListenerCertificate"
OWNER = "test:edge:Owner"

REGION = "eu-west-1"
CLOUDFRONT_REGION = "us-east-1"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
CONVENTIONS = Conventions(environment="prod", owner="platform-team@example.com", cost_center="cc-4100-prod",
                          data_classification="restricted", stack="prod")
#: name -> (domain, region), as the CDN and the load balancer ask for them.
CERTIFICATES = {
    "cdn-viewer": ("shop.example.com", CLOUDFRONT_REGION),
    "alb-origin": ("origin.shop.example.com", REGION),
}
LISTENER_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:listener/app/retail-prod-alb/0123456789abcdef"


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph

    def certificate(self, name: str) -> Resource:
        return self.graph.one(CERTIFICATE, name)

    def validation(self, name: str) -> Resource:
        return self.graph.one(VALIDATION, name)

    def record(self, name: str) -> Resource:
        return self.graph.one(RECORD, f"{name}-validation")


@cache
def built() -> Built:
    def program() -> None:
        owner = pulumi.ComponentResource(OWNER, "edge")
        for name, (domain, region) in CERTIFICATES.items():
            certificate = dns_validated_certificate(name, domain_name=domain, zone_id=ZONE_ID, region=region,
                                                    conventions=CONVENTIONS, parent=owner)
            # A user of the certificate, as a listener or a distribution takes it.
            aws.lb.ListenerCertificate(f"{name}-user", listener_arn=LISTENER_ARN, certificate_arn=certificate.arn)

    return Built(run_program(program, project="retail", stack="prod", config={"aws:region": REGION}))


@pytest.mark.parametrize("name", CERTIFICATES)
def test_certificate_is_for_exactly_its_domain_validated_by_dns(name):
    certificate = built().certificate(name)
    domain, _region = CERTIFICATES[name]
    assert certificate.inputs["domainName"] == domain
    assert certificate.inputs["validationMethod"] == "DNS"
    assert "subjectAlternativeNames" not in certificate.inputs


@pytest.mark.parametrize("name", CERTIFICATES)
def test_certificate_uses_the_key_algorithm_cloudfront_accepts(name):
    assert built().certificate(name).inputs["keyAlgorithm"] == KEY_ALGORITHM == "RSA_2048"


@pytest.mark.parametrize("name", CERTIFICATES)
def test_certificate_and_its_validation_are_in_the_region_asked_for(name):
    b = built()
    _domain, region = CERTIFICATES[name]
    certificate, validation = b.certificate(name), b.validation(name)
    assert certificate.inputs["region"] == validation.inputs["region"] == region
    assert certificate.region == validation.region == region


def test_the_cloudfront_certificate_is_in_us_east_1_whatever_the_stacks_region():
    b = built()
    assert b.graph.region == REGION
    assert b.certificate("cdn-viewer").region == "us-east-1"
    assert b.validation("cdn-viewer").inputs["certificateArn"].startswith(f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:")


@pytest.mark.parametrize("name", CERTIFICATES)
def test_validation_record_is_acms_cname_in_the_zone(name):
    b = built()
    record = b.record(name)
    domain, _region = CERTIFICATES[name]
    assert record.inputs["zoneId"] == ZONE_ID
    assert record.inputs["type"] == "CNAME"
    # The mocks answer ACM's option for the domain: a CNAME under it pointing at acm-validations.aws.
    assert record.inputs["name"].endswith(f".{domain}.")
    (value,) = record.inputs["records"]
    assert value.endswith(".acm-validations.aws.")
    assert record.inputs["ttl"] == VALIDATION_RECORD_TTL == 300
    assert set(record.property_dependencies["name"]) == {b.certificate(name).urn}


@pytest.mark.parametrize("name", CERTIFICATES)
def test_validation_record_may_overwrite_the_same_cname(name):
    assert built().record(name).inputs["allowOverwrite"] is True


@pytest.mark.parametrize("name", CERTIFICATES)
def test_validation_waits_for_the_records_fqdn(name):
    b = built()
    record, validation = b.record(name), b.validation(name)
    assert validation.inputs["validationRecordFqdns"] == [record.inputs["name"].rstrip(".")]
    # The record's own name, so the validation starts once the record exists.
    assert validation.property_dependencies["validationRecordFqdns"] == (record.urn,)


@pytest.mark.parametrize("name", CERTIFICATES)
def test_validation_is_for_this_certificate(name):
    b = built()
    certificate, validation = b.certificate(name), b.validation(name)
    assert validation.property_dependencies["certificateArn"] == (certificate.urn,)
    assert validation.inputs["certificateArn"].startswith("arn:aws:acm:")


@pytest.mark.parametrize("name", CERTIFICATES)
def test_users_of_the_certificate_arn_wait_for_its_validation(name):
    b = built()
    user = b.graph.one(LISTENER_CERTIFICATE, f"{name}-user")
    assert user.property_dependencies["certificateArn"] == (b.validation(name).urn,)
    assert user.inputs["certificateArn"] == b.validation(name).inputs["certificateArn"]


@pytest.mark.parametrize("name", CERTIFICATES)
def test_certificate_carries_the_standard_tags_named_after_its_domain(name):
    domain, _region = CERTIFICATES[name]
    assert built().certificate(name).inputs["tags"] == CONVENTIONS.tags(domain)


def test_certificate_record_and_validation_belong_to_the_parent_given():
    b = built()
    owner = b.graph.one(OWNER, "edge")
    for name in CERTIFICATES:
        for resource in (b.certificate(name), b.record(name), b.validation(name)):
            assert resource.parent == owner.urn, resource.type
