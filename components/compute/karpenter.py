"""Karpenter: nodes that follow the shop's load, within a ceiling the stack names.

The controller runs on the system nodes with an IAM role through EKS Pod Identity whose
policy lets it launch and terminate only instances tagged for this cluster and a node pool,
pass only its own node role, and read only its own interruption queue. One ``NodePool``
bounds what it may launch (families, capacity types, CPU and memory limits, disruption
budget); one ``EC2NodeClass`` says how (AL2023, private subnets, the cluster security
group, IMDSv2 with hop limit 1, volumes encrypted with our data key, no public IP).

Spot interruptions, rebalance recommendations, instance state changes and AWS Health
scheduled changes reach the controller through an SQS queue, so it drains a node before
EC2 takes it away rather than after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.common.grants import attach, kms_via_service, policy_document, statement
from components.compute.cluster import IMDS_HOP_LIMIT, ROOT_DEVICE, SYSTEM_LABELS, SYSTEM_TOLERATION
from components.compute.identity import (
    EBS_KMS_ACTIONS,
    EBS_KMS_GRANT_ACTIONS,
    managed_policy_arn,
    node_trust_policy,
    pod_identity_trust_policy,
)
from components.compute.settings import KarpenterConfig

CHART = "oci://public.ecr.aws/karpenter/karpenter"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
NODE_POOL_NAME = "default"
NODE_CLASS_NAME = "default"

#: Pinned by the AMI family, not an id: Karpenter resolves the newest EKS-optimised AL2023
#: for the cluster's version from AWS's public SSM parameters and drifts nodes onto it.
AMI_ALIAS = "al2023@latest"
#: Every node is replaced within 30 days, so no node runs unpatched for long (PCI DSS 6.3.3).
EXPIRE_AFTER = "720h"
NODE_VOLUME_SIZE = "50Gi"
#: Both: the instance-family requirement already decides (Graviton ``g`` families are arm64),
#: and the shop's images are multi-arch.
ARCHITECTURES = ("amd64", "arm64")
CONSOLIDATION_POLICY = "WhenEmptyOrUnderutilized"

#: Karpenter's recommended controller size: requests equal limits, so it is never throttled
#: or evicted first under node pressure during a surge, when it is needed most.
CONTROLLER_RESOURCES = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy",
                 # Session Manager instead of SSH: no key pairs, no port 22 (PCI DSS 2.2).
                 "AmazonSSMManagedInstanceCore")

#: The interruption messages are useless after a few minutes: a spot warning gives two.
QUEUE_RETENTION_SECONDS = 300

#: (rule suffix, EventBridge pattern) for every event Karpenter acts on.
INTERRUPTION_EVENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("spot-interruption", {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}),
    ("rebalance", {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]}),
    ("instance-state-change", {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]}),
    ("scheduled-change", {"source": ["aws.health"], "detail-type": ["AWS Health Event"]}),
)

#: Read-only EC2 calls Karpenter makes to choose instance types, images, subnets and prices.
#: IAM authorises Describe* calls on "*" only (they take no resource ARN), so these are
#: bounded by region instead; they return metadata, never data.
EC2_READ_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCapacityReservations",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSpotPriceHistory",
    "ec2:DescribeSubnets",
)
QUEUE_ACTIONS = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage")
INSTANCE_PROFILE_ACTIONS = ("iam:AddRoleToInstanceProfile", "iam:DeleteInstanceProfile",
                            "iam:RemoveRoleFromInstanceProfile")

NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"


def cluster_tag(cluster_name: str) -> str:
    return f"kubernetes.io/cluster/{cluster_name}"


def controller_policy(*, partition: str, region: str, account_id: str, cluster_name: str, queue_arn: str,
                      node_role_arn: str, data_key_arn: str) -> dict[str, Any]:
    """The Karpenter controller's least-privilege policy (Karpenter v1's, tightened to this
    account and region).

    Creation is allowed only when the request tags the new resource for this cluster and a
    node pool (``aws:RequestTag``); termination and later tagging only of resources that
    carry those tags (``aws:ResourceTag``). So the controller can neither launch an untagged
    instance nor touch one it did not launch.
    """
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:RequestTag/{cluster_tag(cluster_name)}": "owned",
             "aws:RequestTag/eks:eks-cluster-name": cluster_name}
    in_pool = {f"aws:RequestTag/{NODEPOOL_TAG}": "*"}
    resource_owned = {f"aws:ResourceTag/{cluster_tag(cluster_name)}": "owned"}
    resource_in_pool = {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"}
    created = [f"{ec2}:{account_id}:{kind}/*"
               for kind in ("fleet", "instance", "volume", "network-interface", "launch-template",
                            "spot-instances-request")]
    profile = f"arn:{partition}:iam::{account_id}:instance-profile/*"
    profile_owned = {f"aws:ResourceTag/{cluster_tag(cluster_name)}": "owned",
                     "aws:ResourceTag/topology.kubernetes.io/region": region}
    return policy_document(
        # What a launch reads: AWS's images and snapshots, our subnets, groups and templates.
        statement("LaunchFromSharedResources", ["ec2:CreateFleet", "ec2:RunInstances"], [
            f"{ec2}::image/*", f"{ec2}::snapshot/*",
            f"{ec2}:{account_id}:security-group/*", f"{ec2}:{account_id}:subnet/*",
            f"{ec2}:{account_id}:capacity-reservation/*",
        ]),
        statement("LaunchFromOwnTemplates", ["ec2:CreateFleet", "ec2:RunInstances"],
                  [f"{ec2}:{account_id}:launch-template/*"],
                  condition={"StringEquals": resource_owned, "StringLike": resource_in_pool}),
        statement("CreateOnlyTaggedForThisCluster",
                  ["ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:RunInstances"], created,
                  condition={"StringEquals": owned, "StringLike": in_pool}),
        statement("TagOnCreateOnly", ["ec2:CreateTags"], created, condition={
            "StringEquals": {**owned, "ec2:CreateAction": ["CreateFleet", "CreateLaunchTemplate", "RunInstances"]},
            "StringLike": in_pool,
        }),
        statement("NameOwnInstances", ["ec2:CreateTags"], [f"{ec2}:{account_id}:instance/*"], condition={
            "StringEquals": resource_owned,
            "StringLike": resource_in_pool,
            "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
        }),
        statement("DeleteOwnInstancesAndTemplates", ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"],
                  [f"{ec2}:{account_id}:instance/*", f"{ec2}:{account_id}:launch-template/*"],
                  condition={"StringEquals": resource_owned, "StringLike": resource_in_pool}),
        statement("ReadEc2InThisRegion", EC2_READ_ACTIONS, ["*"],
                  condition={"StringEquals": {"aws:RequestedRegion": region}}),
        # AWS's public parameters only (the EKS AMI ids), not the account's own parameters.
        statement("ReadPublicAmiParameters", ["ssm:GetParameter"],
                  [f"arn:{partition}:ssm:{region}::parameter/aws/service/*"]),
        # The Price List API has no resources to name.
        statement("ReadPrices", ["pricing:GetProducts"], ["*"]),
        statement("ReadOwnInterruptionQueue", QUEUE_ACTIONS, [queue_arn]),
        statement("PassOnlyTheNodeRole", ["iam:PassRole"], [node_role_arn],
                  condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        statement("CreateTaggedInstanceProfiles", ["iam:CreateInstanceProfile"], [profile], condition={
            "StringEquals": {**owned, "aws:RequestTag/topology.kubernetes.io/region": region},
            "StringLike": {f"aws:RequestTag/{NODECLASS_TAG}": "*"},
        }),
        statement("TagOwnInstanceProfiles", ["iam:TagInstanceProfile"], [profile], condition={
            "StringEquals": {**profile_owned, f"aws:RequestTag/{cluster_tag(cluster_name)}": "owned",
                             "aws:RequestTag/topology.kubernetes.io/region": region},
            "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*", f"aws:RequestTag/{NODECLASS_TAG}": "*"},
        }),
        statement("ManageOwnInstanceProfiles", INSTANCE_PROFILE_ACTIONS, [profile], condition={
            "StringEquals": profile_owned,
            "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*"},
        }),
        statement("ReadInstanceProfiles", ["iam:GetInstanceProfile"], [profile]),
        # IAM defines no resource type for ListInstanceProfiles: scoped to instance profiles it
        # is never allowed, and the controller's cleanup of stale profiles fails (upstream
        # Karpenter grants it on "*"). It lists names and ARNs only.
        statement("ListInstanceProfiles", ["iam:ListInstanceProfiles"], ["*"]),
        statement("DiscoverApiServer", ["eks:DescribeCluster"],
                  [f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"]),
        # Node volumes are encrypted with our data key: the launch uses it on the caller's
        # behalf, through EC2 only.
        kms_via_service("UseDataKeyForNodeVolumes", data_key_arn, EBS_KMS_ACTIONS, "ec2", region),
        statement("GrantDataKeyToEc2Only", EBS_KMS_GRANT_ACTIONS, [data_key_arn], condition={
            "Bool": {"kms:GrantIsForAWSResource": "true"},
            "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
        }),
    )


def queue_policy(queue_arn: str, account_id: str) -> dict[str, Any]:
    """EventBridge (and SQS itself) may deliver to the queue, for this account only; nothing
    reaches it without TLS."""
    return policy_document(
        {"Sid": "DeliverInterruptionEvents", "Effect": "Allow",
         "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    )


def node_pool_manifest(config: KarpenterConfig, *, name: str = NODE_POOL_NAME,
                       node_class_name: str = NODE_CLASS_NAME) -> dict[str, Any]:
    """The ``NodePool`` (karpenter.sh/v1): what Karpenter may launch, and how much of it."""
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "metadata": {"labels": {"role": "workload"}},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class_name},
                    "requirements": [
                        {"key": "karpenter.k8s.aws/instance-family", "operator": "In",
                         "values": list(config.instance_families)},
                        {"key": "karpenter.sh/capacity-type", "operator": "In",
                         "values": list(config.capacity_types)},
                        {"key": "kubernetes.io/arch", "operator": "In", "values": list(ARCHITECTURES)},
                        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    ],
                    "expireAfter": EXPIRE_AFTER,
                },
            },
            # The ceiling of a surge, and of the bill.
            "limits": {"cpu": str(config.cpu_limit), "memory": f"{config.memory_limit_gi}Gi"},
            "disruption": {
                "consolidationPolicy": CONSOLIDATION_POLICY,
                "consolidateAfter": config.consolidate_after,
                "budgets": [{"nodes": config.disruption_budget}],
            },
        },
    }


def node_class_manifest(*, role_name: str, subnet_ids: Sequence[str], security_group_id: str, data_key_arn: str,
                        tags: Mapping[str, str], name: str = NODE_CLASS_NAME) -> dict[str, Any]:
    """The ``EC2NodeClass`` (karpenter.k8s.aws/v1): how Karpenter's nodes are built."""
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {
            "role": role_name,
            "amiSelectorTerms": [{"alias": AMI_ALIAS}],
            "subnetSelectorTerms": [{"id": subnet} for subnet in subnet_ids],
            "securityGroupSelectorTerms": [{"id": security_group_id}],
            # EC2.25 / EC2.9: private subnets, and no public address even if one maps them.
            "associatePublicIPAddress": False,
            # EC2.8 / EC2.170: IMDSv2 only; hop limit 1 keeps pods off the node's role.
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": IMDS_HOP_LIMIT,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [{
                "deviceName": ROOT_DEVICE,
                "ebs": {"volumeSize": NODE_VOLUME_SIZE, "volumeType": "gp3", "encrypted": True,
                        "kmsKeyID": data_key_arn, "deleteOnTermination": True},
            }],
            "tags": dict(tags),
        },
    }


def helm_values(*, cluster_name: str, cluster_endpoint: str, queue_name: str) -> dict[str, Any]:
    return {
        "settings": {"clusterName": cluster_name, "clusterEndpoint": cluster_endpoint,
                     "interruptionQueue": queue_name},
        "serviceAccount": {"name": SERVICE_ACCOUNT},
        # On the system nodes: Karpenter must never run on a node it may remove.
        "tolerations": [SYSTEM_TOLERATION],
        "nodeSelector": dict(SYSTEM_LABELS),
        "controller": {"resources": CONTROLLER_RESOURCES},
    }


@dataclass(frozen=True)
class KarpenterArgs:
    settings: KarpenterConfig
    cluster_name: pulumi.Input[str]
    cluster_endpoint: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    """The EKS cluster security group: Karpenter's nodes join it, like the managed nodes."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    data_key_arn: pulumi.Input[str]
    """Encrypts the nodes' volumes."""
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = ()
    """What the controller needs running first: the system node group, CoreDNS."""


class Karpenter(pulumi.ComponentResource):
    """The Karpenter controller, its IAM, its interruption queue, one NodePool and one EC2NodeClass."""

    node_role: aws.iam.Role
    controller_role: aws.iam.Role
    queue: aws.sqs.Queue
    release: k8s.helm.v3.Release
    node_pool: k8s.apiextensions.CustomResource
    node_class: k8s.apiextensions.CustomResource

    def __init__(self, name: str, context: StackContext, args: KarpenterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:compute:Karpenter", name, None, opts)
        config, conv, region = args.settings, context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        partition = pulumi.Output.from_input(context.partition)
        account_id = pulumi.Output.from_input(context.account_id)

        # -- nodes -------------------------------------------------------------------------
        self.node_role = aws.iam.Role(
            f"{name}-node",
            description="Nodes launched by Karpenter",
            assume_role_policy=json.dumps(node_trust_policy()),
            tags=conv.tags(conv.physical_name(name, "node")),
            opts=child,
        )
        for policy in NODE_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=partition.apply(lambda p, policy=policy: managed_policy_arn(p, policy)),
                opts=pulumi.ResourceOptions(parent=self.node_role),
            )
        # Lets the nodes join: EKS maps EC2_LINUX entries to system:nodes.
        self.node_access = aws.eks.AccessEntry(
            f"{name}-node",
            cluster_name=args.cluster_name,
            principal_arn=self.node_role.arn,
            type="EC2_LINUX",
            region=region,
            tags=conv.tags(conv.physical_name(name, "node")),
            opts=child,
        )

        # -- interruption queue ------------------------------------------------------------
        queue_name = conv.physical_name(name, "interruption")
        # SQS-managed encryption, not our data key: EventBridge delivers as itself, and our
        # key's policy (components/foundation/keys.py) does not let events.amazonaws.com use it. The
        # messages are EC2 event notices (instance ids, times), not customer data.
        self.queue = aws.sqs.Queue(
            f"{name}-interruption",
            name=queue_name,
            message_retention_seconds=QUEUE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            region=region,
            tags=conv.tags(queue_name),
            opts=child,
        )
        self.queue_policy = aws.sqs.QueuePolicy(
            f"{name}-interruption",
            queue_url=self.queue.url,
            policy=pulumi.Output.all(self.queue.arn, account_id).apply(
                lambda values: json.dumps(queue_policy(values[0], values[1]))),
            region=region,
            opts=pulumi.ResourceOptions(parent=self.queue),
        )
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        for suffix, pattern in INTERRUPTION_EVENTS:
            rule_name = conv.physical_name(name, suffix)
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                name=rule_name,
                description=f"{pattern['detail-type'][0]} to Karpenter's interruption queue",
                event_pattern=json.dumps(pattern),
                region=region,
                tags=conv.tags(rule_name),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}",
                rule=rule.name,
                target_id="KarpenterInterruptionQueue",
                arn=self.queue.arn,
                region=region,
                opts=pulumi.ResourceOptions(parent=rule, depends_on=[self.queue_policy]),
            )
            self.rules[suffix] = rule

        # -- controller --------------------------------------------------------------------
        self.controller_role = aws.iam.Role(
            f"{name}-controller",
            description="Karpenter controller (Pod Identity)",
            # Only Karpenter's own service account, in this cluster, may assume it.
            assume_role_policy=pulumi.Output.all(account_id, args.cluster_name).apply(
                lambda v: json.dumps(pod_identity_trust_policy(v[0], cluster_name=v[1], namespace=NAMESPACE,
                                                               service_account=SERVICE_ACCOUNT))),
            tags=conv.tags(conv.physical_name(name, "controller")),
            opts=child,
        )
        document = pulumi.Output.all(partition, account_id, args.cluster_name, self.queue.arn, self.node_role.arn,
                                     args.data_key_arn).apply(
            lambda v: controller_policy(partition=v[0], region=region, account_id=v[1], cluster_name=v[2],
                                        queue_arn=v[3], node_role_arn=v[4], data_key_arn=v[5]))
        controller_grant = attach(f"{name}-controller", self.controller_role, document, self.controller_role)
        identity = aws.eks.PodIdentityAssociation(
            f"{name}-controller",
            cluster_name=args.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=self.controller_role.arn,
            region=region,
            tags=conv.tags(conv.physical_name(name, "controller")),
            opts=child,
        )

        values = pulumi.Output.all(args.cluster_name, args.cluster_endpoint, self.queue.name).apply(
            lambda v: helm_values(cluster_name=v[0], cluster_endpoint=v[1], queue_name=v[2]))
        self.release = k8s.helm.v3.Release(
            name,
            name="karpenter",
            chart=CHART,
            version=config.version,
            namespace=NAMESPACE,
            values=values,
            # Helm waits for the controller to be ready, so the CRDs exist for the objects below.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider,
                depends_on=[identity, controller_grant, self.node_access, *args.depends_on]),
        )

        # -- NodePool and EC2NodeClass -----------------------------------------------------
        after_release = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.release])
        node_class = pulumi.Output.all(self.node_role.name, args.cluster_security_group_id, args.data_key_arn,
                                       *args.private_subnet_ids).apply(
            lambda v: node_class_manifest(role_name=v[0], security_group_id=v[1], data_key_arn=v[2],
                                          subnet_ids=list(v[3:]), tags=conv.standard_tags))
        self.node_class = k8s.apiextensions.CustomResource(
            f"{name}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata={"name": NODE_CLASS_NAME},
            spec=node_class.apply(lambda manifest: manifest["spec"]),
            opts=after_release,
        )
        pool = node_pool_manifest(config)
        self.node_pool = k8s.apiextensions.CustomResource(
            f"{name}-node-pool",
            api_version=pool["apiVersion"],
            kind=pool["kind"],
            metadata=pool["metadata"],
            spec=pool["spec"],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                        depends_on=[self.release, self.node_class]),
        )

        self.register_outputs({
            "nodeRoleArn": self.node_role.arn,
            "controllerRoleArn": self.controller_role.arn,
            "interruptionQueueUrl": self.queue.url,
        })
