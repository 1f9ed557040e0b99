"""Who may assume what in the cluster: the trust and permission documents of the cluster,
node and workload roles, as pure functions the tests and moto load unchanged.

Workloads get AWS credentials through EKS Pod Identity only; the nodes' instance-profile
role carries just what the kubelet and vpc-cni need.
"""

from __future__ import annotations

from typing import Any

from components.common.grants import kms_via_service, policy_document, service_trust_policy, statement

#: The control plane's role. AmazonEKSVPCResourceController lets EKS's VPC resource controller
#: attach trunk and branch network interfaces: security groups for pods (a service that declares
#: the database or the cache carries its own group) depend on it.
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController")
#: The node role: join the cluster, pull images, and AmazonEKS_CNI_Policy because vpc-cni's
#: ``aws-node`` DaemonSet runs with the node's credentials (it attaches ENIs and addresses
#: for pods before any pod, the Pod Identity agent included, can run).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy")
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
CLUSTER_ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"

#: Key operations the EBS CSI driver needs to create and attach volumes encrypted with our key:
#: EC2 asks for a grant on the driver's behalf, then uses the key through that grant.
EBS_KMS_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
EBS_KMS_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def access_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def cluster_trust_policy(account_id: str) -> dict[str, Any]:
    return service_trust_policy("eks.amazonaws.com", account_id, ("sts:AssumeRole", "sts:TagSession"))


def node_trust_policy() -> dict[str, Any]:
    """EC2 instances (the nodes) assume the node role through their instance profile; EC2
    sets no source account for instance profiles, so there is no condition to add."""
    return service_trust_policy("ec2.amazonaws.com", None)


def pod_identity_trust_policy(account_id: str, *, cluster_name: str | None = None, namespace: str | None = None,
                              service_account: str | None = None) -> dict[str, Any]:
    """EKS Pod Identity: the agent assumes the role for one service account and tags the
    session with the pod's namespace, service account and cluster (hence sts:TagSession).

    With the cluster, namespace and service account named, the session's request tags must
    match them: an association made for another service, or in another cluster, cannot borrow
    the role.
    """
    scope = {"aws:RequestTag/eks-cluster-name": cluster_name, "aws:RequestTag/kubernetes-namespace": namespace,
             "aws:RequestTag/kubernetes-service-account": service_account}
    if not any(scope.values()):
        return service_trust_policy("pods.eks.amazonaws.com", account_id, ("sts:AssumeRole", "sts:TagSession"))
    if not all(scope.values()):
        raise ValueError("name the cluster, the namespace and the service account together, or none of them")
    return service_trust_policy("pods.eks.amazonaws.com", account_id, ("sts:AssumeRole", "sts:TagSession"),
                                sid="EksPodIdentity", string_equals={k: str(v) for k, v in scope.items()})


def ebs_csi_kms_policy(data_key_arn: str, region: str) -> dict[str, Any]:
    """Use of the data key by the EBS CSI driver, only through EC2 and only for AWS resources."""
    return policy_document(
        kms_via_service("UseDataKeyForVolumes", data_key_arn, EBS_KMS_ACTIONS, "ec2", region),
        statement("GrantDataKeyToEbsOnly", EBS_KMS_GRANT_ACTIONS, [data_key_arn], condition={
            "Bool": {"kms:GrantIsForAWSResource": "true"},
            "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
        }),
    )
