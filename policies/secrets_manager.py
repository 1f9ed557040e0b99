"""Secrets Manager: every secret the program creates is encrypted with our key and rotated.

Aurora's master password lives in a secret RDS manages itself (not a Pulumi resource), so
the check below covers only the secrets the program creates; that the cluster lets RDS
manage it (``secrets-managed-master-password``) is a check of the cluster, in ``rds``.
"""

from __future__ import annotations

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
)

from policies._helpers import (
    check_each,
    companions_by_target,
    is_set,
    mapping,
    names_customer_key,
    stack_policy,
)

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


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
    stack_policy(
        "secretsmanager-cmk-and-rotation",
        "SecretsManager.1: every secret is encrypted with a customer-managed KMS key and has "
        "automatic rotation",
        _cmk_and_rotation,
    ),
]
