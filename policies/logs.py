"""CloudWatch Logs: prod log groups keep events long enough for PCI DSS 10.5.1 (a year by
default, configurable per pack run), or forever."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs

from components.common.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from policies._helpers import days_text, resource_policy

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

DEFAULT_MIN_LOG_RETENTION_DAYS = MIN_AUDIT_LOG_RETENTION_DAYS

#: The policy-config key of ``log-retention-prod`` (Pulumi policy config is camelCase).
LOG_RETENTION_CONFIG_KEY = "minimumRetentionDays"


def _minimum_retention_days(config: Mapping[str, Any]) -> int:
    value = config.get(LOG_RETENTION_CONFIG_KEY)
    # Floats too: the engine hands config numbers over as floats (protobuf Struct).
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value)
    return DEFAULT_MIN_LOG_RETENTION_DAYS


def _log_retention_prod(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    tags = args.props.get("tags")
    # An untagged log group is not applicable here; standard-tags reports the missing tag.
    if not isinstance(tags, Mapping) or tags.get("environment") != "prod":
        args.not_applicable("log group is not tagged environment=prod")
    minimum = _minimum_retention_days(args.get_config())
    retention = args.props.get("retentionInDays")
    # Missing or 0 is compliant: CloudWatch Logs then keeps events forever.
    if retention is None or retention == 0:
        return
    if not isinstance(retention, (int, float)) or retention < minimum:
        report_violation(
            f"prod log group keeps events for {days_text(retention)} days, less than the {minimum} "
            f"PCI DSS 10.5.1 requires; set retention_in_days to at least {minimum}.",
            None,
        )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "log-retention-prod",
        "PCI DSS 10.5.1: prod CloudWatch log groups keep events for at least "
        f"{DEFAULT_MIN_LOG_RETENTION_DAYS} days (configurable) or forever",
        [LOG_GROUP],
        _log_retention_prod,
        config_schema=PolicyConfigSchema(
            properties={
                LOG_RETENTION_CONFIG_KEY: {
                    "type": "integer",
                    "minimum": 1,
                    "default": DEFAULT_MIN_LOG_RETENTION_DAYS,
                    "description": "Shortest retention (days) a prod log group may have.",
                },
            },
        ),
    ),
]
