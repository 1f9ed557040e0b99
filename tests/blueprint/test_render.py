"""The plan as a person reads it: fitted to the terminal, markers kept, warnings grouped, a
summary last, the same text for the same input."""

from __future__ import annotations

import itertools
import re
from io import StringIO

import pytest
from rich.cells import cell_len

from blueprint import synthesize
from blueprint.checks import check
from blueprint.graph import ResourceGraph
from blueprint.layout import ASCII, ellipsize
from blueprint.plan_warnings import group_warnings, render_warnings
from blueprint.render import make_console, progress, render_plan
from blueprint.summary import regions
from blueprint.synth import GLOBAL
from blueprint.tree import short_type, tree_lines
from tests.support import config_with

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def rendered(graph: ResourceGraph, *, width: int, colour: bool, **options) -> tuple[str, str]:
    """The plan as a console of that width prints it: the raw text, and without escape codes."""
    buffer = StringIO()
    console = make_console(buffer, width=width, force_terminal=colour)
    render_plan(graph, check(graph), console, **options)
    raw = buffer.getvalue()
    return raw, ANSI.sub("", raw)


def tree_section(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("+ pulumi:pulumi:Stack"))
    end = lines.index("", start)
    return lines[start:end]


@pytest.mark.parametrize(
    "token, short",
    [
        ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
        ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2:SecurityGroup"),
        ("random:index/randomPassword:RandomPassword", "random:index:RandomPassword"),
        ("aws:s3/bucketV2:BucketV2", "aws:s3:BucketV2"),
        # The module's last part is not the type's name: kept, as the Pulumi CLI keeps it.
        ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:Deployment"),
        ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Release"),
        ("aws:cloudwatch/logGroup:Group", "aws:cloudwatch/logGroup:Group"),
        ("retail:edge:Cdn", "retail:edge:Cdn"),
        ("pulumi:providers:kubernetes", "pulumi:providers:kubernetes"),
        ("pulumi:pulumi:Stack", "pulumi:pulumi:Stack"),
    ],
)
def test_type_tokens_are_shortened_as_the_pulumi_cli_does(token, short):
    assert short_type(token) == short


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "colour"])
@pytest.mark.parametrize("width", [80, 60])
def test_the_prod_plan_fits_the_width_and_keeps_every_marker(graph_of, width, colour):
    graph = graph_of("prod")
    raw, text = rendered(graph, width=width, colour=colour)
    assert ("\x1b[" in raw) is colour
    too_wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert too_wide == []

    tree = "\n".join(tree_section(text))
    protected = [r for r in graph if r.protect]
    assert len(protected) >= 40
    assert not any("protected" in r.name for r in graph)  # so each occurrence is a marker
    assert tree.count("protected") == len(protected)
    elsewhere = [r for r in graph if r.region not in (None, graph.region, GLOBAL)]
    assert elsewhere
    assert tree.count("(region ") == len(elsewhere)
    # Nothing is cut: every name is there whole, or shortened in the middle with a mark.
    ellipsis = "…" if colour else "..."
    shortened = [word.split(ellipsis) for word in tree.split() if ellipsis in word]
    for resource in graph:
        assert resource.name in tree or any(
            resource.name.startswith(head) and resource.name.endswith(tail) for head, tail in shortened), resource.name


def test_a_folded_line_keeps_the_name_and_its_markers_together(graph_of):
    lines = [line.plain for line in tree_lines(graph_of("prod"), 80, ASCII)]
    # Too long for one line: the type, then the name and its marker under it.
    folded = [lines[i + 1].split() for i, line in enumerate(lines)
              if line.endswith("+ aws:s3:BucketServerSideEncryptionConfiguration")]
    assert ["storage-assets-encryption", "protected"] in [words[-2:] for words in folded]
    # The DR region's replica: its region marker rides along on the same line.
    assert ["dr-storage-assets-encryption", "(region", "eu-central-1)", "protected"] in [
        words[-4:] for words in folded]


def test_names_are_shortened_in_the_middle():
    assert ellipsize("karpenter-node-AmazonEKSWorkerNodePolicy", 20, "...") == "karpenter...dePolicy"
    assert ellipsize("karpenter-node-AmazonEKSWorkerNodePolicy", 20, "…") == "karpenter-…odePolicy"
    assert ellipsize("short", 20, "...") == "short"


def test_the_summary_comes_last_with_regions_outputs_and_the_next_command(graph_of):
    graph = graph_of("prod")
    _, text = rendered(graph, width=80, colour=False)
    summary = text[text.index("\nSummary: stack prod"):]
    # The last screen: nothing but the summary after it.
    assert len(summary.splitlines()) < 25
    assert graph.outputs["drRegion"] == "eu-central-1"
    in_dr = graph.count_by_region()["eu-central-1"]
    assert in_dr > 0  # the DR slice is wired: its resources live there
    assert f"eu-central-1 {in_dr} (DR region)" in summary
    assert f"{sum(r.protect for r in graph)} protected" in summary
    for key in ("shopUrl", "cdnDomainName", "albDnsName", "clusterName", "sqlEndpoint", "cacheEndpoint"):
        assert graph.outputs[key] in summary
    assert text.rstrip().endswith("pulumi stack select prod\n             pulumi preview --policy-pack policies")


def test_regions_list_the_primary_first_and_global_last(graph_of):
    prod = graph_of("prod")
    rows = regions(prod)
    assert rows[0][0] == "eu-west-1" and rows[0][2] == "primary"
    assert rows[-1][0] == GLOBAL
    assert ("eu-central-1", prod.count_by_region()["eu-central-1"], "DR region") in rows
    assert prod.count_by_region()["eu-central-1"] > 0
    # No DR region: none listed.
    assert all(note != "DR region" for _, _, note in regions(graph_of("dev")))


def test_pass_lines_are_collapsed_unless_asked_for(graph_of):
    graph = graph_of("dev")
    _, short = rendered(graph, width=80, colour=False)
    _, every = rendered(graph, width=80, colour=False, every_policy=True)
    passed = len(check(graph).evaluated)
    assert "PASS" not in short and f"{passed} passed, 0 failed" in short
    assert every.count("  PASS  ") == passed


def test_warnings_are_grouped_by_cause_and_deduplicated():
    messages = [
        "edge: retail:edge.domain is not set, so the ALB has no certificate",
        "waf-cdn: the WAF log group uses the default encryption",
        "cdn: no HTTPS origin (retail:edge.domain is not set)",
        "waf-cdn: the WAF log group uses the default encryption",
        "retail:sql.maxReaders is unset in prod: readers do not scale out",
        "something without a subject",
    ]
    groups = group_warnings(messages, namespaces=("retail", "aws"))
    assert [group.title for group in groups] == [
        "setting retail:edge.domain", "setting retail:sql.maxReaders", "from waf-cdn", "other"]
    assert [w.text for w in groups[0].warnings] == [
        "cdn: no HTTPS origin (retail:edge.domain is not set)",
        "edge: retail:edge.domain is not set, so the ALB has no certificate"]
    (waf,) = groups[2].warnings
    assert (waf.text, waf.times) == ("the WAF log group uses the default encryption", 2)
    # The same groups whatever order the warnings arrived in.
    for order in itertools.permutations(messages):
        assert group_warnings(list(order), namespaces=("retail", "aws")) == groups


#: dev with its API endpoint opened to one CIDR: a third warning, from another cause.
PUBLIC_ENDPOINT = {"publicEndpoint": True, "publicAccessCidrs": ["203.0.113.0/24"]}


def test_warnings_wrap_with_a_hanging_indent(synth_with):
    buffer = StringIO()
    console = make_console(buffer, width=60, force_terminal=False)
    graph = synth_with("dev", kubernetes=PUBLIC_ENDPOINT)
    render_warnings(group_warnings(graph.warnings, namespaces=("retail", "aws")), console)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "Warnings (3, 2 causes)"
    assert "  setting retail:edge.domain" in lines and "  from retail-dev-eks" in lines
    items = [line for line in lines if line.startswith("    - ")]
    assert len(items) == 3
    continued = [line for line in lines[1:] if not line.startswith(("  setting", "  from", "    - "))]
    assert continued and all(line.startswith("      ") and line[6] != " " for line in continued)
    assert max(len(line) for line in lines) <= 60


def test_the_plan_is_byte_for_byte_the_same_for_the_same_stack():
    # Fresh synthesis each time (not the session's cached graphs), of a stack with several
    # warnings: the graph's JSON and the printed plan are identical.
    config = config_with("dev", kubernetes=PUBLIC_ENDPOINT)
    first, second = synthesize("dev", config=config), synthesize("dev", config=config)
    assert first.dumps() == second.dumps()
    assert len(first.warnings) >= 3
    assert rendered(first, width=80, colour=False) == rendered(second, width=80, colour=False)


@pytest.mark.parametrize("terminal", [False, True])
def test_a_spinner_only_on_a_terminal(terminal):
    buffer = StringIO()
    console = make_console(buffer, width=80, force_terminal=terminal)
    with progress(console, "synthesizing stack prod"):
        console.file.flush()
    out = buffer.getvalue()
    if terminal:
        assert "synthesizing stack prod" in out
    else:
        assert out == ""
