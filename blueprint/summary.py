"""The plan's last screen: what a person reads first.

Resources by region (the DR region too, with no resources yet), how many are protected, the
warnings and policies in one line each, the outputs that matter and the next command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from blueprint.cost import estimate, headline
from blueprint.graph import ResourceGraph
from blueprint.layout import hanging, pack, print_lines, width_of
from blueprint.plan_warnings import WarningGroup
from blueprint.synth import GLOBAL
from policies.offline import PolicyReport

#: The stack outputs worth reading after a plan, with what to call them.
KEY_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("shopUrl", "shop URL"),
    ("cdnDomainName", "CDN domain"),
    ("albDnsName", "ALB DNS name"),
    ("clusterName", "cluster name"),
    ("sqlEndpoint", "SQL endpoint"),
    ("cacheEndpoint", "cache endpoint"),
)

_LABEL = 11  # "resources" and two spaces
_INDENT = "  "


@dataclass(frozen=True)
class PolicyCounts:
    passed: int
    failed: int
    """Policies with a mandatory violation: the engine would block the update."""
    advisory: int
    """Policies with advisory violations only."""

    @classmethod
    def of(cls, report: PolicyReport) -> PolicyCounts:
        passed = failed = advisory = 0
        for violations in report.by_policy().values():
            if not violations:
                passed += 1
            elif any(v.enforcement == "mandatory" for v in violations):
                failed += 1
            else:
                advisory += 1
        return cls(passed, failed, advisory)


def regions(graph: ResourceGraph) -> list[tuple[str, int, str | None]]:
    """``(region, resources, note)``: the stack's region first, then the others by name (the
    DR region among them, even with nothing in it yet), ``global`` last."""
    counts = graph.count_by_region()
    dr = graph.outputs.get("drRegion")
    named = set(counts) - {graph.region, GLOBAL}
    if isinstance(dr, str) and dr:
        named.add(dr)
    rows: list[tuple[str, int, str | None]] = [(graph.region, counts.get(graph.region, 0), "primary")]
    rows += [(region, counts.get(region, 0), "DR region" if region == dr else None) for region in sorted(named)]
    if GLOBAL in counts:
        rows.append((GLOBAL, counts[GLOBAL], None))
    return rows


def next_steps(graph: ResourceGraph, report: PolicyReport | None) -> tuple[str, list[str]]:
    """What to run next, and the sentence before it."""
    if report is not None and report.mandatory_failed:
        return "fix the failed policies above, then plan again:", [f"python -m blueprint plan {graph.stack}"]
    return "preview it for real (the same policy pack):", [
        f"pulumi stack select {graph.stack}",
        "pulumi preview --policy-pack policies",
    ]


def _field(console: Console, label: str, items: Sequence[Text], width: int) -> list[Text]:
    lead = Text.assemble(_INDENT, (label.ljust(_LABEL), "bold"))
    body = pack(console, items, width - lead.cell_len)
    return [Text.assemble(lead if index == 0 else " " * lead.cell_len, line) for index, line in enumerate(body)]


def _listing(items: Sequence[Text]) -> list[Text]:
    """Items with a comma after each but the last, ready for ``pack``."""
    return [Text.assemble(item, ",") if index < len(items) - 1 else item for index, item in enumerate(items)]


def summary_lines(graph: ResourceGraph, report: PolicyReport | None, groups: Sequence[WarningGroup],
                  console: Console, *, policies_listed: bool = False) -> list[Text]:
    width = width_of(console)
    custom = sum(1 for r in graph if r.custom)
    protected = sum(1 for r in graph if r.protect)
    lines = [Text.assemble(("Summary", "bold"), f": stack {graph.stack} (project {graph.project})")]

    lines += _field(console, "resources", _listing([
        Text(f"{custom} and {len(graph) - custom} components to create"),
        Text(f"{protected} protected", "yellow" if protected else "")]), width)

    lines += _field(console, "regions", _listing([
        Text.assemble(region, f" {count}", (f" ({note})", "cyan") if note else "")
        for region, count, note in regions(graph)]), width)

    # The baseline only (no planner, no synthesis): a pass over the graph, the plan stays fast.
    lines += _field(console, "cost", [Text(headline(estimate(graph, None)))], width)

    warnings = sum(len(group.warnings) for group in groups)
    lines += _field(console, "warnings", [Text(
        f"{warnings}, from {len(groups)} cause{'s' if len(groups) != 1 else ''} (above)" if warnings else "none",
        "yellow" if warnings else "")], width)

    if report is None:
        policy_items = [Text("not run (--no-policies)", "yellow")]
    else:
        counts = PolicyCounts.of(report)
        policy_items = [Text(f"{counts.passed} passed", "green"),
                        Text(f"{counts.failed} failed", "bold red" if counts.failed else "")]
        if counts.advisory:
            policy_items.append(Text(f"{counts.advisory} advisory", "yellow"))
        policy_items = _listing(policy_items)
        if counts.failed or counts.advisory:
            policy_items.append(Text("(listed above)", "dim"))
        elif not policies_listed:
            policy_items.append(Text("(each one: --policies)", "dim"))
    lines += _field(console, "policies", policy_items, width)

    outputs = [(label, graph.outputs[key]) for key, label in KEY_OUTPUTS if graph.outputs.get(key)]
    if outputs:
        lines += _field(console, "outputs", [Text("(what the cloud assigns is mocked offline)", "dim")], width)
        label_width = max(len(label) for label, _ in outputs)
        for label, value in outputs:
            lead = Text.assemble(_INDENT * 2, label.ljust(label_width), "  ")
            if lead.cell_len + len(str(value)) <= width:
                lines.append(Text.assemble(lead, (str(value), "cyan")))
            else:
                # Kept whole on a line of its own: an endpoint is copied, not read.
                lines.append(Text.assemble(_INDENT * 2, label))
                lines += hanging(console, _INDENT * 3, Text(str(value), "cyan"), width)

    sentence, commands = next_steps(graph, report)
    lines += _field(console, "next", [Text(sentence)], width)
    lines += [Text.assemble(" " * (len(_INDENT) + _LABEL), (command, "bold")) for command in commands]
    return lines


def render_summary(graph: ResourceGraph, report: PolicyReport | None, groups: Sequence[WarningGroup],
                   console: Console, *, policies_listed: bool = False) -> None:
    print_lines(console, summary_lines(graph, report, groups, console, policies_listed=policies_listed))
