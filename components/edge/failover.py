"""Route 53 failover of the origin name between the primary and the DR region's ALB.

With a warm-standby or active-active DR strategy both regions run an ALB for the same origin
name (``origin.<recordName>``, on each ALB's own certificate). This component owns that name
(the LoadBalancers are built with ``origin_record=False``):

- ``failover`` (warm standby): a PRIMARY alias to the primary ALB and a SECONDARY alias to the
  DR ALB. Route 53 answers with the secondary while the primary's health check fails.
- ``latency`` (active-active): one latency alias per region; Route 53 answers with the
  closest healthy region and leaves out an unhealthy one.

Health checks. A Route 53 HTTPS check cannot reach the shop: every ALB rule requires the
secret ``X-Origin-Verify`` header, which Route 53 checkers cannot send, and the security group
admits CloudFront's addresses only. So each region's health is a CloudWatch alarm in that
region (``CLOUDWATCH_METRIC`` health check): the fewest healthy targets across the region's
target groups, below 1 for :data:`EVALUATION_PERIODS` minutes. One exposed service without a
healthy pod makes its region unhealthy: the DR region runs every service, so moving all the
traffic is better than serving a shop without its cart.

Detection (what ``SERVICE_RTO`` in ``components/resilience/objectives.py`` should count):
:data:`DETECTION_SECONDS`, the sum of the ALB's target health check marking the last pod
unhealthy (3 x 15 s), the alarm's 2 x 60 s datapoints (ALB metrics have one-minute
resolution, so shorter periods buy nothing) and about a minute before CloudWatch publishes an
ALB datapoint. Then clients follow within :data:`ALIAS_TARGET_TTL_SECONDS`.

TTL: alias records have no TTL of their own; Route 53 answers with the TTL of the alias
target's record, which for an ALB is 60 s (the ``*.elb.amazonaws.com`` records). That is the
60 s the RTO counts; a lower one is not ours to set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
import pulumi_aws as aws

from components.common.compliance import CONTROL_EXCEPTIONS_TAG, MACHINE_READ_ALARM_EXCEPTION
from components.common.context import StackContext
from components.edge.load_balancer import (
    HEALTH_CHECK_INTERVAL_SECONDS,
    UNHEALTHY_THRESHOLD,
    LoadBalancer,
    origin_domain_name,
)
from components.edge.settings import DomainConfig
from components.resilience.objectives import Strategy

#: ALB metrics come at one-minute resolution.
ALARM_PERIOD_SECONDS = 60
#: Two minutes without a healthy target in some target group: an outage, not a blip (a pod
#: being replaced leaves its siblings healthy; a rolling deploy never empties a group).
EVALUATION_PERIODS = 2
#: CloudWatch publishes an ALB datapoint about a minute after its period ends.
METRIC_DELAY_SECONDS = 60
DETECTION_SECONDS = (HEALTH_CHECK_INTERVAL_SECONDS * UNHEALTHY_THRESHOLD
                     + ALARM_PERIOD_SECONDS * EVALUATION_PERIODS + METRIC_DELAY_SECONDS)
#: What clients cache an answer for: the TTL of the ALB's own records (see the module docstring).
ALIAS_TARGET_TTL_SECONDS = 60
#: From the last healthy pod gone to clients on the other region.
FAILOVER_SECONDS = DETECTION_SECONDS + ALIAS_TARGET_TTL_SECONDS

#: While CloudWatch has no data for the alarm (its creation, or CloudWatch itself impaired),
#: the health check keeps its last state: an impaired monitoring plane must neither fail the
#: shop over nor back. A missing datapoint for a live alarm counts as breaching instead (an
#: ALB that is gone publishes nothing).
INSUFFICIENT_DATA_STATUS = "LastKnownStatus"
MISSING_DATA = "breaching"

#: The provider appends a 27-character unique suffix to a health check's reference name within
#: Route 53's 64-character caller reference.
REFERENCE_NAME_LENGTH = 32

#: The record type: the ALBs are IPv4 (CloudFront reaches origins over IPv4).
RECORD_TYPE = "A"


class RoutingMode(StrEnum):
    failover = "failover"
    latency = "latency"


def routing_mode(strategy: Strategy) -> RoutingMode | None:
    """How the origin name routes under a DR strategy; None: one region serves, the ALB keeps
    its simple record (pilot light and backup restore move traffic by a later ``pulumi up``)."""
    return {Strategy.warm_standby: RoutingMode.failover,
            Strategy.active_active: RoutingMode.latency}.get(strategy)


@dataclass(frozen=True)
class RegionalOrigin:
    """One region's ALB, as the failover records and their alarms need it."""

    region: str
    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    arn_suffix: pulumi.Input[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Input[str]]
    """Per exposed service; at least one (an ALB without targets has nothing to check)."""

    @classmethod
    def of(cls, region: str, load_balancer: LoadBalancer) -> RegionalOrigin:
        return cls(region=region, dns_name=load_balancer.dns_name, zone_id=load_balancer.zone_id,
                   arn_suffix=load_balancer.arn_suffix,
                   target_group_arn_suffixes=dict(load_balancer.target_group_arn_suffixes))


@dataclass(frozen=True)
class FailoverRoutingArgs:
    domain: DomainConfig
    """``retail:edge.domain``: the public zone and the shop's record name."""
    primary: RegionalOrigin
    secondary: RegionalOrigin
    """The DR region's ALB."""
    mode: RoutingMode = RoutingMode.failover
    control_health_check_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Per region, a health check someone else flips (an ARC Region switch plan's Route 53
    health check step: :func:`components.resilience.region_switch.plan_health_check_ids`). A
    region's record is then healthy only while both its alarm and this check are."""
    adopt_records: Sequence[pulumi.Input[pulumi.Alias]] = ()
    """The primary ALB's former simple record (:meth:`LoadBalancer.origin_record_alias`): the
    primary's record takes it over, deleted before it is recreated, because Route 53 refuses
    a failover or latency record beside a simple one of the same name."""


class FailoverRouting(pulumi.ComponentResource):
    """The origin name's failover or latency records, each region's alarm and health check."""

    record_name: str
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    health_checks: dict[str, aws.route53.HealthCheck]
    """Per region: the check its record carries (the calculated one with a control check)."""
    records: dict[str, aws.route53.Record]
    set_identifiers: dict[str, str]
    """Per region: the record's set identifier (what an ARC Region switch step names)."""

    def __init__(self, name: str, context: StackContext, args: FailoverRoutingArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:edge:FailoverRouting", name, None, opts)
        origins = (args.primary, args.secondary)
        if args.primary.region == args.secondary.region:
            raise ValueError(f"primary and secondary are both in {args.primary.region}: the secondary must be the "
                             "DR region's ALB (retail:dr.region)")
        for origin in origins:
            if not origin.target_group_arn_suffixes:
                raise ValueError(f"the {origin.region} ALB has no target groups, so its health cannot be measured: "
                                 "give the failover at least one service with a path")
        unknown = set(args.control_health_check_ids) - {o.region for o in origins}
        if unknown:
            raise ValueError(f"control_health_check_ids names {sorted(unknown)}, which are not "
                             f"{args.primary.region} or {args.secondary.region}")
        self.record_name = origin_domain_name(args.domain)
        zone = aws.route53.get_zone_output(name=args.domain.zone_name, private_zone=False,
                                           opts=pulumi.InvokeOutputOptions(parent=self))
        self.zone_id = zone.zone_id
        self.alarms, self.health_checks, self.records, self.set_identifiers = {}, {}, {}, {}
        for role, origin in zip(("primary", "secondary"), origins, strict=True):
            self.set_identifiers[origin.region] = origin.region
            check = self._health_check(name, context, role, origin, args.control_health_check_ids.get(origin.region))
            self.health_checks[origin.region] = check
            policy: dict[str, object] = (
                {"failover_routing_policies": [aws.route53.RecordFailoverRoutingPolicyArgs(
                    type="PRIMARY" if role == "primary" else "SECONDARY")]}
                if args.mode is RoutingMode.failover else
                {"latency_routing_policies": [aws.route53.RecordLatencyRoutingPolicyArgs(region=origin.region)]})
            adopt = list(args.adopt_records) if role == "primary" else []
            self.records[origin.region] = aws.route53.Record(
                f"{name}-{role}",
                zone_id=zone.zone_id,
                name=self.record_name,
                type=RECORD_TYPE,
                set_identifier=origin.region,
                health_check_id=check.id,
                aliases=[aws.route53.RecordAliasArgs(name=origin.dns_name, zone_id=origin.zone_id,
                                                     # The ALB's own view too: no target healthy
                                                     # in any group, no answer with it.
                                                     evaluate_target_health=True)],
                opts=pulumi.ResourceOptions(parent=self, aliases=adopt, delete_before_replace=True),
                **policy,  # pyright: ignore[reportArgumentType]
            )

        self.register_outputs({
            "recordName": self.record_name,
            "healthCheckIds": {region: check.id for region, check in self.health_checks.items()},
        })

    def _health_check(self, name: str, context: StackContext, role: str, origin: RegionalOrigin,
                      control: pulumi.Input[str] | None) -> aws.route53.HealthCheck:
        conv = context.conventions
        physical = conv.physical_name(name, origin.region, "unhealthy", max_length=255)
        metrics = [aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=f"m{index}", return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace="AWS/ApplicationELB", metric_name="HealthyHostCount", stat="Minimum",
                period=ALARM_PERIOD_SECONDS,
                dimensions={"LoadBalancer": origin.arn_suffix, "TargetGroup": suffix}))
            for index, (_, suffix) in enumerate(sorted(origin.target_group_arn_suffixes.items()))]
        ids = ",".join(f"m{index}" for index in range(len(metrics)))
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-{role}-unhealthy",
            name=physical,
            alarm_description=f"Some service of {self.record_name} has no healthy target in {origin.region}: "
                              "Route 53 stops answering with this region",
            comparison_operator="LessThanThreshold",
            threshold=1,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=EVALUATION_PERIODS,
            treat_missing_data=MISSING_DATA,
            metric_queries=[*metrics, aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="fewest", expression=f"MIN([{ids}])", label="fewest healthy targets of any service",
                return_data=True)],
            region=origin.region,
            tags=conv.tags(physical, {CONTROL_EXCEPTIONS_TAG: MACHINE_READ_ALARM_EXCEPTION.control}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.alarms[origin.region] = alarm
        check = aws.route53.HealthCheck(
            f"{name}-{role}",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=alarm.name,
            cloudwatch_alarm_region=origin.region,
            insufficient_data_health_status=INSUFFICIENT_DATA_STATUS,
            reference_name=f"{role}-{origin.region}"[:REFERENCE_NAME_LENGTH],
            tags=conv.tags(conv.physical_name(name, origin.region, max_length=255)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if control is None:
            return check
        return aws.route53.HealthCheck(
            f"{name}-{role}-and-control",
            type="CALCULATED",
            child_healthchecks=[check.id, control],
            # Both: the region is healthy and nobody has switched it off.
            child_health_threshold=2,
            reference_name=f"{role}-{origin.region}-ctl"[:REFERENCE_NAME_LENGTH],
            tags=conv.tags(conv.physical_name(name, origin.region, "control", max_length=255)),
            opts=pulumi.ResourceOptions(parent=self),
        )
