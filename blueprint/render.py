"""The plan report: a tree like ``pulumi preview`` prints, counts, warnings, policy results.

Colour and box characters only on a terminal; piped output is plain text that diffs well.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from blueprint.graph import Resource, ResourceGraph
from blueprint.synth import GLOBAL
from policies.offline import PolicyReport


def make_console(file: TextIO | None = None) -> Console:
    console = Console(file=file, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        # Piped or redirected: no colour, no wrapping, guides in plain ASCII.
        console = Console(file=file, highlight=False, soft_wrap=True, no_color=True,
                          emoji=False, width=200, legacy_windows=False)
    return console


def _label(resource: Resource, graph: ResourceGraph, colour: bool) -> str:
    """One tree line; rich markup only when it will be rendered as markup."""
    esc = escape if colour else str
    parts = [f"[bold]{esc(resource.type)}[/]" if colour and resource.is_component else esc(resource.type),
             esc(resource.name)]
    if resource.region not in (None, graph.region, GLOBAL):
        parts.append(f"(region {esc(resource.region)})")
    if resource.protect:
        parts.append("[yellow]protected[/]" if colour else "protected")
    return "  ".join(parts)


def render_tree(graph: ResourceGraph, console: Console) -> None:
    colour = console.is_terminal
    children: dict[str | None, list[Resource]] = defaultdict(list)
    for resource in graph:
        parent = resource.parent if resource.parent in graph.by_urn else None
        children[parent].append(resource)
    for siblings in children.values():
        # Grouped by logical name, so a NAT gateway sits beside its address.
        siblings.sort(key=lambda resource: (resource.name, resource.type))
    title = f"+ pulumi:pulumi:Stack  {graph.project}-{graph.stack}"

    if colour:
        root = Tree(title, guide_style="dim")

        def add(node: Tree, parent: str | None) -> None:
            for child in children.get(parent, []):
                add(node.add(f"+ {_label(child, graph, colour)}"), child.urn)

        add(root, None)
        console.print(root)
        return

    # Piped: ASCII guides, so the plan survives any pager, log viewer or CI artefact.
    lines = [title]

    def walk(parent: str | None, prefix: str) -> None:
        siblings = children.get(parent, [])
        for index, child in enumerate(siblings):
            last = index == len(siblings) - 1
            lines.append(f"{prefix}{'`-' if last else '|-'} + {_label(child, graph, colour)}")
            walk(child.urn, prefix + ("   " if last else "|  "))

    walk(None, "")
    console.print("\n".join(lines), markup=False)


def render_counts(graph: ResourceGraph, console: Console) -> None:
    by_type = graph.count_by_type()
    table = Table(title="Resources by type", show_edge=False, box=None, pad_edge=False)
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_token, count in sorted(by_type.items()):
        table.add_row(type_token, str(count))
    table.add_row("total", str(sum(by_type.values())))
    console.print(table)
    console.print()

    regions = Table(title="Resources by region", show_edge=False, box=None, pad_edge=False)
    regions.add_column("region")
    regions.add_column("count", justify="right")
    for region, count in sorted(graph.count_by_region().items()):
        regions.add_row(region, str(count))
    console.print(regions)


def render_policies(report: PolicyReport, console: Console) -> None:
    colour = console.is_terminal
    console.print("[bold]Policy pack retail-baseline[/]" if colour else "Policy pack retail-baseline")
    failures = report.by_policy()
    for name in report.evaluated:
        violations = failures.get(name, [])
        if not violations:
            mark = "[green]PASS[/]" if colour else "PASS"
            console.print(f"  {mark}  {escape(name)}")
            continue
        enforcement = violations[0].enforcement
        mark = "[red]FAIL[/]" if colour else "FAIL"
        console.print(f"  {mark}  {escape(name)} ({enforcement}, {len(violations)} violation"
                      f"{'s' if len(violations) != 1 else ''})")
        for violation in violations:
            where = f" [{violation.urn.rsplit('::', 1)[-1]}]" if violation.urn else ""
            console.print(f"        - {escape(violation.message)}{escape(where)}")


def render_plan(graph: ResourceGraph, report: PolicyReport | None, console: Console) -> None:
    custom = sum(1 for r in graph if r.custom)
    components = len(graph) - custom
    console.print(f"Plan for stack {graph.stack} (project {graph.project}, region {graph.region}): "
                  f"{custom} resources and {components} components to create")
    console.print()
    render_tree(graph, console)
    console.print()
    render_counts(graph, console)
    if graph.warnings:
        console.print()
        console.print("Warnings")
        for warning in graph.warnings:
            console.print(f"  - {escape(warning)}")
    if report is not None:
        console.print()
        render_policies(report, console)
