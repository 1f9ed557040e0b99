"""Peak pre-warming built alone under the project's mocks, from EventPlans made by hand: every
layer is raised at warm_at (before start - lead) and released after the end, with the planned
values, by real schedulers; the Kubernetes objects are valid, restricted and least-privilege."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import Conventions
from components.compute.manifests import pod_spec_of
from components.compute.pod_security import pod_security_violations
from components.peaks.plan import EventPlan, PeakEvent, ServicePeak
from components.peaks.warming import (
    AuroraHandle,
    PeakWarming,
    PeakWarmingArgs,
    ServiceHandle,
    active_events,
    at_expression,
    waf_rate_limit_at,
)
from components.peaks.warming_manifests import (
    NAMESPACE,
    PLACEHOLDER,
    HpaTarget,
    cron_at,
    cronjob_manifest,
    cronjob_name,
    patches,
    placeholder_replicas,
)
from policies import scheduler
from policies.offline import ResourceSnapshot, evaluate
from policies.registry import POLICIES
from tests.support import stack_context

REGION = "eu-west-1"
VERSION = "1.35.0"
CLUSTER = "retail-prod-orders-db"
CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:{CLUSTER}"
ALB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/app/retail-prod/0123456789abcdef"
TABLES = {"carts": ("retail-prod-carts", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-carts"),
          "sessions": ("retail-prod-sessions", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-sessions")}
SERVICES = {"storefront": ServiceHandle("web", "storefront", 3), "checkout": ServiceHandle("payments", "checkout", 2)}
SCHEDULE = "aws:scheduler/schedule:Schedule"
ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
CRONJOB = "kubernetes:batch/v1:CronJob"


def plan(name: str, start: datetime, hours: int, *, lead: timedelta = timedelta(hours=2), readers: int = 4,
         acu: float = 16, lcu: int = 200, warm: dict[str, tuple[int, int]] | None = None,
         waf: int | None = None) -> EventPlan:
    event = PeakEvent(name, start, start + timedelta(hours=hours), lead, multiplier=5, waf_rate_limit=waf)
    return EventPlan(
        event=event, warm_at=start - lead, release_at=event.end + timedelta(hours=1),
        services={"storefront": ServicePeak("storefront", 5000, 40, 20, 40),
                  "checkout": ServicePeak("checkout", 800, 12, 6, 12)},
        headroom_vcpu=7.5, headroom_memory_gib=10, nodes=6, aurora_min_acu=acu, aurora_readers=readers,
        dynamodb_warm=warm if warm is not None else {"carts": (40000, 12000)}, alb_lcu=lcu, cache_nodes=3,
        waf_rate_limit=waf)


BLACK_FRIDAY = plan("black-friday", datetime(2026, 11, 27, 0, 0, tzinfo=UTC), 96, waf=500)
SPRING_SALE = plan("spring-sale", datetime(2027, 3, 20, 8, 0, tzinfo=UTC), 12, readers=2, acu=4, lcu=0,
                   warm={"sessions": (20000, 3000), "carts": (12000, 4000)})
PLANS = (BLACK_FRIDAY, SPRING_SALE)
TARGETS = [HpaTarget(s, h.namespace, h.hpa_name, h.baseline_min_replicas) for s, h in SERVICES.items()]


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    manifests: list[dict[str, Any]]


@cache
def built(own_reader_target: bool = False) -> Built:
    manifests: list[dict[str, Any]] = []

    def program() -> None:
        context = stack_context(Conventions("prod", "platform", "cc-1234", "confidential", "prod"), region=REGION)
        target = None if own_reader_target else aws.appautoscaling.Target(
            "db-readers", service_namespace="rds", scalable_dimension="rds:cluster:ReadReplicaCount",
            resource_id=f"cluster:{CLUSTER}", min_capacity=2, max_capacity=6)
        warming = PeakWarming("peaks", context, PeakWarmingArgs(
            plans=PLANS, k8s_provider=k8s.Provider("k8s", kubeconfig="{}"), services=SERVICES,
            api_server_cidrs=["10.0.32.0/20", "10.0.48.0/20"],
            aurora=AuroraHandle(CLUSTER, CLUSTER_ARN, baseline_min_acu=2, max_acu=64, baseline_readers=2,
                                max_readers=6, reader_target=target),
            tables=TABLES, load_balancer_arn=ALB_ARN))
        manifests.extend(warming.manifests)
        pulumi.export("roles", {k: r.arn for k, r in warming.roles.items()})

    graph = run_program(program, project="retail", stack="prod", config={"aws:region": REGION})
    return Built(graph, manifests)


def _schedules() -> dict[str, Mapping[str, Any]]:
    return {s.inputs["name"]: s.inputs for s in built().graph.of_type(SCHEDULE)}


def _at(expression: str) -> datetime:
    assert expression.startswith("at(") and expression.endswith(")")
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)


# -- instants -------------------------------------------------------------------------------

def test_every_raise_fires_at_warm_at_before_start_minus_lead_and_every_release_after_the_end():
    schedules = _schedules()
    assert schedules, "no schedules"
    for p in PLANS:
        mine = {n: s for n, s in schedules.items() if n.startswith(f"retail-prod-{p.event.name}-")}
        warm = [s for n, s in mine.items() if n.endswith("-warm")]
        release = [s for n, s in mine.items() if n.endswith("-release")]
        assert warm
        for s in warm:
            assert _at(s["scheduleExpression"]) == p.warm_at <= p.event.start - p.event.lead
        for s in release:
            assert _at(s["scheduleExpression"]) == p.release_at > p.event.end
        for s in mine.values():
            assert s["scheduleExpressionTimezone"] == "UTC"
            assert s["flexibleTimeWindow"] == {"mode": "OFF"}
            assert s["groupName"] == "retail-prod-peaks"


def test_at_expression_refuses_naive_and_non_utc_instants():
    assert at_expression(datetime(2026, 11, 26, 22, 0, tzinfo=UTC)) == "at(2026-11-26T22:00:00)"
    with pytest.raises(ValueError, match="no timezone"):
        at_expression(datetime(2026, 11, 26, 22, 0))
    with pytest.raises(ValueError, match="not UTC"):
        at_expression(datetime(2026, 11, 26, 22, 0, tzinfo=__import__("datetime").timezone(timedelta(hours=1))))


# -- Aurora ---------------------------------------------------------------------------------

def test_aurora_min_acu_is_raised_and_restored_on_this_cluster_through_modify_db_cluster():
    schedules = _schedules()
    warm = schedules["retail-prod-black-friday-aurora-acu-warm"]["target"]
    release = schedules["retail-prod-black-friday-aurora-acu-release"]["target"]
    for target in (warm, release):
        assert target["arn"] == "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster"
        assert target["retryPolicy"]["maximumEventAgeInSeconds"] == 3600
    assert json.loads(warm["input"]) == {"DBClusterIdentifier": CLUSTER, "ApplyImmediately": True,
                                         "ServerlessV2ScalingConfiguration": {"MinCapacity": 16, "MaxCapacity": 64}}
    assert json.loads(release["input"])["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 2, "MaxCapacity": 64}


def test_readers_are_raised_on_the_clusters_own_target_and_restored():
    actions = {a.inputs["name"]: a.inputs for a in built().graph.of_type(ACTION)}
    warm = actions["retail-prod-black-friday-readers-warm"]
    release = actions["retail-prod-black-friday-readers-release"]
    assert warm["resourceId"] == f"cluster:{CLUSTER}"
    assert warm["scalableDimension"] == "rds:cluster:ReadReplicaCount" and warm["serviceNamespace"] == "rds"
    assert warm["scalableTargetAction"] == {"minCapacity": 4, "maxCapacity": 6}
    assert release["scalableTargetAction"] == {"minCapacity": 2, "maxCapacity": 6}
    assert _at(warm["schedule"]) == BLACK_FRIDAY.warm_at and warm["timezone"] == "Etc/UTC"
    assert _at(release["schedule"]) == BLACK_FRIDAY.release_at
    # The spring sale needs no more readers than the baseline: nothing scheduled for it.
    assert not [n for n in actions if "spring-sale" in n]
    # The cluster's target is reused, not registered a second time.
    assert len(built().graph.of_type("aws:appautoscaling/target:Target")) == 1


def test_without_reader_autoscaling_a_target_pinned_to_the_baseline_is_made():
    graph = built(own_reader_target=True).graph
    [target] = graph.of_type("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 2)
    actions = {a.inputs["name"]: a.inputs for a in graph.of_type(ACTION)}
    assert actions["retail-prod-black-friday-readers-release"]["scalableTargetAction"] == {
        "minCapacity": 2, "maxCapacity": 2}


# -- DynamoDB and ALB -------------------------------------------------------------------------

def test_tables_are_prewarmed_once_with_the_planned_units_and_never_released():
    schedules = _schedules()
    carts = schedules["retail-prod-black-friday-warm-carts-warm"]["target"]
    assert carts["arn"] == "arn:aws:scheduler:::aws-sdk:dynamodb:updateTable"
    assert json.loads(carts["input"]) == {"TableName": "retail-prod-carts",
                                          "WarmThroughput": {"ReadUnitsPerSecond": 40000, "WriteUnitsPerSecond": 12000}}
    sessions = json.loads(schedules["retail-prod-spring-sale-warm-sessions-warm"]["target"]["input"])
    # Below the on-demand floor (4000 writes) a unit is raised to it: UpdateTable refuses less.
    assert sessions == {"TableName": "retail-prod-sessions",
                        "WarmThroughput": {"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 4000}}
    # A plan within what every on-demand table sustains schedules nothing.
    assert "retail-prod-spring-sale-warm-carts-warm" not in schedules
    assert not [n for n in schedules if "warm-" in n and n.endswith("-release")]


def test_the_alb_reserves_the_planned_lcus_and_resets_after():
    schedules = _schedules()
    warm = schedules["retail-prod-black-friday-alb-lcu-warm"]["target"]
    release = schedules["retail-prod-black-friday-alb-lcu-release"]["target"]
    assert warm["arn"] == "arn:aws:scheduler:::aws-sdk:elasticloadbalancingv2:modifyCapacityReservation"
    assert json.loads(warm["input"]) == {"LoadBalancerArn": ALB_ARN,
                                         "MinimumLoadBalancerCapacity": {"CapacityUnits": 200}}
    assert json.loads(release["input"]) == {"LoadBalancerArn": ALB_ARN, "ResetCapacityReservation": True}
    # No reservation planned for the spring sale: none scheduled.
    assert not [n for n in schedules if "spring-sale-alb" in n]


def test_each_schedule_runs_as_the_role_of_its_layer():
    graph = built().graph
    roles = {r.inputs["name"]: r for r in graph.of_type("aws:iam/role:Role")}
    assert set(roles) == {"retail-prod-peaks-aurora", "retail-prod-peaks-dynamodb", "retail-prod-peaks-alb"}
    by_layer = {"aurora-acu": "aurora", "warm-": "dynamodb", "alb-lcu": "alb"}
    for name, schedule in _schedules().items():
        [layer] = [layer for marker, layer in by_layer.items() if marker in name]
        assert schedule["target"]["roleArn"].endswith(f":role/retail-prod-peaks-{layer}")
    policies = {p.name: json.loads(p.inputs["policy"]) for p in graph.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert policies["peaks-dynamodb-policy"]["Statement"][0]["Resource"] == [arn for _, arn in TABLES.values()]
    trust = json.loads(roles["retail-prod-peaks-aurora"].inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID


def test_a_table_without_a_handle_is_refused():
    def program() -> None:
        context = stack_context(Conventions("prod", "platform", "cc-1234", "confidential", "prod"), region=REGION)
        PeakWarming("peaks", context, PeakWarmingArgs(
            plans=[plan("x", datetime(2026, 12, 1, tzinfo=UTC), 1, warm={"orders": (20000, 5000)})],
            k8s_provider=k8s.Provider("k8s", kubeconfig="{}"), services=SERVICES, api_server_cidrs=["10.0.0.0/16"],
            tables=TABLES))

    with pytest.raises(Exception, match="orders"):
        run_program(program, project="retail", stack="prod", config={"aws:region": REGION})


# -- WAF ----------------------------------------------------------------------------------------

def test_the_event_waf_limit_is_in_force_only_inside_its_window():
    assert waf_rate_limit_at(PLANS, BLACK_FRIDAY.warm_at) == 500
    assert waf_rate_limit_at(PLANS, BLACK_FRIDAY.release_at - timedelta(seconds=1)) == 500
    assert waf_rate_limit_at(PLANS, BLACK_FRIDAY.release_at) is None
    assert waf_rate_limit_at(PLANS, BLACK_FRIDAY.warm_at - timedelta(seconds=1)) is None
    assert waf_rate_limit_at(PLANS, SPRING_SALE.event.start) is None


def test_active_events_name_the_windows_a_deploy_must_avoid():
    assert active_events(PLANS, BLACK_FRIDAY.event.start) == ["black-friday"]
    assert active_events(PLANS, BLACK_FRIDAY.warm_at - timedelta(minutes=1)) == []
    assert active_events(PLANS, SPRING_SALE.release_at - timedelta(minutes=1)) == ["spring-sale"]
    assert active_events(PLANS, SPRING_SALE.release_at) == []


# -- Kubernetes ------------------------------------------------------------------------------

def test_cron_matches_exactly_the_minute_day_and_month():
    assert cron_at(datetime(2026, 11, 26, 22, 0, tzinfo=UTC)) == "0 22 26 11 *"
    with pytest.raises(ValueError, match="minute precision"):
        cron_at(datetime(2026, 11, 26, 22, 0, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="no timezone"):
        cron_at(datetime(2026, 11, 26, 22, 0))


def test_a_warm_and_a_release_cronjob_per_event_at_the_plans_instants():
    jobs = {j.inputs["metadata"]["name"]: j.inputs for j in built().graph.of_type(CRONJOB)}
    assert set(jobs) == {"black-friday-warm", "black-friday-release", "spring-sale-warm", "spring-sale-release"}
    for p in PLANS:
        warm, release = jobs[f"{p.event.name}-warm"]["spec"], jobs[f"{p.event.name}-release"]["spec"]
        assert warm["schedule"] == cron_at(p.warm_at) and release["schedule"] == cron_at(p.release_at)
        assert warm["timeZone"] == release["timeZone"] == "Etc/UTC"
        assert warm["startingDeadlineSeconds"] <= 3600


def test_the_warm_job_raises_each_floor_and_the_headroom_and_release_restores_them():
    def containers(phase: str) -> dict[str, list[str]]:
        doc = cronjob_manifest(BLACK_FRIDAY, phase, TARGETS)
        return {c["name"]: c["args"] for c in doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]}

    warm, release = containers("warm"), containers("release")
    assert warm["hpa-storefront"] == ["patch", "horizontalpodautoscaler", "storefront", "--namespace", "web",
                                      "--type", "merge", "--field-manager", "peak-warming",
                                      "--patch", '{"spec": {"minReplicas": 40}}']
    assert json.loads(warm["hpa-checkout"][-1]) == {"spec": {"minReplicas": 12}}
    assert json.loads(release["hpa-storefront"][-1]) == {"spec": {"minReplicas": 3}}
    assert json.loads(release["hpa-checkout"][-1]) == {"spec": {"minReplicas": 2}}
    # 7.5 vCPU and 10 GiB of headroom in 1 vCPU / 2 GiB placeholders: 8 pods.
    assert json.loads(warm["headroom"][-1]) == {"spec": {"replicas": 8}}
    assert json.loads(release["headroom"][-1]) == {"spec": {"replicas": 0}}


def test_a_planned_floor_below_the_baseline_never_lowers_it():
    low = HpaTarget("storefront", "web", "storefront", 50)
    assert patches(BLACK_FRIDAY, "warm", [low, TARGETS[1]])["hpa-storefront"]["patch"] == {"spec": {"minReplicas": 50}}


def test_a_planned_service_without_an_hpa_handle_is_refused():
    with pytest.raises(ValueError, match="checkout"):
        patches(BLACK_FRIDAY, "warm", TARGETS[:1])


def test_placeholder_replicas_cover_both_cpu_and_memory():
    assert placeholder_replicas(4, 2) == 4
    assert placeholder_replicas(1, 9) == 5
    assert placeholder_replicas(0, 0) == 0


def test_the_headroom_priority_is_negative_never_preempts_and_is_not_the_default():
    [priority] = built().graph.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")
    assert priority.inputs["value"] < 0
    assert priority.inputs["preemptionPolicy"] == "Never"
    assert priority.inputs["globalDefault"] is False
    placeholder = next(d for d in built().manifests if d["kind"] == "Deployment")
    assert placeholder["spec"]["replicas"] == 0
    pod = placeholder["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == priority.inputs["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is False


def test_the_jobs_may_patch_exactly_the_named_hpas_and_the_placeholder():
    roles = {d["metadata"]["namespace"]: d["rules"] for d in built().manifests if d["kind"] == "Role"}
    assert roles == {
        "web": [{"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
                 "resourceNames": ["storefront"], "verbs": ["patch"]}],
        "payments": [{"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
                      "resourceNames": ["checkout"], "verbs": ["patch"]}],
        NAMESPACE: [{"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": [PLACEHOLDER],
                     "verbs": ["patch"]}],
    }
    for binding in (d for d in built().manifests if d["kind"] == "RoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "peak-warming", "namespace": NAMESPACE}]


def test_the_jobs_reach_only_dns_and_the_api_server():
    policies = {p.inputs["metadata"]["name"]: p.inputs["spec"]
                for p in built().graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert policies["default-deny"]["policyTypes"] == ["Ingress", "Egress"]
    [rule] = policies["jobs-to-api-server"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    assert [peer["ipBlock"]["cidr"] for peer in rule["to"]] == ["10.0.32.0/20", "10.0.48.0/20"]


def test_every_pod_passes_pss_restricted_and_only_job_pods_mount_a_token():
    workloads = [d for d in built().manifests if pod_spec_of(d) is not None]
    assert {d["kind"] for d in workloads} == {"Deployment", "CronJob"}
    for doc in workloads:
        spec = pod_spec_of(doc)
        assert spec is not None
        assert pod_security_violations(spec) == [], doc["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is (doc["kind"] == "CronJob")
        for container in spec["containers"]:
            assert container["resources"]["requests"] == container["resources"]["limits"]


def test_every_manifest_passes_the_strict_schema():
    for doc in built().manifests:
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_a_broken_cronjob_fails_the_schema():
    doc = cronjob_manifest(BLACK_FRIDAY, "warm", TARGETS)
    doc["spec"]["timezone"] = "Etc/UTC"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_an_event_name_too_long_for_a_cronjob_is_refused():
    with pytest.raises(ValueError, match="shorten"):
        cronjob_name("a-very-long-event-name-for-the-whole-holiday-season", "release")


def test_the_component_passes_the_whole_pack_and_the_scheduler_rules():
    graph = built().graph
    snapshots = [ResourceSnapshot(urn=r.urn, type=r.type, name=r.name, props=dict(r.inputs), protect=r.protect)
                 for r in graph.resources if r.type.startswith(("aws:", "kubernetes:"))
                 and r.name != "db-readers"]  # the test's stand-in for SqlDatabase.reader_scaling
    assert len([s for s in snapshots if s.type == scheduler.SCHEDULE]) == 8
    assert evaluate(snapshots, [*POLICIES, *scheduler.POLICIES]).violations == []
