"""CloudFront in front of the shop: static assets from S3, the services through the ALB.

- Static assets come from the assets bucket through Origin Access Control (CloudFront.13),
  cached long and compressed; the bucket stays private (its policy admits only this
  distribution: :func:`assets_bucket_policy_statement`, and its KMS key must let CloudFront
  decrypt: :func:`assets_key_policy_statement`).
- Each exposed service path goes to the ALB at ``origin.<recordName>`` over HTTPS only, TLS 1.2
  (CloudFront.9/.10), with the secret ``X-Origin-Verify`` header the ALB's rules require,
  uncached by default and keyed on the shop's cookies only.
- A service on ``/`` (the storefront) owns the default behaviour; assets then live under
  ``/assets/*``. Without a reachable ALB (no domain) the default behaviour is the assets.
- With a DR region (warm standby, active-active): the assets come from an origin group that
  retries a GET on the DR region's replica bucket when the primary's answers 5xx; services
  named read-only (GET and HEAD only) sit behind an origin group of the ALB origin and the
  DR ALB's regional name. The services that take writes keep the single ALB origin, whose
  name Route 53 fails over (CloudFront neither fails a POST over nor lets a behaviour that
  allows POST target a group).
- Viewers: HTTPS only (CloudFront.3), HTTP/2 and HTTP/3, IPv6, security headers on every
  response, WAF (CloudFront.6), standard logging v2 into the logs bucket (CloudFront.5),
  a default root object (CloudFront.1). With a domain: an ACM certificate in us-east-1, SNI,
  TLSv1.2_2021 (CloudFront.7/.8/.15) and Route 53 aliases; without one, CloudFront's own
  certificate, a declared exception (:data:`DEFAULT_CERTIFICATE_EXCEPTIONS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.compliance import CONTROL_EXCEPTIONS_TAG, DEFAULT_CERTIFICATE_EXCEPTIONS
from components.common.context import StackContext
from components.compute.settings import ServiceConfig
from components.edge.certificates import dns_validated_certificate
from components.edge.firewall import CLOUDFRONT_REGION, shield_protection
from components.edge.load_balancer import ORIGIN_SECRET_HEADER, exposed_services, is_root
from components.edge.settings import EdgeConfig

ASSETS_ORIGIN_ID = "assets"
ALB_ORIGIN_ID = "alb"
#: With DR origins: the replica assets bucket, the DR region's ALB by its regional name, and
#: the origin groups that put each behind its primary.
DR_ASSETS_ORIGIN_ID = "assets-dr"
DR_ALB_ORIGIN_ID = "alb-dr"
ASSETS_GROUP_ID = "assets-failover"
ALB_GROUP_ID = "alb-failover"

#: When CloudFront retries a GET or HEAD on the group's second member. For the ALB: the errors
#: of a region or a service in trouble. For S3 the same, and not 403/404: the replica holds a
#: copy of the primary, so what the primary lacks the replica lacks too, and without
#: s3:ListBucket a missing object answers 403; failing over on them would double the origin
#: fetches of every missing asset and find nothing.
ALB_FAILOVER_STATUS_CODES = (500, 502, 503, 504)
ASSETS_FAILOVER_STATUS_CODES = (500, 502, 503, 504)

#: CloudFront.1: what ``/`` serves when the assets bucket answers it.
DEFAULT_ROOT_OBJECT = "index.html"

#: Where the assets live when a service (the storefront) owns ``/``.
ASSETS_PATH_PATTERN = "/assets/*"

#: CloudFront.15 / PCI DSS 4.2.1: TLS 1.2+ with strong ciphers towards viewers.
MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
#: CloudFront.10: nothing older than TLS 1.2 towards the ALB.
ORIGIN_SSL_PROTOCOLS = ("TLSv1.2",)
#: CloudFront's keep-alive towards the origin is kept below the ALB's idle timeout (60 s).
ORIGIN_KEEPALIVE_SECONDS = 5
ORIGIN_READ_TIMEOUT_SECONDS = 30

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
READ_METHODS = ("GET", "HEAD")

#: Static assets: a day unless the object says otherwise, at most a year (fingerprinted files).
STATIC_DEFAULT_TTL_SECONDS = 86_400
STATIC_MAX_TTL_SECONDS = 31_536_000

#: Dynamic responses are not cached unless the service says so with Cache-Control, and then
#: for a minute at most. The maximum is not 0 because CloudFront refuses cookies and headers
#: in the cache key of a policy that cannot cache, and the key must hold the session so a
#: response the service does mark cacheable is never served to another shopper.
DYNAMIC_DEFAULT_TTL_SECONDS = 0
DYNAMIC_MAX_TTL_SECONDS = 60
#: The cookies and headers a dynamic response may vary on.
SHOP_COOKIES = ("session", "cart")
SHOP_HEADERS = ("Accept-Language",)

#: Everything the viewer sent except Host: CloudFront then asks for ``origin.<recordName>``,
#: the name on the ALB's certificate (with the viewer's Host the TLS name check would fail).
ORIGIN_REQUEST_EXCLUDED_HEADERS = ("Host",)

HSTS_MAX_AGE_SECONDS = 31_536_000
CONTENT_SECURITY_POLICY = ("default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; "
                           "form-action 'self'; upgrade-insecure-requests")
REFERRER_POLICY = "strict-origin-when-cross-origin"

#: Standard logging v2: CloudFront's delivery source (and so the destination and delivery)
#: are made in us-east-1; objects land under ``AWSLogs/<account>/CloudFront/<suffix>``.
LOG_DELIVERY_PRINCIPAL = "delivery.logs.amazonaws.com"
LOG_OUTPUT_FORMAT = "json"
LOG_SUFFIX_PATH = "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"

#: The shop's name answers IPv4 and IPv6 (the distribution has IPv6 on).
ALIAS_RECORD_TYPES = ("A", "AAAA")



# -- pure functions ---------------------------------------------------------------------------

def cdn_path_patterns(path: str) -> list[str]:
    """CloudFront path patterns of a service prefix: ``/cart`` -> ``/cart`` and ``/cart/*``."""
    prefix = path.rstrip("/")
    return [prefix, f"{prefix}/*"]


def assets_bucket_policy_statement(bucket_arn: str, distribution_arn: str) -> dict[str, Any]:
    """The assets bucket lets exactly this distribution read objects (OAC, CloudFront.13)."""
    return {
        "Sid": "AllowCloudFrontReadAssets",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": ["s3:GetObject"],
        "Resource": [f"{bucket_arn}/*"],
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def assets_key_policy_statement(distribution_arn: str) -> dict[str, Any]:
    """For the data key's policy: the assets bucket is SSE-KMS, so CloudFront (OAC) must be
    allowed to decrypt, for this distribution only."""
    return {
        "Sid": "AllowCloudFrontDecryptAssets",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": ["kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def _log_delivery_condition(partition: str, account_id: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{CLOUDFRONT_REGION}:{account_id}:delivery-source:*"}}


def cloudfront_log_delivery_write_statement(bucket_arn: str, partition: str, account_id: str) -> dict[str, Any]:
    """Logs bucket: CloudWatch Logs delivers this account's CloudFront standard logs (v2)."""
    condition = _log_delivery_condition(partition, account_id)
    condition["StringEquals"] = {**condition["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}
    return {
        "Sid": "AllowCloudFrontLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
        "Action": ["s3:PutObject"],
        "Resource": [f"{bucket_arn}/AWSLogs/{account_id}/CloudFront/*"],
        "Condition": condition,
    }


def cloudfront_log_delivery_acl_check_statement(bucket_arn: str, partition: str, account_id: str) -> dict[str, Any]:
    """Logs bucket: the delivery service checks the bucket before writing."""
    return {
        "Sid": "AllowCloudFrontLogDeliveryAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
        "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
        "Resource": [bucket_arn],
        "Condition": _log_delivery_condition(partition, account_id),
    }


#: The builders for ``ObjectStoreArgs.extra_statements["logs"]``.
CLOUDFRONT_LOG_DELIVERY_STATEMENTS = (cloudfront_log_delivery_write_statement,
                                      cloudfront_log_delivery_acl_check_statement)


# -- component --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssetsBucket:
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    regional_domain_name: pulumi.Input[str]


@dataclass(frozen=True)
class CdnArgs:
    settings: EdgeConfig
    assets_bucket: AssetsBucket
    web_acl_arn: pulumi.Input[str]
    """The CLOUDFRONT-scope ACL (WebFirewall in us-east-1)."""
    logs_bucket_arn: pulumi.Input[str]
    """Standard logging v2 target; its policy needs :data:`CLOUDFRONT_LOG_DELIVERY_STATEMENTS`."""
    origin_domain_name: pulumi.Input[str] | None = None
    """The ALB's HTTPS name (``LoadBalancer.origin_domain_name``); None when it has no HTTPS
    listener, and then only the assets are served."""
    origin_secret: pulumi.Input[str] | None = None
    """Sent to the ALB in ``X-Origin-Verify``; required with an origin."""
    services: Sequence[ServiceConfig] = ()
    depends_on: Sequence[pulumi.Resource] = ()
    """What log delivery needs first (the logs bucket's policy, or the ObjectStore)."""
    dr_assets_bucket: AssetsBucket | None = None
    """The DR region's replica of the assets bucket: the assets then come from an origin group
    that fails over to it. Its policy and the DR data key must admit this distribution too
    (:func:`assets_bucket_policy_statement`, :func:`assets_key_policy_statement`)."""
    dr_origin_domain_name: pulumi.Input[str] | None = None
    """The DR region's ALB by its own name (``LoadBalancer.regional_origin_domain_name`` of the
    DR slice). With it, the services in ``read_only_services`` get an origin group
    (``origin_domain_name`` first, then this); the others keep ``origin_domain_name`` alone,
    which must then be the Route 53 failover name (:class:`~components.edge.failover.FailoverRouting`)."""
    read_only_services: frozenset[str] = frozenset()
    """Exposed services whose paths take only GET and HEAD (a catalog, say): their behaviours
    allow only those methods and, with a DR origin, use the ALB origin group. CloudFront
    fails over only GET, HEAD and OPTIONS, and refuses an origin group in a behaviour that
    allows POST, so every other service keeps a single origin and fails over by DNS."""


class Cdn(pulumi.ComponentResource):
    """The shop's CloudFront distribution."""

    distribution: aws.cloudfront.Distribution
    domain_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    origin_access_control: aws.cloudfront.OriginAccessControl
    shop_url: pulumi.Output[str]

    def __init__(self, name: str, context: StackContext, args: CdnArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:edge:Cdn", name, None, opts)
        conv, config = context.conventions, args.settings
        if args.origin_domain_name is not None and args.origin_secret is None:
            raise ValueError("origin_secret is required with an ALB origin: the ALB answers 403 without it")
        if args.dr_origin_domain_name is not None and args.origin_domain_name is None:
            raise ValueError("dr_origin_domain_name needs origin_domain_name: the DR ALB is the second member of a "
                             "group whose first is the primary origin; set both or neither")
        exposed_names = {s.name for s in exposed_services(args.services)}
        if not args.read_only_services <= exposed_names:
            raise ValueError(f"read_only_services names {sorted(args.read_only_services - exposed_names)}, which are "
                             f"not exposed services (those with a path: {sorted(exposed_names)})")
        child = pulumi.ResourceOptions(parent=self)
        physical = conv.physical_name(name)
        dynamic_services = exposed_services(args.services) if args.origin_domain_name is not None else []
        root_service = next((s for s in dynamic_services if is_root(s.path or "/")), None)
        if args.origin_domain_name is None and exposed_services(args.services):
            pulumi.log.warn(f"{name}: no HTTPS origin (retail:edge.domain is not set): CloudFront serves the "
                            "static assets only; the services' paths are not routed", resource=self)

        self.origin_access_control = aws.cloudfront.OriginAccessControl(
            name, name=physical, description=f"{physical}: assets bucket",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4",
            opts=child)
        static_policy = aws.cloudfront.CachePolicy(
            f"{name}-static",
            name=f"{physical}-static",
            comment="Static assets: long TTL, compressed, nothing varies",
            min_ttl=0, default_ttl=STATIC_DEFAULT_TTL_SECONDS, max_ttl=STATIC_MAX_TTL_SECONDS,
            parameters_in_cache_key_and_forwarded_to_origin=_cache_key(cookies=(), headers=(), query_strings=False),
            opts=child)
        headers_policy = aws.cloudfront.ResponseHeadersPolicy(
            name, name=f"{physical}-security-headers", comment="HSTS, CSP, no sniffing, no framing",
            security_headers_config=security_headers(), opts=child)

        origins = [aws.cloudfront.DistributionOriginArgs(
            origin_id=ASSETS_ORIGIN_ID,
            domain_name=args.assets_bucket.regional_domain_name,
            origin_access_control_id=self.origin_access_control.id)]
        origin_groups: list[aws.cloudfront.DistributionOriginGroupArgs] = []
        assets_target = ASSETS_ORIGIN_ID
        if args.dr_assets_bucket is not None:
            # One OAC serves both buckets: it holds no bucket, only how CloudFront signs.
            origins.append(aws.cloudfront.DistributionOriginArgs(
                origin_id=DR_ASSETS_ORIGIN_ID,
                domain_name=args.dr_assets_bucket.regional_domain_name,
                origin_access_control_id=self.origin_access_control.id))
            origin_groups.append(_origin_group(ASSETS_GROUP_ID, ASSETS_ORIGIN_ID, DR_ASSETS_ORIGIN_ID,
                                               ASSETS_FAILOVER_STATUS_CODES))
            assets_target = ASSETS_GROUP_ID
        static: dict[str, Any] = dict(
            target_origin_id=assets_target, viewer_protocol_policy="redirect-to-https",
            allowed_methods=list(READ_METHODS), cached_methods=list(READ_METHODS), compress=True,
            cache_policy_id=static_policy.id, response_headers_policy_id=headers_policy.id)
        ordered: list[aws.cloudfront.DistributionOrderedCacheBehaviorArgs] = []
        default = aws.cloudfront.DistributionDefaultCacheBehaviorArgs(**static)

        if dynamic_services:
            assert args.origin_domain_name is not None and args.origin_secret is not None
            dynamic_policy = aws.cloudfront.CachePolicy(
                f"{name}-dynamic",
                name=f"{physical}-dynamic",
                comment="Shop pages and APIs: not cached unless the service says so, keyed on the session",
                min_ttl=0, default_ttl=DYNAMIC_DEFAULT_TTL_SECONDS, max_ttl=DYNAMIC_MAX_TTL_SECONDS,
                parameters_in_cache_key_and_forwarded_to_origin=_cache_key(
                    cookies=SHOP_COOKIES, headers=SHOP_HEADERS, query_strings=True),
                opts=child)
            request_policy = aws.cloudfront.OriginRequestPolicy(
                name,
                name=f"{physical}-to-alb",
                comment="Everything the viewer sent except Host",
                headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
                    header_behavior="allExcept",
                    headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(
                        items=list(ORIGIN_REQUEST_EXCLUDED_HEADERS))),
                cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="all"),
                query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(
                    query_string_behavior="all"),
                opts=child)
            origins.append(_alb_origin(ALB_ORIGIN_ID, args.origin_domain_name, args.origin_secret))
            read_target = ALB_ORIGIN_ID
            # The DR ALB joins only behind read-only services: no other behaviour could use the
            # group (writes keep the single, Route 53-failed-over origin).
            if args.dr_origin_domain_name is not None and args.read_only_services:
                origins.append(_alb_origin(DR_ALB_ORIGIN_ID, args.dr_origin_domain_name, args.origin_secret))
                origin_groups.append(_origin_group(ALB_GROUP_ID, ALB_ORIGIN_ID, DR_ALB_ORIGIN_ID,
                                                   ALB_FAILOVER_STATUS_CODES))
                read_target = ALB_GROUP_ID
            shop: dict[str, Any] = dict(target_origin_id=ALB_ORIGIN_ID, viewer_protocol_policy="redirect-to-https",
                        allowed_methods=list(ALL_METHODS), cached_methods=list(READ_METHODS), compress=True,
                        cache_policy_id=dynamic_policy.id, origin_request_policy_id=request_policy.id,
                        response_headers_policy_id=headers_policy.id)
            # A service that takes writes keeps the single origin (whose name Route 53 fails
            # over); one that only reads may sit behind the group, which retries on the DR ALB.
            read_only: dict[str, Any] = {**shop, "allowed_methods": list(READ_METHODS), "target_origin_id": read_target}

            def behaviour(service: ServiceConfig) -> dict[str, Any]:
                return read_only if service.name in args.read_only_services else shop

            if root_service is not None:
                default = aws.cloudfront.DistributionDefaultCacheBehaviorArgs(**behaviour(root_service))
                ordered.append(aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=ASSETS_PATH_PATTERN, **static))
            for service in dynamic_services:
                if service is root_service:
                    continue
                for pattern in cdn_path_patterns(service.path or "/"):
                    ordered.append(aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                        path_pattern=pattern, **behaviour(service)))

        aliases: list[str] = []
        tag_extra: dict[str, str] = {}
        certificate = None
        zone = None
        if config.domain is not None:
            zone = aws.route53.get_zone_output(name=config.domain.zone_name, private_zone=False)
            certificate = dns_validated_certificate(
                f"{name}-viewer", domain_name=config.domain.record_name, zone_id=zone.zone_id,
                region=CLOUDFRONT_REGION, conventions=conv, parent=self)
            aliases = [config.domain.record_name]
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=certificate.arn,
                ssl_support_method="sni-only",  # CloudFront.8
                minimum_protocol_version=MINIMUM_PROTOCOL_VERSION)  # CloudFront.15
        else:
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
            tag_extra[CONTROL_EXCEPTIONS_TAG] = " ".join(e.control for e in DEFAULT_CERTIFICATE_EXCEPTIONS)

        geo = config.geo_restriction
        restrictions = aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                restriction_type=geo.type, locations=list(geo.locations))
            if geo is not None else
            aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none", locations=[]))

        self.distribution = aws.cloudfront.Distribution(
            name,
            enabled=True,
            comment=physical,
            http_version="http2and3",
            is_ipv6_enabled=True,
            default_root_object=DEFAULT_ROOT_OBJECT,  # CloudFront.1
            origins=origins,
            origin_groups=origin_groups or None,
            default_cache_behavior=default,
            ordered_cache_behaviors=ordered,
            price_class=config.price_class,
            restrictions=restrictions,
            viewer_certificate=viewer_certificate,
            aliases=aliases,
            web_acl_id=args.web_acl_arn,  # CloudFront.6
            tags=conv.tags(physical, tag_extra),
            opts=child,
        )
        self.domain_name = self.distribution.domain_name
        self.arn = self.distribution.arn

        if config.domain is not None and zone is not None:
            for record_type in ALIAS_RECORD_TYPES:
                aws.route53.Record(
                    f"{name}-{record_type.lower()}",
                    zone_id=zone.zone_id,
                    name=config.domain.record_name,
                    type=record_type,
                    aliases=[aws.route53.RecordAliasArgs(
                        name=self.distribution.domain_name, zone_id=self.distribution.hosted_zone_id,
                        evaluate_target_health=False)],
                    opts=child)
            self.shop_url = pulumi.Output.from_input(f"https://{config.domain.record_name}")
        else:
            self.shop_url = self.distribution.domain_name.apply(lambda host: f"https://{host}")

        self._logging(name, context, args, physical)
        if config.shield_advanced:
            shield_protection(f"{name}-shield", self.distribution.arn, conv, self)

        self.register_outputs({"arn": self.arn, "domainName": self.domain_name, "shopUrl": self.shop_url})

    def _logging(self, name: str, context: StackContext, args: CdnArgs, physical: str) -> None:
        """CloudFront.5 through standard logging v2: the legacy logging_config writes with S3
        ACLs, which the logs bucket has switched off (BucketOwnerEnforced, S3.12)."""
        conv = context.conventions
        log_opts = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-logs",
            name=f"{physical}-access-logs"[:60],
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            region=CLOUDFRONT_REGION,
            tags=conv.tags(f"{physical}-access-logs"),
            opts=log_opts,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-access-logs",
            name=f"{physical}-logs-bucket"[:60],
            output_format=LOG_OUTPUT_FORMAT,
            delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                destination_resource_arn=args.logs_bucket_arn),
            region=CLOUDFRONT_REGION,
            tags=conv.tags(f"{physical}-logs-bucket"),
            opts=log_opts,
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-access-logs",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            s3_delivery_configurations=[aws.cloudwatch.LogDeliveryS3DeliveryConfigurationArgs(
                enable_hive_compatible_path=False, suffix_path=LOG_SUFFIX_PATH)],
            region=CLOUDFRONT_REGION,
            tags=conv.tags(f"{physical}-access-logs"),
            opts=log_opts,
        )


def _alb_origin(origin_id: str, domain_name: pulumi.Input[str],
                origin_secret: pulumi.Input[str]) -> aws.cloudfront.DistributionOriginArgs:
    return aws.cloudfront.DistributionOriginArgs(
        origin_id=origin_id,
        domain_name=domain_name,
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80, https_port=443,
            origin_protocol_policy="https-only",  # CloudFront.9
            origin_ssl_protocols=list(ORIGIN_SSL_PROTOCOLS),  # CloudFront.10
            origin_keepalive_timeout=ORIGIN_KEEPALIVE_SECONDS,
            origin_read_timeout=ORIGIN_READ_TIMEOUT_SECONDS),
        custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
            name=ORIGIN_SECRET_HEADER, value=pulumi.Output.secret(origin_secret))])


def _origin_group(group_id: str, primary: str, secondary: str,
                  status_codes: Sequence[int]) -> aws.cloudfront.DistributionOriginGroupArgs:
    return aws.cloudfront.DistributionOriginGroupArgs(
        origin_id=group_id,
        failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(status_codes=list(status_codes)),
        members=[aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=primary),
                 aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=secondary)])


def _cache_key(*, cookies: Sequence[str], headers: Sequence[str], query_strings: bool,
               ) -> aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs:
    ns = aws.cloudfront
    return ns.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
        enable_accept_encoding_gzip=True,
        enable_accept_encoding_brotli=True,
        cookies_config=ns.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
            cookie_behavior="whitelist" if cookies else "none",
            cookies=ns.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookiesArgs(
                items=list(cookies)) if cookies else None),
        headers_config=ns.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
            header_behavior="whitelist" if headers else "none",
            headers=ns.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(
                items=list(headers)) if headers else None),
        query_strings_config=ns.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
            query_string_behavior="all" if query_strings else "none"),
    )


def security_headers() -> aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs:
    """The headers every response carries, overriding whatever an origin sent."""
    ns = aws.cloudfront
    return ns.ResponseHeadersPolicySecurityHeadersConfigArgs(
        strict_transport_security=ns.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
            access_control_max_age_sec=HSTS_MAX_AGE_SECONDS, include_subdomains=True, preload=True, override=True),
        content_type_options=ns.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(override=True),
        frame_options=ns.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
            frame_option="DENY", override=True),
        referrer_policy=ns.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
            referrer_policy=REFERRER_POLICY, override=True),
        content_security_policy=ns.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
            content_security_policy=CONTENT_SECURITY_POLICY, override=True),
        xss_protection=ns.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs(
            protection=True, mode_block=True, override=True),
    )
