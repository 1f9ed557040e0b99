"""TAG.2: the registry of accepted exceptions, the control-exceptions tag, and the policy
that fails an exception nobody accepted."""

from __future__ import annotations

import pytest

from components.common import compliance
from policies.exceptions import (
    ACCEPTED_EXCEPTIONS,
    CONTROL_EXCEPTIONS_TAG,
    declared_exceptions,
    has_accepted_exception,
)

BUCKET = "aws:s3/bucket:Bucket"


def test_the_logs_bucket_exception_is_accepted_with_its_reason():
    reason = ACCEPTED_EXCEPTIONS["S3.17"]
    assert "server access logs" in reason and "ALB access logs" in reason and "SSE-S3" in reason


def test_every_accepted_exception_has_a_reason_in_words():
    for control, reason in ACCEPTED_EXCEPTIONS.items():
        assert len(reason.split()) >= 8, control


def test_the_pack_reads_the_registry_the_components_tag_from():
    # One source of truth: a reason or tag key redefined in the pack could drift.
    assert ACCEPTED_EXCEPTIONS is compliance.ACCEPTED_EXCEPTIONS
    assert CONTROL_EXCEPTIONS_TAG == compliance.CONTROL_EXCEPTIONS_TAG == "control-exceptions"


def test_the_registry_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        ACCEPTED_EXCEPTIONS["S3.9"] = "because"  # type: ignore[index]


def test_readme_lists_every_accepted_exception_with_its_reason(repo_root):
    readme = (repo_root / "policies" / "README.md").read_text()
    for control, reason in ACCEPTED_EXCEPTIONS.items():
        assert f"| {control} | {reason} |" in readme


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("S3.17", ("S3.17",)),
        ("S3.17 ELB.5", ("S3.17", "ELB.5")),
        ("S3.17/ELB.5", ("S3.17", "ELB.5")),
        ("S3.17+ELB.5", ("S3.17", "ELB.5")),
        ("S3.17, ELB.5,", ("S3.17", "ELB.5")),
        ("S3.17 S3.17", ("S3.17",)),
        ("  ", ()),
    ],
)
def test_declared_exceptions_are_read_from_the_tag(value, expected):
    assert declared_exceptions({CONTROL_EXCEPTIONS_TAG: value, "owner": "x"}) == expected


def test_declared_exceptions_of_untagged_or_list_tagged_resources():
    assert declared_exceptions(None) == ()
    assert declared_exceptions({"owner": "x"}) == ()
    assert declared_exceptions([{"key": CONTROL_EXCEPTIONS_TAG, "value": "S3.17"}]) == ("S3.17",)


def test_only_a_declared_and_accepted_exception_counts():
    assert has_accepted_exception({"tags": {CONTROL_EXCEPTIONS_TAG: "S3.17"}}, "S3.17")
    assert not has_accepted_exception({"tags": {CONTROL_EXCEPTIONS_TAG: "S3.17"}}, "S3.9")
    assert not has_accepted_exception({"tags": {CONTROL_EXCEPTIONS_TAG: "S3.9"}}, "S3.9")
    assert not has_accepted_exception({}, "S3.17")


# --- control-exceptions-accepted ------------------------------------------------------------


@pytest.mark.parametrize("tags", [{CONTROL_EXCEPTIONS_TAG: "S3.17"}, {"owner": "x"}, None],
                         ids=["accepted", "no-exception-tag", "untagged"])
def test_accepted_or_absent_exceptions_pass(snap, run_policy, tags):
    props = {} if tags is None else {"tags": tags}
    assert run_policy("control-exceptions-accepted", [snap(BUCKET, "logs", props)]).violations == []


def test_an_exception_nobody_accepted_fails(snap, run_policy):
    bucket = snap(BUCKET, "data", {"tags": {CONTROL_EXCEPTIONS_TAG: "S3.17 S3.9 KMS.4"}})
    [violation] = run_policy("control-exceptions-accepted", [bucket]).violations
    assert violation.urn == bucket.urn
    assert "claims exceptions to S3.9, KMS.4, which are not accepted exceptions (accepted: " in violation.message
    assert "S3.17" in violation.message.split("(accepted: ")[1]
    assert "add it with its reason to ACCEPTED_EXCEPTIONS in components/common/compliance.py" \
        in violation.message


def test_any_resource_type_is_checked(snap, run_policy):
    table = snap("aws:dynamodb/table:Table", "orders", {"tags": {CONTROL_EXCEPTIONS_TAG: "DynamoDB.2"}})
    [violation] = run_policy("control-exceptions-accepted", [table]).violations
    assert violation.urn == table.urn


def test_an_empty_exception_tag_fails(snap, run_policy):
    bucket = snap(BUCKET, "data", {"tags": {CONTROL_EXCEPTIONS_TAG: ""}})
    [violation] = run_policy("control-exceptions-accepted", [bucket]).violations
    assert "tag control-exceptions is empty; remove it" in violation.message
