"""``python -m blueprint``: ``plan <stack>``, ``diff OLD.json <stack|NEW.json>``, ``access <stack>``,
``dr <stack>``, ``compliance <stack>``, ``peaks <stack>``, ``cost <stack> | cost --compare A.json B.json``,
``stacks``.

The exit codes CI relies on are listed in ``--help`` (``EPILOG`` below): ``plan`` 0 clean,
1 a mandatory policy failed, 2 the stack config is invalid or the stack does not exist (the
message says which key and how to fix it); ``diff`` 0 no cloud change, 1 cloud changes,
2 bad input; ``access`` 0, or 2 when the stack is invalid or does not exist; ``dr`` 0 every
primary store has the DR mechanism its strategy needs and every declared target is met, 1
otherwise, 2 on an invalid or missing stack; ``compliance`` 0 no control fails, 1 a control
fails, 2 on an invalid or missing stack; ``peaks`` 0, or 2 on an invalid (a peak the bounds cannot
carry included) or missing stack; ``cost`` 0, or 2 on an invalid or missing stack, an
unreadable graph file or a peak the planner refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pulumi

from blueprint import __version__
from blueprint.access import access_report, render_access
from blueprint.checks import check
from blueprint.compliance import compliance_report, render_console, render_markdown
from blueprint.cost import compare_json, estimate, render_compare
from blueprint.cost import render_text as render_cost
from blueprint.diff import diff_graphs
from blueprint.dr import dr_report, render_report, render_runbook
from blueprint.graph import ResourceGraph
from blueprint.markdown import plan_markdown
from blueprint.peaks import dumps as dump_peaks
from blueprint.peaks import peaks_report, render_peaks
from blueprint.render import make_console, progress, render_plan
from blueprint.synth import Project, StackNotFoundError, synthesize
from components.peaks.planner import plan_events
from components.resilience.objectives import Tier
from config.loader import ConfigError, parse_stack_config
from config.source import StackFileError
from config.stack import StackConfig

EXIT_OK, EXIT_POLICY_FAILED, EXIT_BAD_INPUT = 0, 1, 2

DESCRIPTION = """\
The retail blueprint's offline tooling: run the Pulumi program of a stack under
Pulumi's mock runtime (no cloud credentials, no Pulumi CLI), print its plan, check
it against the policy pack, and diff two plans as the engine would."""

PLAN_EXIT_CODES = """\
exit codes:
  0  the plan is clean (advisory policy violations included)
  1  a mandatory policy failed: pulumi preview --policy-pack would block it
  2  the stack config is invalid or the stack does not exist"""

DIFF_EXIT_CODES = """\
exit codes:
  0  no cloud resource would be created, deleted or changed
  1  cloud resources would be created, deleted or changed
  2  a graph file is unreadable, or the stack is invalid or does not exist"""

ACCESS_EXIT_CODES = """\
exit codes:
  0  the report was printed
  2  the stack config is invalid or the stack does not exist"""

DR_EXIT_CODES = """\
exit codes:
  0  every primary store has the mechanism retail:dr.strategy needs, every declared target is met
     (strategy none: stores are listed as not covered, which only fails against declared targets)
  1  a store is not covered or weaker than the strategy needs, or a declared RPO/RTO is not met
  2  the stack config is invalid or the stack does not exist"""

COMPLIANCE_EXIT_CODES = """\
exit codes:
  0  no control fails (passes, accepted exceptions, not applicable, advisory warnings)
  1  a control fails: a mandatory policy found a violation
  2  the stack config is invalid or the stack does not exist"""

PEAKS_EXIT_CODES = """\
exit codes:
  0  the calendar was printed
  2  the stack config is invalid (a peak its bounds cannot carry included) or the stack does not exist"""

COST_EXIT_CODES = """\
exit codes:
  0  the estimate was printed
  2  the stack config is invalid, the stack does not exist, a graph file is unreadable,
     or the capacity planner refused a peak event (the message names the bound)"""

EPILOG = f"""\
{PLAN_EXIT_CODES.replace("exit codes:", "exit codes of plan:")}

{DIFF_EXIT_CODES.replace("exit codes:", "exit codes of diff:")}

{ACCESS_EXIT_CODES.replace("exit codes:", "exit codes of access:")}

{DR_EXIT_CODES.replace("exit codes:", "exit codes of dr:")}

{COMPLIANCE_EXIT_CODES.replace("exit codes:", "exit codes of compliance:")}

{PEAKS_EXIT_CODES.replace("exit codes:", "exit codes of peaks:")}

{COST_EXIT_CODES.replace("exit codes:", "exit codes of cost:")}

stacks exits 0.

examples:
  python -m blueprint plan prod
  python -m blueprint plan prod --json before.json
  python -m blueprint plan prod --markdown "$GITHUB_STEP_SUMMARY"
  python -m blueprint diff before.json prod
  python -m blueprint access prod --json access.json
  python -m blueprint dr prod --json dr.json --runbook failover.md
  python -m blueprint compliance prod --json compliance.json --markdown compliance.md
  python -m blueprint peaks prod --json peaks.json
  python -m blueprint cost prod
  python -m blueprint cost --compare before.json after.json"""


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m blueprint", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project", metavar="DIR", type=Path, default=None,
                        help="the directory holding Pulumi.yaml (default: this checkout)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    plan = commands.add_parser(
        "plan", help="synthesize a stack offline and print its plan", formatter_class=raw,
        description="Synthesize a stack offline and print its plan: the resource tree as pulumi\n"
                    "preview draws it, counts by type, the warnings the program logged, the\n"
                    "policies that failed, then a summary (regions, protected resources, key\n"
                    "outputs, the next command). Colour and a progress spinner only on a\n"
                    "terminal; piped output is plain ASCII, 80 columns wide unless COLUMNS is set.",
        epilog=PLAN_EXIT_CODES)
    plan.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml (see the stacks command)")
    plan.add_argument("--json", metavar="FILE", type=Path,
                      help="also write the resource graph as JSON (schema: blueprint/graph.schema.json); "
                           "byte for byte the same for the same input")
    plan.add_argument("--markdown", metavar="FILE", type=Path,
                      help="also append the plan summary and every policy's result to FILE in Markdown "
                           "(CI: --markdown \"$GITHUB_STEP_SUMMARY\"); appended, since a job's summary "
                           "file may already hold another step's text")
    policies = plan.add_mutually_exclusive_group()
    policies.add_argument("--no-policies", action="store_true", help="skip the policy pack (exit code 1 is then "
                                                                      "never returned)")
    policies.add_argument("--policies", "-v", "--verbose", dest="every_policy", action="store_true",
                          help="list every policy's result, PASS lines included (by default only "
                               "failures are listed and the summary counts the rest)")
    commands.add_parser("stacks", help="list the stacks", description="List the stacks: one name a line, "
                        "from the stack files in the project's stack config directory.")
    diff = commands.add_parser(
        "diff", help="what the engine would create, delete or change between a saved graph and a stack",
        formatter_class=raw, epilog=DIFF_EXIT_CODES,
        description="What the engine would create, delete or change between a saved graph and a\n"
                    "stack (or another saved graph). A resource matched through an alias is the\n"
                    "same resource, listed as moved; the last line counts what the cloud would see.")
    diff.add_argument("old", type=Path, help="a graph written by plan --json")
    diff.add_argument("new", help="a stack name, or a second graph file")
    access = commands.add_parser(
        "access", help="who can reach the data: principals x data stores, from the IAM documents",
        formatter_class=raw, epilog=ACCESS_EXIT_CODES,
        description="Synthesize a stack offline and evaluate its IAM documents (role inline policies,\n"
                    "bucket policies, KMS key policies) together: for every role and every service\n"
                    "principal the policies name, the actions allowed on each data store (buckets,\n"
                    "tables, database, cache, secrets and their KMS keys). Managed policies are listed,\n"
                    "not evaluated. Principals with no access are only named unless --all is given.")
    access.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml (see the stacks command)")
    access.add_argument("--json", metavar="FILE", type=Path,
                        help="also write the report as JSON (sorted keys; byte for byte the same for the same "
                             "input; see the README)")
    access.add_argument("--all", dest="every", action="store_true",
                        help="list every principal, those with no access included")
    dr = commands.add_parser(
        "dr", help="the DR mechanism each primary store has in the graph, RPO/RTO per tier against retail:dr",
        formatter_class=raw, epilog=DR_EXIT_CODES,
        description="Synthesize a stack offline and list every stateful store of the primary region\n"
                    "with the disaster-recovery mechanism found in the graph (global database, replica,\n"
                    "replication rule, backup copied to the DR region), its RPO and RTO from\n"
                    "components/resilience/objectives.py, the slowest per tier against the targets\n"
                    "declared in retail:dr, and the service tier from the failover routing found.")
    dr.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml (see the stacks command)")
    dr.add_argument("--json", metavar="FILE", type=Path,
                    help="also write the report as JSON (shape in blueprint/dr.py; sorted keys, byte for byte "
                         "the same for the same input)")
    dr.add_argument("--runbook", metavar="FILE", type=Path,
                    help="also write a Markdown failover runbook with the graph's real names")
    compliance = commands.add_parser(
        "compliance", help="every control the pack checks, its status and PCI DSS v4.0 requirements, for auditors",
        formatter_class=raw, epilog=COMPLIANCE_EXIT_CODES,
        description="Synthesize a stack offline, run the policy pack, and report every control it checks:\n"
                    "its control id (AWS Security Hub FSBP, PCI DSS or the blueprint's own), the PCI DSS v4.0\n"
                    "requirements it supports (policies/controls.py), its status on the stack (pass, fail with\n"
                    "the resources at fault, accepted exception with its reason, not applicable) and the\n"
                    "resources it checked; then each requirement's coverage and the accepted exceptions.")
    compliance.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml (see the stacks command)")
    compliance.add_argument("--json", metavar="FILE", type=Path,
                            help="also write the report as JSON (schema: blueprint/compliance.schema.json; sorted "
                                 "keys, byte for byte the same for the same input)")
    compliance.add_argument("--markdown", metavar="FILE", type=Path,
                            help="also write the report as Markdown (summary, controls, PCI DSS requirements, "
                                 "accepted exceptions, violations)")
    peaks = commands.add_parser(
        "peaks", help="the peak calendar: per event, what is raised when, and when it comes down",
        formatter_class=raw, epilog=PEAKS_EXIT_CODES,
        description="Read a stack's config (no synthesis) and list each event of retail:peakEvents: every\n"
                    "layer raised (from -> to), when it is raised (warm at) and in place, when it comes\n"
                    "back down (released at), and what the same surge would do unannounced: each layer's\n"
                    "doubling time and how long it is short (the surge model, components/peaks/surge.py).")
    peaks.add_argument("stack", help="stack name, as in stacks/Pulumi.<stack>.yaml (see the stacks command)")
    peaks.add_argument("--json", metavar="FILE", type=Path,
                       help="also write the report as JSON (sorted keys; the timings with their sources)")
    cost = commands.add_parser(
        "cost", help="monthly cost estimate: the baseline from the graph, and what each peak event adds",
        formatter_class=raw, epilog=COST_EXIT_CODES,
        description="Synthesize a stack offline and estimate its monthly cost at on-demand list prices\n"
                    "from the dated table in blueprint/prices.py (no network): resource by resource\n"
                    "where the graph gives the size, stated assumptions for usage, the DR region's\n"
                    "share, and each planned peak event's added cost. With --compare, the monthly\n"
                    "difference by line item between two graphs written by plan --json.")
    cost.add_argument("stack", nargs="?", help="stack name, as in stacks/Pulumi.<stack>.yaml")
    cost.add_argument("--json", dest="as_json", action="store_true",
                      help="print the estimate as JSON instead of text (sorted keys)")
    cost.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), type=Path,
                      help="compare the baselines of two graphs written by plan --json (no stack then)")
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

    if args.command == "access":
        return _access(args.stack, args.json, args.every, project, console, errors)

    if args.command == "dr":
        return _dr(args.stack, args.json, args.runbook, project, console, errors)

    if args.command == "peaks":
        return _peaks(args.stack, args.json, project, console, errors)

    if args.command == "compliance":
        return _compliance(args.stack, args.json, args.markdown, project, console, errors)

    if args.command == "cost":
        return _cost(args.stack, args.compare, args.as_json, project, console, errors)

    try:
        with progress(errors, f"synthesizing stack {args.stack} under Pulumi's mocks"):
            graph = synthesize(args.stack, project=project)
    except (StackNotFoundError, StackFileError) as exc:
        errors.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except pulumi.RunError as exc:
        errors.print(f"error: stack {args.stack}: {exc}", markup=False)
        return EXIT_BAD_INPUT

    with progress(errors, "checking the policy pack"):
        report = None if args.no_policies else check(graph)
    if args.json is not None:
        args.json.write_text(graph.dumps() + "\n")
    if args.markdown is not None:
        with args.markdown.open("a", encoding="utf-8") as summary:
            summary.write(plan_markdown(graph, report))
    render_plan(graph, report, console, every_policy=args.every_policy, json_path=args.json)
    if report is not None and report.mandatory_failed:
        return EXIT_POLICY_FAILED
    return EXIT_OK


def _synthesize(stack: str, project: Project, errors) -> ResourceGraph | None:
    try:
        with progress(errors, f"synthesizing stack {stack} under Pulumi's mocks"):
            return synthesize(stack, project=project)
    except (StackNotFoundError, StackFileError) as exc:
        errors.print(f"error: {exc}", markup=False)
    except pulumi.RunError as exc:
        errors.print(f"error: stack {stack}: {exc}", markup=False)
    return None


def _access(stack: str, json_path: Path | None, every: bool, project: Project, console, errors) -> int:
    graph = _synthesize(stack, project, errors)
    if graph is None:
        return EXIT_BAD_INPUT
    report = access_report(graph)
    if json_path is not None:
        json_path.write_text(report.dumps())
    for line in render_access(report, every=every):
        console.print(line, markup=False, highlight=False)
    return EXIT_OK


def _compliance(stack: str, json_path: Path | None, markdown_path: Path | None, project: Project, console,
                errors) -> int:
    graph = _synthesize(stack, project, errors)
    if graph is None:
        return EXIT_BAD_INPUT
    with progress(errors, "checking the policy pack"):
        report = compliance_report(graph)
    if json_path is not None:
        json_path.write_text(report.dumps())
    if markdown_path is not None:
        markdown_path.write_text(render_markdown(report))
    for line in render_console(report):
        console.print(line, markup=False, highlight=False)
    return EXIT_POLICY_FAILED if report.failed else EXIT_OK


def _stack_config(stack: str, project: Project, errors) -> StackConfig | None:
    """The stack's validated config, or None after saying why (a missing or unreadable stack
    file, or the config's problems with their key paths)."""
    try:
        return parse_stack_config(project.stack_config(stack), stack)
    except (StackNotFoundError, StackFileError) as exc:
        errors.print(f"error: {exc}", markup=False)
    except ConfigError as exc:
        errors.print(f"error: stack {stack}: {exc}", markup=False)
    return None


def _cost(stack: str | None, compare: list[Path] | None, as_json: bool, project: Project, console, errors) -> int:
    if compare is not None:
        if stack is not None:
            errors.print("error: give a stack or --compare A.json B.json, not both", markup=False)
            return EXIT_BAD_INPUT
        try:
            before, after = (estimate(ResourceGraph.load(path)) for path in compare)
        except (OSError, ValueError, KeyError) as exc:
            errors.print(f"error: {exc}", markup=False)
            return EXIT_BAD_INPUT
        if as_json:
            console.print(json.dumps(compare_json(before, after), indent=2, sort_keys=True), markup=False,
                          highlight=False, soft_wrap=True)
        else:
            for line in render_compare(before, after):
                console.print(line, markup=False, highlight=False)
        return EXIT_OK
    if stack is None:
        errors.print("error: give a stack, or --compare A.json B.json", markup=False)
        return EXIT_BAD_INPUT
    config = _stack_config(stack, project, errors)
    graph = _synthesize(stack, project, errors) if config is not None else None
    if config is None or graph is None:
        return EXIT_BAD_INPUT
    result = estimate(graph, list(plan_events(config)))
    if as_json:
        console.print(result.dumps(), markup=False, highlight=False, soft_wrap=True)
    else:
        for line in render_cost(result):
            console.print(line, markup=False, highlight=False)
    return EXIT_OK


def _dr(stack: str, json_path: Path | None, runbook_path: Path | None, project: Project, console, errors) -> int:
    config = _stack_config(stack, project, errors)
    graph = _synthesize(stack, project, errors) if config is not None else None
    if config is None or graph is None:
        return EXIT_BAD_INPUT
    dr = config.dr
    targets = {tier: (getattr(dr.targets, tier.value).seconds("rpo"), getattr(dr.targets, tier.value).seconds("rto"))
               for tier in Tier}
    report = dr_report(graph, dr.strategy, dr.region, targets,
                       replication_time_control=dr.replication_time_control)
    if json_path is not None:
        json_path.write_text(report.dumps())
    if runbook_path is not None:
        runbook_path.write_text(render_runbook(report, graph))
    for line in render_report(report):
        console.print(line, markup=False, highlight=False)
    return EXIT_OK if report.ok else EXIT_POLICY_FAILED


def _peaks(stack: str, json_path: Path | None, project: Project, console, errors) -> int:
    config = _stack_config(stack, project, errors)
    if config is None:
        return EXIT_BAD_INPUT
    report = peaks_report(config, plan_events(config))
    if json_path is not None:
        json_path.write_text(dump_peaks(report))
    for line in render_peaks(report):
        console.print(line, markup=False, highlight=False)
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
    except (StackNotFoundError, StackFileError) as exc:
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
