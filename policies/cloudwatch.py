"""CloudWatch alarms: each one tells somebody (CloudWatch.15), and its actions are on
(CloudWatch.17). An alarm nobody hears is a graph nobody looks at."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import is_set, known, resource_policy
from policies.exceptions import has_accepted_exception

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ALARM_TYPES = (METRIC_ALARM, COMPOSITE_ALARM)
CLOUDWATCH_15 = "CloudWatch.15"


# --- CloudWatch.15 --------------------------------------------------------------------------


def _has_action(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # FSBP's parameters: an ALARM-state action is required, OK and INSUFFICIENT_DATA are not.
    # An alarm that exists only to be read by another service (an FIS stop condition) declares
    # an accepted CloudWatch.15 exception instead.
    if is_set(args.props, "alarmActions") or has_accepted_exception(args.props, CLOUDWATCH_15):
        return
    report_violation(
        "alarm has no alarm action: nobody is told when it fires; set alarm_actions (and ok_actions) to the "
        "stack's alarm topic.",
        None,
    )


# --- CloudWatch.17 --------------------------------------------------------------------------


def _actions_enabled(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is fine: the provider's default is true.
    if known(args.props, "actionsEnabled") is False:
        report_violation("alarm actions are disabled (actions_enabled=False): it fires in silence; remove the "
                         "setting or set it to True.", None)


POLICIES = [
    resource_policy(
        "cloudwatch-alarm-has-action",
        "CloudWatch.15: CloudWatch alarms have an action configured for the ALARM state",
        ALARM_TYPES,
        _has_action,
    ),
    resource_policy(
        "cloudwatch-alarm-actions-enabled",
        "CloudWatch.17: CloudWatch alarm actions are activated",
        ALARM_TYPES,
        _actions_enabled,
    ),
]
