"""CloudFront distributions (CloudFront.1/3/5/6/7/8/9/10/13/15): a default root object,
HTTPS to viewers and origins with modern TLS, access logs, a WAFv2 web ACL, a custom
certificate with SNI, and origin access control for S3 origins.

``cloudfront-access-logging`` is a stack policy: it links a CloudWatch log delivery source to
its distribution through the source's ``resourceArn`` and a log delivery to its source
through ``deliverySourceName`` (``property_dependencies``, never prop values: an ARN is
unknown during preview). ``cloudfront-oac-kms-key-admits-distribution`` follows the chain
bucket encryption (``rules``) -> bucket <- distribution ``origins`` -> the key's ``KeyPolicy``
(``keyId``) or the key's own ``policy``; the statement's ``AWS:SourceArn`` must equal the
distribution's ``arn`` or, while that is unknown, the policy input must come from it.

Accepted exceptions: a distribution without a custom domain serves its ``*.cloudfront.net``
name with CloudFront's own certificate, which cannot meet CloudFront.7 (custom certificate),
CloudFront.8 (SNI) or CloudFront.15 (TLS policy: CloudFront fixes it for its certificate).
The distribution may say so in its ``control-exceptions`` tag; each policy honours the id
only if it is in ``ACCEPTED_EXCEPTIONS`` and the distribution really uses the default
certificate (``cloudfrontDefaultCertificate`` true, no ACM certificate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError

from policies import exceptions
from policies._helpers import (
    as_list,
    check_each,
    companions_by_target,
    is_set,
    known,
    mapping,
    policy_document,
    resource_policy,
    sequence,
    stack_policy,
    statements,
)

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ORIGIN_ACCESS_CONTROL = "aws:cloudfront/originAccessControl:OriginAccessControl"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"
#: How the engine's RPC layer marks a secret value when nothing has unwrapped it (a distribution
#: whose origins carry the origin secret header arrives so in the offline plan).
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"

#: Viewer protocol policies that never serve plain HTTP.
HTTPS_VIEWER_POLICIES = ("https-only", "redirect-to-https")
#: CloudFront.15: viewer TLS policies with TLS 1.2 or later and no CBC/SHA-1 leftovers.
RECOMMENDED_CLOUDFRONT_TLS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
CLOUDFRONT_TLS_FIX = "TLSv1.2_2021"
#: CloudFront.10: the only protocol CloudFront may speak to a custom origin.
SECURE_ORIGIN_PROTOCOLS = frozenset({"TLSv1.2"})

CLOUDFRONT_7, CLOUDFRONT_8, CLOUDFRONT_15 = "CloudFront.7", "CloudFront.8", "CloudFront.15"


# --- CloudFront -----------------------------------------------------------------------------


def _default_root_object(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_set(args.props, "defaultRootObject"):
        report_violation(
            "distribution has no default root object, so a request for '/' reaches the "
            "origin's listing or error page; set default_root_object='index.html'.",
            None,
        )


def _viewer_https(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    behaviours = [("default cache behavior", mapping(args.props.get("defaultCacheBehavior")))]
    behaviours += [
        (f"ordered cache behavior {mapping(b).get('pathPattern') or f'#{i}'}", mapping(b))
        for i, b in enumerate(sequence(args.props.get("orderedCacheBehaviors")))
    ]
    for label, behaviour in behaviours:
        policy = behaviour.get("viewerProtocolPolicy")
        if policy not in HTTPS_VIEWER_POLICIES:
            report_violation(
                f"{label} has viewer_protocol_policy={policy!r}, so viewers can use plain "
                "HTTP; set viewer_protocol_policy='redirect-to-https' (or 'https-only').",
                None,
            )


def _logged(
    distribution: PolicyResource,
    sources: Mapping[str, list[PolicyResource]],
    deliveries: Mapping[str, list[PolicyResource]],
) -> tuple[bool, list[PolicyResource]]:
    """Whether the distribution logs (legacy or v2), and its v2 sources without a delivery."""
    if is_set(mapping(distribution.props.get("loggingConfig")), "bucket"):
        return True, []
    linked = [s for s in sources.get(distribution.urn, [])
              if known(s.props, "logType") in (None, "ACCESS_LOGS")]
    delivered = [s for s in linked if deliveries.get(s.urn)]
    return bool(delivered), [s for s in linked if not deliveries.get(s.urn)]


def _access_logging(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    distributions = [r for r in args.resources if r.resource_type == DISTRIBUTION]
    if not distributions:
        args.not_applicable("the stack has no CloudFront distributions")
    sources = companions_by_target(args.resources, (LOG_DELIVERY_SOURCE,), "resourceArn")
    deliveries = companions_by_target(args.resources, (LOG_DELIVERY,), "deliverySourceName")

    def check(distribution: PolicyResource) -> None:
        logged, undelivered = _logged(distribution, sources, deliveries)
        if logged:
            return
        for source in undelivered:
            report_violation(
                f"log delivery source of distribution {distribution.name} delivers nowhere; "
                "add an aws.cloudwatch.LogDelivery with delivery_source_name=source.name and "
                "delivery_destination_arn=<the S3 or CloudWatch Logs destination>.arn.",
                source.urn,
            )
        if not undelivered:
            report_violation(
                f"distribution {distribution.name} writes no access logs; add standard logging "
                "v2 (an aws.cloudwatch.LogDeliverySource in us-east-1 with "
                "resource_arn=distribution.arn and log_type='ACCESS_LOGS', a "
                "LogDeliveryDestination and a LogDelivery) or set logging_config={'bucket': "
                "<the logs bucket>.bucket_domain_name}.",
                distribution.urn,
            )

    check_each(distributions, check)


def _waf_enabled(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_set(args.props, "webAclId"):
        report_violation(
            "distribution has no WAF web ACL; set web_acl_id to the ARN of an "
            "aws.wafv2.WebAcl with scope='CLOUDFRONT' (created in us-east-1).",
            None,
        )
        return
    value = known(args.props, "webAclId")
    if isinstance(value, str) and ":wafv2:" not in value:
        report_violation(
            f"distribution's web_acl_id {value!r} is not a WAFv2 web ACL ARN (WAF Classic is "
            "retired); set web_acl_id to an aws.wafv2.WebAcl's arn.",
            None,
        )


def _uses_default_certificate(props: Mapping[str, Any]) -> bool:
    certificate = mapping(props.get("viewerCertificate"))
    return certificate.get("cloudfrontDefaultCertificate") is True and not is_set(
        certificate, "acmCertificateArn"
    )


def _excepted(props: Mapping[str, Any], control: str) -> bool:
    """An accepted exception to ``control`` that the distribution really needs: it serves
    CloudFront's own certificate (no custom domain)."""
    return _uses_default_certificate(props) and exceptions.has_accepted_exception(
        props, control
    )


_CERT_FIX = (
    "viewer_certificate={'acm_certificate_arn': <an ACM certificate in us-east-1>.arn, "
    f"'ssl_support_method': 'sni-only', 'minimum_protocol_version': '{CLOUDFRONT_TLS_FIX}'}} "
    "with the custom domain in aliases"
)


def _no_domain_note(control: str) -> str:
    return (
        f" (a distribution without a custom domain may keep CloudFront's certificate only under "
        f"the accepted exception {control}: tag it control-exceptions='{control}')"
    )


def _custom_certificate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    certificate = mapping(args.props.get("viewerCertificate"))
    if is_set(certificate, "acmCertificateArn") and certificate.get(
        "cloudfrontDefaultCertificate"
    ) is not True:
        return
    if _excepted(args.props, CLOUDFRONT_7):
        return
    report_violation(
        "distribution serves CloudFront's default *.cloudfront.net certificate, not a custom "
        f"one; set {_CERT_FIX}{_no_domain_note(CLOUDFRONT_7)}.",
        None,
    )


def _sni(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _uses_default_certificate(args.props):
        if not _excepted(args.props, CLOUDFRONT_8):
            report_violation(
                "distribution uses CloudFront's default certificate, so it has no SNI setting; "
                f"set {_CERT_FIX}{_no_domain_note(CLOUDFRONT_8)}.",
                None,
            )
        return
    method = mapping(args.props.get("viewerCertificate")).get("sslSupportMethod")
    if method != "sni-only":
        report_violation(
            f"distribution's viewer_certificate.ssl_support_method is {method!r}, which needs "
            "dedicated IP addresses (and costs accordingly); set ssl_support_method='sni-only'.",
            None,
        )


def _viewer_tls_policy(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _uses_default_certificate(args.props):
        if not _excepted(args.props, CLOUDFRONT_15):
            report_violation(
                "distribution uses CloudFront's default certificate, for which CloudFront "
                "still accepts TLSv1; set "
                f"{_CERT_FIX}{_no_domain_note(CLOUDFRONT_15)}.",
                None,
            )
        return
    version = mapping(args.props.get("viewerCertificate")).get("minimumProtocolVersion")
    if version not in RECOMMENDED_CLOUDFRONT_TLS:
        report_violation(
            f"distribution's viewer_certificate.minimum_protocol_version is {version!r}; set "
            f"minimum_protocol_version='{CLOUDFRONT_TLS_FIX}' (or one of "
            f"{', '.join(RECOMMENDED_CLOUDFRONT_TLS)}).",
            None,
        )


def _origins(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(str(mapping(o).get("originId") or f"#{i}"), mapping(o))
            for i, o in enumerate(sequence(props.get("origins")))]


def _origin_https(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for origin_id, origin in _origins(args.props):
        custom = origin.get("customOriginConfig")
        if custom is None:
            continue
        policy = mapping(custom).get("originProtocolPolicy")
        if policy != "https-only":
            report_violation(
                f"origin {origin_id} has origin_protocol_policy={policy!r}, so CloudFront may "
                "reach it over plain HTTP; set custom_origin_config origin_protocol_policy="
                "'https-only' (the origin needs a certificate for its domain name).",
                None,
            )


def _origin_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for origin_id, origin in _origins(args.props):
        custom = origin.get("customOriginConfig")
        if custom is None:
            continue
        protocols = [str(p) for p in sequence(mapping(custom).get("originSslProtocols"))]
        weak = [p for p in protocols if p not in SECURE_ORIGIN_PROTOCOLS]
        if weak or not protocols:
            shown = ", ".join(weak) if weak else "nothing"
            report_violation(
                f"origin {origin_id} allows {shown} between CloudFront and the origin; set "
                "custom_origin_config origin_ssl_protocols=['TLSv1.2'].",
                None,
            )


def _s3_origin_access_control(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    for origin_id, origin in _origins(args.props):
        # An origin without a custom or VPC origin config is an S3 origin.
        if origin.get("customOriginConfig") is not None or origin.get("vpcOriginConfig") is not None:
            continue
        oai = mapping(origin.get("s3OriginConfig")).get("originAccessIdentity")
        if not is_set(origin, "originAccessControlId"):
            legacy = " (a legacy origin access identity is set)" if oai else ""
            report_violation(
                f"S3 origin {origin_id} has no origin access control{legacy}; create an "
                "aws.cloudfront.OriginAccessControl (origin_access_control_origin_type='s3', "
                "signing_behavior='always', signing_protocol='sigv4'), set "
                "origin_access_control_id=oac.id and remove s3_origin_config.",
                None,
            )


def _revealed(value: Any) -> Any:
    """A value as written, whether or not it arrives in the RPC layer's secret wrapper."""
    if isinstance(value, Mapping) and value.get(_SECRET_SIG) is not None and "value" in value:
        return value["value"]
    return value


def _oac_buckets(distribution: PolicyResource) -> list[PolicyResource]:
    """The buckets a distribution reads through origin access control: an S3 origin with
    ``originAccessControlId`` whose ``domainName`` came from the bucket (property dependency of
    ``origins``) and, when both are known, starts with the bucket's name."""
    linked = distribution.property_dependencies.get("origins", [])
    buckets = [r for r in linked if r.resource_type in BUCKET_TYPES]
    if not buckets:
        return []
    try:
        origins = [mapping(o) for o in sequence(_revealed(distribution.props.get("origins")))]
        domains: list[Any] | None = [
            known(o, "domainName") for o in origins
            if is_set(o, "originAccessControlId")
            and o.get("customOriginConfig") is None and o.get("vpcOriginConfig") is None]
    except UnknownValueError:
        domains = None  # unknown until apply: the dependency on an OAC stands for the origin
    if domains is None:
        return buckets if any(r.resource_type == ORIGIN_ACCESS_CONTROL for r in linked) else []
    if not domains:
        return []
    read = []
    for bucket in buckets:
        name = known(bucket.props, "bucket")
        if not isinstance(name, str) or any(not isinstance(d, str) for d in domains) \
                or any(d.startswith(f"{name}.s3.") or d.startswith(f"{name}.s3-") for d in domains):
            read.append(bucket)
    return read


def _admits(document: Mapping[str, Any], distribution_arn: str | None) -> bool:
    """Whether a key policy lets CloudFront decrypt for one exact distribution (its ARN when
    known, else any single distribution ARN: the caller has checked where it came from)."""
    for statement in statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        principal = mapping(statement.get("Principal"))
        if CLOUDFRONT_PRINCIPAL not in as_list(principal.get("Service")):
            continue
        actions = {str(a).lower() for a in as_list(statement.get("Action"))}
        if not {"kms:decrypt", "kms:decrypt*", "kms:*", "*"} & actions:
            continue
        for operator in ("StringEquals", "ArnEquals"):
            block = mapping(mapping(statement.get("Condition")).get(operator))
            for key in block:
                if key.lower() != "aws:sourcearn":
                    continue
                values = [str(v) for v in as_list(block[key])]
                if distribution_arn is not None and values == [distribution_arn]:
                    return True
                if distribution_arn is None and len(values) == 1 and ":cloudfront::" in values[0] \
                        and ":distribution/" in values[0] and not any(c in values[0] for c in "*?"):
                    return True
    return False


def _oac_key_admits_distribution(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    distributions = [r for r in args.resources if r.resource_type == DISTRIBUTION]
    if not distributions:
        args.not_applicable("the stack has no CloudFront distributions")
    encryption = companions_by_target(args.resources, ENCRYPTION_TYPES, "bucket")
    key_policies = companions_by_target(args.resources, (KMS_KEY_POLICY,), "keyId")

    def keys_of(bucket: PolicyResource) -> list[PolicyResource]:
        return [key for config in encryption.get(bucket.urn, [])
                for key in config.property_dependencies.get("rules", []) if key.resource_type == KMS_KEY]

    def check(distribution: PolicyResource) -> None:
        arn = known(distribution.props, "arn")
        for bucket in _oac_buckets(distribution):
            for key in keys_of(bucket):
                # A KeyPolicy replaces the key's own policy: it is the one that counts.
                holders = key_policies.get(key.urn) or [key]
                admitted = False
                for holder in holders:
                    document, _ = policy_document(holder.props.get("policy"))
                    if document is None:
                        continue
                    came_from_it = any(d.urn == distribution.urn
                                       for d in holder.property_dependencies.get("policy", []))
                    if _admits(document, arn if isinstance(arn, str) else None) and (
                            isinstance(arn, str) or came_from_it):
                        admitted = True
                if not admitted:
                    report_violation(
                        f"KMS key {key.name} encrypts bucket {bucket.name}, which distribution "
                        f"{distribution.name} reads through origin access control, but its policy does "
                        "not let CloudFront decrypt for that distribution, so every object read fails "
                        "with 403; add a statement allowing Principal {'Service': "
                        "'cloudfront.amazonaws.com'} kms:Decrypt with Condition StringEquals "
                        "AWS:SourceArn = the distribution's arn (an aws.kms.KeyPolicy, as the "
                        "distribution is built after the key).",
                        holders[0].urn,
                    )

    check_each(distributions, check)


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("cloudfront-default-root-object",
                    "CloudFront.1: distributions have a default root object",
                    (DISTRIBUTION,), _default_root_object),
    resource_policy("cloudfront-viewer-https",
                    "CloudFront.3: every cache behavior redirects viewers to HTTPS or requires it",
                    (DISTRIBUTION,), _viewer_https),
    stack_policy("cloudfront-access-logging",
                 "CloudFront.5: distributions write access logs (standard logging v2 or legacy)",
                 _access_logging),
    resource_policy("cloudfront-waf",
                    "CloudFront.6: distributions are protected by a WAFv2 web ACL",
                    (DISTRIBUTION,), _waf_enabled),
    resource_policy("cloudfront-custom-certificate",
                    "CloudFront.7: distributions serve a custom ACM certificate",
                    (DISTRIBUTION,), _custom_certificate),
    resource_policy("cloudfront-sni",
                    "CloudFront.8: distributions serve HTTPS with SNI",
                    (DISTRIBUTION,), _sni),
    resource_policy("cloudfront-origin-https",
                    "CloudFront.9: custom origins are reached over HTTPS only",
                    (DISTRIBUTION,), _origin_https),
    resource_policy("cloudfront-origin-tls",
                    "CloudFront.10: custom origins are reached with TLS 1.2, no SSLv3/TLSv1/TLSv1.1",
                    (DISTRIBUTION,), _origin_tls),
    resource_policy("cloudfront-s3-origin-access-control",
                    "CloudFront.13: S3 origins are reached through origin access control",
                    (DISTRIBUTION,), _s3_origin_access_control),
    stack_policy("cloudfront-oac-kms-key-admits-distribution",
                 "CloudFront.13: the KMS key of a bucket a distribution reads through origin access "
                 "control lets that distribution decrypt (else every SSE-KMS object read is a 403)",
                 _oac_key_admits_distribution),
    resource_policy("cloudfront-viewer-tls-policy",
                    "CloudFront.15: distributions use a recommended viewer TLS policy",
                    (DISTRIBUTION,), _viewer_tls_policy),
]
