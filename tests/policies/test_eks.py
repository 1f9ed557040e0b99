"""EKS.1/2/3/8 and the vpc-cni network policy (the Kubernetes objects on the cluster:
test_kubernetes.py)."""

from __future__ import annotations

import pytest

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from tests.policies.builders import ADDON, CLUSTER, cluster_props, cni

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
