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
from components.edge.cdn import assets_bucket_policy_statement_for_account, assets_key_policy_statement
from components.foundation.keys import KEY_DOMAINS, KeyRingArgs, key_policy

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
CLOUDFRONT = "cloudfront.amazonaws.com"
DATA = next(d for d in KEY_DOMAINS if d.name == "data")


def data_key(graph: ResourceGraph) -> Resource:
    (key,) = [k for k in graph.of_type(KEY) if k.inputs["tags"]["key-domain"] == "data"]
    return key


def effective_policy(graph: ResourceGraph, key: Resource) -> dict[str, Any]:
    """What AWS holds: the KeyPolicy's document when one names the key, else the key's own."""
    holders = [p for p in graph.of_type(KEY_POLICY) if key.urn in p.property_dependencies.get("keyId", ())]
    assert len(holders) <= 1, [h.urn for h in holders]
    if holders:
        assert holders[0].inputs["keyId"] == key.inputs.get("keyId", key.id)
        return json.loads(holders[0].inputs["policy"])
    return json.loads(key.inputs["policy"])


def cloudfront_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if CLOUDFRONT in json.dumps(s.get("Principal", {}))]


def distribution_arn(graph: ResourceGraph) -> str:
    (distribution,) = graph.of_type(DISTRIBUTION)
    # The mocks' ARN for a distribution: arn:<partition>:cloudfront::<account>:distribution/<id>.
    return f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:distribution/{distribution.id}"


def test_the_data_key_admits_exactly_the_cdn_distribution(stack_graph):
    key = data_key(stack_graph)
    (statement,) = cloudfront_statements(effective_policy(stack_graph, key))
    assert statement == {
        "Sid": "AllowCloudFrontDecryptAssets", "Effect": "Allow", "Principal": {"Service": CLOUDFRONT},
        "Action": ["kms:Decrypt"], "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn(stack_graph)}}}


def test_the_key_policy_takes_the_arn_from_the_distribution_and_the_key_id_from_the_key(stack_graph):
    (holder,) = stack_graph.of_type(KEY_POLICY)
    (distribution,) = stack_graph.of_type(DISTRIBUTION)
    assert holder.property_dependencies["policy"] == (distribution.urn,)
    assert holder.property_dependencies["keyId"] == (data_key(stack_graph).urn,)
    assert holder.region == data_key(stack_graph).region


def test_the_data_key_keeps_every_statement_it_had(stack_graph):
    key = data_key(stack_graph)
    own = json.loads(key.inputs["policy"])
    effective = effective_policy(stack_graph, key)
    assert effective["Statement"][:-1] == own["Statement"]
    assert [s["Sid"] for s in effective["Statement"]] == [
        "EnableIamPoliciesOfThisAccount", "AllowInstanceLaunchRolesToEncryptVolumes", "AllowCloudFrontDecryptAssets"]
    # The key's own document is still the one key_policy() builds (the key is not changed).
    regions = [stack_graph.region] + ([stack_graph.outputs["drRegion"]] if stack_graph.outputs["drRegion"] else [])
    assert own == key_policy(DATA, partition=PARTITION, account_id=ACCOUNT_ID, regions=regions)
    assert effective == key_policy(DATA, partition=PARTITION, account_id=ACCOUNT_ID, regions=regions,
                                   extra_statements=[assets_key_policy_statement(distribution_arn(stack_graph))])


def test_no_other_key_admits_cloudfront(stack_graph):
    others = [k for k in stack_graph.of_type(KEY) if k.urn != data_key(stack_graph).urn]
    assert others
    for key in others:
        assert cloudfront_statements(effective_policy(stack_graph, key)) == [], key.name
    assert [p.property_dependencies["keyId"] for p in stack_graph.of_type(KEY_POLICY)] == [
        (data_key(stack_graph).urn,)]


def test_the_key_policy_is_kept_as_the_key_is(stack_graph):
    (holder,) = stack_graph.of_type(KEY_POLICY)
    assert holder.protect is data_key(stack_graph).protect is (stack_graph.stack == "prod")
    assert "bypassPolicyLockoutSafetyCheck" not in holder.inputs


def test_the_cdn_reads_the_bucket_the_data_key_encrypts(stack_graph):
    # The chain the key policy completes: key -> assets bucket -> distribution origin.
    key, (distribution,) = data_key(stack_graph), stack_graph.of_type(DISTRIBUTION)
    assets = next(b for b in stack_graph.of_type(BUCKET) if b.name.endswith("-assets"))
    (encryption,) = [e for e in stack_graph.of_type(ENCRYPTION) if e.property_dependencies["bucket"] == (assets.urn,)]
    assert encryption.property_dependencies["rules"] == (key.urn,)
    assert assets.urn in distribution.property_dependencies["origins"]


def test_bucket_and_key_policies_agree_on_the_principal_and_the_distribution(stack_graph):
    arn = distribution_arn(stack_graph)
    (key_statement,) = cloudfront_statements(effective_policy(stack_graph, data_key(stack_graph)))
    bucket_statement = assets_bucket_policy_statement_for_account("arn:aws:s3:::assets", PARTITION, ACCOUNT_ID)
    assert key_statement["Principal"] == bucket_statement["Principal"]
    # The bucket admits this account's distributions; the key exactly this one, which is among them.
    pattern = bucket_statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert arn.startswith(pattern.removesuffix("*"))
    assert key_statement["Condition"]["StringEquals"]["AWS:SourceArn"] == arn


def test_key_ring_args_refuse_an_unknown_admitted_domain():
    with pytest.raises(ValueError, match="names no domain"):
        KeyRingArgs(admitted_later=frozenset({"nope"}))
    assert KeyRingArgs(admitted_later=frozenset({"data"})).admitted_later == {"data"}
