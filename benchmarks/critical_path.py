"""The longest dependency chain of a fresh `pulumi up` per stack, weighted by typical creation
times (blueprint/critical_path.py states them): which resources a first deployment, or a DR
region's first build, waits on in a row. A layout change shows here as minutes gained or lost.

    .venv/bin/python benchmarks/critical_path.py [stack ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blueprint.critical_path import DEFAULT_MINUTES, longest_chain, minutes_of
from blueprint.synth import Project, synthesize


def main(stacks: list[str]) -> None:
    for stack in stacks or Project.load().stacks():
        graph = synthesize(stack)
        chain = longest_chain(graph)
        print(f"{stack}: {chain.minutes:.1f} min over {len(chain.urns)} resources")
        for urn in chain.urns:
            resource = graph.by_urn[urn]
            if minutes_of(resource.type) > DEFAULT_MINUTES:
                region = resource.inputs.get("region") or graph.region
                print(f"  {minutes_of(resource.type):>5.1f}  {resource.type}  {resource.name}  ({region})")


if __name__ == "__main__":
    main(sys.argv[1:])
