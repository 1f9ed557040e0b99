"""RetailPlatform: the whole platform for one stack, composed from the validated config.

The composition root: the stack context, what is global (the CDN and its CloudFront-scope
web ACL in us-east-1, the origin secret the CDN and every regional ALB share) and the
regional slice for the primary region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.ci.github_oidc import GithubOidc, GithubOidcArgs
from components.common.compliance import CONTROL_EXCEPTIONS_TAG, MACHINE_READ_ALARM_EXCEPTION
from components.common.context import StackContext
from components.common.logs import log_group
from components.compute.cluster import KubernetesCluster
from components.compute.settings import KubernetesConfig
from components.data.cache import Cache
from components.data.object_storage import (
    REPLICATED_PURPOSES,
    ObjectStore,
    ReplicaBucket,
    account_public_access_block,
    purpose_slug,
)
from components.data.sql_database import SqlDatabase
from components.data.sql_secondary import SqlSecondary
from components.edge.cdn import (
    AssetsBucket,
    Cdn,
    CdnArgs,
    assets_bucket_policy_statement,
    assets_key_policy_statement,
)
from components.edge.failover import FailoverRouting, FailoverRoutingArgs, RegionalOrigin, routing_mode
from components.edge.firewall import CLOUDFRONT_REGION, WebFirewall, WebFirewallArgs
from components.edge.load_balancer import LoadBalancer
from components.foundation.keys import ALARMS_DOMAIN, KEY_DOMAINS, KeyRing, KeyRingArgs
from components.observability.alarms import Alarms, AlarmsArgs, StandbySignals
from components.observability.signals import (
    AuroraSource,
    LoadBalancerSource,
    ReplicatedBucket,
    SignalSources,
    WebAclSource,
)
from components.peaks.planner import plan_events
from components.platform.regional import RegionalPlatform, RegionalPlatformArgs, ReplicationArgs, StandbyArgs
from components.resilience.backup import Backup, BackupArgs, BackupDr
from components.resilience.fault_injection import (
    AzPowerInterruption,
    FaultInjection,
    FaultInjectionArgs,
    RegionIsolation,
)
from components.resilience.objectives import REPLICATING, Strategy
from components.resilience.region_switch import (
    AuroraGlobal,
    EksScaling,
    RegionSwitchArgs,
    RegionSwitchPlan,
    ScaledDeployment,
)
from components.resilience.settings import DrConfig
from config.rules import environment_warnings, loosened_defaults
from config.stack import StackConfig

#: The origin secret: letters and digits only, because ALB header matching treats `*` and `?`
#: as wildcards and ignores case.
ORIGIN_SECRET_LENGTH = 48
#: A rehearsal stops once the shop's load balancer itself answers this many 5xx in a minute.
FIS_STOP_5XX_PER_MINUTE = 50


_T = TypeVar("_T")


def required(value: _T | None, what: str) -> _T:
    if value is None:
        raise ValueError(f"{what} is missing: the primary slice always builds it")
    return value


def _failed(error: BaseException) -> pulumi.Output[str]:
    def fail(_: object) -> str:
        raise RuntimeError(f"the DR slice was not built: {error}") from error
    return pulumi.Output.from_input("").apply(fail)


def replication_targets(dr: DrConfig) -> tuple[ReplicationArgs | None,
                                               Callable[[RegionalPlatform | BaseException], None]]:
    """The primary's replication targets as deferred outputs, and the function that resolves
    them from the DR slice once it exists (it is built from the primary, after it).

    If building fails in between, resolve them with the error: a deferred output left
    unresolved keeps the SDK waiting for the resources that read it, so ``pulumi up`` would
    hang instead of reporting the error."""
    if dr.strategy not in REPLICATING or dr.region is None:
        return None, lambda _: None
    key, resolve_key = pulumi.deferred_output()
    names = {purpose: pulumi.deferred_output() for purpose in REPLICATED_PURPOSES}
    arns = {purpose: pulumi.deferred_output() for purpose in REPLICATED_PURPOSES}
    replication = ReplicationArgs(
        strategy=dr.strategy, region=dr.region, data_key_arn=key,
        buckets={p: ReplicaBucket(name=names[p][0], arn=arns[p][0]) for p in REPLICATED_PURPOSES},
        time_control=dr.replication_time_control)

    def resolve(standby: RegionalPlatform | BaseException) -> None:
        if isinstance(standby, BaseException):
            for resolver in (resolve_key, *(names[p][1] for p in REPLICATED_PURPOSES),
                             *(arns[p][1] for p in REPLICATED_PURPOSES)):
                resolver(_failed(standby))
            return
        resolve_key(standby.keys.arn("data"))
        for purpose in REPLICATED_PURPOSES:
            names[purpose][1](standby.storage.bucket_name(purpose))
            arns[purpose][1](standby.storage.bucket_arn(purpose))

    return replication, resolve


def standby_kubernetes(kubernetes: KubernetesConfig, strategy: Strategy) -> KubernetesConfig:
    """A warm standby runs its system nodes at their minimum; Karpenter and the HPAs add the
    rest under load. Active-active runs the primary's size."""
    if strategy is not Strategy.warm_standby:
        return kubernetes
    nodes = kubernetes.system_nodes
    return kubernetes.model_copy(update={"system_nodes": nodes.model_copy(update={"desired_size": nodes.min_size})})


def standby_cluster_of(standby: RegionalPlatform | None) -> KubernetesCluster:
    return required(required(standby, "the DR slice").cluster, "the DR slice's cluster")


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

        # CI's identity in this account: GitHub Actions of one repository preview (read-only) and
        # deploy (the listed environments), with no stored keys.
        self.ci = GithubOidc("ci", context, GithubOidcArgs(config.ci), opts=child) if config.ci.enabled else None

        dr = config.dr
        # Failover records need the shop's Route 53 zone; without a domain only the assets fail over.
        mode = routing_mode(dr.strategy) if config.edge.domain is not None else None
        replication, resolve_replication = replication_targets(dr)
        self.standby: RegionalPlatform | None = None
        dr_keys: KeyRing | None = None
        try:
            self.primary = RegionalPlatform(
                "primary", context,
                RegionalPlatformArgs(
                    network=config.network, storage=config.storage, sql=config.sql, nosql=config.nosql,
                    cache=config.cache, kubernetes=config.kubernetes, services=config.services, edge=config.edge,
                    streams=config.streams, lake=config.lake, warehouse=config.warehouse, api=config.api,
                    origin_secret=origin_secret.result, admit_cdn=True, audit=config.audit,
                    observed=config.alarms is not None, peak_plans=plan_events(config),
                    # The account-level detectors of each region the stack runs in deliver to the
                    # primary's audit bucket, under the logs key: both name them.
                    audit_regions=[config.region, *([dr.region] if replication is not None and dr.region else [])],
                    replication=replication, origin_record=mode is None, regional_origin=mode is not None,
                    # Before the slice existed its components were this component's children.
                    moved_from=self,
                ),
                opts=child,
            )
            primary = self.primary
            primary_edge = required(primary.load_balancer, "the primary's load balancer")
            primary_sql, primary_cache = primary.sql, primary.cache
            if not isinstance(primary_sql, SqlDatabase):
                raise TypeError("the primary slice's database is the primary of the global cluster")

            # -- the DR region -----------------------------------------------------------------
            if dr.strategy in REPLICATING and dr.region is not None and dr.cidr is not None:
                # Built from the primary's keys, tables and global clusters; nothing in it waits on
                # the primary's compute, so both regions' slices build side by side.
                self.standby = RegionalPlatform(
                    "dr", context.for_dr(dr.region),
                    RegionalPlatformArgs(
                        network=config.network.model_copy(update={"cidr": dr.cidr}), storage=config.storage,
                        sql=config.sql, nosql=config.nosql, cache=config.cache,
                        kubernetes=standby_kubernetes(config.kubernetes, dr.strategy), services=config.services,
                        edge=config.edge, origin_secret=origin_secret.result, admit_cdn=True, name_prefix="dr-",
                        standby=StandbyArgs(
                            strategy=dr.strategy, primary_key_arns=primary.keys.arns(),
                            primary_tables=required(primary.tables, "the primary's tables"),
                            global_cluster_id=required(primary_sql.global_cluster, "the global database").id,
                            global_datastore_id=primary_cache.global_datastore.id
                            if isinstance(primary_cache, Cache) and primary_cache.global_datastore is not None
                            else None,
                            audit_bucket=primary.audit.bucket_ref()),
                        audit=config.audit, audit_regions=[config.region, dr.region],
                        observed=config.alarms is not None,
                        origin_record=False, regional_origin=True,
                    ),
                    opts=child,
                )
                resolve_replication(self.standby)
        except Exception as error:
            resolve_replication(error)
            raise
        if self.standby is not None:
            dr_keys = self.standby.keys
        elif dr.strategy is Strategy.backup_restore and dr.region is not None:
            # Copies re-encrypt with the DR vault's key: keys of that region, not replicas.
            dr_keys = KeyRing("dr-keys", context.for_dr(dr.region), KeyRingArgs(), opts=child)
        self.dr_keys = dr_keys
        self.backup: Backup | None = None
        if dr_keys is not None and dr.region is not None:
            data_key = primary.keys.arn("data")
            self.backup = Backup("backup", context, BackupArgs(
                vault_key_arn=data_key, source_key_arns=[data_key],
                dr=BackupDr(region=dr.region, vault_key_arn=dr_keys.arn("data")),
                # Prod's recovery points outlive a compromised account: nobody deletes them early.
                locked=context.protect), opts=child)

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
        # The CloudFront-scope web ACL logs to a log group in us-east-1, which only a key of
        # us-east-1 can encrypt: a logs key there, unless the primary region is us-east-1.
        self.edge_keys: KeyRing | None = None
        edge_logs_key = primary.keys.arn("logs")
        if dr_keys is not None and dr.region == CLOUDFRONT_REGION:
            edge_logs_key = dr_keys.arn("logs")  # the DR ring's alias names would collide with a second ring
        elif context.region != CLOUDFRONT_REGION:
            # With alarms, also the key of the us-east-1 topic CloudFront's alarms publish to.
            edge_domains = (*(d for d in KEY_DOMAINS if d.name == "logs"),
                            *((ALARMS_DOMAIN,) if config.alarms is not None else ()))
            self.edge_keys = KeyRing("edge-keys", context.in_region(CLOUDFRONT_REGION),
                                     KeyRingArgs(domains=edge_domains), opts=child)
            edge_logs_key = self.edge_keys.arn("logs")
        self.cdn_firewall = WebFirewall(
            "waf-cdn", context,
            WebFirewallArgs(scope="CLOUDFRONT", settings=config.edge,
                            log_retention_days=config.network.flow_log_retention_days, logs_key_arn=edge_logs_key),
            opts=child,
        )
        assets = primary.storage.bucket("assets")
        standby_edge = self.standby.load_balancer if self.standby is not None else None
        dr_assets = self.standby.storage.bucket("assets") if self.standby is not None else None
        self.cdn = Cdn(
            "cdn", context,
            CdnArgs(settings=config.edge,
                    assets_bucket=AssetsBucket(name=assets.bucket, arn=assets.arn,
                                               regional_domain_name=assets.bucket_regional_domain_name),
                    web_acl_arn=self.cdn_firewall.arn, logs_bucket_arn=primary.storage.bucket_arn("logs"),
                    origin_domain_name=primary_edge.origin_domain_name if primary_edge.https_enabled else None,
                    origin_secret=origin_secret.result, services=config.services, depends_on=[primary.storage],
                    # The replica bucket serves the assets when the primary's fails.
                    dr_assets_bucket=AssetsBucket(name=dr_assets.bucket, arn=dr_assets.arn,
                                                  regional_domain_name=dr_assets.bucket_regional_domain_name)
                    if dr_assets is not None else None,
                    dr_origin_domain_name=standby_edge.regional_origin_domain_name
                    if standby_edge is not None and standby_edge.https_enabled and mode is not None else None),
            opts=child,
        )
        # OAC reads need both policies to name this distribution: the bucket's to read, and
        # (the bucket is SSE-KMS with the data key) the key's to decrypt, else 403. The DR
        # slice's replica bucket and key likewise, for the origin group's second member.
        for regional in (primary, *([self.standby] if self.standby is not None else [])):
            bucket = regional.storage.bucket("assets")
            regional.storage.admit("assets", pulumi.Output.all(bucket.arn, self.cdn.arn).apply(
                lambda arns: [assets_bucket_policy_statement(arns[0], arns[1])]))
            regional.keys.admit("data", self.cdn.arn.apply(lambda arn: [assets_key_policy_statement(arn)]))
            regional.require_admitted()

        # -- failover: Route 53 records on each region's health, and the Region switch plan ---
        self.failover: FailoverRouting | None = None
        self.region_switch: RegionSwitchPlan | None = None
        if mode is not None and standby_edge is not None and config.edge.domain is not None \
                and dr.region is not None:
            self.failover = FailoverRouting(
                "origin-failover", context,
                FailoverRoutingArgs(domain=config.edge.domain, mode=mode,
                                    primary=RegionalOrigin.of(config.region, primary_edge),
                                    secondary=RegionalOrigin.of(dr.region, standby_edge),
                                    adopt_records=[primary_edge.origin_record_alias()]),
                opts=child,
            )
            # The failover as one reviewed procedure (ARC Region switch): approve, scale the
            # standby's services, switch Aurora's writer, then Route 53. Run by a person: the
            # records already move on health, and a failover that can lose writes is a decision.
            standby_sql, standby_cluster = required(self.standby, "the DR slice").sql, standby_cluster_of(self.standby)
            self.region_switch = RegionSwitchPlan(
                "region-switch", context,
                RegionSwitchArgs(
                    strategy=dr.strategy, dr_region=dr.region, hosted_zone_id=self.failover.zone_id,
                    record_name=self.failover.record_name,
                    aurora=AuroraGlobal(
                        global_cluster_identifier=required(primary_sql.global_cluster, "the global database").id,
                        cluster_arns={config.region: primary_sql.cluster.arn, dr.region: standby_sql.cluster.arn}),
                    eks=EksScaling(
                        cluster_names={config.region: required(primary.cluster, "the primary's cluster").name,
                                       dr.region: standby_cluster.name},
                        deployments=[ScaledDeployment(s.team, s.name, s.name) for s in config.services]),
                    approver_arns=list(config.kubernetes.admin_role_arns)),
                opts=child,
            )

        self.fault_injection = self._fault_injection(context, config, primary, primary_edge) \
            if dr.fault_injection else None
        self.alarms = self._alarms(context, config, primary, primary_edge) if config.alarms is not None else None

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
            "tableNames": {name: table.name for name, table in
                           required(primary.tables, "the primary's tables").tables.items()},
            "cacheEndpoint": required(primary_cache, "the primary's cache").primary_endpoint,
            "sqlEndpoint": primary.sql.endpoint,
            "sqlReaderEndpoint": primary.sql.reader_endpoint,
            "sqlPort": primary.sql.port,
            "sqlMasterSecretArn": primary_sql.master_secret_arn,
            "clusterName": required(primary.cluster, "the primary's cluster").name,
            "clusterEndpoint": required(primary.cluster, "the primary's cluster").endpoint,
            "albDnsName": primary_edge.dns_name,
            **self._dr_outputs(),
            "cdnDomainName": self.cdn.domain_name,
            "shopUrl": self.cdn.shop_url,
            **({"ciPreviewRoleArn": self.ci.preview_role.arn, "ciDeployRoleArn": self.ci.deploy_role.arn,
                "ciOidcProviderArn": self.ci.provider_arn} if self.ci is not None else {}),
            **({"alarmTopicArn": self.alarms.topics[config.region].topic.arn,
                "dashboardName": self.alarms.dashboard.dashboard_name} if self.alarms is not None else {}),
        }
        self.register_outputs(self.outputs)

    def _alarms(self, context: StackContext, config: StackConfig, primary: RegionalPlatform,
                edge: LoadBalancer) -> Alarms:
        """An alarm and a dashboard widget for each signal the stack has, in the region its metric
        lives in (CloudFront's in us-east-1, the DR slice's in the DR region)."""
        assert config.alarms is not None
        dr, sql = config.dr, config.sql
        standby = self.standby

        def aurora(database: SqlDatabase | SqlSecondary, secondary: bool = False) -> AuroraSource:
            return AuroraSource(database.cluster.cluster_identifier, sql.max_acu if sql.serverless else None,
                                global_secondary=secondary)

        tables = required(primary.tables, "the primary's tables").tables
        sources = SignalSources(
            load_balancer=LoadBalancerSource(edge.arn_suffix, edge.target_group_arn_suffixes),
            cloudfront_distribution_id=self.cdn.distribution.id,
            web_acls=[WebAclSource(self.cdn_firewall.web_acl.name, CLOUDFRONT_REGION, cloudfront=True),
                      *([WebAclSource(primary.firewall.web_acl.name, config.region)] if primary.firewall else []),
                      *([WebAclSource(primary.partner_firewall.web_acl.name, config.region)]
                        if primary.partner_firewall else [])],
            aurora=aurora(primary.sql),
            dynamodb_tables={name: table.name for name, table in tables.items()},
            dynamodb_replica_regions=[dr.region] if standby is not None and dr.region else [],
            cache_replication_group_id=primary.cache.replication_group.id if isinstance(primary.cache, Cache) else None,
            eks_cluster_name=primary.cluster.name if primary.cluster is not None else None,
            kinesis_streams={name: stream.name for name, stream in primary.streams.streams.items()}
            if primary.streams is not None else {},
            backup_vaults={"primary": self.backup.vault.name} if self.backup is not None else {},
            replicated_buckets={purpose: ReplicatedBucket(primary.storage.bucket(purpose).bucket,
                                                          standby.storage.bucket(purpose).bucket,
                                                          f"{purpose_slug(purpose)}-to-{dr.region}")
                                for purpose in REPLICATED_PURPOSES} if standby is not None and dr.region else {})
        standby_signals = None
        if standby is not None and dr.region is not None:
            backup = self.backup
            standby_signals = StandbySignals(dr.region, standby.keys.arn("alarms"), SignalSources(
                aurora=aurora(standby.sql, secondary=True),
                backup_vaults={"dr": backup.dr_vault.name} if backup is not None and backup.dr_vault is not None
                else {}))
        return Alarms("alarms", context, AlarmsArgs(
            settings=config.alarms, key_arn=primary.keys.arn("alarms"), sources=sources,
            edge_key_arn=self.edge_keys.arn("alarms") if self.edge_keys is not None else None,
            standby=standby_signals), opts=pulumi.ResourceOptions(parent=self))

    def _fault_injection(self, context: StackContext, config: StackConfig, primary: RegionalPlatform,
                         edge: LoadBalancer) -> FaultInjection:
        """FIS templates to rehearse an AZ's loss (and, with a replicating strategy, the
        region's), stopped by the shop's own errors."""
        conv, child = context.conventions, pulumi.ResourceOptions(parent=self)
        stop = aws.cloudwatch.MetricAlarm(
            "fis-stop",
            name=conv.physical_name("fis", "stop"),
            alarm_description="Stops any running FIS experiment: the shop's load balancer answers with errors",
            namespace="AWS/ApplicationELB", metric_name="HTTPCode_ELB_5XX_Count", statistic="Sum",
            dimensions={"LoadBalancer": edge.arn_suffix}, period=60, evaluation_periods=1,
            threshold=FIS_STOP_5XX_PER_MINUTE, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching", region=context.region,
            tags=conv.tags(conv.physical_name("fis", "stop"),
                           {CONTROL_EXCEPTIONS_TAG: MACHINE_READ_ALARM_EXCEPTION.control}),
            opts=child)
        logs = log_group("fis", context, name=f"/retail/{conv.stack}/fis",
                         retention_days=config.network.flow_log_retention_days, key_arn=primary.keys.arn("logs"),
                         tags=conv.tags(conv.physical_name("fis")), parent=self)
        network = primary.network
        sql, cache, cluster = primary.sql, primary.cache, required(primary.cluster, "the primary's cluster")
        dr = config.dr
        return FaultInjection("fis", context, FaultInjectionArgs(
            vpc_id=network.vpc.id, log_group_arn=logs.arn, stop_alarm_arns=[stop.arn],
            # The first AZ's subnets of every tier: the plan orders each tier's subnets by AZ.
            az_power=AzPowerInterruption(
                availability_zone=primary.zones[0],
                subnet_ids=[network.subnet_ids[tier][0] for tier in ("public", "private", "isolated")],
                db_cluster_arn=sql.cluster.arn,
                cache_replication_group_arn=cache.replication_group.arn if cache is not None else None,
                cluster_name=cluster.name, volume_key_arn=primary.keys.arn("data")),
            region_isolation=RegionIsolation(
                dr_region=dr.region, subnet_ids=[*network.subnet_ids["private"], *network.subnet_ids["isolated"]],
                global_table_arns=[t.arn for t in required(primary.tables, "the primary's tables").tables.values()])
            if dr.strategy in REPLICATING and dr.region is not None else None),
            opts=child)

    def _dr_outputs(self) -> dict[str, object]:
        """What an operator needs in a failover: where the DR region's pieces are."""
        outputs: dict[str, object] = {}
        if self.backup is not None:
            outputs["backupVaults"] = {"primary": self.backup.vault.name,
                                       **({"dr": self.backup.dr_vault.name} if self.backup.dr_vault else {})}
        standby = self.standby
        if standby is not None:
            outputs["drVpcId"] = standby.network.vpc.id
            outputs["drSqlEndpoint"] = standby.sql.endpoint
            outputs["drBucketNames"] = {purpose: bucket.bucket for purpose, bucket in standby.storage.buckets.items()}
            if standby.cluster is not None:
                outputs["drClusterName"] = standby.cluster.name
            if standby.load_balancer is not None:
                outputs["drAlbDnsName"] = standby.load_balancer.dns_name
        if self.failover is not None:
            outputs["originFailoverRecord"] = self.failover.record_name
        return outputs
