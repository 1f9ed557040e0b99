"""AWS FIS experiment templates that rehearse the failures the DR strategy claims to survive.

Two rehearsals, each a template with its own role holding exactly what its actions need:

* **AZ power interruption** (one AZ of the region): the AZ's subnets lose connectivity, the
  Aurora cluster fails over to a reader in another AZ, the cache loses its nodes in the AZ,
  and the Kubernetes nodes in the AZ stop (and start again when the power "returns"). This
  is the in-region half of the multi-AZ claims (cluster failover, cache failover, nodes
  spread over zones).
* **Region isolation**: FIS has no action that fails over an Aurora global cluster
  (``aws:rds:failover-db-cluster`` is in-region only), so the region half is rehearsed by
  cutting the region off from the DR region:
  ``aws:network:route-table-disrupt-cross-region-connectivity`` on the primary's subnets,
  and ``aws:dynamodb:global-table-pause-replication`` on the global tables. The failover
  itself (Aurora switchover, Route 53) is then the runbook under test, done by people, with
  replication visibly stalled.

Templates cost nothing until an experiment runs; starting one is a deliberate act
(``fis:StartExperiment``), and every template stops on the stack's alarms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import attach, policy_document, service_trust_policy, statement

#: FIS action ids used here, as the FIS actions reference names them.
NETWORK_DISRUPT = "aws:network:disrupt-connectivity"
RDS_FAILOVER = "aws:rds:failover-db-cluster"
CACHE_AZ_POWER = "aws:elasticache:replicationgroup-interrupt-az-power"
EC2_STOP = "aws:ec2:stop-instances"
CROSS_REGION_DISRUPT = "aws:network:route-table-disrupt-cross-region-connectivity"
DYNAMODB_PAUSE = "aws:dynamodb:global-table-pause-replication"

#: The tag FIS puts on the network ACLs, route tables and prefix lists it creates: the role
#: may change and delete only those.
FIS_MANAGED_TAG = "managedByFIS"

#: The IAM actions each FIS action needs (FIS actions reference, "Permissions"). The role's
#: statements below grant these and nothing else; the tests hold the two together.
ACTION_PERMISSIONS: Mapping[str, frozenset[str]] = {
    NETWORK_DISRUPT: frozenset({
        "ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteNetworkAcl",
        "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        "ec2:GetManagedPrefixListEntries", "ec2:ReplaceNetworkAclAssociation"}),
    RDS_FAILOVER: frozenset({"rds:FailoverDBCluster", "rds:DescribeDBClusters", "tag:GetResources"}),
    CACHE_AZ_POWER: frozenset({"elasticache:InterruptClusterAzPower", "elasticache:DescribeReplicationGroups",
                               "tag:GetResources"}),
    EC2_STOP: frozenset({"ec2:StopInstances", "ec2:StartInstances", "ec2:DescribeInstances", "kms:CreateGrant"}),
    CROSS_REGION_DISRUPT: frozenset({
        "ec2:AssociateRouteTable", "ec2:CreateManagedPrefixList", "ec2:CreateNetworkInterface", "ec2:CreateRoute",
        "ec2:CreateRouteTable", "ec2:CreateTags", "ec2:DeleteManagedPrefixList", "ec2:DeleteNetworkInterface",
        "ec2:DeleteRouteTable", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables", "ec2:DescribeSubnets", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs",
        "ec2:DisassociateRouteTable", "ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList",
        "ec2:ModifyVpcEndpoint", "ec2:ReplaceRouteTableAssociation"}),
    DYNAMODB_PAUSE: frozenset({"dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
                               "dynamodb:GetResourcePolicy", "dynamodb:DescribeTable", "tag:GetResources"}),
}

#: What FIS needs to deliver experiment logs to CloudWatch Logs as the experiment's role.
LOG_DELIVERY_PERMISSIONS = frozenset({"logs:CreateLogDelivery", "logs:PutResourcePolicy",
                                      "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"})

#: Experiment log format: version 2 carries the target resolution of each action.
LOG_SCHEMA_VERSION = 2

_DURATION = re.compile(r"^PT(?=\d)(\d+H)?(\d+M)?(\d+S)?$")


def _check_duration(value: str, arg: str) -> None:
    if not _DURATION.match(value):
        raise ValueError(f"{arg} is {value!r}: FIS takes an ISO 8601 duration such as 'PT10M' or 'PT1H'")


@dataclass(frozen=True)
class AzPowerInterruption:
    """The AZ rehearsal: which AZ, and this stack's resources in it."""

    availability_zone: pulumi.Input[str]
    """The AZ to lose, e.g. ``eu-west-1a``."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """This AZ's subnets of the stack's VPC (every tier): their connectivity is cut."""
    db_cluster_arn: pulumi.Input[str] | None = None
    """The Aurora cluster to fail over; None: no database in the rehearsal."""
    cache_replication_group_arn: pulumi.Input[str] | None = None
    """The ElastiCache replication group whose nodes in the AZ lose power."""
    cluster_name: pulumi.Input[str] | None = None
    """The EKS cluster whose nodes in the AZ are stopped (managed node group and Karpenter
    nodes alike: both carry ``kubernetes.io/cluster/<name>``)."""
    volume_key_arn: pulumi.Input[str] | None = None
    """The key of the nodes' volumes: restarting an instance with encrypted volumes needs a
    grant on it. Required with ``cluster_name``."""
    duration: str = "PT10M"

    def __post_init__(self) -> None:
        _check_duration(self.duration, "AzPowerInterruption.duration")
        if not self.subnet_ids:
            raise ValueError("AzPowerInterruption.subnet_ids is empty: pass the subnets of the AZ to interrupt")
        if self.cluster_name is not None and self.volume_key_arn is None:
            raise ValueError("AzPowerInterruption.cluster_name needs volume_key_arn (the data key): stopped nodes "
                             "cannot start again without a grant on their volumes' key")


@dataclass(frozen=True)
class RegionIsolation:
    """The region rehearsal: cut this region off from the DR region."""

    dr_region: str
    subnet_ids: Sequence[pulumi.Input[str]]
    """The subnets whose traffic to the DR region is cut (the stack's private and isolated ones)."""
    global_table_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """DynamoDB global tables whose replication to the DR region is paused."""
    duration: str = "PT30M"

    def __post_init__(self) -> None:
        _check_duration(self.duration, "RegionIsolation.duration")
        if not self.subnet_ids:
            raise ValueError("RegionIsolation.subnet_ids is empty: pass the subnets to cut off from the DR region")


@dataclass(frozen=True)
class FaultInjectionArgs:
    vpc_id: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    """Where experiment logs go (the stack's log group; its key must admit CloudWatch Logs)."""
    stop_alarm_arns: Sequence[pulumi.Input[str]]
    """CloudWatch alarms that stop any running experiment (the service's 5xx, latency...)."""
    az_power: AzPowerInterruption | None = None
    """Build the AZ rehearsal; None: not built (the integrator's default in prod)."""
    region_isolation: RegionIsolation | None = None
    """Build the region rehearsal; None: not built."""
    without_stop_condition: bool = False
    """Allow templates with no stop condition (FIS's ``none``): only for a stack with no alarms yet."""

    def __post_init__(self) -> None:
        if not self.stop_alarm_arns and not self.without_stop_condition:
            raise ValueError("FaultInjectionArgs.stop_alarm_arns is empty: an experiment must stop on an alarm; pass "
                             "the stack's alarm ARNs, or set without_stop_condition=True knowingly")
        if self.stop_alarm_arns and self.without_stop_condition:
            raise ValueError("FaultInjectionArgs: stop_alarm_arns given with without_stop_condition=True; drop one")


# -- policies ---------------------------------------------------------------------------------

def _ec2(partition: str, region: str, account: str, kind: str, name: str = "*") -> str:
    return f"arn:{partition}:ec2:{region}:{account}:{kind}/{name}"


def _managed_by_fis(kind: str) -> dict[str, Any]:
    return {"StringEquals": {f"aws:{kind}/{FIS_MANAGED_TAG}": "true"}}


def _log_delivery() -> dict[str, Any]:
    # CreateLogDelivery and the resource-policy calls take no resource ARN.
    return statement("DeliverExperimentLogs", sorted(LOG_DELIVERY_PERMISSIONS), ["*"])


def az_power_policy(*, partition: str, region: str, account: str, vpc_id: str, subnet_ids: Sequence[str],
                    availability_zone: str, db_cluster_arn: str | None = None,
                    cache_replication_group_arn: str | None = None, cluster_name: str | None = None,
                    volume_key_arn: str | None = None) -> dict[str, Any]:
    """The AZ rehearsal's role: each action's permissions on this stack's resources in the AZ."""
    acl = _ec2(partition, region, account, "network-acl")
    subnets = [_ec2(partition, region, account, "subnet", s) for s in subnet_ids]
    statements = [
        statement("DescribeNetwork", ["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
                                      "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:GetManagedPrefixListEntries"],
                  ["*"]),
        statement("CreateDisruptingAcl", ["ec2:CreateNetworkAcl"], [acl], condition=_managed_by_fis("RequestTag")),
        statement("CreateDisruptingAclInTheVpc", ["ec2:CreateNetworkAcl"],
                  [_ec2(partition, region, account, "vpc", vpc_id)]),
        statement("TagDisruptingAcl", ["ec2:CreateTags"], [acl],
                  condition={"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl"}}),
        statement("ChangeOnlyFisAcls", ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], [acl],
                  condition=_managed_by_fis("ResourceTag")),
        # Swapping ACLs touches both the AZ's subnets and the ACLs (the subnets' own and FIS's).
        statement("SwapAclsOfTheAzSubnets", ["ec2:ReplaceNetworkAclAssociation"], [acl, *subnets]),
        _log_delivery(),
    ]
    if db_cluster_arn is not None:
        statements.append(statement("FailOverTheCluster", ["rds:DescribeDBClusters", "rds:FailoverDBCluster"],
                                    [db_cluster_arn]))
    if cache_replication_group_arn is not None:
        group_id = cache_replication_group_arn.rsplit(":", 1)[1]
        # The power cut acts on the group's member clusters (named after it) as well as the group.
        member_clusters = f"arn:{partition}:elasticache:{region}:{account}:cluster:{group_id}-*"
        statements.append(statement("InterruptCachePower", ["elasticache:DescribeReplicationGroups",
                                                            "elasticache:InterruptClusterAzPower"],
                                    [cache_replication_group_arn, member_clusters]))
    if db_cluster_arn is not None or cache_replication_group_arn is not None:
        # FIS resolves ARN targets through the tagging API; it has no resource-level form.
        statements.append(statement("ResolveTargets", ["tag:GetResources"], ["*"]))
    if cluster_name is not None:
        if volume_key_arn is None:
            raise ValueError("az_power_policy: cluster_name needs volume_key_arn")
        statements += [
            statement("DescribeInstances", ["ec2:DescribeInstances"], ["*"]),
            statement("StopAndStartTheClustersNodesInTheAz", ["ec2:StartInstances", "ec2:StopInstances"],
                      [_ec2(partition, region, account, "instance")],
                      condition={"StringEquals": {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned",
                                                  "ec2:AvailabilityZone": availability_zone}}),
            statement("RestartEncryptedVolumes", ["kms:CreateGrant"], [volume_key_arn],
                      condition={"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
                                 "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        ]
    return policy_document(*statements)


def region_isolation_policy(*, partition: str, region: str, account: str, vpc_id: str, subnet_ids: Sequence[str],
                            global_table_arns: Sequence[str] = ()) -> dict[str, Any]:
    """The region rehearsal's role: reroute this VPC's subnets through FIS's route tables, and
    pause the global tables' replication."""
    def ec2(kind: str, name: str = "*") -> str:
        return _ec2(partition, region, account, kind, name)

    vpc = ec2("vpc", vpc_id)
    subnets = [ec2("subnet", s) for s in subnet_ids]
    in_the_vpc = {"StringEquals": {"ec2:Vpc": vpc}}
    statements = [
        statement("DescribeNetwork", ["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkInterfaces",
                                      "ec2:DescribeRouteTables", "ec2:DescribeSubnets",
                                      "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs",
                                      "ec2:GetManagedPrefixListEntries"], ["*"]),
        statement("CreateFisRouteTablesAndPrefixLists", ["ec2:CreateManagedPrefixList", "ec2:CreateRouteTable"],
                  [ec2("route-table"), ec2("prefix-list")], condition=_managed_by_fis("RequestTag")),
        statement("CreateRouteTablesInTheVpc", ["ec2:CreateRouteTable"], [vpc]),
        statement("TagWhatFisCreates", ["ec2:CreateTags"],
                  [ec2("route-table"), ec2("prefix-list"), ec2("network-interface")],
                  condition={"StringEquals": {"ec2:CreateAction": ["CreateRouteTable", "CreateManagedPrefixList",
                                                                   "CreateNetworkInterface"]}}),
        statement("ChangeOnlyFisRouteTablesAndPrefixLists",
                  ["ec2:CreateRoute", "ec2:DeleteManagedPrefixList", "ec2:DeleteRouteTable",
                   "ec2:ModifyManagedPrefixList"],
                  [ec2("route-table"), ec2("prefix-list")], condition=_managed_by_fis("ResourceTag")),
        statement("RerouteTheSubnets", ["ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
                                        "ec2:ReplaceRouteTableAssociation"], [ec2("route-table"), *subnets]),
        # Interface endpoints of the DR region's services are cut by moving them off the subnets.
        statement("InterfacesInTheVpc", ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                                         "ec2:ModifyVpcEndpoint"],
                  [ec2("network-interface"), ec2("vpc-endpoint"), ec2("security-group"), *subnets],
                  condition=in_the_vpc),
        _log_delivery(),
    ]
    if global_table_arns:
        statements += [
            statement("PauseGlobalTableReplication", ["dynamodb:DeleteResourcePolicy", "dynamodb:DescribeTable",
                                                      "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy"],
                      list(global_table_arns)),
            statement("ResolveTargets", ["tag:GetResources"], ["*"]),
        ]
    return policy_document(*statements)


def fis_trust_policy(account_id: str) -> dict[str, Any]:
    return service_trust_policy("fis.amazonaws.com", account_id)


# -- component --------------------------------------------------------------------------------

class FaultInjection(pulumi.ComponentResource):
    """The experiment templates asked for in ``args``, each with its own least-privilege role."""

    templates: dict[str, aws.fis.ExperimentTemplate]
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, context: StackContext, args: FaultInjectionArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:resilience:FaultInjection", name, None, opts)
        self._name, self._context, self._args = name, context, args
        self.templates, self.roles = {}, {}
        az, isolation = args.az_power, args.region_isolation
        if az is not None and isinstance(az.availability_zone, str):
            zone = az.availability_zone
            if not zone.startswith(context.region):
                raise ValueError(f"AzPowerInterruption.availability_zone {zone!r} is not in {context.region}: "
                                 f"give an AZ of the region the template runs in (e.g. {context.region}a)")
        if isolation is not None and isolation.dr_region == context.region:
            raise ValueError(f"RegionIsolation.dr_region is {context.region}, the region being isolated: give the "
                             "DR region")
        if az is not None:
            self._az_power(az)
        if isolation is not None:
            self._region_isolation(isolation)
        self.register_outputs({f"{key}TemplateId": t.id for key, t in self.templates.items()})

    def _role(self, key: str, description: str, document: pulumi.Output[dict[str, Any]]) -> aws.iam.Role:
        conv, context = self._context.conventions, self._context
        role = aws.iam.Role(
            f"{self._name}-{key}",
            name=conv.physical_name("fis", key),
            description=description,
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(fis_trust_policy(account))),
            tags=conv.tags(conv.physical_name("fis", key)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attach(f"{self._name}-{key}", role, document, parent=role)
        self.roles[key] = role
        return role

    def _template(self, key: str, description: str, role: aws.iam.Role,
                  actions: list[aws.fis.ExperimentTemplateActionArgs],
                  targets: list[aws.fis.ExperimentTemplateTargetArgs]) -> None:
        conv, context, args = self._context.conventions, self._context, self._args
        stop_conditions = ([aws.fis.ExperimentTemplateStopConditionArgs(source="aws:cloudwatch:alarm", value=arn)
                            for arn in args.stop_alarm_arns]
                           or [aws.fis.ExperimentTemplateStopConditionArgs(source="none")])
        self.templates[key] = aws.fis.ExperimentTemplate(
            f"{self._name}-{key}",
            description=description,
            role_arn=role.arn,
            actions=actions,
            targets=targets,
            stop_conditions=stop_conditions,
            log_configuration=aws.fis.ExperimentTemplateLogConfigurationArgs(
                log_schema_version=LOG_SCHEMA_VERSION,
                cloudwatch_logs_configuration=aws.fis.ExperimentTemplateLogConfigurationCloudwatchLogsConfigurationArgs(
                    # FIS wants the log-stream wildcard the provider's log group ARN leaves out.
                    log_group_arn=pulumi.Output.from_input(args.log_group_arn).apply(
                        lambda arn: arn if arn.endswith(":*") else f"{arn}:*")),
            ),
            # A target that resolves to nothing is a broken rehearsal, not a pass.
            experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                account_targeting="single-account", empty_target_resolution_mode="fail"),
            region=context.region,
            tags=conv.tags(conv.physical_name("fis", key)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )

    def _az_power(self, az: AzPowerInterruption) -> None:
        context, args = self._context, self._args
        region = context.region
        document = pulumi.Output.all(
            context.partition, context.account_id, args.vpc_id, az.availability_zone,
            pulumi.Output.all(*az.subnet_ids), az.db_cluster_arn, az.cache_replication_group_arn, az.cluster_name,
            az.volume_key_arn,
        ).apply(lambda v: az_power_policy(
            partition=v[0], region=region, account=v[1], vpc_id=v[2], availability_zone=v[3], subnet_ids=v[4],
            db_cluster_arn=v[5], cache_replication_group_arn=v[6], cluster_name=v[7], volume_key_arn=v[8]))
        role = self._role("az", f"AWS FIS rehearses an AZ power interruption in {region}", document)
        subnet_arns = pulumi.Output.all(context.partition, context.account_id, *az.subnet_ids).apply(
            lambda v: [_ec2(v[0], region, v[1], "subnet", s) for s in v[2:]])
        duration = [aws.fis.ExperimentTemplateActionParameterArgs(key="duration", value=az.duration)]
        actions = [aws.fis.ExperimentTemplateActionArgs(
            name="disrupt-az-subnets", action_id=NETWORK_DISRUPT,
            parameters=[*duration, aws.fis.ExperimentTemplateActionParameterArgs(key="scope", value="all")],
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="Subnets", value="az-subnets"))]
        targets = [aws.fis.ExperimentTemplateTargetArgs(
            name="az-subnets", resource_type="aws:ec2:subnet", selection_mode="ALL", resource_arns=subnet_arns)]
        if az.db_cluster_arn is not None:
            actions.append(aws.fis.ExperimentTemplateActionArgs(
                name="fail-over-database", action_id=RDS_FAILOVER,
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="Clusters", value="database")))
            targets.append(aws.fis.ExperimentTemplateTargetArgs(
                name="database", resource_type="aws:rds:cluster", selection_mode="ALL",
                resource_arns=[az.db_cluster_arn]))
        if az.cache_replication_group_arn is not None:
            actions.append(aws.fis.ExperimentTemplateActionArgs(
                name="interrupt-cache-power", action_id=CACHE_AZ_POWER, parameters=duration,
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="ReplicationGroups", value="cache")))
            targets.append(aws.fis.ExperimentTemplateTargetArgs(
                name="cache", resource_type="aws:elasticache:replicationgroup", selection_mode="ALL",
                resource_arns=[az.cache_replication_group_arn],
                parameters={"availabilityZoneIdentifier": az.availability_zone}))
        if az.cluster_name is not None:
            actions.append(aws.fis.ExperimentTemplateActionArgs(
                name="stop-az-nodes", action_id=EC2_STOP,
                parameters=[aws.fis.ExperimentTemplateActionParameterArgs(
                    key="startInstancesAfterDuration", value=az.duration)],
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="Instances", value="az-nodes")))
            targets.append(aws.fis.ExperimentTemplateTargetArgs(
                name="az-nodes", resource_type="aws:ec2:instance", selection_mode="ALL",
                resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(
                    key=pulumi.Output.concat("kubernetes.io/cluster/", az.cluster_name), value="owned")],
                filters=[aws.fis.ExperimentTemplateTargetFilterArgs(
                             path="Placement.AvailabilityZone", values=[az.availability_zone]),
                         aws.fis.ExperimentTemplateTargetFilterArgs(path="State.Name", values=["running"])]))
        self._template("az", f"AZ power interruption in one AZ of {region}", role, actions, targets)

    def _region_isolation(self, isolation: RegionIsolation) -> None:
        context, args = self._context, self._args
        region = context.region
        document = pulumi.Output.all(
            context.partition, context.account_id, args.vpc_id, pulumi.Output.all(*isolation.subnet_ids),
            pulumi.Output.all(*isolation.global_table_arns),
        ).apply(lambda v: region_isolation_policy(partition=v[0], region=region, account=v[1], vpc_id=v[2],
                                                  subnet_ids=v[3], global_table_arns=v[4]))
        role = self._role("region", f"AWS FIS rehearses losing {region} to {isolation.dr_region}", document)
        subnet_arns = pulumi.Output.all(context.partition, context.account_id, *isolation.subnet_ids).apply(
            lambda v: [_ec2(v[0], region, v[1], "subnet", s) for s in v[2:]])
        duration = aws.fis.ExperimentTemplateActionParameterArgs(key="duration", value=isolation.duration)
        actions = [aws.fis.ExperimentTemplateActionArgs(
            name="cut-off-dr-region", action_id=CROSS_REGION_DISRUPT,
            parameters=[duration, aws.fis.ExperimentTemplateActionParameterArgs(key="region",
                                                                                value=isolation.dr_region)],
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="Subnets", value="subnets"))]
        targets = [aws.fis.ExperimentTemplateTargetArgs(
            name="subnets", resource_type="aws:ec2:subnet", selection_mode="ALL", resource_arns=subnet_arns)]
        if isolation.global_table_arns:
            actions.append(aws.fis.ExperimentTemplateActionArgs(
                name="pause-table-replication", action_id=DYNAMODB_PAUSE, parameters=[duration],
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="Tables", value="global-tables")))
            targets.append(aws.fis.ExperimentTemplateTargetArgs(
                name="global-tables", resource_type="aws:dynamodb:global-table", selection_mode="ALL",
                resource_arns=list(isolation.global_table_arns)))
        self._template("region", f"{region} cut off from {isolation.dr_region}", role, actions, targets)
