"""The TeamNamespaces component, built alone under the project's mocks from each stack file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pulumi_kubernetes as k8s
import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.synth import run_program
from components.compute.namespaces import TeamNamespaces, TeamNamespacesArgs
from components.compute.team_manifests import LIMIT_RANGE_DEFAULT, LIMIT_RANGE_DEFAULT_REQUEST, team_manifests
from config.loader import parse_stack_config
from config.stack import StackConfig
from tests.support import PROJECT, STACKS, stack_context

COMPONENT = "retail:compute:TeamNamespaces"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    stack: StackConfig

    def in_namespace(self, type_token: str, namespace: str) -> list[Resource]:
        return [r for r in self.graph.of_type(type_token) if r.inputs["metadata"].get("namespace") == namespace]

    def policy(self, namespace: str, name: str) -> Resource:
        (policy,) = [r for r in self.in_namespace(NETWORK_POLICY, namespace) if r.inputs["metadata"]["name"] == name]
        return policy


@cache
def built(stack: str) -> Built:
    config = parse_stack_config(PROJECT.stack_config(stack))

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        TeamNamespaces("teams",
            stack_context(conventions=config.conventions(stack)),
            TeamNamespacesArgs(
                teams=config.kubernetes.teams,
                provider=provider,
            ))

    return Built(run_program(program, project="retail", stack=stack, config={"aws:region": config.region}), config)


@pytest.mark.parametrize("stack", STACKS)
def test_one_namespace_per_team_restricted_by_pod_security_admission(stack):
    b = built(stack)
    namespaces = {r.inputs["metadata"]["name"]: r for r in b.graph.of_type(NAMESPACE)}
    assert set(namespaces) == {team.name for team in b.stack.kubernetes.teams}
    for name, namespace in namespaces.items():
        labels = namespace.inputs["metadata"]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["retail/team"] == name
        assert labels["retail/environment"] == b.stack.environment.value


@pytest.mark.parametrize("stack", STACKS)
def test_standard_tags_travel_as_annotations(stack):
    b = built(stack)
    tags = b.stack.conventions(stack).standard_tags
    for namespace in b.graph.of_type(NAMESPACE):
        annotations = namespace.inputs["metadata"]["annotations"]
        assert annotations == {f"retail/{key}": value for key, value in tags.items()}


@pytest.mark.parametrize("stack", STACKS)
def test_default_deny_covers_every_pod_in_both_directions(stack):
    b = built(stack)
    for team in b.stack.kubernetes.teams:
        spec = b.policy(team.name, "default-deny").inputs["spec"]
        assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}  # no rule: nothing admitted


@pytest.mark.parametrize("stack", STACKS)
def test_dns_is_the_one_egress_allowed_to_everyone(stack):
    b = built(stack)
    for team in b.stack.kubernetes.teams:
        spec = b.policy(team.name, "allow-dns").inputs["spec"]
        assert spec["podSelector"] == {} and spec["policyTypes"] == ["Egress"]
        (rule,) = spec["egress"]
        assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                               "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
        assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]
    assert len(b.graph.of_type(NETWORK_POLICY)) == 2 * len(b.stack.kubernetes.teams)


@pytest.mark.parametrize("stack", STACKS)
def test_quota_comes_from_the_team_config(stack):
    b = built(stack)
    for team in b.stack.kubernetes.teams:
        (quota,) = b.in_namespace(QUOTA, team.name)
        assert quota.inputs["spec"]["hard"] == {
            "requests.cpu": team.cpu_quota, "limits.cpu": team.cpu_quota,
            "requests.memory": team.memory_quota, "limits.memory": team.memory_quota,
            "pods": str(team.max_pods),
        }


@pytest.mark.parametrize("stack", STACKS)
def test_limit_range_gives_containers_defaults_that_fit_the_quota(stack):
    b = built(stack)
    for team in b.stack.kubernetes.teams:
        (limit_range,) = b.in_namespace(LIMIT_RANGE, team.name)
        (limits,) = limit_range.inputs["spec"]["limits"]
        assert limits == {"type": "Container", "default": LIMIT_RANGE_DEFAULT,
                          "defaultRequest": LIMIT_RANGE_DEFAULT_REQUEST}


@pytest.mark.parametrize("stack", STACKS)
def test_children_are_parented_use_the_provider_and_wait_for_their_namespace(stack):
    b = built(stack)
    component = b.graph.one(COMPONENT)
    provider = b.graph.one("pulumi:providers:kubernetes")
    namespaces = {r.inputs["metadata"]["name"]: r for r in b.graph.of_type(NAMESPACE)}
    children = b.graph.children(component.urn)
    assert len(children) == 5 * len(namespaces)
    for child in children:
        assert child.provider == provider.urn
        if child.type != NAMESPACE:
            assert namespaces[child.inputs["metadata"]["namespace"]].urn in child.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_registered_objects_are_the_pure_manifests(stack):
    b = built(stack)
    conv = b.stack.conventions(stack)
    registered = {(r.type, r.inputs["metadata"].get("namespace"), r.inputs["metadata"]["name"]): r.inputs
                  for r in b.graph if r.type.startswith("kubernetes:") and "metadata" in r.inputs}
    for team in b.stack.kubernetes.teams:
        for doc in team_manifests(team.name, conv.environment, team.cpu_quota, team.memory_quota, team.max_pods,
                                  conv.standard_tags):
            meta = doc["metadata"]
            inputs = next(v for (t, ns, n), v in registered.items()
                          if t.endswith(f":{doc['kind']}") and ns == meta.get("namespace") and n == meta["name"])
            assert inputs["metadata"] == meta
            assert inputs.get("spec") == doc.get("spec")
