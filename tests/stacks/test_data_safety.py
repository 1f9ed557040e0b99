"""Nothing is lost: in prod every stateful resource is protected twice (Pulumi and AWS);
in dev everything can be destroyed."""

from __future__ import annotations

import pytest

from components.common.compliance import STATEFUL_TYPES


def stateful(graph):
    return [r for r in graph if r.type in STATEFUL_TYPES]


def test_prod_has_stateful_resources_of_every_data_kind(graph_of):
    kinds = {r.type for r in stateful(graph_of("prod"))}
    expected = {"aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup", "aws:dynamodb/table:Table",
                "aws:elasticache/replicationGroup:ReplicationGroup"}
    assert expected <= kinds


def test_prod_protects_every_stateful_resource_in_pulumi_and_in_aws(graph_of):
    for resource in stateful(graph_of("prod")):
        assert resource.protect, resource.urn
        flag = STATEFUL_TYPES[resource.type]
        if flag is not None:
            assert resource.inputs.get(flag) is True, f"{resource.urn}: {flag}"


def test_prod_keeps_final_snapshots_and_never_force_destroys(graph_of):
    graph = graph_of("prod")
    for cluster in graph.of_type("aws:rds/cluster:Cluster"):
        assert cluster.inputs.get("skipFinalSnapshot") is not True
        assert cluster.inputs["finalSnapshotIdentifier"]
    for group in graph.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert group.inputs["finalSnapshotIdentifier"]
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        assert bucket.inputs.get("forceDestroy") is not True


@pytest.mark.parametrize("stack", ["dev"])
def test_dev_can_be_destroyed_freely(graph_of, stack):
    graph = graph_of(stack)
    for resource in stateful(graph):
        assert not resource.protect, resource.urn
        flag = STATEFUL_TYPES[resource.type]
        if flag is not None:
            assert resource.inputs.get(flag) is not True, f"{resource.urn}: {flag}"
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        assert bucket.inputs.get("forceDestroy") is True
