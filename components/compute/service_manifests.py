"""The manifests of a retail service: ServiceAccount, Deployment, Service, HPA, PDB, ingress
and egress NetworkPolicies and the TargetGroupBinding, hardened by default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from components.compute.manifests import (
    DNS_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    NAMESPACE_NAME_LABEL,
    PART_OF,
    PART_OF_LABEL,
    VERSION_LABEL,
    image_version,
    object_meta,
)

# -- pods --------------------------------------------------------------------------------------

#: A fixed, non-root identity (PSS restricted: runAsNonRoot, runAsUser non-zero). Images must
#: not depend on running as the user their Dockerfile names.
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001
FS_GROUP = 10001
CONTAINER_NAME = "app"
PORT_NAME = "http"
SERVICE_PORT = 80
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
TMP_SIZE_LIMIT = "256Mi"
#: Secrets are files under here (CIS EKS 4.4.1), one directory per Secret, read-only.
SECRETS_MOUNT_ROOT = "/var/run/secrets/retail"
#: 0440: owner and group (fsGroup) read, nobody writes.
SECRET_FILE_MODE = 0o440
#: Old ReplicaSets kept for ``kubectl rollout undo``; the rest are noise in etcd.
REVISION_HISTORY_LIMIT = 5
PROGRESS_DEADLINE_SECONDS = 600
#: On termination the pod first sleeps: the ALB (IP targets) and the endpoints take a few
#: seconds to stop sending to it, and requests in flight must not meet a closed socket.
PRE_STOP_SLEEP_SECONDS = 15
#: The sleep plus the application's own graceful shutdown.
TERMINATION_GRACE_PERIOD_SECONDS = 45
#: Never below capacity during a rollout (a deploy on Black Friday must not cost a pod);
#: a quarter more pods while it runs.
MAX_UNAVAILABLE = 0
MAX_SURGE = "25%"

# -- autoscaling --------------------------------------------------------------------------------

REQUESTS_PER_SECOND_METRIC = "http_requests_per_second"
#: Surges arrive in seconds (a campaign e-mail, midnight on Black Friday): scale up at once,
#: doubling or adding ten pods every 15 s, whichever is more. Traffic leaves in waves: wait
#: five minutes and shed at most a tenth a minute, so the next wave finds the pods still there.
SCALE_UP_STABILIZATION_SECONDS = 0
SCALE_UP_PERCENT = 100
SCALE_UP_PODS = 10
SCALE_UP_PERIOD_SECONDS = 15
SCALE_DOWN_STABILIZATION_SECONDS = 300
SCALE_DOWN_PERCENT = 10
SCALE_DOWN_PERIOD_SECONDS = 60
#: With several replicas, half must stay up through voluntary disruptions (drains,
#: consolidation, upgrades).
MULTI_REPLICA_MIN_AVAILABLE = "50%"

# -- network policy --------------------------------------------------------------------------

#: The EKS Pod Identity agent answers credential requests on the node at this link-local
#: address; a pod with default-deny egress needs it explicitly.
POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
POD_IDENTITY_AGENT_PORT = 80
#: Reasoned exception: AWS APIs (STS, DynamoDB and S3 through gateway endpoints, Secrets
#: Manager, CloudWatch) answer on public prefixes a NetworkPolicy cannot name. Egress is
#: limited to TLS on 443; which hosts beyond AWS are reachable is for the VPC's egress controls
#: (NAT, Network Firewall), not for the pod network.
AWS_API_CIDR = "0.0.0.0/0"
AWS_API_PORT = 443
AWS_API_EGRESS_REASON = ("AWS APIs answer on public prefix lists that a NetworkPolicy cannot name; "
                         "egress is TLS on 443 only")

# -- target group binding (AWS Load Balancer Controller) -------------------------------------

TARGET_GROUP_BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"
TARGET_GROUP_BINDING_KIND = "TargetGroupBinding"

# -- security groups for pods (EKS VPC resource controller) ------------------------------------

SECURITY_GROUP_POLICY_API_VERSION = "vpcresources.k8s.aws/v1beta1"
SECURITY_GROUP_POLICY_KIND = "SecurityGroupPolicy"
#: EC2 allows five security groups per network interface unless the quota is raised.
MAX_GROUPS_PER_INTERFACE = 5


# -- retail services ---------------------------------------------------------------------------

def selector_labels(service: str) -> dict[str, str]:
    """The labels a Deployment selects its pods by: immutable, so only the name."""
    return {NAME_LABEL: service}


def service_labels(service: str, image: str) -> dict[str, str]:
    return {NAME_LABEL: service, PART_OF_LABEL: PART_OF, MANAGED_BY_LABEL: MANAGED_BY,
            VERSION_LABEL: image_version(image)}


def service_account_manifest(service: str, namespace: str, image: str) -> dict[str, Any]:
    """The workload's identity. No API token is mounted: the services never call the
    Kubernetes API, and EKS Pod Identity brings its own projected token (audience
    ``pods.eks.amazonaws.com``) in a separate volume that does not depend on automounting."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": object_meta(service, namespace, service_labels(service, image)),
            "automountServiceAccountToken": False}


def _http_probe(path: str, *, period: int, failures: int, timeout: int = 2) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": PORT_NAME, "scheme": "HTTP"}, "periodSeconds": period,
            "timeoutSeconds": timeout, "failureThreshold": failures}


def container_security_context() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def pod_security_context() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_GROUP, "fsGroup": FS_GROUP,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}


def topology_spread(service: str, replicas: int, zone_count: int) -> list[dict[str, Any]]:
    """Spread over zones, then over nodes.

    Zones are a hard rule once there is more than one replica and more than one zone: a lost
    AZ must never take more than its share. ``nodeTaintsPolicy: Honor`` leaves tainted nodes
    (an unreachable AZ's ``NotReady`` nodes, the system nodes) out of the count, so a dead zone
    with no pods cannot pin the global minimum at zero and block scale-out in the live ones.
    A single replica cannot be spread and must not stay Pending for it (dev). Nodes are a soft
    rule: Karpenter adds nodes anyway, and a surge must not wait on it.
    """
    selector = {"matchLabels": selector_labels(service)}
    hard = replicas > 1 and zone_count > 1
    return [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
         "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
         "labelSelector": selector, "nodeTaintsPolicy": "Honor"},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": selector},
    ]


#: Keys of a service's database ConfigMap (``database_config_manifest``): where it connects and
#: as whom. libpq reads the PG* names itself; ``sslrootcert=system`` (libpq 16+) trusts the
#: Amazon Trust Services roots the proxy's certificate chains to, so ``verify-full`` checks it.
DATABASE_CONFIG_KEYS = ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "PGSSLMODE",
                        "PGSSLROOTCERT")


def database_config_name(service: str) -> str:
    """The ConfigMap a database client's pods read its endpoint from."""
    return f"{service}-database"


def database_config_manifest(*, service: str, namespace: str, image: str, host: str, port: int, database: str,
                             user: str) -> dict[str, Any]:
    """Where the service's pods connect (the proxy's endpoint when there is one, else the
    writer's), the database and the IAM-authenticated user; TLS with a verified certificate.

    A ConfigMap, not the Deployment's ``env``: the endpoint is known only once the database
    (built after the services, since it admits their security groups) exists.
    """
    data = {"DATABASE_HOST": host, "DATABASE_PORT": str(port), "DATABASE_NAME": database, "DATABASE_USER": user,
            "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "system"}
    assert tuple(data) == DATABASE_CONFIG_KEYS
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": object_meta(database_config_name(service), namespace, service_labels(service, image)),
            "data": data}


def secret_volume_name(secret: str) -> str:
    return f"secret-{secret}"[:63].rstrip("-.")


def deployment_manifest(*, service: str, namespace: str, image: str, port: int, cpu: str, memory: str,
                        min_replicas: int, zone_count: int, env: Mapping[str, str] | None = None,
                        secrets: Sequence[str] = (), database_config: str | None = None) -> dict[str, Any]:
    """The service's pods, PSS restricted. ``database_config`` names the ConfigMap of
    :func:`database_config_manifest`, whose keys become the container's environment.

    ``replicas`` is left out: the HPA owns it, and a ``pulumi up`` during a peak must not
    reset 150 pods to the minimum. Requests equal limits (Guaranteed QoS: last to be evicted
    under node pressure; the HPA scales out long before the CPU limit throttles).
    """
    labels = service_labels(service, image)
    resources = {"cpu": cpu, "memory": memory}
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}]
    for secret in secrets:
        volume = secret_volume_name(secret)
        mounts.append({"name": volume, "mountPath": f"{SECRETS_MOUNT_ROOT}/{secret}", "readOnly": True})
        volumes.append({"name": volume, "secret": {"secretName": secret, "defaultMode": SECRET_FILE_MODE}})
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": container_security_context(),
        "startupProbe": _http_probe(LIVENESS_PATH, period=5, failures=30),
        "livenessProbe": _http_probe(LIVENESS_PATH, period=10, failures=3),
        "readinessProbe": _http_probe(READINESS_PATH, period=5, failures=2),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SLEEP_SECONDS}}},
        "volumeMounts": mounts,
    }
    if env:
        container["env"] = [{"name": key, "value": value} for key, value in sorted(env.items())]
    if database_config is not None:
        # Not optional: a pod that started without the endpoint would fail on its first
        # query; the kubelet retries until the ConfigMap exists instead.
        container["envFrom"] = [{"configMapRef": {"name": database_config, "optional": False}}]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": object_meta(service, namespace, labels),
        "spec": {
            "selector": {"matchLabels": selector_labels(service)},
            "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": MAX_UNAVAILABLE, "maxSurge": MAX_SURGE}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": service,
                    "automountServiceAccountToken": False,
                    # Service links would put every Service of the namespace into env: noise,
                    # and a startup cost that grows with the namespace.
                    "enableServiceLinks": False,
                    "securityContext": pod_security_context(),
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_PERIOD_SECONDS,
                    "topologySpreadConstraints": topology_spread(service, min_replicas, zone_count),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service_manifest(service: str, namespace: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": object_meta(service, namespace, service_labels(service, image)),
            "spec": {"type": "ClusterIP", "selector": selector_labels(service),
                     "ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME,
                                "protocol": "TCP"}]}}


def hpa_manifest(*, service: str, namespace: str, image: str, min_replicas: int, max_replicas: int,
                 target_cpu: int, requests_per_second_target: int | None = None) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target_cpu}}}]
    if requests_per_second_target is not None:
        metrics.append({"type": "Pods", "pods": {
            "metric": {"name": REQUESTS_PER_SECOND_METRIC},
            "target": {"type": "AverageValue", "averageValue": str(requests_per_second_target)}}})
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": object_meta(service, namespace, service_labels(service, image)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": metrics,
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": SCALE_UP_STABILIZATION_SECONDS, "selectPolicy": "Max",
                            "policies": [
                                {"type": "Percent", "value": SCALE_UP_PERCENT,
                                 "periodSeconds": SCALE_UP_PERIOD_SECONDS},
                                {"type": "Pods", "value": SCALE_UP_PODS, "periodSeconds": SCALE_UP_PERIOD_SECONDS},
                            ]},
                "scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_STABILIZATION_SECONDS,
                              "policies": [{"type": "Percent", "value": SCALE_DOWN_PERCENT,
                                            "periodSeconds": SCALE_DOWN_PERIOD_SECONDS}]},
            },
        },
    }


def pdb_manifest(service: str, namespace: str, image: str, min_replicas: int) -> dict[str, Any]:
    """Half the pods stay through a drain when there are several. A single replica gets
    ``maxUnavailable: 1``: ``minAvailable: 1`` would forbid evicting it at all, and every node
    drain, Karpenter consolidation and node upgrade would hang on it; dev accepts the seconds a
    reschedule takes. Unhealthy pods may always be evicted, so a crash-looping pod never blocks
    a drain either."""
    spec: dict[str, Any] = {"selector": {"matchLabels": selector_labels(service)},
                            "unhealthyPodEvictionPolicy": "AlwaysAllow"}
    if min_replicas > 1:
        spec["minAvailable"] = MULTI_REPLICA_MIN_AVAILABLE
    else:
        spec["maxUnavailable"] = 1
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": object_meta(service, namespace, service_labels(service, image)), "spec": spec}


def _namespace_selector(namespace: str) -> dict[str, Any]:
    return {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}


def ingress_policy_manifest(*, service: str, namespace: str, image: str, port: int,
                            callers: Sequence[str], caller_namespaces: Mapping[str, str],
                            alb_source_cidrs: Sequence[str] = ()) -> dict[str, Any]:
    """Who may call the service: pods of the declared callers, each in its own namespace, and
    (when exposed) the ALB. In IP mode the ALB connects to pod IPs from its own ENIs in the
    public subnets; a NetworkPolicy cannot name a security group, so it admits those subnets'
    CIDRs (not the whole VPC), on the container port only. Without callers and ALB, the policy
    admits nobody."""
    unknown = sorted(set(callers) - set(caller_namespaces))
    if unknown:
        raise ValueError(f"{service}: no namespace known for callers {', '.join(unknown)}")
    by_namespace: dict[str, list[str]] = {}
    for caller in sorted(set(callers)):
        by_namespace.setdefault(caller_namespaces[caller], []).append(caller)
    ports = [{"protocol": "TCP", "port": port}]
    rules: list[dict[str, Any]] = [
        {"from": [{"namespaceSelector": _namespace_selector(ns),
                   "podSelector": {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": names}]}}],
         "ports": ports}
        for ns, names in sorted(by_namespace.items())
    ]
    if alb_source_cidrs:
        rules.append({"from": [{"ipBlock": {"cidr": cidr}} for cidr in alb_source_cidrs], "ports": ports})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": object_meta(f"{service}-ingress", namespace, service_labels(service, image)),
            "spec": {"podSelector": {"matchLabels": selector_labels(service)}, "policyTypes": ["Ingress"],
                     "ingress": rules}}


def egress_policy_manifest(*, service: str, namespace: str, image: str,
                           callees: Sequence[tuple[str, str, int]] = (), data_cidrs: Sequence[str] = (),
                           data_ports: Sequence[int] = ()) -> dict[str, Any]:
    """Where the service may go, on top of the namespace's DNS allowance: the services it
    calls (``(name, namespace, port)``), the Pod Identity agent, AWS APIs over TLS, and the
    data tier's CIDRs on the data stores' ports."""
    rules: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": _namespace_selector(ns), "podSelector": {"matchLabels": selector_labels(name)}}],
         "ports": [{"protocol": "TCP", "port": port}]}
        for name, ns, port in sorted(set(callees))
    ]
    rules.append({"to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT_CIDR}}],
                  "ports": [{"protocol": "TCP", "port": POD_IDENTITY_AGENT_PORT}]})
    rules.append({"to": [{"ipBlock": {"cidr": AWS_API_CIDR}}], "ports": [{"protocol": "TCP", "port": AWS_API_PORT}]})
    if data_cidrs and data_ports:
        rules.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in data_cidrs],
                      "ports": [{"protocol": "TCP", "port": p} for p in sorted(set(data_ports))]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": object_meta(f"{service}-egress", namespace, service_labels(service, image)),
            "spec": {"podSelector": {"matchLabels": selector_labels(service)}, "policyTypes": ["Egress"],
                     "egress": rules}}


def target_group_binding_manifest(*, service: str, namespace: str, image: str, target_group_arn: str,
                                  alb_security_group_id: str | None, port: int,
                                  name: str | None = None) -> dict[str, Any]:
    """Registers the Service's pod IPs in a load balancer's target group (AWS Load Balancer
    Controller): the ALB's, or (``name`` ``<service>-partners``) the partner NLB's. With a
    security group, the controller also opens the pods' port to it."""
    spec: dict[str, Any] = {
        "serviceRef": {"name": service, "port": SERVICE_PORT},
        "targetGroupARN": target_group_arn,
        "targetType": "ip",
    }
    if alb_security_group_id is not None:
        spec["networking"] = {"ingress": [{
            "from": [{"securityGroup": {"groupID": alb_security_group_id}}],
            "ports": [{"protocol": "TCP", "port": port}],
        }]}
    return {"apiVersion": TARGET_GROUP_BINDING_API_VERSION, "kind": TARGET_GROUP_BINDING_KIND,
            "metadata": object_meta(name or service, namespace, service_labels(service, image)), "spec": spec}


_TGB_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[\w-]+/[0-9a-f]+$")


def _custom_object_problems(manifest: Mapping[str, Any], api_version: str, kind: str) -> list[str]:
    """What every namespaced custom object needs: its apiVersion and kind, nothing else at the
    top level, a DNS-label name and a namespace."""
    problems: list[str] = []
    if manifest.get("apiVersion") != api_version:
        problems.append(f"apiVersion must be {api_version}")
    if manifest.get("kind") != kind:
        problems.append(f"kind must be {kind}")
    extra = set(manifest) - {"apiVersion", "kind", "metadata", "spec"}
    if extra:
        problems.append(f"unknown top-level fields: {', '.join(sorted(extra))}")
    meta = manifest.get("metadata") or {}
    if not (isinstance(meta.get("name"), str) and DNS_LABEL.match(meta["name"])):
        problems.append("metadata.name must be a DNS label")
    if not isinstance(meta.get("namespace"), str):
        problems.append("metadata.namespace is required")
    return problems


def target_group_binding_problems(manifest: Mapping[str, Any]) -> list[str]:
    """The TargetGroupBinding CRD has no upstream JSON schema: its shape, checked by hand
    against the v1beta1 CRD of the AWS Load Balancer Controller (the fields used here)."""
    problems: list[str] = []
    problems += _custom_object_problems(manifest, TARGET_GROUP_BINDING_API_VERSION, TARGET_GROUP_BINDING_KIND)
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [*problems, "spec is required"]
    extra = set(spec) - {"serviceRef", "targetGroupARN", "targetGroupName", "targetType", "networking",
                         "nodeSelector", "ipAddressType", "vpcID", "multiClusterTargetGroup"}
    if extra:
        problems.append(f"spec: unknown fields {', '.join(sorted(extra))}")
    ref = spec.get("serviceRef")
    if not (isinstance(ref, Mapping) and isinstance(ref.get("name"), str)
            and isinstance(ref.get("port"), (int, str)) and not isinstance(ref.get("port"), bool)
            and set(ref) <= {"name", "port"}):
        problems.append("spec.serviceRef needs name (string) and port (int or string), nothing else")
    arn = spec.get("targetGroupARN")
    if not (isinstance(arn, str) and _TGB_ARN.match(arn)):
        problems.append(f"spec.targetGroupARN {arn!r} is not a target group ARN")
    if spec.get("targetType") not in ("ip", "instance"):
        problems.append("spec.targetType must be ip or instance")
    networking = spec.get("networking")
    if networking is not None:
        rules = networking.get("ingress") if isinstance(networking, Mapping) else None
        if not isinstance(rules, list) or set(networking) - {"ingress"}:
            problems.append("spec.networking must hold an ingress list only")
        else:
            for i, rule in enumerate(rules):
                peers, ports = rule.get("from"), rule.get("ports")
                if not isinstance(peers, list) or not all(
                        isinstance(p, Mapping) and len(p) == 1 and (
                            (isinstance(p.get("securityGroup"), Mapping)
                             and isinstance(p["securityGroup"].get("groupID"), str))
                            or (isinstance(p.get("ipBlock"), Mapping) and isinstance(p["ipBlock"].get("cidr"), str)))
                        for p in peers):
                    problems.append(f"spec.networking.ingress[{i}].from: each peer is a securityGroup.groupID "
                                    "or an ipBlock.cidr")
                if not isinstance(ports, list) or not all(
                        isinstance(p, Mapping) and p.get("protocol", "TCP") in ("TCP", "UDP")
                        and isinstance(p.get("port", 0), (int, str)) for p in ports):
                    problems.append(f"spec.networking.ingress[{i}].ports: protocol TCP/UDP and an int or named port")
    return problems


def security_group_policy_manifest(*, service: str, namespace: str, image: str,
                                   group_ids: Sequence[str]) -> dict[str, Any]:
    """The service's pods get their own network interface carrying ``group_ids`` (and only
    those: list the node's group too, or the pods lose what it allows)."""
    return {"apiVersion": SECURITY_GROUP_POLICY_API_VERSION, "kind": SECURITY_GROUP_POLICY_KIND,
            "metadata": object_meta(service, namespace, service_labels(service, image)),
            "spec": {"podSelector": {"matchLabels": selector_labels(service)},
                     "securityGroups": {"groupIds": list(group_ids)}}}


_SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


def security_group_policy_problems(manifest: Mapping[str, Any]) -> list[str]:
    """The SecurityGroupPolicy CRD has no upstream JSON schema either: checked by hand against
    the v1beta1 CRD of the VPC resource controller (exactly one selector, 1-5 group IDs)."""
    problems: list[str] = []
    problems += _custom_object_problems(manifest, SECURITY_GROUP_POLICY_API_VERSION, SECURITY_GROUP_POLICY_KIND)
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [*problems, "spec is required"]
    extra = set(spec) - {"podSelector", "serviceAccountSelector", "securityGroups"}
    if extra:
        problems.append(f"spec: unknown fields {', '.join(sorted(extra))}")
    selectors = [k for k in ("podSelector", "serviceAccountSelector") if k in spec]
    if len(selectors) != 1:
        problems.append("spec needs exactly one of podSelector and serviceAccountSelector")
    elif not (isinstance(spec[selectors[0]], Mapping) and spec[selectors[0]].get("matchLabels")):
        # An empty selector selects every pod of the namespace: never what a service means.
        problems.append(f"spec.{selectors[0]} must match labels")
    block = spec.get("securityGroups")
    groups = block.get("groupIds") if isinstance(block, Mapping) else None
    if not (isinstance(groups, list) and 1 <= len(groups) <= MAX_GROUPS_PER_INTERFACE
            and all(isinstance(g, str) and _SECURITY_GROUP_ID.match(g) for g in groups)):
        problems.append(f"spec.securityGroups.groupIds must list 1-{MAX_GROUPS_PER_INTERFACE} security group "
                        f"IDs (sg-...), got {groups!r}")
    elif len(set(groups)) != len(groups):
        problems.append("spec.securityGroups.groupIds lists a group twice")
    return problems


def service_manifests(*, service: str, namespace: str, image: str, port: int, cpu: str, memory: str,
                      min_replicas: int, max_replicas: int, target_cpu: int, zone_count: int,
                      callers: Sequence[str] = (), caller_namespaces: Mapping[str, str] | None = None,
                      env: Mapping[str, str] | None = None, secrets: Sequence[str] = (),
                      requests_per_second_target: int | None = None, alb_source_cidrs: Sequence[str] = (),
                      callees: Sequence[tuple[str, str, int]] = (), data_cidrs: Sequence[str] = (),
                      data_ports: Sequence[int] = (), database_config: str | None = None,
                      ) -> dict[str, dict[str, Any]]:
    """Every object of one service that has an upstream schema, keyed by kind (the
    TargetGroupBinding, which needs the target group's ARN, is built separately)."""
    return {
        "ServiceAccount": service_account_manifest(service, namespace, image),
        "Deployment": deployment_manifest(service=service, namespace=namespace, image=image, port=port, cpu=cpu,
                                          memory=memory, min_replicas=min_replicas, zone_count=zone_count,
                                          env=env, secrets=secrets, database_config=database_config),
        "Service": service_manifest(service, namespace, image),
        "HorizontalPodAutoscaler": hpa_manifest(service=service, namespace=namespace, image=image,
                                                min_replicas=min_replicas, max_replicas=max_replicas,
                                                target_cpu=target_cpu,
                                                requests_per_second_target=requests_per_second_target),
        "PodDisruptionBudget": pdb_manifest(service, namespace, image, min_replicas),
        "NetworkPolicy/ingress": ingress_policy_manifest(service=service, namespace=namespace, image=image,
                                                         port=port, callers=callers,
                                                         caller_namespaces=caller_namespaces or {},
                                                         alb_source_cidrs=alb_source_cidrs),
        "NetworkPolicy/egress": egress_policy_manifest(service=service, namespace=namespace, image=image,
                                                       callees=callees, data_cidrs=data_cidrs,
                                                       data_ports=data_ports),
    }
