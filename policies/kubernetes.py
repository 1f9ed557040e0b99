"""EKS and the workloads on it: private endpoint (EKS.1), supported version (EKS.2), KMS
envelope encryption of secrets (EKS.3), audit logs (EKS.8), NetworkPolicy enforcement by
the vpc-cni add-on, Pod Security Standards "restricted" for every workload the blueprint
renders, and restricted, default-deny namespaces (CIS EKS 4.2.x, 4.3.2).

The Kubernetes resources are read as pulumi-kubernetes hands them over: the manifest's
camelCase fields (``metadata``, ``spec``) as props. Nothing here imports pulumi_kubernetes,
so the pack stays importable without it. The Pod Security Standards checker is
``components.compute.pod_security.pod_security_violations``, a pure function of a pod spec
that the components' tests use too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from components.compute.pod_security import pod_security_violations
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
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

#: Workload kind -> the path from ``spec`` to its pod template (None: the spec is the pod's).
WORKLOAD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("template",),
    "kubernetes:apps/v1:StatefulSet": ("template",),
    "kubernetes:apps/v1:DaemonSet": ("template",),
    "kubernetes:apps/v1:ReplicaSet": ("template",),
    "kubernetes:batch/v1:Job": ("template",),
    "kubernetes:batch/v1:CronJob": ("jobTemplate", "spec", "template"),
    "kubernetes:core/v1:ReplicationController": ("template",),
    "kubernetes:core/v1:Pod": (),
}

VPC_CNI = "vpc-cni"
PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
RESTRICTED = "restricted"


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


# --- Pod Security Standards: restricted -----------------------------------------------------


def pod_template(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod (``{metadata, spec}``) a workload of ``resource_type`` runs, or None."""
    path = WORKLOAD_TEMPLATE_PATHS.get(resource_type)
    if path is None:
        return None
    if not path:
        return props
    node = mapping(props.get("spec"))
    for key in path:
        node = mapping(node.get(key))
    return node


def _pod_security_restricted(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    pod = pod_template(args.resource_type, args.props) or {}
    annotations = mapping(mapping(pod.get("metadata")).get("annotations"))
    problems = pod_security_violations(mapping(pod.get("spec")), annotations)
    if problems:
        kind = args.resource_type.rsplit(":", 1)[-1]
        report_violation(
            f"{kind} {args.name} breaks Pod Security Standards 'restricted' (its namespace "
            "will refuse the pods): " + "; ".join(problems) + ".",
            None,
        )


# --- Namespaces -----------------------------------------------------------------------------


def _namespace_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    labels = mapping(mapping(args.props.get("metadata")).get("labels"))
    level = labels.get(PSS_ENFORCE_LABEL)
    if level != RESTRICTED:
        shown = "not set" if level is None else repr(level)
        report_violation(
            f"namespace {args.name} has {PSS_ENFORCE_LABEL} {shown}, so pods that break the "
            f"restricted profile are admitted; set metadata.labels {{'{PSS_ENFORCE_LABEL}': "
            f"'{RESTRICTED}'}} (with the same value for the audit and warn labels).",
            None,
        )


def _metadata(resource: PolicyResource) -> Mapping[str, Any]:
    return mapping(resource.props.get("metadata"))


def _is_default_deny(policy: PolicyResource) -> bool:
    spec = mapping(policy.props.get("spec"))
    selector = mapping(spec.get("podSelector"))
    if mapping(selector.get("matchLabels")) or sequence(selector.get("matchExpressions")):
        return False
    types = {str(t) for t in sequence(spec.get("policyTypes"))}
    if not {"Ingress", "Egress"} <= types:
        return False
    # A rule without peers or ports allows everything in its direction: not a deny.
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for rule in sequence(spec.get(direction)):
            rule = mapping(rule)
            if not sequence(rule.get(peers)) and not sequence(rule.get("ports")):
                return False
    return True


_DENY_FIX = (
    "add a kubernetes.networking.v1.NetworkPolicy with metadata={'namespace': "
    "namespace.metadata.name} and spec={'pod_selector': {}, 'policy_types': ['Ingress', "
    "'Egress']} (then allow DNS and the service's callers in further policies)"
)


def _namespace_default_deny(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    namespaces = [r for r in args.resources if r.resource_type == NAMESPACE]
    if not namespaces:
        args.not_applicable("the stack creates no namespaces")
    policies = [r for r in args.resources if r.resource_type == NETWORK_POLICY]
    linked = companions_by_target(policies, (NETWORK_POLICY,), "metadata")

    def check(namespace: PolicyResource) -> None:
        name = _metadata(namespace).get("name")
        # Namespace names come from the stack config, so they are known at preview and the
        # name is as good a link as the engine's dependency record.
        found = {p.urn: p for p in linked.get(namespace.urn, [])}
        if name is not None:
            found.update({p.urn: p for p in policies if _metadata(p).get("namespace") == name})
        if not any(_is_default_deny(p) for p in found.values()):
            report_violation(
                f"namespace {name or namespace.name} has no default-deny NetworkPolicy "
                f"(empty pod_selector, policy_types Ingress and Egress), so every pod accepts "
                f"and sends any traffic; {_DENY_FIX}.",
                namespace.urn,
            )

    check_each(namespaces, check)


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
    resource_policy(
        "k8s-pod-security-restricted",
        "PSS restricted: every workload's pod template meets the restricted profile",
        tuple(WORKLOAD_TEMPLATE_PATHS),
        _pod_security_restricted,
    ),
    resource_policy(
        "k8s-namespace-restricted",
        "PSS restricted: every namespace enforces the restricted profile",
        (NAMESPACE,),
        _namespace_restricted,
    ),
    stack_policy(
        "k8s-namespace-default-deny",
        "CIS EKS 4.3.2: every namespace has a default-deny NetworkPolicy",
        _namespace_default_deny,
    ),
]
