"""The physical-name checks of config/names.py, held to the names the synthesized stacks carry:
the longest stack name validation accepts builds names within every AWS limit, and one
character more is refused before anything is built."""

from __future__ import annotations

import pytest

from blueprint import synthesize
from config.loader import ConfigError, parse_stack_config
from config.names import stack_name_problems
from tests.support import PROJECT, STACKS

#: (type token, input) -> AWS's limit on that name.
AWS_NAME_LIMITS = {
    ("aws:iam/role:Role", "name"): 64,
    ("aws:s3/bucket:Bucket", "bucket"): 63,
    ("aws:dynamodb/table:Table", "name"): 255,
    ("aws:sqs/queue:Queue", "name"): 80,
    ("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"): 40,
    ("aws:elasticache/subnetGroup:SubnetGroup", "name"): 255,
    ("aws:rds/cluster:Cluster", "clusterIdentifier"): 63,
    ("aws:rds/clusterInstance:ClusterInstance", "identifier"): 63,
    ("aws:rds/clusterParameterGroup:ClusterParameterGroup", "name"): 255,
    ("aws:rds/subnetGroup:SubnetGroup", "name"): 255,
    ("aws:cloudwatch/eventRule:EventRule", "name"): 64,
    ("aws:eks/cluster:Cluster", "name"): 100,
    ("aws:lb/loadBalancer:LoadBalancer", "name"): 32,
    ("aws:lb/targetGroup:TargetGroup", "name"): 32,
    ("aws:wafv2/webAcl:WebAcl", "name"): 128,
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"): 128,
    ("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "name"): 128,
    ("aws:appautoscaling/policy:Policy", "name"): 256,
}


def over_limit(graph) -> list[str]:
    return [f"{r.type} {r.inputs[key]!r} > {limit}" for r in graph for (token, key), limit in AWS_NAME_LIMITS.items()
            if r.type == token and isinstance(r.inputs.get(key), str) and len(r.inputs[key]) > limit]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_names_its_resources_within_aws_limits(graph_of, stack):
    assert over_limit(graph_of(stack)) == []


def longest_accepted_stack_name(*, dr_slice: bool = False) -> int:
    return max(n for n in range(1, 80) if not stack_name_problems("s" * n, dr_slice=dr_slice))


def test_the_longest_stack_name_validation_accepts_builds_within_every_limit():
    # Prod builds a DR region's slice, whose names are the longer ones.
    length = longest_accepted_stack_name(dr_slice=True)
    assert length < longest_accepted_stack_name()
    stack = "s" * length
    graph = synthesize(stack, config=PROJECT.stack_config("prod"))
    assert over_limit(graph) == []
    # The limit is tight: one character more and a name would break its limit.
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(PROJECT.stack_config("prod"), stack + "s")
    assert [path for path, _ in caught.value.problems] == ["(stack name)"]
    assert f"at most {length} characters" in caught.value.problems[0][1]


def test_a_far_too_long_stack_name_is_told_the_length_that_fits_every_limit():
    # Several limits break at once: the advice is the tightest of them, not the worst broken.
    [(_, message)] = stack_name_problems("s" * 60)
    assert f"at most {longest_accepted_stack_name()} characters" in message
