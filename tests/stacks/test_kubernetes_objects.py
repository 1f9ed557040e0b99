"""Every Kubernetes object a stack renders, taken from the synthesized graph (what `pulumi up`
would send), is valid for the cluster's Kubernetes version; custom resources, which have no
upstream schema, are checked against the fields their controllers require."""

from __future__ import annotations

import kubernetes_validate
import pytest

from config.loader import parse_stack_config
from tests.support import PROJECT

#: Rendered by Helm (its own chart tests) or custom resources checked below.
NOT_IN_UPSTREAM_SCHEMAS = {
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:karpenter.sh/v1:NodePool",
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
    "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy",
}


def manifest(resource) -> dict:
    group_version, kind = resource.type.removeprefix("kubernetes:").rsplit(":", 1)
    api_version = group_version.removeprefix("core/")
    return {**resource.inputs, "apiVersion": api_version, "kind": kind}


def kubernetes_objects(graph):
    return [r for r in graph if r.type.startswith("kubernetes:") and r.custom]


def version_of(stack: str) -> str:
    return parse_stack_config(PROJECT.stack_config(stack)).kubernetes.version + ".0"


def test_every_object_passes_the_strict_upstream_schema(stack_graph):
    objects = [r for r in kubernetes_objects(stack_graph) if r.type not in NOT_IN_UPSTREAM_SCHEMAS]
    kinds = {r.type.rsplit(":", 1)[1] for r in objects}
    assert {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "ServiceAccount", "Deployment",
            "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    version = version_of(stack_graph.stack)
    for resource in objects:
        kubernetes_validate.validate(manifest(resource), version, strict=True)


def test_a_broken_object_from_the_graph_fails_the_schema(graph_of):
    deployment = next(r for r in graph_of("prod") if r.type == "kubernetes:apps/v1:Deployment")
    broken = manifest(deployment)
    broken["spec"] = {**broken["spec"], "replicaz": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version_of("prod"), strict=True)


def test_node_pools_carry_what_karpenter_requires(stack_graph):
    config = parse_stack_config(PROJECT.stack_config(stack_graph.stack)).kubernetes.karpenter
    pools = stack_graph.of_type("kubernetes:karpenter.sh/v1:NodePool")
    assert len(pools) == len(stack_graph.of_type("aws:eks/cluster:Cluster"))  # one per cluster (DR too)
    for pool in pools:
        _check_pool(pool.inputs["spec"], config)


def _check_pool(spec, config) -> None:
    template = spec["template"]["spec"]
    assert template["nodeClassRef"]["group"] == "karpenter.k8s.aws"
    assert template["nodeClassRef"]["kind"] == "EC2NodeClass"
    requirements = {r["key"]: r for r in template["requirements"]}
    for requirement in requirements.values():
        assert requirement["operator"] in {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
    assert requirements["karpenter.k8s.aws/instance-family"]["values"] == config.instance_families
    assert requirements["karpenter.sh/capacity-type"]["values"] == config.capacity_types
    assert spec["limits"] == {"cpu": str(config.cpu_limit), "memory": f"{config.memory_limit_gi}Gi"}
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert {"nodes": config.disruption_budget} in spec["disruption"]["budgets"]


def test_node_classes_enforce_imdsv2_and_encrypted_volumes(stack_graph):
    node_classes = stack_graph.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    primary = {r.urn for r in stack_graph.without_dr()}
    data_key = stack_graph.outputs["kmsKeyArns"]["data"]
    assert len(node_classes) == len(stack_graph.of_type("aws:eks/cluster:Cluster"))
    for node_class in node_classes:
        spec = node_class.inputs["spec"]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["amiSelectorTerms"] and spec["subnetSelectorTerms"] and spec["securityGroupSelectorTerms"]
        assert all(mapping["ebs"]["encrypted"] is True for mapping in spec["blockDeviceMappings"])
        # The DR cluster's volumes use the data key's replica in the DR region (same mrk- id).
        key = data_key if node_class.urn in primary else data_key.replace(
            f":{stack_graph.region}:", f":{stack_graph.outputs['drRegion']}:")
        assert {m["ebs"]["kmsKeyID"] for m in spec["blockDeviceMappings"]} == {key}
