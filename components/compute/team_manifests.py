"""The manifests of a team namespace: restricted Pod Security, default-deny with DNS allowed,
a quota and default container limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.compute.manifests import (
    DNS_NAMESPACE,
    DNS_POD_LABELS,
    DNS_PORT,
    ENVIRONMENT_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    NAMESPACE_NAME_LABEL,
    PSS_LEVEL,
    PSS_MODES,
    PSS_VERSION,
    TEAM_LABEL,
    label_value,
    object_meta,
)

# -- team namespaces ---------------------------------------------------------------------------

def namespace_labels(team: str, environment: str) -> dict[str, str]:
    labels = {f"pod-security.kubernetes.io/{mode}": PSS_LEVEL for mode in PSS_MODES}
    labels.update({f"pod-security.kubernetes.io/{mode}-version": PSS_VERSION for mode in PSS_MODES})
    labels.update({MANAGED_BY_LABEL: MANAGED_BY, TEAM_LABEL: team, ENVIRONMENT_LABEL: label_value(environment)})
    return labels


def namespace_manifest(team: str, environment: str, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The team's namespace, restricted by Pod Security Admission. The standard tags travel as
    annotations (``retail/<tag>``): an owner such as ``shop@example.com`` is not a valid label."""
    annotations = {f"retail/{key}": value for key, value in sorted((tags or {}).items())}
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": object_meta(team, labels=namespace_labels(team, environment), annotations=annotations)}


def default_deny_manifest(namespace: str) -> dict[str, Any]:
    """Nothing in, nothing out, for every pod of the namespace (CIS EKS 4.3.2, PCI DSS 1.3)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": object_meta("default-deny", namespace, {MANAGED_BY_LABEL: MANAGED_BY}),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


def allow_dns_manifest(namespace: str) -> dict[str, Any]:
    """Egress to the cluster DNS only: kube-dns pods in kube-system, UDP and TCP 53."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": object_meta("allow-dns", namespace, {MANAGED_BY_LABEL: MANAGED_BY}),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
                            "podSelector": {"matchLabels": dict(DNS_POD_LABELS)}}],
                    "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
                }],
            }}


def resource_quota_manifest(namespace: str, cpu: str, memory: str, pods: int) -> dict[str, Any]:
    """The team's ceiling. Limits equal requests: services run with limit = request, so the
    limit ceiling is the request ceiling."""
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": object_meta("quota", namespace, {MANAGED_BY_LABEL: MANAGED_BY}),
            "spec": {"hard": {"requests.cpu": cpu, "requests.memory": memory,
                              "limits.cpu": cpu, "limits.memory": memory, "pods": str(pods)}}}


#: Defaults for a container that says nothing (a debug pod, a one-off job): small, and with
#: limits, so that the quota's limits.* can admit it at all.
LIMIT_RANGE_DEFAULT = {"cpu": "500m", "memory": "512Mi"}
LIMIT_RANGE_DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}


def limit_range_manifest(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "LimitRange",
            "metadata": object_meta("defaults", namespace, {MANAGED_BY_LABEL: MANAGED_BY}),
            "spec": {"limits": [{"type": "Container", "default": dict(LIMIT_RANGE_DEFAULT),
                                 "defaultRequest": dict(LIMIT_RANGE_DEFAULT_REQUEST)}]}}


def team_manifests(team: str, environment: str, cpu_quota: str, memory_quota: str, max_pods: int,
                   tags: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every object of one team's namespace, namespace first."""
    return [
        namespace_manifest(team, environment, tags),
        default_deny_manifest(team),
        allow_dns_manifest(team),
        resource_quota_manifest(team, cpu_quota, memory_quota, max_pods),
        limit_range_manifest(team),
    ]
