"""``python -m blueprint compliance``: every control of the pack with its status on a stack.

The stacks' graphs come from the session cache (tests/conftest.py); the failing and
not-applicable cases tweak a cached graph rather than synthesize a new stack.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import pytest

import blueprint.__main__ as cli
from blueprint.checks import check, snapshots
from blueprint.compliance import (
    COVERED,
    EXCEPTION,
    FAIL,
    NO_CHECK,
    NOT_APPLICABLE,
    PASS,
    SCHEMA_PATH,
    compliance_report,
    render_console,
    render_markdown,
)
from blueprint.graph import Resource, ResourceGraph
from policies.exceptions import ACCEPTED_EXCEPTIONS, CONTROL_EXCEPTIONS_TAG
from policies.offline import PolicyReport, evaluate
from policies.registry import POLICIES

KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"

GraphOf = Callable[[str], ResourceGraph]


_PACKS: dict[int, tuple[ResourceGraph, PolicyReport]] = {}


def _pack(graph: ResourceGraph) -> PolicyReport:
    # The pack takes seconds on a whole stack: run it once per graph object (the stacks' graphs
    # are cached for the session, so the same object comes back). The graph is kept with its
    # report so its id cannot be reused.
    if id(graph) not in _PACKS:
        _PACKS[id(graph)] = (graph, check(graph))
    return _PACKS[id(graph)][1]


def report_of(graph: ResourceGraph):
    return compliance_report(graph, _pack(graph))


def with_inputs(graph: ResourceGraph, urn: str, change: Callable[[Mapping[str, Any]], Mapping[str, Any]]
                ) -> ResourceGraph:
    """``graph`` with one resource's inputs replaced by ``change(inputs)``."""
    resources = tuple(dataclasses.replace(r, inputs=change(r.inputs)) if r.urn == urn else r for r in graph)
    return dataclasses.replace(graph, resources=resources)


def without_types(graph: ResourceGraph, *types: str) -> ResourceGraph:
    return dataclasses.replace(graph, resources=tuple(r for r in graph if r.type not in types))


def first(graph: ResourceGraph, type_: str, name: str | None = None) -> Resource:
    return next(r for r in graph.of_type(type_) if name is None or r.name == name)


def control(report, policy: str):
    return next(c for c in report.controls if c.policy == policy)


def requirement(report, req: str):
    return next(r for r in report.requirements if r.id == req)


# --- Every stack ----------------------------------------------------------------------------


def test_the_report_has_every_registered_policy_once_in_pack_order(stack_graph):
    report = report_of(stack_graph)
    assert [c.policy for c in report.controls] == [p.name for p in POLICIES]
    assert all(c.ids for c in report.controls)


def test_statuses_match_an_independent_run_of_the_pack(stack_graph):
    independent = evaluate(snapshots(stack_graph))
    failing = {v.policy for v in independent.violations if v.enforcement == "mandatory"}
    report = report_of(stack_graph)
    assert {c.policy for c in report.controls if c.status == FAIL} == failing
    assert report.failed == independent.mandatory_failed
    for c in report.controls:
        if c.policy not in failing:
            assert c.status in (PASS, EXCEPTION, NOT_APPLICABLE), (c.policy, c.status)


def test_the_json_matches_its_schema_and_is_byte_stable(stack_graph):
    report = report_of(stack_graph)
    document = json.loads(report.dumps())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert document["summary"]["controls"]["pass"] == sum(c.status == PASS for c in report.controls)
    assert report_of(stack_graph).dumps() == report.dumps()


# --- Statuses -------------------------------------------------------------------------------


def test_a_key_without_rotation_fails_its_control_with_the_key_named(graph_of: GraphOf):
    graph = graph_of("dev")
    key = first(graph, KEY)
    broken = with_inputs(graph, key.urn, lambda inputs: {**inputs, "enableKeyRotation": False})
    report = compliance_report(broken)
    rotation = control(report, "kms-key-rotation")
    assert rotation.status == FAIL
    assert [(v.subject.urn, v.subject.name, v.subject.type) for v in rotation.violations] == [
        (key.urn, key.name, KEY)]
    assert report.failed
    # The requirement the control supports fails with it; its neighbours do not.
    assert requirement(report, "3.7.4").status == FAIL
    assert requirement(report, "3.6.1").status == PASS
    markdown = render_markdown(report)
    assert "## Violations" in markdown
    assert f"| `kms-key-rotation` | {key.name} | `{KEY}` | mandatory |" in markdown
    assert "FAIL kms-key-rotation (KMS.4)" in render_console(report)


def test_the_failing_stack_exits_1(graph_of: GraphOf, monkeypatch, tmp_path, capsys):
    graph = graph_of("dev")
    key = first(graph, KEY)
    broken = with_inputs(graph, key.urn, lambda inputs: {**inputs, "enableKeyRotation": False})
    monkeypatch.setattr(cli, "synthesize", lambda stack, project=None: broken)
    target = tmp_path / "report.json"
    assert cli.main(["compliance", "dev", "--json", str(target)]) == cli.EXIT_POLICY_FAILED
    document = json.loads(target.read_text())
    assert document["summary"]["failed"] is True
    rotation = next(c for c in document["controls"] if c["policy"] == "kms-key-rotation")
    assert rotation["status"] == FAIL and rotation["violations"][0]["resource"]["name"] == key.name
    assert "FAIL kms-key-rotation" in capsys.readouterr().out


def test_an_accepted_exception_shows_its_reason_and_resource(graph_of: GraphOf):
    report = report_of(graph_of("dev"))
    encryption = control(report, "s3-bucket-kms-encryption")
    assert encryption.status == EXCEPTION
    [used] = encryption.exceptions
    assert used.control == "S3.17" and used.reason == ACCEPTED_EXCEPTIONS["S3.17"]
    assert [r.name for r in used.resources] == ["storage-logs"]
    # dev has no edge domain: CloudFront's certificate, under the three reasoned exceptions.
    for policy, control_id in [("cloudfront-custom-certificate", "CloudFront.7"), ("cloudfront-sni", "CloudFront.8"),
                               ("cloudfront-viewer-tls-policy", "CloudFront.15")]:
        result = control(report, policy)
        assert result.status == EXCEPTION
        assert [(e.control, e.reason) for e in result.exceptions] == [(control_id, ACCEPTED_EXCEPTIONS[control_id])]
    # Ordered as a person reads control ids: CloudFront.7 before CloudFront.15.
    # (dev rehearses with FIS: its stop alarm is read by FIS, not people: CloudWatch.15.)
    assert [e.control for e in report.exceptions] == ["CloudFront.7", "CloudFront.8", "CloudFront.15",
                                                      "CloudWatch.15", "S3.17"]
    declared = {e.control: e for e in report.exceptions}
    assert declared["S3.17"].policies == ("s3-bucket-kms-encryption",)
    assert ACCEPTED_EXCEPTIONS["S3.17"] in render_markdown(report)


def test_without_its_exception_tag_the_logs_bucket_fails_s3_17(graph_of: GraphOf):
    # The exception is what makes the control pass, not a blanket pass: drop the tag and the
    # same bucket fails.
    graph = graph_of("dev")
    logs = first(graph, BUCKET, "storage-logs")

    def untag(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        tags = {k: v for k, v in inputs["tags"].items() if k != CONTROL_EXCEPTIONS_TAG}
        return {**inputs, "tags": tags}

    result = control(compliance_report(with_inputs(graph, logs.urn, untag)), "s3-bucket-kms-encryption")
    assert result.status == FAIL
    assert not result.exceptions


def test_a_control_with_no_resource_of_its_types_is_not_applicable(graph_of: GraphOf):
    report = compliance_report(without_types(graph_of("dev"), DISTRIBUTION))
    for policy in ("cloudfront-viewer-https", "cloudfront-access-logging", "cloudfront-custom-certificate"):
        result = control(report, policy)
        assert result.status == NOT_APPLICABLE, policy
        assert result.resources == ()
    # ...while with the distribution the same controls check it.
    assert control(report_of(graph_of("dev")), "cloudfront-viewer-https").status == PASS


def test_a_prod_only_control_is_not_applicable_on_dev_with_the_policys_reason(graph_of: GraphOf):
    dev = control(report_of(graph_of("dev")), "log-retention-prod")
    assert dev.status == NOT_APPLICABLE
    assert {n.message for n in dev.not_applicable} == {"log group is not tagged environment=prod"}
    prod = control(report_of(graph_of("prod")), "log-retention-prod")
    assert prod.status == PASS
    assert prod.resources and {r.type for r in prod.resources} == {"aws:cloudwatch/logGroup:LogGroup"}


def test_a_passing_control_lists_the_resources_it_checked(graph_of: GraphOf):
    graph = graph_of("dev")
    rotation = control(report_of(graph), "kms-key-rotation")
    assert rotation.status == PASS
    assert {r.urn for r in rotation.resources} == {r.urn for r in graph.of_type(KEY)}


# --- PCI DSS requirements -------------------------------------------------------------------


def test_a_requirement_whose_policies_are_not_in_the_pack_says_no_automated_check(graph_of: GraphOf):
    # A pack without KMS.4 (as the pack is without GuardDuty until it is registered): 3.7.4
    # claims nothing, and names what is missing.
    graph = graph_of("dev")
    pack = [p for p in POLICIES if p.name != "kms-key-rotation"]
    report = compliance_report(graph, _pack(graph), pack)
    rotation = requirement(report, "3.7.4")
    assert (rotation.coverage, rotation.status, rotation.controls) == (NO_CHECK, None, ())
    assert rotation.not_in_pack == (("kms-key-rotation", "KMS.4"),)
    assert "kms-key-rotation" not in [c.policy for c in report.controls]
    # A neighbour that does not rely on KMS.4 stays covered.
    keys = requirement(report, "3.6.1")
    assert keys.coverage == COVERED
    markdown = render_markdown(report)
    assert ("| 3.7.4 | Cryptographic keys are changed at the end of their cryptoperiod | no automated check |"
            in markdown)
    assert "`kms-key-rotation` (KMS.4)" in markdown


def test_a_requirement_is_never_claimed_by_a_policy_outside_the_pack(graph_of: GraphOf):
    # The same stack judged by a pack without the GuardDuty checks: intrusion detection (11.5.1)
    # then has no automated check, and audit logging (10.2.1) loses nothing it did not have.
    graph = graph_of("dev")
    pack = [p for p in POLICIES if not p.name.startswith("guardduty-")]
    report = compliance_report(graph, evaluate(snapshots(graph), pack), pack)
    ids = requirement(report, "11.5.1")
    assert (ids.coverage, ids.status) == (NO_CHECK, None)
    assert ids.not_in_pack == (("guardduty-detector-enabled", "GuardDuty.1"),
                               ("guardduty-protection-features", "GuardDuty.5/.7/.8/.9/.10"))
    assert "`guardduty-detector-enabled` (GuardDuty.1)" in render_markdown(report)
    audit = requirement(report, "10.2.1")
    assert audit.coverage != NO_CHECK and "cloudtrail-multi-region" in [c.policy for c in audit.controls]


def test_with_the_whole_pack_intrusion_detection_is_covered_and_passes(graph_of: GraphOf):
    report = report_of(graph_of("dev"))
    ids = requirement(report, "11.5.1")
    assert (ids.coverage, ids.not_in_pack) == (COVERED, ())
    assert sorted(c.policy for c in ids.controls) == ["guardduty-detector-enabled", "guardduty-protection-features"]
    assert control(report, "guardduty-detector-enabled").status == PASS


# --- The command ----------------------------------------------------------------------------


def test_the_command_writes_json_and_markdown_and_exits_0(graph_of: GraphOf, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cli, "synthesize", lambda stack, project=None: graph_of(stack))
    # The pack's run on the cached graph is cached too: the command's own code is what is tested.
    monkeypatch.setattr(cli, "compliance_report", lambda graph: report_of(graph))
    json_path, markdown_path = tmp_path / "c.json", tmp_path / "c.md"
    assert cli.main(["compliance", "prod", "--json", str(json_path), "--markdown", str(markdown_path)]) == cli.EXIT_OK
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert document["stack"] == "prod" and len(document["controls"]) == len(POLICIES)
    markdown = markdown_path.read_text()
    for heading in ("## Summary", "## Controls", "## PCI DSS v4.0 requirements", "## Accepted exceptions"):
        assert heading in markdown
    assert "PCI DSS v4.0, PCI Security Standards Council" in markdown
    assert capsys.readouterr().out.startswith(f"stack prod: {len(POLICIES)} controls: 0 fail")


def test_an_unknown_stack_exits_2(capsys):
    assert cli.main(["compliance", "nope"]) == cli.EXIT_BAD_INPUT
    assert "error:" in capsys.readouterr().err


def test_the_help_gives_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compliance", "--help"])
    out = capsys.readouterr().out
    assert "1  a control fails" in out and "0  no control fails" in out
