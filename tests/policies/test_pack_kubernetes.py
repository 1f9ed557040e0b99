"""EKS.1/2/3/8, vpc-cni network policy, Pod Security Standards restricted (the policy; the
checker itself is tested in tests/components/compute/test_pod_security.py) and restricted,
default-deny namespaces."""

from __future__ import annotations

import copy
import json

import pytest

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from policies.offline import evaluate
from policies.registry import POLICIES

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VERSION = SUPPORTED_KUBERNETES_VERSIONS[0]


def cluster_props(tags, **overrides):
    props = {
        "version": VERSION,
        "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True,
                      "subnetIds": ["subnet-1", "subnet-2"]},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "accessConfig": {"authenticationMode": "API"},
        "tags": tags,
    }
    props.update(overrides)
    return props


def cni(snap, cluster, tags, values=None, name="vpc-cni"):
    values = {"enableNetworkPolicy": "true"} if values is None else values
    return snap(ADDON, f"{cluster.name}-{name}",
                {"addonName": name, "clusterName": "retail-dev",
                 "configurationValues": json.dumps(values), "tags": tags},
                property_dependencies={"clusterName": (cluster.urn,)})


RESTRICTED_CONTAINER = {
    "name": "app",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront:1.4.2",
    "ports": [{"containerPort": 8080}],
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]}},
}
RESTRICTED_POD = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [RESTRICTED_CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "creds", "secret": {"secretName": "db"}}],
}


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


# --- eks-endpoint-not-public ----------------------------------------------------------------


def test_private_endpoint_passes(snap, tags, run_policy):
    assert run_policy("eks-endpoint-not-public", [snap(CLUSTER, "main", cluster_props(tags()))]).violations == []


def test_restricted_public_endpoint_passes_outside_prod(snap, tags, run_policy):
    props = cluster_props(tags(), vpcConfig={"endpointPublicAccess": True, "endpointPrivateAccess": True,
                                             "publicAccessCidrs": ["203.0.113.0/24"]})
    assert run_policy("eks-endpoint-not-public", [snap(CLUSTER, "main", props)]).violations == []


def test_restricted_public_endpoint_fails_in_prod(snap, tags, run_policy):
    props = cluster_props(tags(environment="prod"),
                          vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})
    cluster = snap(CLUSTER, "main", props)
    [violation] = run_policy("eks-endpoint-not-public", [cluster]).violations
    assert violation.urn == cluster.urn
    assert "prod EKS API endpoint is public (restricted to 203.0.113.0/24)" in violation.message
    assert "endpoint_public_access=False and endpoint_private_access=True" in violation.message


@pytest.mark.parametrize("vpc", [{}, {"endpointPublicAccess": True},
                                 {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}],
                         ids=["default", "no-cidrs", "open-cidr"])
def test_endpoint_open_to_the_internet_fails(snap, tags, run_policy, vpc):
    cluster = snap(CLUSTER, "main", cluster_props(tags(), vpcConfig=vpc))
    [violation] = run_policy("eks-endpoint-not-public", [cluster]).violations
    assert violation.urn == cluster.urn
    assert "public to the whole internet" in violation.message
    assert "endpoint_public_access=False" in violation.message


# --- eks-supported-version ------------------------------------------------------------------


def test_supported_version_passes(snap, tags, run_policy):
    assert run_policy("eks-supported-version", [snap(CLUSTER, "main", cluster_props(tags()))]).violations == []


@pytest.mark.parametrize("version", ["1.27", None])
def test_unsupported_or_unpinned_version_fails(snap, tags, run_policy, version):
    props = cluster_props(tags())
    if version is None:
        del props["version"]
    else:
        props["version"] = version
    cluster = snap(CLUSTER, "main", props)
    [violation] = run_policy("eks-supported-version", [cluster]).violations
    assert violation.urn == cluster.urn
    assert f"set version to one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}" in violation.message


# --- eks-secrets-encrypted ------------------------------------------------------------------


def test_secrets_encrypted_with_customer_key_passes(snap, tags, run_policy):
    assert run_policy("eks-secrets-encrypted", [snap(CLUSTER, "main", cluster_props(tags()))]).violations == []


@pytest.mark.parametrize(
    ("config", "says"),
    [(None, "does not envelope-encrypt"),
     ({"resources": ["secrets"], "provider": {}}, "names no customer-managed KMS key"),
     ({"resources": ["secrets"], "provider": {"keyArn": "alias/aws/eks"}}, "names no customer-managed")],
    ids=["missing", "no-key", "aws-managed"],
)
def test_secrets_not_encrypted_with_customer_key_fails(snap, tags, run_policy, config, says):
    props = cluster_props(tags())
    if config is None:
        del props["encryptionConfig"]
    else:
        props["encryptionConfig"] = config
    cluster = snap(CLUSTER, "main", props)
    [violation] = run_policy("eks-secrets-encrypted", [cluster]).violations
    assert violation.urn == cluster.urn
    assert says in violation.message
    assert "encryption_config={'resources': ['secrets'], 'provider': {'key_arn'" in violation.message


# --- eks-audit-logging ----------------------------------------------------------------------


def test_audit_logging_passes(snap, tags, run_policy):
    assert run_policy("eks-audit-logging", [snap(CLUSTER, "main", cluster_props(tags()))]).violations == []


def test_missing_audit_log_fails(snap, tags, run_policy):
    cluster = snap(CLUSTER, "main", cluster_props(tags(), enabledClusterLogTypes=["api"]))
    [violation] = run_policy("eks-audit-logging", [cluster]).violations
    assert violation.urn == cluster.urn
    assert "add 'audit'" in violation.message and "enabled_cluster_log_types" in violation.message


# --- eks-vpc-cni-network-policy -------------------------------------------------------------


def test_cluster_with_network_policy_cni_passes(snap, tags, run_policy):
    cluster = snap(CLUSTER, "main", cluster_props(tags()))
    others = cni(snap, cluster, tags(), {}, name="coredns")
    report = run_policy("eks-vpc-cni-network-policy", [cluster, cni(snap, cluster, tags()), others])
    assert report.violations == []


def test_stack_without_clusters_passes(snap, run_policy):
    assert run_policy("eks-vpc-cni-network-policy", [snap("aws:ec2/vpc:Vpc", "main")]).violations == []


def test_cluster_without_cni_addon_fails_on_the_cluster(snap, tags, run_policy):
    cluster = snap(CLUSTER, "main", cluster_props(tags()))
    unlinked = snap(ADDON, "loose-cni", {"addonName": "vpc-cni",
                                         "configurationValues": '{"enableNetworkPolicy": "true"}'})
    [violation] = run_policy("eks-vpc-cni-network-policy", [cluster, unlinked]).violations
    assert violation.urn == cluster.urn
    assert "has no vpc-cni add-on" in violation.message
    assert "addon_name='vpc-cni'" in violation.message
    assert "configuration_values=json.dumps({'enableNetworkPolicy': 'true'})" in violation.message


@pytest.mark.parametrize("values", [{}, {"enableNetworkPolicy": "false"}], ids=["unset", "false"])
def test_cni_without_network_policy_fails_on_the_addon(snap, tags, run_policy, values):
    cluster = snap(CLUSTER, "main", cluster_props(tags()))
    addon = cni(snap, cluster, tags(), values)
    [violation] = run_policy("eks-vpc-cni-network-policy", [cluster, addon]).violations
    assert violation.urn == addon.urn
    assert "does not enable network policy" in violation.message
    assert "configuration_values=json.dumps" in violation.message


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
