"""The Karpenter component, built under the project's mocks beside the cluster it scales."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.checks import check
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import STANDARD_TAG_KEYS
from components.compute.cluster import KubernetesCluster, KubernetesClusterArgs
from components.compute.identity import pod_identity_trust_policy
from components.compute.karpenter import (
    CHART,
    INTERRUPTION_EVENTS,
    Karpenter,
    KarpenterArgs,
    controller_policy,
    node_class_manifest,
    node_pool_manifest,
    queue_policy,
)
from components.compute.settings import KarpenterConfig
from config.loader import parse_stack_config
from config.stack import StackConfig
from policies._taggable import is_taggable
from tests.support import PROJECT, stack_context

ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
COMPONENT = "retail:compute:Karpenter"

REGION = "eu-west-1"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
PRIVATE_SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003")
STACKS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    stack: StackConfig

    @property
    def karpenter(self) -> KarpenterConfig:
        return self.stack.kubernetes.karpenter

    @property
    def cluster_name(self) -> str:
        return f"retail-{self.graph.stack}-eks"

    @property
    def node_role(self) -> Resource:
        return self.graph.one(ROLE, "karpenter-node")

    @property
    def controller_document(self) -> dict:
        role = self.graph.one(ROLE, "karpenter-controller")
        (policy,) = [p for p in self.graph.of_type(ROLE_POLICY) if p.parent == role.urn]
        return json.loads(policy.inputs["policy"])


def build(stack: str) -> Built:
    config = parse_stack_config(PROJECT.stack_config(stack))
    assert config.region == REGION

    def program() -> None:
        cluster = KubernetesCluster("eks",
            stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod),
            KubernetesClusterArgs(
                settings=config.kubernetes,
                vpc_id=VPC_ID,
                private_subnet_ids=list(PRIVATE_SUBNETS),
                secrets_key_arn=SECRETS_KEY,
                data_key_arn=DATA_KEY,
                logs_key_arn=LOGS_KEY,
                log_retention_days=365,
            ))
        Karpenter("karpenter",
            stack_context(conventions=config.conventions(stack), region=config.region),
            KarpenterArgs(
                settings=config.kubernetes.karpenter,
                cluster_name=cluster.name,
                cluster_endpoint=cluster.endpoint,
                cluster_security_group_id=cluster.security_group_id,
                private_subnet_ids=list(PRIVATE_SUBNETS),
                data_key_arn=DATA_KEY,
                provider=cluster.provider,
                depends_on=[cluster.node_group, cluster.addons["coredns"]],
            ))

    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region})
    return Built(graph, config)


@cache
def built(stack: str) -> Built:
    return build(stack)


# -- NodePool ------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_node_pool_limits_and_requirements_come_from_config(stack):
    b = built(stack)
    pool = b.graph.one(NODE_POOL)
    assert pool.inputs["apiVersion"] == "karpenter.sh/v1"
    assert pool.inputs["kind"] == "NodePool"
    spec = pool.inputs["spec"]
    assert spec["limits"] == {"cpu": str(b.karpenter.cpu_limit), "memory": f"{b.karpenter.memory_limit_gi}Gi"}
    requirements = {r["key"]: r for r in spec["template"]["spec"]["requirements"]}
    assert requirements["karpenter.k8s.aws/instance-family"] == {
        "key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": b.karpenter.instance_families}
    assert requirements["karpenter.sh/capacity-type"]["values"] == b.karpenter.capacity_types
    assert requirements["karpenter.sh/capacity-type"]["operator"] == "In"
    assert sorted(requirements["kubernetes.io/arch"]["values"]) == ["amd64", "arm64"]
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized",
                                  "consolidateAfter": b.karpenter.consolidate_after,
                                  "budgets": [{"nodes": b.karpenter.disruption_budget}]}
    assert spec["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                                        "name": "default"}
    assert {k: v for k, v in pool.inputs.items() if k != "metadata"} == \
        {k: v for k, v in node_pool_manifest(b.karpenter).items() if k != "metadata"}


def test_prod_may_surge_to_a_thousand_vcpus_on_demand_first():
    spec = built("prod").graph.one(NODE_POOL).inputs["spec"]
    assert spec["limits"] == {"cpu": "1000", "memory": "2000Gi"}
    families = next(r for r in spec["template"]["spec"]["requirements"]
                    if r["key"] == "karpenter.k8s.aws/instance-family")
    assert families["values"] == ["m7g", "c7g", "r7g"]


def test_node_pool_manifest_follows_any_config():
    config = KarpenterConfig(version="1.8.1", instance_families=["m7i"], capacity_types=["spot"], cpu_limit=8,
                             memory_limit_gi=16, consolidate_after="30s", disruption_budget="2")
    spec = node_pool_manifest(config)["spec"]
    assert spec["limits"] == {"cpu": "8", "memory": "16Gi"}
    assert spec["disruption"]["consolidateAfter"] == "30s"
    assert spec["disruption"]["budgets"] == [{"nodes": "2"}]


# -- EC2NodeClass --------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_node_class_uses_imdsv2_encrypted_volumes_private_subnets_and_no_public_ip(stack):
    b = built(stack)
    node_class = b.graph.one(NODE_CLASS)
    assert node_class.inputs["apiVersion"] == "karpenter.k8s.aws/v1"
    spec = node_class.inputs["spec"]
    assert spec["metadataOptions"]["httpTokens"] == "required"  # EC2.8 / EC2.170
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (mapping,) = spec["blockDeviceMappings"]
    assert mapping["ebs"]["encrypted"] is True
    assert mapping["ebs"]["kmsKeyID"] == DATA_KEY
    assert spec["associatePublicIPAddress"] is False  # EC2.25
    assert spec["subnetSelectorTerms"] == [{"id": subnet} for subnet in PRIVATE_SUBNETS]
    (group,) = spec["securityGroupSelectorTerms"]
    assert group["id"].startswith("sg-")
    assert node_class.property_dependencies["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    assert spec["role"] == b.node_role.id  # The role's name, which Karpenter wraps in an instance profile.
    assert node_class.property_dependencies["spec"] and b.node_role.urn in node_class.property_dependencies["spec"]
    assert set(STANDARD_TAG_KEYS) <= set(spec["tags"])
    assert node_class.inputs == node_class_manifest(
        role_name=spec["role"], subnet_ids=PRIVATE_SUBNETS, security_group_id=group["id"], data_key_arn=DATA_KEY,
        tags={k: spec["tags"][k] for k in STANDARD_TAG_KEYS})


@pytest.mark.parametrize("stack", STACKS)
def test_node_pool_and_class_wait_for_the_controller_and_use_the_cluster_provider(stack):
    b = built(stack)
    release = b.graph.one(RELEASE)
    provider = b.graph.one(K8S_PROVIDER)
    for kind in (NODE_POOL, NODE_CLASS):
        resource = b.graph.one(kind)
        assert release.urn in resource.dependencies  # The CRDs come with the chart.
        assert resource.provider == provider.urn


# -- controller ----------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_helm_release_is_configured_for_this_cluster_on_the_system_nodes(stack):
    b = built(stack)
    release = b.graph.one(RELEASE)
    assert release.provider == b.graph.one(K8S_PROVIDER).urn
    assert release.inputs["chart"] == CHART == "oci://public.ecr.aws/karpenter/karpenter"
    assert release.inputs["version"] == b.karpenter.version
    assert release.inputs["namespace"] == "kube-system"
    values = release.inputs["values"]
    queue = b.graph.one(QUEUE)
    settings = values["settings"]
    assert settings["clusterName"] == b.cluster_name
    assert settings["interruptionQueue"] == queue.inputs["name"] == f"retail-{stack}-karpenter-interruption"
    assert settings["clusterEndpoint"].startswith("https://")
    assert settings["clusterEndpoint"].endswith(f".{REGION}.eks.amazonaws.com")
    assert {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    assert values["nodeSelector"] == {"role": "system"}
    assert values["controller"]["resources"]["requests"] == values["controller"]["resources"]["limits"]
    assert values["serviceAccount"] == {"name": "karpenter"}
    # Karpenter starts on the system nodes, with its identity in place.
    assert b.graph.one(NODE_GROUP).urn in release.dependencies
    assert b.graph.one(POD_IDENTITY, "karpenter-controller").urn in release.dependencies


def test_controller_identity_is_pod_identity_for_the_karpenter_service_account():
    b = built("prod")
    role = b.graph.one(ROLE, "karpenter-controller")
    assert json.loads(role.inputs["assumeRolePolicy"]) == pod_identity_trust_policy(
        ACCOUNT_ID, cluster_name="retail-prod-eks", namespace="kube-system", service_account="karpenter")
    association = b.graph.one(POD_IDENTITY, "karpenter-controller")
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["serviceAccount"] == "karpenter"
    assert association.inputs["clusterName"] == "retail-prod-eks"
    assert association.property_dependencies["roleArn"] == (role.urn,)


@pytest.mark.parametrize("stack", STACKS)
def test_controller_policy_has_no_wildcard_actions(stack):
    document = built(stack).controller_document
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert action != "*" and not action.endswith(":*"), statement["Sid"]
            assert "*" not in action.split(":")[1] or action in ("kms:GenerateDataKey*", "kms:ReEncrypt*")


@pytest.mark.parametrize("stack", STACKS)
def test_controller_may_pass_only_the_karpenter_node_role_to_ec2(stack):
    b = built(stack)
    document = b.controller_document
    passing = [s for s in document["Statement"] if "iam:PassRole" in s["Action"]]
    (statement,) = passing
    assert statement["Action"] == ["iam:PassRole"]
    assert statement["Resource"] == [f"arn:aws:iam::{ACCOUNT_ID}:role/{b.node_role.id}"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_controller_launches_and_terminates_only_what_is_tagged_for_this_cluster():
    b = built("prod")
    by_sid = {s["Sid"]: s for s in b.controller_document["Statement"]}
    create = by_sid["CreateOnlyTaggedForThisCluster"]
    assert create["Condition"]["StringEquals"]["aws:RequestTag/kubernetes.io/cluster/retail-prod-eks"] == "owned"
    assert create["Condition"]["StringLike"] == {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    delete = by_sid["DeleteOwnInstancesAndTemplates"]
    assert delete["Action"] == ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"]
    assert delete["Condition"] == {
        "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/retail-prod-eks": "owned"},
        "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}
    # Every statement that can change EC2 is conditioned on our tags, or reads shared resources.
    for statement in b.controller_document["Statement"]:
        if any(a.startswith(("ec2:Terminate", "ec2:Delete", "ec2:CreateTags", "ec2:CreateLaunch")) for a in
               statement["Action"]):
            assert "Condition" in statement, statement["Sid"]
    queue = b.graph.one(QUEUE)
    assert by_sid["ReadOwnInterruptionQueue"]["Resource"] == [f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:"
                                                              f"{queue.inputs['name']}"]
    assert by_sid["DiscoverApiServer"]["Resource"] == [f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:cluster/retail-prod-eks"]
    assert by_sid["ReadPublicAmiParameters"]["Resource"] == [f"arn:aws:ssm:{REGION}::parameter/aws/service/*"]
    unscoped = [s for s in b.controller_document["Statement"] if s["Resource"] == ["*"]]
    # Only actions IAM cannot scope: pricing, EC2 reads, and listing instance profiles.
    assert {a for s in unscoped for a in s["Action"]} <= {"pricing:GetProducts", "iam:ListInstanceProfiles"} | {
        a for s in unscoped for a in s["Action"] if a.startswith("ec2:Describe")}
    # GetInstanceProfile has a resource type: it stays on instance profiles.
    assert by_sid["ReadInstanceProfiles"]["Action"] == ["iam:GetInstanceProfile"]
    assert by_sid["ReadInstanceProfiles"]["Resource"] == [f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/*"]
    assert by_sid["ListInstanceProfiles"] == {"Sid": "ListInstanceProfiles", "Effect": "Allow",
                                              "Action": ["iam:ListInstanceProfiles"], "Resource": ["*"]}
    assert by_sid["ReadEc2InThisRegion"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": REGION}}
    for kms in (by_sid["UseDataKeyForNodeVolumes"], by_sid["GrantDataKeyToEc2Only"]):
        assert kms["Resource"] == [DATA_KEY]


def test_controller_policy_is_a_pure_function_of_its_inputs():
    document = controller_policy(partition="aws-us-gov", region="us-gov-west-1", account_id=ACCOUNT_ID,
                                 cluster_name="c", queue_arn="arn:q", node_role_arn="arn:r", data_key_arn="arn:k")
    assert all("arn:aws:" not in json.dumps(s["Resource"]) for s in document["Statement"])
    assert len({s["Sid"] for s in document["Statement"]}) == len(document["Statement"])


@pytest.mark.parametrize("stack", STACKS)
def test_node_role_joins_through_an_ec2_linux_access_entry(stack):
    b = built(stack)
    role = b.node_role
    arns = sorted(a.inputs["policyArn"] for a in b.graph.of_type(ATTACHMENT) if a.parent == role.urn)
    assert arns == [f"arn:aws:iam::aws:policy/{p}" for p in sorted(
        ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy",
         "AmazonSSMManagedInstanceCore"])]
    entry = b.graph.one(ACCESS_ENTRY, "karpenter-node")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["clusterName"] == b.cluster_name
    assert entry.property_dependencies["principalArn"] == (role.urn,)


# -- interruption handling -----------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_interruption_queue_is_short_lived_encrypted_and_tls_only(stack):
    b = built(stack)
    queue = b.graph.one(QUEUE)
    assert queue.inputs["messageRetentionSeconds"] == 300
    assert queue.inputs["sqsManagedSseEnabled"] is True
    policy = b.graph.one(QUEUE_POLICY)
    document = json.loads(policy.inputs["policy"])
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue.inputs['name']}"
    assert document == queue_policy(arn, ACCOUNT_ID)
    allow, deny = document["Statement"]
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert allow["Action"] == "sqs:SendMessage"
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stack", STACKS)
def test_interruption_rules_all_target_the_queue(stack):
    b = built(stack)
    queue = b.graph.one(QUEUE)
    rules = b.graph.of_type(RULE)
    patterns = sorted(json.loads(r.inputs["eventPattern"])["detail-type"][0] for r in rules)
    assert patterns == sorted(["EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation",
                               "EC2 Instance State-change Notification", "AWS Health Event"])
    assert len(rules) == len(INTERRUPTION_EVENTS)
    targets = b.graph.of_type(TARGET)
    assert len(targets) == len(rules)
    assert {t.parent for t in targets} == {r.urn for r in rules}
    for target in targets:
        assert target.inputs["arn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue.inputs['name']}"
        assert target.property_dependencies["arn"] == (queue.urn,)
        assert target.inputs["region"] == REGION


# -- conventions ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_standard_tags(stack):
    b = built(stack)
    component = b.graph.one(COMPONENT)
    ours = b.graph.descendants(component.urn)
    taggable = [r for r in ours if r.custom and is_taggable(r.type)]
    assert {r.type for r in taggable} >= {ROLE, ACCESS_ENTRY, POD_IDENTITY, QUEUE, RULE}
    for resource in taggable:
        missing = set(STANDARD_TAG_KEYS) - set(resource.inputs.get("tags") or {})
        assert not missing, f"{resource.type} {resource.name} lacks {sorted(missing)}"


@pytest.mark.parametrize("stack", STACKS)
def test_regional_resources_name_their_region(stack):
    b = built(stack)
    ours = b.graph.descendants(b.graph.one(COMPONENT).urn)
    for resource in ours:
        if resource.custom and resource.type.startswith("aws:") and not resource.type.startswith("aws:iam/"):
            assert resource.inputs.get("region") == REGION, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_the_policy_pack_passes_offline(stack):
    report = check(built(stack).graph)
    assert report.evaluated
    assert report.violations == [], "\n".join(report.summary())
