"""metrics-server and the AWS Load Balancer Controller: the controller's policy and Helm values as pure
functions, and the ClusterAddons component built alone (no cluster) under the project's mocks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import pulumi_aws as aws
import pulumi_kubernetes as k8s

from blueprint import ResourceGraph
from blueprint.checks import check
from blueprint.graph import Resource
from blueprint.synth import run_program
from components.common.conventions import STANDARD_TAG_KEYS, Conventions
from components.compute.addons import (
    LOAD_BALANCER_CONTROLLER_CHART,
    LOAD_BALANCER_CONTROLLER_REPO,
    LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
    LOAD_BALANCER_CONTROLLER_VERSION,
    LOAD_BALANCER_READ_ACTIONS,
    METRICS_SERVER_CHART,
    METRICS_SERVER_REPO,
    METRICS_SERVER_VERSION,
    NAMESPACE,
    TARGET_GROUP_CLUSTER_TAG,
    ClusterAddons,
    ClusterAddonsArgs,
    load_balancer_controller_policy,
    load_balancer_controller_values,
    metrics_server_values,
)
from components.compute.cluster import SYSTEM_LABELS, SYSTEM_TOLERATION
from tests.support import stack_context

RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
COMPONENT = "retail:compute:ClusterAddons"

#: The provider's region (where the mocks put what names no region) differs from the
#: context's, so a test can tell which one a resource took.
PROVIDER_REGION = "eu-west-1"
REGION = "eu-central-1"
#: Not the mocks' account: what names this account must have it from the context.
ACCOUNT = "111122223333"
PARTITION = "aws"
CLUSTER_NAME = "retail-dev-eks"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
CONVENTIONS = Conventions(environment="dev", owner="platform-team@example.com", cost_center="cc-4100-dev",
                          data_classification="internal", stack="dev")
ROLE_NAME = "retail-dev-addons-load-balancer-controller"

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _by_sid(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


POLICY = load_balancer_controller_policy(partition=PARTITION, region=REGION, account_id=ACCOUNT,
                                         cluster_name=CLUSTER_NAME)


# -- load_balancer_controller_policy -------------------------------------------------------

def test_controller_policy_has_the_three_documented_statements():
    assert list(_by_sid(POLICY)) == ["ReadLoadBalancingInThisRegion", "RegisterPodsInThisClustersTargetGroups",
                                      "OpenClusterSecurityGroupToLoadBalancer"]
    assert all(s["Effect"] == "Allow" for s in POLICY["Statement"])


def test_controller_reads_on_any_resource_but_only_in_this_region_and_only_describes():
    read = _by_sid(POLICY)["ReadLoadBalancingInThisRegion"]
    assert read["Resource"] == ["*"]
    assert read["Action"] == sorted(LOAD_BALANCER_READ_ACTIONS)
    assert all(action.split(":")[1].startswith("Describe") for action in read["Action"])
    assert read["Condition"] == {"StringEquals": {"aws:RequestedRegion": REGION}}


def test_controller_registers_pods_only_in_target_groups_tagged_for_this_cluster():
    register = _by_sid(POLICY)["RegisterPodsInThisClustersTargetGroups"]
    assert register["Action"] == ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"]
    assert register["Resource"] == [f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/*/*"]
    assert register["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{TARGET_GROUP_CLUSTER_TAG}": CLUSTER_NAME}}
    assert TARGET_GROUP_CLUSTER_TAG == "elbv2.k8s.aws/cluster"


def test_controller_opens_only_security_groups_owned_by_this_cluster():
    ingress = _by_sid(POLICY)["OpenClusterSecurityGroupToLoadBalancer"]
    assert ingress["Action"] == ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
    assert ingress["Resource"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/*"]
    assert ingress["Condition"] == {"StringEquals": {f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER_NAME}": "owned"}}


def test_every_controller_statement_is_conditioned():
    assert all(s.get("Condition") for s in POLICY["Statement"])


def test_controller_policy_grants_nothing_the_upstream_policy_needs_for_ingress_or_service_objects():
    actions = {a for s in POLICY["Statement"] for a in s["Action"]}
    services = {a.split(":")[0] for a in actions}
    assert services == {"ec2", "elasticloadbalancing"}  # No wafv2, shield, acm, iam, cognito-idp.
    verbs = ("Create", "Delete", "Modify", "AddTags", "RemoveTags", "SetWebAcl", "SetSecurityGroups", "SetSubnets")
    assert not [a for a in actions if a.split(":")[1].startswith(verbs)]
    assert not [a for a in actions if "*" in a]


def test_controller_policy_arns_follow_the_partition_region_and_account():
    document = load_balancer_controller_policy(partition="aws-us-gov", region="us-gov-west-1",
                                               account_id="444455556666", cluster_name="gov-eks")
    scoped = [arn for s in document["Statement"] for arn in s["Resource"] if arn != "*"]
    assert len(scoped) == 2
    assert all(arn.startswith("arn:aws-us-gov:") and ":us-gov-west-1:444455556666:" in arn for arn in scoped)
    assert _by_sid(document)["ReadLoadBalancingInThisRegion"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "us-gov-west-1"}}


# -- Helm values ---------------------------------------------------------------------------

def test_metrics_server_runs_two_replicas_on_the_system_nodes():
    assert metrics_server_values() == {"tolerations": [SYSTEM_TOLERATION], "nodeSelector": {"role": "system"},
                                       "replicas": 2}


def test_load_balancer_controller_values_name_this_cluster_region_and_vpc():
    values = load_balancer_controller_values(cluster_name=CLUSTER_NAME, region=REGION, vpc_id=VPC_ID)
    assert (values["clusterName"], values["region"], values["vpcId"]) == (CLUSTER_NAME, REGION, VPC_ID)


def test_load_balancer_controller_runs_two_replicas_on_the_system_nodes():
    values = load_balancer_controller_values(cluster_name=CLUSTER_NAME, region=REGION, vpc_id=VPC_ID)
    assert values["tolerations"] == [SYSTEM_TOLERATION]
    assert values["nodeSelector"] == SYSTEM_LABELS == {"role": "system"}
    assert values["replicaCount"] == 2


def test_load_balancer_controller_leaves_services_of_type_load_balancer_alone():
    values = load_balancer_controller_values(cluster_name=CLUSTER_NAME, region=REGION, vpc_id=VPC_ID)
    assert values["enableServiceMutatorWebhook"] is False


def test_load_balancer_controller_runs_as_the_service_account_its_identity_is_for():
    values = load_balancer_controller_values(cluster_name=CLUSTER_NAME, region=REGION, vpc_id=VPC_ID)
    assert values["serviceAccount"] == {"name": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT}


# -- ClusterAddons, built alone ------------------------------------------------------------

@dataclass(frozen=True)
class Built:
    graph: ResourceGraph

    def release(self, name: str) -> Resource:
        (found,) = [r for r in self.graph.of_type(RELEASE) if r.inputs["name"] == name]
        return found

    @property
    def role(self) -> Resource:
        return self.graph.one(ROLE, "addons-load-balancer-controller")

    @property
    def grant(self) -> Resource:
        return self.graph.one(ROLE_POLICY, "addons-load-balancer-controller")

    @property
    def association(self) -> Resource:
        return self.graph.one(POD_IDENTITY, "addons-load-balancer-controller")

    @property
    def prerequisites(self) -> set[str]:
        return {self.graph.one(NODE_GROUP, "system").urn, self.graph.one(ADDON, "coredns").urn}


@cache
def built(metrics_server_version: str = METRICS_SERVER_VERSION,
          load_balancer_controller_version: str = LOAD_BALANCER_CONTROLLER_VERSION) -> Built:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        # Stand-ins for what the cluster component would hand over: its system nodes and CoreDNS.
        system_nodes = aws.eks.NodeGroup(
            "system", cluster_name=CLUSTER_NAME, node_role_arn=f"arn:aws:iam::{ACCOUNT}:role/retail-dev-nodes",
            subnet_ids=["subnet-0a1b2c3d4e5f60001"],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=2, min_size=2, max_size=3),
            tags=CONVENTIONS.tags("retail-dev-system"))
        coredns = aws.eks.Addon("coredns", cluster_name=CLUSTER_NAME, addon_name="coredns",
                                tags=CONVENTIONS.tags("retail-dev-coredns"))
        ClusterAddons("addons",
            stack_context(conventions=CONVENTIONS, region=REGION, account_id=ACCOUNT, partition=PARTITION),
            ClusterAddonsArgs(
                cluster_name=CLUSTER_NAME,
                vpc_id=VPC_ID,
                provider=provider,
                depends_on=[system_nodes, coredns],
                metrics_server_version=metrics_server_version,
                load_balancer_controller_version=load_balancer_controller_version,
            ))

    return Built(run_program(program, project="retail", stack="dev", config={"aws:region": PROVIDER_REGION}))


def test_the_module_pins_exact_chart_versions():
    assert EXACT_VERSION.match(METRICS_SERVER_VERSION)
    assert EXACT_VERSION.match(LOAD_BALANCER_CONTROLLER_VERSION)


def test_metrics_server_release_is_the_pinned_chart_from_its_repository():
    release = built().release("metrics-server")
    assert release.inputs["chart"] == METRICS_SERVER_CHART == "metrics-server"
    assert release.inputs["repositoryOpts"] == {"repo": METRICS_SERVER_REPO}
    assert release.inputs["version"] == METRICS_SERVER_VERSION
    assert release.inputs["namespace"] == NAMESPACE == "kube-system"


def test_load_balancer_controller_release_is_the_pinned_chart_from_its_repository():
    release = built().release("aws-load-balancer-controller")
    assert release.inputs["chart"] == LOAD_BALANCER_CONTROLLER_CHART == "aws-load-balancer-controller"
    assert release.inputs["repositoryOpts"] == {"repo": LOAD_BALANCER_CONTROLLER_REPO}
    assert release.inputs["version"] == LOAD_BALANCER_CONTROLLER_VERSION
    assert release.inputs["namespace"] == NAMESPACE


def test_chart_versions_given_in_the_args_replace_the_pins():
    b = built(metrics_server_version="3.12.2", load_balancer_controller_version="1.13.4")
    assert b.release("metrics-server").inputs["version"] == "3.12.2"
    assert b.release("aws-load-balancer-controller").inputs["version"] == "1.13.4"


def test_releases_install_through_the_given_kubernetes_provider():
    b = built()
    provider = b.graph.one(K8S_PROVIDER, "k8s")
    assert [r.provider for r in b.graph.of_type(RELEASE)] == [provider.urn, provider.urn]


def test_releases_carry_their_helm_values():
    b = built()
    assert b.release("metrics-server").inputs["values"] == metrics_server_values()
    assert b.release("aws-load-balancer-controller").inputs["values"] == load_balancer_controller_values(
        cluster_name=CLUSTER_NAME, region=REGION, vpc_id=VPC_ID)


def test_no_release_is_installed_before_what_the_addons_depend_on():
    b = built()
    for release in b.graph.of_type(RELEASE):
        assert b.prerequisites <= set(release.dependencies), release.inputs["name"]


def test_load_balancer_controller_starts_only_once_its_identity_and_grant_exist():
    b = built()
    dependencies = set(b.release("aws-load-balancer-controller").dependencies)
    assert {b.association.urn, b.grant.urn} <= dependencies


def test_controller_role_is_trusted_by_eks_pod_identity_for_its_service_account_only():
    trust = json.loads(built().role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {"StringEquals": {
        "aws:SourceAccount": ACCOUNT, "aws:RequestTag/eks-cluster-name": "retail-dev-eks",
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "aws-load-balancer-controller"}}


def test_controller_grant_is_the_documented_policy_inline_on_its_role():
    b = built()
    assert b.grant.parent == b.role.urn
    assert b.grant.inputs["role"] == b.role.id
    assert json.loads(b.grant.inputs["policy"]) == POLICY


def test_pod_identity_binds_the_controllers_service_account_to_its_role_in_the_contexts_region():
    b = built()
    association = b.association
    assert association.inputs["clusterName"] == CLUSTER_NAME
    assert association.inputs["namespace"] == NAMESPACE
    assert association.inputs["serviceAccount"] == LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT
    assert association.property_dependencies["roleArn"] == (b.role.urn,)
    assert association.inputs["roleArn"].endswith(f":role/{b.role.id}")
    assert association.inputs["region"] == REGION


def test_everything_the_addons_build_is_inside_the_component():
    b = built()
    component = b.graph.one(COMPONENT, "addons")
    inside = {r.urn for r in b.graph.descendants(component.urn)}
    assert {b.role.urn, b.grant.urn, b.association.urn} | {r.urn for r in b.graph.of_type(RELEASE)} == inside


def test_controller_role_and_identity_carry_the_standard_tags_and_their_name():
    b = built()
    for resource in (b.role, b.association):
        assert resource.inputs["tags"] == CONVENTIONS.tags(ROLE_NAME), resource.type
        assert set(STANDARD_TAG_KEYS) <= set(resource.inputs["tags"])


def test_the_policy_pack_passes_offline():
    report = check(built().graph)
    assert report.evaluated
    assert report.violations == [], "\n".join(report.summary())

