"""KMS keys: automatic rotation (KMS.4), no key policy open to every principal (KMS.5) and a
deletion window long enough to cancel a mistake (KMS.3).

Props are what pulumi-aws v7 hands a policy: camelCase inputs (``enableKeyRotation``),
wrapped by the engine in read-only ``Mapping``/``Sequence`` proxies. ``args.not_applicable()``
raises, so it ends a check; a missing prop is either a violation or compliant, and each
check says which, with AWS's default as the reason.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from components.common.compliance import KMS_DELETION_WINDOW_DAYS
from policies._helpers import (
    days_text,
    policy_document,
    public_grant,
    resource_policy,
    statement_id,
    statements,
)

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"

MIN_KMS_DELETION_WINDOW_DAYS = KMS_DELETION_WINDOW_DAYS


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


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("kms-key-rotation", "KMS.4: customer-managed KMS keys rotate their key material",
                    [KMS_KEY], _kms_key_rotation),
    resource_policy("kms-key-not-public",
                    "KMS.5: KMS key policies do not allow every AWS principal without a condition",
                    [KMS_KEY, KMS_KEY_POLICY], _kms_key_not_public),
    resource_policy("kms-key-deletion-window",
                    f"KMS.3: KMS keys wait at least {MIN_KMS_DELETION_WINDOW_DAYS} days before deletion",
                    [KMS_KEY], _kms_key_deletion_window),
]
