"""ACM certificates validated by DNS in the stack's Route 53 zone.

One helper for the certificates the edge needs: each region's ALB's (the primary's and, with a
DR strategy, the DR region's, for the same origin name) and CloudFront's (always us-east-1, the
only region CloudFront reads certificates from).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """The domain name's; :attr:`alternative_records` hold the alternative names'."""
    alternative_records: tuple[aws.route53.Record, ...] = ()

    @property
    def arn(self) -> pulumi.Output[str]:
        """The certificate ARN, known only once ACM has issued it: listeners and distributions
        that take it wait for validation instead of failing on a pending certificate."""
        return self.validation.certificate_arn


def dns_validated_certificate(name: str, *, domain_name: str, zone_id: pulumi.Input[str], region: str,
                              conventions: Conventions, parent: pulumi.Resource,
                              alternative_names: Sequence[str] = ()) -> ValidatedCertificate:
    """A certificate for exactly ``domain_name`` and ``alternative_names`` (no wildcard), their
    validation CNAMEs in ``zone_id`` and the wait for issuance.

    Without alternative names the one record is built from option 0 under its historical
    name; each alternative name's record is found by its domain name (ACM does not promise
    the options' order).

    Two certificates for the same name (the primary and the DR region's ALB, both for
    ``origin.<host>``) get the same validation CNAME: ACM derives it from the name and the
    account, not from the region or the certificate. Both certificates therefore declare the
    same record; ``allow_overwrite`` lets the second UPSERT what the first created instead of
    failing on an existing record, and since the value is identical nothing changes. The
    record stays as long as either certificate needs it; destroying one slice deletes it, and
    the other certificate's next renewal would fail until an update of that slice recreates it.
    """
    child = pulumi.ResourceOptions(parent=parent)
    if isinstance(alternative_names, str):
        raise TypeError(f"alternative_names must be a list of names, not the string {alternative_names!r}")
    if domain_name in alternative_names:
        raise ValueError(f"{domain_name} is the certificate's domain name: drop it from alternative_names")
    certificate = aws.acm.Certificate(
        name,
        domain_name=domain_name,
        subject_alternative_names=list(alternative_names) or None,
        validation_method="DNS",
        key_algorithm=KEY_ALGORITHM,
        region=region,
        tags=conventions.tags(domain_name),
        opts=child,
    )
    def validation_record(logical: str, option: pulumi.Output[aws.acm.outputs.CertificateDomainValidationOption],
                          ) -> aws.route53.Record:
        return aws.route53.Record(
            logical,
            zone_id=zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=VALIDATION_RECORD_TTL,
            # ACM gives the same CNAME for the same name in every region and on re-issue.
            allow_overwrite=True,
            opts=child,
        )

    options = certificate.domain_validation_options
    record = validation_record(f"{name}-validation", options[0] if not alternative_names else
                               options.apply(lambda found: _option_for(found, domain_name)))
    alternatives = tuple(
        validation_record(f"{name}-validation-{index + 1}",
                          options.apply(lambda found, alt=alt: _option_for(found, alt)))
        for index, alt in enumerate(alternative_names))
    validation = aws.acm.CertificateValidation(
        name,
        certificate_arn=certificate.arn,
        # The records' own names (not the options'): the validation then waits for them.
        validation_record_fqdns=[r.name.apply(lambda fqdn: fqdn.rstrip(".")) for r in (record, *alternatives)],
        region=region,
        opts=child,
    )
    return ValidatedCertificate(certificate, validation, record, alternatives)


def _option_for(options: Sequence[aws.acm.outputs.CertificateDomainValidationOption],
                name: str) -> aws.acm.outputs.CertificateDomainValidationOption:
    found = [option for option in options if option.domain_name == name]
    if not found:
        raise ValueError(f"ACM returned no validation option for {name}")
    return found[0]
