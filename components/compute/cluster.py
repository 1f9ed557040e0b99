"""The EKS cluster: private API endpoint, secrets sealed with our key, every control-plane log.

The control plane runs in the private subnets with the private endpoint always on; the public
endpoint is a named loosening (``publicEndpoint`` + ``publicAccessCidrs``). Kubernetes secrets
are envelope-encrypted with the stack's secrets key (EKS.3), all five control-plane log types
go to a log group we create first, so its retention and key are ours (EKS.8, PCI DSS 10.2.1).
Who administers the cluster is said with EKS access entries, never the ``aws-auth`` ConfigMap
(CIS EKS 4.1.x). A small managed node group, tainted ``CriticalAddonsOnly``, carries the
system add-ons and Karpenter; Karpenter carries everything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.common.conventions import Conventions
from components.common.grants import attach
from components.common.logs import log_group
from components.compute.identity import (
    CLUSTER_ADMIN_ACCESS_POLICY,
    CLUSTER_POLICIES,
    EBS_CSI_POLICY,
    NODE_POLICIES,
    access_policy_arn,
    cluster_trust_policy,
    ebs_csi_kms_policy,
    managed_policy_arn,
    node_trust_policy,
    pod_identity_trust_policy,
)
from components.compute.settings import KubernetesConfig

#: EKS.8 asks for ``audit``; CIS EKS 2.1.1 and PCI DSS 10.2.1 ask for the rest: who
#: authenticated, what the API served, and what the controllers and the scheduler decided.
CLUSTER_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

#: Access entries only: the ``aws-auth`` ConfigMap is neither read nor trusted (CIS EKS 4.1.x).
AUTHENTICATION_MODE = "API"

#: The system node group's taint: only pods that tolerate it (CoreDNS, Karpenter, the
#: controllers) land there, so a surge of shop pods can never starve them.
SYSTEM_TAINT_KEY = "CriticalAddonsOnly"
SYSTEM_TAINT_VALUE = "true"
SYSTEM_TAINT_EFFECT = "NoSchedule"
SYSTEM_LABELS = {"role": "system"}

#: The toleration a Helm chart needs to run on the system nodes.
SYSTEM_TOLERATION = {"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": SYSTEM_TAINT_EFFECT}

#: IMDSv2 only (EC2.8, EC2.170, AutoScaling.3), and a hop limit of 1 (AutoScaling.4): a pod's
#: packet to IMDS crosses a second hop and is dropped, so pods cannot borrow the node's role.
#: Pods get AWS credentials through EKS Pod Identity instead, which needs no IMDS at all.
IMDS_HOP_LIMIT = 1

#: The root volume of AL2023 EKS AMIs.
ROOT_DEVICE = "/dev/xvda"
SYSTEM_NODE_VOLUME_GIB = 50

#: NetworkPolicies are only enforced when vpc-cni runs its network-policy agent.
#: ENABLE_POD_ENI turns on security groups for pods (branch interfaces on a trunk). The
#: "standard" enforcing mode keeps kubelet probes and same-node traffic (CoreDNS, the kubelet)
#: working for those pods; with "strict", the default, probes fail unless TCP early demux is
#: turned off in the CNI's init container. What standard gives up: traffic leaving the VPC is
#: source-NATed to the node and judged by the node's groups, not the pod's; the pod's own group
#: matters inside the VPC, which is where the data stores are.
VPC_CNI_CONFIGURATION: dict[str, Any] = {
    "enableNetworkPolicy": "true",
    "env": {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "standard"},
}

#: Managed add-ons installed before the nodes (the nodes need networking to become Ready,
#: and Pod Identity must answer before any pod asks it for credentials) ...
PRE_NODE_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
#: ... and after them (their pods need somewhere to run; EKS reports them degraded until then).
POST_NODE_ADDONS = ("coredns", "aws-ebs-csi-driver")

#: Overwrite drift on managed add-ons: the add-on's configuration lives here, not in kubectl edits.
RESOLVE_CONFLICTS = "OVERWRITE"

EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"

#: Container Insights (enhanced observability): the CloudWatch agent and Fluent Bit DaemonSets.
#: Its metrics (ContainerInsights namespace) are what the node-pressure alarms read.
CONTAINER_INSIGHTS_ADDON = "amazon-cloudwatch-observability"
CONTAINER_INSIGHTS_NAMESPACE = "amazon-cloudwatch"
CONTAINER_INSIGHTS_SERVICE_ACCOUNT = "cloudwatch-agent"
CONTAINER_INSIGHTS_POLICY = "CloudWatchAgentServerPolicy"
#: The log groups the agent and Fluent Bit write to, under ``/aws/containerinsights/<cluster>/``.
#: Made here first: left to the agent, they would be created on first write with no retention
#: and CloudWatch Logs' own key (PCI DSS 10.5.1 wants ours, and a retention we chose).
CONTAINER_INSIGHTS_LOG_GROUPS = ("performance", "application", "dataplane", "host")

_ROLE_NAME = re.compile(r"role/(?:.*/)?([\w+=,.@-]+)$")


def vpc_cni_configuration_values() -> str:
    return json.dumps(VPC_CNI_CONFIGURATION, sort_keys=True)


def is_graviton(instance_type: str) -> bool:
    """``m7g.large``, ``c7gn.xlarge``, ``t4g.medium``: a ``g`` after the generation is Graviton."""
    family = instance_type.split(".", 1)[0]
    match = re.match(r"^([a-z]+)(\d+)([a-z-]*)$", family)
    if match is None:
        raise ValueError(f"{instance_type!r} is not an EC2 instance type (expected e.g. 'm7g.large')")
    return "g" in match.group(3) or family == "a1"


def ami_type(instance_type: str) -> str:
    """The EKS-optimised AL2023 AMI matching the instance type's architecture."""
    return "AL2023_ARM_64_STANDARD" if is_graviton(instance_type) else "AL2023_x86_64_STANDARD"


def admin_entry_name(role_arn: str) -> str:
    """A stable, readable resource name for an admin role's access entry (its role name)."""
    match = _ROLE_NAME.search(role_arn)
    if match is None:
        raise ValueError(f"{role_arn!r} is not an IAM role ARN")
    return re.sub(r"[^a-z0-9-]", "-", match.group(1).lower())


def kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> dict[str, Any]:
    """A kubeconfig that fetches a short-lived token with ``aws eks get-token`` on every use:
    no long-lived credential is ever written to the state."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name,
                      "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }}}],
    }


@dataclass(frozen=True)
class KubernetesClusterArgs:
    settings: KubernetesConfig
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """The control plane's ENIs and the system nodes go here; nothing of the cluster is public."""
    secrets_key_arn: pulumi.Input[str]
    """Envelope-encrypts Kubernetes secrets in etcd (EKS.3)."""
    data_key_arn: pulumi.Input[str]
    """Encrypts node volumes and the volumes the EBS CSI driver creates."""
    logs_key_arn: pulumi.Input[str]
    """Encrypts the control-plane log group (and Container Insights' log groups)."""
    log_retention_days: int
    container_insights: bool = False
    """Install Container Insights (the ``amazon-cloudwatch-observability`` add-on, through Pod
    Identity), with its log groups made first, encrypted with the logs key and kept
    ``log_retention_days``."""


class KubernetesCluster(pulumi.ComponentResource):
    """An EKS cluster with its system node group, managed add-ons and a Kubernetes provider."""

    cluster: aws.eks.Cluster
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role: aws.iam.Role
    node_group: aws.eks.NodeGroup
    provider: k8s.Provider
    addons: dict[str, aws.eks.Addon]

    def __init__(self, name: str, context: StackContext, args: KubernetesClusterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:compute:KubernetesCluster", name, None, opts)
        config, conv, region = args.settings, context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = conv.physical_name(name)
        partition = pulumi.Output.from_input(context.partition)
        account_id = pulumi.Output.from_input(context.account_id)

        if config.public_endpoint:
            pulumi.log.warn(f"{cluster_name}: the API server endpoint is public, reachable from "
                            f"{', '.join(config.public_access_cidrs)} (EKS.1)", resource=self)

        # -- control plane -----------------------------------------------------------------
        self.cluster_role = aws.iam.Role(
            f"{name}-cluster",
            description=f"EKS control plane of {cluster_name}",
            assume_role_policy=account_id.apply(lambda account: json.dumps(cluster_trust_policy(account))),
            tags=conv.tags(conv.physical_name(name, "cluster")),
            opts=child,
        )
        cluster_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-cluster-{policy}",
                role=self.cluster_role.name,
                policy_arn=partition.apply(lambda p, policy=policy: managed_policy_arn(p, policy)),
                opts=pulumi.ResourceOptions(parent=self.cluster_role),
            )
            for policy in CLUSTER_POLICIES
        ]

        # Created before the cluster: EKS would otherwise create it itself, unencrypted and
        # kept for ever.
        # Audit evidence (PCI DSS 10.3): in prod nobody deletes it, Pulumi or console.
        self.log_group = log_group(
            f"{name}-control-plane", context, name=f"/aws/eks/{cluster_name}/cluster",
            retention_days=args.log_retention_days, key_arn=args.logs_key_arn, tags=conv.tags(cluster_name),
            parent=self, region=region)

        self.cluster = aws.eks.Cluster(
            name,
            name=cluster_name,
            version=config.version,
            role_arn=self.cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=config.public_endpoint,
                public_access_cidrs=list(config.public_access_cidrs) if config.public_endpoint else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.secrets_key_arn),
            ),
            enabled_cluster_log_types=list(CLUSTER_LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode=AUTHENTICATION_MODE,
                # Whoever runs `pulumi up` gets no hidden admin rights: admins are named below.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # vpc-cni, kube-proxy and CoreDNS come as managed add-ons below, configured here,
            # instead of the unmanaged copies EKS would otherwise install.
            bootstrap_self_managed_addons=False,
            # EKS.2: at the end of standard support EKS upgrades the cluster rather than
            # running it on (paid) extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=context.protect,
            region=region,
            tags=conv.tags(cluster_name),
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect,
                                        depends_on=[self.log_group, *cluster_policies]),
        )

        # -- administrators ----------------------------------------------------------------
        self.admin_entries: list[aws.eks.AccessEntry] = []
        for role_arn in config.admin_role_arns:
            entry_name = f"{name}-admin-{admin_entry_name(role_arn)}"
            entry = aws.eks.AccessEntry(
                entry_name,
                cluster_name=self.cluster.name,
                principal_arn=role_arn,
                type="STANDARD",
                region=region,
                tags=conv.tags(conv.physical_name(name, "admin")),
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                entry_name,
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=partition.apply(lambda p: access_policy_arn(p, CLUSTER_ADMIN_ACCESS_POLICY)),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                region=region,
                opts=pulumi.ResourceOptions(parent=entry),
            )
            self.admin_entries.append(entry)

        # -- add-ons that nodes need -------------------------------------------------------
        self.addons = {}
        for addon in PRE_NODE_ADDONS:
            self.addons[addon] = self._addon(name, addon, region, conv, cluster_name, configuration_values=(
                vpc_cni_configuration_values() if addon == "vpc-cni" else None))

        # -- system nodes ------------------------------------------------------------------
        self.node_role = aws.iam.Role(
            f"{name}-node",
            description=f"System nodes of {cluster_name}",
            assume_role_policy=json.dumps(node_trust_policy()),
            tags=conv.tags(conv.physical_name(name, "node")),
            opts=child,
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=partition.apply(lambda p, policy=policy: managed_policy_arn(p, policy)),
                opts=pulumi.ResourceOptions(parent=self.node_role),
            )
            for policy in NODE_POLICIES
        ]

        nodes = config.system_nodes
        node_name = conv.physical_name(name, "system")
        node_tags = conv.tags(node_name, SYSTEM_LABELS)
        # No network interfaces in the template: a managed node group places its own ENIs in the
        # private subnets (EKS refuses a subnet in the template), and those subnets never map a
        # public IP (EC2.15), so no node gets one and EC2.25 holds with nothing to set.
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-system",
            name=node_name,
            description=f"{node_name}: IMDSv2 only, encrypted root volume",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
            ),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true",
                    kms_key_id=args.data_key_arn,
                    volume_size=SYSTEM_NODE_VOLUME_GIB,
                    volume_type="gp3",
                    delete_on_termination="true",
                ),
            )],
            # The node group's own tags stay on the node group; these reach the instances
            # and volumes, where cost reports and the tag policy look.
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            region=region,
            tags=conv.tags(node_name),
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.cluster.name,
            node_group_name=node_name,
            node_role_arn=self.node_role.arn,
            subnet_ids=list(args.private_subnet_ids),
            instance_types=[nodes.instance_type],
            ami_type=ami_type(nodes.instance_type),
            capacity_type="ON_DEMAND",
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=nodes.min_size, desired_size=nodes.desired_size, max_size=nodes.max_size),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                # The latest version, so a template change rolls the nodes (max_unavailable at a time).
                id=self.launch_template.id,
                # Unknown (None) only while previewing a new template; the node group then waits.
                version=cast("pulumi.Output[str]",
                             self.launch_template.latest_version.apply(lambda v: None if v is None else str(v)))),
            labels=dict(SYSTEM_LABELS),
            taints=[aws.eks.NodeGroupTaintArgs(key=SYSTEM_TAINT_KEY, value=SYSTEM_TAINT_VALUE,
                                               effect="NO_SCHEDULE")],
            region=region,
            tags=conv.tags(node_name),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*node_policies, *(self.addons[a] for a in PRE_NODE_ADDONS)]),
        )

        # -- EBS CSI driver through Pod Identity -------------------------------------------
        self.ebs_csi_role = aws.iam.Role(
            f"{name}-ebs-csi",
            description=f"EBS CSI driver of {cluster_name} (Pod Identity)",
            # Only the driver's controller service account, in this cluster, may assume it.
            assume_role_policy=account_id.apply(lambda account: json.dumps(pod_identity_trust_policy(
                account, cluster_name=cluster_name, namespace=EBS_CSI_NAMESPACE,
                service_account=EBS_CSI_SERVICE_ACCOUNT))),
            tags=conv.tags(conv.physical_name(name, "ebs-csi")),
            opts=child,
        )
        ebs_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=self.ebs_csi_role.name,
            policy_arn=partition.apply(lambda p: managed_policy_arn(p, EBS_CSI_POLICY)),
            opts=pulumi.ResourceOptions(parent=self.ebs_csi_role),
        )
        ebs_kms = attach(
            f"{name}-ebs-csi-data-key", self.ebs_csi_role,
            pulumi.Output.from_input(args.data_key_arn).apply(lambda key: ebs_csi_kms_policy(key, region)),
            self.ebs_csi_role)
        ebs_identity = aws.eks.PodIdentityAssociation(
            f"{name}-ebs-csi",
            cluster_name=self.cluster.name,
            namespace=EBS_CSI_NAMESPACE,
            service_account=EBS_CSI_SERVICE_ACCOUNT,
            role_arn=self.ebs_csi_role.arn,
            region=region,
            tags=conv.tags(conv.physical_name(name, "ebs-csi")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.addons["eks-pod-identity-agent"]]),
        )
        self.ebs_csi_identity = ebs_identity

        # -- add-ons that need nodes -------------------------------------------------------
        for addon in POST_NODE_ADDONS:
            extra = [ebs_identity, ebs_policy, ebs_kms] if addon == "aws-ebs-csi-driver" else []
            self.addons[addon] = self._addon(name, addon, region, conv, cluster_name,
                                             depends_on=[self.node_group, *extra])

        self.container_insights: aws.eks.Addon | None = None
        if args.container_insights:
            self.container_insights = self._container_insights(name, context, args, cluster_name)

        # -- Kubernetes provider -----------------------------------------------------------
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.security_group_id = self.cluster.vpc_config.cluster_security_group_id
        self.oidc_issuer = self.cluster.identities[0].oidcs[0].issuer
        config_text = pulumi.Output.all(self.cluster.name, self.cluster.endpoint,
                                        self.cluster.certificate_authority.data).apply(
            lambda values: json.dumps(kubeconfig(values[0], values[1], values[2], region)))
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=config_text,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.admin_entries),
        )

        self.register_outputs({
            "name": self.name,
            "endpoint": self.endpoint,
            "securityGroupId": self.security_group_id,
            "oidcIssuer": self.oidc_issuer,
            "nodeRoleArn": self.node_role.arn,
        })

    def _container_insights(self, name: str, context: StackContext, args: KubernetesClusterArgs,
                            cluster_name: str) -> aws.eks.Addon:
        """The CloudWatch Observability add-on, its Pod Identity role, and its log groups."""
        conv, region = context.conventions, context.region
        partition = pulumi.Output.from_input(context.partition)
        groups = [
            log_group(f"{name}-container-insights-{kind}", context,
                      name=f"/aws/containerinsights/{cluster_name}/{kind}", retention_days=args.log_retention_days,
                      key_arn=args.logs_key_arn, tags=conv.tags(cluster_name), parent=self, region=region)
            for kind in CONTAINER_INSIGHTS_LOG_GROUPS
        ]
        role_name = conv.physical_name(name, "container-insights")
        self.container_insights_role = aws.iam.Role(
            f"{name}-container-insights",
            description=f"CloudWatch agent and Fluent Bit of {cluster_name} (Pod Identity)",
            # Only the agent's service account, in this cluster, may assume it.
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(pod_identity_trust_policy(
                    account, cluster_name=cluster_name, namespace=CONTAINER_INSIGHTS_NAMESPACE,
                    service_account=CONTAINER_INSIGHTS_SERVICE_ACCOUNT))),
            tags=conv.tags(role_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # AWS's managed policy, as the add-on's documentation asks: PutMetricData (which takes no
        # resource), logs to /aws/containerinsights/*, EC2/EBS describes for the node metadata.
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-container-insights",
            role=self.container_insights_role.name,
            policy_arn=partition.apply(lambda p: managed_policy_arn(p, CONTAINER_INSIGHTS_POLICY)),
            opts=pulumi.ResourceOptions(parent=self.container_insights_role),
        )
        return aws.eks.Addon(
            f"{name}-{CONTAINER_INSIGHTS_ADDON}",
            cluster_name=self.cluster.name,
            addon_name=CONTAINER_INSIGHTS_ADDON,
            # The add-on makes the association itself (as the EBS CSI driver's is made above, but
            # owned by the add-on, so it goes when the add-on goes).
            pod_identity_associations=[aws.eks.AddonPodIdentityAssociationArgs(
                role_arn=self.container_insights_role.arn, service_account=CONTAINER_INSIGHTS_SERVICE_ACCOUNT)],
            resolve_conflicts_on_create=RESOLVE_CONFLICTS,
            resolve_conflicts_on_update=RESOLVE_CONFLICTS,
            region=region,
            tags=conv.tags(f"{cluster_name}-{CONTAINER_INSIGHTS_ADDON}"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                self.node_group, self.addons["eks-pod-identity-agent"], attachment, *groups]),
        )

    def _addon(self, name: str, addon: str, region: str, conv: Conventions, cluster_name: str, *,
               configuration_values: str | None = None,
               depends_on: Sequence[pulumi.Resource] = ()) -> aws.eks.Addon:
        # No addon_version: EKS installs the default version for the cluster's Kubernetes
        # version, and moves it when the cluster is upgraded.
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            configuration_values=configuration_values,
            resolve_conflicts_on_create=RESOLVE_CONFLICTS,
            resolve_conflicts_on_update=RESOLVE_CONFLICTS,
            region=region,
            tags=conv.tags(f"{cluster_name}-{addon}"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
