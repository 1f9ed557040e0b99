"""Kubernetes manifests as plain dicts: labels, metadata and the pieces every object shares.

Every object the ``TeamNamespaces`` and ``RetailService`` components register is built by a
pure function that returns the manifest (``apiVersion``, ``kind``, ``metadata``, ``spec``) in
the API's own camelCase form: team namespaces in ``team_manifests.py``, services in
``service_manifests.py``. The components hand the same dicts to the typed pulumi-kubernetes
classes, the tests validate them against the Kubernetes JSON schemas of the cluster's
version, and the tests and the policy pack hold every pod to Pod Security Standards
restricted with :func:`components.compute.pod_security.pod_security_violations`. These
modules import neither Pulumi nor the AWS SDK, so all three load them cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# -- labels ----------------------------------------------------------------------------------

NAME_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
VERSION_LABEL = "app.kubernetes.io/version"
TEAM_LABEL = "retail/team"
ENVIRONMENT_LABEL = "retail/environment"
PART_OF = "retail"
MANAGED_BY = "pulumi"
#: Set by the API server on every namespace (1.21+): the only namespace label nobody can forge.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

#: Pod Security Admission: enforce rejects, audit records, warn tells the client; ``latest``
#: follows the cluster's version so a new control applies as soon as the cluster knows it.
PSS_LEVEL = "restricted"
PSS_VERSION = "latest"
PSS_MODES = ("enforce", "audit", "warn")

# -- network policy --------------------------------------------------------------------------

DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53

DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def object_meta(name: str, namespace: str | None = None, labels: Mapping[str, str] | None = None,
          annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def label_value(value: str) -> str:
    """``value`` as a valid label value: at most 63 of ``[A-Za-z0-9._-]``, alphanumeric at both ends."""
    cleaned = _LABEL_VALUE_UNSAFE.sub("-", value)[:63].strip("._-")
    return cleaned


def image_version(image: str) -> str:
    """The version label of an image: its tag, or ``sha256-<12 hex>`` for a digest."""
    if "@sha256:" in image:
        return "sha256-" + image.rsplit("@sha256:", 1)[1][:12]
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        raise ValueError(f"image {image!r} is not pinned by tag or digest")
    return label_value(last.rsplit(":", 1)[1])



# -- Pod Security Standards: restricted ------------------------------------------------------
# The checker itself is components/compute/pod_security.py (one for the tests and the pack).


def pod_spec_of(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside a workload manifest (Pod, Deployment, StatefulSet, DaemonSet,
    ReplicaSet, Job, CronJob), or None for anything that runs no pods."""
    kind, spec = manifest.get("kind"), manifest.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"):
        return (spec.get("template") or {}).get("spec")
    return None
