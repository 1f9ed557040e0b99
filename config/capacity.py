"""Capacity that cannot work: a team quota or a Karpenter limit too small for the services at
their minimum, or a quota of nothing. Kubernetes would accept such a config and then leave
pods Pending; here it is refused with the number needed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from config.raw import as_int

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Mi|Gi)$")
_MEBIBYTES = {"Mi": 1, "Gi": 1024}


def cpu_cores(quantity: Any) -> float | None:
    """'500m' -> 0.5, '2' -> 2.0; None for anything else (field validation reports it)."""
    match = _CPU.match(str(quantity)) if isinstance(quantity, (str, int, float)) else None
    if match is None or isinstance(quantity, bool):
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2) else value


def memory_mebibytes(quantity: Any) -> float | None:
    """'512Mi' -> 512, '2Gi' -> 2048; None for anything else."""
    match = _MEMORY.match(quantity) if isinstance(quantity, str) else None
    return float(match.group(1)) * _MEBIBYTES[match.group(2)] if match else None


def _minimum_needs(services: list[Any], team: str | None = None) -> tuple[float, float] | None:
    """(vCPUs, MiB) the services (of ``team``) request at minReplicas; None if any is unreadable."""
    cpu = memory = 0.0
    for service in services:
        if not isinstance(service, Mapping) or (team is not None and service.get("team") != team):
            continue
        replicas = as_int(service.get("minReplicas"))
        cores, mebibytes = cpu_cores(service.get("cpu")), memory_mebibytes(service.get("memory"))
        if replicas is None or cores is None or mebibytes is None:
            return None
        cpu += cores * replicas
        memory += mebibytes * replicas
    return cpu, memory


def _format_cpu(cores: float) -> str:
    return f"{cores:g}" if cores >= 1 else f"{round(cores * 1000)}m"


def capacity_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    kubernetes = data.get("kubernetes")
    services = data.get("services")
    if not isinstance(kubernetes, Mapping) or not isinstance(services, list):
        return []
    problems: list[tuple[str, str]] = []
    teams = kubernetes.get("teams")
    for index, team in enumerate(teams if isinstance(teams, list) else []):
        if not isinstance(team, Mapping):
            continue
        quota_cpu, quota_memory = cpu_cores(team.get("cpuQuota")), memory_mebibytes(team.get("memoryQuota"))
        for key, value in (("cpuQuota", quota_cpu), ("memoryQuota", quota_memory)):
            if value == 0:
                problems.append((f"kubernetes.teams[{index}].{key}", "a quota of nothing admits no pod at all; "
                                 "size it for the team's services or remove the team"))
        needs = _minimum_needs(services, team.get("name"))
        if needs is None or quota_cpu is None or quota_memory is None:
            continue
        cpu, memory = needs
        if quota_cpu and cpu > quota_cpu:
            problems.append((f"kubernetes.teams[{index}].cpuQuota",
                             f"{team.get('cpuQuota')} CPU cannot hold the team's services at minReplicas, which "
                             f"request {_format_cpu(cpu)}; raise it to at least {_format_cpu(cpu)}"))
        if quota_memory and memory > quota_memory:
            problems.append((f"kubernetes.teams[{index}].memoryQuota",
                             f"{team.get('memoryQuota')} cannot hold the team's services at minReplicas, which "
                             f"request {memory:g}Mi; raise it to at least {memory:g}Mi"))
    karpenter = kubernetes.get("karpenter")
    needs = _minimum_needs(services)
    if isinstance(karpenter, Mapping) and needs is not None:
        cpu, memory = needs
        cpu_limit, memory_limit = as_int(karpenter.get("cpuLimit")), as_int(karpenter.get("memoryLimitGi"))
        if cpu_limit is not None and cpu > cpu_limit:
            problems.append(("kubernetes.karpenter.cpuLimit",
                             f"{cpu_limit} vCPUs cannot run the services at minReplicas ({_format_cpu(cpu)} "
                             f"requested); raise it to at least {int(-(-cpu // 1))}"))
        if memory_limit is not None and memory > memory_limit * 1024:
            problems.append(("kubernetes.karpenter.memoryLimitGi",
                             f"{memory_limit} GiB cannot run the services at minReplicas ({memory / 1024:g} GiB "
                             f"requested); raise it to at least {int(-(-memory // 1024))}"))
    return problems
