"""``python -m blueprint plan <stack> [--json FILE]``: the offline plan of a stack.

Exit codes: 0 the plan is clean; 1 a mandatory policy failed (``diff``: a cloud resource would
be created, deleted or changed);
2 the stack config is invalid or the stack does not exist (the message says which key and
how to fix it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pulumi

from blueprint.checks import check
from blueprint.diff import diff_graphs
from blueprint.graph import ResourceGraph
from blueprint.render import make_console, progress, render_plan
from blueprint.synth import Project, StackNotFoundError, synthesize

EXIT_OK, EXIT_POLICY_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m blueprint", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--project", metavar="DIR", type=Path, default=None,
                        help="the directory holding Pulumi.yaml (default: this checkout)")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="synthesize a stack offline and print its plan")
    plan.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml")
    plan.add_argument("--json", metavar="FILE", type=Path,
                      help="also write the resource graph as JSON (schema: blueprint/graph.schema.json)")
    policies = plan.add_mutually_exclusive_group()
    policies.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    policies.add_argument("--policies", "-v", "--verbose", dest="every_policy", action="store_true",
                          help="list every policy's result, PASS lines included")
    commands.add_parser("stacks", help="list the stacks")
    diff = commands.add_parser("diff", help="what the engine would create, delete or change between a saved "
                               "graph and a stack (or another saved graph); aliases count as the same resource")
    diff.add_argument("old", type=Path, help="a graph written by `plan --json`")
    diff.add_argument("new", help="a stack name, or a second graph file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = make_console()
    errors = make_console(sys.stderr)
    project = Project.load(args.project) if args.project else Project.load()
    if args.command == "stacks":
        for stack in project.stacks():
            console.print(stack, markup=False)
        return EXIT_OK

    if args.command == "diff":
        return _diff(args.old, args.new, project, console, errors)

    try:
        with progress(errors, f"synthesizing stack {args.stack} under Pulumi's mocks"):
            graph = synthesize(args.stack, project=project)
    except StackNotFoundError as exc:
        errors.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except pulumi.RunError as exc:
        errors.print(f"error: stack {args.stack}: {exc}", markup=False)
        return EXIT_BAD_INPUT

    with progress(errors, "checking the policy pack"):
        report = None if args.no_policies else check(graph)
    if args.json is not None:
        args.json.write_text(graph.dumps() + "\n")
    render_plan(graph, report, console, every_policy=args.every_policy, json_path=args.json)
    if report is not None and report.mandatory_failed:
        return EXIT_POLICY_FAILED
    return EXIT_OK


def _diff(old_path: Path, new: str, project: Project, console, errors) -> int:
    try:
        old = ResourceGraph.load(old_path)
        if Path(new).is_file():
            graph = ResourceGraph.load(new)
        else:
            with progress(errors, f"synthesizing stack {new} under Pulumi's mocks"):
                graph = synthesize(new, project=project)
    except (OSError, ValueError) as exc:
        errors.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except StackNotFoundError as exc:
        errors.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except pulumi.RunError as exc:
        errors.print(f"error: stack {new}: {exc}", markup=False)
        return EXIT_BAD_INPUT
    result = diff_graphs(old, graph)
    for line in result.lines():
        console.print(line, markup=False)
    console.print(f"{len(result.created)} to create, {len(result.deleted)} to delete, {len(result.changed)} to "
                  f"change, {len(result.moved)} moved through aliases, of {len(graph)} resources", markup=False)
    created, deleted, changed = result.cloud
    console.print(f"cloud resources: {len(created)} to create, {len(deleted)} to delete, {len(changed)} to change",
                  markup=False)
    return EXIT_OK if not (created or deleted or changed) else EXIT_POLICY_FAILED


if __name__ == "__main__":
    sys.exit(main())
