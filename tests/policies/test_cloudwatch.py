"""CloudWatch.15 (every alarm has an action) and CloudWatch.17 (actions enabled). Evaluated
from its own module (the registry lists it once the integrator wires it in)."""

from __future__ import annotations

import pytest

from components.common.compliance import ACCEPTED_EXCEPTIONS, CONTROL_EXCEPTIONS_TAG
from policies import cloudwatch, exceptions
from policies.offline import evaluate

TOPIC = "arn:aws:sns:eu-west-1:111122223333:retail-prod-alarms"


def violations(resource):
    return [v.message for v in evaluate([resource], cloudwatch.POLICIES).violations]


@pytest.mark.parametrize("type_", cloudwatch.ALARM_TYPES)
def test_an_alarm_that_notifies_passes(snap, tags, type_):
    alarm = snap(type_, "cpu", {"alarmActions": [TOPIC], "okActions": [TOPIC], "tags": tags()})
    assert violations(alarm) == []


@pytest.mark.parametrize("type_", cloudwatch.ALARM_TYPES)
@pytest.mark.parametrize("props", [{}, {"alarmActions": []}, {"okActions": [TOPIC]},
                                   {"insufficientDataActions": [TOPIC]}])
def test_an_alarm_without_an_alarm_action_fails(snap, type_, props):
    [message] = violations(snap(type_, "cpu", props))
    assert "no alarm action" in message


def test_disabled_actions_fail_even_with_a_topic(snap):
    [message] = violations(snap(cloudwatch.METRIC_ALARM, "cpu", {"alarmActions": [TOPIC], "actionsEnabled": False}))
    assert "disabled" in message


def test_the_tag_alone_waives_nothing(snap, monkeypatch):
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS", {k: v for k, v in ACCEPTED_EXCEPTIONS.items()
                                                            if k != cloudwatch.CLOUDWATCH_15})
    alarm = snap(cloudwatch.METRIC_ALARM, "fis-stop", {"tags": {CONTROL_EXCEPTIONS_TAG: cloudwatch.CLOUDWATCH_15}})
    [message] = violations(alarm)
    assert "no alarm action" in message


def test_an_accepted_exception_waives_the_action(snap, monkeypatch):
    # The FIS stop alarm is read by FIS, not by people: the exception the report proposes.
    monkeypatch.setattr(exceptions, "ACCEPTED_EXCEPTIONS",
                        {**ACCEPTED_EXCEPTIONS, cloudwatch.CLOUDWATCH_15: "an FIS stop condition"})
    alarm = snap(cloudwatch.METRIC_ALARM, "fis-stop", {"tags": {CONTROL_EXCEPTIONS_TAG: cloudwatch.CLOUDWATCH_15}})
    assert violations(alarm) == []
