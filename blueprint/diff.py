"""What changes between two resource graphs of one stack, as the engine would see it.

A resource of the new graph is the same resource as one of the old graph when it has the
same URN or when one of its aliases is that URN (the engine then updates it in place). What
is left over is created or deleted; what is matched but differs in type, inputs, parent,
dependencies, provider or protection is changed. A refactor that only moves code shows no
change at all: that is how a restructuring proves it replaces nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprint.graph import Resource, ResourceGraph

#: What the engine records in its state but never sends to the provider: a change to these
#: alone updates nothing in the cloud.
STATE_ONLY_FIELDS = frozenset({"dependencies"})


@dataclass(frozen=True)
class Change:
    urn: str
    """The resource's URN in the old graph."""
    custom: bool
    """A cloud resource (False: a component, which holds no state in the cloud)."""
    fields: tuple[str, ...]
    """What differs: ``type``, ``parent``, ``provider``, ``protect``, ``dependencies``,
    ``inputs.<key>`` (top-level input keys)."""


@dataclass(frozen=True)
class GraphDiff:
    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    changed: tuple[Change, ...] = ()
    moved: Mapping[str, str] = field(default_factory=dict)
    """New URN -> old URN, for resources matched through an alias."""

    components: frozenset[str] = frozenset()
    """URNs (old and new) of the components among the resources above."""

    @property
    def empty(self) -> bool:
        """True when the engine would create, delete and change nothing."""
        return not (self.created or self.deleted or self.changed)

    @property
    def cloud(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Change, ...]]:
        """Created, deleted and changed cloud resources: what a deployment would touch.
        Components hold no state in AWS, so adding, re-parenting or retyping one (with aliases
        for what it moves) changes nothing there."""
        return (tuple(u for u in self.created if u not in self.components),
                tuple(u for u in self.deleted if u not in self.components),
                tuple(c for c in self.changed if c.custom and set(c.fields) - STATE_ONLY_FIELDS))

    def lines(self) -> list[str]:
        out = [f"+ create {urn}" for urn in self.created]
        out += [f"- delete {urn}" for urn in self.deleted]
        out += [f"~ change {c.urn}: {', '.join(c.fields)}" for c in self.changed]
        out += [f"= moved  {old} -> {new} (alias)" for new, old in sorted(self.moved.items())]
        return out


def diff_graphs(old: ResourceGraph, new: ResourceGraph) -> GraphDiff:
    """Match ``new`` to ``old`` by URN or alias and list what the engine would do."""
    old_urns = set(old.by_urn)
    matched: dict[str, str] = {}
    for resource in new:
        if resource.urn in old_urns:
            matched[resource.urn] = resource.urn
        else:
            earlier = next((alias for alias in resource.aliases if alias in old_urns), None)
            if earlier is not None:
                matched[resource.urn] = earlier
    if len(set(matched.values())) != len(matched):
        raise ValueError("two resources of the new graph claim the same old resource")

    def to_old(urn: str | None) -> str | None:
        return matched.get(urn, urn) if urn is not None else None

    changed = []
    for resource in new:
        if resource.urn not in matched:
            continue
        before = old.get(matched[resource.urn])
        fields = _changed_fields(before, resource, to_old, moved=matched[resource.urn] != resource.urn)
        if fields:
            changed.append(Change(urn=before.urn, custom=resource.custom, fields=fields))
    return GraphDiff(
        created=tuple(sorted(r.urn for r in new if r.urn not in matched)),
        deleted=tuple(sorted(old_urns - set(matched.values()))),
        changed=tuple(changed),
        moved={new_urn: old_urn for new_urn, old_urn in matched.items() if new_urn != old_urn},
        components=frozenset(r.urn for graph in (old, new) for r in graph if not r.custom),
    )


def _changed_fields(before: Resource, after: Resource, to_old: Any, *, moved: bool) -> tuple[str, ...]:
    fields = []
    # A resource found through an alias has a new URN on purpose: a new parent or type token
    # is what the alias declares (it is listed under ``moved``), not a change.
    if not moved and before.type != after.type:
        fields.append("type")
    if not moved and (before.parent or None) != (to_old(after.parent) or None):
        fields.append("parent")
    if before.provider != to_old(after.provider):
        fields.append("provider")
    if before.protect != after.protect:
        fields.append("protect")
    if set(before.dependencies) != {to_old(u) for u in after.dependencies}:
        fields.append("dependencies")
    keys = sorted(set(before.inputs) | set(after.inputs))
    fields += [f"inputs.{key}" for key in keys if before.inputs.get(key) != after.inputs.get(key)]
    return tuple(fields)
