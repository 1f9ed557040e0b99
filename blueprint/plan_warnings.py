"""The warnings the program logged, grouped by cause for the plan.

A warning's cause is the stack setting it names (``retail:edge.domain is not set`` and the
CDN's ``no HTTPS origin (retail:edge.domain is not set)`` are one cause, one fix); one that
names no setting is grouped under what said it (the ``subject: `` its text starts with). The
same text logged twice is shown once, with a count. Groups and warnings are sorted, so two
plans of one stack print them identically.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from blueprint.layout import hanging, print_lines, width_of

#: ``subject: text``, the form every component's warning takes (a logical or physical name).
_SUBJECT = re.compile(r"^([\w.-]{1,64}): ")


def _setting_pattern(namespaces: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in sorted(set(namespaces)))
    return re.compile(rf"(?<![\w:])(?:{names}):[A-Za-z]\w*(?:\.[A-Za-z]\w*)*")


@dataclass(frozen=True)
class LoggedWarning:
    text: str
    times: int = 1


@dataclass(frozen=True)
class WarningGroup:
    setting: str | None
    """The stack setting the warnings name, e.g. ``retail:edge.domain``."""
    subject: str | None
    """Otherwise what logged them, e.g. ``waf-cdn``; both None for what names neither."""
    warnings: tuple[LoggedWarning, ...]

    @property
    def title(self) -> str:
        if self.setting is not None:
            return f"setting {self.setting}"
        if self.subject is not None:
            return f"from {self.subject}"
        return "other"


def group_warnings(messages: Sequence[str], namespaces: Iterable[str] = ("aws",)) -> list[WarningGroup]:
    """Warnings deduplicated and grouped by cause; ``namespaces`` are the config namespaces a
    setting can be in (the project's name and the providers')."""
    setting_in = _setting_pattern(namespaces)
    by_cause: dict[tuple[str, str], Counter[str]] = {}
    for message in messages:
        setting = setting_in.search(message)
        subject = _SUBJECT.match(message)
        if setting is not None:
            key, text = ("setting", setting.group(0)), message
        elif subject is not None:
            # The heading names the subject; the line need not repeat it.
            key, text = ("subject", subject.group(1)), message[subject.end():]
        else:
            key, text = ("other", ""), message
        by_cause.setdefault(key, Counter())[text] += 1
    # Settings first (a fix in the stack file), then by subject, then the rest.
    order = {"setting": 0, "subject": 1, "other": 2}
    return [
        WarningGroup(setting=name if kind == "setting" else None, subject=name if kind == "subject" else None,
                     warnings=tuple(LoggedWarning(text, times) for text, times in sorted(counts.items())))
        for (kind, name), counts in sorted(by_cause.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    ]


def render_warnings(groups: Sequence[WarningGroup], console: Console) -> None:
    if not groups:
        return
    total = sum(len(group.warnings) for group in groups)
    causes = f"{len(groups)} cause{'s' if len(groups) != 1 else ''}"
    lines = [Text.assemble(("Warnings", "bold yellow"), f" ({total}, {causes})")]
    width = width_of(console)
    for group in groups:
        lines.append(Text.assemble("  ", (group.title, "yellow")))
        for warning in group.warnings:
            body = Text(warning.text)
            if warning.times > 1:
                body.append(f" (x{warning.times})", "dim")
            lines.extend(hanging(console, Text.assemble("    ", ("- ", "yellow")), body, width))
    print_lines(console, lines)
