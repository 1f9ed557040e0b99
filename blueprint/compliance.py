"""The compliance report for auditors: every control the pack checks, its status on one stack.

Built from what ``plan`` already computes, never a second evaluation: the synthesized graph
and the offline pack's ``PolicyReport`` (violations, and where a policy said it does not
apply). ``policies/controls.py`` adds what the pack does not say itself: the PCI DSS v4.0
requirements each control supports, and which resources a stack policy is about.

A control's status on the stack:

- ``fail``: a mandatory violation (the resource at fault named);
- ``warn``: only advisory findings (a value unknown until apply: the check could not decide);
- ``accepted-exception``: no violation, and a resource it covers carries an accepted,
  reasoned exception to it (``control-exceptions`` tag, ``ACCEPTED_EXCEPTIONS``);
- ``not-applicable``: no resource of the types it checks, or the policy itself said it does
  not apply to each of them (a prod-only control on a dev stack), with its reason;
- ``pass``: otherwise.

The JSON form is versioned (``schemaVersion``) and described by ``compliance.schema.json``
beside this module.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from blueprint.checks import check
from blueprint.graph import Resource, ResourceGraph
from policies._helpers import TypedResourcePolicy
from policies.controls import (
    CONTROLS,
    PCI_REQUIREMENTS,
    PCI_SOURCE,
    control_ids,
    expected_control,
    pci_requirements_of,
)
from policies.exceptions import ACCEPTED_EXCEPTIONS, CONTROL_EXCEPTIONS_TAG, declared_exceptions
from policies.offline import PolicyReport
from policies.registry import POLICIES

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("compliance.schema.json")

PASS, FAIL, WARN, EXCEPTION, NOT_APPLICABLE = "pass", "fail", "warn", "accepted-exception", "not-applicable"
#: Worst first: a requirement takes the worst status of its controls.
STATUSES = (FAIL, WARN, EXCEPTION, PASS, NOT_APPLICABLE)
COVERED, PARTIAL, NO_CHECK = "covered", "partially covered", "no automated check"
COVERAGES = (COVERED, PARTIAL, NO_CHECK)
#: How the report names a planned policy that is not registered yet.
NOT_IN_PACK = "not in the pack"


@dataclass(frozen=True)
class Subject:
    """A resource a control covers or names in a finding."""

    urn: str | None
    name: str
    type: str

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "name": self.name, "type": self.type}

    def label(self) -> str:
        return f"{self.name} ({self.type})" if self.urn else "(stack)"


@dataclass(frozen=True)
class Finding:
    """A violation, or why a policy does not apply, about ``subject``."""

    subject: Subject
    message: str
    enforcement: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"resource": self.subject.to_json(), "message": self.message}
        if self.enforcement is not None:
            data["enforcement"] = self.enforcement
        return data


@dataclass(frozen=True)
class ExceptionUse:
    control: str
    reason: str
    resources: tuple[Subject, ...]

    def to_json(self) -> dict[str, Any]:
        return {"control": self.control, "reason": self.reason,
                "resources": [r.to_json() for r in self.resources]}


@dataclass(frozen=True)
class ControlResult:
    policy: str
    ids: tuple[str, ...]
    description: str
    pci: tuple[str, ...]
    status: str
    #: Whether it checks every resource type (its resources are then the whole plan).
    every_type: bool
    #: Resources of the types it checks that it did check (not-applicable ones left out).
    resources: tuple[Subject, ...]
    violations: tuple[Finding, ...]
    not_applicable: tuple[Finding, ...]
    exceptions: tuple[ExceptionUse, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "ids": list(self.ids),
            "description": self.description,
            "pci": list(self.pci),
            "status": self.status,
            "everyType": self.every_type,
            "resources": [r.to_json() for r in self.resources],
            "violations": [v.to_json() for v in self.violations],
            "notApplicable": [n.to_json() for n in self.not_applicable],
            "exceptions": [e.to_json() for e in self.exceptions],
        }


@dataclass(frozen=True)
class RequirementResult:
    id: str
    topic: str
    coverage: str
    #: The worst status of its registered controls; None when it has none.
    status: str | None
    controls: tuple[ControlResult, ...]
    #: Policies listed for it that the pack does not register (yet), with their control id.
    not_in_pack: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "coverage": self.coverage,
            "status": self.status,
            "controls": [{"policy": c.policy, "ids": list(c.ids), "status": c.status} for c in self.controls],
            "notInPack": [{"policy": name, "control": control} for name, control in self.not_in_pack],
        }


@dataclass(frozen=True)
class DeclaredException:
    """An accepted exception some resources of the stack declare, with the policies that honour it."""

    control: str
    reason: str
    policies: tuple[str, ...]
    resources: tuple[Subject, ...]

    def to_json(self) -> dict[str, Any]:
        return {"control": self.control, "reason": self.reason, "policies": list(self.policies),
                "resources": [r.to_json() for r in self.resources]}


@dataclass(frozen=True)
class ComplianceReport:
    stack: str
    controls: tuple[ControlResult, ...]
    requirements: tuple[RequirementResult, ...]
    exceptions: tuple[DeclaredException, ...]

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.controls)

    def counts(self) -> dict[str, int]:
        found = Counter(c.status for c in self.controls)
        return {status: found.get(status, 0) for status in STATUSES}

    def coverage_counts(self) -> dict[str, int]:
        found = Counter(r.coverage for r in self.requirements)
        return {coverage: found.get(coverage, 0) for coverage in COVERAGES}

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "stack": self.stack,
            "pciSource": PCI_SOURCE,
            "summary": {"controls": self.counts(), "requirements": self.coverage_counts(), "failed": self.failed},
            "controls": [c.to_json() for c in self.controls],
            "requirements": [r.to_json() for r in self.requirements],
            "exceptions": [e.to_json() for e in self.exceptions],
        }

    def dumps(self) -> str:
        """The JSON form: sorted keys, byte for byte the same for the same input."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def compliance_report(graph: ResourceGraph, report: PolicyReport | None = None,
                      policies: Sequence[Policy] = POLICIES) -> ComplianceReport:
    """The report for ``graph``; ``report`` is the pack's result on it (run when not given),
    ``policies`` the pack it came from."""
    report = report if report is not None else check(graph)
    violations = report.by_policy()
    controls = tuple(
        _control(policy, graph, violations.get(policy.name, []), report) for policy in policies
        if policy.name in report.evaluated
    )
    by_name = {c.policy: c for c in controls}
    requirements = tuple(_requirement(req, by_name) for req in PCI_REQUIREMENTS)
    return ComplianceReport(stack=graph.stack, controls=controls, requirements=requirements,
                            exceptions=_declared_exceptions(graph, controls))


def covered_types(policy: Policy) -> frozenset[str] | None:
    """The types ``policy`` checks: its filter's (resource policies) or the control table's
    (stack policies); None for every type."""
    if isinstance(policy, TypedResourcePolicy):
        return policy.resource_types
    entry = CONTROLS.get(policy.name)
    if entry is None or entry.covers is None:
        raise LookupError(f"policy {policy.name!r} has no covered types: give it a CONTROLS entry with covers=... "
                          "in policies/controls.py")
    return frozenset(entry.covers)


def _subject(graph: ResourceGraph, urn: str | None) -> Subject:
    if urn is None:
        return Subject(None, "(stack)", "")
    resource = graph.by_urn.get(urn)
    if resource is None:
        return Subject(urn, urn.rsplit("::", 1)[-1], urn.split("::")[-2] if urn.count("::") >= 3 else "")
    return Subject(resource.urn, resource.name, resource.type)


def _of(resource: Resource) -> Subject:
    return Subject(resource.urn, resource.name, resource.type)


def _control(policy: Policy, graph: ResourceGraph, found: Iterable[Any], report: PolicyReport) -> ControlResult:
    ids = control_ids(policy.description)
    types = covered_types(policy)
    candidates = [r for r in graph if (r.custom if types is None else r.type in types)]
    skipped = [n for n in report.not_applicable if n.policy == policy.name]
    stack_skipped = any(n.urn is None for n in skipped)
    skipped_urns = {n.urn for n in skipped}
    checked = () if stack_skipped else tuple(_of(r) for r in candidates if r.urn not in skipped_urns)
    violations = tuple(Finding(_subject(graph, v.urn), v.message, v.enforcement) for v in found)
    not_applicable = tuple(Finding(_subject(graph, n.urn), n.reason) for n in skipped)
    exceptions = _exceptions_used(ids, [r for r in candidates if r.urn not in skipped_urns])

    if any(v.enforcement == EnforcementLevel.MANDATORY.value for v in violations):
        status = FAIL
    elif violations:
        status = WARN
    elif not checked:
        status = NOT_APPLICABLE
        if not skipped:
            kinds = ", ".join(sorted(types)) if types is not None else "any type"
            not_applicable = (Finding(Subject(None, "(stack)", ""), f"the stack has no resource of {kinds}"),)
    elif exceptions:
        status = EXCEPTION
    else:
        status = PASS
    return ControlResult(policy=policy.name, ids=ids, description=policy.description.partition(": ")[2]
                         or policy.description, pci=pci_requirements_of(policy.name), status=status,
                         every_type=types is None,
                         resources=checked, violations=violations, not_applicable=not_applicable,
                         exceptions=exceptions)


def _tags(resource: Resource) -> Any:
    return resource.inputs.get("tags")


def _exceptions_used(ids: Sequence[str], resources: Sequence[Resource]) -> tuple[ExceptionUse, ...]:
    used: list[ExceptionUse] = []
    for control in ids:
        if control not in ACCEPTED_EXCEPTIONS:
            continue
        holders = tuple(_of(r) for r in resources if control in declared_exceptions(_tags(r)))
        if holders:
            used.append(ExceptionUse(control, ACCEPTED_EXCEPTIONS[control], holders))
    return tuple(used)


def _requirement(req: str, controls: dict[str, ControlResult]) -> RequirementResult:
    requirement = PCI_REQUIREMENTS[req]
    registered = tuple(controls[name] for name in requirement.policies if name in controls)
    missing = tuple((name, expected_control(name)) for name in requirement.policies if name not in controls)
    if not registered:
        coverage = NO_CHECK
    elif missing:
        coverage = PARTIAL
    else:
        coverage = COVERED
    status = min((c.status for c in registered), key=STATUSES.index) if registered else None
    return RequirementResult(id=req, topic=requirement.topic, coverage=coverage, status=status,
                             controls=registered, not_in_pack=missing)


def _declared_exceptions(graph: ResourceGraph, controls: Sequence[ControlResult]) -> tuple[DeclaredException, ...]:
    holders: dict[str, list[Subject]] = {}
    for resource in graph:
        for control in declared_exceptions(_tags(resource)):
            if control in ACCEPTED_EXCEPTIONS:
                holders.setdefault(control, []).append(_of(resource))
    return tuple(
        DeclaredException(control=control, reason=ACCEPTED_EXCEPTIONS[control],
                          policies=tuple(c.policy for c in controls if control in c.ids),
                          resources=tuple(holders[control]))
        for control in sorted(holders, key=_natural)
    )


def _natural(control: str) -> tuple[tuple[int, int | str], ...]:
    # CloudFront.7 before CloudFront.15, as a person reads control ids.
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", control))


# --- Rendering ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _types_text(resources: Sequence[Subject], every_type: bool) -> str:
    if not resources:
        return "none"
    if every_type:
        # A control on every resource (standard tags): the type list would be the whole plan.
        return f"{len(resources)}: every resource"
    counts = Counter(r.type for r in resources)
    return f"{len(resources)}: " + ", ".join(f"`{t}` x{n}" if n > 1 else f"`{t}`" for t, n in sorted(counts.items()))


def _findings_text(control: ControlResult) -> str:
    if control.violations:
        return "; ".join(f"{v.subject.label()}: {v.message}" for v in control.violations)
    if control.status == NOT_APPLICABLE:
        return "; ".join(sorted({n.message for n in control.not_applicable}))
    if control.exceptions:
        return "; ".join(f"{e.control} on {', '.join(r.name for r in e.resources)}: {e.reason}"
                         for e in control.exceptions)
    return ""


def render_markdown(report: ComplianceReport) -> str:
    """The report as Markdown: summary, controls, PCI DSS requirements, accepted exceptions."""
    counts, coverage = report.counts(), report.coverage_counts()
    lines = [
        f"# Compliance report: stack `{report.stack}`",
        "",
        "Every control the retail-baseline policy pack checks, evaluated offline on the synthesized stack. "
        "Control ids are AWS Security Hub controls (AWS Foundational Security Best Practices) unless they "
        f"say otherwise; requirement topics: {PCI_SOURCE}.",
        "",
        "## Summary",
        "",
        "| Controls | Count |",
        "|---|---|",
        *(f"| {status} | {n} |" for status, n in counts.items()),
        f"| total | {len(report.controls)} |",
        "",
        "| PCI DSS v4.0 requirements | Count |",
        "|---|---|",
        *(f"| {name} | {n} |" for name, n in coverage.items()),
        f"| total | {len(report.requirements)} |",
        "",
        "## Controls",
        "",
        "| Policy | Control | PCI DSS v4.0 | Status | Resources checked | Findings |",
        "|---|---|---|---|---|---|",
    ]
    for c in report.controls:
        lines.append(f"| `{c.policy}` | {' / '.join(c.ids)} | {', '.join(c.pci) or '-'} | {c.status} | "
                     f"{_cell(_types_text(c.resources, c.every_type))} | {_cell(_findings_text(c))} |")
    lines += [
        "",
        "## PCI DSS v4.0 requirements",
        "",
        "| Requirement | Topic | Coverage | Status | Controls | Not in the pack |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.requirements:
        controls = ", ".join(f"`{c.policy}` ({' / '.join(c.ids)}): {c.status}" for c in r.controls) or "-"
        missing = ", ".join(f"`{name}` ({control})" for name, control in r.not_in_pack) or "-"
        lines.append(f"| {r.id} | {_cell(r.topic)} | {r.coverage} | {r.status or NO_CHECK} | {_cell(controls)} | "
                     f"{_cell(missing)} |")
    lines += ["", "## Accepted exceptions", ""]
    if report.exceptions:
        lines += [f"Resources declare them with the `{CONTROL_EXCEPTIONS_TAG}` tag; only reviewed exceptions "
                  "(`ACCEPTED_EXCEPTIONS`, components/common/compliance.py) count.", "",
                  "| Control | Reason | Policy | Resources |", "|---|---|---|---|"]
        for e in report.exceptions:
            policies = ", ".join(f"`{p}`" for p in e.policies) or "no policy of the pack checks this control"
            resources = ", ".join(r.label() for r in e.resources)
            lines.append(f"| {e.control} | {_cell(e.reason)} | {policies} | {_cell(resources)} |")
    else:
        lines.append("None declared.")
    failures = [(c, v) for c in report.controls for v in c.violations]
    if failures:
        lines += ["", "## Violations", "", "| Policy | Resource | Type | Enforcement | Message |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{c.policy}` | {_cell(v.subject.name)} | `{v.subject.type or '-'}` | {v.enforcement} | "
                  f"{_cell(v.message)} |" for c, v in failures]
    return "\n".join(lines) + "\n"


def render_console(report: ComplianceReport) -> list[str]:
    """A short summary for the terminal: counts, then every control that is not a pass."""
    counts = report.counts()
    lines = [f"stack {report.stack}: {len(report.controls)} controls: "
             + ", ".join(f"{n} {status}" for status, n in counts.items())]
    for c in report.controls:
        if c.status in (FAIL, WARN, EXCEPTION):
            lines.append(f"{c.status.upper()} {c.policy} ({' / '.join(c.ids)})")
            lines.extend(f"  - {v.subject.label()}: {v.message}" for v in c.violations)
            lines.extend(f"  - {e.control} on {', '.join(r.name for r in e.resources)}: {e.reason}"
                         for e in c.exceptions)
    coverage = report.coverage_counts()
    lines.append(f"PCI DSS v4.0: {len(report.requirements)} requirements: "
                 + ", ".join(f"{n} {name}" for name, n in coverage.items()))
    lines.extend(f"  {r.id} {r.topic}: no automated check (not in the pack: "
                 f"{', '.join(name for name, _ in r.not_in_pack)})" for r in report.requirements
                 if r.coverage == NO_CHECK)
    return lines
