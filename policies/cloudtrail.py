"""CloudTrail: multi-Region with global events (CloudTrail.1), encrypted with a customer key
(CloudTrail.2), log file validation (CloudTrail.4), delivered to CloudWatch Logs (CloudTrail.5).

Controls: AWS Security Hub FSBP, CloudTrail.1/.2/.4/.5; PCI DSS v4.0.1 10.2.1 (audit logs of all
user activity), 10.3.2/10.3.4 (logs protected from modification; change detection), 10.4.1.1
(automated review: the CloudWatch Logs group alarms can watch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import is_set, known, mapping, names_customer_key, resource_policy, sequence

TRAIL = "aws:cloudtrail/trail:Trail"


def _records_management_events(props: Mapping[str, Any]) -> str | None:
    """Why the trail does not record read and write management events, or None."""
    advanced = sequence(known(props, "advancedEventSelectors"))
    if advanced:
        management = []
        for selector in advanced:
            fields = {str(mapping(f).get("field")): mapping(f)
                      for f in sequence(mapping(selector).get("fieldSelectors"))}
            category = fields.get("eventCategory")
            if category is not None and list(sequence(category.get("equals"))) == ["Management"]:
                management.append(fields)
        # A readOnly field selects only reads or only writes: CloudTrail.1 wants both.
        if any("readOnly" not in fields for fields in management):
            return None
        if management:
            return "its management-event selectors filter on readOnly (they record only reads or only writes)"
        return "no advanced event selector records management events (eventCategory = Management)"
    basic = sequence(known(props, "eventSelectors"))
    for selector in basic:
        selector = mapping(selector)
        if selector.get("includeManagementEvents", True) is not False and selector.get("readWriteType", "All") == "All":
            return None
    if basic:
        return "no event selector records all (read and write) management events"
    # No selectors at all: CloudTrail's default, every management event.
    return None


def _multi_region(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    problems = []
    if known(props, "isMultiRegionTrail") is not True:
        problems.append("it is not multi-Region (set is_multi_region_trail=True)")
    # The provider's default is true, so only an explicit false is a violation.
    if known(props, "includeGlobalServiceEvents") is False:
        problems.append("it leaves out global service events such as IAM and STS (include_global_service_events)")
    if known(props, "enableLogging") is False:
        problems.append("logging is off (enable_logging)")
    management = _records_management_events(props)
    if management is not None:
        problems.append(management)
    for problem in problems:
        report_violation(f"CloudTrail.1: the trail does not record every region's activity: {problem}.", None)


def _encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not names_customer_key(args.props, "kmsKeyId"):
        report_violation("CloudTrail.2: the trail's log files are not encrypted with a customer-managed KMS key; "
                         "set kms_key_id to the stack's logs key.", None)


def _validated(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if known(args.props, "enableLogFileValidation") is not True:
        report_violation("CloudTrail.4: log file validation is off, so a changed or deleted log file goes "
                         "unnoticed; set enable_log_file_validation=True.", None)


def _to_cloudwatch(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    missing = [key for key in ("cloudWatchLogsGroupArn", "cloudWatchLogsRoleArn") if not is_set(args.props, key)]
    if missing:
        report_violation(f"CloudTrail.5: the trail does not deliver to CloudWatch Logs ({', '.join(missing)} "
                         "unset); give it the audit log group and a role CloudTrail can assume to write there.", None)


POLICIES = [
    resource_policy("cloudtrail-multi-region",
                    "CloudTrail.1: trails are multi-Region, include global service events and record read and "
                    "write management events", (TRAIL,), _multi_region),
    resource_policy("cloudtrail-kms-encryption",
                    "CloudTrail.2: trails encrypt their log files with a customer-managed KMS key", (TRAIL,),
                    _encrypted),
    resource_policy("cloudtrail-log-file-validation",
                    "CloudTrail.4: trails have log file validation enabled", (TRAIL,), _validated),
    resource_policy("cloudtrail-cloudwatch-logs",
                    "CloudTrail.5: trails deliver to a CloudWatch Logs group with a role", (TRAIL,), _to_cloudwatch),
]
