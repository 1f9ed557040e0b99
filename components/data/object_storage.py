"""S3 object storage: one hardened bucket per purpose (assets, data lake, logs, backups).

Every bucket gets the same baseline, each setting on its own pulumi-aws v7 resource, child of
its bucket: SSE-KMS with the data key and bucket keys (S3.17), versioning (S3.14), ACLs off
(S3.12), Block Public Access (S3.8), one bucket policy merged from named statements (TLS only,
S3.5; uploads only with our encryption), server access logging to the logs bucket (S3.9) and a
lifecycle configuration (S3.10, S3.13). Object Lock (S3.15) where the stack asks for it.

The logs bucket is the one reasoned exception: see :data:`ACCESS_LOG_TARGET_EXCEPTION`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.common.admission import Admissions, refuse_unknown
from components.common.compliance import ACCESS_LOG_TARGET_EXCEPTION, CONTROL_EXCEPTIONS_TAG
from components.common.context import StackContext
from components.common.grants import attach
from components.data.bucket_policies import (
    ACCESS_LOG_PREFIX,
    GrantBuilder,
    StatementBuilder,
    bucket_policy,
    bucket_read_policy,
    bucket_read_write_policy,
    bucket_write_policy,
)
from components.data.settings import BucketConfig, BucketsConfig, StorageConfig

#: The purpose whose bucket receives access logs (of the other buckets, of itself, of ALBs).
ACCESS_LOG_PURPOSE = "logs"

#: Parts of an abandoned multipart upload are billed like objects but never show in a listing.
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7

#: S3 Glacier Flexible Retrieval.
ARCHIVE_STORAGE_CLASS = "GLACIER"


def purpose_slug(purpose: str) -> str:
    """``dataLake`` -> ``data-lake``: the form used in names and log prefixes."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", purpose).lower()


def bucket_configs(buckets: BucketsConfig) -> dict[str, BucketConfig]:
    """Each purpose's settings keyed by its config key (``assets``, ``dataLake``, ...)."""
    return {info.alias or name: getattr(buckets, name) for name, info in type(buckets).model_fields.items()}


def uses_kms(purpose: str) -> bool:
    """Whether the purpose's bucket is encrypted with the data key (all but the logs bucket)."""
    return purpose != ACCESS_LOG_PURPOSE


# -- component ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ObjectStoreArgs:
    settings: StorageConfig
    data_key_arn: pulumi.Input[str]
    """The customer-managed key every bucket but the logs bucket is encrypted with."""
    extra_statements: Mapping[str, tuple[StatementBuilder, ...]] = field(default_factory=dict)
    """More bucket-policy statements by purpose (e.g. ALB log delivery into ``logs``), each
    built from (bucket ARN, partition, account id) and merged into the bucket's one policy."""
    admitted_later: frozenset[str] = frozenset()
    """Purposes whose bucket policy also names a resource built after the store, from its
    bucket (the CloudFront distribution of the assets): their ``BucketPolicy`` is written by
    :meth:`ObjectStore.admit`, with those statements, instead of with the bucket."""

    def __post_init__(self) -> None:
        refuse_unknown(self.admitted_later, bucket_configs(self.settings.buckets), "bucket purpose")
        if ACCESS_LOG_PURPOSE in self.admitted_later:
            # Every bucket's access logging waits for the logs bucket's policy; deferring it
            # would hold back the whole store's logging behind whatever admit() waits on.
            raise ValueError(f"admitted_later cannot hold {ACCESS_LOG_PURPOSE!r}: every bucket's access "
                             "logging needs its policy first")


def account_public_access_block(name: str, context: StackContext,
                                 opts: pulumi.ResourceOptions | None = None) -> aws.s3.AccountPublicAccessBlock:
    """S3.1: Block Public Access for the whole account. Built once per stack by the global part
    of the platform (an account has one such setting, whatever the regions). Retained on
    delete: destroying one stack must not reopen public access for the whole account."""
    return aws.s3.AccountPublicAccessBlock(
        name,
        account_id=context.account_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )


class ObjectStore(pulumi.ComponentResource):
    """One encrypted, versioned, private, logged bucket per purpose, with grants."""

    #: The type token before the layers were named consistently (see RegionalPlatform).
    PREVIOUS_TYPE: ClassVar[str] = "retail:storage:ObjectStore"

    buckets: dict[str, aws.s3.Bucket]
    """Buckets by purpose, keyed as in the config (``assets``, ``dataLake``, ``logs``, ``backups``)."""

    def __init__(self, name: str, context: StackContext, args: ObjectStoreArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:ObjectStore", name, None, opts)
        self._name = name
        self._region = context.region
        self._key_arn = pulumi.Output.from_input(args.data_key_arn)
        self._context, self._args = context, args
        self._admissions = Admissions(args.admitted_later, kind="purpose", args="ObjectStoreArgs",
                                      conflict="its bucket policy is written with the bucket")
        self._public_access_blocks: dict[str, aws.s3.BucketPublicAccessBlock] = {}
        conv, region = context.conventions, context.region
        configs = bucket_configs(args.settings.buckets)
        unknown = sorted(set(args.extra_statements) - set(configs))
        if unknown:
            raise ValueError(f"extra_statements for unknown purposes {', '.join(unknown)}; "
                             f"purposes: {', '.join(configs)}")

        self.buckets = {}
        for purpose, config in configs.items():
            slug = purpose_slug(purpose)
            physical = conv.physical_name(slug)
            extra_tags = {"purpose": slug}
            if not uses_kms(purpose):
                extra_tags[CONTROL_EXCEPTIONS_TAG] = ACCESS_LOG_TARGET_EXCEPTION.control
            self.buckets[purpose] = aws.s3.Bucket(
                f"{name}-{slug}",
                # Bucket names are global across every AWS account: the account id keeps ours
                # from colliding with another account's `retail-prod-logs`.
                bucket=pulumi.Output.concat(physical, "-", context.account_id),
                # Dev and staging can be torn down with their objects; prod cannot.
                force_destroy=not context.protect,
                # Object Lock can only be chosen when the bucket is created.
                object_lock_enabled=config.object_lock,
                region=region,
                tags=conv.tags(physical, extra_tags),
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )

        logs = self.buckets[ACCESS_LOG_PURPOSE]
        policies: dict[str, aws.s3.BucketPolicy] = {}
        for purpose, bucket in self.buckets.items():
            config = configs[purpose]
            prefix = f"{name}-{purpose_slug(purpose)}"
            child = pulumi.ResourceOptions(parent=bucket)
            self._encryption(prefix, bucket, purpose, region, child)
            versioning = aws.s3.BucketVersioning(
                f"{prefix}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                region=region,
                opts=child,
            )
            aws.s3.BucketOwnershipControls(
                f"{prefix}-ownership",
                bucket=bucket.id,
                # S3.12: ACLs off; the bucket policy and IAM decide every access.
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
                region=region,
                opts=child,
            )
            public_access_block = aws.s3.BucketPublicAccessBlock(
                f"{prefix}-public-access-block",
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                region=region,
                opts=child,
            )
            self._public_access_blocks[purpose] = public_access_block
            if purpose not in args.admitted_later:
                policies[purpose] = self._bucket_policy(purpose, [])
            aws.s3.BucketLifecycleConfiguration(
                f"{prefix}-lifecycle",
                bucket=bucket.id,
                rules=lifecycle_rules(config),
                region=region,
                # Noncurrent-version rules mean nothing until versioning is on.
                opts=pulumi.ResourceOptions(parent=bucket, depends_on=[versioning]),
            )
            if config.object_lock:
                aws.s3.BucketObjectLockConfiguration(
                    f"{prefix}-object-lock",
                    bucket=bucket.id,
                    object_lock_enabled="Enabled",
                    rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                        default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                            mode=config.object_lock_mode, days=config.object_lock_retention_days)),
                    region=region,
                    opts=pulumi.ResourceOptions(parent=bucket, depends_on=[versioning]),
                )

        for purpose, bucket in self.buckets.items():
            # S3.9 for every bucket, the logs bucket included: it logs to itself under
            # s3-access/logs/. AWS advises against self-delivery because each delivery is itself
            # logged, a steady trickle of small log objects; that trickle is bounded (one
            # record per delivery batch), expires with the logs lifecycle, and the alternative,
            # a second bucket for the logs bucket's logs, only moves the unlogged bucket one
            # step along. A central log-archive account is the real fix.
            aws.s3.BucketLogging(
                f"{name}-{purpose_slug(purpose)}-logging",
                bucket=bucket.id,
                target_bucket=logs.bucket,
                target_prefix=f"{ACCESS_LOG_PREFIX}{purpose_slug(purpose)}/",
                region=region,
                # Delivery works only once the logs bucket's policy lets the service in.
                opts=pulumi.ResourceOptions(parent=bucket, depends_on=[policies[ACCESS_LOG_PURPOSE]]),
            )

        self.register_outputs({"bucketNames": {purpose: bucket.bucket for purpose, bucket in self.buckets.items()}})

    def _encryption(self, prefix: str, bucket: aws.s3.Bucket, purpose: str, region: str,
                    opts: pulumi.ResourceOptions) -> aws.s3.BucketServerSideEncryptionConfiguration:
        if uses_kms(purpose):
            # S3.17 with our key; bucket keys cut KMS requests (and their cost) by orders of magnitude.
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=self._key_arn)
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=True)
        else:
            # ACCESS_LOG_TARGET_EXCEPTION: log delivery cannot write to an SSE-KMS bucket.
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default)
        return aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption", bucket=bucket.id, rules=[rule], region=region, opts=opts)

    def _bucket_policy(self, purpose: str, admitted: pulumi.Input[Sequence[dict[str, Any]]]) -> aws.s3.BucketPolicy:
        bucket = self.buckets[purpose]
        # One name and parent whether the policy is written now or by admit(): a purpose that
        # moves into admitted_later keeps its URN, so its policy is updated in place.
        return aws.s3.BucketPolicy(
            f"{self._name}-{purpose_slug(purpose)}-policy",
            bucket=bucket.id,
            policy=self._policy_document(purpose, bucket, admitted),
            region=self._region,
            # S3 refuses a policy change while the access block is being written
            # ("A conflicting conditional operation is currently in progress").
            opts=pulumi.ResourceOptions(parent=bucket, depends_on=[self._public_access_blocks[purpose]]),
        )

    def _policy_document(self, purpose: str, bucket: aws.s3.Bucket,
                         admitted: pulumi.Input[Sequence[dict[str, Any]]]) -> pulumi.Output[str]:
        context = self._context
        builders = self._args.extra_statements.get(purpose, ())
        key_arn = self._key_arn if uses_kms(purpose) else None
        sources = (pulumi.Output.all(*[b.arn for b in self.buckets.values()])
                   if purpose == ACCESS_LOG_PURPOSE else [])

        def render(values: list[Any]) -> str:
            bucket_arn, key, partition, account_id, source_arns, later = values
            document = bucket_policy(
                bucket_arn, key, account_id=account_id, access_log_sources=source_arns,
                extra_statements=[*(build(bucket_arn, partition, account_id) for build in builders), *later])
            return json.dumps(document, sort_keys=True)

        return pulumi.Output.all(bucket.arn, key_arn, context.partition, context.account_id, sources,
                                 admitted).apply(render)

    # -- policies admitted later --------------------------------------------------------------

    def admit(self, purpose: str, statements: pulumi.Input[Sequence[dict[str, Any]]]) -> aws.s3.BucketPolicy:
        """Write a purpose's bucket policy with ``statements`` added: for grants that name a
        resource built after the store, from its bucket (the distribution that reads the
        assets), which the store's builders cannot name without a cycle.

        The policy is the one the purpose would otherwise get (TLS only, encryption, the
        purpose's ``extra_statements``) followed by ``statements``. The purpose must be in
        ``ObjectStoreArgs.admitted_later`` and is admitted once; :meth:`require_admitted`
        then tells whether every such purpose was.
        """
        self.bucket(purpose)
        self._admissions.claim(purpose)
        return self._bucket_policy(purpose, statements)

    def require_admitted(self) -> None:
        """Raise if a purpose of ``admitted_later`` was never admitted: its bucket would have
        no policy at all, not even the TLS-only deny."""
        self._admissions.require_all(f"object store {self._name!r}")

    # -- lookups and grants -----------------------------------------------------------------

    def bucket(self, purpose: str) -> aws.s3.Bucket:
        try:
            return self.buckets[purpose]
        except KeyError:
            raise KeyError(f"no bucket for purpose {purpose!r}; purposes: {', '.join(self.buckets)}") from None

    def bucket_arn(self, purpose: str) -> pulumi.Output[str]:
        return self.bucket(purpose).arn

    def bucket_name(self, purpose: str) -> pulumi.Output[str]:
        return self.bucket(purpose).bucket

    def grant_read(self, role: aws.iam.Role, purpose: str) -> aws.iam.RolePolicy:
        return self._grant(role, purpose, "read", bucket_read_policy)

    def grant_write(self, role: aws.iam.Role, purpose: str) -> aws.iam.RolePolicy:
        return self._grant(role, purpose, "write", bucket_write_policy)

    def grant_read_write(self, role: aws.iam.Role, purpose: str) -> aws.iam.RolePolicy:
        return self._grant(role, purpose, "read-write", bucket_read_write_policy)

    def _grant(self, role: aws.iam.Role, purpose: str, access: str, build: GrantBuilder) -> aws.iam.RolePolicy:
        bucket = self.bucket(purpose)
        key_arn = self._key_arn if uses_kms(purpose) else None
        document = pulumi.Output.all(bucket.arn, key_arn).apply(
            lambda values: build(values[0], values[1], self._region))
        # role._name is the role's logical name, as NoSqlTables names its grants.
        return attach(f"{self._name}-{purpose_slug(purpose)}-{access}-{role._name}", role, document, parent=role)


def lifecycle_rules(config: BucketConfig) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """The purpose's lifecycle: every bucket drops old versions and abandoned uploads; current
    objects move to Glacier and expire only where the config says so."""
    every_object = aws.s3.BucketLifecycleConfigurationRuleFilterArgs()
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads",
            status="Enabled",
            filter=every_object,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=every_object,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=config.noncurrent_version_expiration_days),
            # A delete marker whose versions have all expired hides nothing; drop it too.
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        ),
    ]
    if config.glacier_transition_days is not None:
        rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="archive-current-objects",
            status="Enabled",
            filter=every_object,
            transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                storage_class=ARCHIVE_STORAGE_CLASS, days=config.glacier_transition_days)],
        ))
    if config.expiration_days is not None:
        rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-current-objects",
            status="Enabled",
            filter=every_object,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=config.expiration_days),
        ))
    return rules
