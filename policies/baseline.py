"""The retail baseline policies, importable without starting the policy server.

This module defines the foundation's policies (KMS, VPC, logs, tags) and exports the complete
pack as ``POLICIES``; the data tier's policies live in one module per area
(``object_storage``, ``sql_databases``, ``nosql_tables``, ``caches``, ``secrets_manager``)
and ``control_exceptions`` holds the registry of accepted exceptions.

Every policy is MANDATORY: the blueprint satisfies each control by default, so a violation
means a regression or a hand edit, never an accepted risk (a deviation the design needs is
a reasoned exception in ``components.common.compliance.ACCEPTED_EXCEPTIONS``). The Python SDK has no
per-type helper: every policy of the pack is declared with ``_helpers.resource_policy``, which
filters by type, or ``_helpers.stack_policy``.

Props are what pulumi-aws v7 hands a policy: camelCase inputs (``enableKeyRotation``),
wrapped by the engine in read-only ``Mapping``/``Sequence`` proxies, so the checks below
test for ``Mapping``/``Sequence``, never ``dict``/``list``. ``args.not_applicable()`` raises,
so it ends a check; a missing prop is either a violation or compliant, and each check
says which, with AWS's default as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.common.compliance import KMS_DELETION_WINDOW_DAYS, MIN_AUDIT_LOG_RETENTION_DAYS
from components.common.conventions import MANAGED_BY, STANDARD_TAG_KEYS
from policies import (
    caches,
    control_exceptions,
    data_safety,
    ec2,
    edge,
    iam,
    kubernetes,
    nosql_tables,
    object_storage,
    secrets_manager,
    sql_databases,
)
from policies._helpers import (
    days_text,
    linked_urns,
    policy_document,
    public_grant,
    resource_policy,
    stack_policy,
    statement_id,
    statements,
    tag_map,
)
from policies._taggable import is_taggable

KMS_KEY = "aws:kms/key:Key"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

MIN_KMS_DELETION_WINDOW_DAYS = KMS_DELETION_WINDOW_DAYS
DEFAULT_MIN_LOG_RETENTION_DAYS = MIN_AUDIT_LOG_RETENTION_DAYS

#: The policy-config key of ``log-retention-prod`` (Pulumi policy config is camelCase).
LOG_RETENTION_CONFIG_KEY = "minimumRetentionDays"


# --- KMS ------------------------------------------------------------------------------------


def _kms_key_rotation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    key_spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec")
    if key_spec not in (None, "SYMMETRIC_DEFAULT"):
        # AWS rotates only symmetric encryption keys (KMS.4 evaluates only those); asking
        # an asymmetric or HMAC key to rotate is an API error, not a fix.
        args.not_applicable(f"{key_spec} keys do not support automatic rotation")
    # Missing enableKeyRotation is a violation: AWS's default is off.
    if args.props.get("enableKeyRotation") is not True:
        report_violation(
            "KMS key has rotation off; set enable_key_rotation=True "
            "(AWS then rotates the key material yearly, or every rotation_period_in_days).",
            None,
        )


def _kms_key_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    policy = args.props.get("policy")
    if policy is None or policy == "":
        # Missing policy is compliant: AWS then attaches the default key policy, which
        # trusts only the key's own account.
        args.not_applicable("no key policy: AWS's default policy trusts only the account")
    document, problem = policy_document(policy)
    if document is None:
        fix = (
            "build it as a dict and pass json.dumps(document) so it can be checked for public "
            "principals"
            if problem and problem.startswith("is not valid JSON")
            else "pass json.dumps of a policy document"
        )
        report_violation(f"KMS key policy {problem}; {fix}.", None)
        return
    for index, statement in enumerate(statements(document)):
        how = public_grant(statement)
        if how is None:
            continue
        report_violation(
            f"KMS key policy statement {statement_id(statement, index)} allows {how} without a "
            "Condition, so any account can use the key; name the account or role ARNs as "
            "principals, or add a Condition such as aws:PrincipalAccount or kms:CallerAccount.",
            None,
        )


def _kms_key_deletion_window(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    window = args.props.get("deletionWindowInDays")
    # Missing is compliant: AWS's default waiting period is 30 days.
    if window is None:
        return
    if not isinstance(window, (int, float)) or window < MIN_KMS_DELETION_WINDOW_DAYS:
        report_violation(
            f"KMS key deletion window is {days_text(window)} days; set deletion_window_in_days="
            f"{MIN_KMS_DELETION_WINDOW_DAYS} so an accidental deletion can be cancelled "
            "(and protect=True on keys that encrypt data).",
            None,
        )


# --- VPC ------------------------------------------------------------------------------------


def _vpc_flow_logs(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    vpcs = [r for r in args.resources if r.resource_type == VPC]
    if not vpcs:
        args.not_applicable("the stack has no VPCs")
    logged = linked_urns(args.resources, FLOW_LOG, "vpcId")
    for vpc in vpcs:
        if vpc.urn not in logged:
            report_violation(
                f"VPC {vpc.name} has no flow log; add an aws.ec2.FlowLog with "
                "vpc_id=vpc.id (traffic_type='ALL') so network traffic is auditable.",
                vpc.urn,
            )


def _default_security_group_closed(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing ingress/egress is compliant: the provider then removes every rule.
    rules = {kind: args.props.get(kind) or () for kind in ("ingress", "egress")}
    open_kinds = [f"{len(found)} {kind}" for kind, found in rules.items() if len(found)]
    if open_kinds:
        report_violation(
            f"default security group has {' and '.join(open_kinds)} rule(s); set ingress=[] "
            "and egress=[] and put the rules on a dedicated security group.",
            None,
        )


def _default_security_group_managed(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    vpcs = [r for r in args.resources if r.resource_type == VPC]
    if not vpcs:
        args.not_applicable("the stack has no VPCs")
    managed = linked_urns(args.resources, DEFAULT_SECURITY_GROUP, "vpcId")
    for vpc in vpcs:
        if vpc.urn not in managed:
            report_violation(
                f"VPC {vpc.name} leaves its default security group unmanaged, and AWS's "
                "default allows all traffic within the group; add an "
                "aws.ec2.DefaultSecurityGroup with vpc_id=vpc.id and no ingress or egress.",
                vpc.urn,
            )


def _subnet_no_public_ip_on_launch(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing is compliant: AWS's default is false.
    if args.props.get("mapPublicIpOnLaunch") is True:
        report_violation(
            "subnet assigns public IPs on launch; set map_public_ip_on_launch=False "
            "(NAT gateways and load balancers bring their own addresses).",
            None,
        )


# --- Logs -----------------------------------------------------------------------------------


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


# --- Tags -----------------------------------------------------------------------------------


def _standard_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or not is_taggable(args.resource_type):
        return
    # Missing tags is a violation: every standard key is then missing.
    tags = tag_map(args.props.get("tags"))
    missing = [
        key
        for key in STANDARD_TAG_KEYS
        if not isinstance(tags.get(key), str) or not tags[key].strip()
    ]
    if missing:
        report_violation(
            f"missing or empty standard tags: {', '.join(missing)}; merge "
            "Conventions.tags() (components/conventions.py) into this resource's tags.",
            None,
        )
    managed_by = tags.get("managed-by")
    if "managed-by" not in missing and managed_by != MANAGED_BY:
        report_violation(
            f"tag managed-by is {managed_by!r}, expected {MANAGED_BY!r}; take the tags from "
            "Conventions.tags() rather than writing them by hand.",
            None,
        )


# --- The pack -------------------------------------------------------------------------------

#: Network, keys, logs and tags: the controls of the foundation layer.
_FOUNDATION: list[Policy] = [
    resource_policy("kms-key-rotation", "KMS.4: customer-managed KMS keys rotate their key material",
                    [KMS_KEY], _kms_key_rotation),
    resource_policy("kms-key-not-public",
                    "KMS.5: KMS key policies do not allow every AWS principal without a condition",
                    [KMS_KEY], _kms_key_not_public),
    resource_policy("kms-key-deletion-window",
                    f"KMS.3: KMS keys wait at least {MIN_KMS_DELETION_WINDOW_DAYS} days before deletion",
                    [KMS_KEY], _kms_key_deletion_window),
    stack_policy("vpc-flow-logs", "EC2.6: every VPC has a flow log", _vpc_flow_logs),
    resource_policy("default-security-group-closed",
                    "EC2.2: managed default security groups have no ingress or egress rules",
                    [DEFAULT_SECURITY_GROUP], _default_security_group_closed),
    stack_policy("default-security-group-managed",
                 "EC2.2: every VPC's default security group is managed (and so closed)",
                 _default_security_group_managed),
    resource_policy("subnet-no-public-ip-on-launch",
                    "EC2.15: subnets do not assign public IPv4 addresses on launch",
                    [SUBNET], _subnet_no_public_ip_on_launch),
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
    resource_policy("standard-tags",
                    f"TAG.1: every taggable AWS resource carries the standard tags, with managed-by={MANAGED_BY}",
                    None, _standard_tags),
]

#: The whole pack, in the order ``pulumi preview`` reports it. The pack's ``__main__.py``,
#: the offline checker and the tests all import it from here; the data tier's policies live
#: in one module per area and are only listed here.
POLICIES: list[Policy] = [
    *_FOUNDATION,
    *object_storage.POLICIES,
    *sql_databases.POLICIES,
    *nosql_tables.POLICIES,
    *caches.POLICIES,
    *secrets_manager.POLICIES,
    *control_exceptions.POLICIES,
    *data_safety.POLICIES,
    *iam.POLICIES,
    *kubernetes.POLICIES,
    *edge.POLICIES,
    *ec2.POLICIES,
]
