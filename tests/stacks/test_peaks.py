"""Black Friday mode on the prod stack: for every event of the calendar, every layer the planner
raises is scheduled to rise at or before start minus lead time and to come back down after the
end, with the planned values, in the real graph; a peak the bounds cannot carry is refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from blueprint.graph import ResourceGraph
from components.peaks.plan import EventPlan
from components.peaks.planner import plan_events
from config.loader import ConfigError, parse_stack_config
from tests.support import PROJECT, config_with

SCHEDULE = "aws:scheduler/schedule:Schedule"
CRONJOB = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def plans() -> list[EventPlan]:
    return plan_events(parse_stack_config(PROJECT.stack_config("prod")))


def at(schedule) -> datetime:
    expression = schedule.inputs["scheduleExpression"]
    assert expression.startswith("at(") and schedule.inputs.get("scheduleExpressionTimezone") in (None, "UTC")
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=plans()[0].warm_at.tzinfo)


def cron_instant(cronjob, year: int, tz) -> datetime:
    minute, hour, day, month, _ = cronjob.inputs["spec"]["schedule"].split()
    return datetime(year, int(month), int(day), int(hour), int(minute), tzinfo=tz)


def patches(cronjob) -> dict[str, int]:
    """HPA name -> the minReplicas the job's containers set."""
    found = {}
    for container in cronjob.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
        args = container["args"]
        if args[:2] == ["patch", "horizontalpodautoscaler"]:
            found[args[2]] = json.loads(args[-1])["spec"]["minReplicas"]
    return found


def test_prod_declares_black_friday_and_a_sale():
    assert [p.event.name for p in plans()] == ["black-friday", "summer-sale"]


@pytest.mark.parametrize("index", [0, 1], ids=["black-friday", "summer-sale"])
def test_every_layer_is_raised_before_the_event_and_released_after(graph_of, index):
    graph: ResourceGraph = graph_of("prod")
    plan = plans()[index]
    event, name = plan.event, plan.event.name
    deadline = event.start - event.lead
    schedules = {s.name: s for s in graph.of_type(SCHEDULE) if s.name.startswith(f"peaks-{name}-")}

    # Aurora Serverless v2: the minimum ACU for the event, back to the preset's after.
    warm, release = schedules[f"peaks-{name}-aurora-acu-warm"], schedules[f"peaks-{name}-aurora-acu-release"]
    assert at(warm) <= deadline and at(release) > event.end
    raised = json.loads(warm.inputs["target"]["input"])["ServerlessV2ScalingConfiguration"]["MinCapacity"]
    lowered = json.loads(release.inputs["target"]["input"])["ServerlessV2ScalingConfiguration"]["MinCapacity"]
    assert (raised, lowered) == (plan.aurora_min_acu, 2)

    # The ALB: the planned LCU reservation, reset after.
    warm, release = schedules[f"peaks-{name}-alb-lcu-warm"], schedules[f"peaks-{name}-alb-lcu-release"]
    assert at(warm) <= deadline and at(release) > event.end
    assert json.loads(warm.inputs["target"]["input"])["MinimumLoadBalancerCapacity"] == {"CapacityUnits": plan.alb_lcu}
    assert json.loads(release.inputs["target"]["input"])["ResetCapacityReservation"] is True

    # Pods: every service's HPA floor raised to the plan, restored to its own minimum after.
    jobs = {c.name: c for c in graph.of_type(CRONJOB)}
    warm_job, release_job = jobs[f"peaks-{name}-warm"], jobs[f"peaks-{name}-release"]
    assert cron_instant(warm_job, event.start.year, event.start.tzinfo) <= deadline
    assert cron_instant(release_job, plan.release_at.year, event.start.tzinfo) > event.end
    assert patches(warm_job) == {s: p.min_replicas for s, p in plan.services.items()}
    config = parse_stack_config(PROJECT.stack_config("prod"))
    assert patches(release_job) == {s.name: s.min_replicas for s in config.services}
    # Nodes: the warm job scales the headroom placeholder up, the release job back to 0.
    def headroom(job) -> int:
        (args,) = [c["args"] for c in job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
                   if c["args"][:3] == ["patch", "deployment", "headroom"]]
        return json.loads(args[-1])["spec"]["replicas"]

    assert plan.headroom_vcpu > 0 and headroom(warm_job) >= plan.headroom_vcpu  # 1 vCPU per placeholder pod
    assert headroom(release_job) == 0


def test_the_planned_peak_is_above_the_baseline_it_releases_to():
    black_friday = plans()[0]
    assert black_friday.warm_at == black_friday.event.start - timedelta(hours=4)
    assert black_friday.services["storefront"].min_replicas == 60 and black_friday.aurora_min_acu == 20


def test_a_peak_the_bounds_cannot_carry_is_refused_with_the_bound_and_the_number():
    events = [{"name": "flash-sale", "start": "2027-03-01T10:00Z", "end": "2027-03-01T12:00Z", "leadTime": "4h",
               "multiplier": 100}]
    with pytest.raises(ConfigError) as info:
        parse_stack_config(config_with("prod", peakEvents=events))
    found = dict(info.value.problems)
    assert "retail:services[0].maxReplicas" in found
    assert "flash-sale" in found["retail:services[0].maxReplicas"] and "600" in found["retail:services[0].maxReplicas"]
