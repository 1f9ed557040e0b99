"""Kubernetes objects on the cluster: Pod Security Standards "restricted" for every workload
the blueprint renders, and restricted, default-deny namespaces (CIS EKS 4.2.x, 4.3.2).

The Kubernetes resources are read as pulumi-kubernetes hands them over: the manifest's
camelCase fields (``metadata``, ``spec``) as props. Nothing here imports pulumi_kubernetes,
so the pack stays importable without it. The Pod Security Standards checker is
``components.compute.pod_security.pod_security_violations``, a pure function of a pod spec
that the components' tests use too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.compute.pod_security import pod_security_violations
from policies._helpers import (
    check_each,
    companions_by_target,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

#: Workload kind -> the path from ``spec`` to its pod template (``()``: the spec is the pod's).
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

PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
RESTRICTED = "restricted"


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
