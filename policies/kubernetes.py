"""EKS and the workloads on it: private endpoint (EKS.1), supported version (EKS.2), KMS
envelope encryption of secrets (EKS.3), audit logs (EKS.8), NetworkPolicy enforcement by
the vpc-cni add-on, Pod Security Standards "restricted" for every workload the blueprint
renders, and restricted, default-deny namespaces (CIS EKS 4.2.x, 4.3.2).

The Kubernetes resources are read as pulumi-kubernetes hands them over: the manifest's
camelCase fields (``metadata``, ``spec``) as props. Nothing here imports pulumi_kubernetes,
so the pack stays importable without it. ``pod_security_violations`` is a pure function of a
pod spec, usable (and tested) on its own.
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

#: Restricted: the only volume types a pod may use.
ALLOWED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
})
#: Keys of a volume entry that are not its type.
_VOLUME_META = frozenset({"name"})
#: Restricted: the only capability a container may add.
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
ALLOWED_APPARMOR = frozenset({"RuntimeDefault", "Localhost"})
#: Baseline: the SELinux types a pod may ask for ("" and unset too).
ALLOWED_SELINUX_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t",
                                   "container_engine_t"})
#: Baseline: the namespaced sysctls Kubernetes considers safe (as of v1.29).
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _container_label(kind: str, container: Mapping[str, Any], index: int) -> str:
    singular = {"initContainers": "init container", "containers": "container",
                "ephemeralContainers": "ephemeral container"}[kind]
    return f"{singular} {container.get('name') or f'#{index}'}"


def _selinux_problems(options: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    selinux_type = options.get("type")
    if selinux_type not in (None, "") and selinux_type not in ALLOWED_SELINUX_TYPES:
        problems.append(f"{where} sets seLinuxOptions.type={selinux_type!r}; remove it or use "
                        "container_t")
    for field in ("user", "role"):
        if options.get(field) not in (None, ""):
            problems.append(f"{where} sets seLinuxOptions.{field}; remove it")
    return problems


def pod_security_violations(
    pod_spec: Mapping[str, Any], annotations: Mapping[str, Any] | None = None
) -> list[str]:
    """What keeps ``pod_spec`` (a PodSpec as camelCase dict) from meeting the Pod Security
    Standards "restricted" profile (which includes "baseline"), one message per problem,
    each naming the field and the fix. ``annotations`` are the pod's (its template's)
    metadata annotations, read for the legacy AppArmor annotation. ``[]`` means compliant.
    """
    problems: list[str] = []
    pod_sc = mapping(pod_spec.get("securityContext"))
    linux = mapping(pod_spec.get("os")).get("name") != "windows"

    # Baseline: host namespaces.
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field) is True:
            problems.append(f"pod sets {field}: true, sharing the node's namespace; remove it")
    # Baseline: HostProcess (Windows).
    if mapping(pod_sc.get("windowsOptions")).get("hostProcess") is True:
        problems.append("pod sets securityContext.windowsOptions.hostProcess: true; remove it")
    # Baseline: SELinux, sysctls, AppArmor, seccomp not Unconfined (restricted below).
    problems += _selinux_problems(mapping(pod_sc.get("seLinuxOptions")), "pod")
    for sysctl in sequence(pod_sc.get("sysctls")):
        name = mapping(sysctl).get("name")
        if name not in SAFE_SYSCTLS:
            problems.append(f"pod sets unsafe sysctl {name!r}; remove it from "
                            "securityContext.sysctls")
    pod_apparmor = mapping(pod_sc.get("appArmorProfile")).get("type")
    if pod_apparmor is not None and pod_apparmor not in ALLOWED_APPARMOR:
        problems.append(f"pod sets appArmorProfile.type={pod_apparmor!r}; use RuntimeDefault")
    for key, value in mapping(annotations).items():
        if str(key).startswith(_APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or str(value).startswith("localhost/")
        ):
            problems.append(f"annotation {key}={value!r} turns AppArmor off; use "
                            "'runtime/default' (or appArmorProfile.type: RuntimeDefault)")

    # Restricted: volume types (this also forbids hostPath, a baseline control).
    for volume in sequence(pod_spec.get("volumes")):
        volume = mapping(volume)
        kinds = [k for k in volume if k not in _VOLUME_META]
        bad = [k for k in kinds if k not in ALLOWED_VOLUME_TYPES]
        if bad:
            problems.append(f"volume {volume.get('name')!r} is of type {', '.join(bad)}, not allowed "
                            "by restricted; use configMap, secret, emptyDir, projected, csi, "
                            "downwardAPI, ephemeral or persistentVolumeClaim")

    # Restricted: runAsNonRoot and runAsUser at pod level.
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    if pod_sc.get("runAsNonRoot") is False:
        problems.append("pod sets securityContext.runAsNonRoot: false; set it to true")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod sets securityContext.runAsUser: 0 (root); use a non-zero UID")
    pod_seccomp = mapping(pod_sc.get("seccompProfile")).get("type")
    if pod_seccomp is not None and pod_seccomp not in ALLOWED_SECCOMP:
        problems.append(f"pod sets seccompProfile.type={pod_seccomp!r}; set it to RuntimeDefault")

    for kind in CONTAINER_LISTS:
        for index, container in enumerate(sequence(pod_spec.get(kind))):
            container = mapping(container)
            where = _container_label(kind, container, index)
            sc = mapping(container.get("securityContext"))
            # Baseline.
            if sc.get("privileged") is True:
                problems.append(f"{where} is privileged; remove securityContext.privileged")
            if mapping(sc.get("windowsOptions")).get("hostProcess") is True:
                problems.append(f"{where} sets windowsOptions.hostProcess: true; remove it")
            for port in sequence(container.get("ports")):
                host_port = mapping(port).get("hostPort")
                if host_port not in (None, 0):
                    problems.append(f"{where} binds hostPort {host_port}; remove hostPort and "
                                    "expose it through a Service")
            if sc.get("procMount") not in (None, "Default"):
                problems.append(f"{where} sets procMount={sc.get('procMount')!r}; remove it "
                                "(Default)")
            problems += _selinux_problems(mapping(sc.get("seLinuxOptions")), where)
            apparmor = mapping(sc.get("appArmorProfile")).get("type")
            if apparmor is not None and apparmor not in ALLOWED_APPARMOR:
                problems.append(f"{where} sets appArmorProfile.type={apparmor!r}; use "
                                "RuntimeDefault")
            # Restricted: non-root.
            if sc.get("runAsNonRoot") is False:
                problems.append(f"{where} sets runAsNonRoot: false; set it to true")
            elif not pod_non_root and sc.get("runAsNonRoot") is not True:
                problems.append(f"{where} may run as root: set securityContext.runAsNonRoot: "
                                "true on the pod or the container")
            if sc.get("runAsUser") == 0:
                problems.append(f"{where} sets runAsUser: 0 (root); use a non-zero UID")
            seccomp = mapping(sc.get("seccompProfile")).get("type")
            if seccomp is not None and seccomp not in ALLOWED_SECCOMP:
                problems.append(f"{where} sets seccompProfile.type={seccomp!r}; set it to "
                                "RuntimeDefault")
            if not linux:
                continue
            # Restricted, Linux only: seccomp present, no privilege escalation, capabilities.
            if seccomp is None and pod_seccomp is None:
                problems.append(f"{where} has no seccomp profile: set "
                                "securityContext.seccompProfile.type: RuntimeDefault on the pod "
                                "or the container")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where} does not set allowPrivilegeEscalation: false; set it")
            capabilities = mapping(sc.get("capabilities"))
            drops = [str(c) for c in sequence(capabilities.get("drop"))]
            if "ALL" not in drops:
                problems.append(f"{where} does not drop all capabilities; set "
                                "capabilities.drop: ['ALL']")
            added = [str(c) for c in sequence(capabilities.get("add"))
                     if str(c) not in ALLOWED_ADDED_CAPABILITIES]
            if added:
                problems.append(f"{where} adds capabilities {', '.join(added)}; add at most "
                                "NET_BIND_SERVICE")
    return problems


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
