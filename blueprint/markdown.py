"""The plan as Markdown, for a CI job's summary page (``plan --markdown "$GITHUB_STEP_SUMMARY"``).

The same facts as the terminal summary (blueprint/summary.py: counts, regions, protected
resources, warnings, policies) from the same helpers, so the two never disagree; the resource
tree is left out (a preview comment carries the real one), resources by type and every policy's
result sit in collapsed sections. Text from the program (policy messages, names) is escaped:
a violation message must not be able to break the table or inject Markdown.
"""

from __future__ import annotations

import re

from blueprint.cost import estimate, headline
from blueprint.graph import ResourceGraph
from blueprint.plan_warnings import group_warnings
from blueprint.render import POLICY_PACK
from blueprint.summary import KEY_OUTPUTS, PolicyCounts, next_steps, regions
from blueprint.tree import short_type
from policies.offline import PolicyReport

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def escape(text: str) -> str:
    """``text`` shown literally in a Markdown table cell or line: one line, specials escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def code(text: str) -> str:
    """``text`` as inline code in a table cell: escapes do not work inside a code span, so a
    backtick becomes a quote; a pipe keeps its backslash, which GFM tables honour even there."""
    return "`" + " ".join(str(text).split()).replace("`", "'").replace("|", "\\|") + "`"


def _status(report: PolicyReport | None) -> str:
    if report is None:
        return "policies not run (`--no-policies`)"
    counts = PolicyCounts.of(report)
    if counts.failed:
        return f"**{counts.failed} mandatory polic{'y' if counts.failed == 1 else 'ies'} failed**: " \
               "`pulumi preview --policy-pack policies` would block this stack"
    return "every mandatory policy passed"


def plan_markdown(graph: ResourceGraph, report: PolicyReport | None) -> str:
    """The plan summary and the policy results of one stack, as a Markdown section."""
    custom = sum(1 for r in graph if r.custom)
    protected = sum(1 for r in graph if r.protect)
    groups = group_warnings(graph.warnings, namespaces=(graph.project, "aws"))
    lines = [f"## Plan of stack {code(graph.stack)}", "",
             f"Project {code(graph.project)}, region {code(graph.region)}, synthesized offline "
             f"under Pulumi's mocks: {_status(report)}.", "",
             "| | |", "|---|---|",
             f"| resources | {custom} and {len(graph) - custom} components to create |",
             f"| protected | {protected} |",
             "| regions | " + ", ".join(f"{escape(region)} {count}" + (f" ({note})" if note else "")
                                       for region, count, note in regions(graph)) + " |",
             f"| cost | {escape(headline(estimate(graph, None)))} (`blueprint cost {escape(graph.stack)}`) |"]
    warnings = sum(len(group.warnings) for group in groups)
    lines.append(f"| warnings | {warnings}, from {len(groups)} cause{'s' if len(groups) != 1 else ''} |"
                 if warnings else "| warnings | none |")
    if report is None:
        lines.append("| policies | not run |")
    else:
        counts = PolicyCounts.of(report)
        advisory = f", {counts.advisory} advisory" if counts.advisory else ""
        lines.append(f"| policies | {counts.passed} passed, {counts.failed} failed{advisory} |")
    for key, label in KEY_OUTPUTS:
        if graph.outputs.get(key):
            lines.append(f"| {label} | {code(graph.outputs[key])} (mocked) |")

    if report is not None:
        failures = {name: found for name, found in report.by_policy().items() if found}
        if failures:
            lines += ["", f"### Policy violations ({POLICY_PACK})", "",
                      "| result | policy | resource | message |", "|---|---|---|---|"]
            for name, violations in failures.items():
                mandatory = any(v.enforcement == "mandatory" for v in violations)
                result = "FAIL" if mandatory else "WARN"
                for violation in violations:
                    where = violation.urn.rsplit("::", 1)[-1] if violation.urn else "(stack)"
                    lines.append(f"| {result} | {code(name)} | {code(where)} | {escape(violation.message)} |")
        lines += ["", f"<details><summary>Every policy of {POLICY_PACK} ({len(report.evaluated)})</summary>",
                  "", "| result | policy |", "|---|---|"]
        for name, violations in report.by_policy().items():
            if not violations:
                result = "PASS"
            else:
                result = "FAIL" if any(v.enforcement == "mandatory" for v in violations) else "WARN"
            lines.append(f"| {result} | {code(name)} |")
        lines += ["", "</details>"]

    by_type: dict[str, int] = {}
    for type_token, count in graph.count_by_type().items():
        by_type[short_type(type_token)] = by_type.get(short_type(type_token), 0) + count
    lines += ["", f"<details><summary>Resources by type ({sum(by_type.values())})</summary>", "",
              "| type | count |", "|---|---:|"]
    lines += [f"| {code(type_token)} | {count} |" for type_token, count in sorted(by_type.items())]
    lines += ["", "</details>", ""]

    sentence, commands = next_steps(graph, report)
    lines += [f"Next: {sentence}", "", "```sh", *commands, "```", ""]
    return "\n".join(lines)
