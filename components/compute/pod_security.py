"""Pod Security Standards "restricted" (which includes "baseline"), checked once.

The one checker for both sides: the tests hold every pod the components render
(``components/compute/manifests.py``) to it, and the policy pack runs it on every workload
of a preview (``policies/kubernetes.py``, ``k8s-pod-security-restricted``). It imports only
the standard library, so the pack and the manifests load it without Pulumi or pydantic.

A pod spec is read as the API writes it (camelCase: ``securityContext``, ``hostNetwork``),
from plain dicts or from the read-only ``Mapping``/``Sequence`` proxies the policy engine
hands over, so the checks test for ``Mapping``/``Sequence``, never ``dict``/``list``.
An explicit ``null`` is read as "not set", as the API server reads it.

Reference: https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Restricted: the only volume types a pod may use (this also forbids hostPath, a baseline
#: control).
ALLOWED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
})
#: Keys of a volume entry that are not its type.
VOLUME_META_KEYS = frozenset({"name"})
#: Restricted: the only capability a container may add (after dropping ALL).
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
#: Baseline forbids ``Unconfined``; restricted also requires one of these to be set.
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
#: The pod spec's container lists, each held to the same controls.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
#: The legacy AppArmor annotation, one per container (``<prefix><container name>``).
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"

_CONTAINER_KINDS = {"initContainers": "init container", "containers": "container",
                    "ephemeralContainers": "ephemeral container"}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return ()


def _container_label(kind: str, container: Mapping[str, Any], index: int) -> str:
    return f"{_CONTAINER_KINDS[kind]} {container.get('name') or f'#{index}'}"


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

    The Linux-only controls (seccomp profile required, ``allowPrivilegeEscalation: false``,
    capabilities) are skipped for ``spec.os.name: windows``; a profile that is set must
    still be an allowed one.
    """
    problems: list[str] = []
    pod_sc = _mapping(pod_spec.get("securityContext"))
    linux = _mapping(pod_spec.get("os")).get("name") != "windows"

    # Baseline: host namespaces (any true value, not only the literal True).
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            problems.append(f"pod sets {field}: true, sharing the node's namespace; remove it")
    # Baseline: HostProcess (Windows).
    if _mapping(pod_sc.get("windowsOptions")).get("hostProcess"):
        problems.append("pod sets securityContext.windowsOptions.hostProcess: true; remove it")
    # Baseline: SELinux, sysctls, AppArmor (restricted seccomp below).
    problems += _selinux_problems(_mapping(pod_sc.get("seLinuxOptions")), "pod")
    for sysctl in _sequence(pod_sc.get("sysctls")):
        name = _mapping(sysctl).get("name")
        if name not in SAFE_SYSCTLS:
            problems.append(f"pod sets unsafe sysctl {name!r}; remove it from "
                            "securityContext.sysctls")
    pod_apparmor = _mapping(pod_sc.get("appArmorProfile")).get("type")
    if pod_apparmor is not None and pod_apparmor not in ALLOWED_APPARMOR:
        problems.append(f"pod sets appArmorProfile.type={pod_apparmor!r}; use RuntimeDefault")
    for key, value in _mapping(annotations).items():
        if str(key).startswith(APPARMOR_ANNOTATION_PREFIX) and not (
            value == "runtime/default" or str(value).startswith("localhost/")
        ):
            problems.append(f"annotation {key}={value!r} turns AppArmor off; use "
                            "'runtime/default' (or appArmorProfile.type: RuntimeDefault)")

    # Restricted: volume types.
    for volume in _sequence(pod_spec.get("volumes")):
        volume = _mapping(volume)
        kinds = [k for k in volume if k not in VOLUME_META_KEYS]
        bad = [k for k in kinds if k not in ALLOWED_VOLUME_TYPES]
        if bad:
            problems.append(f"volume {volume.get('name')!r} is of type {', '.join(bad)}, not allowed "
                            "by restricted; use configMap, secret, emptyDir, projected, csi, "
                            "downwardAPI, ephemeral or persistentVolumeClaim")

    # Restricted: runAsNonRoot, runAsUser and seccomp at pod level.
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    if pod_sc.get("runAsNonRoot") is False:
        problems.append("pod sets securityContext.runAsNonRoot: false; set it to true")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod sets securityContext.runAsUser: 0 (root); use a non-zero UID")
    pod_seccomp = _mapping(pod_sc.get("seccompProfile")).get("type")
    if pod_seccomp is not None and pod_seccomp not in ALLOWED_SECCOMP:
        problems.append(f"pod sets seccompProfile.type={pod_seccomp!r}; set it to RuntimeDefault")

    for kind in CONTAINER_LISTS:
        for index, container in enumerate(_sequence(pod_spec.get(kind))):
            container = _mapping(container)
            where = _container_label(kind, container, index)
            sc = _mapping(container.get("securityContext"))
            # Baseline.
            if sc.get("privileged"):
                problems.append(f"{where} is privileged; remove securityContext.privileged")
            if _mapping(sc.get("windowsOptions")).get("hostProcess"):
                problems.append(f"{where} sets windowsOptions.hostProcess: true; remove it")
            for port in _sequence(container.get("ports")):
                host_port = _mapping(port).get("hostPort")
                if host_port not in (None, 0):
                    problems.append(f"{where} binds hostPort {host_port}; remove hostPort and "
                                    "expose it through a Service")
            if sc.get("procMount") not in (None, "Default"):
                problems.append(f"{where} sets procMount={sc.get('procMount')!r}; remove it "
                                "(Default)")
            problems += _selinux_problems(_mapping(sc.get("seLinuxOptions")), where)
            apparmor = _mapping(sc.get("appArmorProfile")).get("type")
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
            seccomp = _mapping(sc.get("seccompProfile")).get("type")
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
            capabilities = _mapping(sc.get("capabilities"))
            drops = [str(c) for c in _sequence(capabilities.get("drop"))]
            if "ALL" not in drops:
                problems.append(f"{where} does not drop all capabilities; set "
                                "capabilities.drop: ['ALL']")
            added = [str(c) for c in _sequence(capabilities.get("add"))
                     if str(c) not in ALLOWED_ADDED_CAPABILITIES]
            if added:
                problems.append(f"{where} adds capabilities {', '.join(added)}; add at most "
                                "NET_BIND_SERVICE")
    return problems
