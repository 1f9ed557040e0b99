"""An ARC Region switch plan: the runbook of a region switch, executable and evaluated by AWS.

Route 53 (:mod:`components.edge.failover`) moves the traffic by itself when a region's
targets go; what it cannot do is move the database writer, raise the standby's capacity
before the traffic lands, or let an operator move everything on purpose (a degraded but not
dead region, a drill). The plan does those, in this order, for the region being activated:

1. manual approval (when approvers are given): failing over Aurora may lose the last second
   of writes, a decision for a person;
2. EKS resource scaling: the activating region's Deployments (through their HPAs) to
   :data:`SCALE_TARGET_PERCENT` of what the other region ran over the last day;
3. Aurora Global Database: a switchover (no data loss) when the plan is run gracefully, a
   failover when run ungracefully (the old writer's region is down);
4. Route 53 health checks: ARC creates one health check per region for the origin record's
   sets and flips them; the records honour them once the integrator feeds them to
   ``FailoverRoutingArgs.control_health_check_ids`` (:func:`plan_health_check_ids`).

Warm standby is ``activePassive`` (one activate workflow per region, so the plan also fails
back); active-active is ``activeActive``: activating a region scales it and puts its records
back, deactivating one moves the Aurora writer away and takes its records out.

No trigger: Route 53 already fails the traffic over without anyone, and an automatic Aurora
failover on an alarm would trade data for minutes without a person deciding. The plan is run
from the console or ``aws arc-region-switch start-plan-execution``.

The execution role may do exactly what the steps need on this stack's resources, per the
ARC guide's per-block policies: describe and switch over or fail over the one global cluster
and its two clusters, describe the two EKS clusters and read their access entries, list the
records of the one hosted zone. Inside the clusters it gets an access entry with
``AmazonARCRegionSwitchScalingPolicy`` limited to the scaled namespaces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import attach, policy_document, service_trust_policy, statement
from components.resilience.objectives import SERVICE_RTO, Strategy

REGION_SWITCH_PRINCIPAL = "arc-region-switch.amazonaws.com"

#: Plan names: at most 32 letters, digits and inner hyphens.
MAX_PLAN_NAME_LENGTH = 32

#: The activating region's services end at what the other region ran (its sampled maximum of
#: the last 24 hours): warm standby runs them at minimum, the traffic arrives at full size.
SCALE_TARGET_PERCENT = 100
CAPACITY_MONITORING = "sampledMaxInLast24Hours"
#: An ungraceful run (the other region is down, its capacity unknown) goes on once this share
#: of the target is reached rather than waiting for every pod.
UNGRACEFUL_MINIMUM_SUCCESS_PERCENT = 75

APPROVAL_TIMEOUT_MINUTES = 60
AURORA_TIMEOUT_MINUTES = 30
EKS_TIMEOUT_MINUTES = 30
ROUTE53_TIMEOUT_MINUTES = 10

#: The EKS access policy Region switch's scaling steps act through (get/update */scale,
#: get */status, get/patch HPAs).
EKS_SCALING_ACCESS_POLICY = "AmazonARCRegionSwitchScalingPolicy"

RECOVERY_APPROACH: dict[Strategy, str] = {
    Strategy.warm_standby: "activePassive",
    Strategy.active_active: "activeActive",
}

#: The step names, in the order an activation runs them.
STEP_APPROVAL = "approve"
STEP_SCALE = "scale-services"
STEP_AURORA = "move-aurora-writer"
STEP_ROUTE53 = "route-traffic"


@dataclass(frozen=True)
class AuroraGlobal:
    global_cluster_identifier: pulumi.Input[str]
    cluster_arns: Mapping[str, pulumi.Input[str]]
    """Region -> the global database's cluster there (primary and DR)."""


@dataclass(frozen=True)
class ScaledDeployment:
    namespace: str
    name: str
    hpa_name: str | None = None
    """The HPA that owns its replica count (ARC raises its minimum); the RetailService's HPA
    carries the service's name."""


@dataclass(frozen=True)
class EksScaling:
    cluster_names: Mapping[str, pulumi.Input[str]]
    """Region -> the EKS cluster there (primary and DR)."""
    deployments: Sequence[ScaledDeployment]


@dataclass(frozen=True)
class RegionSwitchArgs:
    strategy: Strategy
    """warm-standby or active-active; the others have no standby to switch to."""
    dr_region: str
    hosted_zone_id: pulumi.Input[str]
    record_name: str
    """The failover record (``FailoverRouting.record_name``); its set identifiers are the regions."""
    aurora: AuroraGlobal | None = None
    eks: EksScaling | None = None
    approver_arns: Sequence[pulumi.Input[str]] = ()
    """IAM principals (roles of the on-call) that may approve an execution; none: no approval step."""
    extra_tags: Mapping[str, str] = field(default_factory=dict)


class RegionSwitchPlan(pulumi.ComponentResource):
    plan: aws.arcregionswitch.Plan
    execution_role: aws.iam.Role
    approval_role: aws.iam.Role | None
    arn: pulumi.Output[str]

    def __init__(self, name: str, context: StackContext, args: RegionSwitchArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:resilience:RegionSwitchPlan", name, None, opts)
        approach = RECOVERY_APPROACH.get(args.strategy)
        if approach is None:
            raise ValueError(f"strategy {args.strategy.value} has no running standby to switch to: a Region switch "
                             "plan needs warm-standby or active-active (retail:dr.strategy)")
        primary = context.region
        regions = (primary, args.dr_region)
        if args.dr_region == primary:
            raise ValueError(f"dr_region {args.dr_region} is the primary region: give the DR region (retail:dr.region)")
        for what, mapping in (("aurora.cluster_arns", args.aurora.cluster_arns if args.aurora else None),
                              ("eks.cluster_names", args.eks.cluster_names if args.eks else None)):
            if mapping is not None and set(mapping) != set(regions):
                raise ValueError(f"{what} must name exactly {sorted(regions)}; got {sorted(mapping)}")
        if args.eks is not None and not args.eks.deployments:
            raise ValueError("eks.deployments is empty: name the Deployments to scale, or leave eks out")

        conv, child = context.conventions, pulumi.ResourceOptions(parent=self)
        physical = plan_name(conv.physical_name(name, max_length=255))
        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            name=conv.physical_name(name, "execution", max_length=64),
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(service_trust_policy(REGION_SWITCH_PRINCIPAL, account))),
            tags=conv.tags(conv.physical_name(name, "execution", max_length=255)),
            opts=child)
        self.approval_role = None
        if args.approver_arns:
            self.approval_role = aws.iam.Role(
                f"{name}-approval",
                name=conv.physical_name(name, "approval", max_length=64),
                assume_role_policy=pulumi.Output.all(*args.approver_arns).apply(lambda arns: json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": sorted(arns)},
                                   "Action": "sts:AssumeRole"}]})),
                tags=conv.tags(conv.physical_name(name, "approval", max_length=255)),
                opts=child)

        self.plan = aws.arcregionswitch.Plan(
            name,
            name=physical,
            description=f"Switch {args.record_name} between {primary} and {args.dr_region} "
                        f"({args.strategy.value})",
            execution_role=self.execution_role.arn,
            recovery_approach=approach,
            regions=list(regions),
            primary_region=primary,
            recovery_time_objective_minutes=_rto_minutes(args.strategy),
            workflows=self._workflows(context, args, approach, regions),
            region=primary,
            tags=conv.tags(physical, args.extra_tags),
            opts=child)
        self.arn = self.plan.arn

        attach(f"{name}-execution", self.execution_role,
               pulumi.Output.all(
                   aurora=pulumi.Output.all(args.aurora.global_cluster_identifier,
                                            *(args.aurora.cluster_arns[r] for r in regions))
                   if args.aurora else None,
                   clusters=pulumi.Output.all(*(args.eks.cluster_names[r] for r in regions)) if args.eks else None,
                   zone=args.hosted_zone_id, partition=context.partition, account=context.account_id,
               ).apply(lambda v: execution_policy(
                   partition=v["partition"], account_id=v["account"], regions=regions, zone_id=v["zone"],
                   aurora=v["aurora"], eks_clusters=v["clusters"])),
               parent=self.execution_role)
        if self.approval_role is not None:
            attach(f"{name}-approve", self.approval_role, self.plan.arn.apply(lambda arn: policy_document(
                statement("ApproveThisPlan", ["arc-region-switch:ApprovePlanExecutionStep"], [arn]))),
                parent=self.approval_role)
        if args.eks is not None:
            self._cluster_access(name, context, args.eks, regions)

        self.register_outputs({"arn": self.arn, "executionRoleArn": self.execution_role.arn})

    def _workflows(self, context: StackContext, args: RegionSwitchArgs, approach: str,
                   regions: tuple[str, str]) -> list[aws.arcregionswitch.PlanWorkflowArgs]:
        workflows = []
        scale = self._scale_steps(context, args, regions)
        for target in regions:
            if approach == "activePassive":
                steps = [*self._approval_steps(), *scale, *self._aurora_steps(args),
                         self._route53_step(args, regions)]
                workflows.append(aws.arcregionswitch.PlanWorkflowArgs(
                    workflow_target_action="activate", workflow_target_region=target,
                    workflow_description=f"Move the shop to {target}", steps=steps))
            else:
                workflows.append(aws.arcregionswitch.PlanWorkflowArgs(
                    workflow_target_action="activate", workflow_target_region=target,
                    workflow_description=f"Put {target} back into service",
                    steps=[*scale, self._route53_step(args, regions)]))
                workflows.append(aws.arcregionswitch.PlanWorkflowArgs(
                    workflow_target_action="deactivate", workflow_target_region=target,
                    workflow_description=f"Take {target} out of service",
                    steps=[*self._approval_steps(), *self._aurora_steps(args), self._route53_step(args, regions)]))
        return workflows

    def _approval_steps(self) -> list[aws.arcregionswitch.PlanWorkflowStepArgs]:
        if self.approval_role is None:
            return []
        return [aws.arcregionswitch.PlanWorkflowStepArgs(
            name=STEP_APPROVAL, execution_block_type="ManualApproval",
            description="An on-call engineer confirms the switch (Aurora failover may lose the last writes)",
            execution_approval_configs=[aws.arcregionswitch.PlanWorkflowStepExecutionApprovalConfigArgs(
                approval_role=self.approval_role.arn, timeout_minutes=APPROVAL_TIMEOUT_MINUTES)])]

    @staticmethod
    def _scale_steps(context: StackContext, args: RegionSwitchArgs,
                     regions: tuple[str, str]) -> list[aws.arcregionswitch.PlanWorkflowStepArgs]:
        if args.eks is None:
            return []
        ns = aws.arcregionswitch
        by_namespace: dict[str, list[ScaledDeployment]] = {}
        for deployment in args.eks.deployments:
            by_namespace.setdefault(deployment.namespace, []).append(deployment)
        return [ns.PlanWorkflowStepArgs(
            name=STEP_SCALE, execution_block_type="EKSResourceScaling",
            description="Raise the activating region's services to the other region's size",
            eks_resource_scaling_configs=[ns.PlanWorkflowStepEksResourceScalingConfigArgs(
                target_percent=SCALE_TARGET_PERCENT,
                capacity_monitoring_approach=CAPACITY_MONITORING,
                timeout_minutes=EKS_TIMEOUT_MINUTES,
                eks_clusters=[ns.PlanWorkflowStepEksResourceScalingConfigEksClusterArgs(cluster_arn=arn)
                              for arn in cluster_arns(context, args.eks, regions)],
                kubernetes_resource_types=[ns.PlanWorkflowStepEksResourceScalingConfigKubernetesResourceTypeArgs(
                    api_version="apps/v1", kind="Deployment")],
                scaling_resources=[ns.PlanWorkflowStepEksResourceScalingConfigScalingResourceArgs(
                    namespace=namespace,
                    resources=[ns.PlanWorkflowStepEksResourceScalingConfigScalingResourceResourceArgs(
                        resource_name=d.name, name=d.name, namespace=namespace, hpa_name=d.hpa_name)
                        for d in deployments])
                    for namespace, deployments in sorted(by_namespace.items())],
                ungracefuls=[ns.PlanWorkflowStepEksResourceScalingConfigUngracefulArgs(
                    minimum_success_percentage=UNGRACEFUL_MINIMUM_SUCCESS_PERCENT)])])]

    @staticmethod
    def _aurora_steps(args: RegionSwitchArgs) -> list[aws.arcregionswitch.PlanWorkflowStepArgs]:
        if args.aurora is None:
            return []
        ns = aws.arcregionswitch
        return [ns.PlanWorkflowStepArgs(
            name=STEP_AURORA, execution_block_type="AuroraGlobalDatabase",
            description="Switch over the writer (graceful run) or fail it over (ungraceful run)",
            global_aurora_configs=[ns.PlanWorkflowStepGlobalAuroraConfigArgs(
                behavior="switchoverOnly",
                global_cluster_identifier=args.aurora.global_cluster_identifier,
                database_cluster_arns=list(args.aurora.cluster_arns.values()),
                timeout_minutes=AURORA_TIMEOUT_MINUTES,
                ungracefuls=[ns.PlanWorkflowStepGlobalAuroraConfigUngracefulArgs(ungraceful="failover")])])]

    @staticmethod
    def _route53_step(args: RegionSwitchArgs, regions: tuple[str, str]) -> aws.arcregionswitch.PlanWorkflowStepArgs:
        ns = aws.arcregionswitch
        return ns.PlanWorkflowStepArgs(
            name=STEP_ROUTE53, execution_block_type="Route53HealthCheck",
            description=f"Point {args.record_name} at the activated region",
            route53_health_check_configs=[ns.PlanWorkflowStepRoute53HealthCheckConfigArgs(
                hosted_zone_id=args.hosted_zone_id, record_name=args.record_name,
                timeout_minutes=ROUTE53_TIMEOUT_MINUTES,
                # FailoverRouting names each record set after its region.
                record_sets=[ns.PlanWorkflowStepRoute53HealthCheckConfigRecordSetArgs(
                    record_set_identifier=region, region=region) for region in regions])])

    def _cluster_access(self, name: str, context: StackContext, eks: EksScaling, regions: tuple[str, str]) -> None:
        namespaces = sorted({d.namespace for d in eks.deployments})
        for region in regions:
            entry = aws.eks.AccessEntry(
                f"{name}-{region}",
                cluster_name=eks.cluster_names[region],
                principal_arn=self.execution_role.arn,
                type="STANDARD",
                region=region,
                tags=context.conventions.tags(context.conventions.physical_name(name, region, max_length=255)),
                opts=pulumi.ResourceOptions(parent=self))
            aws.eks.AccessPolicyAssociation(
                f"{name}-{region}",
                cluster_name=eks.cluster_names[region],
                principal_arn=self.execution_role.arn,
                policy_arn=pulumi.Output.concat("arn:", context.partition, ":eks::aws:cluster-access-policy/",
                                                EKS_SCALING_ACCESS_POLICY),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="namespace", namespaces=namespaces),
                region=region,
                opts=pulumi.ResourceOptions(parent=entry))


# -- pure functions ---------------------------------------------------------------------------

def plan_name(full: str) -> str:
    """A plan name within :data:`MAX_PLAN_NAME_LENGTH`: the head of the convention's name and a
    short hash when it does not fit, so two stacks never share one."""
    if len(full) <= MAX_PLAN_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return f"{full[:MAX_PLAN_NAME_LENGTH - 7].rstrip('-')}-{digest}"


def execution_policy(*, partition: str, account_id: str, regions: Sequence[str], zone_id: str,
                     aurora: Sequence[str] | None, eks_clusters: Sequence[str] | None) -> dict[str, Any]:
    """The execution role's permissions: each step's actions on this stack's resources only.

    ``aurora``: the global cluster identifier then the clusters' ARNs; ``eks_clusters``: the
    clusters' names in ``regions`` order.
    """
    statements = [statement("ReadOriginRecords", ["route53:ListResourceRecordSets"],
                            [f"arn:{partition}:route53:::hostedzone/{zone_id}"])]
    if aurora is not None:
        global_id, *cluster_arns = aurora
        resources = [f"arn:{partition}:rds::{account_id}:global-cluster:{global_id}", *cluster_arns]
        statements.append(statement("DescribeGlobalDatabase", ["rds:DescribeDBClusters", "rds:DescribeGlobalClusters"],
                                    resources))
        statements.append(statement("MoveGlobalDatabaseWriter",
                                    ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"], resources))
    if eks_clusters is not None:
        statements.append(statement("DescribeClusters", ["eks:DescribeCluster"], [
            f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster}"
            for region, cluster in zip(regions, eks_clusters, strict=True)]))
        statements.append(statement("ReadOwnAccessEntries", ["eks:ListAssociatedAccessPolicies"], [
            f"arn:{partition}:eks:{region}:{account_id}:access-entry/{cluster}/*"
            for region, cluster in zip(regions, eks_clusters, strict=True)]))
    return policy_document(*statements)


def plan_health_check_ids(plan_arn: pulumi.Input[str], region: str) -> pulumi.Output[dict[str, str]]:
    """Region -> the Route 53 health check the plan created for that region's record set, for
    ``FailoverRoutingArgs.control_health_check_ids``. Known only once the plan exists (ARC
    creates the checks), so the records carry them from the update after the plan's."""
    found = aws.arcregionswitch.get_route53_health_checks_output(plan_arn=plan_arn, region=region)
    return found.health_checks.apply(
        lambda checks: {c.region: c.health_check_id for c in checks if c.health_check_id})


def cluster_arns(context: StackContext, eks: EksScaling, regions: Sequence[str]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.concat("arn:", context.partition, ":eks:", region, ":", context.account_id, ":cluster/",
                                 eks.cluster_names[region]) for region in regions]


def _rto_minutes(strategy: Strategy) -> int:
    seconds = SERVICE_RTO[strategy][0]
    assert seconds is not None
    return max(1, seconds // 60)
