"""Synthesis cost per stack, against the floor of the mock engine itself.

For each stack: the resource count and the wall time to synthesize it (best and median of
several runs, after one warm-up that pays for imports). The floor is a flat program that
registers the same number of bare resources under the same mocks and monitor: the ratio
says how much the blueprint's own work (config validation, Outputs, policy documents) adds
to what any program of that size would cost. The ratio compares best times: medians on a
shared 2-core machine carry the neighbours' noise.

    .venv/bin/python benchmarks/synth.py [--runs N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from blueprint.synth import Project, run_program, synthesize


class _Bare(pulumi.CustomResource):
    def __init__(self, name: str) -> None:
        super().__init__("bench:index:Bare", name, {"value": name})


def _timed(fn, runs: int) -> tuple[float, float, object]:
    fn()  # warm-up: module imports and first-use caches are not what is measured
    times, result = [], None
    for _ in range(runs):
        # A collection left over from the previous run would land in this one's time.
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    project = Project.load()

    print(f"{'stack':<10}{'resources':>10}{'synth best':>12}{'median':>9}"
          f"{'floor best':>12}{'median':>9}{'ratio':>8}")
    for stack in project.stacks():
        config = project.stack_config(stack)
        best, median, graph = _timed(lambda s=stack: synthesize(s, project=project), args.runs)
        count = len(graph)

        def flat(count=count, stack=stack, config=config):
            return run_program(lambda: [_Bare(f"r{i}") for i in range(count)],
                               project=project.name, stack=stack, config=config)

        floor_best, floor_median, floor_graph = _timed(flat, args.runs)
        assert len(floor_graph) == count
        print(f"{stack:<10}{count:>10}{best * 1000:>10.0f}ms{median * 1000:>7.0f}ms"
              f"{floor_best * 1000:>10.0f}ms{floor_median * 1000:>7.0f}ms{best / floor_best:>7.1f}x")


if __name__ == "__main__":
    main()
