"""What the pack's modules share (``policies._helpers``): reading props that may be unknown
during preview, and the companion stack policy ("every X has a Y whose input came from it")."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies._helpers import check_each, companion_policy, is_set, known, names_customer_key
from policies.offline import evaluate

TARGET = "test:index/target:Target"
COMPANION = "test:index/companion:Companion"


def _unknown_props(**props):
    """Props as the engine hands them over: a read-only proxy in which UNKNOWN_STRING_VALUE
    raises UnknownValueError when read."""
    return unknown_checking_proxy(props)


def test_known_reads_a_value_and_reads_unknown_or_missing_as_none():
    props = _unknown_props(arn=UNKNOWN_STRING_VALUE, name="web")
    assert known(props, "name") == "web"
    assert known(props, "arn") is None
    assert known(props, "missing") is None


def test_an_unknown_value_counts_as_set_and_as_a_customer_key():
    props = _unknown_props(keyArn=UNKNOWN_STRING_VALUE, alias="alias/aws/s3", empty="")
    assert is_set(props, "keyArn") and names_customer_key(props, "keyArn")
    assert is_set(props, "alias") and not names_customer_key(props, "alias")
    assert not is_set(props, "empty") and not is_set(props, "missing")


def test_check_each_checks_every_item_before_raising_the_first_unknown():
    checked = []

    def check(item):
        checked.append(item)
        if item % 2:
            _unknown_props(x=UNKNOWN_STRING_VALUE)["x"]  # raises UnknownValueError

    with pytest.raises(UnknownValueError):
        check_each([1, 2, 3, 4], check)
    assert checked == [1, 2, 3, 4]


# --- companion_policy -----------------------------------------------------------------------


def _policy(check=None):
    return companion_policy(
        "test-targets-have-companions", "TEST: every target has a companion", (TARGET,), "targets",
        (COMPANION,), "targetId", lambda target: f"{target.name} has no companion", check)


def _companion(snap, target, name="c", **props):
    return snap(COMPANION, name, {"targetId": "t", **props}, property_dependencies={"targetId": (target.urn,)})


def test_companion_policy_is_a_mandatory_stack_policy_named_after_itself():
    policy = _policy()
    assert isinstance(policy, StackValidationPolicy)
    assert policy.enforcement_level is EnforcementLevel.MANDATORY
    assert policy.name == "test-targets-have-companions"


def test_companion_policy_does_not_apply_without_targets(snap):
    assert evaluate([snap(COMPANION, "c", {})], [_policy()]).violations == []


def test_a_missing_companion_is_reported_on_the_target(snap):
    target = snap(TARGET, "t", {})
    loose = snap(COMPANION, "loose", {"targetId": "t"})  # same value, no dependency: not linked
    [violation] = evaluate([target, loose], [_policy()]).violations
    assert (violation.urn, violation.message) == (target.urn, "t has no companion")


def test_a_wrong_companion_is_reported_on_the_companion(snap):
    target = snap(TARGET, "t", {})
    good, bad = _companion(snap, target, "good", ok=True), _companion(snap, target, "bad", ok=False)
    policy = _policy(lambda t, c: None if c.props.get("ok") else f"{c.name} of {t.name} is wrong")
    [violation] = evaluate([target, good, bad], [policy]).violations
    assert (violation.urn, violation.message) == (bad.urn, "bad of t is wrong")


def test_without_a_check_any_linked_companion_will_do(snap):
    target = snap(TARGET, "t", {})
    assert evaluate([target, _companion(snap, target, ok=False)], [_policy()]).violations == []
