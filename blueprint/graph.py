"""The resource graph a synthesized stack produces, and its JSON form.

The JSON form is versioned (``schemaVersion``) and described by ``graph.schema.json`` beside
this module; a reader that gets a version it does not know should refuse it, not guess.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("graph.schema.json")


#: What the DR strategy adds to a stack (see :meth:`ResourceGraph.without_dr`).
DR_SLICE_TYPE, DR_SLICE_NAME = "retail:platform:RegionalPlatform", "dr"
KEY_RING_TYPE, DR_KEYS_NAME = "retail:foundation:KeyRing", "dr-keys"
DR_COMPONENT_TYPES = frozenset({"retail:resilience:Backup", "retail:edge:FailoverRouting",
                                "retail:resilience:RegionSwitchPlan"})


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: Mapping[str, Any]
    id: str | None = None
    parent: str | None = None
    provider: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    aliases: tuple[str, ...] = ()
    """Earlier URNs the engine matches this resource to (its aliases, resolved), so a move or
    a rename updates the resource in place instead of replacing it."""
    region: str | None = None
    """Where the resource lives: its own ``region`` input, else the provider's region;
    ``"global"`` for global services (IAM, CloudFront, Route 53); ``None`` for what has no
    region (components, Kubernetes objects, providers)."""

    @property
    def is_component(self) -> bool:
        return not self.custom

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "id": self.id,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "aliases": list(self.aliases),
            "region": self.region,
            "dependencies": list(self.dependencies),
            "propertyDependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "inputs": self.inputs,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Resource:
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            custom=data["custom"],
            id=data.get("id"),
            parent=data.get("parent"),
            provider=data.get("provider"),
            protect=data.get("protect", False),
            aliases=tuple(data.get("aliases", ())),
            region=data.get("region"),
            dependencies=tuple(data.get("dependencies", ())),
            property_dependencies={k: tuple(v) for k, v in data.get("propertyDependencies", {}).items()},
            inputs=data.get("inputs", {}),
        )


@dataclass(frozen=True)
class ResourceGraph:
    """Every resource one stack registers (sorted by URN), plus its outputs and warnings."""

    project: str
    stack: str
    region: str
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    @cached_property
    def by_urn(self) -> dict[str, Resource]:
        return {resource.urn: resource for resource in self.resources}

    def get(self, urn: str) -> Resource:
        return self.by_urn[urn]

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Resource:
        """The single resource of a type (and name); raises if there are none or several."""
        matches = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token} named {name!r}, found {len(matches)}")
        return matches[0]

    def without_dr(self) -> ResourceGraph:
        """The graph without what the DR strategy adds: the DR region's slice, its keys, AWS
        Backup and the failover routing (each component and everything under it). For tests
        and reports about the primary region; the whole graph is what deploys."""
        dropped: set[str] = set()
        for resource in self.resources:
            named = (resource.type, resource.name)
            if resource.type in DR_COMPONENT_TYPES or named in ((DR_SLICE_TYPE, DR_SLICE_NAME),
                                                                (KEY_RING_TYPE, DR_KEYS_NAME)):
                dropped.add(resource.urn)
                dropped.update(r.urn for r in self.descendants(resource.urn))
        return dataclasses.replace(self, resources=tuple(r for r in self.resources if r.urn not in dropped))

    def children(self, urn: str | None) -> list[Resource]:
        """Resources whose parent is ``urn``; ``None`` gives the top level (parent is the stack)."""
        top = {urn} if urn is not None else {None, self.stack_urn}
        return [r for r in self.resources if r.parent in top]

    def descendants(self, urn: str) -> list[Resource]:
        found: list[Resource] = []
        queue = [urn]
        while queue:
            current = queue.pop()
            for child in self.children(current):
                found.append(child)
                queue.append(child.urn)
        return found

    def ancestors(self, urn: str) -> list[Resource]:
        chain: list[Resource] = []
        parent = self.get(urn).parent
        while parent is not None and parent in self.by_urn:
            chain.append(self.by_urn[parent])
            parent = self.by_urn[parent].parent
        return chain

    def depends_on(self, urn: str, target: str) -> bool:
        """Whether ``urn`` waits on ``target``, directly or through other resources, parents
        included (a child waits on what its component waits on)."""
        seen: set[str] = set()
        queue = [urn]
        while queue:
            current = queue.pop()
            if current in seen or current not in self.by_urn:
                continue
            seen.add(current)
            resource = self.by_urn[current]
            edges = list(resource.dependencies)
            for deps in resource.property_dependencies.values():
                edges.extend(deps)
            if target in edges:
                return True
            queue.extend(edges)
        return False

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    def count_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.resources if r.custom)

    def count_by_region(self) -> Counter[str]:
        return Counter(r.region for r in self.resources if r.region is not None)

    # -- JSON ----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "project": self.project,
            "stack": self.stack,
            "region": self.region,
            "outputs": self.outputs,
            "warnings": list(self.warnings),
            "resources": [r.to_json() for r in self.resources],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False, default=str)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceGraph:
        version = data.get("schemaVersion")
        if version != SCHEMA_VERSION:
            raise ValueError(f"graph schemaVersion {version!r} is not supported (this reader knows {SCHEMA_VERSION})")
        return cls(
            project=data["project"],
            stack=data["stack"],
            region=data["region"],
            outputs=data.get("outputs", {}),
            warnings=tuple(data.get("warnings", ())),
            resources=tuple(Resource.from_json(r) for r in data["resources"]),
        )

    @classmethod
    def load(cls, path: str | Path) -> ResourceGraph:
        return cls.from_json(json.loads(Path(path).read_text()))


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())
