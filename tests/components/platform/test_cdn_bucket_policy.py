"""The assets bucket lets the CDN read, for exactly this distribution: the bucket-side twin of
test_cdn_key_policy.py.

The distribution is built from the assets bucket, so the store cannot name it when it builds
the bucket: the assets purpose is admitted later (``ObjectStore.admit``), and its
``BucketPolicy`` keeps the name and parent it always had, so the engine updates it in place.
"""

from __future__ import annotations

import json
from typing import Any

from blueprint.access import arn_of
from blueprint.graph import Resource, ResourceGraph
from blueprint.iam_eval import Verdict, reference_evaluate
from blueprint.mocks import ACCOUNT_ID, PARTITION
from components.data.bucket_policies import bucket_policy
from components.edge.cdn import assets_bucket_policy_statement

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
KEY = "aws:kms/key:Key"
CLOUDFRONT = "cloudfront.amazonaws.com"


def assets_bucket(graph: ResourceGraph) -> Resource:
    return graph.one(BUCKET, "storage-assets")


def assets_policy(graph: ResourceGraph) -> Resource:
    (policy,) = [p for p in graph.of_type(BUCKET_POLICY) if p.parent == assets_bucket(graph).urn]
    return policy


def document(policy: Resource) -> dict[str, Any]:
    return json.loads(policy.inputs["policy"])


def cloudfront_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if CLOUDFRONT in json.dumps(s.get("Principal", {}))]


def distribution_arn(graph: ResourceGraph) -> str:
    (distribution,) = graph.of_type(DISTRIBUTION)
    # The mocks' ARN for a distribution: arn:<partition>:cloudfront::<account>:distribution/<id>.
    return f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:distribution/{distribution.id}"


def read_asset(graph: ResourceGraph, source_arn: str) -> Verdict:
    """The bucket policy's verdict on CloudFront fetching an asset on behalf of ``source_arn``."""
    return reference_evaluate(
        document(assets_policy(graph)), "s3:GetObject", f"{arn_of(assets_bucket(graph))}/index.html",
        principal=("Service", CLOUDFRONT),
        context={"aws:SecureTransport": "true", "AWS:SourceArn": source_arn, "AWS:SourceAccount": ACCOUNT_ID})


def test_the_assets_bucket_admits_exactly_the_cdn_distribution(stack_graph):
    (statement,) = cloudfront_statements(document(assets_policy(stack_graph)))
    assert statement == assets_bucket_policy_statement(arn_of(assets_bucket(stack_graph)),
                                                       distribution_arn(stack_graph))
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn(stack_graph)}}


def test_cloudfront_for_another_distribution_of_the_account_is_refused(stack_graph):
    ours = distribution_arn(stack_graph)
    other = f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:distribution/EOTHERDISTRIBUTION"
    assert read_asset(stack_graph, ours) is Verdict.PERMITTED
    # Same account, same service principal: only the distribution's ARN tells them apart.
    assert read_asset(stack_graph, other) is Verdict.NEUTRAL
    assert read_asset(stack_graph, f"{ours}X") is Verdict.NEUTRAL


def test_the_bucket_policy_keeps_its_place_and_takes_the_arn_from_the_distribution(stack_graph):
    policy, bucket = assets_policy(stack_graph), assets_bucket(stack_graph)
    (distribution,) = stack_graph.of_type(DISTRIBUTION)
    # Its name and parent are its URN: unchanged, so the engine updates it in place.
    assert policy.name == "storage-assets-policy" and policy.parent == bucket.urn
    assert distribution.urn in policy.property_dependencies["policy"]
    assert policy.property_dependencies["bucket"] == (bucket.urn,)
    (block,) = [b for b in stack_graph.of_type(PUBLIC_ACCESS_BLOCK) if b.parent == bucket.urn]
    assert block.urn in policy.dependencies
    assert policy.protect is (stack_graph.stack == "prod")


def test_the_assets_bucket_keeps_every_statement_it_had(stack_graph):
    (key,) = [k for k in stack_graph.without_dr().of_type(KEY) if k.inputs["tags"]["key-domain"] == "data"]
    bucket_arn = arn_of(assets_bucket(stack_graph))
    assert document(assets_policy(stack_graph)) == bucket_policy(
        bucket_arn, arn_of(key), extra_statements=[assets_bucket_policy_statement(bucket_arn,
                                                                                  distribution_arn(stack_graph))])
    assert [s["Sid"] for s in document(assets_policy(stack_graph))["Statement"]] == [
        "DenyInsecureTransport", "DenyOtherEncryptionOnUpload", "DenyOtherKmsKeysOnUpload",
        "DenyKmsUploadsNamingNoKey", "DenyCustomerProvidedKeysOnUpload", "AllowCloudFrontReadAssets"]


def dr_assets_policy(graph: ResourceGraph) -> Resource | None:
    """The DR region's assets bucket policy, where the CDN fails over to that bucket (prod)."""
    buckets = [b for b in graph.of_type(BUCKET) if b.name == "dr-storage-assets"]
    if not buckets:
        return None
    (policy,) = [p for p in graph.of_type(BUCKET_POLICY) if p.parent == buckets[0].urn]
    return policy


def test_the_dr_assets_bucket_admits_exactly_the_cdn_distribution_it_fails_over_from(graph_of):
    assert dr_assets_policy(graph_of("staging")) is None and dr_assets_policy(graph_of("dev")) is None
    graph = graph_of("prod")
    policy, bucket = dr_assets_policy(graph), graph.one(BUCKET, "dr-storage-assets")
    (distribution,) = graph.of_type(DISTRIBUTION)
    # An origin of the distribution (the assets origin group's second member).
    assert bucket.urn in distribution.property_dependencies["origins"]
    assert bucket.region == graph.outputs["drRegion"]
    (group,) = [g for g in distribution.inputs["originGroups"] if g["originId"] == "assets-failover"]
    assert [m["originId"] for m in group["members"]] == ["assets", "assets-dr"]
    # Its own region's data key (the replica) and every statement the primary's has.
    key = graph.one("aws:kms/replicaKey:ReplicaKey", "dr-keys-data")
    # A replica's ARN: its primary's key id (multi-Region keys share it), in the replica's region.
    key_arn = f"arn:{PARTITION}:kms:{key.region}:{ACCOUNT_ID}:key/{key.inputs['primaryKeyArn'].split('/')[-1]}"
    assert key.inputs["primaryKeyArn"] == graph.outputs["kmsKeyArns"]["data"]
    bucket_arn = arn_of(bucket)
    assert document(policy) == bucket_policy(
        bucket_arn, key_arn, extra_statements=[assets_bucket_policy_statement(bucket_arn, distribution_arn(graph))])
    (statement,) = cloudfront_statements(document(policy))
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn(graph)}}
    assert distribution.urn in policy.property_dependencies["policy"]
    assert policy.property_dependencies["bucket"] == (bucket.urn,)
    assert policy.protect is True


def test_no_other_bucket_admits_cloudfront(stack_graph):
    admitted = {assets_policy(stack_graph).urn} | ({dr.urn} if (dr := dr_assets_policy(stack_graph)) else set())
    others = [p for p in stack_graph.of_type(BUCKET_POLICY) if p.urn not in admitted]
    assert others
    for policy in others:
        assert cloudfront_statements(document(policy)) == [], policy.name
