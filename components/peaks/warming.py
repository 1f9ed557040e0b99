"""Pre-warming for known peaks: every layer raised at ``EventPlan.warm_at`` and released at
``EventPlan.release_at``, by real schedulers that run without anyone at a keyboard.

Mechanism per layer (the plans come from the capacity planner, :mod:`components.peaks.plan`):

- **Pods**: a CronJob per event and phase patches ``spec.minReplicas`` of the services' own
  HPAs (why not KEDA: :mod:`components.peaks.warming_manifests`). The HPA still scales above
  the floor; release restores each service's configured minimum.
- **Nodes**: Karpenter headroom. Pause pods in a negative, never-preempting PriorityClass,
  zero replicas between events; the same warm job scales them to the event's headroom, so
  Karpenter launches nodes before the surge and real pods evict the placeholders instantly.
- **Aurora readers**: Application Auto Scaling scheduled actions (``at(...)``, UTC) on the
  cluster's ``rds:cluster:ReadReplicaCount`` target, raising its minimum to the planned
  readers and restoring it. The cluster's own target (``SqlDatabase.reader_scaling``) is used
  when there is one: a resource has one scalable target per dimension, and a second Pulumi
  resource registering it would overwrite the first's bounds on every `pulumi up`.
- **Aurora Serverless v2 minimum ACU**: EventBridge Scheduler, a one-time ``at(...)`` schedule
  (flexible window off) with the universal target ``aws-sdk:rds:modifyDBCluster``.
- **DynamoDB warm throughput**: a one-time schedule calling ``aws-sdk:dynamodb:updateTable``
  with ``WarmThroughput``. A base table's warm throughput can only go up and then stays (AWS
  charges once, when it is raised): there is no release.
- **ALB**: a pair of one-time schedules calling ``aws-sdk:elasticloadbalancingv2:
  modifyCapacityReservation``, the reservation of ``MinimumLoadBalancerCapacity.CapacityUnits``
  at warm-up and ``ResetCapacityReservation`` at release.
- **WAF**: not scheduled. A rate-based rule cannot be limited to a time window, and
  ``UpdateWebACL`` needs the ACL's current lock token and its whole rule list, which a
  Scheduler universal target cannot read first (it makes one call with a fixed input). The
  event's limit is therefore a deploy-time choice: :func:`waf_rate_limit_at` gives the limit in
  force at an instant, for the firewall to use when the stack is deployed during the window.

The AWS schedules live in a schedule group of their own; each layer has its own execution role
that EventBridge Scheduler may assume only for this account and this group, allowed the one API
action on the one resource it changes. Scheduler inputs carry only identifiers and capacities,
so they are encrypted with Scheduler's AWS-owned key (a customer key would also have to be
granted to every execution role, for no data worth it). Every schedule retries for an hour:
a warm-up that keeps failing past that is too late to matter.

Pulumi and the schedules share four settings: the HPA floors, the placeholder's replicas, the
reader target's bounds and the cluster's minimum ACU. Between events they agree. During an
event a plain `pulumi up` leaves them alone (it diffs the program against the state, which
still holds the baseline), but a `pulumi up --refresh`, or an update of the same resource for
another reason (the provider reads it back), would see the raised values as drift and lower
them mid-event. Until the owning components ignore those fields, do not deploy inside a
window: :func:`active_events` names the events whose window contains an instant, for a CI gate.
(The ALB's reservation is safe once ``load_balancer.py`` ignores ``minimumLoadBalancerCapacity``,
which the program never sets; a table's warm throughput never drifts down.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.common.grants import policy_document, service_trust_policy, statement
from components.peaks.plan import EventPlan
from components.peaks.warming_manifests import (
    KUBECTL_IMAGE,
    RELEASE,
    WARM,
    HpaTarget,
    api_egress_manifest,
    cronjob_manifest,
    namespace_manifests,
    placeholder_manifest,
    priority_class_manifest,
    role_manifests,
    service_account_manifest,
)

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
SCHEDULE_TIMEZONE = "UTC"
#: Application Auto Scaling takes canonical IANA names ("Etc/GMT+9"); UTC's is Etc/UTC.
SCALING_TIMEZONE = "Etc/UTC"
#: EventBridge Scheduler universal targets: ``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>``.
RDS_MODIFY_CLUSTER = "aws-sdk:rds:modifyDBCluster"
DYNAMODB_UPDATE_TABLE = "aws-sdk:dynamodb:updateTable"
ALB_MODIFY_CAPACITY = "aws-sdk:elasticloadbalancingv2:modifyCapacityReservation"
#: Retry for an hour, then give up: later than that the warm-up is too late to help.
RETRY_MAX_AGE_SECONDS = 3600
RETRY_MAX_ATTEMPTS = 20
READER_DIMENSION = "rds:cluster:ReadReplicaCount"
#: What every on-demand table already sustains (the pulumi-aws ``TableWarmThroughput`` docs: the
#: minimum, and the default). UpdateTable refuses a lower value: plans at or below it need nothing.
TABLE_WARM_FLOOR = (12000, 4000)


def universal_target_arn(partition: str, action: str) -> str:
    return f"arn:{partition}:scheduler:::{action}"


def at_expression(moment: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` of a UTC instant (the schedule's timezone is UTC)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone: peak instants are UTC")
    if moment.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        raise ValueError(f"{moment.isoformat()} is not UTC")
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def active_events(plans: Sequence[EventPlan], moment: datetime) -> list[str]:
    """The events whose window (warm-up to release) contains ``moment``: a deploy then could
    undo their warm-up (see the module docstring)."""
    return [p.event.name for p in plans if p.warm_at <= moment < p.release_at]


def waf_rate_limit_at(plans: Sequence[EventPlan], moment: datetime) -> int | None:
    """The event-specific WAF limit in force at ``moment`` (warm-up to release), or None.

    Deploy-time only (see the module docstring): the firewall takes it when the stack is
    deployed inside the window, and the next deploy after the window drops it. Overlapping
    events: the strictest (lowest) limit wins.
    """
    limits = [p.waf_rate_limit for p in plans if p.waf_rate_limit is not None and p.warm_at <= moment < p.release_at]
    return min(limits) if limits else None


# -- IAM (pure) ----------------------------------------------------------------------------

def scheduler_trust_policy(account_id: str, group_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler may assume the role for schedules of this group in this account
    only (``aws:SourceAccount`` and ``aws:SourceArn``: the confused-deputy guard AWS documents)."""
    return service_trust_policy(SCHEDULER_SERVICE, account_id, string_equals={"aws:SourceArn": group_arn})


def modify_cluster_policy(cluster_arn: str) -> dict[str, Any]:
    return policy_document(statement("ModifyThisCluster", ["rds:ModifyDBCluster"], [cluster_arn]))


def update_tables_policy(table_arns: Sequence[str]) -> dict[str, Any]:
    return policy_document(statement("UpdateTheseTables", ["dynamodb:UpdateTable"], list(table_arns)))


def modify_capacity_policy(load_balancer_arn: str) -> dict[str, Any]:
    return policy_document(statement("ReserveCapacityOnThisLoadBalancer",
                                     ["elasticloadbalancing:ModifyCapacityReservation"], [load_balancer_arn]))


# -- Scheduler inputs (pure) --------------------------------------------------------------------

def modify_cluster_input(cluster_identifier: str, min_acu: float, max_acu: float) -> dict[str, Any]:
    return {"DBClusterIdentifier": cluster_identifier, "ApplyImmediately": True,
            "ServerlessV2ScalingConfiguration": {"MinCapacity": min_acu, "MaxCapacity": max_acu}}


def table_needs_warming(read_units: int, write_units: int) -> bool:
    return read_units > TABLE_WARM_FLOOR[0] or write_units > TABLE_WARM_FLOOR[1]


def warm_table_input(table_name: str, read_units: int, write_units: int) -> dict[str, Any]:
    """Both units at least the floor: the request names both, and neither may go down."""
    return {"TableName": table_name,
            "WarmThroughput": {"ReadUnitsPerSecond": max(read_units, TABLE_WARM_FLOOR[0]),
                               "WriteUnitsPerSecond": max(write_units, TABLE_WARM_FLOOR[1])}}


def reserve_capacity_input(load_balancer_arn: str, capacity_units: int | None) -> dict[str, Any]:
    """Reserve ``capacity_units`` LCUs, or (None) reset the reservation."""
    if capacity_units is None:
        return {"LoadBalancerArn": load_balancer_arn, "ResetCapacityReservation": True}
    return {"LoadBalancerArn": load_balancer_arn, "MinimumLoadBalancerCapacity": {"CapacityUnits": capacity_units}}


# -- handles -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceHandle:
    """A service's HPA (``RetailService.autoscaler``): its namespace, name and configured floor."""

    namespace: str
    hpa_name: str
    baseline_min_replicas: int


@dataclass(frozen=True)
class AuroraHandle:
    cluster_identifier: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    baseline_min_acu: float | None
    """The cluster's Serverless v2 minimum (None: provisioned instances, no ACU schedule)."""
    max_acu: float | None
    """The cluster's Serverless v2 maximum: ModifyDBCluster needs both bounds."""
    baseline_readers: int
    max_readers: int
    reader_target: aws.appautoscaling.Target | None = None
    """``SqlDatabase.reader_scaling`` when the cluster has reader autoscaling; else one is made."""


@dataclass(frozen=True)
class PeakWarmingArgs:
    plans: Sequence[EventPlan]
    k8s_provider: k8s.Provider | None = None
    services: Mapping[str, ServiceHandle] = field(default_factory=dict)
    api_server_cidrs: Sequence[str] = ()
    """Where the jobs reach the API server: the subnets holding the EKS control plane's ENIs."""
    aurora: AuroraHandle | None = None
    tables: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = field(default_factory=dict)
    """Logical table name -> (physical name, ARN), as ``NoSqlTables.tables``."""
    load_balancer_arn: pulumi.Input[str] | None = None
    kubectl_image: str = KUBECTL_IMAGE


class PeakWarming(pulumi.ComponentResource):
    """The schedulers that warm every layer before each known peak and release it after."""

    schedule_group: aws.scheduler.ScheduleGroup | None
    schedules: dict[str, aws.scheduler.Schedule]
    scheduled_actions: dict[str, aws.appautoscaling.ScheduledAction]
    roles: dict[str, aws.iam.Role]
    reader_target: aws.appautoscaling.Target | None
    cronjobs: dict[str, k8s.batch.v1.CronJob]
    manifests: list[dict[str, Any]]

    def __init__(self, name: str, context: StackContext, args: PeakWarmingArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:peaks:PeakWarming", name, None, opts)
        self._name, self._context, self._args = name, context, args
        self.schedules, self.scheduled_actions, self.roles, self.cronjobs = {}, {}, {}, {}
        self.manifests = []
        self.schedule_group = self.reader_target = None
        plans = list(args.plans)
        names = [p.event.name for p in plans]
        if len(names) != len(set(names)):
            raise ValueError(f"peak events must have unique names: {names}")
        if plans:
            self._kubernetes(plans)
            self._aws(plans)
        self.register_outputs({"events": names})

    # -- Kubernetes --------------------------------------------------------------------------

    def _kubernetes(self, plans: Sequence[EventPlan]) -> None:
        args = self._args
        if args.k8s_provider is None:
            raise ValueError("PeakWarmingArgs.k8s_provider is required: pods and nodes are warmed in the cluster")
        targets = [HpaTarget(service, h.namespace, h.hpa_name, h.baseline_min_replicas)
                   for service, h in sorted(args.services.items())]
        opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        name, conv = self._name, self._context.conventions
        namespace, deny, dns = namespace_manifests(conv.environment, conv.standard_tags)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata=namespace["metadata"], opts=opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[ns])
        for doc, label in ((deny, "default-deny"), (dns, "allow-dns"), (api_egress_manifest(args.api_server_cidrs),
                                                                         "api-egress")):
            k8s.networking.v1.NetworkPolicy(f"{name}-{label}", metadata=doc["metadata"], spec=doc["spec"],
                                            opts=in_ns)
        priority = priority_class_manifest()
        priority_class = k8s.scheduling.v1.PriorityClass(
            f"{name}-priority", metadata=priority["metadata"], value=priority["value"],
            global_default=priority["globalDefault"], preemption_policy=priority["preemptionPolicy"],
            description=priority["description"], opts=opts)
        placeholder = placeholder_manifest()
        k8s.apps.v1.Deployment(f"{name}-headroom", metadata=placeholder["metadata"], spec=placeholder["spec"],
                               opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider,
                                                           depends_on=[ns, priority_class]))
        account = service_account_manifest()
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-jobs", metadata=account["metadata"],
            automount_service_account_token=account["automountServiceAccountToken"], opts=in_ns)
        rbac: list[pulumi.Resource] = []
        for doc in role_manifests(targets):
            label = f"{name}-{doc['kind'].lower()}-{doc['metadata']['namespace']}"
            if doc["kind"] == "Role":
                rbac.append(k8s.rbac.v1.Role(label, metadata=doc["metadata"], rules=doc["rules"], opts=in_ns))
            else:
                rbac.append(k8s.rbac.v1.RoleBinding(label, metadata=doc["metadata"], role_ref=doc["roleRef"],
                                                    subjects=doc["subjects"], opts=in_ns))
        jobs_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider,
                                           depends_on=[ns, service_account, *rbac])
        self.manifests = [namespace, deny, dns, priority, placeholder, account, *role_manifests(targets)]
        for plan in plans:
            for phase in (WARM, RELEASE):
                doc = cronjob_manifest(plan, phase, targets, args.kubectl_image)
                self.manifests.append(doc)
                self.cronjobs[f"{plan.event.name}-{phase}"] = k8s.batch.v1.CronJob(
                    f"{name}-{plan.event.name}-{phase}", metadata=doc["metadata"], spec=doc["spec"],
                    opts=jobs_opts)

    # -- AWS -------------------------------------------------------------------------------------

    def _aws(self, plans: Sequence[EventPlan]) -> None:
        args, context, name = self._args, self._context, self._name
        conv = context.conventions
        child = pulumi.ResourceOptions(parent=self)
        aurora = args.aurora
        if aurora is not None and any(p.aurora_readers > aurora.baseline_readers for p in plans):
            self._reader_actions(plans, aurora)
        acu = aurora is not None and aurora.baseline_min_acu is not None and any(
            p.aurora_min_acu > (aurora.baseline_min_acu or 0) for p in plans)
        warm_tables = {t for p in plans for t, units in p.dynamodb_warm.items() if table_needs_warming(*units)}
        unknown = sorted(warm_tables - set(args.tables))
        if unknown:
            raise ValueError(f"peak plans pre-warm tables {', '.join(unknown)} that have no handle in "
                             "PeakWarmingArgs.tables (logical names, as in retail:nosql.tables)")
        alb = args.load_balancer_arn is not None and any(p.alb_lcu > 0 for p in plans)
        if not (acu or warm_tables or alb):
            return
        group_name = conv.physical_name(name)
        self.schedule_group = aws.scheduler.ScheduleGroup(
            f"{name}-schedules", name=group_name, region=context.region, tags=conv.tags(group_name), opts=child)
        if acu:
            assert aurora is not None
            role = self._role("aurora", pulumi.Output.from_input(aurora.cluster_arn).apply(modify_cluster_policy))
            for plan in plans:
                if plan.aurora_min_acu <= (aurora.baseline_min_acu or 0):
                    continue
                maximum = max(aurora.max_acu or plan.aurora_min_acu, plan.aurora_min_acu)
                for phase, moment, minimum in ((WARM, plan.warm_at, plan.aurora_min_acu),
                                               (RELEASE, plan.release_at, aurora.baseline_min_acu)):
                    payload = pulumi.Output.from_input(aurora.cluster_identifier).apply(
                        lambda cluster, lo=minimum, hi=maximum: json.dumps(
                            modify_cluster_input(cluster, lo, hi), sort_keys=True))  # type: ignore[misc]
                    self._schedule(plan, phase, moment, "aurora-acu", RDS_MODIFY_CLUSTER, role, payload)
        if warm_tables:
            arns = [args.tables[t][1] for t in sorted(warm_tables)]
            role = self._role("dynamodb", pulumi.Output.all(*arns).apply(update_tables_policy))
            for plan in plans:
                for table, (reads, writes) in sorted(plan.dynamodb_warm.items()):
                    if not table_needs_warming(reads, writes):
                        continue
                    payload = pulumi.Output.from_input(args.tables[table][0]).apply(
                        lambda physical, r=reads, w=writes: json.dumps(warm_table_input(physical, r, w),
                                                                       sort_keys=True))
                    self._schedule(plan, WARM, plan.warm_at, f"warm-{table}", DYNAMODB_UPDATE_TABLE, role, payload)
        if alb and args.load_balancer_arn is not None:
            arn: pulumi.Output[str] = pulumi.Output.from_input(args.load_balancer_arn)
            role = self._role("alb", arn.apply(modify_capacity_policy))
            for plan in plans:
                if plan.alb_lcu <= 0:
                    continue
                for phase, moment, units in ((WARM, plan.warm_at, plan.alb_lcu), (RELEASE, plan.release_at, None)):
                    payload = arn.apply(lambda lb, u=units: json.dumps(reserve_capacity_input(lb, u), sort_keys=True))
                    self._schedule(plan, phase, moment, "alb-lcu", ALB_MODIFY_CAPACITY, role, payload)

    def _reader_actions(self, plans: Sequence[EventPlan], aurora: AuroraHandle) -> None:
        context, name = self._context, self._name
        conv = context.conventions
        target = aurora.reader_target
        if target is None:
            # No reader autoscaling on the cluster: a target of our own whose bounds are the
            # cluster's readers, so between events it adds and removes nothing.
            target = aws.appautoscaling.Target(
                f"{name}-readers", service_namespace="rds", scalable_dimension=READER_DIMENSION,
                resource_id=pulumi.Output.from_input(aurora.cluster_identifier).apply(lambda c: f"cluster:{c}"),
                min_capacity=aurora.baseline_readers, max_capacity=aurora.baseline_readers, region=context.region,
                tags=conv.tags(conv.physical_name(name, "readers")), opts=pulumi.ResourceOptions(parent=self))
        self.reader_target = target
        for plan in plans:
            if plan.aurora_readers <= aurora.baseline_readers:
                continue
            # A scheduled minimum above the target's maximum is refused: raise both, restore both.
            raised = (plan.aurora_readers, max(aurora.max_readers, plan.aurora_readers))
            ceiling = aurora.max_readers if aurora.reader_target is not None else aurora.baseline_readers
            baseline = (aurora.baseline_readers, ceiling)
            if plan.aurora_readers > aurora.max_readers and aurora.reader_target is not None:
                pulumi.log.warn(f"peak {plan.event.name!r}: {plan.aurora_readers} readers is above the cluster's "
                                f"maxReaders {aurora.max_readers}; the scheduled action raises the maximum too")
            for phase, moment, (low, high) in ((WARM, plan.warm_at, raised), (RELEASE, plan.release_at, baseline)):
                action = conv.physical_name(plan.event.name, "readers", phase, max_length=256)
                self.scheduled_actions[f"{plan.event.name}-readers-{phase}"] = aws.appautoscaling.ScheduledAction(
                    f"{name}-{plan.event.name}-readers-{phase}", name=action,
                    service_namespace=target.service_namespace, scalable_dimension=target.scalable_dimension,
                    resource_id=target.resource_id, schedule=at_expression(moment), timezone=SCALING_TIMEZONE,
                    scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                        min_capacity=low, max_capacity=high),
                    region=context.region, opts=pulumi.ResourceOptions(parent=self))

    def _role(self, layer: str, document: pulumi.Output[dict[str, Any]]) -> aws.iam.Role:
        context, name = self._context, self._name
        conv = context.conventions
        assert self.schedule_group is not None
        physical = conv.physical_name(name, layer)
        trust = pulumi.Output.all(context.account_id, self.schedule_group.arn).apply(
            lambda values: json.dumps(scheduler_trust_policy(values[0], values[1]), sort_keys=True))
        role = aws.iam.Role(f"{name}-{layer}-role", name=physical, assume_role_policy=trust,
                            description=f"EventBridge Scheduler: peak pre-warming of {layer}",
                            tags=conv.tags(physical), opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(f"{name}-{layer}-policy", role=role.id,
                           policy=document.apply(lambda doc: json.dumps(doc, sort_keys=True)),
                           opts=pulumi.ResourceOptions(parent=role))
        self.roles[layer] = role
        return role

    def _schedule(self, plan: EventPlan, phase: str, moment: datetime, what: str, action: str,
                  role: aws.iam.Role, payload: pulumi.Input[str]) -> aws.scheduler.Schedule:
        context = self._context
        assert self.schedule_group is not None
        key = f"{plan.event.name}-{what}-{phase}"
        schedule = aws.scheduler.Schedule(
            f"{self._name}-{key}",
            name=context.conventions.physical_name(plan.event.name, what, phase),
            group_name=self.schedule_group.name,
            description=f"Peak {plan.event.name}: {phase} {what}",
            schedule_expression=at_expression(moment),
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            # The instant is the plan's: a flexible window would let it land late.
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=pulumi.Output.from_input(context.partition).apply(lambda p: universal_target_arn(p, action)),
                role_arn=role.arn, input=payload,
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=RETRY_MAX_AGE_SECONDS,
                    maximum_retry_attempts=RETRY_MAX_ATTEMPTS)),
            region=context.region,
            # A role's grant must be in place when the schedule fires; creating it first is enough.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]))
        self.schedules[key] = schedule
        return schedule
