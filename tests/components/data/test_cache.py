"""The cache: multi-AZ with failover outside dev, encrypted both ways, IAM-authenticated, private."""

from __future__ import annotations

import json

import pytest

from components.data.cache import APP_ACCESS_STRING, CACHE_PORT, DISABLED_DEFAULT_ACCESS_STRING, connect_policy

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@pytest.mark.parametrize("stack, nodes", [("dev", 1), ("staging", 2), ("prod", 3)])
def test_nodes_and_failover_follow_the_preset(graph_of, stack, nodes):
    group = graph_of(stack).without_dr().one(GROUP)
    assert group.inputs["numCacheClusters"] == nodes
    assert group.inputs["automaticFailoverEnabled"] is (nodes > 1)
    assert group.inputs["multiAzEnabled"] is (nodes > 1)


def test_cache_is_encrypted_with_our_data_key_and_in_transit(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's cache
    group = stack_graph.one(GROUP)
    assert group.inputs["atRestEncryptionEnabled"] is True
    assert group.inputs["kmsKeyId"] == stack_graph.outputs["kmsKeyArns"]["data"]
    assert group.property_dependencies["kmsKeyId"] == (stack_graph.one("aws:kms/key:Key", "keys-data").urn,)
    assert group.inputs["transitEncryptionEnabled"] is True
    assert group.inputs["transitEncryptionMode"] == "required"


def test_auth_is_an_rbac_group_with_an_iam_user_and_a_disabled_default(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's cache
    group = stack_graph.one(GROUP)
    user_group = stack_graph.one("aws:elasticache/userGroup:UserGroup")
    assert group.property_dependencies["userGroupIds"] == (user_group.urn,)
    assert "authToken" not in group.inputs
    users = {u.inputs["userName"]: u for u in stack_graph.of_type("aws:elasticache/user:User")}
    app = users[f"retail-{stack_graph.stack}-cache-app"]
    assert app.inputs["authenticationMode"] == {"type": "iam"}
    assert app.inputs["userId"] == app.inputs["userName"]
    assert app.inputs["accessString"] == APP_ACCESS_STRING
    assert users["default"].inputs["accessString"] == DISABLED_DEFAULT_ACCESS_STRING
    assert set(user_group.inputs["userIds"]) == {u.inputs["userId"] for u in users.values()}


def test_cache_lives_in_the_isolated_subnets_behind_its_own_group(stack_graph):
    stack_graph = stack_graph.without_dr()  # the primary region's cache
    group = stack_graph.one(GROUP)
    subnet_group = stack_graph.one("aws:elasticache/subnetGroup:SubnetGroup")
    assert group.inputs["subnetGroupName"] == subnet_group.inputs["name"]
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(stack_graph.outputs["isolatedSubnetIds"])
    cache_sg = stack_graph.one("aws:ec2/securityGroup:SecurityGroup", "cache")
    assert group.inputs["securityGroupIds"] == [cache_sg.id]


def test_only_the_services_that_declare_the_cache_reach_its_port(stack_graph):
    cache_sg = stack_graph.one("aws:ec2/securityGroup:SecurityGroup", "cache")
    # Each declaring service's own pod group (its output), and not the nodes' group.
    declared = {name: group for name, group in stack_graph.outputs["podSecurityGroupIds"].items()
                if any(r.name == f"cache-from-{name}" for r in stack_graph.of_type(INGRESS))}
    ingress = [r for r in stack_graph.of_type(INGRESS) if r.inputs["securityGroupId"] == cache_sg.id]
    assert {r.inputs["referencedSecurityGroupId"] for r in ingress} == set(declared.values()) != set()
    assert all(stack_graph.by_urn[r.property_dependencies["referencedSecurityGroupId"][0]].type
               == "aws:ec2/securityGroup:SecurityGroup" for r in ingress)
    assert all((r.inputs["fromPort"], r.inputs["toPort"]) == (CACHE_PORT, CACHE_PORT) for r in ingress)
    assert not any("cidrIpv4" in r.inputs for r in ingress)
    egress = [r for r in stack_graph.of_type(EGRESS) if r.inputs.get("referencedSecurityGroupId") == cache_sg.id]
    assert {r.inputs["securityGroupId"] for r in egress} == set(declared.values())
    assert all(r.inputs["fromPort"] == CACHE_PORT for r in egress)


@pytest.mark.parametrize("stack, days", [("dev", 1), ("staging", 3), ("prod", 7)])
def test_snapshots_and_minor_upgrades(graph_of, stack, days):
    group = graph_of(stack).without_dr().one(GROUP)
    assert group.inputs["snapshotRetentionLimit"] == days
    assert group.inputs["autoMinorVersionUpgrade"] is True


def test_prod_cache_is_protected_and_keeps_a_final_snapshot(graph_of):
    prod, dev = graph_of("prod").without_dr().one(GROUP), graph_of("dev").one(GROUP)
    assert prod.protect is True and prod.inputs["finalSnapshotIdentifier"] == "retail-prod-cache-final"
    assert dev.protect is False and "finalSnapshotIdentifier" not in dev.inputs


def test_replication_group_id_fits_elasticache_limit(stack_graph):
    # Every replication group, the DR secondary's too.
    groups = stack_graph.of_type(GROUP)
    assert groups and all(len(g.inputs["replicationGroupId"]) <= 40 for g in groups)


def test_prod_dr_secondary_mirrors_the_primary_in_the_dr_region(graph_of):
    graph = graph_of("prod")
    primary = graph.without_dr().one(GROUP)
    (secondary,) = [g for g in graph.of_type(GROUP) if g.urn != primary.urn]
    dr_region = graph.outputs["drRegion"]
    assert secondary.region == dr_region == "eu-central-1" and primary.region == graph.region
    # It joins the primary's Global Datastore and inherits engine, node type and encryption.
    datastore = graph.one("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    assert datastore.parent == primary.parent
    assert secondary.property_dependencies["globalReplicationGroupId"] == (datastore.urn,)
    assert not {"engine", "nodeType", "atRestEncryptionEnabled", "transitEncryptionEnabled"} & set(secondary.inputs)
    # Same nodes, failover and snapshots; protected, with its own final snapshot.
    for key in ("numCacheClusters", "automaticFailoverEnabled", "multiAzEnabled", "snapshotRetentionLimit",
                "autoMinorVersionUpgrade"):
        assert secondary.inputs[key] == primary.inputs[key], key
    assert secondary.protect is True
    assert secondary.inputs["finalSnapshotIdentifier"] == "retail-prod-dr-cache-final"
    # Encrypted with the DR region's replica of the data key, in the DR region's isolated subnets.
    key = graph.by_urn[secondary.property_dependencies["kmsKeyId"][0]]
    assert key.type == "aws:kms/replicaKey:ReplicaKey" and key.region == dr_region
    assert secondary.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{dr_region}:")
    assert secondary.inputs["kmsKeyId"].split("/")[-1] == primary.inputs["kmsKeyId"].split("/")[-1]
    subnets = [graph.by_urn[u] for u in graph.by_urn[secondary.property_dependencies["subnetGroupName"][0]]
               .property_dependencies["subnetIds"]]
    assert subnets and all(s.region == dr_region and "isolated" in s.name and s.name.startswith("dr-")
                           for s in subnets)


def test_connect_grant_names_the_group_and_the_app_user_only():
    group = "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:retail-prod-cache"
    user = "arn:aws:elasticache:eu-west-1:123456789012:user:retail-prod-cache-app"
    document = connect_policy(group, user)
    assert json.loads(json.dumps(document)) == {"Version": "2012-10-17", "Statement": [{
        "Sid": "ConnectAsAppUser", "Effect": "Allow", "Action": ["elasticache:Connect"], "Resource": [group, user]}]}
