"""EKS clusters and their add-ons: private endpoint (EKS.1), supported version (EKS.2), KMS
envelope encryption of secrets (EKS.3), audit logs (EKS.8) and NetworkPolicy enforcement by
the vpc-cni add-on (CIS EKS 4.3.2).

``eks-vpc-cni-network-policy`` is a stack policy: an add-on is linked to its cluster through
its ``clusterName`` input's ``property_dependencies``; a missing add-on is reported on the
cluster, a wrong one on the add-on. The Kubernetes objects on the cluster are checked in
``kubernetes``.
"""

from __future__ import annotations

import json

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from policies._helpers import (
    check_each,
    companions_by_target,
    is_prod,
    mapping,
    names_customer_key,
    resource_policy,
    sequence,
    stack_policy,
)

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"

VPC_CNI = "vpc-cni"


# --- EKS.1 ----------------------------------------------------------------------------------


def _open_cidrs(cidrs: list[str]) -> list[str]:
    return [c for c in cidrs if c.strip().endswith("/0")]


def _endpoint_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    vpc = mapping(args.props.get("vpcConfig"))
    # Missing is public: EKS's default is endpointPublicAccess=true, open to 0.0.0.0/0.
    if vpc.get("endpointPublicAccess") is False:
        return
    cidrs = [str(c) for c in sequence(vpc.get("publicAccessCidrs"))]
    fix = ("set vpc_config endpoint_public_access=False and endpoint_private_access=True "
           "(reach the API through the VPC, a VPN or SSM)")
    if not cidrs or _open_cidrs(cidrs):
        report_violation(
            "EKS API endpoint is public to the whole internet (public_access_cidrs "
            f"{'not set, so 0.0.0.0/0' if not cidrs else ', '.join(_open_cidrs(cidrs))}); {fix}, "
            "or outside prod restrict public_access_cidrs to the admin networks.",
            None,
        )
        return
    if is_prod(args.props):
        # Security Hub flags a public endpoint even when restricted: prod keeps it private.
        report_violation(
            f"prod EKS API endpoint is public (restricted to {', '.join(cidrs)}), which "
            f"Security Hub still fails; {fix}.",
            None,
        )


# --- EKS.2 ----------------------------------------------------------------------------------


def _supported_version(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    version = args.props.get("version")
    supported = ", ".join(SUPPORTED_KUBERNETES_VERSIONS)
    if version is None:
        report_violation(
            "EKS cluster does not pin version, so it gets whatever EKS defaults to and drifts "
            f"out of support unnoticed; set version to one of {supported}.",
            None,
        )
    elif str(version) not in SUPPORTED_KUBERNETES_VERSIONS:
        report_violation(
            f"EKS cluster runs Kubernetes {version}, which is not in standard support; set "
            f"version to one of {supported} (kubernetes.version in the stack config).",
            None,
        )


# --- EKS.3 ----------------------------------------------------------------------------------


def _secrets_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = mapping(args.props.get("encryptionConfig"))
    resources = [str(r) for r in sequence(config.get("resources"))]
    fix = ("set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': "
           "<the secrets key's ARN>}}")
    if "secrets" not in resources:
        report_violation(
            f"EKS cluster does not envelope-encrypt Kubernetes secrets with KMS; {fix}.", None
        )
    elif not names_customer_key(mapping(config.get("provider")), "keyArn"):
        report_violation(
            "EKS secrets encryption names no customer-managed KMS key; " + fix + ".", None
        )


# --- EKS.8 ----------------------------------------------------------------------------------


def _audit_logging(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    types = [str(t) for t in sequence(args.props.get("enabledClusterLogTypes"))]
    if "audit" not in types:
        report_violation(
            "EKS cluster does not send its audit log to CloudWatch Logs; add 'audit' (with "
            "'api' and 'authenticator') to enabled_cluster_log_types.",
            None,
        )


# --- vpc-cni network policy -----------------------------------------------------------------


_CNI_FIX = (
    "configuration_values=json.dumps({'enableNetworkPolicy': 'true'})"
)


def _enables_network_policy(addon: PolicyResource) -> bool:
    raw = addon.props.get("configurationValues")
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return False
    return str(mapping(values).get("enableNetworkPolicy", "")).lower() == "true"


def _vpc_cni_network_policy(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    clusters = [r for r in args.resources if r.resource_type == CLUSTER]
    if not clusters:
        args.not_applicable("the stack has no EKS clusters")
    addons = companions_by_target(args.resources, (ADDON,), "clusterName")

    def check(cluster: PolicyResource) -> None:
        cnis = [a for a in addons.get(cluster.urn, []) if a.props.get("addonName") == VPC_CNI]
        if not cnis:
            report_violation(
                f"EKS cluster {cluster.name} has no vpc-cni add-on managed by this stack, so "
                "NetworkPolicies are stored but never enforced; add an aws.eks.Addon with "
                f"cluster_name=cluster.name, addon_name='{VPC_CNI}' and {_CNI_FIX}.",
                cluster.urn,
            )
        for cni in cnis:
            if not _enables_network_policy(cni):
                report_violation(
                    f"vpc-cni add-on of EKS cluster {cluster.name} does not enable network "
                    "policy, so NetworkPolicies are not enforced (default-deny does nothing); "
                    f"set {_CNI_FIX}.",
                    cni.urn,
                )

    check_each(clusters, check)


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "eks-endpoint-not-public",
        "EKS.1: the EKS API endpoint is private (outside prod: public only to listed networks)",
        (CLUSTER,),
        _endpoint_not_public,
    ),
    resource_policy(
        "eks-supported-version",
        "EKS.2: EKS clusters run a Kubernetes version in standard support",
        (CLUSTER,),
        _supported_version,
    ),
    resource_policy(
        "eks-secrets-encrypted",
        "EKS.3: Kubernetes secrets are envelope-encrypted with a customer-managed KMS key",
        (CLUSTER,),
        _secrets_encrypted,
    ),
    resource_policy(
        "eks-audit-logging",
        "EKS.8: EKS clusters send their audit log to CloudWatch Logs",
        (CLUSTER,),
        _audit_logging,
    ),
    stack_policy(
        "eks-vpc-cni-network-policy",
        "CIS EKS 4.3.2: every EKS cluster's vpc-cni add-on enforces NetworkPolicies",
        _vpc_cni_network_policy,
    ),
]
