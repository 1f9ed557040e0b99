"""The resource tree, as ``pulumi preview`` draws it, fitted to the console's width.

Each resource is one line: ``+ <type>  <name>``, then its markers (the region, where it is
not the stack's; ``protected``, where ``pulumi destroy`` will refuse). A line too wide is
folded: the name and the markers move to a line of their own under the type, and only a
name too long even there is shortened, in the middle. Markers are never cut.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from blueprint.graph import Resource, ResourceGraph
from blueprint.layout import Glyphs, ellipsize, glyphs, print_lines, width_of
from blueprint.synth import GLOBAL

PROTECTED = "protected"


def short_type(token: str) -> str:
    """A type token as the Pulumi CLI displays it (``simplifyTypeName`` in its display
    package): ``pkg:mod/sub:Type`` becomes ``pkg:mod:Type`` when ``sub`` is ``Type`` with its
    first letter lower-cased, as every pulumi-aws token's is; any other token is unchanged
    (``kubernetes:apps/v1:Deployment``, ``retail:edge:Cdn``)."""
    parts = token.split(":")
    if len(parts) != 3:
        return token
    package, module, name = parts
    if not name or "/" not in module:
        return token
    head, _, last = module.rpartition("/")
    if last != name[:1].lower() + name[1:]:
        return token
    return f"{package}:{head}:{name}"


def markers(resource: Resource, graph: ResourceGraph) -> list[tuple[str, str]]:
    """What a tree line says beside the name, as ``(text, style)``."""
    found: list[tuple[str, str]] = []
    if resource.region not in (None, graph.region, GLOBAL):
        found.append((f"(region {resource.region})", "cyan"))
    if resource.protect:
        found.append((PROTECTED, "yellow"))
    return found


@dataclass(frozen=True)
class _Node:
    head: Text
    """``+ <type>``"""
    name: str
    markers: Text
    """Each marker preceded by two spaces; empty when there are none."""


def _node(resource: Resource, graph: ResourceGraph) -> _Node:
    head = Text.assemble(("+ ", "green"), (short_type(resource.type), "bold" if resource.is_component else ""))
    tail = Text()
    for text, style in markers(resource, graph):
        tail.append("  ")
        tail.append(text, style)
    return _Node(head=head, name=resource.name, markers=tail)


def fit(node: _Node, first: Text, rest: Text, width: int, ascii_: Glyphs) -> list[Text]:
    """One resource's lines: ``first`` is the guide before its ``+``, ``rest`` the guide of
    any line below it (under the type, down to its children)."""
    whole = Text.assemble(first, node.head, "  ", node.name, node.markers)
    if whole.cell_len <= width:
        return [whole]
    lines = [Text.assemble(first, _squeeze(node.head, width - first.cell_len, ascii_))]
    room = width - rest.cell_len - node.markers.cell_len
    if room >= min(len(node.name), 12):
        lines.append(Text.assemble(rest, ellipsize(node.name, room, ascii_.ellipsis), node.markers))
    else:
        # Too deep for the name and its markers side by side: the markers get a line too.
        lines.append(Text.assemble(rest, ellipsize(node.name, width - rest.cell_len, ascii_.ellipsis)))
        lines.append(Text.assemble(rest, node.markers[2:]))
    return lines


def _squeeze(text: Text, cells: int, ascii_: Glyphs) -> Text:
    if text.cell_len <= cells:
        return text
    plain = ellipsize(text.plain, cells, ascii_.ellipsis)
    return Text(plain, style=text.spans[-1].style if text.spans else "")


def tree_lines(graph: ResourceGraph, width: int, chars: Glyphs) -> list[Text]:
    """The whole tree, every line at most ``width`` cells."""
    children: dict[str | None, list[Resource]] = defaultdict(list)
    for resource in graph:
        parent = resource.parent if resource.parent in graph.by_urn else None
        children[parent].append(resource)
    for siblings in children.values():
        # Grouped by logical name, so a NAT gateway sits beside its address.
        siblings.sort(key=lambda resource: (resource.name, resource.type))

    root = _Node(head=Text.assemble(("+ ", "green"), ("pulumi:pulumi:Stack", "bold")),
                 name=f"{graph.project}-{graph.stack}", markers=Text())
    lines = fit(root, Text(), Text(_down(chars, bool(children.get(None))), style="dim"), width, chars)

    def walk(parent: str | None, prefix: str) -> None:
        siblings = children.get(parent, [])
        for index, child in enumerate(siblings):
            last = index == len(siblings) - 1
            below = prefix + (chars.blank if last else chars.pipe)
            down = _down(chars, bool(children.get(child.urn)))
            lines.extend(fit(_node(child, graph), Text(prefix + (chars.last if last else chars.branch), style="dim"),
                             Text(below + down, style="dim"), width, chars))
            walk(child.urn, below)

    walk(None, "")
    return lines


def _down(chars: Glyphs, has_children: bool) -> str:
    """What a folded line shows under the ``+``: the guide down to the children, if any, so
    the name lines up with the type above it."""
    return (chars.pipe if has_children else chars.blank)[:2]


def render_tree(graph: ResourceGraph, console: Console) -> None:
    print_lines(console, tree_lines(graph, width_of(console), glyphs(console)))
