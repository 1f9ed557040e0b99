"""Container Insights on the cluster: the add-on, its Pod Identity role and its log groups,
built alone under the project's mocks (opt-in: off, the cluster is as before)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.compute.cluster import (
    CONTAINER_INSIGHTS_ADDON,
    CONTAINER_INSIGHTS_LOG_GROUPS,
    KubernetesCluster,
    KubernetesClusterArgs,
)
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
ADDON = "aws:eks/addon:Addon"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@cache
def built(stack: str, insights: bool) -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config(stack))

    def program() -> None:
        KubernetesCluster("eks", stack_context(config.conventions(stack), region=REGION, protect=config.is_prod),
                          KubernetesClusterArgs(settings=config.kubernetes, vpc_id="vpc-1", private_subnet_ids=["s-1"],
                                                secrets_key_arn=KEY, data_key_arn=KEY, logs_key_arn=KEY,
                                                log_retention_days=config.network.flow_log_retention_days,
                                                container_insights=insights))

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


def addon(graph: ResourceGraph) -> Mapping[str, Any]:
    [found] = [a.inputs for a in graph.of_type(ADDON) if a.inputs["addonName"] == CONTAINER_INSIGHTS_ADDON]
    return found


def test_the_addon_gets_its_role_through_pod_identity_for_the_agents_service_account_only():
    graph = built("prod", True)
    [association] = addon(graph)["podIdentityAssociations"]
    assert association["serviceAccount"] == "cloudwatch-agent"
    [role] = [r for r in graph.of_type("aws:iam/role:Role") if r.name == "eks-container-insights"]
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT_ID, "aws:RequestTag/eks-cluster-name": "retail-prod-eks",
        "aws:RequestTag/kubernetes-namespace": "amazon-cloudwatch",
        "aws:RequestTag/kubernetes-service-account": "cloudwatch-agent"}
    [attachment] = [a for a in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    if a.name == "eks-container-insights"]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"


def test_its_log_groups_exist_first_with_our_key_and_retention():
    graph = built("prod", True)
    groups = {g.inputs["name"]: g for g in graph.of_type(LOG_GROUP)}
    config = parse_stack_config(PROJECT.stack_config("prod"))
    [the_addon] = [a for a in graph.of_type(ADDON) if a.inputs["addonName"] == CONTAINER_INSIGHTS_ADDON]
    for kind in CONTAINER_INSIGHTS_LOG_GROUPS:
        group = groups[f"/aws/containerinsights/retail-prod-eks/{kind}"]
        assert group.inputs["kmsKeyId"] == KEY
        assert group.inputs["retentionInDays"] == config.network.flow_log_retention_days
        assert group.protect
        assert group.urn in the_addon.dependencies


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_off_by_default_nothing_is_added(stack):
    graph = built(stack, False)
    assert not [a for a in graph.of_type(ADDON) if a.inputs["addonName"] == CONTAINER_INSIGHTS_ADDON]
    assert not [g for g in graph.of_type(LOG_GROUP) if "containerinsights" in g.inputs["name"]]
