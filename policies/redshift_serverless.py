"""Redshift Serverless namespaces and workgroups: enhanced VPC routing, TLS only, no public
access, a customer-managed key, a non-default admin user, audit logs exported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from policies._helpers import known, names_customer_key, resource_policy, sequence

NAMESPACE = "aws:redshiftserverless/namespace:Namespace"
WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup"

#: The admin user Redshift Serverless creates when none is named, and other well-known names.
DEFAULT_ADMIN_USERNAMES = frozenset({"admin", "awsuser"})

#: The audit logs a namespace must export: connections and user changes (RedshiftServerless.6
#: asks for these two); user activity too, every query before it runs.
REQUIRED_LOG_EXPORTS = ("connectionlog", "userlog", "useractivitylog")


def _plain(value: Any) -> Any:
    """A secret input (``{"<sig>": ..., "value": v}``) as its value."""
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def _parameters(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The workgroup's config parameters by key; None while unknown."""
    try:
        entries = props.get("configParameters")
    except UnknownValueError:
        return None
    result: dict[str, Any] = {}
    for entry in sequence(entries):
        if isinstance(entry, Mapping):
            result[str(entry.get("parameterKey"))] = entry.get("parameterValue")
    return result


# --- RedshiftServerless.1 --------------------------------------------------------------------


def _enhanced_vpc_routing(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is a violation: the default is off (COPY/UNLOAD over the internet).
    if args.props.get("enhancedVpcRouting") is not True:
        report_violation("workgroup routes COPY, UNLOAD and Spectrum traffic outside the VPC; set "
                         "enhanced_vpc_routing=True.", None)


# --- RedshiftServerless.2 --------------------------------------------------------------------


def _require_ssl(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    parameters = _parameters(args.props)
    if parameters is None:
        return
    # Missing is a violation: the default parameter value is false.
    if str(parameters.get("require_ssl", "false")).lower() != "true":
        report_violation("workgroup accepts connections without TLS; add config_parameters "
                         "{parameter_key: 'require_ssl', parameter_value: 'true'}.", None)


# --- RedshiftServerless.3 --------------------------------------------------------------------


def _not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is compliant: the default is false.
    if args.props.get("publiclyAccessible") is True:
        report_violation("workgroup is publicly accessible; set publicly_accessible=False and reach it from "
                         "the VPC (its security group admits named client groups).", None)


# --- RedshiftServerless.4 --------------------------------------------------------------------


def _customer_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is a violation: Redshift Serverless then uses an AWS-owned key.
    if not names_customer_key(args.props, "kmsKeyId"):
        report_violation("namespace is not encrypted with a customer-managed key; set kms_key_id=<the data "
                         "key's ARN> (only possible when the namespace is created).", None)


# --- RedshiftServerless.5 --------------------------------------------------------------------


def _non_default_admin(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    try:
        raw = args.props.get("adminUsername")
    except UnknownValueError:
        return
    username = _plain(raw)
    # Missing is a violation: the namespace then gets the default admin user, "admin".
    if not isinstance(username, str) or not username or username.lower() in DEFAULT_ADMIN_USERNAMES:
        shown = "not set (defaults to 'admin')" if not username else repr(username)
        report_violation(f"namespace's admin user is {shown}; set admin_username to a name of your own "
                         "(retail:warehouse.adminUsername).", None)


# --- RedshiftServerless.6 --------------------------------------------------------------------


def _audit_logs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    exports = known(args.props, "logExports")
    if exports is None and "logExports" in args.props:
        return  # unknown during preview
    exported = {str(e) for e in sequence(exports)}
    missing = [kind for kind in REQUIRED_LOG_EXPORTS if kind not in exported]
    if missing:
        report_violation(f"namespace does not export {', '.join(missing)} to CloudWatch Logs; set log_exports="
                         f"{list(REQUIRED_LOG_EXPORTS)}.", None)


# --- The policies ----------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "redshift-serverless-enhanced-vpc-routing",
        "RedshiftServerless.1: workgroups use enhanced VPC routing",
        (WORKGROUP,),
        _enhanced_vpc_routing,
    ),
    resource_policy(
        "redshift-serverless-require-ssl",
        "RedshiftServerless.2: workgroups require TLS (require_ssl)",
        (WORKGROUP,),
        _require_ssl,
    ),
    resource_policy(
        "redshift-serverless-not-public",
        "RedshiftServerless.3: workgroups are not publicly accessible",
        (WORKGROUP,),
        _not_public,
    ),
    resource_policy(
        "redshift-serverless-encrypted",
        "RedshiftServerless.4: namespaces are encrypted with a customer-managed KMS key",
        (NAMESPACE,),
        _customer_key,
    ),
    resource_policy(
        "redshift-serverless-non-default-admin",
        "RedshiftServerless.5: namespaces do not use the default admin username",
        (NAMESPACE,),
        _non_default_admin,
    ),
    resource_policy(
        "redshift-serverless-audit-logging",
        "RedshiftServerless.6: namespaces export connection, user and user-activity logs to CloudWatch Logs",
        (NAMESPACE,),
        _audit_logs,
    ),
]
