"""The peak calendar's cross-key rules: unique names, no contradicting overlap, and every event
within the stack's bounds with a lead time its slowest warmed layer can meet.

Like the other rules they run on the raw merged data, beside field validation: each section
the planner reads is validated on its own, and a section with a field error (which the
schema reports) skips only the bound checks that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from components.compute.settings import KubernetesConfig, ServiceConfig
from components.data.settings import CacheConfig, NoSqlConfig, SqlConfig
from components.peaks.planner import event_problems
from components.peaks.settings import PeakEventConfig, calendar_problems


@dataclass(frozen=True)
class _Sections:
    """The sections the planner reads, validated one by one (a PlannerConfig)."""

    services: list[ServiceConfig]
    kubernetes: KubernetesConfig
    sql: SqlConfig
    nosql: NoSqlConfig
    cache: CacheConfig
    peak_events: list[PeakEventConfig]


def _sections(data: Mapping[str, Any], events: list[PeakEventConfig]) -> _Sections | None:
    services = data.get("services")
    if not isinstance(services, list):
        return None
    try:
        return _Sections(services=[ServiceConfig.model_validate(s) for s in services],
                         kubernetes=KubernetesConfig.model_validate(data.get("kubernetes")),
                         sql=SqlConfig.model_validate(data.get("sql")),
                         nosql=NoSqlConfig.model_validate(data.get("nosql")),
                         cache=CacheConfig.model_validate(data.get("cache")), peak_events=events)
    except ValidationError:
        return None  # the schema reports the field errors; bounds are checked once they are fixed


def peak_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    raw = data.get("peakEvents")
    if not isinstance(raw, list):
        return []
    valid: list[tuple[int, PeakEventConfig]] = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, PeakEventConfig.model_validate(item)))
        except ValidationError:
            continue  # field errors are the schema's to report
    events = [event for _, event in valid]
    problems = [(f"peakEvents[{valid[position][0]}].{key}", message)
                for position, key, message in calendar_problems(events)]
    sections = _sections(data, events)
    if sections is None:
        return problems
    for index, event in valid:
        problems += event_problems(sections, event.event(), index)
    return problems
