"""Audit and detection for one region of the stack: who did what (CloudTrail), what changed
(AWS Config), what looks malicious (GuardDuty), how the account scores against its standards
(Security Hub) and what is reachable from outside (IAM Access Analyzer).

The primary region's instance also builds the audit bucket, which every audit service of the
stack delivers to, and the stack's one multi-Region trail. A DR region's instance builds only its
region's detector, hub, recorder (without global types: IAM is recorded once, in the primary) and
analyzer, delivering to the primary's audit bucket (:meth:`AuditServices.bucket_ref`).

With ``accountLevel: existing`` (components/audit/settings.py) the account-level services are
left to the landing zone: this component then builds only the audit bucket, the trail and the
Config rules.

The audit bucket is built here rather than as an ObjectStore purpose: the store's buckets share
the data key, are backed up and replicate, and their lifecycle expires; the audit bucket is
encrypted with the logs key, is immutable (Object Lock in compliance mode) and its policy lets
three AWS services in. It reuses the store's pieces where they fit: the baseline bucket policy
(TLS only, uploads only with its key), the lifecycle rules, the access-log prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.audit.controls import CONFIG_RULES, rule_slug
from components.audit.documents import (
    AUDIT_PURPOSE,
    CONFIG_MANAGED_POLICY,
    audit_bucket_name,
    audit_bucket_policy,
    cloudtrail_logs_policy,
    cloudtrail_logs_trust_policy,
    config_delivery_policy,
    config_trust_policy,
    detector_arns,
    trail_arn,
)
from components.audit.settings import AccountLevel, AuditConfig
from components.common.context import StackContext
from components.common.grants import attach
from components.common.logs import log_group
from components.data.bucket_policies import ACCESS_LOG_PREFIX
from components.data.object_storage import bucket_baseline
from components.data.settings import BucketConfig
from components.resilience.objectives import DR_EXEMPT_TAG

#: The GuardDuty features the detector runs, with the FSBP control each one meets (the ids are
#: those of Security Hub's GuardDuty controls; see policies/guardduty.py).
GUARDDUTY_FEATURES: dict[str, str] = {
    "EKS_AUDIT_LOGS": "GuardDuty.5",
    "EKS_RUNTIME_MONITORING": "GuardDuty.7",
    "EBS_MALWARE_PROTECTION": "GuardDuty.8",
    "RDS_LOGIN_EVENTS": "GuardDuty.9",
    "S3_DATA_EVENTS": "GuardDuty.10",
}

#: EKS Runtime Monitoring's agent, installed and updated by GuardDuty as an EKS add-on: without
#: it the feature is on and monitors nothing until someone installs the agent by hand.
EKS_ADDON_MANAGEMENT = "EKS_ADDON_MANAGEMENT"

#: Config's configuration snapshots, besides the change history it delivers as changes happen.
CONFIG_SNAPSHOT_FREQUENCY = "TwentyFour_Hours"


@dataclass(frozen=True)
class AuditBucketRef:
    """The primary's audit bucket, for a DR region's services to deliver to."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    """The primary's logs key: deliveries are encrypted in the bucket's region, with its key."""
    region: str
    policy: pulumi.Resource | None = None
    """The bucket's policy: GuardDuty tests it when a publishing destination is created, so a
    DR detector's destination waits for it."""


@dataclass(frozen=True)
class AuditServicesArgs:
    settings: AuditConfig
    logs_key_arn: pulumi.Input[str]
    """The stack's logs key in this region: the audit bucket, the trail and the trail's log group."""
    logs_bucket_name: pulumi.Input[str]
    """The object store's logs bucket: the audit bucket's server access logs go there (its policy
    must admit them: :func:`components.audit.documents.audit_access_log_statement`)."""
    customer_data_bucket_arns: Sequence[pulumi.Input[str]] = ()
    """The buckets holding customer data, whose object-level events the trail records
    (``s3DataEvents: customerData``)."""
    detector_regions: Sequence[str] = ()
    """Every region of the stack whose GuardDuty detector exports to the audit bucket (the
    primary and the DR region); empty means this region only."""
    audit_bucket: AuditBucketRef | None = None
    """Set for a DR region: deliver to the primary's audit bucket and build no bucket or trail."""

    def __post_init__(self) -> None:
        if isinstance(self.customer_data_bucket_arns, str):
            raise TypeError("AuditServicesArgs.customer_data_bucket_arns must be a list of ARNs, not one string")
        wants_buckets = self.settings.s3_data_events == "customerData" and self.audit_bucket is None
        if wants_buckets and not self.customer_data_bucket_arns:
            raise ValueError("retail:audit.s3DataEvents is customerData but AuditServicesArgs."
                             "customer_data_bucket_arns is empty; pass the ARNs of the buckets holding customer "
                             "data, or set s3DataEvents to allBuckets or none")

    @property
    def primary(self) -> bool:
        return self.audit_bucket is None


class AuditServices(pulumi.ComponentResource):
    """One region's audit services; the primary's also has the audit bucket and the trail."""

    bucket: aws.s3.Bucket | None
    trail: aws.cloudtrail.Trail | None
    trail_log_group: aws.cloudwatch.LogGroup | None
    detector: aws.guardduty.Detector | None
    features: dict[str, aws.guardduty.DetectorFeature]
    hub: aws.securityhub.Account | None
    standards: dict[str, aws.securityhub.StandardsSubscription]
    analyzer: aws.accessanalyzer.Analyzer | None
    recorder: aws.cfg.Recorder | None
    recorder_status: aws.cfg.RecorderStatus | None
    rules: dict[str, aws.cfg.Rule]

    def __init__(self, name: str, context: StackContext, args: AuditServicesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:audit:AuditServices", name, None, opts)
        self._name, self._context, self._args = name, context, args
        settings, conv = args.settings, context.conventions
        manage = settings.account_level == AccountLevel.manage
        self._detector_regions = list(args.detector_regions) or [context.region]
        if context.region not in self._detector_regions:
            raise ValueError(f"AuditServicesArgs.detector_regions {self._detector_regions} lacks this region "
                             f"{context.region!r}; list every region of the stack")
        self._trail_name = conv.physical_name("trail", max_length=128)
        self.bucket = self.trail = self.trail_log_group = None
        self.detector = self.hub = self.analyzer = self.recorder = self.recorder_status = None
        self.features, self.standards, self.rules = {}, {}, {}

        bucket_policy: aws.s3.BucketPolicy | None = None
        self._audit_bucket_policy: aws.s3.BucketPolicy | None = None
        if args.primary:
            self.bucket = self._audit_bucket()
            bucket_policy = self._audit_bucket_policy = self._bucket_policy(self.bucket, detectors=manage)
            self.trail = self._trail(self.bucket, bucket_policy)
            ref = self.bucket_ref()
        else:
            assert args.audit_bucket is not None
            ref = args.audit_bucket

        status = None
        if manage:
            self._guardduty(ref, bucket_policy or ref.policy)
            self._security_hub()
            self.analyzer = aws.accessanalyzer.Analyzer(
                f"{name}-access-analyzer",
                analyzer_name=conv.physical_name("access-analyzer"),
                # External access to this account's resources; an organisation analyzer is the
                # landing zone's (accountLevel: existing).
                type="ACCOUNT",
                region=context.region,
                tags=conv.tags(conv.physical_name("access-analyzer")),
                opts=pulumi.ResourceOptions(parent=self),
            )
            status = self._config_recorder(ref)
        self._config_rules(status)
        self.register_outputs({
            "auditBucketName": self.bucket.bucket if self.bucket is not None else None,
            "trailArn": self.trail.arn if self.trail is not None else None,
            "detectorId": self.detector.id if self.detector is not None else None,
        })

    # -- the audit bucket --------------------------------------------------------------------

    def bucket_ref(self) -> AuditBucketRef:
        """The audit bucket, for the DR region's instance (primary only)."""
        if self.bucket is None:
            raise ValueError("only the primary region's AuditServices has the audit bucket")
        return AuditBucketRef(self.bucket.bucket, self.bucket.arn, self._args.logs_key_arn, self._context.region,
                              self._audit_bucket_policy)

    def _audit_bucket(self) -> aws.s3.Bucket:
        context, conv, settings, name = self._context, self._context.conventions, self._args.settings, self._name
        region, physical = context.region, conv.physical_name(AUDIT_PURPOSE)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=pulumi.Output.from_input(context.account_id).apply(lambda account: audit_bucket_name(conv, account)),
            # force_destroy cannot remove locked objects anyway; in dev the retention is short.
            force_destroy=not context.protect,
            # Object Lock can only be chosen when the bucket is created.
            object_lock_enabled=True,
            region=region,
            tags=conv.tags(physical, {
                "purpose": AUDIT_PURPOSE,
                DR_EXEMPT_TAG: "audit evidence is immutable where it is written; a log-archive account is its copy",
            }),
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
        )
        # The object store's lifecycle, with the audit layer's numbers: old versions are never
        # dropped before the evidence may be, and current objects are archived, not expired
        # (unless the stack sets expirationDays, itself at least PCI DSS 10.5.1's 365 days).
        keep = settings.expiration_days or max(settings.object_lock_retention_days, 365)
        lifecycle = BucketConfig.model_validate({
            "glacierTransitionDays": settings.archive_after_days,
            "expirationDays": settings.expiration_days,
            "noncurrentVersionExpirationDays": keep,
        })
        # PCI DSS 10.3.2/10.3.3: Object Lock in compliance mode, so not even the root user can
        # delete or overwrite a log file before its retention ends.
        baseline = bucket_baseline(
            f"{name}-bucket", bucket, region=region, key_arn=self._args.logs_key_arn, lifecycle=lifecycle,
            object_lock=("COMPLIANCE", settings.object_lock_retention_days))
        self._public_access_block = baseline.public_access_block
        aws.s3.BucketLogging(
            f"{name}-bucket-logging", bucket=bucket.id, region=region,
            target_bucket=self._args.logs_bucket_name,
            target_prefix=f"{ACCESS_LOG_PREFIX}{AUDIT_PURPOSE}/",
            opts=pulumi.ResourceOptions(parent=bucket))
        return bucket

    def _bucket_policy(self, bucket: aws.s3.Bucket, *, detectors: bool) -> aws.s3.BucketPolicy:
        context = self._context
        trail_region, trail_name = context.region, self._trail_name
        detector_regions = self._detector_regions

        def render(values: list[Any]) -> str:
            bucket_arn, key_arn, partition, account_id = values
            document = audit_bucket_policy(
                bucket_arn, key_arn, account_id=account_id,
                source_trail_arn=trail_arn(partition, trail_region, account_id, trail_name),
                detectors=detector_arns(partition, detector_regions, account_id) if detectors else [])
            return json.dumps(document, sort_keys=True)

        document = pulumi.Output.all(bucket.arn, self._args.logs_key_arn, context.partition,
                                     context.account_id).apply(render)
        return aws.s3.BucketPolicy(
            f"{self._name}-bucket-policy", bucket=bucket.id, policy=document, region=context.region,
            opts=pulumi.ResourceOptions(parent=bucket, depends_on=[self._public_access_block]))

    # -- CloudTrail --------------------------------------------------------------------------

    def _trail(self, bucket: aws.s3.Bucket, bucket_policy: aws.s3.BucketPolicy) -> aws.cloudtrail.Trail:
        context, conv, settings, name = self._context, self._context.conventions, self._args.settings, self._name
        group = log_group(
            f"{name}-trail", context, name=f"/aws/cloudtrail/{self._trail_name}",
            retention_days=settings.trail_log_retention_days, key_arn=self._args.logs_key_arn,
            tags=conv.tags(self._trail_name), parent=self)
        self.trail_log_group = group
        role = aws.iam.Role(
            f"{name}-trail-logs",
            description=f"CloudTrail {self._trail_name} delivering to CloudWatch Logs",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(cloudtrail_logs_trust_policy(account), sort_keys=True)),
            tags=conv.tags(conv.physical_name("trail-logs")),
            opts=pulumi.ResourceOptions(parent=self))
        role_policy = attach(
            f"{name}-trail-logs", role,
            pulumi.Output.all(group.arn, context.account_id).apply(lambda v: cloudtrail_logs_policy(v[0], v[1])),
            parent=role)
        return aws.cloudtrail.Trail(
            f"{name}-trail",
            name=self._trail_name,
            s3_bucket_name=bucket.bucket,
            # CloudTrail.1: every region, and IAM/STS/CloudFront events (global services).
            is_multi_region_trail=True,
            include_global_service_events=True,
            # CloudTrail.4: digest files prove a log file was not changed after delivery.
            enable_log_file_validation=True,
            enable_logging=True,
            # CloudTrail.2 with the logs key (its policy admits CloudTrail: components/foundation/keys.py).
            kms_key_id=self._args.logs_key_arn,
            # CloudTrail.5: events reach CloudWatch Logs within minutes, where alarms can watch them.
            cloud_watch_logs_group_arn=group.arn.apply(lambda arn: arn if arn.endswith(":*") else f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=self._event_selectors(),
            region=context.region,
            tags=conv.tags(self._trail_name),
            # CloudTrail checks the bucket policy and the role when the trail is created. Protected
            # where the stack protects its data: deleting the trail stops the audit log (PCI DSS 10.2).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy, role_policy], protect=context.protect),
        )

    def _event_selectors(self) -> list[aws.cloudtrail.TrailAdvancedEventSelectorArgs]:
        field = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
        # Management events, read and write (no readOnly selector): PCI DSS 10.2.1.
        selectors = [aws.cloudtrail.TrailAdvancedEventSelectorArgs(
            name="management-events", field_selectors=[field(field="eventCategory", equals=["Management"])])]
        scope = self._args.settings.s3_data_events
        if scope == "none":
            return selectors
        data = [field(field="eventCategory", equals=["Data"]),
                field(field="resources.type", equals=["AWS::S3::Object"])]
        if scope == "customerData":
            # Objects of exactly these buckets: "<arn>/" so that bucket "orders" does not also
            # select "orders-archive".
            data.append(field(field="resources.ARN", starts_withs=[
                pulumi.Output.concat(arn, "/") for arn in self._args.customer_data_bucket_arns]))
        selectors.append(aws.cloudtrail.TrailAdvancedEventSelectorArgs(
            name="s3-customer-data-events" if scope == "customerData" else "s3-data-events", field_selectors=data))
        return selectors

    # -- GuardDuty ---------------------------------------------------------------------------

    def _guardduty(self, ref: AuditBucketRef, bucket_policy: pulumi.Resource | None) -> None:
        context, conv, name = self._context, self._context.conventions, self._name
        self.detector = aws.guardduty.Detector(
            f"{name}-detector",
            enable=True,
            finding_publishing_frequency=self._args.settings.finding_publishing_frequency,
            region=context.region,
            tags=conv.tags(conv.physical_name("guardduty")),
            opts=pulumi.ResourceOptions(parent=self))
        for feature in GUARDDUTY_FEATURES:
            extra = None
            if feature == "EKS_RUNTIME_MONITORING":
                extra = [aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                    name=EKS_ADDON_MANAGEMENT, status="ENABLED")]
            self.features[feature] = aws.guardduty.DetectorFeature(
                f"{name}-{feature.lower().replace('_', '-')}",
                detector_id=self.detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=extra,
                region=context.region,
                opts=pulumi.ResourceOptions(parent=self.detector))
        aws.guardduty.PublishingDestination(
            f"{name}-findings-export",
            detector_id=self.detector.id,
            destination_type="S3",
            destination_arn=ref.arn,
            # Must be a key of the bucket's region (the primary's logs key for a DR detector).
            kms_key_arn=ref.key_arn,
            region=context.region,
            tags=conv.tags(conv.physical_name("guardduty-findings")),
            # GuardDuty tests the bucket policy and key policy when the destination is created.
            opts=pulumi.ResourceOptions(parent=self.detector,
                                        depends_on=[bucket_policy] if bucket_policy is not None else None))

    # -- Security Hub ------------------------------------------------------------------------

    def _security_hub(self) -> None:
        context, name = self._context, self._name
        self.hub = aws.securityhub.Account(
            f"{name}-security-hub",
            # The standards are ours to choose, below; consolidated findings, one per control.
            enable_default_standards=False,
            control_finding_generator="SECURITY_CONTROL",
            auto_enable_controls=True,
            region=context.region,
            opts=pulumi.ResourceOptions(parent=self))
        for key, path in zip(self._args.settings.security_hub_standards, self._args.settings.standard_paths(),
                             strict=True):
            self.standards[key] = aws.securityhub.StandardsSubscription(
                f"{name}-standard-{key.lower()}",
                # Standards ARNs name the region and no account: arn:<partition>:securityhub:<region>::standards/...
                standards_arn=pulumi.Output.concat("arn:", context.partition,
                                                   f":securityhub:{context.region}::standards/{path}"),
                region=context.region,
                opts=pulumi.ResourceOptions(parent=self.hub, depends_on=[self.hub]))

    # -- AWS Config --------------------------------------------------------------------------

    def _config_recorder(self, ref: AuditBucketRef) -> aws.cfg.RecorderStatus:
        context, conv, name = self._context, self._context.conventions, self._name
        physical = conv.physical_name("config")
        role = aws.iam.Role(
            f"{name}-config",
            description=f"AWS Config recorder of {conv.physical_name()} in {context.region}",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(config_trust_policy(account), sort_keys=True)),
            tags=conv.tags(physical),
            opts=pulumi.ResourceOptions(parent=self))
        managed = aws.iam.RolePolicyAttachment(
            f"{name}-config-managed", role=role.name,
            policy_arn=pulumi.Output.concat("arn:", context.partition, ":iam::aws:", CONFIG_MANAGED_POLICY),
            opts=pulumi.ResourceOptions(parent=role))
        bucket_region = ref.region
        delivery = attach(
            f"{name}-config-delivery", role,
            pulumi.Output.all(ref.arn, context.account_id, ref.key_arn).apply(
                lambda v: config_delivery_policy(v[0], v[1], v[2], bucket_region)),
            parent=role)
        self.recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            name=physical,
            role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=True,
                # Global resources (IAM) once, in the primary: recorded in every region they
                # would be billed and reported once per region.
                include_global_resource_types=self._args.primary),
            region=context.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[managed]))
        channel = aws.cfg.DeliveryChannel(
            f"{name}-config-delivery",
            name=physical,
            s3_bucket_name=ref.name,
            s3_kms_key_arn=ref.key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency=CONFIG_SNAPSHOT_FREQUENCY),
            region=context.region,
            # Config refuses a channel before its recorder, and tests delivery on creation.
            opts=pulumi.ResourceOptions(parent=self.recorder, depends_on=[self.recorder, delivery]))
        self.recorder_status = aws.cfg.RecorderStatus(
            f"{name}-recorder-status",
            name=self.recorder.name,
            is_enabled=True,
            region=context.region,
            # Config refuses to start a recorder that has no delivery channel.
            opts=pulumi.ResourceOptions(parent=self.recorder, depends_on=[channel]))
        return self.recorder_status

    def _config_rules(self, status: aws.cfg.RecorderStatus | None) -> None:
        context, conv, name = self._context, self._context.conventions, self._name
        for control, identifier in CONFIG_RULES.items():
            physical = conv.physical_name("config", rule_slug(control), max_length=128)
            self.rules[control] = aws.cfg.Rule(
                f"{name}-rule-{rule_slug(control)}",
                name=physical,
                description=f"{control}: AWS Config managed rule {identifier}",
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=identifier),
                region=context.region,
                tags=conv.tags(physical, {"control": control}),
                # A rule needs a recorder; with accountLevel existing, the landing zone's (and the
                # deployment fails, NoAvailableConfigurationRecorder, if there is none).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[status] if status is not None else None))
