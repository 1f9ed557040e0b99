"""Settings of the audit layer: ``retail:audit``.

``accountLevel`` decides who runs the services an account (or a region of it) can have only
one of: the GuardDuty detector, the Security Hub account, the AWS Config recorder and its
delivery channel, the account's IAM Access Analyzer.

- ``manage`` (the default): this stack creates them. Right for a standalone account, and the
  only way the stack alone proves PCI DSS 10.2/10.6/11.5 (everything is in its graph and its
  policy pack checks it). The cost: a second stack in the same account and region must use
  ``existing``, or the two fight over the one detector and recorder.
- ``existing``: an organisation's landing zone (Control Tower, a security account that is
  GuardDuty/Security Hub delegated administrator) runs them. The stack then builds only what is
  its own: the audit bucket, its trail (data events on its customer-data buckets, and the
  management events it is accountable for), the trail's log group and role, and the AWS Config
  rules that evaluate its controls.

"Checks and integrates", offline-safely, means this: nothing account-level is looked up with a
data source (a lookup would fail every preview in an account where the landing zone has not run
yet, and the offline mocks would have to invent an answer); instead the stack's Config rules
*depend* on the landing zone's recorder, since AWS Config refuses ``PutConfigRule`` with
``NoAvailableConfigurationRecorderException`` when the region records nothing, so the first
``pulumi up`` in an account without it fails loudly instead of silently deploying unmonitored.
GuardDuty, Security Hub and Access Analyzer are then the landing zone's to prove.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.aws_limits import LOG_RETENTION_DAYS
from components.common.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from components.common.settings import Int, SettingsModel


class AccountLevel(StrEnum):
    manage = "manage"
    existing = "existing"


#: Security Hub standards the stack may subscribe to: config name -> the standard's path in
#: ``arn:<partition>:securityhub:<region>::standards/<path>`` (Security Hub API, DescribeStandards).
SECURITY_HUB_STANDARDS: dict[str, str] = {
    "fsbp": "aws-foundational-security-best-practices/v/1.0.0",
    "pciDss": "pci-dss/v/4.0.1",
    "cis": "cis-aws-foundations-benchmark/v/3.0.0",
    "nist80053": "nist-800-53/v/5.0.0",
}

#: What the retail platform must be measured against: AWS's own baseline, and PCI DSS because it
#: takes card payments.
DEFAULT_STANDARDS = ("fsbp", "pciDss")

#: S3 data events: on the buckets that hold customer data (the caller passes their ARNs), on
#: every bucket of the account, or none.
S3DataEvents = Literal["customerData", "allBuckets", "none"]

#: GuardDuty's finding publishing frequencies (UpdateDetector, FindingPublishingFrequency).
PublishingFrequency = Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]

#: The longest Object Lock default retention S3 accepts in days (100 years).
MAX_OBJECT_LOCK_DAYS = 36500


class AuditConfig(SettingsModel):
    """``retail:audit``."""

    account_level: AccountLevel = Field(
        default=AccountLevel.manage,
        description="manage: this stack creates the account-level services (GuardDuty detector, Security Hub, "
        "Config recorder and delivery channel, Access Analyzer), right for a standalone account, and one stack "
        "per account and region may do so; existing: an organisation's landing zone runs them and the stack "
        "builds only its own audit bucket, trail and Config rules (which fail to deploy if no recorder runs).")
    trail_log_retention_days: Int = Field(
        default=MIN_AUDIT_LOG_RETENTION_DAYS,
        description="How long the trail's CloudWatch log group keeps events (PCI DSS 10.5.1: at least 365).")
    object_lock_retention_days: Int = Field(
        default=MIN_AUDIT_LOG_RETENTION_DAYS, ge=1, le=MAX_OBJECT_LOCK_DAYS,
        description="Default Object Lock retention (compliance mode) of the audit bucket: no one, root included, "
        "can delete or shorten it. 365 for prod-like stacks; a short one (1) for dev, which must be torn down.")
    archive_after_days: Int = Field(
        default=90, ge=1,
        description="Audit objects move to S3 Glacier after this many days (PCI DSS 10.5.1: the last three "
        "months immediately available).")
    expiration_days: Int | None = Field(
        default=None,
        description="Audit objects expire after this many days; none (the default) keeps them. At least 365 "
        "(PCI DSS 10.5.1) and at least objectLockRetentionDays.")
    finding_publishing_frequency: PublishingFrequency = Field(
        default="FIFTEEN_MINUTES",
        description="How often GuardDuty publishes updates of existing findings (new findings are published at "
        "once): FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS.")
    s3_data_events: S3DataEvents = Field(
        default="customerData",
        description="Which buckets' object-level reads and writes the trail records: customerData (the stores' "
        "buckets holding customer data, PCI DSS 10.2.1.1), allBuckets, or none.")
    security_hub_standards: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STANDARDS),
        description=f"Security Hub standards to subscribe to: {', '.join(SECURITY_HUB_STANDARDS)}.")

    @field_validator("trail_log_retention_days")
    @classmethod
    def _retention_allowed(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period; use one of "
                             f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        if value < MIN_AUDIT_LOG_RETENTION_DAYS:
            raise ValueError(f"{value} days is shorter than PCI DSS 10.5.1's twelve months; use at least "
                             f"{MIN_AUDIT_LOG_RETENTION_DAYS}")
        return value

    @field_validator("security_hub_standards")
    @classmethod
    def _known_standards(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SECURITY_HUB_STANDARDS]
        if unknown:
            raise ValueError(f"unknown Security Hub standard(s) {', '.join(unknown)}; use "
                             f"{', '.join(SECURITY_HUB_STANDARDS)}")
        if len(value) != len(set(value)):
            raise ValueError("securityHubStandards lists a standard twice; list each once")
        if "fsbp" not in value:
            raise ValueError("securityHubStandards must include fsbp: the policy pack's control ids are FSBP's, "
                             "and without it Security Hub checks none of them")
        return value

    @model_validator(mode="after")
    def _expiry_keeps_evidence(self) -> AuditConfig:
        if self.expiration_days is None:
            return self
        floor = max(MIN_AUDIT_LOG_RETENTION_DAYS, self.object_lock_retention_days, self.archive_after_days + 1)
        if self.expiration_days < floor:
            raise ValueError(
                f"retail:audit.expirationDays {self.expiration_days} would delete audit logs before "
                f"{floor} days (PCI DSS 10.5.1 keeps them 365 days, the Object Lock retention holds them "
                f"{self.object_lock_retention_days}, and they must first be archived); use at least {floor} or "
                "leave it unset")
        return self

    def standard_paths(self) -> list[str]:
        return [SECURITY_HUB_STANDARDS[s] for s in self.security_hub_standards]
