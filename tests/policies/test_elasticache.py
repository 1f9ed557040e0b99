"""ElastiCache.1-.7: backups, patches, failover, encryption at rest and in transit,
authentication, subnet group."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.offline import evaluate
from policies.registry import POLICIES

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def cache(snap, tags):
    """What the Cache component writes for prod (numbers as the engine sends them, floats);
    keyword overrides, None removes a prop."""

    def make(**overrides):
        props = {
            "replicationGroupId": "retail-prod-cache",
            "description": "storefront cache",
            "engine": "valkey",
            "engineVersion": "8.0",
            "nodeType": "cache.r7g.large",
            "numCacheClusters": 3.0,
            "automaticFailoverEnabled": True,
            "multiAzEnabled": True,
            "atRestEncryptionEnabled": True,
            "kmsKeyId": KEY_ARN,
            "transitEncryptionEnabled": True,
            "transitEncryptionMode": "required",
            "userGroupIds": ["retail-prod-cache"],
            "subnetGroupName": "retail-prod-cache",
            "snapshotRetentionLimit": 7.0,
            "autoMinorVersionUpgrade": True,
            "tags": tags(environment="prod"),
            **overrides,
        }
        return snap(REPLICATION_GROUP, "cache", {k: v for k, v in props.items() if v is not None})

    return make


def test_compliant_cache_passes_the_whole_pack(cache):
    assert evaluate([cache()], POLICIES).violations == []


def only(run_policy, policy, resource):
    [violation] = run_policy(policy, [resource]).violations
    assert violation.urn == resource.urn
    return violation.message


# --- elasticache-automatic-backups ----------------------------------------------------------


def test_cache_with_backups_passes(cache, run_policy):
    assert run_policy("elasticache-automatic-backups", [cache(snapshotRetentionLimit=1)]).violations == []


@pytest.mark.parametrize(("limit", "shown"), [(0, "0"), (None, "not set (0 by default)")])
def test_cache_without_backups_fails(cache, run_policy, limit, shown):
    message = only(run_policy, "elasticache-automatic-backups", cache(snapshotRetentionLimit=limit))
    assert f"keeps automatic backups for {shown} days" in message
    assert "set snapshot_retention_limit to at least 1" in message


# --- elasticache-auto-minor-version-upgrade -------------------------------------------------


@pytest.mark.parametrize("upgrade", [True, None], ids=["true", "missing"])
def test_patched_cache_passes(cache, run_policy, upgrade):
    report = run_policy("elasticache-auto-minor-version-upgrade", [cache(autoMinorVersionUpgrade=upgrade)])
    assert report.violations == []


def test_unpatched_cache_fails(cache, run_policy):
    message = only(run_policy, "elasticache-auto-minor-version-upgrade", cache(autoMinorVersionUpgrade=False))
    assert "set auto_minor_version_upgrade=True" in message


# --- elasticache-automatic-failover ---------------------------------------------------------


def test_replicated_cache_with_failover_passes(cache, run_policy):
    assert run_policy("elasticache-automatic-failover", [cache()]).violations == []


@pytest.mark.parametrize("props", [{"numCacheClusters": 1.0}, {"numCacheClusters": None}],
                         ids=["one-node", "unset"])
def test_single_node_cache_is_not_applicable(cache, run_policy, props):
    single = cache(automaticFailoverEnabled=False, multiAzEnabled=False, **props)
    assert run_policy("elasticache-automatic-failover", [single]).violations == []


def test_replicated_cache_without_failover_fails(cache, run_policy):
    message = only(run_policy, "elasticache-automatic-failover",
                   cache(numCacheClusters=2.0, automaticFailoverEnabled=False, multiAzEnabled=None))
    assert "cache has 2 nodes but automatic_failover_enabled and multi_az_enabled off" in message
    assert "set automatic_failover_enabled=True, multi_az_enabled=True" in message


def test_cluster_mode_replicas_count_as_nodes(cache, run_policy):
    sharded = cache(numCacheClusters=None, numNodeGroups=2.0, replicasPerNodeGroup=1.0,
                    multiAzEnabled=False)
    message = only(run_policy, "elasticache-automatic-failover", sharded)
    assert "set multi_az_enabled=True" in message


# --- elasticache-encrypted-at-rest ----------------------------------------------------------


def test_cache_encrypted_with_customer_key_passes(cache, run_policy):
    assert run_policy("elasticache-encrypted-at-rest", [cache()]).violations == []


@pytest.mark.parametrize("enabled", [False, None], ids=["false", "missing"])
def test_cache_not_encrypted_at_rest_fails(cache, run_policy, enabled):
    message = only(run_policy, "elasticache-encrypted-at-rest",
                   cache(atRestEncryptionEnabled=enabled, kmsKeyId=None))
    assert "set at_rest_encryption_enabled=True and kms_key_id=" in message


def test_cache_encrypted_with_aws_managed_key_fails(cache, run_policy):
    message = only(run_policy, "elasticache-encrypted-at-rest", cache(kmsKeyId=None))
    assert "AWS-managed key; set kms_key_id=" in message


def test_a_global_datastore_secondary_inherits_encryption_but_names_its_key(cache, run_policy):
    member = dict(globalReplicationGroupId="ldgnf-retail-prod-cache", atRestEncryptionEnabled=None,
                  transitEncryptionEnabled=None)
    assert run_policy("elasticache-encrypted-at-rest", [cache(**member)]).violations == []
    assert run_policy("elasticache-encrypted-in-transit", [cache(**member)]).violations == []
    message = only(run_policy, "elasticache-encrypted-at-rest", cache(**member, kmsKeyId=None))
    assert "Global Datastore secondary without a customer key" in message


# --- elasticache-encrypted-in-transit -------------------------------------------------------


@pytest.mark.parametrize("mode", ["required", None], ids=["required", "missing"])
def test_cache_requiring_tls_passes(cache, run_policy, mode):
    report = run_policy("elasticache-encrypted-in-transit", [cache(transitEncryptionMode=mode)])
    assert report.violations == []


@pytest.mark.parametrize("enabled", [False, None], ids=["false", "missing"])
def test_cache_without_tls_fails(cache, run_policy, enabled):
    message = only(run_policy, "elasticache-encrypted-in-transit",
                   cache(transitEncryptionEnabled=enabled, transitEncryptionMode=None))
    assert "set transit_encryption_enabled=True and transit_encryption_mode='required'" in message


def test_cache_preferring_tls_fails(cache, run_policy):
    message = only(run_policy, "elasticache-encrypted-in-transit", cache(transitEncryptionMode="preferred"))
    assert "still accepts plain-text clients; set transit_encryption_mode='required'" in message


# --- elasticache-auth -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {},
        {"userGroupIds": [UNKNOWN_STRING_VALUE]},
        {"userGroupIds": None, "engine": "redis", "engineVersion": "5.0.6", "authToken": "s3cr3t-t0ken-0f-16+"},
        {"userGroupIds": None, "engine": "redis", "engineVersion": "7.1", "authTokenWo": "s3cr3t"},
    ],
    ids=["rbac", "rbac-unknown-in-preview", "auth-token", "write-only-auth-token"],
)
def test_authenticated_cache_passes(cache, run_policy, props):
    assert run_policy("elasticache-auth", [cache(**props)]).violations == []


@pytest.mark.parametrize("groups", [None, []], ids=["missing", "empty"])
def test_open_cache_fails(cache, run_policy, groups):
    message = only(run_policy, "elasticache-auth", cache(userGroupIds=groups))
    assert "connect without credentials" in message
    assert "set user_group_ids=[user_group.user_group_id]" in message


# --- elasticache-not-default-subnet-group ---------------------------------------------------


@pytest.mark.parametrize("name", ["retail-prod-cache", UNKNOWN_STRING_VALUE], ids=["named", "unknown"])
def test_cache_in_its_own_subnet_group_passes(cache, run_policy, name):
    report = run_policy("elasticache-not-default-subnet-group", [cache(subnetGroupName=name)])
    assert report.violations == []


@pytest.mark.parametrize("name", [None, "default", ""], ids=["missing", "default", "empty"])
def test_cache_in_default_subnet_group_fails(cache, run_policy, name):
    message = only(run_policy, "elasticache-not-default-subnet-group", cache(subnetGroupName=name))
    assert "set subnet_group_name=subnet_group.name" in message
