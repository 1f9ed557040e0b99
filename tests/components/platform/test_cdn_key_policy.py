"""The data key lets the CDN decrypt the assets (OAC on an SSE-KMS bucket), for exactly this
distribution and only to decrypt; no other key admits CloudFront; no key is replaced for it.

The distribution is built from the bucket the key encrypts, so its ARN cannot go into the
key's own policy: an ``aws.kms.KeyPolicy`` carries the whole document (``KeyRing.admit``).
The ARN is resolved through the graph: the KeyPolicy's ``policy`` input must come from the
distribution (property dependency) and carry the ARN the mocks gave it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprint.graph import Resource, ResourceGraph
from blueprint.mocks import ACCOUNT_ID, PARTITION
from blueprint.synth import run_program
from components.edge.cdn import assets_key_policy_statement
from components.foundation.keys import KEY_DOMAINS, KeyRing, KeyRingArgs, key_policy, with_zero_etl
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
CLOUDFRONT = "cloudfront.amazonaws.com"
DATA = next(d for d in KEY_DOMAINS if d.name == "data")


def data_key(graph: ResourceGraph) -> Resource:
    """The primary region's data key."""
    (key,) = [k for k in graph.without_dr().of_type(KEY) if k.inputs["tags"]["key-domain"] == "data"]
    return key


def all_keys(graph: ResourceGraph) -> list[Resource]:
    """Every key of the stack: the primary's, the DR region's keys or replicas."""
    return graph.of_type(KEY) + graph.of_type(REPLICA_KEY)


def assets_buckets(graph: ResourceGraph) -> list[Resource]:
    """The buckets the distribution reads: the assets bucket, and its DR replica where the
    CDN fails over to it (an origin group)."""
    (distribution,) = graph.of_type(DISTRIBUTION)
    return [b for b in graph.of_type(BUCKET) if b.urn in distribution.property_dependencies["origins"]]


def key_of(graph: ResourceGraph, bucket: Resource) -> Resource:
    (encryption,) = [e for e in graph.of_type(ENCRYPTION) if e.property_dependencies["bucket"] == (bucket.urn,)]
    (key_urn,) = encryption.property_dependencies["rules"]
    return graph.get(key_urn)


def cdn_keys(graph: ResourceGraph) -> list[Resource]:
    """The keys that encrypt what the CDN reads: the data key, and in a stack whose CDN fails
    over to the DR region's assets, the DR region's data key (the replica)."""
    keys = [key_of(graph, bucket) for bucket in assets_buckets(graph)]
    expected = ["keys-data"] + (["dr-keys-data"] if graph.stack == "prod" else [])
    assert sorted(k.name for k in keys) == sorted(expected)
    assert all(k.inputs["tags"]["key-domain"] == "data" for k in keys)
    return keys


def effective_policy(graph: ResourceGraph, key: Resource) -> dict[str, Any]:
    """What AWS holds: the KeyPolicy's document when one names the key, else the key's own."""
    holders = [p for p in graph.of_type(KEY_POLICY) if key.urn in p.property_dependencies.get("keyId", ())]
    assert len(holders) <= 1, [h.urn for h in holders]
    if holders:
        # A replica's key id is its primary's (multi-Region keys share it).
        key_id = key.inputs["primaryKeyArn"].split("/")[-1] if key.type == REPLICA_KEY else key.id
        assert holders[0].inputs["keyId"] == key.inputs.get("keyId", key_id)
        return json.loads(holders[0].inputs["policy"])
    return json.loads(key.inputs["policy"])


def cloudfront_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if CLOUDFRONT in json.dumps(s.get("Principal", {}))]


def distribution_arn(graph: ResourceGraph) -> str:
    (distribution,) = graph.of_type(DISTRIBUTION)
    # The mocks' ARN for a distribution: arn:<partition>:cloudfront::<account>:distribution/<id>.
    return f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:distribution/{distribution.id}"


def test_the_data_key_admits_exactly_the_cdn_distribution(stack_graph):
    assert data_key(stack_graph) in cdn_keys(stack_graph)
    for key in cdn_keys(stack_graph):
        (statement,) = cloudfront_statements(effective_policy(stack_graph, key))
        assert statement == {
            "Sid": "AllowCloudFrontDecryptAssets", "Effect": "Allow", "Principal": {"Service": CLOUDFRONT},
            "Action": ["kms:Decrypt"], "Resource": "*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn(stack_graph)}}}, key.name


def test_the_key_policy_takes_the_arn_from_the_distribution_and_the_key_id_from_the_key(stack_graph):
    (distribution,) = stack_graph.of_type(DISTRIBUTION)
    holders = {p.property_dependencies["keyId"]: p for p in stack_graph.of_type(KEY_POLICY)}
    keys = cdn_keys(stack_graph)
    assert set(holders) == {(key.urn,) for key in keys}
    for key in keys:
        holder = holders[(key.urn,)]
        assert holder.property_dependencies["policy"] == (distribution.urn,)
        assert holder.region == key.region


def test_the_data_key_keeps_every_statement_it_had(stack_graph):
    config = parse_stack_config(PROJECT.stack_config(stack_graph.stack))
    warehouse = config.warehouse is not None and config.warehouse.enabled
    for key in cdn_keys(stack_graph):
        own = json.loads(key.inputs["policy"])
        effective = effective_policy(stack_graph, key)
        assert effective["Statement"][:-1] == own["Statement"]
        # The primary's key also admits the warehouse's zero-ETL integrations, where there is one.
        zero_etl = warehouse and key.type != REPLICA_KEY
        assert [s["Sid"] for s in effective["Statement"]] == [
            "EnableIamPoliciesOfThisAccount", "AllowInstanceLaunchRolesToEncryptVolumes",
            *(["AllowRedshiftZeroEtlIntegrationsOfThisAccount"] if zero_etl else []),
            "AllowCloudFrontDecryptAssets"]
        domain = with_zero_etl((DATA,))[0] if zero_etl else DATA
        # The key's own document is still the one key_policy() builds (the key is not changed).
        # A multi-Region key's policy also serves its replica's region; a replica's (a policy of
        # its own, as KMS keeps it) serves its own region.
        if key.type == REPLICA_KEY:
            regions = [key.region]
        else:
            regions = [stack_graph.region] + ([stack_graph.outputs["drRegion"]] if key.inputs["multiRegion"] else [])
        assert own == key_policy(domain, partition=PARTITION, account_id=ACCOUNT_ID, regions=regions), key.name
        assert effective == key_policy(domain, partition=PARTITION, account_id=ACCOUNT_ID, regions=regions,
                                       extra_statements=[assets_key_policy_statement(distribution_arn(stack_graph))])


def test_no_other_key_admits_cloudfront(stack_graph):
    admitted = {k.urn for k in cdn_keys(stack_graph)}
    others = [k for k in all_keys(stack_graph) if k.urn not in admitted]
    assert others
    for key in others:
        assert cloudfront_statements(effective_policy(stack_graph, key)) == [], key.name
    assert sorted(p.property_dependencies["keyId"] for p in stack_graph.of_type(KEY_POLICY)) == sorted(
        (urn,) for urn in admitted)


def test_the_key_policy_is_kept_as_the_key_is(stack_graph):
    holders = {p.property_dependencies["keyId"]: p for p in stack_graph.of_type(KEY_POLICY)}
    for key in cdn_keys(stack_graph):
        holder = holders[(key.urn,)]
        assert holder.protect is key.protect is (stack_graph.stack == "prod")
        assert "bypassPolicyLockoutSafetyCheck" not in holder.inputs


def test_the_cdn_reads_the_bucket_the_data_key_encrypts(stack_graph):
    # The chain the key policy completes: key -> assets bucket -> distribution origin.
    (distribution,) = stack_graph.of_type(DISTRIBUTION)
    assets = next(b for b in stack_graph.of_type(BUCKET) if b.name == "storage-assets")
    assert key_of(stack_graph, assets) == data_key(stack_graph)
    assert assets.urn in distribution.property_dependencies["origins"]
    # Where the CDN fails over to the DR region's assets, the DR region's data key encrypts them.
    for bucket in assets_buckets(stack_graph):
        assert bucket.name.endswith("-assets") and key_of(stack_graph, bucket).region == bucket.region


def test_bucket_and_key_policies_agree_on_the_principal_and_the_distribution(stack_graph):
    # What the graph holds on both sides, not what the builders would make: the bucket's
    # policy and the key's effective one name the same principal and the same single ARN.
    for bucket in assets_buckets(stack_graph):
        (key_statement,) = cloudfront_statements(effective_policy(stack_graph, key_of(stack_graph, bucket)))
        (assets_policy,) = [p for p in stack_graph.of_type(BUCKET_POLICY)
                            if p.property_dependencies["bucket"] == (bucket.urn,)]
        (bucket_statement,) = cloudfront_statements(json.loads(assets_policy.inputs["policy"]))
        assert key_statement["Principal"] == bucket_statement["Principal"] == {"Service": CLOUDFRONT}
        assert bucket_statement["Condition"] == key_statement["Condition"] == {
            "StringEquals": {"AWS:SourceArn": distribution_arn(stack_graph)}}


def test_key_ring_args_refuse_an_unknown_admitted_domain():
    with pytest.raises(ValueError, match="names no domain"):
        KeyRingArgs(admitted_later=frozenset({"nope"}))
    assert KeyRingArgs(admitted_later=frozenset({"data"})).admitted_later == {"data"}


def test_key_ring_admits_each_declared_domain_once_and_tells_when_one_never_was():
    flat = PROJECT.stack_config("dev")
    config = parse_stack_config(flat)
    errors: list[Exception] = []

    def program() -> None:
        ring = KeyRing("keys", stack_context(conventions=config.conventions("dev"), region=config.region),
                       KeyRingArgs(admitted_later=frozenset({"data", "logs"})))
        for call in (lambda: ring.admit("secrets", []), lambda: ring.admit("data", []),
                     lambda: ring.admit("data", []), ring.require_admitted):
            try:
                call()
            except ValueError as error:
                errors.append(error)

    run_program(program, project=PROJECT.name, stack="dev", config=flat)
    assert [str(e) for e in errors] == [
        "domain 'secrets' is not in KeyRingArgs.admitted_later: its key would fight the KeyPolicy over the policy",
        "domain 'data' is already admitted: give admit() every statement at once",
        "key ring 'keys': domain logs declared in KeyRingArgs.admitted_later but never admitted: "
        "call admit() for each"]
