"""EventBridge Scheduler: a role per target, bounded retries, exact one-time schedules.
Evaluated from its own module (the registry lists it once the integrator wires it in)."""

from __future__ import annotations

import copy

import pytest

from policies import scheduler
from policies.offline import evaluate

ROLE = "arn:aws:iam::111122223333:role/retail-dev-peaks-aurora"


def props(**overrides):
    base = {
        "scheduleExpression": "at(2026-11-26T22:00:00)",
        "scheduleExpressionTimezone": "UTC",
        "flexibleTimeWindow": {"mode": "OFF"},
        "target": {"arn": "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster", "roleArn": ROLE, "input": "{}",
                   "retryPolicy": {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 20}},
    }
    base.update(overrides)
    return base


def violations(snap, values):
    return [v.message for v in evaluate([snap(scheduler.SCHEDULE, "warm", values)], scheduler.POLICIES).violations]


def test_the_pre_warming_schedule_passes(snap):
    assert violations(snap, props()) == []


def test_a_recurring_schedule_may_be_flexible(snap):
    assert violations(snap, props(scheduleExpression="cron(0 3 * * ? *)",
                                  flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 15})) == []


def test_a_target_without_a_role_fails(snap):
    values = props()
    del values["target"]["roleArn"]
    [message] = violations(snap, values)
    assert "roleArn" in message


@pytest.mark.parametrize("retry", [None, {"maximumRetryAttempts": 3}, {"maximumEventAgeInSeconds": 86400}])
def test_a_default_or_day_long_retry_fails(snap, retry):
    values = copy.deepcopy(props())
    if retry is None:
        del values["target"]["retryPolicy"]
    else:
        values["target"]["retryPolicy"] = retry
    [message] = violations(snap, values)
    assert "maximum_event_age_in_seconds" in message


def test_a_flexible_one_time_schedule_fails(snap):
    [message] = violations(snap, props(flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 60}))
    assert "mode='OFF'" in message


def test_a_one_time_schedule_in_local_time_fails(snap):
    [message] = violations(snap, props(scheduleExpressionTimezone="America/New_York"))
    assert "UTC" in message
