"""The relational store: Aurora PostgreSQL, private, encrypted with our keys, TLS only.

Orders, customers and payments live here. The cluster sits in the isolated subnets behind a
security group that admits only the client groups the caller names; storage, Performance
Insights and the RDS-managed master secret are encrypted with the stack's own keys;
applications sign in with IAM tokens (``grant_connect``), never with a shared password.
Readers scale out for peaks on their own (Aurora Auto Scaling) where the stack asks for it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import attach, policy_document, service_trust_policy, statement
from components.common.logs import log_group
from components.data.placement import StorePlacement, store_security_group
from components.data.settings import SqlConfig, check_db_user
from components.data.sql_proxy import PROXY_PORT, SqlProxy, SqlProxyArgs

ENGINE = "aurora-postgresql"

#: RDS.37 / PCI DSS 10.2.1: the PostgreSQL log (connections, DDL, slow statements) goes to
#: CloudWatch Logs, where it outlives the instance that wrote it.
LOG_EXPORTS = ("postgresql",)

#: Cluster parameters: (name, value, apply method). All five are dynamic in the
#: aurora-postgresql families, so they apply without a reboot; a static parameter added here
#: must say "pending-reboot" (RDS refuses "immediate" for it).
CLUSTER_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    # RDS.38 / PCI DSS 4.2.1: refuse any connection that is not TLS.
    ("rds.force_ssl", "1", "immediate"),
    # PCI DSS 10.2.1: who changed the schema, and who signed in and out, and when.
    ("log_statement", "ddl", "immediate"),
    ("log_connections", "1", "immediate"),
    ("log_disconnections", "1", "immediate"),
    # Statements slower than a second: the ones that hurt at checkout during a peak.
    ("log_min_duration_statement", "1000", "immediate"),
)

#: What a zero-ETL integration into Redshift needs of an Aurora PostgreSQL source: logical
#: replication with the enhanced (Aurora storage) decoding, no logical-replication backup, no
#: logical slots carried into a global database's secondaries. All static: RDS applies them at
#: the cluster's next reboot, which the integration waits for.
ZERO_ETL_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("rds.logical_replication", "1", "pending-reboot"),
    ("aurora.enhanced_logical_replication", "1", "pending-reboot"),
    ("aurora.logical_replication_backup", "0", "pending-reboot"),
    ("aurora.logical_replication_globaldb", "0", "pending-reboot"),
)

#: UTC, outside European and US shopping hours; the maintenance window follows the backup
#: window without overlapping it (RDS refuses overlapping windows).
BACKUP_WINDOW = "02:00-03:00"
MAINTENANCE_WINDOW = "sun:03:30-sun:04:30"

#: Promotion tiers: instance 1 first, then every other instance alike (lower is promoted first
#: when the writer fails).
WRITER_PROMOTION_TIER = 0
READER_PROMOTION_TIER = 1

#: Reader autoscaling. A surge arrives in minutes (a campaign e-mail, midnight on Black
#: Friday) and a new reader needs several minutes to join the reader endpoint, so scale-out
#: may follow scale-out after five minutes. Traffic leaves slowly and in waves: keeping a
#: reader for half an hour after load drops costs little, while removing it just before the
#: next wave costs the minutes it takes to add it back.
READER_SCALE_OUT_COOLDOWN_SECONDS = 300
READER_SCALE_IN_COOLDOWN_SECONDS = 1800
READER_SCALING_METRIC = "RDSReaderAverageCPUUtilization"
READER_SCALABLE_DIMENSION = "rds:cluster:ReadReplicaCount"

#: The AWS-managed policy that lets RDS publish Enhanced Monitoring metrics (RDS.6).
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"

#: The IAM action for IAM database authentication.
CONNECT_ACTION = "rds-db:connect"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_CLUSTER_RESOURCE_ID = re.compile(r"^cluster-[A-Z0-9]+$")


def parameter_group_family(engine_version: str) -> str:
    """``16.4`` -> ``aurora-postgresql16``: parameter groups are per major version."""
    major = engine_version.split(".", 1)[0]
    if not major.isdigit():
        raise ValueError(f"{engine_version!r} is not an Aurora PostgreSQL version (major.minor)")
    return f"{ENGINE}{major}"


def monitoring_trust_policy(account_id: str) -> dict[str, Any]:
    return service_trust_policy("monitoring.rds.amazonaws.com", account_id)


def enhanced_monitoring_policy_arn(partition: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{ENHANCED_MONITORING_POLICY}"


def connect_policy(partition: str, region: str, account_id: str, cluster_resource_id: str,
                   db_user: str) -> dict[str, Any]:
    """IAM database authentication to one cluster as one database user, nothing more."""
    check_db_user(db_user)
    if not _ACCOUNT_ID.match(account_id):
        raise ValueError(f"account id {account_id!r} must be twelve digits")
    if not _CLUSTER_RESOURCE_ID.match(cluster_resource_id):
        raise ValueError(f"{cluster_resource_id!r} is not a cluster resource id (cluster-XXXX); the ARN takes the "
                         "resource id, not the cluster's name")
    resource = f"arn:{partition}:rds-db:{region}:{account_id}:dbuser:{cluster_resource_id}/{db_user}"
    return policy_document(statement("ConnectAsDbUser", [CONNECT_ACTION], [resource]))


@dataclass(frozen=True)
class SqlDatabaseArgs:
    settings: SqlConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated (data) tier; Aurora spreads the instances over these subnets' AZs."""
    data_key_arn: pulumi.Input[str]
    """Encrypts storage, snapshots and Performance Insights."""
    secrets_key_arn: pulumi.Input[str]
    """Encrypts the master user's secret in Secrets Manager."""
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Groups allowed to connect, by client name. The component writes both sides: ingress on
    its own group and egress on each client group, to the database port only."""
    logs_key_arn: pulumi.Input[str] | None = None
    """Encrypts the exported PostgreSQL log (connections, DDL and role changes: PCI DSS 10.2).
    None leaves it to CloudWatch Logs' own encryption."""
    log_retention_days: int = 365
    """Days the exported PostgreSQL log is kept (PCI DSS 10.5.1 asks for a year)."""
    global_database: bool = False
    """Make this cluster the primary of an Aurora Global Database (``self.global_cluster``),
    which a :class:`~components.data.sql_secondary.SqlSecondary` in the DR region joins. An
    existing cluster is converted in place: the global cluster is created from it."""
    zero_etl_source: bool = False
    """The warehouse replicates this cluster by zero-ETL: the parameter group gets
    :data:`ZERO_ETL_PARAMETERS`."""
    endpoint_security_group_id: pulumi.Input[str] | None = None
    """The VPC's interface endpoints' group, for the RDS Proxy's way to Secrets Manager."""


# -- pieces the primary and the DR secondary share -------------------------------------------

@dataclass(frozen=True)
class ClusterFoundation:
    """What a cluster stands on, whichever side of a global database it is."""

    subnet_group: aws.rds.SubnetGroup
    security_group: aws.ec2.SecurityGroup
    parameter_group: aws.rds.ClusterParameterGroup
    monitoring_role: aws.iam.Role
    monitoring_policy: aws.iam.RolePolicyAttachment
    log_group: aws.cloudwatch.LogGroup


class ClusterPlacement(StorePlacement, Protocol):
    """What ``SqlDatabaseArgs`` and ``SqlSecondaryArgs`` share."""

    @property
    def settings(self) -> SqlConfig: ...
    @property
    def logs_key_arn(self) -> pulumi.Input[str] | None: ...
    @property
    def log_retention_days(self) -> int: ...


def cluster_foundation(component: pulumi.Resource, name: str, context: StackContext,
                       args: ClusterPlacement, extra_parameters: Sequence[tuple[str, str, str]] = (),
                       ) -> ClusterFoundation:
    """Subnet group, security group (with its clients), parameter group, monitoring role and
    log group of one cluster, in ``context.region``."""
    config = args.settings
    conv, region = context.conventions, context.region
    child = pulumi.ResourceOptions(parent=component)
    physical = conv.physical_name(name)
    family = parameter_group_family(config.engine_version)

    subnet_group = aws.rds.SubnetGroup(
        name, name=physical, description=f"{physical}: isolated subnets", subnet_ids=list(args.subnet_ids),
        region=region, tags=conv.tags(physical), opts=child)

    security_group = store_security_group(component, name, context, args, physical=physical, port=config.port,
                                          service="postgresql", kind="database")

    # Named after the family: a major upgrade creates the new group before the old one
    # goes, which a fixed name would make collide.
    group_name = conv.physical_name(name, family)
    parameter_group = aws.rds.ClusterParameterGroup(
        name,
        name=group_name,
        family=family,
        description=f"{physical}: TLS only, connection and DDL logging",
        parameters=[aws.rds.ClusterParameterGroupParameterArgs(name=p, value=v, apply_method=m)
                    for p, v, m in (*CLUSTER_PARAMETERS, *extra_parameters)],
        region=region,
        tags=conv.tags(group_name),
        opts=child,
    )

    role = aws.iam.Role(
        f"{name}-monitoring",
        description=f"Enhanced Monitoring of {physical} publishes OS metrics to CloudWatch Logs",
        assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
            lambda account: json.dumps(monitoring_trust_policy(account))),
        tags=conv.tags(conv.physical_name(name, "monitoring")),
        opts=child,
    )
    policy = aws.iam.RolePolicyAttachment(
        f"{name}-monitoring",
        role=role.name,
        policy_arn=pulumi.Output.from_input(context.partition).apply(enhanced_monitoring_policy_arn),
        opts=pulumi.ResourceOptions(parent=role),
    )

    # RDS would create the export's log group on first write, never expiring and with AWS's
    # key; creating it first makes the retention and the key ours.
    group = log_group(
        f"{name}-postgresql", context, name=f"/aws/rds/cluster/{physical}/postgresql",
        retention_days=args.log_retention_days, key_arn=args.logs_key_arn,
        tags=conv.tags(f"{physical}-postgresql"), parent=component)
    return ClusterFoundation(subnet_group, security_group, parameter_group, role, policy, group)


def cluster_args(name: str, context: StackContext, args: ClusterPlacement,
                 foundation: ClusterFoundation) -> dict[str, Any]:
    """The ``aws.rds.Cluster`` arguments a primary and a secondary have in common: engine,
    port, encryption, IAM auth, placement, parameters, log export, backups, deletion rules."""
    config, conv = args.settings, context.conventions
    physical = conv.physical_name(name)
    serverless = (aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
        min_capacity=config.min_acu, max_capacity=config.max_acu) if config.serverless else None)
    return dict(
        cluster_identifier=physical,
        engine=ENGINE,
        # Auto minor upgrades move the running version past this one; bump it in the
        # preset when they do, or the next `pulumi up` would ask for a downgrade.
        engine_version=config.engine_version,
        port=config.port,
        storage_encrypted=True,
        kms_key_id=args.data_key_arn,
        iam_database_authentication_enabled=True,
        db_subnet_group_name=foundation.subnet_group.name,
        vpc_security_group_ids=[foundation.security_group.id],
        db_cluster_parameter_group_name=foundation.parameter_group.name,
        enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
        backup_retention_period=config.backup_retention_days,
        preferred_backup_window=BACKUP_WINDOW,
        preferred_maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        # RDS.35: the cluster-level setting Aurora needs besides the instances' own.
        auto_minor_version_upgrade=True,
        deletion_protection=context.protect,
        skip_final_snapshot=not context.protect,
        final_snapshot_identifier=conv.physical_name(name, "final") if context.protect else None,
        delete_automated_backups=not context.protect,
        serverlessv2_scaling_configuration=serverless,
        # Performance Insights and Enhanced Monitoring are set on the instances, where
        # Aurora has always taken them; setting them on the cluster as well would give
        # two places that must agree.
        region=context.region,
        # The stack's backup plan selects the cluster by this tag (backup-restore, and the
        # floor under the replicating strategies).
        tags=conv.tags(physical, conv.backup_tags()),
    )


class AuroraCluster(pulumi.ComponentResource):
    """What the primary (:class:`SqlDatabase`) and a DR secondary (``SqlSecondary``) share:
    the foundation, the cluster with the common arguments, its instances, its endpoints and
    the IAM sign-in grant. A subclass adds only what is its own."""

    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    security_group: aws.ec2.SecurityGroup
    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    client_endpoint: pulumi.Output[str]
    """Where the services connect: the writer, or (on a primary with one) its RDS Proxy."""
    client_port: int

    def __init__(self, type_: str, name: str, context: StackContext, args: ClusterPlacement,
                 opts: pulumi.ResourceOptions | None):
        super().__init__(type_, name, None, opts)
        self._name, self._context, self._settings = name, context, args.settings
        # Only a primary is a zero-ETL source (a global secondary cannot be one).
        zero_etl = isinstance(args, SqlDatabaseArgs) and args.zero_etl_source
        foundation = cluster_foundation(self, name, context, args,
                                        extra_parameters=ZERO_ETL_PARAMETERS if zero_etl else ())
        self.foundation = foundation
        self.subnet_group = foundation.subnet_group
        self.security_group = foundation.security_group
        self.parameter_group = foundation.parameter_group
        self.monitoring_role = foundation.monitoring_role
        self.log_group = foundation.log_group

    def _create_cluster(self, args: ClusterPlacement, ignore_changes: list[str] | None,
                        **own: Any) -> aws.rds.Cluster:
        self.cluster = aws.rds.Cluster(
            self._name,
            **cluster_args(self._name, self._context, args, self.foundation),
            **own,
            opts=pulumi.ResourceOptions(parent=self, protect=self._context.protect, depends_on=[self.log_group],
                                        ignore_changes=ignore_changes),
        )
        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = self.cluster.port
        # Where services connect; the primary moves it to its proxy when it has one.
        self.client_endpoint, self.client_port = self.endpoint, self._settings.port
        return self.cluster

    def _create_instances(self, args: ClusterPlacement, count: int) -> list[aws.rds.ClusterInstance]:
        """``count`` instances, numbered from 1: the first in :data:`WRITER_PROMOTION_TIER`,
        the rest in :data:`READER_PROMOTION_TIER`.

        No instance waits for another. Aurora makes whichever instance it finishes first the
        writer; they are alike (one class, one parameter group), so which one it is does not
        matter, and failover follows the promotion tiers, not the creation order. Waiting for
        a writer only serialised a fresh deploy by the minutes an instance takes to create.
        """
        config, conv, foundation = args.settings, self._context.conventions, self.foundation
        self.instances = []
        for index in range(count):
            identifier = conv.physical_name(self._name, str(index + 1))
            tier = WRITER_PROMOTION_TIER if index == 0 else READER_PROMOTION_TIER
            self.instances.append(aws.rds.ClusterInstance(
                f"{self._name}-{index + 1}",
                identifier=identifier,
                cluster_identifier=self.cluster.id,
                engine=aws.rds.EngineType(ENGINE),
                instance_class=config.instance_class,
                db_subnet_group_name=foundation.subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                copy_tags_to_snapshot=True,
                promotion_tier=tier,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=args.data_key_arn,
                performance_insights_retention_period=config.performance_insights_retention_days,
                monitoring_interval=config.monitoring_interval_seconds,
                monitoring_role_arn=foundation.monitoring_role.arn,
                region=self._context.region,
                tags=conv.tags(identifier, {"promotion-tier": str(tier)}),
                # RDS checks the role's permissions when the instance is created.
                opts=pulumi.ResourceOptions(parent=self, protect=self._context.protect,
                                            depends_on=[foundation.monitoring_policy]),
            ))
        return self.instances

    def _register(self, outputs: Mapping[str, Any]) -> None:
        self.register_outputs({
            "endpoint": self.endpoint,
            "readerEndpoint": self.reader_endpoint,
            "port": self.port,
            "securityGroupId": self.security_group.id,
            **outputs,
        })

    def grant_connect(self, role: aws.iam.Role, db_user: str) -> aws.iam.RolePolicy:
        """Let ``role`` sign in to this cluster (in its region) as ``db_user`` with an IAM auth token.

        The database side is the application's: ``CREATE USER <db_user>; GRANT rds_iam TO
        <db_user>;`` plus the table rights it needs (on the primary: users replicate to a
        secondary with the data).
        """
        check_db_user(db_user, self._settings.master_username)
        context = self._context
        document = pulumi.Output.all(context.partition, context.account_id, self.cluster.cluster_resource_id).apply(
            lambda values: connect_policy(values[0], context.region, values[1], values[2], db_user))
        return attach(f"{self._name}-connect-{role.pulumi_resource_name}-{db_user}", role, document, parent=role)


class SqlDatabase(AuroraCluster):
    """An Aurora PostgreSQL cluster: a writer and readers in the isolated subnets."""

    master_secret_arn: pulumi.Output[str]
    reader_scaling: aws.appautoscaling.Target | None
    global_cluster: aws.rds.GlobalCluster | None
    proxy: SqlProxy | None
    """RDS Proxy in front of the writer (``retail:sql.proxy.enabled``): then the clients reach
    the proxy, and only the proxy reaches the cluster."""

    def __init__(self, name: str, context: StackContext, args: SqlDatabaseArgs,
                 opts: pulumi.ResourceOptions | None = None):
        proxied = args.settings.proxy.enabled
        # With a proxy the cluster's group admits the proxy's group only (added below), never a
        # service: a pod that skipped the proxy would bypass its pool and its limits.
        super().__init__("retail:data:SqlDatabase", name, context,
                         dataclasses.replace(args, client_security_group_ids={}) if proxied else args, opts)
        config, conv, region = args.settings, context.conventions, context.region

        self._create_cluster(
            args,
            # Creating the global cluster from this one sets its globalClusterIdentifier
            # outside the program; without this the next `pulumi up` would try to take the
            # cluster out of its global database again.
            ["globalClusterIdentifier"] if args.global_database else None,
            database_name=config.database_name,
            master_username=config.master_username,
            # RDS creates and rotates the password in Secrets Manager: it is never in the
            # program, the state or a stack file (PCI DSS 8.3).
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secrets_key_arn,
        )

        self.global_cluster = None
        if args.global_database:
            global_name = conv.physical_name(name, "global")
            self.global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=global_name,
                # Engine, version and encryption come from the source cluster: setting them
                # as well is refused by the provider (they conflict with the source).
                source_db_cluster_identifier=self.cluster.arn,
                # Required with a source cluster: on destroy, the members are detached first
                # (deletion protection and `protect` stop a destroy in prod before that).
                force_destroy=True,
                deletion_protection=context.protect,
                region=region,
                tags=conv.tags(global_name),
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )

        self._create_instances(args, config.instances)

        self.reader_scaling = None
        self.reader_scaling_policy: aws.appautoscaling.Policy | None = None
        if config.max_readers is not None:
            # Aurora Auto Scaling counts every reader, ours included, and removes only those it
            # added: the floor is the readers this component creates.
            self.reader_scaling = aws.appautoscaling.Target(
                f"{name}-readers",
                service_namespace="rds",
                scalable_dimension=READER_SCALABLE_DIMENSION,
                resource_id=self.cluster.cluster_identifier.apply(lambda cluster: f"cluster:{cluster}"),
                min_capacity=max(config.instances - 1, 1),
                max_capacity=config.max_readers,
                region=region,
                tags=conv.tags(conv.physical_name(name, "readers")),
                # Registering needs a cluster with a running writer.
                opts=pulumi.ResourceOptions(parent=self, depends_on=self.instances),
            )
            metric = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type=READER_SCALING_METRIC)
            self.reader_scaling_policy = aws.appautoscaling.Policy(
                f"{name}-readers-cpu",
                name=conv.physical_name(name, "readers-cpu"),
                policy_type="TargetTrackingScaling",
                service_namespace=self.reader_scaling.service_namespace,
                scalable_dimension=self.reader_scaling.scalable_dimension,
                resource_id=self.reader_scaling.resource_id,
                target_tracking_scaling_policy_configuration=(
                    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=config.reader_target_cpu,
                        predefined_metric_specification=metric,
                        scale_out_cooldown=READER_SCALE_OUT_COOLDOWN_SECONDS,
                        scale_in_cooldown=READER_SCALE_IN_COOLDOWN_SECONDS,
                    )),
                region=region,
                opts=pulumi.ResourceOptions(parent=self.reader_scaling),
            )

        self.master_secret_arn = self.cluster.master_user_secrets[0].secret_arn
        self.proxy = None
        if proxied:
            self.proxy = SqlProxy(
                f"{name}-proxy", context,
                SqlProxyArgs(settings=config.proxy, vpc_id=args.vpc_id, subnet_ids=args.subnet_ids,
                             cluster_identifier=self.cluster.cluster_identifier,
                             cluster_resource_id=self.cluster.cluster_resource_id,
                             cluster_security_group=self.security_group, cluster_port=config.port,
                             master_secret_arn=self.master_secret_arn, secrets_key_arn=args.secrets_key_arn,
                             master_username=config.master_username,
                             client_security_group_ids=args.client_security_group_ids, cluster_name=name,
                             logs_key_arn=args.logs_key_arn, log_retention_days=args.log_retention_days,
                             targets_ready=self.instances,
                             endpoint_security_group_id=args.endpoint_security_group_id),
                opts=pulumi.ResourceOptions(parent=self))
            self.client_endpoint, self.client_port = self.proxy.endpoint, PROXY_PORT
        self._register({
            "masterSecretArn": self.master_secret_arn,
            "clientEndpoint": self.client_endpoint,
            "globalClusterId": self.global_cluster.id if self.global_cluster is not None else None,
        })

    def grant_connect(self, role: aws.iam.Role, db_user: str) -> aws.iam.RolePolicy:
        """With a proxy, ``role`` signs in through the proxy (``rds-db:connect`` names the proxy's
        resource id, never the cluster's); without one, to the cluster itself."""
        if self.proxy is not None:
            check_db_user(db_user, self._settings.master_username)
            return self.proxy.grant_connect(role, db_user)
        return super().grant_connect(role, db_user)
