"""The AWS Config managed rules the stack runs, each named after the control it evidences.

Security Hub evaluates its standards with service-linked rules of its own; these are the stack's,
so the controls its policy pack checks before deployment are also watched after it (drift made
in the console shows as a NON_COMPLIANT rule). Identifiers: AWS Config Developer Guide, "List of
AWS Config managed rules"; control ids: Security Hub, AWS Foundational Security Best Practices.
Only parameterless rules: a rule that needs the stack's values (an EKS version list) belongs
with the component that knows them.
"""

from __future__ import annotations

from types import MappingProxyType

#: FSBP control id -> the AWS Config managed rule identifier that checks it.
CONFIG_RULES: MappingProxyType[str, str] = MappingProxyType({
    "CloudTrail.1": "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "CloudTrail.2": "CLOUD_TRAIL_ENCRYPTION_ENABLED",
    "CloudTrail.4": "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CloudTrail.5": "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED",
    "S3.1": "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
    "S3.5": "S3_BUCKET_SSL_REQUESTS_ONLY",
    "S3.8": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "S3.9": "S3_BUCKET_LOGGING_ENABLED",
    "S3.14": "S3_BUCKET_VERSIONING_ENABLED",
    "S3.17": "S3_DEFAULT_ENCRYPTION_KMS",
    "RDS.3": "RDS_STORAGE_ENCRYPTED",
    "RDS.7": "RDS_CLUSTER_DELETION_PROTECTION_ENABLED",
    "DynamoDB.6": "DYNAMODB_TABLE_DELETION_PROTECTION_ENABLED",
    "KMS.4": "CMK_BACKING_KEY_ROTATION_ENABLED",
    "EKS.1": "EKS_ENDPOINT_NO_PUBLIC_ACCESS",
    "EKS.3": "EKS_SECRETS_ENCRYPTED",
    "Kinesis.1": "KINESIS_STREAM_ENCRYPTED",
    "GuardDuty.1": "GUARDDUTY_ENABLED_CENTRALIZED",
})


def rule_slug(control: str) -> str:
    """``CloudTrail.1`` -> ``cloudtrail-1``: the form used in rule and resource names."""
    return control.lower().replace(".", "-")
