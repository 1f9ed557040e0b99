"""Team namespaces: Pod Security "restricted", default-deny networking, a quota each.

Every team in ``retail:kubernetes.teams`` gets a namespace that Pod Security Admission holds
to the restricted profile (enforce, audit and warn), a NetworkPolicy that denies all traffic
in and out (CIS EKS 4.3.2) with DNS to kube-dns as the one exception, a ResourceQuota from the
team's config and a LimitRange whose defaults let a container that names no resources still
fit the quota. The manifests come from :mod:`components.compute.manifests`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.compute.settings import TeamConfig
from components.compute.team_manifests import team_manifests

_CLASSES: dict[str, Any] = {
    "Namespace": k8s.core.v1.Namespace,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "ResourceQuota": k8s.core.v1.ResourceQuota,
    "LimitRange": k8s.core.v1.LimitRange,
}


@dataclass(frozen=True)
class TeamNamespacesArgs:
    teams: Sequence[TeamConfig]
    """One namespace per team; the team's name is the namespace's."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TeamNamespaces(pulumi.ComponentResource):
    """The teams' namespaces and the guard rails every workload in them lives under."""

    namespaces: dict[str, k8s.core.v1.Namespace]
    """Namespace objects by team name: depend on them before putting workloads in."""
    network_policies: dict[str, list[k8s.networking.v1.NetworkPolicy]]
    quotas: dict[str, k8s.core.v1.ResourceQuota]
    limit_ranges: dict[str, k8s.core.v1.LimitRange]
    manifests: dict[str, list[dict[str, Any]]]
    """The manifests registered, by team (plain dicts, for checks and reports)."""

    def __init__(self, name: str, context: StackContext, args: TeamNamespacesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:compute:TeamNamespaces", name, None, opts)
        conv = context.conventions
        self.namespaces, self.network_policies, self.quotas, self.limit_ranges = {}, {}, {}, {}
        self.manifests = {}
        for team in args.teams:
            manifests = team_manifests(team.name, conv.environment, team.cpu_quota, team.memory_quota,
                                       team.max_pods, conv.standard_tags)
            self.manifests[team.name] = manifests
            namespace_doc, *namespaced = manifests
            namespace = k8s.core.v1.Namespace(
                f"{name}-{team.name}", metadata=namespace_doc["metadata"],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
            self.namespaces[team.name] = namespace
            # Everything else waits for the namespace: it cannot be created before it.
            child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])
            self.network_policies[team.name] = []
            for doc in namespaced:
                resource = _CLASSES[doc["kind"]](f"{name}-{team.name}-{doc['metadata']['name']}",
                                                 metadata=doc["metadata"], spec=doc["spec"], opts=child)
                if doc["kind"] == "NetworkPolicy":
                    self.network_policies[team.name].append(resource)
                elif doc["kind"] == "ResourceQuota":
                    self.quotas[team.name] = resource
                else:
                    self.limit_ranges[team.name] = resource
        self.register_outputs({"namespaces": {team: ns.metadata.name for team, ns in self.namespaces.items()}})
