"""TAG.1: the standard tags (which types are taggable: test_taggable.py)."""

from __future__ import annotations

import pytest

from components.common.conventions import MANAGED_BY, STANDARD_TAG_KEYS

VPC = "aws:ec2/vpc:Vpc"


def test_fully_tagged_resource_passes(snap, tags, run_policy):
    assert run_policy("standard-tags", [snap(VPC, "main", {"tags": tags(Name="main")})]).violations == []


@pytest.mark.parametrize("missing", STANDARD_TAG_KEYS)
def test_each_missing_standard_tag_is_named(snap, tags, run_policy, missing):
    incomplete = {k: v for k, v in tags().items() if k != missing}
    vpc = snap(VPC, "main", {"tags": incomplete})
    [violation] = run_policy("standard-tags", [vpc]).violations
    assert violation.urn == vpc.urn
    assert f"missing or empty standard tags: {missing};" in violation.message
    assert "Conventions.tags()" in violation.message


def test_empty_values_count_as_missing(snap, tags, run_policy):
    vpc = snap(VPC, "main", {"tags": tags(owner="", cost_center="  ")})
    [violation] = run_policy("standard-tags", [vpc]).violations
    assert "standard tags: owner, cost-center;" in violation.message


def test_untagged_resource_lists_every_key(snap, run_policy):
    [violation] = run_policy("standard-tags", [snap("aws:kms/key:Key", "data", {})]).violations
    assert ", ".join(STANDARD_TAG_KEYS) in violation.message


def test_wrong_managed_by_fails(snap, tags, run_policy):
    vpc = snap(VPC, "main", {"tags": tags(managed_by="terraform")})
    [violation] = run_policy("standard-tags", [vpc]).violations
    assert f"managed-by is 'terraform', expected {MANAGED_BY!r}" in violation.message


def test_untaggable_and_non_aws_resources_are_skipped(snap, run_policy):
    report = run_policy(
        "standard-tags",
        [
            snap("aws:kms/alias:Alias", "data", {}),
            snap("pulumi:providers:aws", "eu-west-1", {"region": "eu-west-1"}),
            snap("retail:foundation:Network", "net", {}),
        ],
    )
    assert report.violations == []


def test_list_style_tags_are_read(snap, tags, run_policy):
    # aws.autoscaling.Group takes tags as [{key, value, propagateAtLaunch}].
    blocks = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags().items()]
    group = snap("aws:autoscaling/group:Group", "workers", {"tags": blocks})
    assert run_policy("standard-tags", [group]).violations == []
    short = snap("aws:autoscaling/group:Group", "short", {"tags": blocks[1:]})
    [violation] = run_policy("standard-tags", [short]).violations
    assert "standard tags: environment;" in violation.message
