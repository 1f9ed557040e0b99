"""DynamoDB tables: on-demand capacity, point-in-time recovery, deletion protection in prod,
and encryption with a customer-managed key. Global-table replicas (``replicas``) are held
to the same settings as the table, region by region."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import is_prod, mapping, names_customer_key, resource_policy, sequence

TABLE = "aws:dynamodb/table:Table"
PAY_PER_REQUEST = "PAY_PER_REQUEST"


def _replicas(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [mapping(replica) for replica in sequence(props.get("replicas"))]


def _region(replica: Mapping[str, Any]) -> str:
    return str(replica.get("regionName") or "?")


# --- DynamoDB.1 -----------------------------------------------------------------------------


def _on_demand_capacity(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    mode = args.props.get("billingMode")
    # Missing is a violation: AWS's default is PROVISIONED. The control also accepts
    # provisioned capacity with Application Auto Scaling, which the blueprint does not use,
    # so this pack accepts on-demand only.
    if mode != PAY_PER_REQUEST:
        shown = mode or "PROVISIONED (the default)"
        report_violation(
            f"table uses {shown} capacity, which throttles under a traffic spike; set "
            f"billing_mode='{PAY_PER_REQUEST}'.",
            None,
        )


# --- DynamoDB.2 -----------------------------------------------------------------------------


def _point_in_time_recovery(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing is a violation: AWS's default is off.
    if mapping(args.props.get("pointInTimeRecovery")).get("enabled") is not True:
        report_violation(
            "table has no point-in-time recovery; set point_in_time_recovery="
            "{'enabled': True, 'recovery_period_in_days': 35}.",
            None,
        )
    for replica in _replicas(args.props):
        if replica.get("pointInTimeRecovery") is not True:
            report_violation(
                f"replica in {_region(replica)} has no point-in-time recovery; set "
                "point_in_time_recovery=True on its replicas entry.",
                None,
            )


# --- DynamoDB.6 -----------------------------------------------------------------------------


def _deletion_protection_prod(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if not is_prod(args.props):
        args.not_applicable("table is not tagged environment=prod")
    # Missing is a violation: AWS's default is off.
    if args.props.get("deletionProtectionEnabled") is not True:
        report_violation(
            "prod table can be deleted by one API call; set deletion_protection_enabled=True "
            "(and protect=True in its ResourceOptions).",
            None,
        )
    for replica in _replicas(args.props):
        if replica.get("deletionProtectionEnabled") is not True:
            report_violation(
                f"prod replica in {_region(replica)} can be deleted by one API call; set "
                "deletion_protection_enabled=True on its replicas entry.",
                None,
            )


# --- Customer-managed key -------------------------------------------------------------------


def _cmk_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    encryption = mapping(args.props.get("serverSideEncryption"))
    # Missing or disabled: DynamoDB still encrypts, but with an AWS-owned key nobody audits.
    if encryption.get("enabled") is not True:
        report_violation(
            "table is encrypted with an AWS-owned key; set server_side_encryption="
            "{'enabled': True, 'kms_key_arn': <the data key's ARN>}.",
            None,
        )
    elif not names_customer_key(encryption, "kmsKeyArn"):
        report_violation(
            "table is encrypted with the AWS-managed aws/dynamodb key; set kms_key_arn=<the "
            "data key's ARN> in server_side_encryption.",
            None,
        )
    for replica in _replicas(args.props):
        if not names_customer_key(replica, "kmsKeyArn"):
            report_violation(
                f"replica in {_region(replica)} is encrypted with the AWS-managed key; set "
                "kms_key_arn=<the data key's replica ARN in that region> on its replicas entry.",
                None,
            )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "dynamodb-on-demand-capacity",
        "DynamoDB.1: tables scale with demand (on-demand capacity)",
        (TABLE,),
        _on_demand_capacity,
    ),
    resource_policy(
        "dynamodb-point-in-time-recovery",
        "DynamoDB.2: tables and their replicas have point-in-time recovery",
        (TABLE,),
        _point_in_time_recovery,
    ),
    resource_policy(
        "dynamodb-deletion-protection-prod",
        "DynamoDB.6: prod tables and their replicas have deletion protection",
        (TABLE,),
        _deletion_protection_prod,
    ),
    resource_policy(
        "dynamodb-cmk-encryption",
        "PCI DSS 3.5.1: tables and their replicas are encrypted with a customer-managed KMS key",
        (TABLE,),
        _cmk_encryption,
    ),
]
