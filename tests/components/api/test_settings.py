"""The retail:api presets proposed for dev, staging and prod validate, and keep prod strict."""

from __future__ import annotations

from typing import Any

import pytest

from components.api.settings import ApiConfig

_TIERS = [
    {"name": "standard", "quota": {"limit": 100_000, "period": "DAY"},
     "throttle": {"rateLimit": 20, "burstLimit": 40}},
    {"name": "premium", "quota": {"limit": 2_000_000, "period": "DAY"},
     "throttle": {"rateLimit": 200, "burstLimit": 400}},
]
_CATALOGUE = [{"path": "/catalogue", "method": "GET", "throttle": {"rateLimit": 2, "burstLimit": 5}}]

#: What the integrator puts in config/presets.py under "api".
PRESETS: dict[str, dict[str, Any]] = {
    "dev": {"tiers": _TIERS, "methodThrottling": _CATALOGUE, "executionLogLevel": "INFO",
            "logRetentionDays": 30},
    "staging": {"tiers": _TIERS, "methodThrottling": _CATALOGUE, "executionLogLevel": "INFO",
                "logRetentionDays": 90},
    "prod": {"tiers": _TIERS, "methodThrottling": _CATALOGUE, "executionLogLevel": "ERROR", "dataTrace": False,
             "logRetentionDays": 365},
}


@pytest.mark.parametrize("environment", sorted(PRESETS))
def test_presets_validate(environment):
    config = ApiConfig.model_validate(PRESETS[environment])
    assert config.versions == ["v1"] and config.authorization == "iam"
    assert config.data_trace is False
    assert [m.method_path for m in config.method_throttling] == ["catalogue/GET"]


def test_prod_preset_logs_errors_only_for_a_year():
    config = ApiConfig.model_validate(PRESETS["prod"])
    assert config.execution_log_level == "ERROR" and config.log_retention_days == 365


def test_camel_case_keys_and_quoted_numbers_as_pulumi_hands_them_over():
    config = ApiConfig.model_validate({"tiers": [{"name": "standard", "quota": {"limit": "1000", "period": "DAY"},
                                                  "throttle": {"rateLimit": "5", "burstLimit": "10"}}],
                                       "dataTrace": "false"})
    assert config.tiers[0].quota.limit == 1000 and config.data_trace is False
