"""The plan report: a tree like ``pulumi preview`` prints, counts, warnings, policy results,
and last a summary.

Colour and box characters only on a terminal; piped output is plain ASCII that diffs well.
Every line fits the console's width (80 columns when piped, unless ``COLUMNS`` says
otherwise): long lines are folded or shortened in the middle, never cut.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from blueprint.graph import ResourceGraph
from blueprint.layout import ellipsize, glyphs, hanging, pack, print_lines, width_of
from blueprint.plan_warnings import group_warnings, render_warnings
from blueprint.summary import PolicyCounts, render_summary
from blueprint.tree import render_tree, short_type
from policies.offline import PolicyReport

#: The width of piped output when ``COLUMNS`` does not give one.
PIPED_WIDTH = 80
POLICY_PACK = "retail-baseline"


def make_console(file: TextIO | None = None, *, width: int | None = None,
                 force_terminal: bool | None = None) -> Console:
    """A console for the plan: colour on a terminal, plain ASCII when piped. ``width`` and
    ``force_terminal`` are for tests (and for rendering as a given terminal would)."""
    console = Console(file=file, highlight=False, soft_wrap=True, width=width, force_terminal=force_terminal)
    if not console.is_terminal:
        # Piped or redirected: no colour, no control sequences, a width that does not depend
        # on the terminal the command happened to run in.
        columns = os.environ.get("COLUMNS", "")
        console = Console(file=file, highlight=False, soft_wrap=True, no_color=True, emoji=False,
                          width=width or (int(columns) if columns.isdigit() else PIPED_WIDTH),
                          force_terminal=force_terminal, legacy_windows=False)
    return console


@contextmanager
def progress(console: Console, message: str) -> Iterator[None]:
    """A spinner while something slow runs, on a terminal only: piped output gets nothing."""
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


def render_header(graph: ResourceGraph, console: Console) -> None:
    custom = sum(1 for r in graph if r.custom)
    items = [Text.assemble(("Plan for stack ", "bold"), (graph.stack, "bold"),
                           f" (project {graph.project}, region {graph.region}):"),
             Text(f"{custom} resources and {len(graph) - custom} components to create")]
    print_lines(console, pack(console, items, width_of(console)))


def render_counts(graph: ResourceGraph, console: Console) -> None:
    """Cloud resources by type (as the tree names them), then the total."""
    by_type: Counter[str] = Counter()
    for type_token, count in graph.count_by_type().items():
        by_type[short_type(type_token)] += count
    rows = sorted(by_type.items())
    total = sum(by_type.values())
    digits = len(str(total))
    # Each type whole, its count right-aligned beside it; a type wider than the console
    # (there is none in this project) is shortened in the middle.
    room = width_of(console) - digits - 2
    column = min(max((len(t) for t, _ in rows), default=0), room)
    lines = [Text("Resources by type", "bold")]
    for type_token, count in rows:
        lines.append(Text(f"{ellipsize(type_token, column, glyphs(console).ellipsis):<{column}}  {count:>{digits}}"))
    lines.append(Text(f"{'total':<{column}}  {total:>{digits}}", "bold"))
    print_lines(console, lines)


def render_policies(report: PolicyReport, console: Console, *, every: bool = False) -> None:
    """Each policy with a violation, in full; with ``every``, the passing ones too. Nothing
    when every policy passed and ``every`` is not asked for: the summary says so."""
    failures = report.by_policy()
    if not every and not any(failures.values()):
        return
    counts = PolicyCounts.of(report)
    lines = [Text.assemble((f"Policy pack {POLICY_PACK}", "bold"),
                           f": {counts.passed} passed, {counts.failed} failed"
                           + (f", {counts.advisory} advisory" if counts.advisory else ""))]
    width = width_of(console)
    for name in report.evaluated:
        violations = failures.get(name, [])
        if not violations:
            if every:
                lines.append(Text.assemble("  ", ("PASS", "green"), "  ", name))
            continue
        mandatory = any(v.enforcement == "mandatory" for v in violations)
        mark = ("FAIL", "bold red") if mandatory else ("WARN", "yellow")
        enforcement = "mandatory" if mandatory else violations[0].enforcement
        plural = "s" if len(violations) != 1 else ""
        lines += hanging(console, Text.assemble("  ", mark, "  "),
                         f"{name} ({enforcement}, {len(violations)} violation{plural})", width)
        for violation in violations:
            where = f" [{violation.urn.rsplit('::', 1)[-1]}]" if violation.urn else ""
            lines += hanging(console, "        - ", Text.assemble(violation.message, (where, "dim")), width)
    print_lines(console, lines)


def render_plan(graph: ResourceGraph, report: PolicyReport | None, console: Console, *,
                every_policy: bool = False, json_path: Path | None = None) -> None:
    """The whole plan, the summary last (what a person reads first)."""
    groups = group_warnings(graph.warnings, namespaces=(graph.project, "aws"))
    render_header(graph, console)
    console.print()
    render_tree(graph, console)
    console.print()
    render_counts(graph, console)
    if groups:
        console.print()
        render_warnings(groups, console)
    if report is not None and (every_policy or report.violations):
        console.print()
        render_policies(report, console, every=every_policy)
    if json_path is not None:
        console.print()
        console.print(f"wrote the resource graph to {json_path}", markup=False)
    console.print()
    render_summary(graph, report, groups, console, policies_listed=every_policy)
