"""Pod Security Standards restricted (the policy; the checker itself is tested in
tests/components/compute/test_pod_security.py) and restricted, default-deny namespaces."""

from __future__ import annotations

import copy

import pytest

from policies.offline import evaluate
from policies.registry import POLICIES
from tests.policies.builders import CLUSTER, cluster_props, cni
from tests.support import RESTRICTED_POD

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"




def pod(**changes):
    """RESTRICTED_POD with ``changes`` (``container=`` merges into the container's
    securityContext, ``pod_sc=`` into the pod's)."""
    spec = copy.deepcopy(RESTRICTED_POD)
    spec["securityContext"].update(changes.pop("pod_sc", {}))
    spec["containers"][0]["securityContext"].update(changes.pop("container", {}))
    spec.update(changes)
    return spec


def deployment(snap, spec, name="storefront", annotations=None):
    template = {"metadata": {"labels": {"app": name}, "annotations": annotations or {}}, "spec": spec}
    return snap(DEPLOYMENT, name, {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "metadata": {"name": name, "namespace": "shop"},
                                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                                            "template": template}})


def namespace(snap, name="shop", level="restricted"):
    labels = {} if level is None else {"pod-security.kubernetes.io/enforce": level}
    return snap(NAMESPACE, name, {"metadata": {"name": name, "labels": labels}})


DENY_SPEC = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def network_policy(snap, ns, spec=None, linked=True):
    props = {"metadata": {"name": "default-deny", "namespace": "shop"},
             "spec": DENY_SPEC if spec is None else spec}
    deps = {"metadata": (ns.urn,)} if linked else {}
    return snap(NETWORK_POLICY, f"{ns.name}-default-deny", props, property_dependencies=deps)


def test_compliant_cluster_and_workloads_pass_the_whole_pack(snap, tags):
    cluster = snap(CLUSTER, "main", cluster_props(tags()))
    ns = namespace(snap)
    resources = [cluster, cni(snap, cluster, tags()), ns, network_policy(snap, ns),
                 deployment(snap, pod())]
    assert evaluate(resources, POLICIES).violations == []


# --- k8s-pod-security-restricted ------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "path"),
    [("kubernetes:apps/v1:StatefulSet", ("template",)), ("kubernetes:apps/v1:DaemonSet", ("template",)),
     ("kubernetes:batch/v1:Job", ("template",)), ("kubernetes:core/v1:ReplicationController", ("template",)),
     ("kubernetes:batch/v1:CronJob", ("jobTemplate", "spec", "template")),
     ("kubernetes:core/v1:Pod", ())],
)
def test_every_workload_kind_is_read_at_its_pod_template(snap, run_policy, type_, path):
    def props(spec):
        if not path:
            return {"spec": spec}
        node = {"spec": spec}
        for key in reversed(path):
            node = {key: node}
        return {"spec": node}

    assert run_policy("k8s-pod-security-restricted", [snap(type_, "ok", props(RESTRICTED_POD))]).violations == []
    bad = snap(type_, "bad", props(pod(hostNetwork=True)))
    [violation] = run_policy("k8s-pod-security-restricted", [bad]).violations
    assert violation.urn == bad.urn
    assert "pod sets hostNetwork: true" in violation.message


def test_restricted_deployment_passes(snap, run_policy):
    assert run_policy("k8s-pod-security-restricted", [deployment(snap, pod())]).violations == []


def test_deployment_breaking_restricted_fails_with_every_problem(snap, run_policy):
    workload = deployment(snap, pod(hostPID=True, container={"privileged": True}))
    [violation] = run_policy("k8s-pod-security-restricted", [workload]).violations
    assert violation.urn == workload.urn
    assert violation.message.startswith("Deployment storefront breaks Pod Security Standards 'restricted'")
    assert "pod sets hostPID: true" in violation.message
    assert "container app is privileged; remove securityContext.privileged" in violation.message


# --- k8s-namespace-restricted ---------------------------------------------------------------


def test_restricted_namespace_passes(snap, run_policy):
    assert run_policy("k8s-namespace-restricted", [namespace(snap)]).violations == []


@pytest.mark.parametrize("level", [None, "baseline"])
def test_namespace_not_enforcing_restricted_fails(snap, run_policy, level):
    ns = namespace(snap, level=level)
    [violation] = run_policy("k8s-namespace-restricted", [ns]).violations
    assert violation.urn == ns.urn
    assert "metadata.labels {'pod-security.kubernetes.io/enforce': 'restricted'}" in violation.message


# --- k8s-namespace-default-deny -------------------------------------------------------------


@pytest.mark.parametrize("linked", [True, False], ids=["dependency", "name"])
def test_namespace_with_default_deny_passes(snap, run_policy, linked):
    ns = namespace(snap)
    assert run_policy("k8s-namespace-default-deny", [ns, network_policy(snap, ns, linked=linked)]).violations == []


def test_deny_with_dns_egress_still_counts(snap, run_policy):
    ns = namespace(snap)
    spec = {**DENY_SPEC, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}
    assert run_policy("k8s-namespace-default-deny", [ns, network_policy(snap, ns, spec)]).violations == []


def test_namespace_without_network_policy_fails_on_the_namespace(snap, run_policy):
    ns, other = namespace(snap), namespace(snap, "payments")
    [violation] = run_policy("k8s-namespace-default-deny", [ns, other, network_policy(snap, ns)]).violations
    assert violation.urn == other.urn
    assert "namespace payments has no default-deny NetworkPolicy" in violation.message
    assert "spec={'pod_selector': {}, 'policy_types': ['Ingress', 'Egress']}" in violation.message


@pytest.mark.parametrize(
    "spec",
    [{"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]},
     {"podSelector": {}, "policyTypes": ["Ingress"]},
     {**DENY_SPEC, "ingress": [{}]}],
    ids=["selects-some-pods", "ingress-only", "allow-all-rule"],
)
def test_policy_that_is_not_default_deny_fails(snap, run_policy, spec):
    ns = namespace(snap)
    [violation] = run_policy("k8s-namespace-default-deny", [ns, network_policy(snap, ns, spec)]).violations
    assert violation.urn == ns.urn


def test_stack_without_namespaces_passes(snap, run_policy):
    assert run_policy("k8s-namespace-default-deny", [snap("aws:ec2/vpc:Vpc", "main")]).violations == []
