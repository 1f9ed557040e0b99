"""Secrets: no database password in the program, and every Secrets Manager secret
encrypted with our key and rotated.

Aurora's master password is generated, stored and rotated by RDS in a Secrets Manager
secret of its own (``manage_master_user_password``), encrypted with the secrets key; the
program, its state and its config never see it. That secret is not a Pulumi resource, so
the rotation check below covers only the secrets the program creates itself.
"""

from __future__ import annotations

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policies._helpers import (
    check_each,
    companions_by_target,
    is_set,
    mapping,
    names_customer_key,
    resource_policy,
    stack_policy,
)
from policies.sql_databases import CLUSTER

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"

#: Cluster inputs that put the master password in the program, and their Python names.
PASSWORD_INPUTS = (("masterPassword", "master_password"), ("masterPasswordWo", "master_password_wo"))
#: Cluster inputs that make it take its credentials from elsewhere (a snapshot, a source
#: cluster, the primary of a global database), so it sets no master user of its own.
INHERITED_CREDENTIAL_INPUTS = (
    "snapshotIdentifier",
    "replicationSourceIdentifier",
    "globalClusterIdentifier",
    "restoreToPointInTime",
)


# --- Managed master password ----------------------------------------------------------------


def _managed_master_password(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    props = args.props
    for camel, python in PASSWORD_INPUTS:
        if is_set(props, camel):
            # A write-only input still lives in the program's code or config.
            report_violation(
                f"cluster sets {python}, so the master password is written in the program or "
                f"its config; remove {python} and set manage_master_user_password=True (RDS "
                "then keeps the password in Secrets Manager and rotates it).",
                None,
            )
    if props.get("manageMasterUserPassword") is True:
        if not names_customer_key(props, "masterUserSecretKmsKeyId"):
            report_violation(
                "the master password's secret is encrypted with the AWS-managed "
                "aws/secretsmanager key; set master_user_secret_kms_key_id=<the secrets key's "
                "ARN>.",
                None,
            )
        return
    inherits = not is_set(props, "masterUsername") and any(
        is_set(props, key) for key in INHERITED_CREDENTIAL_INPUTS
    )
    if inherits:
        # A global secondary or a restored cluster takes its master user from the source.
        return
    report_violation(
        "cluster does not let RDS manage its master password; set "
        "manage_master_user_password=True and master_user_secret_kms_key_id=<the secrets key's "
        "ARN>, and remove any master_password.",
        None,
    )


# --- Secrets: customer key and rotation -----------------------------------------------------


def _cmk_and_rotation(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    secrets = [r for r in args.resources if r.resource_type == SECRET]
    if not secrets:
        args.not_applicable("the stack has no Secrets Manager secrets")
    rotations = companions_by_target(args.resources, (SECRET_ROTATION,), "secretId")

    def check(secret: PolicyResource) -> None:
        if not names_customer_key(secret.props, "kmsKeyId"):
            report_violation(
                f"secret {secret.name} is encrypted with the AWS-managed aws/secretsmanager "
                "key; set kms_key_id=<the secrets key's ARN>.",
                secret.urn,
            )
        found = rotations.get(secret.urn, [])
        if not found:
            report_violation(
                f"secret {secret.name} is never rotated; add an aws.secretsmanager.SecretRotation "
                "with secret_id=secret.id, rotation_lambda_arn=<the rotation function's ARN> and "
                "rotation_rules={'automatically_after_days': 30}.",
                secret.urn,
            )
        for rotation in found:
            rules = mapping(rotation.props.get("rotationRules"))
            if rotation.props.get("rotationEnabled") is False:
                report_violation(
                    f"rotation of secret {secret.name} is switched off; remove "
                    "rotation_enabled=False.",
                    rotation.urn,
                )
            elif not (is_set(rules, "automaticallyAfterDays") or is_set(rules, "scheduleExpression")):
                report_violation(
                    f"rotation of secret {secret.name} has no schedule; set rotation_rules="
                    "{'automatically_after_days': 30} (or a schedule_expression).",
                    rotation.urn,
                )

    check_each(secrets, check)


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "secrets-managed-master-password",
        "PCI DSS 8.6.2: the Aurora master password is managed by RDS in Secrets Manager, "
        "encrypted with a customer-managed key, never set in the program",
        (CLUSTER,),
        _managed_master_password,
    ),
    stack_policy(
        "secretsmanager-cmk-and-rotation",
        "SecretsManager.1: every secret is encrypted with a customer-managed KMS key and has "
        "automatic rotation",
        _cmk_and_rotation,
    ),
]
