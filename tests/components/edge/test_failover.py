"""FailoverRouting: the origin name's Route 53 failover/latency records and their health checks."""

from __future__ import annotations

from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.synth import run_program
from components.edge.failover import (
    ALIAS_TARGET_TTL_SECONDS,
    DETECTION_SECONDS,
    FailoverRouting,
    FailoverRoutingArgs,
    RegionalOrigin,
    RoutingMode,
    routing_mode,
)
from components.edge.settings import DomainConfig
from components.resilience.objectives import SERVICE_RTO, Strategy
from tests.components.edge.test_load_balancer import stack_config
from tests.support import stack_context

RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

PRIMARY, DR = "eu-west-1", "eu-central-1"
DOMAIN = DomainConfig.model_validate({"zoneName": "example.com", "recordName": "shop.example.com"})


def origin(region: str, services: tuple[str, ...] = ("cart", "catalog")) -> RegionalOrigin:
    return RegionalOrigin(
        region=region, dns_name=f"retail-prod-edge-1234.{region}.elb.amazonaws.com",
        zone_id={PRIMARY: "Z32O12XQLNTSW2", DR: "Z215JYRZR1TBD5"}[region],
        arn_suffix=f"app/retail-prod-edge/{region}",
        target_group_arn_suffixes={s: f"targetgroup/{s}/{region}" for s in services})


@cache
def built(mode: RoutingMode = RoutingMode.failover, control: bool = False) -> ResourceGraph:
    config = stack_config("prod")

    def program() -> None:
        FailoverRouting("origin-failover", stack_context(conventions=config.conventions("prod"), region=PRIMARY),
                        FailoverRoutingArgs(domain=DOMAIN, primary=origin(PRIMARY), secondary=origin(DR), mode=mode,
                                            control_health_check_ids={PRIMARY: "hc-arc-primary", DR: "hc-arc-dr"}
                                            if control else {}))

    return run_program(program, project="retail", stack="prod", config={"aws:region": PRIMARY})


def record_of(g: ResourceGraph, region: str):
    [record] = [r for r in g.of_type(RECORD) if r.inputs.get("setIdentifier") == region]
    return record


def check_of(g: ResourceGraph, record) -> dict:
    return next(c for c in g.of_type(CHECK) if c.id == record.inputs["healthCheckId"]).inputs


def test_failover_mode_primary_and_secondary_alias_their_own_regions_alb():
    g = built()
    primary, secondary = record_of(g, PRIMARY), record_of(g, DR)
    assert primary.inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert secondary.inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    for record, region in ((primary, PRIMARY), (secondary, DR)):
        assert record.inputs["name"] == "origin.shop.example.com" and record.inputs["type"] == "A"
        [alias] = record.inputs["aliases"]
        assert alias["name"] == origin(region).dns_name and alias["evaluateTargetHealth"] is True
        assert "ttl" not in record.inputs  # an alias answers with the ALB record's 60 s


def test_each_record_is_health_checked_by_its_own_regions_alarm():
    g = built()
    alarms = {a.region: a for a in g.of_type(ALARM)}
    assert set(alarms) == {PRIMARY, DR}
    for region in (PRIMARY, DR):
        check = check_of(g, record_of(g, region))
        assert check["type"] == "CLOUDWATCH_METRIC"
        assert check["cloudwatchAlarmRegion"] == region
        assert check["cloudwatchAlarmName"] == alarms[region].inputs["name"]
        assert check["insufficientDataHealthStatus"] == "LastKnownStatus"


def test_alarm_fires_when_any_target_group_of_that_region_has_no_healthy_host():
    g = built()
    for alarm in g.of_type(ALARM):
        inputs = alarm.inputs
        assert (inputs["comparisonOperator"], inputs["threshold"]) == ("LessThanThreshold", 1)
        assert inputs["evaluationPeriods"] == inputs["datapointsToAlarm"] == 2
        assert inputs["treatMissingData"] == "breaching"
        metrics = [q for q in inputs["metricQueries"] if "metric" in q]
        [expression] = [q for q in inputs["metricQueries"] if q.get("returnData")]
        assert expression["expression"] == "MIN([m0,m1])"
        assert {q["metric"]["dimensions"]["TargetGroup"] for q in metrics} == {
            f"targetgroup/{s}/{alarm.region}" for s in ("cart", "catalog")}
        assert {q["metric"]["dimensions"]["LoadBalancer"] for q in metrics} == {f"app/retail-prod-edge/{alarm.region}"}
        assert {q["metric"]["metricName"] for q in metrics} == {"HealthyHostCount"}
        assert {q["metric"]["period"] for q in metrics} == {60}


def test_latency_mode_routes_each_region_by_latency_both_health_checked():
    g = built(RoutingMode.latency)
    for region in (PRIMARY, DR):
        record = record_of(g, region)
        assert record.inputs["latencyRoutingPolicies"] == [{"region": region}]
        assert "failoverRoutingPolicies" not in record.inputs
        assert check_of(g, record)["cloudwatchAlarmRegion"] == region


def test_a_control_check_must_agree_with_the_alarm():
    g = built(control=True)
    for region, control in ((PRIMARY, "hc-arc-primary"), (DR, "hc-arc-dr")):
        check = check_of(g, record_of(g, region))
        assert check["type"] == "CALCULATED" and check["childHealthThreshold"] == 2
        alarm_check = next(c for c in g.of_type(CHECK) if c.inputs.get("cloudwatchAlarmRegion") == region)
        assert check["childHealthchecks"] == [alarm_check.id, control]


def test_strategy_selects_the_mode():
    assert routing_mode(Strategy.warm_standby) is RoutingMode.failover
    assert routing_mode(Strategy.active_active) is RoutingMode.latency
    assert routing_mode(Strategy.pilot_light) is None


def test_detection_figures_feed_the_rto():
    # 3 x 15 s target health, 2 x 60 s alarm, 60 s metric delay; then the ALB records' TTL.
    assert DETECTION_SECONDS == 225 and ALIAS_TARGET_TTL_SECONDS == 60
    assert DETECTION_SECONDS + ALIAS_TARGET_TTL_SECONDS <= SERVICE_RTO[Strategy.warm_standby][0]  # type: ignore[operator]


@pytest.mark.parametrize(("primary", "secondary", "message"), [
    (origin(PRIMARY), origin(PRIMARY), "both in eu-west-1"),
    (origin(PRIMARY), origin(DR, services=()), "no target groups"),
])
def test_impossible_args_are_refused(primary, secondary, message):
    config = stack_config("prod")
    with pytest.raises(ValueError, match=message):
        run_program(lambda: FailoverRouting(
            "f", stack_context(conventions=config.conventions("prod"), region=PRIMARY),
            FailoverRoutingArgs(domain=DOMAIN, primary=primary, secondary=secondary)),
            project="retail", stack="prod", config={"aws:region": PRIMARY})


def test_the_primary_record_takes_over_the_albs_former_simple_record():
    from components.edge.load_balancer import LoadBalancer, LoadBalancerArgs
    from tests.components.edge import test_load_balancer as lb_tests

    config = stack_config("prod", lb_tests.DOMAIN)

    def program() -> None:
        context = stack_context(conventions=config.conventions("prod"), region=PRIMARY)
        lb = LoadBalancer("edge", context, LoadBalancerArgs(
            vpc_id=lb_tests.VPC_ID, vpc_cidr=lb_tests.VPC_CIDR, public_subnet_ids=list(lb_tests.PUBLIC_SUBNETS),
            logs_bucket_name=lb_tests.LOGS_BUCKET, origin_secret=lb_tests.SECRET, services=config.services,
            domain=config.edge.domain, origin_record=False))
        FailoverRouting("origin-failover", context, FailoverRoutingArgs(
            domain=DOMAIN, primary=RegionalOrigin.of(PRIMARY, lb), secondary=origin(DR),
            adopt_records=[lb.origin_record_alias()]))

    g = run_program(program, project="retail", stack="prod", config={"aws:region": PRIMARY})
    [former] = [r for r in lb_tests.graph().of_type(RECORD) if r.name == "edge-origin"]
    assert former.urn in record_of(g, PRIMARY).aliases
    assert not record_of(g, DR).aliases
    # RegionalOrigin.of hands the alarms the ALB's metric dimensions.
    alarm = next(a for a in g.of_type(ALARM) if a.region == PRIMARY)
    dimensions = [q["metric"]["dimensions"] for q in alarm.inputs["metricQueries"] if "metric" in q]
    assert {d["LoadBalancer"].rsplit("/", 1)[0] for d in dimensions} == {"app/retail-prod-edge"}
    assert len(dimensions) == len([s for s in config.services if s.path])
    # (The offline mocks give target groups no arnSuffix yet, so the TargetGroup dimension is
    # checked with explicit suffixes in test_alarm_fires_when_any_target_group_...)


def test_alarms_and_checks_carry_the_standard_tags():
    from components.common.conventions import STANDARD_TAG_KEYS

    g = built(control=True)
    for resource in (*g.of_type(ALARM), *g.of_type(CHECK)):
        assert set(STANDARD_TAG_KEYS) <= set(resource.inputs["tags"])
    assert {a.inputs["name"] for a in g.of_type(ALARM)} == {
        f"retail-prod-origin-failover-{r}-unhealthy" for r in (PRIMARY, DR)}
