"""RetailPlatform: the whole platform for one stack, composed from the validated config.

The composition root: the stack context, what is global (the CDN and its CloudFront-scope
web ACL in us-east-1, the origin secret the CDN and every regional ALB share) and the
regional slice for the primary region.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.common.context import StackContext
from components.data.object_storage import ObjectStore, account_public_access_block
from components.edge.cdn import (
    AssetsBucket,
    Cdn,
    CdnArgs,
    assets_bucket_policy_statement,
    assets_key_policy_statement,
)
from components.edge.firewall import WebFirewall, WebFirewallArgs
from components.platform.regional import RegionalPlatform, RegionalPlatformArgs
from components.resilience.objectives import REPLICATING
from config.rules import environment_warnings, loosened_defaults
from config.stack import StackConfig

#: The origin secret: letters and digits only, because ALB header matching treats `*` and `?`
#: as wildcards and ignores case.
ORIGIN_SECRET_LENGTH = 48


class RetailPlatform(pulumi.ComponentResource):
    """The global edge plus the primary region's slice, wired together."""

    def __init__(self, name: str, config: StackConfig, stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:platform:RetailPlatform", name, None, opts)
        for note in [*environment_warnings(config, stack), *loosened_defaults(config)]:
            pulumi.log.warn(note, resource=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        context = StackContext(
            conventions=config.conventions(stack),
            region=config.region,
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke).partition,
            protect=config.is_prod,
        )
        child = pulumi.ResourceOptions(parent=self)
        origin_secret = random.RandomPassword("origin-secret", length=ORIGIN_SECRET_LENGTH, special=False,
                                              opts=child)

        self.primary = RegionalPlatform(
            "primary", context,
            RegionalPlatformArgs(
                network=config.network, storage=config.storage, sql=config.sql, nosql=config.nosql,
                cache=config.cache, kubernetes=config.kubernetes, services=config.services, edge=config.edge,
                origin_secret=origin_secret.result, admit_cdn=True,
                key_replica_region=config.dr.region if config.dr.strategy in REPLICATING else None,
                # Before the slice existed its components were this component's children.
                moved_from=self,
            ),
            opts=child,
        )
        primary = self.primary

        # -- account-level settings: one per account, whatever the regions ------------------
        if config.storage.account_public_access_block:
            account_public_access_block(
                "storage-account-public-access-block", context,
                # It was the object store's child before the slice existed; the alias names that
                # place (the store under its type token of the time), so it is not recreated.
                opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=self.urn.apply(
                    lambda urn: f"{urn.rsplit('::', 1)[0]}${ObjectStore.PREVIOUS_TYPE}::storage"))]),
            )

        # -- global edge: CloudFront and its web ACL live in us-east-1 whatever the region --
        self.cdn_firewall = WebFirewall(
            "waf-cdn", context,
            WebFirewallArgs(scope="CLOUDFRONT", settings=config.edge,
                            log_retention_days=config.network.flow_log_retention_days),
            opts=child,
        )
        assets = primary.storage.bucket("assets")
        self.cdn = Cdn(
            "cdn", context,
            CdnArgs(settings=config.edge,
                    assets_bucket=AssetsBucket(name=assets.bucket, arn=assets.arn,
                                               regional_domain_name=assets.bucket_regional_domain_name),
                    web_acl_arn=self.cdn_firewall.arn, logs_bucket_arn=primary.storage.bucket_arn("logs"),
                    origin_domain_name=primary.load_balancer.origin_domain_name
                    if primary.load_balancer.https_enabled else None,
                    origin_secret=origin_secret.result, services=config.services, depends_on=[primary.storage]),
            opts=child,
        )
        # OAC reads need both policies to name this distribution: the bucket's to read, and
        # (the bucket is SSE-KMS with the data key) the key's to decrypt, else 403.
        primary.storage.admit("assets", pulumi.Output.all(assets.arn, self.cdn.arn).apply(
            lambda arns: [assets_bucket_policy_statement(arns[0], arns[1])]))
        primary.keys.admit("data", self.cdn.arn.apply(lambda arn: [assets_key_policy_statement(arn)]))
        primary.require_admitted()

        self.outputs = {
            "environment": config.environment.value,
            "region": config.region,
            "drRegion": config.dr.region,
            "drStrategy": config.dr.strategy.value,
            "vpcId": primary.network.vpc.id,
            "privateSubnetIds": primary.network.subnet_ids["private"],
            "isolatedSubnetIds": primary.network.subnet_ids["isolated"],
            "publicSubnetIds": primary.network.subnet_ids["public"],
            "kmsKeyArns": {domain: key.arn for domain, key in primary.keys.keys.items()},
            # Per service that declares the database or the cache: the group those stores admit.
            "podSecurityGroupIds": {name: service.security_group.id for name, service in primary.services.items()
                                    if service.security_group is not None},
            "bucketNames": {purpose: bucket.bucket for purpose, bucket in primary.storage.buckets.items()},
            "tableNames": {name: table.name for name, table in primary.tables.tables.items()},
            "cacheEndpoint": primary.cache.primary_endpoint,
            "sqlEndpoint": primary.sql.endpoint,
            "sqlReaderEndpoint": primary.sql.reader_endpoint,
            "sqlPort": primary.sql.port,
            "sqlMasterSecretArn": primary.sql.master_secret_arn,
            "clusterName": primary.cluster.name,
            "clusterEndpoint": primary.cluster.endpoint,
            "albDnsName": primary.load_balancer.dns_name,
            "cdnDomainName": self.cdn.domain_name,
            "shopUrl": self.cdn.shop_url,
        }
        self.register_outputs(self.outputs)
