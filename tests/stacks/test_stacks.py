"""Every stack file, end to end: it synthesizes, it is tagged, it passes the whole pack."""

from __future__ import annotations

import pytest

from blueprint.checks import check
from components.common.conventions import MANAGED_BY, STANDARD_TAG_KEYS
from policies.registry import POLICIES
from tests.support import STACKS


def test_there_is_a_stack_per_environment():
    assert set(STACKS) >= {"dev", "staging", "prod"}


#: The warnings a stack may print: each is a documented, reasoned exception (README).
DOCUMENTED_WARNINGS = ("uses CloudWatch Logs' default encryption", "retail:edge.domain is not set")


def test_stack_warns_only_of_documented_exceptions(stack_graph):
    assert len(stack_graph) > 0
    undocumented = [w for w in stack_graph.warnings if not any(d in w for d in DOCUMENTED_WARNINGS)]
    assert undocumented == []
    if stack_graph.stack != "dev":
        # Stacks with a domain serve the whole shop: no "services not reachable" warning.
        assert not any("retail:edge.domain is not set" in w for w in stack_graph.warnings)


def test_stack_passes_every_policy_of_the_pack(stack_graph):
    report = check(stack_graph)
    assert sorted(report.evaluated) == sorted(p.name for p in POLICIES)
    assert report.violations == []
    assert not report.mandatory_failed


def test_every_aws_resource_with_tags_carries_the_standard_tags(stack_graph):
    tagged = [r for r in stack_graph if r.custom and "tags" in r.inputs]
    assert len(tagged) > 20
    for resource in tagged:
        tags = resource.inputs["tags"]
        assert {k: tags.get(k) for k in STANDARD_TAG_KEYS}.keys() == set(STANDARD_TAG_KEYS)
        assert all(tags[k] for k in STANDARD_TAG_KEYS), resource.urn
        assert tags["managed-by"] == MANAGED_BY
        assert tags["stack"] == stack_graph.stack
        assert tags["environment"] == stack_graph.outputs["environment"]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_non_prod_stacks_can_be_destroyed(graph_of, stack):
    assert [r.urn for r in graph_of(stack) if r.protect] == []


def test_prod_is_spread_over_three_azs_with_a_dr_region(graph_of):
    prod = graph_of("prod")
    assert prod.outputs["drRegion"] not in (None, prod.region)
    zones = {s.inputs["availabilityZone"] for s in prod.of_type("aws:ec2/subnet:Subnet")}
    assert len(zones) >= 3
