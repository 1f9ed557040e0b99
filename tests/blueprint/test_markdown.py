"""``plan --markdown FILE``: the plan summary and policy results a CI job writes to its summary
page ($GITHUB_STEP_SUMMARY), agreeing with the terminal summary and escaping what it quotes."""

from __future__ import annotations

import re
from dataclasses import replace

from blueprint.__main__ import EXIT_OK, EXIT_POLICY_FAILED, main
from blueprint.checks import check
from blueprint.markdown import code, escape, plan_markdown
from blueprint.summary import PolicyCounts
from policies.offline import PolicyReport, PolicyViolation


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table row (escaped pipes kept inside their cell)."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[-:| ]+\|", line):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_the_cli_appends_the_summary_and_every_policy(tmp_path, capsys):
    summary = tmp_path / "step-summary.md"
    summary.write_text("text another step wrote\n")
    assert main(["plan", "dev", "--markdown", str(summary)]) == EXIT_OK
    out = capsys.readouterr().out
    text = summary.read_text()
    # Appended: the job's summary file keeps what earlier steps wrote.
    assert text.startswith("text another step wrote\n## Plan of stack `dev`\n")
    assert "every mandatory policy passed" in text
    # The counts are the terminal summary's.
    passed = int(re.search(r"\n  policies +(\d+) passed, 0 failed", out).group(1))
    assert f"| policies | {passed} passed, 0 failed |" in text
    results = [row for row in table_rows(text) if row[0] in {"PASS", "FAIL", "WARN"}]
    assert len(results) == passed and {row[0] for row in results} == {"PASS"}
    assert "### Policy violations" not in text
    assert "pulumi preview --policy-pack policies" in text


def test_a_failed_mandatory_policy_is_listed_with_its_resource(tmp_path, capsys, monkeypatch):
    from blueprint import checks
    from policies import offline

    real_evaluate = offline.evaluate

    def evaluate_without_flow_logs(snapshots, *args, **kwargs):
        return real_evaluate([s for s in snapshots if s.type != "aws:ec2/flowLog:FlowLog"], *args, **kwargs)

    monkeypatch.setattr(checks, "evaluate", evaluate_without_flow_logs)
    summary = tmp_path / "summary.md"
    assert main(["plan", "dev", "--markdown", str(summary)]) == EXIT_POLICY_FAILED
    capsys.readouterr()
    text = summary.read_text()
    assert "**1 mandatory policy failed**" in text
    assert re.search(r"\| policies \| \d+ passed, 1 failed \|", text)
    violations = text[text.index("### Policy violations"):text.index("<details>")]
    rows = table_rows(violations)[1:]
    assert rows and all(row[:2] == ["FAIL", "`vpc-flow-logs`"] for row in rows)
    assert "| FAIL | `vpc-flow-logs` |" in text  # in the list of every policy too
    # The next step is to fix it, not to preview it for real.
    assert "python -m blueprint plan dev" in text and "pulumi preview" not in text.split("Next:")[1]


def test_advisory_violations_and_hostile_messages(graph_of):
    graph = graph_of("dev")
    clean = check(graph)
    urn = next(r.urn for r in graph if r.custom)
    hostile = "bad | cell <script>alert(1)</script> **bold**\nsecond line"
    report = replace(clean, violations=[PolicyViolation(clean.evaluated[0], "advisory", hostile, urn)])
    text = plan_markdown(graph, report)
    counts = PolicyCounts.of(report)
    assert counts.advisory == 1
    assert f"| policies | {counts.passed} passed, 0 failed, 1 advisory |" in text
    (row,) = [row for row in table_rows(text) if row[0] == "WARN" and len(row) == 4]
    # One cell, one line, nothing interpreted: the pipe, the tag and the emphasis are escaped.
    assert row[3] == r"bad \| cell \<script\>alert(1)\</script\> \*\*bold\*\* second line"
    assert "<script>" not in text
    assert "every mandatory policy passed" in text


def test_without_policies(graph_of):
    text = plan_markdown(graph_of("dev"), None)
    assert "policies not run" in text and "| policies | not run |" in text
    assert "<summary>Every policy" not in text


def test_escaping_helpers():
    assert escape("a_b*c `d` [e](f) #g") == r"a\_b\*c \`d\` \[e\](f) \#g"
    assert code("x|y`z") == r"`x\|y'z`"


def test_an_empty_report_counts_nothing(graph_of):
    text = plan_markdown(graph_of("dev"), PolicyReport())
    assert "| policies | 0 passed, 0 failed |" in text
