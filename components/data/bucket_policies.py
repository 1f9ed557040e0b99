"""Bucket policies and grants as plain documents: pure functions of ARNs, so the tests and
moto load exactly what the object store attaches.

One policy per bucket, merged from named statements (TLS only, S3.5; uploads only with our
encryption; access-log delivery into the logs bucket), and least-privilege read/write grants
that also grant the data key, only through S3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from components.common.grants import (
    KMS_DECRYPT,
    KMS_ENCRYPT,
    kms_via_service,
    policy_document,
    service_trust_policy,
    statement,
)

#: Where S3 server access logs land in the logs bucket: ``s3-access/<purpose>/``.
ACCESS_LOG_PREFIX = "s3-access/"

#: The service principal that delivers S3 server access logs.
S3_LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com"

READ_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
READ_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions")
WRITE_OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject")
WRITE_BUCKET_ACTIONS = ("s3:ListBucketMultipartUploads",)

_SSE_HEADER = "s3:x-amz-server-side-encryption"
_SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
_SSE_C_HEADER = "s3:x-amz-server-side-encryption-customer-algorithm"

#: Builds one extra bucket-policy statement from (bucket ARN, partition, account id).
StatementBuilder = Callable[[str, str, str], dict[str, Any]]



def _for_principal(principal: Any, stmt: dict[str, Any]) -> dict[str, Any]:
    return {"Sid": stmt["Sid"], "Effect": stmt["Effect"], "Principal": principal, **stmt}


def _deny_everyone(sid: str, actions: Sequence[str], resources: Sequence[str],
                   condition: dict[str, Any]) -> dict[str, Any]:
    return _for_principal("*", statement(sid, actions, resources, effect="Deny", condition=condition))


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """S3.5 and PCI DSS 4.2.1: refuse every request that does not come over TLS."""
    return _deny_everyone("DenyInsecureTransport", ["s3:*"], [bucket_arn, f"{bucket_arn}/*"],
                          {"Bool": {"aws:SecureTransport": "false"}})


def deny_unencrypted_uploads(bucket_arn: str, key_arn: str | None) -> list[dict[str, Any]]:
    """Refuse uploads that ask for any encryption other than the bucket's own.

    ``key_arn`` is the bucket's KMS key; ``None`` means the bucket uses SSE-S3 (the access-log
    exception) and uploads may only ask for AES256.

    Each condition pairs ``Null: false`` (the header is present) with ``StringNotEquals``: an
    upload without the header is allowed and gets the bucket's default encryption. A bare
    ``StringNotEqualsIfExists`` would not do: it is true when the header is absent, so it would
    refuse exactly the uploads that rely on the default.
    """
    objects = [f"{bucket_arn}/*"]
    algorithm = "aws:kms" if key_arn is not None else "AES256"
    statements = [
        _deny_everyone("DenyOtherEncryptionOnUpload", ["s3:PutObject"], objects,
                       {"Null": {_SSE_HEADER: "false"}, "StringNotEquals": {_SSE_HEADER: algorithm}}),
    ]
    if key_arn is not None:
        # S3 compares the header as sent; AWS documents that it must be the key's ARN.
        statements.append(_deny_everyone(
            "DenyOtherKmsKeysOnUpload", ["s3:PutObject"], objects,
            {"Null": {_SSE_KEY_HEADER: "false"}, "StringNotEquals": {_SSE_KEY_HEADER: key_arn}}))
        # An upload asking for aws:kms without naming a key is encrypted with the AWS managed
        # key aws/s3, not the bucket's default: refuse it too (S3 PutObject, SSEKMSKeyId).
        statements.append(_deny_everyone(
            "DenyKmsUploadsNamingNoKey", ["s3:PutObject"], objects,
            {"Null": {_SSE_HEADER: "false", _SSE_KEY_HEADER: "true"}}))
    # SSE-C encrypts with a key we never see: data we hold but cannot read, the lever of the
    # 2025 ransomware campaigns against S3. Not covered by the header above (it has its own).
    statements.append(_deny_everyone("DenyCustomerProvidedKeysOnUpload", ["s3:PutObject"], objects,
                                     {"Null": {_SSE_C_HEADER: "false"}}))
    return statements


def allow_access_log_delivery(bucket_arn: str, account_id: str, source_bucket_arns: Sequence[str]) -> dict[str, Any]:
    """Let S3 deliver server access logs of ``source_bucket_arns`` under ``s3-access/``.

    With ACLs disabled (BucketOwnerEnforced) the bucket policy is the only way to grant the
    log delivery service. ``aws:SourceAccount`` and ``aws:SourceArn`` stop another account's
    buckets from writing here through the same service (the confused-deputy problem).
    """
    return _for_principal(
        {"Service": S3_LOG_DELIVERY_PRINCIPAL},
        statement("AllowS3ServerAccessLogDelivery", ["s3:PutObject"], [f"{bucket_arn}/{ACCESS_LOG_PREFIX}*"],
                  condition={"StringEquals": {"aws:SourceAccount": account_id},
                             "ArnLike": {"aws:SourceArn": list(source_bucket_arns)}}),
    )


def merge_statements(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One policy document from named statements; every statement needs a unique Sid."""
    unnamed = [index for index, stmt in enumerate(statements) if not stmt.get("Sid")]
    if unnamed:
        raise ValueError(f"policy statements at positions {unnamed} have no Sid; name every statement")
    sids = [stmt["Sid"] for stmt in statements]
    duplicates = sorted({sid for sid in sids if sids.count(sid) > 1})
    if duplicates:
        raise ValueError(f"policy statement ids must be unique; repeated: {', '.join(duplicates)}")
    return policy_document(*statements)


def bucket_policy(bucket_arn: str, key_arn: str | None, *, account_id: str | None = None,
                  access_log_sources: Sequence[str] = (),
                  extra_statements: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The one policy of a bucket: TLS only, uploads only with the bucket's encryption, log
    delivery from ``access_log_sources`` (the logs bucket), then the caller's statements."""
    statements = [deny_insecure_transport(bucket_arn), *deny_unencrypted_uploads(bucket_arn, key_arn)]
    if access_log_sources:
        if account_id is None:
            raise ValueError("access-log delivery needs the account id (aws:SourceAccount)")
        statements.append(allow_access_log_delivery(bucket_arn, account_id, access_log_sources))
    statements.extend(extra_statements)
    return merge_statements(statements)


# -- grants -------------------------------------------------------------------------------

def _read_statements(bucket_arn: str) -> list[dict[str, Any]]:
    return [statement("ReadObjects", READ_OBJECT_ACTIONS, [f"{bucket_arn}/*"]),
            statement("ListBucket", READ_BUCKET_ACTIONS, [bucket_arn])]


def _write_statements(bucket_arn: str) -> list[dict[str, Any]]:
    return [statement("WriteObjects", WRITE_OBJECT_ACTIONS, [f"{bucket_arn}/*"]),
            statement("ListMultipartUploads", WRITE_BUCKET_ACTIONS, [bucket_arn])]


def _key_statements(sid: str, key_arn: str | None, actions: Sequence[str], region: str) -> list[dict[str, Any]]:
    # SSE-S3 (the logs bucket) needs no key permission: S3 holds that key itself.
    return [] if key_arn is None else [kms_via_service(sid, key_arn, actions, "s3", region)]


def bucket_read_policy(bucket_arn: str, key_arn: str | None, region: str) -> dict[str, Any]:
    """Read objects (any version) of one bucket and list it; decrypt with its key through S3."""
    return policy_document(*_read_statements(bucket_arn),
                           *_key_statements("DecryptThroughS3", key_arn, KMS_DECRYPT, region))


def bucket_write_policy(bucket_arn: str, key_arn: str | None, region: str) -> dict[str, Any]:
    """Put objects (multipart included) into one bucket; encrypt with its key through S3.

    No ``s3:DeleteObject``: on a versioned bucket an overwrite keeps the old version, so a
    writer can add but never destroy. Deleting is a separate, deliberate grant.
    """
    return policy_document(*_write_statements(bucket_arn),
                           *_key_statements("EncryptThroughS3", key_arn, KMS_ENCRYPT, region))


def bucket_read_write_policy(bucket_arn: str, key_arn: str | None, region: str) -> dict[str, Any]:
    """Read and write (still no delete); one key statement, since KMS_ENCRYPT includes Decrypt."""
    return policy_document(*_read_statements(bucket_arn), *_write_statements(bucket_arn),
                           *_key_statements("EncryptThroughS3", key_arn, KMS_ENCRYPT, region))


GrantBuilder = Callable[[str, str | None, str], dict[str, Any]]


# -- replication ----------------------------------------------------------------------------

#: The service principal S3 replication assumes its role as.
S3_REPLICATION_PRINCIPAL = "s3.amazonaws.com"

REPLICATION_SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
REPLICATION_SOURCE_OBJECT_ACTIONS = (
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
)
#: Replicating an Object Lock bucket copies each version's retention and legal hold: S3 reads
#: them with the role's credentials (S3 User Guide, "Using Object Lock with S3 Replication").
REPLICATION_OBJECT_LOCK_ACTIONS = ("s3:GetObjectLegalHold", "s3:GetObjectRetention")
REPLICATION_DESTINATION_ACTIONS = ("s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags")
#: Writing a replica needs a data key under the replica key; nothing more (no ReEncrypt,
#: no Decrypt: S3 never reads the replica back for replication).
REPLICATION_ENCRYPT = ("kms:Encrypt", "kms:GenerateDataKey")

_S3_CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"


def replication_trust_policy(account_id: str) -> dict[str, Any]:
    """Only S3, acting for this account's buckets, may assume the replication role."""
    return service_trust_policy(S3_REPLICATION_PRINCIPAL, account_id)


def _encryption_context(bucket_arns: Sequence[str]) -> list[str]:
    # With bucket keys on, S3 asks KMS for a data key under the bucket's ARN; without them
    # (versions written before bucket keys were enabled) under the object's ARN: admit both.
    return [arn for bucket_arn in bucket_arns for arn in (bucket_arn, f"{bucket_arn}/*")]


def _key_for_buckets(sid: str, key_arn: str, actions: Sequence[str], region: str,
                     bucket_arns: Sequence[str]) -> dict[str, Any]:
    stmt = kms_via_service(sid, key_arn, actions, "s3", region)
    stmt["Condition"]["ArnLike"] = {_S3_CONTEXT_KEY: _encryption_context(bucket_arns)}
    return stmt


def replication_role_policy(*, source_bucket_arns: Sequence[str], destination_bucket_arns: Sequence[str],
                            source_key_arn: str, source_region: str, replica_key_arn: str, replica_region: str,
                            object_lock_bucket_arns: Sequence[str] = ()) -> dict[str, Any]:
    """What S3 replication needs, and nothing else: read the source buckets' replication
    configuration and their versions (with ACL, tags and, for Object Lock buckets, retention
    and legal hold), replicate versions, deletes and tags into the destination buckets,
    decrypt with the source key through S3 in the source region and encrypt with the replica
    key through S3 in the replica region, each only for the buckets concerned.

    ``object_lock_bucket_arns`` must be a subset of ``source_bucket_arns``.
    """
    stray = sorted(set(object_lock_bucket_arns) - set(source_bucket_arns))
    if stray:
        raise ValueError(f"object_lock_bucket_arns {stray} are not source buckets; list only buckets that replicate")
    if source_region == replica_region:
        raise ValueError(f"replica_region is the source region {source_region!r}: replication for disaster "
                         "recovery must leave the region; give the DR region")
    statements = [
        statement("ReadReplicationConfiguration", REPLICATION_SOURCE_BUCKET_ACTIONS, source_bucket_arns),
        statement("ReadSourceVersions", REPLICATION_SOURCE_OBJECT_ACTIONS, [f"{a}/*" for a in source_bucket_arns]),
    ]
    if object_lock_bucket_arns:
        statements.append(statement("ReadSourceObjectLock", REPLICATION_OBJECT_LOCK_ACTIONS,
                                    [f"{a}/*" for a in object_lock_bucket_arns]))
    statements += [
        statement("ReplicateIntoReplicas", REPLICATION_DESTINATION_ACTIONS,
                  [f"{a}/*" for a in destination_bucket_arns]),
        _key_for_buckets("DecryptSourceThroughS3", source_key_arn, KMS_DECRYPT, source_region, source_bucket_arns),
        _key_for_buckets("EncryptReplicasThroughS3", replica_key_arn, REPLICATION_ENCRYPT, replica_region,
                         destination_bucket_arns),
    ]
    return policy_document(*statements)


# -- component ----------------------------------------------------------------------------
