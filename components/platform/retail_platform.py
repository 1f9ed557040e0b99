"""RetailPlatform: the whole platform for one stack, composed from the validated config."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.common.cidr import plan_subnets
from components.compute.addons import TARGET_GROUP_CLUSTER_TAG, ClusterAddons, ClusterAddonsArgs
from components.compute.cluster import KubernetesCluster, KubernetesClusterArgs
from components.compute.karpenter import Karpenter, KarpenterArgs
from components.compute.namespaces import TeamNamespaces, TeamNamespacesArgs
from components.compute.service import RetailService, RetailServiceArgs, callees_of, caller_namespaces
from components.data.cache import CACHE_PORT, Cache, CacheArgs
from components.data.nosql_tables import NoSqlTables, NoSqlTablesArgs
from components.data.object_storage import ObjectStore, ObjectStoreArgs
from components.data.sql_database import SqlDatabase, SqlDatabaseArgs
from components.edge.cdn import (
    CLOUDFRONT_LOG_DELIVERY_STATEMENTS,
    AssetsBucket,
    Cdn,
    CdnArgs,
    assets_bucket_policy_statement_for_account,
)
from components.edge.firewall import WebFirewall, WebFirewallArgs
from components.edge.load_balancer import LoadBalancer, LoadBalancerArgs, alb_log_delivery_statement
from components.foundation.keys import KeyRing, KeyRingArgs
from components.foundation.network import Network, NetworkArgs
from config.rules import loosened_defaults
from config.stack import StackConfig

#: The CloudFront-scope web ACL and CloudFront's viewer certificate live here, whatever the
#: stack's region (AWS requires it).
CLOUDFRONT_REGION = "us-east-1"

#: The origin secret: letters and digits only, because ALB header matching treats `*` and `?`
#: as wildcards and ignores case.
ORIGIN_SECRET_LENGTH = 48


class RetailPlatform(pulumi.ComponentResource):
    """Every component of the blueprint, wired together."""

    def __init__(self, name: str, config: StackConfig, stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:platform:RetailPlatform", name, None, opts)
        conventions = config.conventions(stack)
        for note in loosened_defaults(config):
            pulumi.log.warn(note, resource=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        child = pulumi.ResourceOptions(parent=self)
        region, protect = config.region, config.is_prod

        self.keys = KeyRing(
            "keys",
            KeyRingArgs(conventions=conventions, region=region, dr_region=config.dr_region,
                        account_id=identity.account_id, partition=partition, protect=protect),
            opts=child,
        )
        self.network = Network(
            "network",
            NetworkArgs(config=config.network, conventions=conventions, region=region,
                        logs_key_arn=self.keys.arn("logs"), account_id=identity.account_id,
                        partition=partition, protect=protect),
            opts=child,
        )
        data_key = self.keys.arn("data")
        subnets = plan_subnets(config.network.cidr, config.network.az_count)
        cidrs = {tier: [s.cidr for s in subnets if s.tier == tier] for tier in ("public", "isolated")}

        # -- compute -------------------------------------------------------------------
        self.cluster = KubernetesCluster(
            "eks",
            KubernetesClusterArgs(config=config.kubernetes, conventions=conventions, region=region,
                                  vpc_id=self.network.vpc.id, private_subnet_ids=self.network.subnet_ids["private"],
                                  secrets_key_arn=self.keys.arn("secrets"), data_key_arn=data_key,
                                  logs_key_arn=self.keys.arn("logs"),
                                  log_retention_days=config.network.flow_log_retention_days,
                                  account_id=identity.account_id, partition=partition, protect=protect),
            opts=child,
        )
        # Workloads reach the data tier from the nodes (cluster security group) or from
        # anything that carries the network's data-clients group.
        data_clients = [self.network.data_clients_security_group.id, self.cluster.security_group_id]
        system_ready = [self.cluster.node_group, self.cluster.addons["coredns"]]
        self.karpenter = Karpenter(
            "karpenter",
            KarpenterArgs(config=config.kubernetes.karpenter, conventions=conventions, region=region,
                          cluster_name=self.cluster.name, cluster_endpoint=self.cluster.endpoint,
                          cluster_security_group_id=self.cluster.security_group_id,
                          private_subnet_ids=self.network.subnet_ids["private"], data_key_arn=data_key,
                          account_id=identity.account_id, partition=partition, provider=self.cluster.provider,
                          depends_on=system_ready),
            opts=child,
        )
        self.addons = ClusterAddons(
            "addons",
            ClusterAddonsArgs(conventions=conventions, region=region, cluster_name=self.cluster.name,
                              vpc_id=self.network.vpc.id, account_id=identity.account_id, partition=partition,
                              provider=self.cluster.provider, depends_on=system_ready),
            opts=child,
        )
        self.teams = TeamNamespaces(
            "teams",
            TeamNamespacesArgs(teams=config.kubernetes.teams, provider=self.cluster.provider,
                               conventions=conventions),
            opts=child,
        )

        # -- data ----------------------------------------------------------------------
        self.storage = ObjectStore(
            "storage",
            ObjectStoreArgs(
                config=config.storage, conventions=conventions, region=region, data_key_arn=data_key,
                account_id=identity.account_id, partition=partition, protect=protect,
                extra_statements={
                    # The ALB and CloudFront deliver their access logs here.
                    "logs": (alb_log_delivery_statement(region), *CLOUDFRONT_LOG_DELIVERY_STATEMENTS),
                    # The CDN reads the assets through Origin Access Control.
                    "assets": (assets_bucket_policy_statement_for_account,),
                },
            ),
            opts=child,
        )
        self.tables = NoSqlTables(
            "tables",
            NoSqlTablesArgs(config=config.nosql, conventions=conventions, region=region, data_key_arn=data_key,
                            protect=protect),
            opts=child,
        )
        self.cache = Cache(
            "cache",
            CacheArgs(config=config.cache, conventions=conventions, region=region, vpc_id=self.network.vpc.id,
                      subnet_ids=self.network.subnet_ids["isolated"], data_key_arn=data_key,
                      client_security_group_ids=data_clients, protect=protect),
            opts=child,
        )
        self.sql = SqlDatabase(
            "sql",
            SqlDatabaseArgs(config=config.sql, conventions=conventions, region=region, vpc_id=self.network.vpc.id,
                            subnet_ids=self.network.subnet_ids["isolated"], data_key_arn=data_key,
                            secrets_key_arn=self.keys.arn("secrets"), client_security_group_ids=data_clients,
                            account_id=identity.account_id, partition=partition, protect=protect),
            opts=child,
        )

        # -- edge: nothing here waits on the cluster, so compute and edge build in parallel --
        origin_secret = random.RandomPassword("origin-secret", length=ORIGIN_SECRET_LENGTH, special=False,
                                              opts=child)
        self.load_balancer = LoadBalancer(
            "edge",
            LoadBalancerArgs(conventions=conventions, region=region, vpc_id=self.network.vpc.id,
                             vpc_cidr=config.network.cidr, public_subnet_ids=self.network.subnet_ids["public"],
                             logs_bucket_name=self.storage.bucket_name("logs"), origin_secret=origin_secret.result,
                             services=config.services, domain=config.edge.domain, protect=protect,
                             # The controller registers pods only in target groups tagged for
                             # its cluster: the name is known without waiting for the cluster.
                             target_group_tags={TARGET_GROUP_CLUSTER_TAG: conventions.physical_name("eks")},
                             depends_on=[self.storage]),
            opts=child,
        )
        self.regional_firewall = WebFirewall(
            "waf-regional",
            WebFirewallArgs(conventions=conventions, scope="REGIONAL", region=region, config=config.edge,
                            log_retention_days=config.network.flow_log_retention_days,
                            logs_key_arn=self.keys.arn("logs"), associate_with=self.load_balancer.arn,
                            protect=protect),
            opts=child,
        )
        self.cdn_firewall = WebFirewall(
            "waf-cdn",
            WebFirewallArgs(conventions=conventions, scope="CLOUDFRONT", region=CLOUDFRONT_REGION,
                            config=config.edge, log_retention_days=config.network.flow_log_retention_days,
                            protect=protect),
            opts=child,
        )
        assets = self.storage.bucket("assets")
        self.cdn = Cdn(
            "cdn",
            CdnArgs(conventions=conventions, config=config.edge,
                    assets_bucket=AssetsBucket(name=assets.bucket, arn=assets.arn,
                                               regional_domain_name=assets.bucket_regional_domain_name),
                    web_acl_arn=self.cdn_firewall.arn, logs_bucket_arn=self.storage.bucket_arn("logs"),
                    account_id=identity.account_id, partition=partition,
                    origin_domain_name=self.load_balancer.origin_domain_name if self.load_balancer.https_enabled
                    else None,
                    origin_secret=origin_secret.result, services=config.services, depends_on=[self.storage]),
            opts=child,
        )

        # -- services -------------------------------------------------------------------
        namespaces = caller_namespaces(config.services)
        zones = [f"{region}{letter}" for letter in "abcdef"[:config.network.az_count]]
        self.services = {}
        for spec in config.services:
            exposed = spec.path is not None and self.load_balancer.https_enabled
            self.services[spec.name] = RetailService(
                spec.name,
                RetailServiceArgs(
                    spec=spec, namespace=spec.team, cluster_name=self.cluster.name, provider=self.cluster.provider,
                    conventions=conventions, region=region, account_id=identity.account_id, partition=partition,
                    zones=zones, caller_namespaces=namespaces, callees=callees_of(spec.name, config.services),
                    target_group_arn=self.load_balancer.target_group_arns[spec.name] if exposed else None,
                    alb_security_group_id=self.load_balancer.security_group_id if exposed else None,
                    alb_source_cidrs=cidrs["public"] if exposed else (),
                    data_cidrs=cidrs["isolated"], data_ports=[config.sql.port, CACHE_PORT],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.teams, self.addons]),
            )

        self.outputs = {
            "environment": config.environment.value,
            "region": region,
            "drRegion": config.dr_region,
            "vpcId": self.network.vpc.id,
            "privateSubnetIds": self.network.subnet_ids["private"],
            "isolatedSubnetIds": self.network.subnet_ids["isolated"],
            "publicSubnetIds": self.network.subnet_ids["public"],
            "kmsKeyArns": {domain: key.arn for domain, key in self.keys.keys.items()},
            "dataClientsSecurityGroupId": self.network.data_clients_security_group.id,
            "bucketNames": {purpose: bucket.bucket for purpose, bucket in self.storage.buckets.items()},
            "tableNames": {name: table.name for name, table in self.tables.tables.items()},
            "cacheEndpoint": self.cache.primary_endpoint,
            "sqlEndpoint": self.sql.endpoint,
            "sqlReaderEndpoint": self.sql.reader_endpoint,
            "sqlPort": self.sql.port,
            "sqlMasterSecretArn": self.sql.master_secret_arn,
            "clusterName": self.cluster.name,
            "clusterEndpoint": self.cluster.endpoint,
            "albDnsName": self.load_balancer.dns_name,
            "cdnDomainName": self.cdn.domain_name,
            "shopUrl": self.cdn.shop_url,
        }
        self.register_outputs(self.outputs)
