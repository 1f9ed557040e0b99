"""retail:audit: defaults and the mistakes it refuses, each naming the key and the fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.audit.settings import AccountLevel, AuditConfig


def test_defaults_are_the_secure_ones():
    config = AuditConfig()
    assert config.account_level is AccountLevel.manage
    assert (config.trail_log_retention_days, config.object_lock_retention_days) == (365, 365)
    assert config.s3_data_events == "customerData" and config.expiration_days is None
    assert config.standard_paths() == ["aws-foundational-security-best-practices/v/1.0.0", "pci-dss/v/4.0.1"]


def test_camel_case_keys_and_quoted_numbers_as_pulumi_hands_them_over():
    config = AuditConfig.model_validate({"accountLevel": "existing", "trailLogRetentionDays": "400",
                                         "findingPublishingFrequency": "ONE_HOUR"})
    assert config.account_level is AccountLevel.existing and config.trail_log_retention_days == 400


@pytest.mark.parametrize("values, message", [
    ({"trailLogRetentionDays": 100}, "not a CloudWatch Logs retention period"),
    ({"trailLogRetentionDays": 180}, "shorter than PCI DSS 10.5.1"),
    ({"objectLockRetentionDays": 0}, "greater than or equal to 1"),
    ({"securityHubStandards": ["fsbp", "iso"]}, "unknown Security Hub standard"),
    ({"securityHubStandards": ["pciDss"]}, "must include fsbp"),
    ({"securityHubStandards": ["fsbp", "fsbp"]}, "twice"),
    ({"expirationDays": 200}, "retail:audit.expirationDays 200"),
    ({"objectLockRetentionDays": 730, "expirationDays": 400}, "use at least 730"),
    ({"accountLevel": "shared"}, "'manage' or 'existing'"),
    ({"findingPublishingFrequency": "DAILY"}, "FIFTEEN_MINUTES"),
    ({"trailRetention": 365}, "Extra inputs are not permitted"),
])
def test_mistakes_are_refused_with_the_fix(values, message):
    with pytest.raises(ValidationError, match=message):
        AuditConfig.model_validate(values)
