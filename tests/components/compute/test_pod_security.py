"""The one Pod Security Standards "restricted" checker (baseline included), on its own: every
rule is shown to catch a pod that breaks only that rule, and properties hold over many pods.

The pack's policy that runs it on workloads is tested in tests/policies/test_kubernetes.py;
the components' pods are held to it in test_service.py and test_kubernetes_schemas.py.
"""

from __future__ import annotations

import ast
import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.compute import pod_security
from components.compute.pod_security import (
    ALLOWED_ADDED_CAPABILITIES,
    ALLOWED_VOLUME_TYPES,
    CONTAINER_LISTS,
    SAFE_SYSCTLS,
    pod_security_violations,
)
from tests.support import RESTRICTED_CONTAINER, RESTRICTED_POD

#: The label each container list's containers get in a message.
LABELS = {"initContainers": "init container", "containers": "container",
          "ephemeralContainers": "ephemeral container"}


def pod(**changes):
    """RESTRICTED_POD with ``changes`` (``container=`` merges into the container's
    securityContext, ``pod_sc=`` into the pod's)."""
    spec = copy.deepcopy(RESTRICTED_POD)
    spec["securityContext"].update(changes.pop("pod_sc", {}))
    spec["containers"][0]["securityContext"].update(changes.pop("container", {}))
    spec.update(changes)
    return spec


def without(mutate: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """RESTRICTED_POD after ``mutate(spec)`` (for removals, which ``pod()`` cannot express)."""
    spec = copy.deepcopy(RESTRICTED_POD)
    mutate(spec)
    return spec


def _container_sc(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["containers"][0]["securityContext"]


# --- Moved from the pack's tests: the checker as the pack uses it ----------------------------


def test_restricted_pod_has_no_violations():
    assert pod_security_violations(RESTRICTED_POD) == []


def test_container_level_settings_satisfy_restricted():
    container = copy.deepcopy(RESTRICTED_CONTAINER)
    container["securityContext"].update(runAsNonRoot=True, seccompProfile={"type": "Localhost",
                                                                           "localhostProfile": "p.json"},
                                        capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
    assert pod_security_violations({"containers": [container]}) == []


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (pod(hostNetwork=True), "pod sets hostNetwork: true"),
        (pod(hostPID=True), "pod sets hostPID: true"),
        (pod(hostIPC=True), "pod sets hostIPC: true"),
        (pod(container={"privileged": True}), "container app is privileged"),
        (pod(container={"allowPrivilegeEscalation": True}), "does not set allowPrivilegeEscalation: false"),
        (pod(container={"capabilities": {"drop": ["NET_RAW"]}}), "does not drop all capabilities"),
        (pod(container={"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}),
         "adds capabilities SYS_ADMIN"),
        (pod(pod_sc={"runAsNonRoot": False}), "pod sets securityContext.runAsNonRoot: false"),
        (pod(pod_sc={"runAsUser": 0}), "pod sets securityContext.runAsUser: 0"),
        (pod(container={"runAsUser": 0}), "container app sets runAsUser: 0"),
        (pod(pod_sc={"seccompProfile": {"type": "Unconfined"}}), "seccompProfile.type='Unconfined'"),
        (pod(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]),
         "volume 'docker' is of type hostPath"),
        (pod(containers=[{**RESTRICTED_CONTAINER, "ports": [{"containerPort": 80, "hostPort": 80}]}]),
         "binds hostPort 80"),
        (pod(container={"procMount": "Unmasked"}), "procMount='Unmasked'"),
        (pod(pod_sc={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}), "unsafe sysctl 'kernel.msgmax'"),
        (pod(container={"appArmorProfile": {"type": "Unconfined"}}), "appArmorProfile.type='Unconfined'"),
        (pod(container={"seLinuxOptions": {"type": "spc_t"}}), "seLinuxOptions.type='spc_t'"),
        (pod(pod_sc={"windowsOptions": {"hostProcess": True}}), "hostProcess: true"),
    ],
    ids=["host-network", "host-pid", "host-ipc", "privileged", "escalation", "drop", "add",
         "non-root-false", "pod-uid-0", "container-uid-0", "seccomp-unconfined", "host-path",
         "host-port", "proc-mount", "sysctl", "apparmor", "selinux", "host-process"],
)
def test_each_pss_control_is_checked(spec, says):
    problems = pod_security_violations(spec)
    assert any(says in problem for problem in problems), problems


def test_missing_pod_level_settings_are_required_per_container():
    spec = {"containers": [RESTRICTED_CONTAINER],
            "initContainers": [{"name": "migrate", "securityContext": {"runAsNonRoot": True,
                                                                      "seccompProfile": {"type": "RuntimeDefault"}}}]}
    problems = pod_security_violations(spec)
    assert "container app may run as root: set securityContext.runAsNonRoot: true on the pod or the " \
           "container" in problems
    assert any(p.startswith("container app has no seccomp profile") for p in problems)
    assert any(p.startswith("init container migrate does not set allowPrivilegeEscalation") for p in problems)
    assert not any(p.startswith("init container migrate may run as root") for p in problems)


def test_apparmor_annotation_unconfined_is_a_violation():
    annotation = "container.apparmor.security.beta.kubernetes.io/app"
    assert pod_security_violations(RESTRICTED_POD, {annotation: "runtime/default"}) == []
    [problem] = pod_security_violations(RESTRICTED_POD, {annotation: "unconfined"})
    assert "turns AppArmor off" in problem


def test_windows_pods_skip_the_linux_only_controls():
    spec = {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True},
            "containers": [{"name": "iis"}]}
    assert pod_security_violations(spec) == []


# --- One rule at a time: a pod that breaks exactly one rule, reported naming its field ------

#: (rule, the broken pod, annotations, the field every message must name, how many messages).
ONE_RULE_PODS: list[tuple[str, dict[str, Any], dict[str, str] | None, str, int]] = [
    # Baseline, pod level.
    ("host-network", pod(hostNetwork=True), None, "hostNetwork", 1),
    ("host-pid", pod(hostPID=True), None, "hostPID", 1),
    ("host-ipc", pod(hostIPC=True), None, "hostIPC", 1),
    ("pod-host-process", pod(pod_sc={"windowsOptions": {"hostProcess": True}}), None,
     "windowsOptions.hostProcess", 1),
    ("pod-selinux-type", pod(pod_sc={"seLinuxOptions": {"type": "spc_t"}}), None, "seLinuxOptions.type", 1),
    ("pod-selinux-user", pod(pod_sc={"seLinuxOptions": {"user": "system_u"}}), None, "seLinuxOptions.user", 1),
    ("pod-selinux-role", pod(pod_sc={"seLinuxOptions": {"role": "system_r"}}), None, "seLinuxOptions.role", 1),
    ("unsafe-sysctl", pod(pod_sc={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}), None,
     "securityContext.sysctls", 1),
    ("pod-apparmor", pod(pod_sc={"appArmorProfile": {"type": "Unconfined"}}), None, "appArmorProfile.type", 1),
    ("apparmor-annotation", pod(), {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"},
     "container.apparmor.security.beta.kubernetes.io/app", 1),
    # Restricted, pod level.
    ("volume-type", pod(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]), None, "hostPath", 1),
    # The container inherits the pod's runAsNonRoot, so it is reported too: same field.
    ("pod-non-root-false", pod(pod_sc={"runAsNonRoot": False}), None, "runAsNonRoot", 2),
    ("pod-uid-0", pod(pod_sc={"runAsUser": 0}), None, "securityContext.runAsUser", 1),
    ("pod-seccomp-unconfined", pod(pod_sc={"seccompProfile": {"type": "Unconfined"}}), None,
     "seccompProfile.type", 1),
    ("non-root-unset", without(lambda s: s["securityContext"].pop("runAsNonRoot")), None, "runAsNonRoot", 1),
    ("seccomp-unset", without(lambda s: s["securityContext"].pop("seccompProfile")), None,
     "seccompProfile", 1),
    # Baseline, container level.
    ("privileged", pod(container={"privileged": True}), None, "securityContext.privileged", 1),
    ("container-host-process", pod(container={"windowsOptions": {"hostProcess": True}}), None,
     "windowsOptions.hostProcess", 1),
    ("host-port", pod(containers=[{**RESTRICTED_CONTAINER, "ports": [{"containerPort": 80, "hostPort": 80}]}]),
     None, "hostPort", 1),
    ("proc-mount", pod(container={"procMount": "Unmasked"}), None, "procMount", 1),
    ("container-selinux-type", pod(container={"seLinuxOptions": {"type": "spc_t"}}), None,
     "seLinuxOptions.type", 1),
    ("container-apparmor", pod(container={"appArmorProfile": {"type": "Unconfined"}}), None,
     "appArmorProfile.type", 1),
    # Restricted, container level.
    ("container-non-root-false", pod(container={"runAsNonRoot": False}), None, "runAsNonRoot", 1),
    ("container-uid-0", pod(container={"runAsUser": 0}), None, "runAsUser", 1),
    ("container-seccomp-unconfined", pod(container={"seccompProfile": {"type": "Unconfined"}}), None,
     "seccompProfile.type", 1),
    ("escalation", pod(container={"allowPrivilegeEscalation": True}), None, "allowPrivilegeEscalation", 1),
    ("escalation-unset", without(lambda s: _container_sc(s).pop("allowPrivilegeEscalation")), None,
     "allowPrivilegeEscalation", 1),
    ("drop-not-all", pod(container={"capabilities": {"drop": ["NET_RAW"]}}), None, "capabilities.drop", 1),
    ("drop-unset", without(lambda s: _container_sc(s).pop("capabilities")), None, "capabilities.drop", 1),
    ("add", pod(container={"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}), None, "capabilities", 1),
]


@pytest.mark.parametrize(("spec", "annotations", "field", "count"),
                         [rule[1:] for rule in ONE_RULE_PODS], ids=[rule[0] for rule in ONE_RULE_PODS])
def test_one_broken_rule_is_reported_naming_its_field(spec, annotations, field, count):
    problems = pod_security_violations(spec, annotations)
    assert len(problems) == count, problems
    assert all(field in problem for problem in problems), problems


def test_the_add_rule_names_the_capability_and_the_one_allowed():
    [problem] = pod_security_violations(pod(container={"capabilities": {"drop": ["ALL"],
                                                                        "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}))
    assert "SYS_ADMIN" in problem and "NET_BIND_SERVICE" in problem.split(";")[1]


@pytest.mark.parametrize("container_list", CONTAINER_LISTS)
def test_every_container_list_is_checked(container_list):
    spec = copy.deepcopy(RESTRICTED_POD)
    spec[container_list] = [*spec.get(container_list, ()), {"name": "extra", "securityContext": {"privileged": True}}]
    problems = pod_security_violations(spec)
    label = f"{LABELS[container_list]} extra"
    assert f"{label} is privileged; remove securityContext.privileged" in problems
    assert all(problem.startswith(label) for problem in problems), problems


def test_an_unnamed_container_is_named_by_its_index():
    spec = pod(containers=[RESTRICTED_CONTAINER, {"securityContext": {"privileged": True}}])
    assert any(problem.startswith("container #1 is privileged") for problem in pod_security_violations(spec))


# --- The stricter of the two former checkers --------------------------------------------------


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
def test_any_true_value_shares_a_host_namespace(field):
    # The components' former checker read these as truthy, the pack's as `is True`: truthy wins.
    assert any(field in problem for problem in pod_security_violations(pod(**{field: "true"})))


def test_any_true_value_is_privileged_or_host_process():
    problems = pod_security_violations(pod(container={"privileged": 1,
                                                      "windowsOptions": {"hostProcess": "true"}},
                                           pod_sc={"windowsOptions": {"hostProcess": 1}}))
    assert sum("privileged" in p for p in problems) == 1
    assert sum("hostProcess" in p for p in problems) == 2


def test_a_windows_pod_still_may_not_set_an_unconfined_profile():
    # The components' former checker skipped seccomp entirely on Windows; baseline's
    # "not Unconfined" holds on every OS, only restricted's "must be set" is Linux-only.
    spec = {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True,
                                                           "seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "iis", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}
    problems = pod_security_violations(spec)
    assert len(problems) == 2 and all("seccompProfile.type='Unconfined'" in p for p in problems), problems


def test_only_true_counts_as_run_as_non_root():
    problems = pod_security_violations(pod(pod_sc={"runAsNonRoot": "yes"}))
    assert problems == ["container app may run as root: set securityContext.runAsNonRoot: true on the pod "
                        "or the container"]


def test_an_explicit_null_is_unset():
    # As the API server reads it: null procMount is Default, a null SELinux type is no type.
    spec = pod(container={"procMount": None, "seLinuxOptions": {"type": None, "user": None}},
               pod_sc={"seLinuxOptions": {"type": None, "role": None}, "appArmorProfile": None})
    assert pod_security_violations(spec) == []


def test_read_only_mappings_and_tuples_are_read_like_dicts_and_lists():
    # The policy engine hands props over as read-only Mapping/Sequence proxies, not dicts.
    def freeze(value: Any) -> Any:
        if isinstance(value, dict):
            return MappingProxyType({key: freeze(item) for key, item in value.items()})
        if isinstance(value, list):
            return tuple(freeze(item) for item in value)
        return value

    broken = pod(hostPID=True, container={"capabilities": {"drop": ["NET_RAW"], "add": ["SYS_ADMIN"]}},
                 volumes=[{"name": "docker", "hostPath": {"path": "/"}}])
    assert pod_security_violations(freeze(broken)) == pod_security_violations(broken)
    assert len(pod_security_violations(broken)) == 4


def test_the_checker_imports_only_the_standard_library():
    tree = ast.parse(Path(pod_security.__file__).read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, components.compute.pod_security; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                               "('pulumi', 'pulumi_kubernetes', 'pulumi_aws', 'pydantic')))"],
        cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


# --- Properties --------------------------------------------------------------------------------

_VOLUME_SOURCES = {"configMap": {"name": "cfg"}, "csi": {"driver": "secrets-store.csi.k8s.io"},
                   "downwardAPI": {"items": []}, "emptyDir": {}, "ephemeral": {"volumeClaimTemplate": {}},
                   "persistentVolumeClaim": {"claimName": "data"}, "projected": {"sources": []},
                   "secret": {"secretName": "db"}}


def test_the_property_volumes_cover_every_allowed_type():
    assert set(_VOLUME_SOURCES) == ALLOWED_VOLUME_TYPES


@given(st.lists(st.sampled_from(sorted(ALLOWED_VOLUME_TYPES)), max_size=12))
def test_a_restricted_pod_with_any_safe_volumes_stays_clean(kinds):
    spec = pod(volumes=[{"name": f"v{i}", kind: _VOLUME_SOURCES[kind]} for i, kind in enumerate(kinds)])
    before = copy.deepcopy(spec)
    assert pod_security_violations(spec) == []
    assert spec == before  # the checker never changes what it reads


@given(st.text(min_size=1).filter(lambda kind: kind not in ALLOWED_VOLUME_TYPES and kind != "name"))
def test_any_other_volume_type_is_refused(kind):
    [problem] = pod_security_violations(pod(volumes=[{"name": "v", kind: {}}]))
    assert f"is of type {kind}," in problem


#: A restricted pod with one container in every list and each required setting made once:
#: the pod's runAsNonRoot and seccomp profile, each container's escalation and capability drop.
_FULL_POD = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    **{kind: [{"name": f"{kind.lower()}-0", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}] for kind in CONTAINER_LISTS},
}
_POD_REQUIRED = ("runAsNonRoot", "seccompProfile")
_CONTAINER_REQUIRED = ("allowPrivilegeEscalation", "capabilities")


def test_the_full_pod_is_clean():
    assert pod_security_violations(_FULL_POD) == []


@given(st.one_of(
    st.tuples(st.just("pod"), st.sampled_from(_POD_REQUIRED)),
    st.tuples(st.sampled_from(CONTAINER_LISTS), st.sampled_from(_CONTAINER_REQUIRED)),
))
def test_removing_any_required_field_yields_a_violation(removal):
    where, field = removal
    spec = copy.deepcopy(_FULL_POD)
    context = spec["securityContext"] if where == "pod" else spec[where][0]["securityContext"]
    del context[field]
    problems = pod_security_violations(spec)
    assert problems
    if where != "pod":
        # Reported on the container that lost it, and only there.
        assert all(problem.startswith(f"{LABELS[where]} {where.lower()}-0") for problem in problems), problems


@given(st.sets(st.sampled_from(sorted(SAFE_SYSCTLS))),
       st.lists(st.text(min_size=1).filter(lambda name: name not in SAFE_SYSCTLS), max_size=3))
def test_only_unsafe_sysctls_are_reported(safe, unsafe):
    sysctls = [{"name": name, "value": "1"} for name in [*sorted(safe), *unsafe]]
    problems = pod_security_violations(pod(pod_sc={"sysctls": sysctls}))
    assert problems == [f"pod sets unsafe sysctl {name!r}; remove it from securityContext.sysctls"
                        for name in unsafe]


@given(st.lists(st.text(min_size=1), max_size=4))
def test_any_added_capability_but_net_bind_service_is_reported(added):
    problems = pod_security_violations(pod(container={"capabilities": {"drop": ["ALL"], "add": added}}))
    refused = [c for c in added if c not in ALLOWED_ADDED_CAPABILITIES]
    assert bool(problems) == bool(refused)
    assert all(capability in problems[0] for capability in refused)
