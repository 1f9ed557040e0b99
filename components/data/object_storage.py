"""S3 object storage: one hardened bucket per purpose (assets, data lake, logs, backups).

Every bucket gets the same baseline, each setting on its own pulumi-aws v7 resource, child of
its bucket: SSE-KMS with the data key and bucket keys (S3.17), versioning (S3.14), ACLs off
(S3.12), Block Public Access (S3.8), one bucket policy merged from named statements (TLS only,
S3.5; uploads only with our encryption), server access logging to the logs bucket (S3.9) and a
lifecycle configuration (S3.10, S3.13). Object Lock (S3.15) where the stack asks for it.

The logs bucket is the one reasoned exception: see :data:`ACCESS_LOG_TARGET_EXCEPTION`.

With :class:`BucketReplication` (the DR strategies that replicate), the buckets that hold data
replicate to their counterparts of the DR region's store, re-encrypted there with the DR
region's data key: see :data:`REPLICATED_PURPOSES`. The DR buckets need nothing more to take
replicas: same account, so their policies need no grant for the role (their Deny statements
concern ``s3:PutObject`` headers and plain HTTP; replication writes with ``s3:ReplicateObject``
over TLS), and the DR key's policy delegates to IAM through the account root
(components/foundation/keys.py), so the role's own policy is enough to use it.
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
    replication_role_policy,
    replication_trust_policy,
)
from components.data.settings import BucketConfig, BucketsConfig, StorageConfig
from components.resilience.objectives import DR_EXEMPT_TAG

#: The purpose whose bucket receives access logs (of the other buckets, of itself, of ALBs).
ACCESS_LOG_PURPOSE = "logs"

#: Parts of an abandoned multipart upload are billed like objects but never show in a listing.
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7

#: S3 Glacier Flexible Retrieval.
ARCHIVE_STORAGE_CLASS = "GLACIER"


#: The purposes that replicate to the DR region: the ones that hold data. Never the logs
#: bucket: access logs record the requests one region's buckets served; the DR region's store
#: logs its own buckets' requests into its own logs bucket, and a replica of the primary's logs
#: would mix two regions' records under the same prefixes (and the SSE-S3 logs bucket could not
#: take SSE-KMS replicas without breaking ACCESS_LOG_TARGET_EXCEPTION's reason).
REPLICATED_PURPOSES = ("assets", "dataLake", "backups")

#: S3 Replication Time Control: the 15 minutes its SLA covers, and the threshold after which
#: a replication counts as late in the replication metrics (the only value S3 accepts for both).
REPLICATION_TIME_MINUTES = 15


def purpose_slug(purpose: str) -> str:
    """``dataLake`` -> ``data-lake``: the form used in names and log prefixes."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", purpose).lower()


def bucket_configs(buckets: BucketsConfig) -> dict[str, BucketConfig]:
    """Each purpose's settings keyed by its config key (``assets``, ``dataLake``, ...)."""
    return {info.alias or name: getattr(buckets, name) for name, info in type(buckets).model_fields.items()}


def uses_kms(purpose: str) -> bool:
    """Whether the purpose's bucket is encrypted with the data key (all but the logs bucket)."""
    return purpose != ACCESS_LOG_PURPOSE


# -- replication ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplicaBucket:
    """A destination bucket: the DR region's store's bucket of the same purpose."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]


def _region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


@dataclass(frozen=True)
class BucketReplication:
    """Where the primary store's data buckets replicate: the DR slice's store.

    Build it from the DR slice's :class:`ObjectStore` (itself built with ``context.for_dr``)
    with :meth:`to_store`, or by hand with one :class:`ReplicaBucket` per purpose of
    :data:`REPLICATED_PURPOSES`.
    """

    region: str
    """The DR region: where the destination buckets and the replica key live."""
    destinations: Mapping[str, ReplicaBucket]
    """The destination bucket of each purpose of :data:`REPLICATED_PURPOSES`, no more, no less."""
    replica_key_arn: pulumi.Input[str]
    """The DR region's data key (the replica of the primary's multi-Region key): replicas are
    encrypted with it, as the DR store's own buckets are."""
    time_control: bool = True
    """Replication Time Control (15 minutes, with metrics): the bounded RPO the objectives
    table counts on (S3_REPLICATION_RTC); without it the RPO is unbounded (S3_REPLICATION)."""

    def __post_init__(self) -> None:
        if not self.region:
            raise ValueError("BucketReplication.region is empty; give the DR region (retail:dr.region)")
        missing = [p for p in REPLICATED_PURPOSES if p not in self.destinations]
        if missing:
            raise ValueError(f"BucketReplication.destinations lacks {', '.join(missing)}; give the DR store's "
                             f"bucket for each of {', '.join(REPLICATED_PURPOSES)} (BucketReplication.to_store)")
        extra = sorted(set(self.destinations) - set(REPLICATED_PURPOSES))
        if extra:
            raise ValueError(f"BucketReplication.destinations names {', '.join(extra)}, which never replicate "
                             f"(each region keeps its own {ACCESS_LOG_PURPOSE!r}); remove them")
        if isinstance(self.replica_key_arn, str):
            key_region = _region_of_arn(self.replica_key_arn)
            if key_region != self.region:
                raise ValueError(f"BucketReplication.replica_key_arn {self.replica_key_arn!r} is not a key of "
                                 f"{self.region!r}; give the DR region's data key (S3 encrypts the replica in "
                                 "the destination's region)")

    @classmethod
    def to_store(cls, store: ObjectStore, replica_key_arn: pulumi.Input[str], *,
                 time_control: bool = True) -> BucketReplication:
        """Replicate into ``store``, the DR slice's object store, whose data key is ``replica_key_arn``."""
        return cls(region=store.region, replica_key_arn=replica_key_arn, time_control=time_control,
                   destinations={p: ReplicaBucket(store.bucket_name(p), store.bucket_arn(p))
                                 for p in REPLICATED_PURPOSES})


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
    replication: BucketReplication | None = None
    """Replicate the data buckets to the DR region's store (primary slice, replicating DR
    strategies only); ``None`` for the DR slice's own store and when nothing replicates."""

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
    replication_role: aws.iam.Role | None
    """The role S3 replicates the data buckets as, when the store replicates."""
    replications: dict[str, aws.s3.BucketReplicationConfig]
    """The replication configuration of each replicated purpose (empty when nothing replicates)."""

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
        if args.replication is not None and args.replication.region == region:
            raise ValueError(f"ObjectStoreArgs.replication.region is the store's own region {region!r}; give the "
                             "DR region, and no replication for the DR slice's own store")

        self.buckets = {}
        for purpose, config in configs.items():
            slug = purpose_slug(purpose)
            physical = conv.physical_name(slug)
            # Access logs are kept by their own lifecycle: a backup of them restores nothing.
            extra_tags = {"purpose": slug, **({} if purpose == ACCESS_LOG_PURPOSE else conv.backup_tags())}
            if purpose == ACCESS_LOG_PURPOSE:
                # Each region keeps its own access logs; an outage does not destroy them.
                extra_tags[DR_EXEMPT_TAG] = "access logs stay in their region"
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
        versionings: dict[str, aws.s3.BucketVersioning] = {}
        for purpose, bucket in self.buckets.items():
            config = configs[purpose]
            # ACCESS_LOG_TARGET_EXCEPTION: log delivery cannot write to an SSE-KMS bucket.
            baseline = bucket_baseline(
                f"{name}-{purpose_slug(purpose)}", bucket, region=region,
                key_arn=self._key_arn if uses_kms(purpose) else None, lifecycle=config,
                object_lock=(config.object_lock_mode, config.object_lock_retention_days) if config.object_lock
                else None)
            versionings[purpose] = baseline.versioning
            self._public_access_blocks[purpose] = baseline.public_access_block
            if purpose not in args.admitted_later:
                policies[purpose] = self._bucket_policy(purpose, [])

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

        self.replication_role = None
        self.replications = {}
        if args.replication is not None:
            self._replicate(args.replication, configs, versionings)

        outputs: dict[str, Any] = {"bucketNames": {purpose: bucket.bucket for purpose, bucket in self.buckets.items()}}
        if args.replication is not None:
            outputs["replicaBucketNames"] = {p: d.name for p, d in args.replication.destinations.items()}
        self.register_outputs(outputs)

    @property
    def region(self) -> str:
        return self._region

    def _replicate(self, replication: BucketReplication, configs: Mapping[str, BucketConfig],
                   versionings: Mapping[str, aws.s3.BucketVersioning]) -> None:
        context, conv, name = self._context, self._context.conventions, self._name
        physical = conv.physical_name("s3-replication")
        role = aws.iam.Role(
            f"{name}-replication",
            description=f"S3 replication of {conv.physical_name()} data buckets to {replication.region}",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(replication_trust_policy(account), sort_keys=True)),
            tags=conv.tags(physical),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.replication_role = role
        sources = [self.buckets[p].arn for p in REPLICATED_PURPOSES]
        destinations = [pulumi.Output.from_input(replication.destinations[p].arn) for p in REPLICATED_PURPOSES]
        locked = [self.buckets[p].arn for p in REPLICATED_PURPOSES if configs[p].object_lock]
        source_region, replica_region = self._region, replication.region

        def render(values: list[Any]) -> dict[str, Any]:
            source_arns, destination_arns, locked_arns, source_key, replica_key = values
            return replication_role_policy(
                source_bucket_arns=source_arns, destination_bucket_arns=destination_arns,
                source_key_arn=source_key, source_region=source_region,
                replica_key_arn=replica_key, replica_region=replica_region,
                object_lock_bucket_arns=locked_arns)

        document = pulumi.Output.all(pulumi.Output.all(*sources), pulumi.Output.all(*destinations),
                                     pulumi.Output.all(*locked), self._key_arn,
                                     replication.replica_key_arn).apply(render)
        role_policy = attach(f"{name}-replication", role, document, parent=role)
        for purpose in REPLICATED_PURPOSES:
            bucket = self.buckets[purpose]
            self.replications[purpose] = aws.s3.BucketReplicationConfig(
                f"{name}-{purpose_slug(purpose)}-replication",
                bucket=bucket.id,
                role=role.arn,
                rules=[replication_rule(replication, purpose)],
                region=self._region,
                # S3 refuses a replication configuration on a bucket whose versioning is not on,
                # and the first replications fail until the role holds its policy.
                opts=pulumi.ResourceOptions(parent=bucket, depends_on=[versionings[purpose], role_policy]),
            )

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


def replication_rule(replication: BucketReplication, purpose: str) -> aws.s3.BucketReplicationConfigRuleArgs:
    """The one rule of a replicated bucket: every object, delete markers included, to the DR
    store's bucket of the same purpose, re-encrypted with the DR key."""
    destination = replication.destinations[purpose]
    enabled = "Enabled"
    rtc = metrics = None
    if replication.time_control:
        rtc = aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
            status=enabled,
            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                minutes=REPLICATION_TIME_MINUTES))
        # RTC requires the metrics; they also give the replication-latency alarm its numbers.
        metrics = aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
            status=enabled,
            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                minutes=REPLICATION_TIME_MINUTES))
    return aws.s3.BucketReplicationConfigRuleArgs(
        id=f"{purpose_slug(purpose)}-to-{replication.region}",
        status=enabled,
        priority=1,
        # A filter makes it a V2 rule, the only kind that takes delete-marker replication; an
        # empty prefix selects the whole bucket.
        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
        # A delete in the primary must read as a delete in the DR region, or a failover would
        # resurrect deleted objects. Deletes of a version are never replicated (S3 does not),
        # so a malicious permanent delete in one region cannot reach the other.
        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status=enabled),
        # Every data bucket is SSE-KMS: without this S3 skips those objects silently.
        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
            sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                status=enabled)),
        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
            bucket=destination.arn,
            # No storage_class: a replica keeps its source's class, so the DR copy costs and
            # restores as the original does.
            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                replica_kms_key_id=replication.replica_key_arn),
            replication_time=rtc,
            metrics=metrics,
        ),
    )


@dataclass(frozen=True)
class BucketBaseline:
    versioning: aws.s3.BucketVersioning
    public_access_block: aws.s3.BucketPublicAccessBlock


def bucket_baseline(prefix: str, bucket: aws.s3.Bucket, *, region: str, key_arn: pulumi.Input[str] | None,
                    lifecycle: BucketConfig, object_lock: tuple[str, int] | None = None) -> BucketBaseline:
    """What every bucket of ours carries, as companions named ``<prefix>-<what>`` under it:
    default encryption (S3.17: SSE-KMS with ``key_arn`` and bucket keys; None: SSE-S3, for the
    log-delivery targets only), versioning (S3.14), ACLs off (S3.12), Block Public Access (S3.8),
    the lifecycle (S3.13) and, when asked, Object Lock's default retention (mode, days). The
    bucket policy and access logging depend on the caller and stay with it."""
    child = pulumi.ResourceOptions(parent=bucket)
    if key_arn is not None:
        # Bucket keys cut KMS requests (and their cost) by orders of magnitude.
        rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=(
                aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn)),
            bucket_key_enabled=True)
    else:
        rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=(
                aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256")))
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{prefix}-encryption", bucket=bucket.id, rules=[rule], region=region, opts=child)
    versioning = aws.s3.BucketVersioning(
        f"{prefix}-versioning", bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        region=region, opts=child)
    aws.s3.BucketOwnershipControls(
        f"{prefix}-ownership", bucket=bucket.id,
        # S3.12: ACLs off; the bucket policy and IAM decide every access.
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        region=region, opts=child)
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{prefix}-public-access-block", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, region=region, opts=child)
    # Noncurrent-version rules (and Object Lock's retention) mean nothing until versioning is on.
    after_versioning = pulumi.ResourceOptions(parent=bucket, depends_on=[versioning])
    aws.s3.BucketLifecycleConfiguration(
        f"{prefix}-lifecycle", bucket=bucket.id, rules=lifecycle_rules(lifecycle), region=region,
        opts=after_versioning)
    if object_lock is not None:
        mode, days = object_lock
        aws.s3.BucketObjectLockConfiguration(
            f"{prefix}-object-lock", bucket=bucket.id, object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(mode=mode, days=days)),
            region=region, opts=after_versioning)
    return BucketBaseline(versioning, public_access_block)


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
