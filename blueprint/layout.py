"""Fitting text to the console's width: the plan folds and ellipsizes, it never crops.

Every helper returns finished lines (``rich.text.Text``, styles kept) no wider than asked, so
the caller prints them as they are and rich never wraps or cuts them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

#: The narrowest the plan lays itself out for; a narrower console gets lines this wide.
MIN_WIDTH = 40


@dataclass(frozen=True)
class Glyphs:
    """The characters the plan draws with: box drawing on a terminal, ASCII when piped."""

    branch: str
    last: str
    pipe: str
    blank: str
    ellipsis: str


ASCII = Glyphs(branch="|- ", last="`- ", pipe="|  ", blank="   ", ellipsis="...")
BOX = Glyphs(branch="├─ ", last="└─ ", pipe="│  ", blank="   ", ellipsis="…")


def glyphs(console: Console) -> Glyphs:
    """Box drawing only on a terminal that can show it; plain ASCII everywhere else."""
    encoding = (console.encoding or "").lower()
    return BOX if console.is_terminal and encoding.startswith("utf") else ASCII


def width_of(console: Console) -> int:
    return max(console.width, MIN_WIDTH)


def ellipsize(text: str, cells: int, ellipsis: str) -> str:
    """``text`` cut in the middle to at most ``cells`` cells, so both ends stay readable
    (names differ at the end as often as at the start: ``…-private-0``, ``…-private-1``)."""
    if cell_len(text) <= cells:
        return text
    if cells <= cell_len(ellipsis):
        return ellipsis[: max(cells, 0)]
    keep = cells - cell_len(ellipsis)
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + ellipsis + (text[-tail:] if tail else "")


def hanging(console: Console, lead: Text | str, body: Text | str, width: int | None = None) -> list[Text]:
    """``body`` wrapped after ``lead``, the lines below indented to where the body starts."""
    lead = lead if isinstance(lead, Text) else Text(lead)
    body = body if isinstance(body, Text) else Text(body)
    total = width if width is not None else width_of(console)
    indent = lead.cell_len
    wrapped = body.wrap(console, max(total - indent, MIN_WIDTH // 2), overflow="fold")
    lines: list[Text] = []
    for index, line in enumerate(wrapped):
        line.rstrip()
        lines.append(Text.assemble(lead if index == 0 else " " * indent, line))
    return lines or [lead.copy()]


def pack(console: Console, items: Sequence[Text], width: int) -> list[Text]:
    """Items laid out left to right, one space apart, a new line whenever the next one would
    not fit; an item is only broken (at its spaces) when it is wider than a line."""
    lines: list[Text] = []
    current: Text | None = None
    for item in items:
        if item.cell_len > width:
            if current is not None:
                lines.append(current)
            *whole, last = item.wrap(console, width, overflow="fold")
            for line in whole:
                line.rstrip()
                lines.append(line)
            current = Text.assemble(last)
        elif current is None:
            # Assembled, not copied: an item's style stays on that item.
            current = Text.assemble(item)
        elif current.cell_len + 1 + item.cell_len <= width:
            current.append(" ")
            current.append_text(item)
        else:
            lines.append(current)
            current = Text.assemble(item)
    if current is not None:
        lines.append(current)
    return lines


def print_lines(console: Console, lines: Sequence[Text]) -> None:
    """Lines already fitted: printed as they are, never wrapped or cropped again."""
    if lines:
        console.print(Text("\n").join(lines), soft_wrap=True)
