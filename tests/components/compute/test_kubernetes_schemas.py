"""Every manifest the namespace and service builders produce is valid Kubernetes.

Validated offline against the strict JSON schemas (unknown fields refused) of the Kubernetes
version the stack's EKS cluster runs, as kubernetes-validate ships them. The
TargetGroupBinding CRD has no upstream schema and is checked by hand. Each check is shown to
fail on a broken manifest, so a pass means something.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import kubernetes_validate
import pytest

from components.common.cidr import plan_subnets
from components.common.settings import Environment
from components.compute.manifests import pod_spec_of
from components.compute.pod_security import pod_security_violations
from components.compute.service import callees_of, caller_namespaces
from components.compute.service_manifests import (
    deployment_manifest,
    security_group_policy_manifest,
    security_group_policy_problems,
    service_manifests,
    target_group_binding_manifest,
    target_group_binding_problems,
)
from components.compute.team_manifests import team_manifests
from config.loader import parse_stack_config
from config.stack import StackConfig
from tests.support import PROJECT, STACKS

TARGET_GROUP = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/retail-cart/0123456789abcdef"
ALB_SG = "sg-0a1b2c3d4e5f60718"
SOURCES = ("preset", "stack file")


@cache
def stack_config(environment: str, source: str) -> StackConfig:
    if source == "stack file":
        return parse_stack_config(PROJECT.stack_config(environment))
    # The bare preset: only the keys no preset carries (and prod's on-call address).
    alarms = {"retail:alarms": '{"notify": "oncall@example.com"}'} if environment == "prod" else {}
    return parse_stack_config({"retail:environment": environment, "retail:owner": "shop@example.com",
                               "retail:costCenter": "cc-1", "retail:dataClassification": "confidential",
                               "aws:region": "eu-west-1", **alarms})


def kubernetes_version(config: StackConfig) -> str:
    return f"{config.kubernetes.version}.0"


def all_manifests(config: StackConfig) -> list[dict[str, Any]]:
    """Every object, each service twice: as configured, and with every option switched on."""
    conv = config.conventions("test")
    docs: list[dict[str, Any]] = []
    for team in config.kubernetes.teams:
        docs += team_manifests(team.name, conv.environment, team.cpu_quota, team.memory_quota, team.max_pods,
                               conv.standard_tags)
    subnets = plan_subnets(config.network.cidr, config.network.az_count)
    public = [s.cidr for s in subnets if s.tier == "public"]
    isolated = [s.cidr for s in subnets if s.tier == "isolated"]
    namespaces = caller_namespaces(config.services)
    for spec in config.services:
        callees = [(c.name, c.team, c.port) for c in callees_of(spec.name, config.services)]
        common = dict(service=spec.name, namespace=spec.team, image=spec.image, port=spec.port, cpu=spec.cpu,
                      memory=spec.memory, min_replicas=spec.min_replicas, max_replicas=spec.max_replicas,
                      target_cpu=spec.target_cpu, zone_count=config.network.az_count, callers=spec.callers,
                      caller_namespaces=namespaces, callees=callees)
        docs += service_manifests(**common, env=spec.env, secrets=spec.secrets,
                                  requests_per_second_target=spec.requests_per_second_target,
                                  alb_source_cidrs=public if spec.path else ()).values()
        docs += service_manifests(**common, env={"LOG_LEVEL": "info"}, secrets=["db-credentials"],
                                  requests_per_second_target=100, alb_source_cidrs=public, data_cidrs=isolated,
                                  data_ports=[5433, 6379]).values()
    return docs


def bindings(config: StackConfig) -> list[dict[str, Any]]:
    return [target_group_binding_manifest(service=s.name, namespace=s.team, image=s.image,
                                          target_group_arn=TARGET_GROUP, alb_security_group_id=sg, port=s.port)
            for s in config.services for sg in (ALB_SG, None)]


def _id(doc: dict[str, Any]) -> str:
    meta = doc["metadata"]
    return f"{doc['kind']}/{meta.get('namespace', '-')}/{meta['name']}"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("environment", [env.value for env in Environment])
def test_every_manifest_passes_the_strict_schema_of_the_cluster_version(environment, source):
    if source == "stack file" and environment not in STACKS:
        pytest.skip(f"no stack file for {environment}")
    config = stack_config(environment, source)
    docs = all_manifests(config)
    kinds = {doc["kind"] for doc in docs}
    assert kinds == {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "ServiceAccount", "Deployment",
                     "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    failures = {}
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, kubernetes_version(config), strict=True)
        except kubernetes_validate.ValidationError as error:
            failures[_id(doc)] = error.message
    assert failures == {}


@pytest.mark.parametrize("environment", [env.value for env in Environment])
def test_every_workload_passes_pss_restricted(environment):
    for doc in all_manifests(stack_config(environment, "preset")):
        pod = pod_spec_of(doc)
        if pod is not None:
            assert pod_security_violations(pod) == [], _id(doc)


@pytest.mark.parametrize("environment", [env.value for env in Environment])
def test_every_target_group_binding_has_the_crd_shape(environment):
    for doc in bindings(stack_config(environment, "preset")):
        assert target_group_binding_problems(doc) == [], _id(doc)


# -- the checks can fail ---------------------------------------------------------------------------

VERSION = "1.35.0"


def _deployment() -> dict[str, Any]:
    return deployment_manifest(service="cart", namespace="storefront", image="registry.example.com/retail/cart:1.0.0",
                               port=8080, cpu="250m", memory="256Mi", min_replicas=2, zone_count=3)


def test_the_reference_deployment_is_valid():
    kubernetes_validate.validate(_deployment(), VERSION, strict=True)


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda d: _container(d).update(securityContxt={}), id="unknown container field"),
    pytest.param(lambda d: d["spec"].update(replica=3), id="unknown spec field"),
    pytest.param(lambda d: _container(d)["ports"][0].update(containerPort="8080"), id="port as string"),
    pytest.param(lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsUser="10001"),
                 id="uid as string"),
    pytest.param(lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxSurge=["25%"]),
                 id="int-or-string as list"),
    pytest.param(lambda d: d["spec"]["template"]["spec"].pop("containers"), id="missing containers"),
])
def test_a_broken_manifest_fails_validation(mutate):
    doc = copy.deepcopy(_deployment())
    mutate(doc)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_a_broken_network_policy_fails_validation():
    config = stack_config("prod", "preset")
    policy = next(d for d in all_manifests(config) if d["kind"] == "NetworkPolicy")
    broken = copy.deepcopy(policy)
    broken["spec"]["policyTypes"] = "Ingress"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["spec"].update(targetGroupArn=d["spec"].pop("targetGroupARN")), "unknown fields targetGroupArn"),
    (lambda d: d["spec"].update(targetGroupARN="arn:aws:s3:::bucket"), "not a target group ARN"),
    (lambda d: d["spec"].update(targetType="lambda"), "targetType"),
    (lambda d: d["spec"]["serviceRef"].update(port=True), "serviceRef"),
    (lambda d: d["spec"]["networking"]["ingress"][0]["from"][0].update(cidr="0.0.0.0/0"), "from"),
    (lambda d: d.update(status={}), "unknown top-level"),
    (lambda d: d.update(apiVersion="elbv2.k8s.aws/v1"), "apiVersion"),
])
def test_a_broken_target_group_binding_is_refused(mutate, expected):
    doc = copy.deepcopy(bindings(stack_config("prod", "preset"))[0])
    assert target_group_binding_problems(doc) == []
    mutate(doc)
    problems = target_group_binding_problems(doc)
    assert any(expected in problem for problem in problems), problems


SECURITY_GROUP_POLICY = security_group_policy_manifest(
    service="checkout", namespace="checkout", image="registry.example.com/retail/checkout:1.0.0",
    group_ids=["sg-0123456789abcdef0", "sg-0fedcba9876543210"])


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["spec"].update(podSelector={}), "must match labels"),
    (lambda d: d["spec"].update(serviceAccountSelector={"matchLabels": {"a": "b"}}), "exactly one"),
    (lambda d: d["spec"].pop("podSelector"), "exactly one"),
    (lambda d: d["spec"]["securityGroups"].update(groupIds=[]), "1-5"),
    (lambda d: d["spec"]["securityGroups"].update(groupIds=[f"sg-{i:017x}" for i in range(6)]), "1-5"),
    (lambda d: d["spec"]["securityGroups"].update(groupIds=["default"]), "sg-"),
    (lambda d: d["spec"]["securityGroups"].update(groupIds=["sg-0123456789abcdef0"] * 2), "twice"),
    (lambda d: d["spec"].update(securityGroupIds=[]), "unknown fields"),
    (lambda d: d.update(apiVersion="vpcresources.k8s.aws/v1"), "apiVersion"),
])
def test_a_broken_security_group_policy_is_refused(mutate, expected):
    doc = copy.deepcopy(SECURITY_GROUP_POLICY)
    assert security_group_policy_problems(doc) == []
    mutate(doc)
    problems = security_group_policy_problems(doc)
    assert any(expected in problem for problem in problems), problems
