"""Stack files as YAML: their shape checked, duplicate keys refused, every key's line kept.

The Pulumi CLI reads the stack file before the program runs; the offline engine reads it
here, refusing what the CLI would refuse (or what YAML would silently accept, such as a key
written twice, where the last one wins). The program uses the same reader to point each
config problem at its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class StackFileError(ValueError):
    """A stack file that cannot be read as config: each problem with its line where known."""

    def __init__(self, path: Path | str, problems: Sequence[tuple[int | None, str]]):
        self.path, self.problems = Path(path), problems
        lines = [f"  {'line ' + str(line) + ': ' if line else ''}{message}" for line, message in problems]
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{self.path}: cannot read the stack file ({len(problems)} {noun}):\n" + "\n".join(lines))


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: Mapping[str, Any]
    """``namespace:key`` -> the YAML value (scalars, mappings and lists as YAML parsed them)."""
    lines: Mapping[str, int] = field(default_factory=dict)
    """Key path (``retail:network.cidr``, ``retail:services[0].name``) -> 1-based line."""

    def line_of(self, key_path: str) -> int | None:
        """The line of ``key_path``, or of its nearest ancestor in the file (a missing key is
        reported where its section starts), or None."""
        path = key_path
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= path.find(":"):
                return None
            path = path[:cut]
        return None


class _Loader(yaml.SafeLoader):
    """Safe YAML as the Pulumi CLI reads it (YAML 1.2: only true and false are booleans, so
    `yes`, `no`, `on` and `off` stay text), refusing duplicate keys instead of keeping the last."""

    duplicates: list[tuple[int, str]]


# PyYAML follows YAML 1.1, where yes/no/on/off are booleans; the CLI's YAML 1.2 reads them as text.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)  # pyright: ignore[reportArgumentType]
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.duplicates.append((line, f"key {key!r} is written twice (first on line {seen[key]}); YAML "
                                            "would silently keep this one: remove one of them"))
        else:
            seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)  # type: ignore[arg-type]


def _collect_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = f"{path}.{key_node.value}" if path else str(key_node.value)
            lines.setdefault(child, key_node.start_mark.line + 1)
            _collect_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _collect_lines(item, child, lines)


def read_stack_file(path: Path | str) -> StackFile:
    """Read a ``Pulumi.<stack>.yaml``; raises :class:`StackFileError` for a file the CLI could
    not use (YAML syntax, tabs, a list or scalar instead of a mapping, ``config`` that is not
    a mapping, a key written twice). An empty file, or one without ``config:``, has no config."""
    path = Path(path)
    text = path.read_text()
    loader = _Loader(text)
    loader.duplicates = []
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(filter(None, (exc.context, exc.problem)))
        if "'\\t'" in str(exc):  # PyYAML: "found character '\t' that cannot start any token"
            reason += " (YAML does not allow tabs for indentation: indent with spaces)"
        raise StackFileError(path, [(mark.line + 1 if mark else None, f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise StackFileError(path, [(None, f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise StackFileError(path, loader.duplicates)
    if data is None:
        return StackFile(path, {})
    if not isinstance(data, Mapping):
        raise StackFileError(path, [(1, f"the file holds a {_kind(data)}; a stack file is a mapping with a "
                                        "`config:` key, e.g. `config:\\n  retail:environment: dev`")])
    config = data.get("config")
    if config is None:
        return StackFile(path, {})
    if not isinstance(config, Mapping):
        line = root.value[0][0].start_mark.line + 1 if isinstance(root, yaml.MappingNode) else None
        raise StackFileError(path, [(line, f"`config:` holds a {_kind(config)}; it must be a mapping of "
                                           "`namespace:key: value`")])
    lines: dict[str, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "config":
                _collect_lines(value_node, "", lines)
    bad = [(lines.get(str(key)), f"config key {key!r} must be text (`namespace:key`)")
           for key in config if not isinstance(key, str)]
    if bad:
        raise StackFileError(path, bad)
    return StackFile(path, dict(config), lines)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return f"single value ({value!r})"
