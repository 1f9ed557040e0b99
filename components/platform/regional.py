"""RegionalPlatform: everything that lives in one region, built for the primary region and
(with the DR strategy) again for the DR region.

Keys, network, the data stores, the cluster with its autoscaling and add-ons, team
namespaces, the services, the ALB and its web firewall. What is global (the CDN and its
us-east-1 web ACL) is built once by :class:`~components.platform.retail_platform.RetailPlatform`,
which hands each slice the few values they share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_aws as aws

from components.analytics.lake import Lake, LakeArgs
from components.analytics.settings import LakeConfig, StreamsConfig
from components.analytics.streams import Streams, StreamsArgs
from components.analytics.warehouse import LakeAccess, Warehouse, WarehouseArgs, ZeroEtlSource
from components.analytics.warehouse_settings import WarehouseConfig
from components.api.backends import PartnerBackends, PartnerBackendsArgs
from components.api.partner_api import PartnerApi, PartnerApiArgs
from components.api.settings import ApiConfig
from components.audit.documents import audit_access_log_delivery
from components.audit.services import AuditBucketRef, AuditServices, AuditServicesArgs
from components.audit.settings import AuditConfig
from components.common.cidr import SubnetPlan, plan_subnets
from components.common.context import StackContext
from components.common.grants import people_trust_policy
from components.compute.addons import TARGET_GROUP_CLUSTER_TAG, ClusterAddons, ClusterAddonsArgs
from components.compute.cluster import KubernetesCluster, KubernetesClusterArgs
from components.compute.karpenter import Karpenter, KarpenterArgs
from components.compute.namespaces import TeamNamespaces, TeamNamespacesArgs
from components.compute.service import RetailService, RetailServiceArgs, callees_of, caller_namespaces
from components.compute.settings import KubernetesConfig, ServiceConfig
from components.data.cache import CACHE_PORT, Cache, CacheArgs
from components.data.cache_secondary import CacheSecondary, CacheSecondaryArgs
from components.data.nosql_tables import NoSqlTables, NoSqlTablesArgs, TableReplica
from components.data.object_storage import BucketReplication, ObjectStore, ObjectStoreArgs, ReplicaBucket
from components.data.settings import CacheConfig, NoSqlConfig, SqlConfig, StorageConfig
from components.data.sql_database import SqlDatabase, SqlDatabaseArgs
from components.data.sql_proxy import PROXY_PORT
from components.data.sql_secondary import SqlSecondary, SqlSecondaryArgs
from components.edge.cdn import CLOUDFRONT_LOG_DELIVERY_STATEMENTS
from components.edge.firewall import WebFirewall, WebFirewallArgs
from components.edge.load_balancer import LoadBalancer, LoadBalancerArgs, alb_log_delivery_statement
from components.edge.settings import EdgeConfig
from components.foundation.keys import ALARMS_DOMAIN, KEY_DOMAINS, KeyDomain, KeyRing, KeyRingArgs, with_zero_etl
from components.foundation.network import Network, NetworkArgs
from components.foundation.settings import NetworkConfig
from components.peaks.plan import EventPlan
from components.peaks.warming import AuroraHandle, PeakWarming, PeakWarmingArgs, ServiceHandle
from components.resilience.objectives import COMPUTE_STRATEGIES, GLOBAL_DATASTORE_STRATEGIES, Strategy

#: An analyst's session: a working day at most, then sign in again (with MFA).
ANALYST_SESSION_SECONDS = 8 * 3600


class TableGrants(Protocol):
    """Grants on the slice's tables: the primary's own, or (DR slice) their replicas here."""

    def grant_read(self, role: aws.iam.Role, table: str) -> object: ...
    def grant_read_write(self, role: aws.iam.Role, table: str) -> object: ...
    def grant_stream_read(self, role: aws.iam.Role, table: str) -> object: ...


@dataclass(frozen=True)
class ReplicationArgs:
    """The primary slice's side of a replicating DR strategy: where its stores replicate to.

    The DR slice is built after the primary (it needs the primary's keys, tables and global
    clusters), while the primary's tables and buckets name the DR slice's key and buckets: the
    caller hands deferred outputs (``pulumi.deferred_output``) and resolves them once the DR
    slice exists. No resource cycle: the DR key and buckets do not depend on the primary's stores."""

    strategy: Strategy
    region: str
    data_key_arn: pulumi.Input[str]
    """The DR slice's data key (a replica of the primary's multi-Region data key)."""
    buckets: Mapping[str, ReplicaBucket]
    """Per replicated purpose, the DR slice's bucket."""
    time_control: bool = True


@dataclass(frozen=True)
class StandbyArgs:
    """The DR slice's side: the primary it stands in for, and how much of it runs here."""

    strategy: Strategy
    primary_key_arns: Mapping[str, pulumi.Input[str]]
    """Per key domain, the primary's multi-Region key: the DR slice's keys are its replicas."""
    primary_tables: NoSqlTables
    """The primary's tables: their replicas in this region are the DR slice's tables."""
    global_cluster_id: pulumi.Input[str]
    """The primary's Aurora Global Database: the DR slice's cluster is its secondary."""
    global_datastore_id: pulumi.Input[str] | None = None
    """The primary cache's Global Datastore, for the strategies that keep a secondary of it."""
    audit_bucket: AuditBucketRef | None = None
    """The primary's audit bucket: this region's Config and GuardDuty deliver there."""


@dataclass(frozen=True)
class RegionalPlatformArgs:
    network: NetworkConfig
    storage: StorageConfig
    sql: SqlConfig
    nosql: NoSqlConfig
    cache: CacheConfig
    kubernetes: KubernetesConfig
    services: Sequence[ServiceConfig]
    edge: EdgeConfig
    origin_secret: pulumi.Input[str]
    """The header value only the CDN sends; the ALB forwards nothing without it."""
    key_replica_region: str | None = None
    """A second region whose replicas must decrypt this region's data: keys are then
    multi-Region (the DR region, from the primary's point of view)."""
    admit_cdn: bool = False
    """The global CDN reads this slice's assets bucket (SSE-KMS with the data key): the assets
    bucket's policy and the data key's are then completed by :meth:`ObjectStore.admit` and
    :meth:`KeyRing.admit` once the distribution exists (then :meth:`require_admitted`)."""
    name_prefix: str = ""
    """Prefix of every child's logical name. The primary keeps none, so its resources keep the
    names they had before the slice existed; a second slice needs one (URNs carry no parent
    name, so two slices with equal child names would collide)."""
    moved_from: pulumi.Resource | None = None
    """The component this slice's children were registered under before the slice existed.
    Each child then carries an alias to its earlier URN (and its children inherit it), so an
    existing stack updates in place instead of replacing its data stores. Only the primary."""
    replication: ReplicationArgs | None = None
    """The primary with a replicating DR strategy: its stores replicate to the DR slice."""
    standby: StandbyArgs | None = None
    """The DR slice: replica keys, replica stores, and compute only if the strategy runs it."""
    streams: StreamsConfig = field(default_factory=StreamsConfig)
    lake: LakeConfig = field(default_factory=LakeConfig)
    warehouse: WarehouseConfig | None = None
    """The primary's Redshift Serverless warehouse (when enabled); the DR slice builds none."""
    api: ApiConfig | None = None
    """The primary's partner APIs (when enabled), reaching the services over a VPC link."""
    peak_plans: Sequence[EventPlan] = ()
    """The peak calendar's plans (components/peaks/planner.py): the primary warms every layer
    before each event and releases it after (the DR slice is not warmed)."""
    observed: bool = False
    """The stack has alarms (``retail:alarms``): the ring gets the alarms key (their topic's)
    and the cluster Container Insights."""
    origin_record: bool = True
    """The ALB's simple ``origin.<host>`` record; off when failover routing owns that name."""
    regional_origin: bool = False
    """The ALB's own ``origin-<region>.<host>`` name (the CDN's origin group reaches it by it)."""
    audit: AuditConfig = field(default_factory=AuditConfig)
    audit_regions: Sequence[str] = ()
    """Every region of the stack that runs audit services (the primary, and the DR slice's region)."""

    def __post_init__(self) -> None:
        if self.replication is not None and self.standby is not None:
            raise ValueError("a slice is either the primary (replication) or the DR region's (standby), not both")
        if self.standby is not None and self.moved_from is not None:
            raise ValueError("only the primary slice moved from an earlier place; the DR slice is new")

    @property
    def warehouse_enabled(self) -> bool:
        return self.standby is None and self.warehouse is not None and self.warehouse.enabled

    @property
    def api_enabled(self) -> bool:
        return self.standby is None and self.api is not None and self.api.enabled and self.edge.domain is not None

    @property
    def runs_compute(self) -> bool:
        """The cluster, the ALB and the services: everywhere but a pilot light."""
        return self.standby is None or self.standby.strategy in COMPUTE_STRATEGIES


class RegionalPlatform(pulumi.ComponentResource):
    """Keys, network, data, compute and the regional edge of one region, wired together."""

    def __init__(self, name: str, context: StackContext, args: RegionalPlatformArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:platform:RegionalPlatform", name, None, opts)
        self._moved_from = args.moved_from
        named = args.name_prefix.__add__
        region = context.region

        self.keys = KeyRing(named("keys"), context, KeyRingArgs(
            # Replicated stores are decrypted in the DR region: the keys must be multi-Region.
            dr_region=args.key_replica_region or (args.replication.region if args.replication else None),
            replica_of=args.standby.primary_key_arns if args.standby is not None else None,
            admitted_later=frozenset({"data"} if args.admit_cdn else ()),
            domains=self._key_domains(args)),
                            opts=self._child(KeyRing))
        logs_key, data_key, secrets_key = (self.keys.arn(d) for d in ("logs", "data", "secrets"))
        self.network = Network(named("network"), context, NetworkArgs(settings=args.network, logs_key_arn=logs_key),
                               opts=self._child(Network))
        subnets = plan_subnets(args.network.cidr, args.network.az_count)
        cidrs = {tier: [s.cidr for s in subnets if s.tier == tier] for tier in ("public", "isolated")}
        vpc_id, subnet_ids = self.network.vpc.id, self.network.subnet_ids
        self.zones = [f"{region}{letter}" for letter in "abcdef"[:args.network.az_count]]

        # -- compute (not in a pilot light: it is created when the region is needed) ---------
        self.cluster = self.karpenter = self.addons = self.teams = None
        if args.runs_compute:
            self.cluster = KubernetesCluster(
                named("eks"), context,
                KubernetesClusterArgs(settings=args.kubernetes, vpc_id=vpc_id,
                                      private_subnet_ids=subnet_ids["private"], secrets_key_arn=secrets_key,
                                      data_key_arn=data_key, logs_key_arn=logs_key,
                                      log_retention_days=args.network.flow_log_retention_days,
                                      container_insights=args.observed),
                opts=self._child(),
            )
            system_ready = [self.cluster.node_group, self.cluster.addons["coredns"]]
            self.karpenter = Karpenter(
                named("karpenter"), context,
                KarpenterArgs(settings=args.kubernetes.karpenter, cluster_name=self.cluster.name,
                              cluster_endpoint=self.cluster.endpoint,
                              cluster_security_group_id=self.cluster.security_group_id,
                              private_subnet_ids=subnet_ids["private"], data_key_arn=data_key,
                              provider=self.cluster.provider, depends_on=system_ready),
                opts=self._child(),
            )
            self.addons = ClusterAddons(
                named("addons"), context,
                ClusterAddonsArgs(cluster_name=self.cluster.name, vpc_id=vpc_id, provider=self.cluster.provider,
                                  depends_on=system_ready),
                opts=self._child(),
            )
            self.teams = TeamNamespaces(
                named("teams"), context,
                TeamNamespacesArgs(teams=args.kubernetes.teams, provider=self.cluster.provider),
                opts=self._child(),
            )

        # -- data ----------------------------------------------------------------------
        replication = args.replication
        self.storage = ObjectStore(
            named("storage"), context,
            ObjectStoreArgs(
                settings=args.storage, data_key_arn=data_key,
                extra_statements={
                    # The ALB and CloudFront deliver their access logs here.
                    "logs": (alb_log_delivery_statement(region), *CLOUDFRONT_LOG_DELIVERY_STATEMENTS,
                             # The primary's audit bucket logs its requests here.
                             *((audit_access_log_delivery(context.conventions),) if args.standby is None else ())),
                },
                # The CDN reads the assets through Origin Access Control, and its distribution
                # is built from the assets bucket: the policy naming it comes with admit().
                admitted_later=frozenset({"assets"} if args.admit_cdn else ()),
                replication=BucketReplication(region=replication.region, destinations=replication.buckets,
                                              replica_key_arn=replication.data_key_arn,
                                              time_control=replication.time_control)
                if replication is not None else None,
            ),
            opts=self._child(ObjectStore),
        )
        # -- audit: the primary builds the audit bucket and the trail; each slice its region's
        # detector, hub, recorder and analyzer (components/audit/services.py) --------------------
        standby_audit = args.standby.audit_bucket if args.standby is not None else None
        if args.standby is not None and standby_audit is None:
            raise ValueError("StandbyArgs.audit_bucket is required: the DR region delivers to the primary's "
                             "audit bucket")
        self.audit = AuditServices(
            named("audit"), context,
            AuditServicesArgs(
                settings=args.audit, logs_key_arn=logs_key, logs_bucket_name=self.storage.bucket_name("logs"),
                customer_data_bucket_arns=[self.storage.bucket_arn(p) for p in ("dataLake", "backups")]
                if args.standby is None else [],
                detector_regions=args.audit_regions, audit_bucket=standby_audit),
            opts=self._child())
        # The DR slice's tables are the primary's replicas in this region: it creates none.
        self.tables: NoSqlTables | None = None
        self.table_grants: TableGrants
        if args.standby is not None:
            self.table_grants = args.standby.primary_tables.replica_view()
        else:
            self.tables = NoSqlTables(
                named("tables"), context,
                NoSqlTablesArgs(settings=args.nosql, data_key_arn=data_key,
                                replica=TableReplica(replication.region, replication.data_key_arn)
                                if replication is not None else None),
                opts=self._child())
            self.table_grants = self.tables

        # -- streams and the lake: the primary's (the DR slice keeps the stores of record; its
        # analytics are rebuilt from the replicated lake if the region is ever needed) --------
        self.streams: Streams | None = None
        self.lake: Lake | None = None
        if self.tables is not None:
            sources = {table: self.tables.tables[table].arn for table in args.streams.change_streams
                       if table in self.tables.tables}
            self.streams = Streams(named("streams"), context,
                                   StreamsArgs(settings=args.streams, data_key_arn=data_key, source_tables=sources),
                                   opts=self._child())
            self.lake = Lake(
                named("lake"), context,
                LakeArgs(settings=args.lake, streams=self.streams, bucket_name=self.storage.bucket_name("dataLake"),
                         bucket_arn=self.storage.bucket_arn("dataLake"), data_key_arn=data_key,
                         logs_key_arn=logs_key, log_retention_days=args.network.flow_log_retention_days),
                opts=self._child())

        # -- regional edge: nothing here waits on the cluster, so compute and edge build in parallel
        self.load_balancer = self.firewall = None
        if args.runs_compute:
            self.load_balancer = LoadBalancer(
                named("edge"), context,
                LoadBalancerArgs(vpc_id=vpc_id, vpc_cidr=args.network.cidr, public_subnet_ids=subnet_ids["public"],
                                 logs_bucket_name=self.storage.bucket_name("logs"),
                                 origin_secret=args.origin_secret, services=args.services, domain=args.edge.domain,
                                 # The controller registers pods only in target groups tagged for
                                 # its cluster: the name is known without waiting for the cluster.
                                 target_group_tags={TARGET_GROUP_CLUSTER_TAG: context.conventions.physical_name(
                                     named("eks"))},
                                 depends_on=[self.storage], origin_record=args.origin_record,
                                 regional_origin=args.regional_origin),
                opts=self._child(),
            )
            self.firewall = WebFirewall(
                named("waf-regional"), context,
                WebFirewallArgs(scope="REGIONAL", settings=args.edge,
                                log_retention_days=args.network.flow_log_retention_days,
                                logs_key_arn=logs_key, associate_with=self.load_balancer.arn),
                opts=self._child(),
            )

        # -- the partner APIs' private path: an NLB only the API's VPC link reaches ----------
        self.partner_backends: PartnerBackends | None = None
        if args.standby is None and args.api is not None and args.api.enabled and args.edge.domain is None:
            pulumi.log.warn(f"{name}: retail:api is enabled but retail:edge.domain is not set, so there is no partner "
                            "API: its private path is TLS to partners-backend.<recordName>, whose certificate needs "
                            "the domain. Set retail:edge.domain, or retail:api.enabled: false to silence this.",
                            resource=self)
        if args.api_enabled and args.runs_compute and args.api is not None and args.edge.domain is not None:
            self.partner_backends = PartnerBackends(
                named("partners"), context,
                PartnerBackendsArgs(backends=args.api.backends, services=args.services, vpc_id=vpc_id,
                                    subnet_ids=subnet_ids["public"],
                                    pod_cidrs=[s.cidr for s in subnets if s.tier == "private"],
                                    domain=args.edge.domain,
                                    target_group_tags={TARGET_GROUP_CLUSTER_TAG: context.conventions.physical_name(
                                        named("eks"))}),
                opts=self._child())

        # -- services -------------------------------------------------------------------
        self.services: dict[str, RetailService] = {}
        if self.cluster is not None and self.load_balancer is not None and self.teams is not None \
                and self.addons is not None:
            namespaces = caller_namespaces(args.services)
            partners = self.partner_backends
            # With RDS Proxy (the primary's) the pods talk to the proxy on 5432, never to the cluster.
            sql_port = PROXY_PORT if args.standby is None and args.sql.proxy.enabled else args.sql.port
            for spec in args.services:
                exposed = spec.path is not None and self.load_balancer.https_enabled
                backend = partners is not None and spec.name in partners.target_groups
                self.services[spec.name] = RetailService(
                    named(spec.name), context,
                    RetailServiceArgs(
                        spec=spec, namespace=spec.team, cluster_name=self.cluster.name,
                        provider=self.cluster.provider, zones=self.zones, caller_namespaces=namespaces,
                        callees=callees_of(spec.name, args.services),
                        target_group_arn=self.load_balancer.target_group_arns[spec.name] if exposed else None,
                        alb_security_group_id=self.load_balancer.security_group_id if exposed else None,
                        alb_source_cidrs=cidrs["public"] if exposed or backend else (),
                        partner_target_group_arn=partners.target_groups[spec.name].arn
                        if partners is not None and backend else None,
                        partner_security_group_id=partners.security_group.id
                        if partners is not None and backend else None,
                        # Only the ports of the stores the service declares; declaring any gives
                        # its pods a security group of their own, which those stores admit.
                        data_cidrs=cidrs["isolated"],
                        data_ports=[port for port, used in ((sql_port, spec.uses.sql is not None),
                                                            (CACHE_PORT, spec.uses.cache)) if used],
                        vpc_id=vpc_id, node_security_group_id=self.cluster.security_group_id,
                        database_config=spec.uses.sql is not None,
                    ),
                    opts=self._child(depends_on=[self.teams, self.addons]),
                )

        # -- the network stores: each admits exactly the services that declare it ---------------
        def clients(declares: Callable[[ServiceConfig], bool]) -> dict[str, pulumi.Output[str]]:
            return {spec.name: group.id for spec in args.services if spec.name in self.services
                    and declares(spec) and (group := self.services[spec.name].security_group) is not None}

        self._build_network_stores(named, context, args, vpc_id, subnet_ids["isolated"], data_key, secrets_key,
                                   logs_key, clients)

        for spec in args.services:
            if spec.name in self.services:
                self._grant_declared(spec)
                if spec.uses.sql is not None:
                    # The pods' endpoint: the proxy's when there is one, else the writer's.
                    self.services[spec.name].connect_database(self.sql.client_endpoint, self.sql.client_port,
                                                              args.sql.database_name, spec.uses.sql.user)

        self._build_analytics_and_apis(named, context, args, vpc_id, subnet_ids["isolated"], data_key, secrets_key,
                                       logs_key)
        self.peak_warming = self._peak_warming(named, context, args, subnets)

        self.register_outputs({
            "vpcId": vpc_id,
            "clusterName": self.cluster.name if self.cluster is not None else None,
            "albDnsName": self.load_balancer.dns_name if self.load_balancer is not None else None,
        })

    def _build_network_stores(self, named: Callable[[str], str], context: StackContext, args: RegionalPlatformArgs,
                              vpc_id: pulumi.Input[str], isolated: Sequence[pulumi.Input[str]],
                              data_key: pulumi.Input[str], secrets_key: pulumi.Input[str],
                              logs_key: pulumi.Input[str],
                              clients: Callable[[Callable[[ServiceConfig], bool]], dict[str, pulumi.Output[str]]]
                              ) -> None:
        """Aurora and the cache: the primary's own, or the DR slice's secondaries of them."""
        standby, replication = args.standby, args.replication
        self.cache: Cache | CacheSecondary | None = None
        self.sql: SqlDatabase | SqlSecondary
        if standby is None:
            self.cache = Cache(
                named("cache"), context,
                CacheArgs(settings=args.cache, vpc_id=vpc_id, subnet_ids=isolated, data_key_arn=data_key,
                          client_security_group_ids=clients(lambda s: s.uses.cache),
                          global_datastore=replication is not None
                          and replication.strategy in GLOBAL_DATASTORE_STRATEGIES),
                opts=self._child(),
            )
            warehouse = args.warehouse
            self.sql = SqlDatabase(
                named("sql"), context,
                SqlDatabaseArgs(settings=args.sql, vpc_id=vpc_id, subnet_ids=isolated, data_key_arn=data_key,
                                secrets_key_arn=secrets_key,
                                client_security_group_ids=clients(lambda s: s.uses.sql is not None),
                                logs_key_arn=logs_key, log_retention_days=args.network.flow_log_retention_days,
                                global_database=replication is not None,
                                zero_etl_source=args.warehouse_enabled and warehouse is not None
                                and warehouse.zero_etl.sql,
                                endpoint_security_group_id=self.network.endpoint_security_group.id
                                if self.network.endpoint_security_group is not None else None),
                opts=self._child(),
            )
            return
        # The DR slice: secondaries of the primary's global cluster and datastore. A pilot light
        # keeps the database headless (an instance is added when the region is needed) and no
        # cache (rebuilt empty: it holds copies only).
        if standby.global_datastore_id is not None:
            self.cache = CacheSecondary(
                named("cache"), context,
                CacheSecondaryArgs(settings=args.cache, global_datastore_id=standby.global_datastore_id,
                                   vpc_id=vpc_id, subnet_ids=isolated, data_key_arn=data_key,
                                   client_security_group_ids=clients(lambda s: s.uses.cache)),
                opts=self._child(),
            )
        self.sql = SqlSecondary(
            named("sql"), context,
            SqlSecondaryArgs(settings=args.sql, global_cluster_id=standby.global_cluster_id, vpc_id=vpc_id,
                             subnet_ids=isolated, data_key_arn=data_key,
                             client_security_group_ids=clients(lambda s: s.uses.sql is not None),
                             instances=0 if standby.strategy is Strategy.pilot_light else 1,
                             write_forwarding=standby.strategy is Strategy.active_active,
                             logs_key_arn=logs_key, log_retention_days=args.network.flow_log_retention_days),
            opts=self._child(),
        )

    def _peak_warming(self, named: Callable[[str], str], context: StackContext, args: RegionalPlatformArgs,
                      subnets: Sequence[SubnetPlan]) -> PeakWarming | None:
        """Black Friday mode: every layer raised before each planned event and released after."""
        if not args.peak_plans or args.standby is not None or self.cluster is None \
                or not isinstance(self.sql, SqlDatabase) or self.tables is None:
            return None
        sql, cluster = args.sql, self.cluster
        readers = sql.instances - 1
        return PeakWarming(
            named("peaks"), context,
            PeakWarmingArgs(
                plans=args.peak_plans,
                k8s_provider=cluster.provider,
                services={s.name: ServiceHandle(namespace=s.team, hpa_name=s.name, baseline_min_replicas=s.min_replicas)
                          for s in args.services if s.name in self.services},
                # The EKS control plane's ENIs live in the private subnets: the jobs' only egress.
                api_server_cidrs=[s.cidr for s in subnets if s.tier == "private"],
                aurora=AuroraHandle(
                    cluster_identifier=self.sql.cluster.cluster_identifier, cluster_arn=self.sql.cluster.arn,
                    baseline_min_acu=sql.min_acu if sql.serverless else None,
                    max_acu=sql.max_acu if sql.serverless else None,
                    baseline_readers=readers, max_readers=sql.max_readers or readers,
                    reader_target=self.sql.reader_scaling),
                tables={name: (table.name, table.arn) for name, table in self.tables.tables.items()},
                load_balancer_arn=self.load_balancer.arn if self.load_balancer is not None else None),
            opts=self._child(depends_on=list(self.services.values())))

    @classmethod
    def _key_domains(cls, args: RegionalPlatformArgs) -> tuple[KeyDomain, ...]:
        domains = (*KEY_DOMAINS, *((ALARMS_DOMAIN,) if args.observed else ()))
        return with_zero_etl(domains) if cls._zero_etl(args) else domains

    @staticmethod
    def _zero_etl(args: RegionalPlatformArgs) -> bool:
        """The warehouse takes data by zero-ETL: the data key admits Redshift's integrations."""
        warehouse = args.warehouse
        return args.warehouse_enabled and warehouse is not None and (
            warehouse.zero_etl.sql or bool(warehouse.zero_etl.tables))

    def _build_analytics_and_apis(self, named: Callable[[str], str], context: StackContext,
                                  args: RegionalPlatformArgs, vpc_id: pulumi.Input[str],
                                  isolated: Sequence[pulumi.Input[str]], data_key: pulumi.Input[str],
                                  secrets_key: pulumi.Input[str], logs_key: pulumi.Input[str]) -> None:
        """The warehouse (zero-ETL from Aurora and the tables, Spectrum over the lake's curated
        zone) and the partner APIs: the primary's only."""
        self.warehouse: Warehouse | None = None
        self.analyst_role: aws.iam.Role | None = None
        warehouse = args.warehouse
        if args.warehouse_enabled and warehouse is not None and self.lake is not None and self.tables is not None:
            sources = [ZeroEtlSource(name=table, kind="dynamodb", arn=self.tables.tables[table].arn)
                       for table in warehouse.zero_etl.tables]
            if warehouse.zero_etl.sql and isinstance(self.sql, SqlDatabase):
                sources.insert(0, ZeroEtlSource(name="sql", kind="aurora-postgresql", arn=self.sql.cluster.arn))
            endpoints = self.network.endpoint_security_group
            self.warehouse = Warehouse(
                named("warehouse"), context,
                WarehouseArgs(settings=warehouse, data_key_arn=data_key, secrets_key_arn=secrets_key,
                              logs_key_arn=logs_key, log_retention_days=args.network.flow_log_retention_days,
                              vpc_id=vpc_id, subnet_ids=isolated,
                              lake=LakeAccess(bucket_arn=self.storage.bucket_arn("dataLake"),
                                              glue_database=self.lake.database_name),
                              zero_etl_sources=sources,
                              # Any DR strategy, backup-restore too: the stack's DR tags name it.
                              dr_region=dict(context.conventions.dr_tags).get("dr-region"),
                              s3_prefix_list_id=self.network.gateway_endpoints["s3"].prefix_list_id,
                              endpoint_security_group_id=endpoints.id if endpoints is not None else None),
                opts=self._child())
            # Analysts read the warehouse and the lake's curated zone, nothing raw.
            analyst = context.conventions.physical_name("analyst", max_length=64)
            self.analyst_role = aws.iam.Role(
                named("analyst"), name=analyst,
                description="Analysts: warehouse credentials and the curated lake, with MFA",
                assume_role_policy=pulumi.Output.all(context.partition, context.account_id).apply(
                    lambda v: json.dumps(people_trust_policy(v[0], v[1]))),
                max_session_duration=ANALYST_SESSION_SECONDS,
                tags=context.conventions.tags(analyst), opts=self._child())
            self.warehouse.grant_analyst(self.analyst_role)

        self.partner_api: PartnerApi | None = None
        self.partner_firewall: WebFirewall | None = None
        if self.partner_backends is not None and args.api is not None:
            api = args.api
            # Its own web ACL: partners are servers, so Bot Control and the anonymous-IP list
            # (hosting providers included) would block them, and their rate is the API's.
            self.partner_firewall = WebFirewall(
                named("waf-partners"), context,
                WebFirewallArgs(scope="REGIONAL",
                                settings=args.edge.model_copy(update={"rate_limit": api.waf_rate_limit,
                                                                      "bot_control": False, "anonymous_ip": False}),
                                log_retention_days=args.network.flow_log_retention_days, logs_key_arn=logs_key),
                opts=self._child())
            urls = self.partner_backends.backend_urls()
            self.partner_api = PartnerApi(
                named("partners-api"), context,
                PartnerApiArgs(settings=api, logs_key_arn=logs_key, web_acl_arn=self.partner_firewall.arn,
                               nlb_arn=self.partner_backends.nlb.arn,
                               backend_urls={operation: urls[service] for operation, service in api.backends.items()}),
                opts=self._child())

    def _grant_declared(self, spec: ServiceConfig) -> None:
        """The service's workload role gets exactly what it declares, through the stores' own
        grant helpers (each also grants the key it needs, only through the store's service)."""
        role, uses = self.services[spec.name].role, spec.uses
        tables = self.table_grants
        table_grants = {"read": tables.grant_read, "readWrite": tables.grant_read_write,
                        "stream": tables.grant_stream_read}
        bucket_grants = {"read": self.storage.grant_read, "write": self.storage.grant_write,
                         "readWrite": self.storage.grant_read_write}
        for table, access in sorted(uses.tables.items()):
            table_grants[access](role, table)
        for purpose, access in sorted(uses.buckets.items()):
            bucket_grants[access](role, purpose)
        if uses.sql is not None:
            self.sql.grant_connect(role, uses.sql.user)
        if uses.cache and self.cache is not None:
            self.cache.grant_connect(role)
        if self.streams is not None:
            stream_grants = {"write": self.streams.grant_put, "read": self.streams.grant_read}
            for stream, access in sorted(uses.streams.items()):
                stream_grants[access](role, stream)

    def require_admitted(self) -> None:
        """Raise if a policy this slice left to be admitted later (``admit_cdn``) never was."""
        self.storage.require_admitted()
        self.keys.require_admitted()

    def _child(self, component: type | None = None,
               depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of a direct child: parented here and, for the primary, aliased to where it was
        registered before the slice existed, under the type token it had then (one alias must
        name both: the engine does not combine a type alias with a parent alias)."""
        aliases: list[pulumi.Input[pulumi.Alias]] = []
        if self._moved_from is not None:
            previous = getattr(component, "PREVIOUS_TYPE", None)
            aliases.append(pulumi.Alias(type_=previous, parent=self._moved_from) if previous
                           else pulumi.Alias(parent=self._moved_from))
        return pulumi.ResourceOptions(parent=self, aliases=aliases, depends_on=list(depends_on))
