"""The retail:api presets of dev, staging and prod validate, and keep prod strict."""

from __future__ import annotations

from typing import Any

import pytest

from components.api.settings import ApiConfig
from config.presets import PRESETS as ENVIRONMENT_PRESETS

#: The presets' retail:api, by environment name.
PRESETS: dict[str, dict[str, Any]] = {env.value: preset["api"] for env, preset in ENVIRONMENT_PRESETS.items()}


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
    config = ApiConfig.model_validate({"backends": {"getInventory": "catalog"},
                                       "tiers": [{"name": "standard", "quota": {"limit": "1000", "period": "DAY"},
                                                  "throttle": {"rateLimit": "5", "burstLimit": "10"}}],
                                       "dataTrace": "false"})
    assert config.tiers[0].quota.limit == 1000 and config.data_trace is False
