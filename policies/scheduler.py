"""EventBridge Scheduler (PEAK.1, PEAK.2, the blueprint's own): schedules that change capacity
act as a role of their own, give up in bounded time, and one-time schedules fire at their minute.

The platform's schedules (peak pre-warming) raise and lower capacity at planned instants.
Scheduler's defaults are wrong for that: without a retry policy a failing target is retried
for 24 hours (185 attempts), so a scale-down could land a day late, in the middle of the next
surge; a flexible window lets a one-time schedule fire up to its window later than planned.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import has_key, is_number, is_set, known, mapping, resource_policy

SCHEDULE = "aws:scheduler/schedule:Schedule"
#: The longest a capacity change may be retried: after an hour the plan's moment has passed.
MAX_EVENT_AGE_SECONDS = 3600


def _role_and_bounded_retry(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    target = mapping(known(args.props, "target"))
    if not target:
        return  # unknown during preview: another resource's output
    if not is_set(target, "roleArn"):
        report_violation("schedule target has no roleArn; give it an execution role of its own, "
                         "allowed only the target's action on the target's resource.", None)
    retry = mapping(known(target, "retryPolicy"))
    age = known(retry, "maximumEventAgeInSeconds")
    if not has_key(retry, "maximumEventAgeInSeconds") or (is_number(age) and age > MAX_EVENT_AGE_SECONDS):
        report_violation(f"schedule target retries for {age if is_number(age) else 86400} s (the default is "
                         f"24 h); set retry_policy.maximum_event_age_in_seconds to at most "
                         f"{MAX_EVENT_AGE_SECONDS}: a capacity change that lands later than that misses its moment.",
                         None)


def _one_time_is_exact(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    expression = known(args.props, "scheduleExpression")
    if not (isinstance(expression, str) and expression.startswith("at(")):
        return
    mode = known(mapping(known(args.props, "flexibleTimeWindow")), "mode")
    if mode != "OFF":
        report_violation(f"one-time schedule {expression} has flexible window {mode!r}; set "
                         "flexible_time_window.mode='OFF' so it fires at the planned minute.", None)
    zone = known(args.props, "scheduleExpressionTimezone")
    if zone not in (None, "UTC", "Etc/UTC"):
        report_violation(f"one-time schedule {expression} is evaluated in {zone!r}; the platform's instants "
                         "are UTC: set schedule_expression_timezone='UTC'.", None)


POLICIES = [
    resource_policy(
        "scheduler-target-role-bounded-retry",
        "PEAK.1: EventBridge Scheduler targets act as an execution role and retry for at most an hour",
        (SCHEDULE,),
        _role_and_bounded_retry,
    ),
    resource_policy(
        "scheduler-one-time-exact",
        "PEAK.2: one-time at() schedules fire at their minute (no flexible window, UTC)",
        (SCHEDULE,),
        _one_time_is_exact,
    ),
]
