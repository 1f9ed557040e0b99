"""The Kubernetes side of peak pre-warming, as plain manifests (no Pulumi): the ``peak-warming``
namespace, the low-priority headroom (PriorityClass and placeholder Deployment), the CronJobs
that raise and release each event's floors, and the RBAC and network policy that let those jobs
do exactly that and nothing else.

Why CronJobs that patch the services' HPAs, and not KEDA: the service template
(:mod:`components.compute.service`) already owns an ``autoscaling/v2`` HPA per service, tuned for
surges. A KEDA ScaledObject creates and owns an HPA of its own for the same Deployment; two HPAs
on one Deployment fight over ``replicas`` (the documented KEDA limitation), so KEDA would mean
replacing the template's HPA for every service, plus a cluster-wide operator with broad RBAC and
an admission webhook to run and upgrade. A CronJob that sets ``spec.minReplicas`` on the
existing HPA keeps the HPA's surge behaviour (it still scales above the floor), needs only
``patch`` on the named HPAs, and runs nothing between events.

How a one-off instant becomes a cron schedule: Kubernetes cron has no year field, so
``M H D Mon *`` (in ``timeZone: Etc/UTC``) matches that minute of that day *every year*. Each
event has a warm and a release job at the same calendar positions, so a stale pair left a year
later costs one day's extra floor at worst, and never leaves a floor raised; remove past events
from ``retail:peakEvents`` to remove their jobs. ``startingDeadlineSeconds`` lets a job start up
to an hour late (a controller restart at the wrong minute) and not later: a warm-up that would
land after the event began is skipped rather than run pointlessly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.compute.manifests import (
    DNS_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    PART_OF,
    PART_OF_LABEL,
    object_meta,
)
from components.compute.service_manifests import container_security_context, pod_security_context
from components.compute.team_manifests import allow_dns_manifest, default_deny_manifest, namespace_manifest
from components.peaks.plan import EventPlan

#: Where the warming jobs and the placeholder pods run: a namespace of their own, restricted
#: like the teams', so the jobs' API credentials are nowhere near a service's pods.
NAMESPACE = "peak-warming"
JOB_SERVICE_ACCOUNT = "peak-warming"
JOB_LABELS = {NAME_LABEL: "peak-warming-job", PART_OF_LABEL: PART_OF, MANAGED_BY_LABEL: MANAGED_BY}

#: Pinned, and within one minor version of the cluster (kubectl's supported skew). The image's
#: entrypoint is kubectl itself: no shell, so every patch is one container's arguments.
KUBECTL_IMAGE = "registry.k8s.io/kubectl:v1.35.0"
#: The pause container: does nothing, holds its requests. Runs as 65535 (non-root).
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
PAUSE_USER = 65535

# -- headroom ------------------------------------------------------------------------------

PRIORITY_CLASS = "peak-headroom"
#: Below every workload (services run at the default 0): the scheduler evicts a placeholder the
#: moment a real pod needs its room, and the evicted placeholder then asks Karpenter for a new
#: node, so the headroom refills itself during the surge.
PRIORITY_VALUE = -10
PLACEHOLDER = "headroom"
#: The placeholder pods are cut in slices of this size, so a service pod fits in the room one
#: eviction frees (services request at most a vCPU and 2 GiB each) and Karpenter can pack them.
PLACEHOLDER_CPU = 1.0
PLACEHOLDER_MEMORY_GIB = 2.0

# -- jobs --------------------------------------------------------------------------------------

JOB_CPU = "50m"
JOB_MEMORY = "64Mi"
#: A late start within the hour still helps; later than that the event has begun.
STARTING_DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 4
ACTIVE_DEADLINE_SECONDS = 600
TTL_AFTER_FINISHED_SECONDS = 7 * 24 * 3600
CRON_TIMEZONE = "Etc/UTC"
#: CronJob names are at most 52 characters (the controller appends an 11-character suffix).
MAX_CRONJOB_NAME = 52
API_SERVER_PORT = 443
WARM, RELEASE = "warm", "release"


@dataclass(frozen=True)
class HpaTarget:
    """One service's HPA: where it is and its configured floor (restored at release)."""

    service: str
    namespace: str
    hpa_name: str
    baseline_min_replicas: int


def cron_at(moment: datetime) -> str:
    """The cron expression matching ``moment``'s minute (UTC) on that day and month."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone: peak instants are UTC")
    if moment.second or moment.microsecond:
        raise ValueError(f"{moment.isoformat()}: cron schedules have minute precision; round the instant")
    return f"{moment.minute} {moment.hour} {moment.day} {moment.month} *"


def placeholder_replicas(headroom_vcpu: float, headroom_memory_gib: float) -> int:
    """Placeholder pods holding at least the headroom's CPU and memory."""
    if headroom_vcpu < 0 or headroom_memory_gib < 0:
        raise ValueError("headroom cannot be negative")
    return max(math.ceil(headroom_vcpu / PLACEHOLDER_CPU), math.ceil(headroom_memory_gib / PLACEHOLDER_MEMORY_GIB))


def cronjob_name(event: str, phase: str) -> str:
    name = f"{event}-{phase}"
    if len(name) > MAX_CRONJOB_NAME or not DNS_LABEL.match(name):
        raise ValueError(f"peak event {event!r}: CronJob name {name!r} must be a DNS label of at most "
                         f"{MAX_CRONJOB_NAME} characters; shorten the event's name")
    return name


def _quantity_gib(gib: float) -> str:
    return f"{round(gib * 1024)}Mi"


def _quantity_cpu(vcpu: float) -> str:
    return f"{round(vcpu * 1000)}m"


# -- namespace, priority, placeholder ------------------------------------------------------------

def namespace_manifests(environment: str, tags: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The namespace (PSS restricted), default-deny and DNS: the team namespaces' own helpers."""
    return [namespace_manifest(NAMESPACE, environment, tags), default_deny_manifest(NAMESPACE),
            allow_dns_manifest(NAMESPACE)]


def priority_class_manifest() -> dict[str, Any]:
    """Negative, never the default, and never preempting: a placeholder waits rather than evict
    anything, and anything evicts it."""
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": object_meta(PRIORITY_CLASS, labels={MANAGED_BY_LABEL: MANAGED_BY}),
            "value": PRIORITY_VALUE, "globalDefault": False, "preemptionPolicy": "Never",
            "description": "Karpenter headroom for known peaks: evicted first, preempts nothing"}


def placeholder_manifest() -> dict[str, Any]:
    """Pause pods at zero replicas; the warm job scales them to the event's headroom.

    Restricted like the services (non-root, no privilege, read-only root, seccomp), without an
    API token, and spread over zones (softly) so the headroom is where the surge lands.
    """
    labels = {NAME_LABEL: PLACEHOLDER, PART_OF_LABEL: PART_OF, MANAGED_BY_LABEL: MANAGED_BY}
    resources = {"cpu": _quantity_cpu(PLACEHOLDER_CPU), "memory": _quantity_gib(PLACEHOLDER_MEMORY_GIB)}
    pod_context = {**pod_security_context(), "runAsUser": PAUSE_USER, "runAsGroup": PAUSE_USER,
                   "fsGroup": PAUSE_USER}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": object_meta(PLACEHOLDER, NAMESPACE, labels),
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {NAME_LABEL: PLACEHOLDER}},
            "revisionHistoryLimit": 1,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "priorityClassName": PRIORITY_CLASS,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_context,
                    # Evicted on demand: nothing to drain.
                    "terminationGracePeriodSeconds": 0,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {NAME_LABEL: PLACEHOLDER}}}],
                    "containers": [{
                        "name": "pause", "image": PAUSE_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "resources": {"requests": dict(resources), "limits": dict(resources)},
                        "securityContext": container_security_context(),
                    }],
                },
            },
        },
    }


# -- RBAC ----------------------------------------------------------------------------------------

def service_account_manifest() -> dict[str, Any]:
    """The jobs' identity. Its token is mounted (it is the point), in the job pods only."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": object_meta(JOB_SERVICE_ACCOUNT, NAMESPACE, JOB_LABELS),
            "automountServiceAccountToken": False}


def role_manifests(targets: Sequence[HpaTarget]) -> list[dict[str, Any]]:
    """One Role and RoleBinding per namespace: ``patch`` on exactly the HPAs named there (and,
    in the warming namespace, on the placeholder Deployment). No get, list, create or delete:
    ``kubectl patch NAME`` sends a PATCH and nothing else."""
    by_namespace: dict[str, set[str]] = {}
    for target in targets:
        by_namespace.setdefault(target.namespace, set()).add(target.hpa_name)
    documents: list[dict[str, Any]] = []
    for namespace in sorted({*by_namespace, NAMESPACE}):
        rules: list[dict[str, Any]] = []
        if namespace in by_namespace:
            rules.append({"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
                          "resourceNames": sorted(by_namespace[namespace]), "verbs": ["patch"]})
        if namespace == NAMESPACE:
            rules.append({"apiGroups": ["apps"], "resources": ["deployments"],
                          "resourceNames": [PLACEHOLDER], "verbs": ["patch"]})
        documents.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                          "metadata": object_meta("peak-warming", namespace, JOB_LABELS), "rules": rules})
        documents.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                          "metadata": object_meta("peak-warming", namespace, JOB_LABELS),
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": "peak-warming"},
                          "subjects": [{"kind": "ServiceAccount", "name": JOB_SERVICE_ACCOUNT,
                                        "namespace": NAMESPACE}]})
    return documents


def api_egress_manifest(api_server_cidrs: Sequence[str]) -> dict[str, Any]:
    """The job pods may reach the API server (its endpoints' addresses, TLS 443) on top of DNS;
    the placeholder pods stay under the namespace's default-deny."""
    if not api_server_cidrs:
        raise ValueError("api_server_cidrs is empty: the warming jobs could not reach the API server")
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": object_meta("jobs-to-api-server", NAMESPACE, JOB_LABELS),
            "spec": {"podSelector": {"matchLabels": {NAME_LABEL: JOB_LABELS[NAME_LABEL]}},
                     "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": cidr}} for cidr in api_server_cidrs],
                                 "ports": [{"protocol": "TCP", "port": API_SERVER_PORT}]}]}}


# -- the jobs --------------------------------------------------------------------------------

def _patch_container(name: str, image: str, kind: str, object_name: str, namespace: str,
                     patch: Mapping[str, Any]) -> dict[str, Any]:
    resources = {"cpu": JOB_CPU, "memory": JOB_MEMORY}
    return {
        "name": name[:63].rstrip("-"), "image": image, "imagePullPolicy": "IfNotPresent",
        "args": ["patch", kind, object_name, "--namespace", namespace, "--type", "merge",
                 "--field-manager", "peak-warming", "--patch", json.dumps(patch, sort_keys=True)],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": container_security_context(),
    }


def patches(plan: EventPlan, phase: str, targets: Sequence[HpaTarget]) -> dict[str, dict[str, Any]]:
    """What each container of one phase sets: container name -> ``{kind, name, namespace, patch}``.

    Warm: each planned service's HPA floor to its peak minimum (never below its baseline) and the
    placeholder to the headroom's replicas. Release: the baselines and zero placeholders.
    """
    if phase not in (WARM, RELEASE):
        raise ValueError(f"phase must be {WARM} or {RELEASE}")
    known = {t.service: t for t in targets}
    unknown = sorted(set(plan.services) - set(known))
    if unknown:
        raise ValueError(f"peak event {plan.event.name!r} plans services {', '.join(unknown)} "
                         "that have no HPA handle; pass them in PeakWarmingArgs.services")
    result: dict[str, dict[str, Any]] = {}
    for service in sorted(plan.services):
        target = known[service]
        floor = (max(plan.services[service].min_replicas, target.baseline_min_replicas) if phase == WARM
                 else target.baseline_min_replicas)
        result[f"hpa-{service}"] = {"kind": "horizontalpodautoscaler", "name": target.hpa_name,
                                    "namespace": target.namespace, "patch": {"spec": {"minReplicas": floor}}}
    replicas = placeholder_replicas(plan.headroom_vcpu, plan.headroom_memory_gib) if phase == WARM else 0
    result["headroom"] = {"kind": "deployment", "name": PLACEHOLDER, "namespace": NAMESPACE,
                          "patch": {"spec": {"replicas": replicas}}}
    return result


def cronjob_manifest(plan: EventPlan, phase: str, targets: Sequence[HpaTarget],
                     image: str = KUBECTL_IMAGE) -> dict[str, Any]:
    """The CronJob of one phase of one event: one kubectl container per patch, in parallel."""
    moment = plan.warm_at if phase == WARM else plan.release_at
    containers = [_patch_container(name, image, p["kind"], p["name"], p["namespace"], p["patch"])
                  for name, p in patches(plan, phase, targets).items()]
    labels = {**JOB_LABELS, "retail/peak-event": plan.event.name, "retail/peak-phase": phase}
    pod_spec = {
        "serviceAccountName": JOB_SERVICE_ACCOUNT,
        # The one place a token is mounted: these pods call the API server.
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "restartPolicy": "OnFailure",
        "securityContext": pod_security_context(),
        "containers": containers,
    }
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": object_meta(cronjob_name(plan.event.name, phase), NAMESPACE, labels,
                                {"retail/at": moment.isoformat()}),
        "spec": {
            "schedule": cron_at(moment),
            "timeZone": CRON_TIMEZONE,
            "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {
                "backoffLimit": BACKOFF_LIMIT,
                "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
                "ttlSecondsAfterFinished": TTL_AFTER_FINISHED_SECONDS,
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            }},
        },
    }
