"""ObjectStore replication to the DR region: a primary store and the DR slice's store (built
with ``context.for_dr``) in one program under the mocks, as the platform wires them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.synth import run_program
from components.common.grants import KMS_DECRYPT
from components.data.bucket_policies import (
    REPLICATION_DESTINATION_ACTIONS,
    REPLICATION_ENCRYPT,
    REPLICATION_OBJECT_LOCK_ACTIONS,
    REPLICATION_SOURCE_BUCKET_ACTIONS,
    REPLICATION_SOURCE_OBJECT_ACTIONS,
    replication_role_policy,
)
from components.data.object_storage import (
    ACCESS_LOG_PURPOSE,
    REPLICATED_PURPOSES,
    REPLICATION_TIME_MINUTES,
    BucketReplication,
    ObjectStore,
    ObjectStoreArgs,
    ReplicaBucket,
    purpose_slug,
)
from config.loader import parse_stack_config
from config.names import STACK_DERIVED_NAMES
from tests.support import PROJECT, stack_context

REGION, DR_REGION = "eu-west-1", "eu-central-1"
ACCOUNT_ID = "210987654321"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
DR_KEY_ARN = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/mrk-1234abcd12ab34cd56ef1234567890ab"

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@cache
def build(stack: str = "prod", *, time_control: bool = True, replicate: bool = True) -> ResourceGraph:
    flat = PROJECT.stack_config(stack)
    config = parse_stack_config(flat)
    context = stack_context(conventions=config.conventions(stack), region=REGION, account_id=ACCOUNT_ID,
                            protect=stack == "prod")

    def program() -> None:
        dr = ObjectStore("dr-storage", context.for_dr(DR_REGION),
                         ObjectStoreArgs(settings=config.storage, data_key_arn=DR_KEY_ARN))
        replication = BucketReplication.to_store(dr, DR_KEY_ARN, time_control=time_control) if replicate else None
        ObjectStore("storage", context,
                    ObjectStoreArgs(settings=config.storage, data_key_arn=KEY_ARN, replication=replication))

    return run_program(program, project=PROJECT.name, stack=stack, config=flat)


def bucket(graph: ResourceGraph, store: str, purpose: str) -> Resource:
    return graph.one(BUCKET, f"{store}-{purpose_slug(purpose)}")


def arn(resource: Resource) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}"


def replications(graph: ResourceGraph) -> dict[str, Resource]:
    """Replication configurations by the purpose of the bucket they are a child of."""
    purpose_of = {bucket(graph, store, p).urn: (store, p) for store in ("storage", "dr-storage")
                  for p in ("assets", "dataLake", "logs", "backups")}
    found: dict[str, Resource] = {}
    for resource in graph.of_type(REPLICATION):
        store, purpose = purpose_of[resource.parent]
        assert store == "storage", "the DR store replicates nowhere"
        assert purpose not in found
        found[purpose] = resource
    return found


def rule(graph: ResourceGraph, purpose: str) -> dict[str, Any]:
    (only,) = replications(graph)[purpose].inputs["rules"]
    return only


def role_policy(graph: ResourceGraph) -> dict[str, Any]:
    return json.loads(graph.one(ROLE_POLICY, "storage-replication").inputs["policy"])


def test_the_dr_store_is_named_with_the_dr_qualifier_in_the_dr_region():
    graph = build()
    for purpose in ("assets", "dataLake", "logs", "backups"):
        dr = bucket(graph, "dr-storage", purpose)
        assert dr.inputs["bucket"] == f"retail-prod-dr-{purpose_slug(purpose)}-{ACCOUNT_ID}"
        assert dr.region == DR_REGION


def test_each_data_purpose_replicates_to_the_dr_bucket_of_the_same_purpose_and_logs_never():
    graph = build()
    assert set(replications(graph)) == set(REPLICATED_PURPOSES) == {"assets", "dataLake", "backups"}
    assert ACCESS_LOG_PURPOSE not in replications(graph)
    for purpose in REPLICATED_PURPOSES:
        config = replications(graph)[purpose]
        assert config.region == REGION
        assert config.inputs["bucket"] == bucket(graph, "storage", purpose).inputs["bucket"]
        destination = rule(graph, purpose)["destination"]
        assert destination["bucket"] == arn(bucket(graph, "dr-storage", purpose))
        assert "storageClass" not in destination


def test_replicas_are_encrypted_with_the_dr_key_and_sse_kms_objects_are_selected():
    graph = build()
    for purpose in REPLICATED_PURPOSES:
        found = rule(graph, purpose)
        assert found["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": DR_KEY_ARN}
        assert found["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}


def test_the_rule_is_enabled_for_the_whole_bucket_with_delete_markers():
    graph = build()
    for purpose in REPLICATED_PURPOSES:
        found = rule(graph, purpose)
        assert found["status"] == "Enabled"
        assert found["filter"] in ({}, {"prefix": ""})
        assert "prefix" not in found
        assert found["deleteMarkerReplication"] == {"status": "Enabled"}


@pytest.mark.parametrize("time_control", [True, False])
def test_replication_time_control_and_metrics_exactly_when_asked(time_control):
    graph = build(time_control=time_control)
    for purpose in REPLICATED_PURPOSES:
        destination = rule(graph, purpose)["destination"]
        if time_control:
            assert destination["replicationTime"] == {"status": "Enabled",
                                                      "time": {"minutes": REPLICATION_TIME_MINUTES}}
            assert destination["metrics"] == {"status": "Enabled",
                                              "eventThreshold": {"minutes": REPLICATION_TIME_MINUTES}}
            assert REPLICATION_TIME_MINUTES == 15
        else:
            assert "replicationTime" not in destination
            assert "metrics" not in destination


def test_the_replication_waits_for_versioning_and_for_the_role_policy():
    graph = build()
    for purpose in REPLICATED_PURPOSES:
        config = replications(graph)[purpose]
        source = bucket(graph, "storage", purpose)
        (versioning,) = [r for r in graph.children(source.urn) if r.type == VERSIONING]
        assert versioning.urn in config.dependencies
        assert graph.one(ROLE_POLICY, "storage-replication").urn in config.dependencies
        assert config.property_dependencies["role"] == (role(graph).urn,)


def role(graph: ResourceGraph) -> Resource:
    return graph.one(ROLE, "storage-replication")


def test_one_role_trusted_by_s3_for_this_account_only():
    graph = build()
    roles = [r for r in graph.of_type(ROLE) if r.name.endswith("replication")]
    assert [r.name for r in roles] == ["storage-replication"]
    trust = json.loads(role(graph).inputs["assumeRolePolicy"])
    (stmt,) = trust["Statement"]
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    assert stmt["Action"] == "sts:AssumeRole"
    assert stmt["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert role(graph).inputs["tags"]["Name"] == "retail-prod-s3-replication"


def test_the_role_reads_the_sources_and_writes_only_the_dr_buckets():
    graph = build()
    by_sid = {s["Sid"]: s for s in role_policy(graph)["Statement"]}
    sources = sorted(arn(bucket(graph, "storage", p)) for p in REPLICATED_PURPOSES)
    replicas = sorted(arn(bucket(graph, "dr-storage", p)) for p in REPLICATED_PURPOSES)
    assert sorted(by_sid["ReadReplicationConfiguration"]["Resource"]) == sources
    assert by_sid["ReadReplicationConfiguration"]["Action"] == sorted(REPLICATION_SOURCE_BUCKET_ACTIONS)
    assert sorted(by_sid["ReadSourceVersions"]["Resource"]) == [f"{a}/*" for a in sources]
    assert by_sid["ReadSourceVersions"]["Action"] == sorted(REPLICATION_SOURCE_OBJECT_ACTIONS)
    assert sorted(by_sid["ReplicateIntoReplicas"]["Resource"]) == [f"{a}/*" for a in replicas]
    assert by_sid["ReplicateIntoReplicas"]["Action"] == sorted(REPLICATION_DESTINATION_ACTIONS)
    every_resource = [r for s in by_sid.values() for r in s["Resource"]]
    assert not any("-logs-" in r for r in every_resource)
    # prod's backups bucket has Object Lock: its retention and legal hold are read, only there.
    assert by_sid["ReadSourceObjectLock"]["Resource"] == [f"{arn(bucket(graph, 'storage', 'backups'))}/*"]
    assert by_sid["ReadSourceObjectLock"]["Action"] == sorted(REPLICATION_OBJECT_LOCK_ACTIONS)


def test_the_role_uses_each_key_only_through_s3_in_its_region_for_its_buckets():
    graph = build()
    by_sid = {s["Sid"]: s for s in role_policy(graph)["Statement"]}
    decrypt, encrypt = by_sid["DecryptSourceThroughS3"], by_sid["EncryptReplicasThroughS3"]
    assert (decrypt["Resource"], decrypt["Action"]) == ([KEY_ARN], list(KMS_DECRYPT))
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert (encrypt["Resource"], encrypt["Action"]) == ([DR_KEY_ARN], sorted(REPLICATION_ENCRYPT))
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{DR_REGION}.amazonaws.com"}
    source = arn(bucket(graph, "storage", "assets"))
    replica = arn(bucket(graph, "dr-storage", "assets"))
    assert {source, f"{source}/*"} <= set(decrypt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:s3:arn"])
    assert replica not in decrypt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:s3:arn"]
    assert {replica, f"{replica}/*"} <= set(encrypt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:s3:arn"])
    assert source not in encrypt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:s3:arn"]


def test_a_store_without_replication_has_no_role_and_no_rule():
    graph = build(replicate=False)
    assert graph.of_type(REPLICATION) == []
    assert not any(r.name.endswith("replication") for r in graph.of_type(ROLE))


def test_dev_has_no_object_lock_so_no_object_lock_statement():
    by_sid = {s["Sid"] for s in role_policy(build("dev"))["Statement"]}
    assert "ReadSourceObjectLock" not in by_sid and "ReplicateIntoReplicas" in by_sid


# -- refused arguments ------------------------------------------------------------------------

def destinations(*purposes: str) -> dict[str, ReplicaBucket]:
    return {p: ReplicaBucket(f"retail-prod-dr-{p}", f"arn:aws:s3:::retail-prod-dr-{p}") for p in purposes}


def test_replication_refuses_the_logs_bucket():
    with pytest.raises(ValueError, match=r"destinations names logs.*never replicate"):
        BucketReplication(DR_REGION, destinations(*REPLICATED_PURPOSES, "logs"), DR_KEY_ARN)


def test_replication_refuses_a_missing_purpose():
    with pytest.raises(ValueError, match=r"destinations lacks backups"):
        BucketReplication(DR_REGION, destinations("assets", "dataLake"), DR_KEY_ARN)


def test_replication_refuses_a_key_of_another_region():
    with pytest.raises(ValueError, match=r"replica_key_arn .* is not a key of 'eu-central-1'"):
        BucketReplication(DR_REGION, destinations(*REPLICATED_PURPOSES), KEY_ARN)


def test_replication_into_the_store_s_own_region_is_refused():
    flat = PROJECT.stack_config("dev")
    config = parse_stack_config(flat)
    same = BucketReplication(REGION, destinations(*REPLICATED_PURPOSES), KEY_ARN)

    def program() -> None:
        ObjectStore("storage", stack_context(conventions=config.conventions("dev"), region=REGION),
                    ObjectStoreArgs(settings=config.storage, data_key_arn=KEY_ARN, replication=same))

    with pytest.raises(Exception, match=r"replication.region is the store's own region 'eu-west-1'"):
        run_program(program, project=PROJECT.name, stack="dev", config=flat)


def test_the_role_policy_builder_refuses_the_same_region_and_stray_lock_buckets():
    common = dict(source_bucket_arns=["arn:aws:s3:::a"], destination_bucket_arns=["arn:aws:s3:::b"],
                  source_key_arn=KEY_ARN, replica_key_arn=DR_KEY_ARN, source_region=REGION)
    with pytest.raises(ValueError, match="replica_region is the source region"):
        replication_role_policy(**common, replica_region=REGION)
    with pytest.raises(ValueError, match="are not source buckets"):
        replication_role_policy(**common, replica_region=DR_REGION, object_lock_bucket_arns=["arn:aws:s3:::c"])


# -- names ------------------------------------------------------------------------------------

def test_every_dr_bucket_name_fits_63_characters_for_the_longest_stack_name_allowed():
    from config.names import stack_name_problems

    longest = max(n for n in range(1, 64) if not stack_name_problems("s" * n))
    assert ("S3 bucket name", ("data-lake",), 63, len("-123456789012")) in STACK_DERIVED_NAMES
    for purpose in ("assets", "dataLake", "logs", "backups"):
        name = f"retail-{'s' * longest}-dr-{purpose_slug(purpose)}-123456789012"
        assert len(name) <= 63, name
