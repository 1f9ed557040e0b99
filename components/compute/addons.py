"""Cluster-wide controllers every workload relies on: metrics-server and the AWS Load Balancer
Controller, both on the system nodes.

metrics-server feeds the HPAs that scale the shop's services. The load balancer controller
is scoped to ``TargetGroupBinding`` only: the ALB, its listeners and target groups are built
by Pulumi (tagged, WAF-protected, logged), and the controller's only job is to keep each
target group's members in step with the pods behind a Service. Its IAM policy says exactly
that, and no more (see ``load_balancer_controller_policy``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.common.grants import attach, policy_document, statement
from components.compute.cluster import SYSTEM_LABELS, SYSTEM_TOLERATION
from components.compute.identity import pod_identity_trust_policy
from components.compute.karpenter import cluster_tag

NAMESPACE = "kube-system"

METRICS_SERVER_CHART = "metrics-server"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_VERSION = "3.13.0"

LOAD_BALANCER_CONTROLLER_CHART = "aws-load-balancer-controller"
LOAD_BALANCER_CONTROLLER_REPO = "https://aws.github.io/eks-charts"
LOAD_BALANCER_CONTROLLER_VERSION = "1.14.0"
LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller"

#: The tag a target group must carry (value: the cluster name) for the controller to
#: register pods in it. Whoever creates the target group for a TargetGroupBinding sets it.
TARGET_GROUP_CLUSTER_TAG = "elbv2.k8s.aws/cluster"

#: Read-only calls the controller makes to reconcile a TargetGroupBinding. IAM authorises
#: Describe* on "*" only (they take no resource ARN), so they are bounded by region instead.
LOAD_BALANCER_READ_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)

#: What the upstream controller policy grants and this one does not, and why. Creating and
#: deleting load balancers, listeners, rules and target groups, and security groups; WAF,
#: Shield and ACM association; iam:CreateServiceLinkedRole; Cognito: all of it is what the
#: Ingress and Service (type LoadBalancer) reconcilers need, and here Pulumi owns those
#: resources, so an Ingress object can never create an unreviewed, unprotected public load
#: balancer.
CUT_FROM_UPSTREAM_POLICY = (
    "elasticloadbalancing:Create*/Delete*/Modify*/AddTags/RemoveTags/SetWebAcl/SetSecurityGroups/SetSubnets",
    "ec2:CreateSecurityGroup/DeleteSecurityGroup/CreateTags/DeleteTags",
    "wafv2:*, waf-regional:*, shield:*, acm:*, cognito-idp:DescribeUserPoolClient, iam:CreateServiceLinkedRole",
)


def load_balancer_controller_policy(*, partition: str, region: str, account_id: str,
                                    cluster_name: str) -> dict[str, Any]:
    """TargetGroupBinding only: register and deregister pods in this cluster's target groups,
    and open the cluster security group to the load balancer's group."""
    return policy_document(
        statement("ReadLoadBalancingInThisRegion", LOAD_BALANCER_READ_ACTIONS, ["*"],
                  condition={"StringEquals": {"aws:RequestedRegion": region}}),
        statement("RegisterPodsInThisClustersTargetGroups",
                  ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
                  [f"arn:{partition}:elasticloadbalancing:{region}:{account_id}:targetgroup/*/*"],
                  condition={"StringEquals": {f"aws:ResourceTag/{TARGET_GROUP_CLUSTER_TAG}": cluster_name}}),
        # EKS tags the cluster security group kubernetes.io/cluster/<name>=owned: the
        # controller may add and remove the load balancer's ingress there, nowhere else.
        statement("OpenClusterSecurityGroupToLoadBalancer",
                  ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
                  [f"arn:{partition}:ec2:{region}:{account_id}:security-group/*"],
                  condition={"StringEquals": {f"aws:ResourceTag/{cluster_tag(cluster_name)}": "owned"}}),
    )


def metrics_server_values() -> dict[str, Any]:
    return {"tolerations": [SYSTEM_TOLERATION], "nodeSelector": dict(SYSTEM_LABELS), "replicas": 2}


def load_balancer_controller_values(*, cluster_name: str, region: str, vpc_id: str) -> dict[str, Any]:
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        # Services of type LoadBalancer stay with whatever creates them explicitly; the
        # controller does not take them over behind Pulumi's back.
        "enableServiceMutatorWebhook": False,
        "serviceAccount": {"name": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT},
        "tolerations": [SYSTEM_TOLERATION],
        "nodeSelector": dict(SYSTEM_LABELS),
        "replicaCount": 2,
    }


@dataclass(frozen=True)
class ClusterAddonsArgs:
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = ()
    """What the controllers need running first: the system node group, CoreDNS."""
    metrics_server_version: str = METRICS_SERVER_VERSION
    load_balancer_controller_version: str = LOAD_BALANCER_CONTROLLER_VERSION


class ClusterAddons(pulumi.ComponentResource):
    """metrics-server and the AWS Load Balancer Controller (TargetGroupBinding only)."""

    metrics_server: k8s.helm.v3.Release
    load_balancer_controller: k8s.helm.v3.Release
    load_balancer_controller_role: aws.iam.Role

    def __init__(self, name: str, context: StackContext, args: ClusterAddonsArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:compute:ClusterAddons", name, None, opts)
        conv, region = context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        account_id = pulumi.Output.from_input(context.account_id)

        self.metrics_server = k8s.helm.v3.Release(
            f"{name}-metrics-server",
            name="metrics-server",
            chart=METRICS_SERVER_CHART,
            version=args.metrics_server_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=METRICS_SERVER_REPO),
            namespace=NAMESPACE,
            values=metrics_server_values(),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)),
        )

        role_name = conv.physical_name(name, "load-balancer-controller")
        self.load_balancer_controller_role = aws.iam.Role(
            f"{name}-load-balancer-controller",
            description="AWS Load Balancer Controller, TargetGroupBinding only (Pod Identity)",
            # Only the controller's own service account, in this cluster, may assume it.
            assume_role_policy=pulumi.Output.all(account_id, args.cluster_name).apply(
                lambda v: json.dumps(pod_identity_trust_policy(
                    v[0], cluster_name=v[1], namespace=NAMESPACE,
                    service_account=LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT))),
            tags=conv.tags(role_name),
            opts=child,
        )
        document = pulumi.Output.all(context.partition, account_id, args.cluster_name).apply(
            lambda v: load_balancer_controller_policy(partition=v[0], region=region, account_id=v[1],
                                                      cluster_name=v[2]))
        grant = attach(f"{name}-load-balancer-controller", self.load_balancer_controller_role, document,
                       self.load_balancer_controller_role)
        identity = aws.eks.PodIdentityAssociation(
            f"{name}-load-balancer-controller",
            cluster_name=args.cluster_name,
            namespace=NAMESPACE,
            service_account=LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
            role_arn=self.load_balancer_controller_role.arn,
            region=region,
            tags=conv.tags(role_name),
            opts=child,
        )
        values = pulumi.Output.all(args.cluster_name, args.vpc_id).apply(
            lambda v: load_balancer_controller_values(cluster_name=v[0], region=region, vpc_id=v[1]))
        self.load_balancer_controller = k8s.helm.v3.Release(
            f"{name}-load-balancer-controller",
            name="aws-load-balancer-controller",
            chart=LOAD_BALANCER_CONTROLLER_CHART,
            version=args.load_balancer_controller_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LOAD_BALANCER_CONTROLLER_REPO),
            namespace=NAMESPACE,
            values=values,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                        depends_on=[identity, grant, *args.depends_on]),
        )

        self.register_outputs({"loadBalancerControllerRoleArn": self.load_balancer_controller_role.arn})
