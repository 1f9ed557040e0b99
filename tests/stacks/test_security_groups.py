"""Every security group of a stack guards something: an unattached group is a rule set nobody
reviews against a workload, and a sign that a path the design promises does not exist."""

from __future__ import annotations

import json

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULES = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
         "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def attached_to(graph, group) -> list[str]:
    """The resources (other than rules) whose inputs name the group's ID: an interface, a load
    balancer, a database, a SecurityGroupPolicy that puts it on pods."""
    return [r.urn for r in graph if r.urn != group.urn and r.type not in RULES
            and group.id in json.dumps(r.inputs, default=str)]


def test_no_security_group_is_left_unattached(stack_graph):
    groups = stack_graph.of_type(SECURITY_GROUP)
    assert groups
    unattached = [g.name for g in groups if not attached_to(stack_graph, g)]
    assert unattached == []


def test_each_pod_group_is_worn_by_its_service_pods_only(stack_graph):
    policies = stack_graph.of_type("kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy")
    for name, group_id in stack_graph.outputs["podSecurityGroupIds"].items():
        wearers = [p for p in policies if group_id in p.inputs["spec"]["securityGroups"]["groupIds"]]
        assert [p.inputs["spec"]["podSelector"]["matchLabels"] for p in wearers] == \
            [{"app.kubernetes.io/name": name}], name
