"""RDS Proxy: TLS required from clients, IAM authentication required, no statement text in
the proxy's log.

AWS Security Hub FSBP has no control for RDS Proxy (its RDS controls cover clusters, instances,
snapshots and event subscriptions), so these carry the requirement they enforce: PCI DSS 4.2.1
(strong cryptography for cardholder data in transit, here the hop from pod to proxy that the
cluster's rds.force_ssl does not see), PCI DSS 8.3.1 / 8.6.2 (every application sign-in is an
individual, short-lived credential, never a shared password; the same reason the pack's
RDS.12 rule asks clusters for IAM authentication) and PCI DSS 3.3 / 10.3 (logs hold no
cardholder data: debug logging writes the SQL text, values included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import known, mapping, resource_policy, sequence

PROXY = "aws:rds/proxy:Proxy"
IAM_REQUIRED = "REQUIRED"
IAM_END_TO_END = "IAM_AUTH"


def _tls_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is a violation: the proxy's default accepts plain-text clients.
    if known(args.props, "requireTls") is not True:
        report_violation(
            "proxy accepts clients without TLS; set require_tls=True (the cluster's rds.force_ssl covers only the "
            "proxy's own connections to the database).",
            None,
        )


def _auth_entries(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [mapping(entry) for entry in sequence(known(props, "auths"))]


def _iam_auth_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    entries = _auth_entries(args.props)
    weak = [str(entry.get("username") or entry.get("secretArn") or f"auths[{index}]")
            for index, entry in enumerate(entries) if entry.get("iamAuth") != IAM_REQUIRED]
    if weak:
        report_violation(
            f"proxy lets clients sign in with a password ({', '.join(weak)}); set iam_auth='REQUIRED' on every "
            "auth entry so each workload signs in with its own short-lived IAM token.",
            None,
        )
    if not entries and known(args.props, "defaultAuthScheme") != IAM_END_TO_END:
        report_violation(
            "proxy has no authentication configured; set default_auth_scheme='IAM_AUTH' (IAM end to end) or auth "
            "entries with iam_auth='REQUIRED'.",
            None,
        )


def _no_debug_logging(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is compliant: the provider's default is off.
    if known(args.props, "debugLogging") is True:
        report_violation(
            "proxy debug logging writes SQL statements, values included, to its log; set debug_logging=False "
            "(turn it on only for a bounded investigation, with an exception).",
            None,
        )


POLICIES = [
    resource_policy(
        "rds-proxy-tls-required",
        "PCI DSS 4.2.1: RDS proxies refuse clients that do not use TLS",
        (PROXY,),
        _tls_required,
    ),
    resource_policy(
        "rds-proxy-iam-auth-required",
        "PCI DSS 8.3.1: RDS proxies require IAM authentication from every client",
        (PROXY,),
        _iam_auth_required,
    ),
    resource_policy(
        "rds-proxy-no-debug-logging",
        "PCI DSS 3.3: RDS proxies do not log SQL statement text",
        (PROXY,),
        _no_debug_logging,
    ),
]
