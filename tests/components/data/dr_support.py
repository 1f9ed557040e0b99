"""What the tests of the data stores' DR sides share: a primary slice in the stack's region,
a DR slice in another, and a view of one component's resources in a graph holding both."""

from __future__ import annotations

from dataclasses import dataclass

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from config.stack import StackConfig

REGION, DR_REGION = "eu-west-1", "eu-central-1"
#: A multi-Region key and its replica share the key id; only the region differs.
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/mrk-0d1e2f3a4b5c4d6e8f90a1b2c3d4e5f6"
DR_DATA_KEY = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/mrk-0d1e2f3a4b5c4d6e8f90a1b2c3d4e5f6"
VPC_ID, DR_VPC_ID = "vpc-0a1b2c3d4e5f60718", "vpc-0f1e2d3c4b5a69788"
ISOLATED_SUBNETS = ("subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88")
DR_ISOLATED_SUBNETS = ("subnet-0dd11ee22ff33aa44", "subnet-0bb55cc66dd77ee88", "subnet-0ff99aa00bb11cc22")
CLIENT_SG, DR_CLIENT_SG = "sg-0c1e27a5b3d9f4e60", "sg-0d2f38b6c4e0a5f71"

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@dataclass(frozen=True)
class BothSides:
    """A graph with a primary component and its DR secondary, seen one component at a time."""

    graph: ResourceGraph
    stack: StackConfig

    def mine(self, component_type: str) -> list[Resource]:
        return self.graph.descendants(self.graph.one(component_type).urn)

    def of(self, component_type: str, type_token: str) -> list[Resource]:
        return [r for r in self.mine(component_type) if r.type == type_token]

    def one_of(self, component_type: str, type_token: str) -> Resource:
        (found,) = self.of(component_type, type_token)
        return found

    def grant_of(self, role_name: str) -> Resource:
        """The one inline policy attached under the test's role ``role_name``."""
        role = self.graph.one("aws:iam/role:Role", role_name)
        (grant,) = [p for p in self.graph.of_type(ROLE_POLICY) if p.parent == role.urn]
        return grant

    def assert_clients_admitted_by_reference(self, component_type: str, port: int) -> None:
        """The DR client group, and no other and no address range, reaches the component's
        own group on ``port``; the client side gets the matching egress."""
        group = self.one_of(component_type, SECURITY_GROUP)
        assert group.inputs["vpcId"] == DR_VPC_ID and group.inputs["region"] == DR_REGION
        (ingress,) = self.of(component_type, INGRESS)
        assert ingress.inputs["securityGroupId"] == group.id
        assert ingress.inputs["referencedSecurityGroupId"] == DR_CLIENT_SG
        assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (port, port)
        (egress,) = self.of(component_type, EGRESS)
        assert egress.inputs["securityGroupId"] == DR_CLIENT_SG
        assert egress.inputs["referencedSecurityGroupId"] == group.id
        for resource in self.mine(component_type):
            text = repr(resource.inputs)
            assert "cidrIpv4" not in text and "cidrIpv6" not in text and CLIENT_SG not in text, resource.name
