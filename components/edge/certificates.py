"""ACM certificates validated by DNS in the stack's Route 53 zone.

One helper for both certificates the edge needs: the ALB's (in the primary region) and
CloudFront's (always us-east-1, the only region CloudFront reads certificates from).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common.conventions import Conventions

#: Route 53 TTL of the validation CNAME. ACM re-checks it at every renewal, so it stays.
VALIDATION_RECORD_TTL = 300

#: RSA 2048 is what every client and CloudFront accept; ECDSA certificates are not supported
#: by CloudFront for all viewers.
KEY_ALGORITHM = "RSA_2048"


@dataclass(frozen=True)
class ValidatedCertificate:
    certificate: aws.acm.Certificate
    validation: aws.acm.CertificateValidation
    validation_record: aws.route53.Record

    @property
    def arn(self) -> pulumi.Output[str]:
        """The certificate ARN, known only once ACM has issued it: listeners and distributions
        that take it wait for validation instead of failing on a pending certificate."""
        return self.validation.certificate_arn


def dns_validated_certificate(name: str, *, domain_name: str, zone_id: pulumi.Input[str], region: str,
                              conventions: Conventions, parent: pulumi.Resource) -> ValidatedCertificate:
    """A certificate for exactly ``domain_name`` (no wildcard, no SANs), its validation CNAME
    in ``zone_id`` and the wait for issuance.

    One name means one validation option, so the record is built from option 0. Two
    certificates for the same name (in two regions) share one CNAME, which Route 53 would
    refuse twice: callers give each certificate its own name (the ALB uses ``origin.<host>``).
    """
    child = pulumi.ResourceOptions(parent=parent)
    certificate = aws.acm.Certificate(
        name,
        domain_name=domain_name,
        validation_method="DNS",
        key_algorithm=KEY_ALGORITHM,
        region=region,
        tags=conventions.tags(domain_name),
        opts=child,
    )
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-validation",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=VALIDATION_RECORD_TTL,
        # ACM gives the same CNAME for the same name in every region and on re-issue.
        allow_overwrite=True,
        opts=child,
    )
    validation = aws.acm.CertificateValidation(
        name,
        certificate_arn=certificate.arn,
        # The record's own name (not the option's): the validation then waits for the record.
        validation_record_fqdns=[record.name.apply(lambda fqdn: fqdn.rstrip("."))],
        region=region,
        opts=child,
    )
    return ValidatedCertificate(certificate, validation, record)
