"""The KubernetesCluster and ClusterAddons components, built alone under the project's mocks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pulumi
import pytest

from blueprint import ResourceGraph
from blueprint.checks import check
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import STANDARD_TAG_KEYS
from components.compute.addons import (
    TARGET_GROUP_CLUSTER_TAG,
    ClusterAddons,
    ClusterAddonsArgs,
    load_balancer_controller_policy,
)
from components.compute.cluster import (
    CLUSTER_LOG_TYPES,
    KubernetesCluster,
    KubernetesClusterArgs,
    admin_entry_name,
    ami_type,
    is_graviton,
    kubeconfig,
)
from components.compute.identity import (
    cluster_trust_policy,
    ebs_csi_kms_policy,
    node_trust_policy,
    pod_identity_trust_policy,
)
from components.compute.settings import KubernetesConfig
from config.loader import parse_stack_config
from config.stack import StackConfig
from policies._taggable import is_taggable
from tests.support import PROJECT, stack_context

CLUSTER = "aws:eks/cluster:Cluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ADDON = "aws:eks/addon:Addon"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
COMPONENT = "retail:compute:KubernetesCluster"
ADDONS_COMPONENT = "retail:compute:ClusterAddons"

REGION = "eu-west-1"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
PRIVATE_SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003")
ADMINS = (f"arn:aws:iam::{ACCOUNT_ID}:role/platform-admin",
          f"arn:aws:iam::{ACCOUNT_ID}:role/sso/AWSReservedSSO_Admin_0123456789abcdef")
STACKS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    stack: StackConfig

    @property
    def cluster(self) -> Resource:
        return self.graph.one(CLUSTER)

    def addon(self, name: str) -> Resource:
        (found,) = [a for a in self.graph.of_type(ADDON) if a.inputs["addonName"] == name]
        return found

    def role(self, suffix: str) -> Resource:
        return self.graph.one(ROLE, f"eks-{suffix}")


def _stack_config(stack: str) -> StackConfig:
    return parse_stack_config(PROJECT.stack_config(stack))


def build(stack: str, *, kubernetes: KubernetesConfig | None = None) -> Built:
    config = _stack_config(stack)
    assert config.region == REGION  # The fake ARNs above name this region.

    def program() -> None:
        cluster = KubernetesCluster("eks",
            stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod),
            KubernetesClusterArgs(
                settings=kubernetes or config.kubernetes,
                vpc_id=VPC_ID,
                private_subnet_ids=list(PRIVATE_SUBNETS),
                secrets_key_arn=SECRETS_KEY,
                data_key_arn=DATA_KEY,
                logs_key_arn=LOGS_KEY,
                log_retention_days=config.network.flow_log_retention_days,
            ))
        ClusterAddons("addons",
            stack_context(conventions=config.conventions(stack), region=config.region),
            ClusterAddonsArgs(
                cluster_name=cluster.name,
                vpc_id=VPC_ID,
                provider=cluster.provider,
                depends_on=[cluster.node_group, cluster.addons["coredns"]],
            ))
        pulumi.export("name", cluster.name)
        pulumi.export("endpoint", cluster.endpoint)
        pulumi.export("securityGroupId", cluster.security_group_id)
        pulumi.export("oidcIssuer", cluster.oidc_issuer)
        pulumi.export("nodeRoleArn", cluster.node_role.arn)

    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region})
    return Built(graph, config)


@cache
def built(stack: str) -> Built:
    return build(stack)


def _with_admins_and_public_endpoint() -> Built:
    dev = _stack_config("dev").kubernetes
    return build("dev", kubernetes=dev.model_copy(update={
        "admin_role_arns": list(ADMINS), "public_endpoint": True, "public_access_cidrs": ["198.51.100.0/24"]}))


# -- control plane -------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_envelope_encrypted_with_our_secrets_key(stack):
    encryption = built(stack).cluster.inputs["encryptionConfig"]
    assert encryption == {"resources": ["secrets"], "provider": {"keyArn": SECRETS_KEY}}  # EKS.3


@pytest.mark.parametrize("stack", STACKS)
def test_all_five_control_plane_log_types_go_to_our_encrypted_log_group(stack):
    b = built(stack)
    assert b.cluster.inputs["enabledClusterLogTypes"] == \
        ["api", "audit", "authenticator", "controllerManager", "scheduler"] == list(CLUSTER_LOG_TYPES)  # EKS.8
    group = b.graph.one(LOG_GROUP)
    assert group.inputs["name"] == f"/aws/eks/retail-{stack}-eks/cluster"
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert group.inputs["retentionInDays"] == b.stack.network.flow_log_retention_days
    # Created first, or EKS creates it itself, unencrypted and never expiring.
    assert group.urn in b.cluster.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_is_private_only_by_default(stack):
    b = built(stack)
    vpc = b.cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False  # EKS.1
    assert "publicAccessCidrs" not in vpc
    assert vpc["subnetIds"] == list(PRIVATE_SUBNETS)
    assert b.graph.warnings == ()


def test_a_public_endpoint_is_limited_to_the_named_cidrs_and_warned_about():
    b = _with_admins_and_public_endpoint()
    vpc = b.cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["198.51.100.0/24"]
    assert any("EKS.1" in warning and "198.51.100.0/24" in warning for warning in b.graph.warnings)


@pytest.mark.parametrize("stack", STACKS)
def test_version_and_api_only_authentication(stack):
    b = built(stack)
    inputs = b.cluster.inputs
    assert inputs["version"] == b.stack.kubernetes.version
    assert inputs["name"] == f"retail-{stack}-eks"
    assert inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["region"] == REGION


def test_cluster_role_trusts_eks_for_this_account_and_carries_the_cluster_policy():
    b = built("dev")
    role = b.role("cluster")
    assert json.loads(role.inputs["assumeRolePolicy"]) == cluster_trust_policy(ACCOUNT_ID)
    (statement,) = cluster_trust_policy(ACCOUNT_ID)["Statement"]
    assert statement["Principal"] == {"Service": "eks.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert b.cluster.inputs["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/eks-cluster")
    attachment = b.graph.one(ATTACHMENT, "eks-cluster-AmazonEKSClusterPolicy")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    assert attachment.urn in b.cluster.dependencies


def test_prod_cluster_and_its_logs_are_protected():
    b = built("prod")
    assert b.cluster.protect is True
    assert b.cluster.inputs["deletionProtection"] is True
    assert b.graph.one(LOG_GROUP).protect is True
    assert b.graph.one(LOG_GROUP).inputs["deletionProtectionEnabled"] is True


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_dev_and_staging_clusters_can_be_destroyed(stack):
    b = built(stack)
    assert b.cluster.protect is False
    assert b.cluster.inputs["deletionProtection"] is False
    assert b.graph.one(LOG_GROUP).protect is False
    assert b.graph.one(LOG_GROUP).inputs["deletionProtectionEnabled"] is False


# -- administrators ------------------------------------------------------------------------

def test_presets_name_no_admins_and_nobody_gets_hidden_admin_rights():
    for stack in STACKS:
        graph = built(stack).graph
        assert graph.of_type(ACCESS_ENTRY) == [] and graph.of_type(ACCESS_POLICY) == []


def test_each_admin_role_gets_an_access_entry_with_cluster_admin_at_cluster_scope():
    b = _with_admins_and_public_endpoint()
    entries = sorted(b.graph.of_type(ACCESS_ENTRY), key=lambda r: r.name)
    assert [e.name for e in entries] == ["eks-admin-awsreservedsso-admin-0123456789abcdef", "eks-admin-platform-admin"]
    assert sorted(e.inputs["principalArn"] for e in entries) == sorted(ADMINS)
    assert {e.inputs["type"] for e in entries} == {"STANDARD"}
    assert {e.inputs["clusterName"] for e in entries} == {"retail-dev-eks"}
    associations = b.graph.of_type(ACCESS_POLICY)
    assert sorted(a.inputs["principalArn"] for a in associations) == sorted(ADMINS)
    for association in associations:
        assert association.inputs["policyArn"] == \
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert association.inputs["accessScope"] == {"type": "cluster"}
        assert association.parent in {e.urn for e in entries}


def test_admin_entry_names_come_from_the_role_name():
    assert admin_entry_name("arn:aws:iam::123456789012:role/a/b/Ops.Team") == "ops-team"
    with pytest.raises(ValueError, match="not an IAM role ARN"):
        admin_entry_name("arn:aws:iam::123456789012:user/alice")


# -- managed add-ons -----------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_managed_addons_overwrite_drift(stack):
    b = built(stack)
    addons = b.graph.of_type(ADDON)
    assert sorted(a.inputs["addonName"] for a in addons) == sorted(
        ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver"])
    for addon in addons:
        assert addon.inputs["clusterName"] == f"retail-{stack}-eks"
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
        assert addon.inputs["region"] == REGION


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_cni_enforces_network_policies_and_gives_pods_security_groups(stack):
    b = built(stack)
    cni = b.addon("vpc-cni")
    assert json.loads(cni.inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true",
        # Standard mode: probes and same-node traffic keep working for pods with their own groups.
        "env": {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "standard"}}
    # The VPC resource controller attaches the pods' branch interfaces with the cluster role.
    cluster_role = b.graph.one(ROLE, "eks-cluster")
    attached = {a.inputs["policyArn"] for a in b.graph.of_type(ATTACHMENT) if a.parent == cluster_role.urn}
    assert "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController" in attached


def test_networking_addons_come_before_nodes_and_coredns_after():
    b = built("prod")
    nodes = b.graph.one(NODE_GROUP)
    for addon in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert b.addon(addon).urn in nodes.dependencies
    for addon in ("coredns", "aws-ebs-csi-driver"):
        assert nodes.urn in b.addon(addon).dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_ebs_csi_driver_uses_pod_identity_with_the_managed_policy_and_our_data_key(stack):
    b = built(stack)
    role = b.role("ebs-csi")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust == pod_identity_trust_policy(ACCOUNT_ID, cluster_name=f"retail-{stack}-eks",
                                              namespace="kube-system", service_account="ebs-csi-controller-sa")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]

    association = b.graph.one(POD_IDENTITY, "eks-ebs-csi")
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["serviceAccount"] == "ebs-csi-controller-sa"
    assert association.property_dependencies["roleArn"] == (role.urn,)
    addon = b.addon("aws-ebs-csi-driver")
    assert association.urn in addon.dependencies
    assert "serviceAccountRoleArn" not in addon.inputs  # Pod Identity, not IRSA.

    attachment = b.graph.one(ATTACHMENT, "eks-ebs-csi")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    grant = b.graph.one(ROLE_POLICY, "eks-ebs-csi-data-key")
    document = json.loads(grant.inputs["policy"])
    assert document == ebs_csi_kms_policy(DATA_KEY, REGION)
    for kms in document["Statement"]:
        assert kms["Resource"] == [DATA_KEY]
        assert kms["Condition"]["StringEquals"] == {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    create_grant = next(s for s in document["Statement"] if "kms:CreateGrant" in s["Action"])
    assert create_grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


# -- system nodes --------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_system_nodes_use_imdsv2_with_hop_limit_1_and_volumes_encrypted_with_our_data_key(stack):
    template = built(stack).graph.one(LAUNCH_TEMPLATE)
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}  # EC2.8, AutoScaling.4
    (mapping,) = template.inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"]["encrypted"] == "true"  # EC2.3 / EC2.181
    assert mapping["ebs"]["kmsKeyId"] == DATA_KEY
    # No interfaces: nothing assigns a public IP (EC2.25); EKS places ENIs in the private subnets.
    assert not template.inputs.get("networkInterfaces")
    assert all(not i.get("associatePublicIpAddress") for i in template.inputs.get("networkInterfaces") or [])
    assert "imageId" not in template.inputs and "userData" not in template.inputs
    kinds = {spec["resourceType"] for spec in template.inputs["tagSpecifications"]}
    assert kinds == {"instance", "volume", "network-interface"}
    for spec in template.inputs["tagSpecifications"]:
        assert set(STANDARD_TAG_KEYS) <= set(spec["tags"])


@pytest.mark.parametrize("stack", STACKS)
def test_system_node_group_is_private_tainted_and_sized_from_config(stack):
    b = built(stack)
    group = b.graph.one(NODE_GROUP)
    nodes = b.stack.kubernetes.system_nodes
    inputs = group.inputs
    assert inputs["subnetIds"] == list(PRIVATE_SUBNETS)
    assert inputs["scalingConfig"] == {"minSize": nodes.min_size, "desiredSize": nodes.desired_size,
                                       "maxSize": nodes.max_size}
    assert inputs["updateConfig"] == {"maxUnavailable": 1}
    assert inputs["instanceTypes"] == [nodes.instance_type]
    assert inputs["amiType"] == "AL2023_ARM_64_STANDARD"  # Graviton presets
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["labels"] == {"role": "system"}
    assert inputs["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert "remoteAccess" not in inputs  # No SSH.
    template = b.graph.one(LAUNCH_TEMPLATE)
    assert inputs["launchTemplate"]["id"] == template.id
    assert template.urn in group.property_dependencies["launchTemplate"]
    assert inputs["nodeRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/eks-node")


def test_node_role_can_join_pull_and_run_the_cni_and_nothing_else():
    b = built("dev")
    role = b.role("node")
    assert json.loads(role.inputs["assumeRolePolicy"]) == node_trust_policy()
    arns = sorted(a.inputs["policyArn"] for a in b.graph.of_type(ATTACHMENT) if a.parent == role.urn)
    assert arns == ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    assert not [p for p in b.graph.of_type(ROLE_POLICY) if p.parent == role.urn]


def test_ami_type_follows_the_architecture():
    assert ami_type("m7g.large") == "AL2023_ARM_64_STANDARD"
    assert ami_type("c7gn.xlarge") == "AL2023_ARM_64_STANDARD"
    assert ami_type("t4g.medium") == "AL2023_ARM_64_STANDARD"
    assert ami_type("m7i.large") == "AL2023_x86_64_STANDARD"
    assert ami_type("g5.xlarge") == "AL2023_x86_64_STANDARD"  # GPU family 'g', not Graviton
    assert not is_graviton("m5.large")
    with pytest.raises(ValueError, match="not an EC2 instance type"):
        ami_type("large")


# -- provider and outputs ------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_provider_uses_a_short_lived_token_for_this_cluster(stack):
    b = built(stack)
    provider = b.graph.one(K8S_PROVIDER)
    config = json.loads(provider.inputs["kubeconfig"])
    outputs = b.graph.outputs
    assert config == kubeconfig(f"retail-{stack}-eks", outputs["endpoint"],
                                config["clusters"][0]["cluster"]["certificate-authority-data"], REGION)
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", f"retail-{stack}-eks"]
    assert ["--region", REGION] == exec_["args"][4:6]
    assert "deleteUnreachable" not in provider.inputs
    assert "token" not in json.dumps(config["users"][0]["user"]).replace("get-token", "")


def test_outputs_expose_the_cluster_security_group_and_oidc_issuer():
    outputs = built("prod").graph.outputs
    assert outputs["name"] == "retail-prod-eks"
    assert outputs["securityGroupId"].startswith("sg-")
    assert outputs["oidcIssuer"].startswith(f"https://oidc.eks.{REGION}.amazonaws.com/id/")
    assert outputs["nodeRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/eks-node")


# -- conventions ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_standard_tags(stack):
    b = built(stack)
    taggable = [r for r in b.graph if r.custom and is_taggable(r.type)]
    assert {r.type for r in taggable} >= {CLUSTER, LOG_GROUP, ADDON, POD_IDENTITY, NODE_GROUP, LAUNCH_TEMPLATE, ROLE}
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        missing = set(STANDARD_TAG_KEYS) - set(tags)
        assert not missing, f"{resource.type} {resource.name} lacks {sorted(missing)}"
        assert tags["environment"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_parented_under_its_component(stack):
    graph = built(stack).graph
    component = graph.one(COMPONENT)
    addons = graph.one(ADDONS_COMPONENT)
    for resource in graph:
        if resource.urn in (component.urn, addons.urn):
            continue
        assert {component.urn, addons.urn} & {a.urn for a in graph.ancestors(resource.urn)}, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_no_identity_policy_allows_wildcard_actions(stack):
    for policy in built(stack).graph.of_type(ROLE_POLICY):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if a == "*" or a.endswith(":*")], policy.name


# -- ClusterAddons -------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_addon_releases_use_the_cluster_provider_and_run_on_system_nodes(stack):
    b = built(stack)
    provider = b.graph.one(K8S_PROVIDER)
    releases = {r.inputs["name"]: r for r in b.graph.of_type(RELEASE)}
    assert set(releases) == {"metrics-server", "aws-load-balancer-controller"}
    for release in releases.values():
        assert release.provider == provider.urn
        assert release.inputs["namespace"] == "kube-system"
        assert release.inputs["version"]
        assert {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"} in \
            release.inputs["values"]["tolerations"]
        assert b.graph.one(NODE_GROUP).urn in release.dependencies
    values = releases["aws-load-balancer-controller"].inputs["values"]
    assert values["clusterName"] == f"retail-{stack}-eks"
    assert values["region"] == REGION
    assert values["vpcId"] == VPC_ID
    assert values["enableServiceMutatorWebhook"] is False


def test_load_balancer_controller_has_target_group_binding_rights_only():
    b = built("prod")
    role = b.graph.one(ROLE, "addons-load-balancer-controller")
    assert json.loads(role.inputs["assumeRolePolicy"]) == pod_identity_trust_policy(
        ACCOUNT_ID, cluster_name="retail-prod-eks", namespace="kube-system",
        service_account="aws-load-balancer-controller")
    association = b.graph.one(POD_IDENTITY, "addons-load-balancer-controller")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == \
        ("kube-system", "aws-load-balancer-controller")
    (policy,) = [p for p in b.graph.of_type(ROLE_POLICY) if p.parent == role.urn]
    document = json.loads(policy.inputs["policy"])
    assert document == load_balancer_controller_policy(partition="aws", region=REGION, account_id=ACCOUNT_ID,
                                                       cluster_name="retail-prod-eks")
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    writes = by_sid["RegisterPodsInThisClustersTargetGroups"]
    assert writes["Condition"] == {"StringEquals": {f"aws:ResourceTag/{TARGET_GROUP_CLUSTER_TAG}": "retail-prod-eks"}}
    ingress = by_sid["OpenClusterSecurityGroupToLoadBalancer"]
    assert ingress["Condition"] == {"StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/retail-prod-eks": "owned"}}
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not any(a.split(":")[1].startswith(("Create", "Delete", "Modify", "Set")) for a in actions)
    unscoped = [s for s in document["Statement"] if s["Resource"] == ["*"]]
    assert all(a.split(":")[1].startswith("Describe") for s in unscoped for a in s["Action"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_policy_pack_passes_offline(stack):
    report = check(built(stack).graph)
    assert report.evaluated
    assert report.violations == [], "\n".join(report.summary())
