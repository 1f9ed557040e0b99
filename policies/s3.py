"""S3: account and bucket public access, TLS-only bucket policies, access logging, ACLs
disabled, lifecycle, versioning and KMS encryption.

pulumi-aws v7 configures a bucket through separate resources whose ``bucket`` input comes
from the bucket (``BucketVersioning``, ``BucketPublicAccessBlock``...); the inline
arguments of ``aws.s3.Bucket`` (``versioning``, ``policy``, ``server_side_encryption_
configuration``...) are deprecated and are not read here. "Every bucket has X" is a stack
policy that links X to its bucket through ``property_dependencies["bucket"]``: a new
bucket's name or id is unknown during preview, but the engine knows where the input came
from. A missing companion is reported on the bucket; a companion that exists but is wrong is
reported on the companion, where the fix goes. The deprecated ``...V2`` tokens, which the
provider still accepts as aliases, are checked as the same resources.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationPolicy

from policies._helpers import (
    CompanionCheck,
    as_list,
    companion_policy,
    mapping,
    names_customer_key,
    policy_document,
    principal_is_everyone,
    public_grant,
    resource_policy,
    sequence,
    statement_id,
    statements,
)
from policies.exceptions import CONTROL_EXCEPTIONS_TAG, has_accepted_exception

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_TYPES = (BUCKET, "aws:s3/bucketV2:BucketV2")
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
OWNERSHIP_CONTROLS_TYPES = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)

#: The four Block Public Access settings: camelCase input -> pulumi-aws Python argument.
PUBLIC_ACCESS_FLAGS: Mapping[str, str] = {
    "blockPublicAcls": "block_public_acls",
    "blockPublicPolicy": "block_public_policy",
    "ignorePublicAcls": "ignore_public_acls",
    "restrictPublicBuckets": "restrict_public_buckets",
}

#: Canned ACLs that open a bucket, and to whom.
PUBLIC_CANNED_ACLS: Mapping[str, str] = {
    "public-read": "everyone list and read it",
    "public-read-write": "everyone list, read and write it",
    "authenticated-read": "every AWS account list and read it",
}

#: ACL grantee groups that are public, and who they are.
PUBLIC_GRANTEE_URIS: Mapping[str, str] = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "every AWS account",
}

BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"
SSE_S3 = "AES256"
#: SSE-KMS and dual-layer SSE-KMS: both use a KMS key, so both meet S3.17.
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
S3_17 = "S3.17"


def _flags_off(props: Mapping[str, Any]) -> list[str]:
    # Missing is off: the provider's default for each flag is false.
    return [python for camel, python in PUBLIC_ACCESS_FLAGS.items() if props.get(camel) is not True]


def _all_flags_on() -> str:
    return ", ".join(f"{python}=True" for python in PUBLIC_ACCESS_FLAGS.values())


# --- S3.1 -----------------------------------------------------------------------------------


def _account_public_access_block(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    off = _flags_off(args.props)
    if off:
        report_violation(
            f"account-level S3 Block Public Access leaves {', '.join(off)} off; set "
            f"{_all_flags_on()} on the aws.s3.AccountPublicAccessBlock.",
            None,
        )


# --- S3.2 / S3.3 ----------------------------------------------------------------------------


def _public_acl_problems(props: Mapping[str, Any], grants: Any, grantee_of: Callable) -> list[str]:
    problems = []
    acl = props.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_CANNED_ACLS:
        problems.append(f"canned ACL {acl!r} lets {PUBLIC_CANNED_ACLS[acl]}")
    for grant in sequence(grants):
        grantee = grantee_of(mapping(grant))
        uri = grantee.get("uri")
        if uri in PUBLIC_GRANTEE_URIS:
            permission = mapping(grant).get("permission") or mapping(grant).get("permissions")
            what = "/".join(str(p) for p in as_list(permission)) or "access"
            problems.append(f"ACL grants {what} to {PUBLIC_GRANTEE_URIS[uri]} ({uri})")
    return problems


_NOT_PUBLIC_FIX = (
    "keep ACLs disabled (aws.s3.BucketOwnershipControls with "
    f"object_ownership='{BUCKET_OWNER_ENFORCED}', no acl or grants) and grant access in an "
    "aws.s3.BucketPolicy that names account, role or service principals, or adds a Condition "
    "such as aws:SourceArn or aws:PrincipalOrgID"
)


def _public_policy_messages(policy: Any) -> list[str]:
    if policy is None or policy == "":
        return []
    document, problem = policy_document(policy)
    if document is None:
        return [
            f"bucket policy {problem}; build it as a dict and pass json.dumps(document) so it "
            "can be checked for public principals."
        ]
    return [
        f"bucket policy statement {statement_id(statement, index)} allows {how} without a "
        f"Condition, so the bucket is public; {_NOT_PUBLIC_FIX}."
        for index, statement in enumerate(statements(document))
        if (how := public_grant(statement)) is not None
    ]


def _bucket_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    messages: list[str] = []
    if args.resource_type in POLICY_TYPES:
        messages += _public_policy_messages(props.get("policy"))
    elif args.resource_type in ACL_TYPES:
        problems = _public_acl_problems(
            props,
            mapping(props.get("accessControlPolicy")).get("grants"),
            lambda grant: mapping(grant.get("grantee")),
        )
        messages += [f"{problem}, so the bucket is public; {_NOT_PUBLIC_FIX}." for problem in problems]
    else:
        # The deprecated inline acl, grants and policy of aws.s3.Bucket still take effect.
        problems = _public_acl_problems(props, props.get("grants"), lambda grant: grant)
        messages += [f"{problem}, so the bucket is public; {_NOT_PUBLIC_FIX}." for problem in problems]
        messages += _public_policy_messages(props.get("policy"))
    for message in messages:
        report_violation(message, None)


# --- Bucket companions ----------------------------------------------------------------------


def _bucket_companion_policy(
    name: str,
    description: str,
    companion_types: Collection[str],
    missing: Callable[[PolicyResource], str],
    check: CompanionCheck | None = None,
) -> StackValidationPolicy:
    """Every bucket has a companion of ``companion_types`` whose ``bucket`` input came from it
    (``_helpers.companion_policy``)."""
    return companion_policy(name, description, BUCKET_TYPES, "S3 buckets", companion_types, "bucket",
                            missing, check)


# S3.5


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if str(statement.get("Effect", "")).lower() != "deny":
        return False
    if not principal_is_everyone(statement.get("Principal")):
        return False
    if not any(str(action).lower() in ("*", "s3:*") for action in as_list(statement.get("Action"))):
        return False
    # Condition operators and keys are case-insensitive in IAM.
    for operator, block in mapping(statement.get("Condition")).items():
        if str(operator).lower() not in ("bool", "boolifexists"):
            continue
        for key, value in mapping(block).items():
            if str(key).lower() == "aws:securetransport" and any(
                str(v).lower() == "false" for v in as_list(value)
            ):
                return True
    return False


_TLS_DENY = (
    "{'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*', 'Resource': [bucket_arn, "
    "f'{bucket_arn}/*'], 'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}"
)


def _ssl_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} has no bucket policy, so it accepts requests over plain HTTP; "
        f"add an aws.s3.BucketPolicy with bucket=bucket.id whose policy holds {_TLS_DENY}."
    )


def _ssl_check(bucket: PolicyResource, policy: PolicyResource) -> str | None:
    document, problem = policy_document(policy.props.get("policy"))
    if document is None:
        return (
            f"bucket policy of {bucket.name} {problem}; build it as a dict and pass "
            "json.dumps(document) so the TLS-only statement can be checked."
        )
    if any(_denies_insecure_transport(s) for s in statements(document)):
        return None
    return (
        f"bucket policy of {bucket.name} does not deny requests over plain HTTP; add the "
        f"statement {_TLS_DENY}."
    )


# S3.8


def _public_access_block_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} has no public access block; add an "
        f"aws.s3.BucketPublicAccessBlock with bucket=bucket.id and {_all_flags_on()}."
    )


def _public_access_block_check(bucket: PolicyResource, block: PolicyResource) -> str | None:
    off = _flags_off(block.props)
    if not off:
        return None
    return (
        f"public access block of bucket {bucket.name} leaves {', '.join(off)} off; set "
        f"{', '.join(f'{flag}=True' for flag in off)}."
    )


# S3.9


def _logging_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} has no server access logging; add an aws.s3.BucketLogging with "
        "bucket=bucket.id, target_bucket=<the logs bucket>.id and "
        f"target_prefix='{bucket.name}/'."
    )


# S3.12


def _ownership_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} has no ownership controls, so ACLs still grant access; add an "
        "aws.s3.BucketOwnershipControls with bucket=bucket.id and "
        f"rule={{'object_ownership': '{BUCKET_OWNER_ENFORCED}'}}."
    )


def _ownership_check(bucket: PolicyResource, controls: PolicyResource) -> str | None:
    ownership = mapping(controls.props.get("rule")).get("objectOwnership")
    if ownership == BUCKET_OWNER_ENFORCED:
        return None
    return (
        f"ownership controls of bucket {bucket.name} set object_ownership={ownership!r}, which "
        f"keeps ACLs working; set object_ownership='{BUCKET_OWNER_ENFORCED}' (ACLs disabled, "
        "the bucket owner owns every object)."
    )


# S3.13


def _lifecycle_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} has no lifecycle configuration; add an "
        "aws.s3.BucketLifecycleConfiguration with bucket=bucket.id and rules that expire "
        "noncurrent versions and abort incomplete multipart uploads."
    )


def _lifecycle_check(bucket: PolicyResource, lifecycle: PolicyResource) -> str | None:
    rules = [mapping(rule) for rule in sequence(lifecycle.props.get("rules"))]
    if any(rule.get("status") == "Enabled" for rule in rules):
        return None
    return (
        f"lifecycle configuration of bucket {bucket.name} has no enabled rule; give at least "
        "one rule status='Enabled'."
    )


# S3.14


def _versioning_missing(bucket: PolicyResource) -> str:
    return (
        f"bucket {bucket.name} is not versioned; add an aws.s3.BucketVersioning with "
        "bucket=bucket.id and versioning_configuration={'status': 'Enabled'}."
    )


def _versioning_check(bucket: PolicyResource, versioning: PolicyResource) -> str | None:
    status = mapping(versioning.props.get("versioningConfiguration")).get("status")
    if status == "Enabled":
        return None
    return (
        f"versioning of bucket {bucket.name} is {status!r}; set "
        "versioning_configuration={'status': 'Enabled'}."
    )


# S3.17


_KMS_FIX = "sse_algorithm='aws:kms' and kms_master_key_id=<the customer-managed key's ARN>"


def _encryption_missing(bucket: PolicyResource) -> str:
    if has_accepted_exception(bucket.props, S3_17):
        return (
            f"bucket {bucket.name} claims exception {S3_17} but has no server-side encryption "
            "configuration; the exception allows SSE-S3 instead of KMS, never no encryption: "
            "add an aws.s3.BucketServerSideEncryptionConfiguration with bucket=bucket.id and "
            f"a rule with apply_server_side_encryption_by_default sse_algorithm='{SSE_S3}'."
        )
    return (
        f"bucket {bucket.name} has no server-side encryption configuration; add an "
        "aws.s3.BucketServerSideEncryptionConfiguration with bucket=bucket.id and a rule "
        f"with apply_server_side_encryption_by_default {_KMS_FIX}."
    )


def _encryption_check(bucket: PolicyResource, encryption: PolicyResource) -> str | None:
    excepted = has_accepted_exception(bucket.props, S3_17)
    defaults = [
        mapping(mapping(rule).get("applyServerSideEncryptionByDefault"))
        for rule in sequence(encryption.props.get("rules"))
    ]
    defaults = [default for default in defaults if default]
    if not defaults:
        return (
            f"encryption configuration of bucket {bucket.name} sets no default encryption; "
            f"give its rule apply_server_side_encryption_by_default with {_KMS_FIX}."
        )
    for default in defaults:
        algorithm = default.get("sseAlgorithm")
        if algorithm in KMS_ALGORITHMS:
            if not names_customer_key(default, "kmsMasterKeyId"):
                return (
                    f"bucket {bucket.name} is encrypted with the AWS-managed aws/s3 key, "
                    "whose policy this project cannot control; set kms_master_key_id to the "
                    "customer-managed key's ARN."
                )
        elif algorithm == SSE_S3 and excepted:
            # The accepted exception: SSE-S3 instead of KMS, for log delivery (see
            # ACCEPTED_EXCEPTIONS); still encrypted, so still compliant.
            continue
        elif algorithm == SSE_S3:
            return (
                f"bucket {bucket.name} is encrypted with SSE-S3 ({SSE_S3}), not a KMS key; set "
                f"{_KMS_FIX}. Only a bucket that receives S3 server access logs or ALB access "
                f"logs may keep {SSE_S3}, tagged {CONTROL_EXCEPTIONS_TAG}='{S3_17}'."
            )
        else:
            return (
                f"bucket {bucket.name} has sse_algorithm={algorithm!r}; set {_KMS_FIX}."
            )
    return None


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("s3-account-public-access-block",
                    "S3.1: account-level S3 Block Public Access has all four settings on",
                    (ACCOUNT_PUBLIC_ACCESS_BLOCK,), _account_public_access_block),
    resource_policy("s3-bucket-not-public",
                    "S3.2 / S3.3: no public ACL and no bucket policy statement open to everyone",
                    (*BUCKET_TYPES, *ACL_TYPES, *POLICY_TYPES), _bucket_not_public),
    _bucket_companion_policy("s3-bucket-ssl-requests-only",
                             "S3.5: every bucket has a bucket policy that denies requests without TLS",
                             POLICY_TYPES, _ssl_missing, _ssl_check),
    _bucket_companion_policy("s3-bucket-public-access-block",
                             "S3.8: every bucket has a public access block with all four settings on",
                             PUBLIC_ACCESS_BLOCK_TYPES, _public_access_block_missing, _public_access_block_check),
    _bucket_companion_policy("s3-bucket-access-logging", "S3.9: every bucket has server access logging",
                             LOGGING_TYPES, _logging_missing),
    _bucket_companion_policy("s3-bucket-acls-disabled",
                             f"S3.12: every bucket has ownership controls set to {BUCKET_OWNER_ENFORCED}",
                             OWNERSHIP_CONTROLS_TYPES, _ownership_missing, _ownership_check),
    _bucket_companion_policy("s3-bucket-lifecycle",
                             "S3.13: every bucket has a lifecycle configuration with an enabled rule",
                             LIFECYCLE_TYPES, _lifecycle_missing, _lifecycle_check),
    _bucket_companion_policy("s3-bucket-versioning", "S3.14: every bucket has versioning enabled",
                             VERSIONING_TYPES, _versioning_missing, _versioning_check),
    _bucket_companion_policy("s3-bucket-kms-encryption",
                             "S3.17: every bucket is encrypted with a customer-managed KMS key (SSE-S3 only under "
                             "the accepted log-delivery exception)",
                             ENCRYPTION_TYPES, _encryption_missing, _encryption_check),
]
