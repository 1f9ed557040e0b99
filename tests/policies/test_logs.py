"""PCI DSS 10.5.1: prod log groups keep a year of events."""

from __future__ import annotations

import pytest

from policies.logs import DEFAULT_MIN_LOG_RETENTION_DAYS, LOG_RETENTION_CONFIG_KEY
from policies.registry import POLICIES

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.fixture
def log_group(snap, tags):
    def make(retention=None, environment="prod", **extra):
        props = {"tags": tags(environment=environment), **extra}
        if retention is not None:
            props["retentionInDays"] = retention
        return snap(LOG_GROUP, "app-logs", props)

    return make


@pytest.mark.parametrize("retention", [365, 3653, 0, None], ids=["365", "3653", "0", "missing"])
def test_prod_log_group_kept_a_year_or_forever_passes(log_group, run_policy, retention):
    assert run_policy("log-retention-prod", [log_group(retention)]).violations == []


def test_prod_log_group_kept_a_month_fails(log_group, run_policy):
    group = log_group(30)
    [violation] = run_policy("log-retention-prod", [group]).violations
    assert violation.urn == group.urn
    assert "keeps events for 30 days, less than the 365" in violation.message
    assert "set retention_in_days to at least 365" in violation.message


def test_dev_and_untagged_log_groups_are_not_checked(log_group, snap, run_policy):
    untagged = snap(LOG_GROUP, "untagged", {"retentionInDays": 7})
    report = run_policy("log-retention-prod", [log_group(7, environment="dev"), untagged])
    assert report.violations == []


@pytest.mark.parametrize("minimum", [400, 400.0], ids=["int", "float-from-engine"])
def test_configured_minimum_is_enforced(log_group, run_policy, minimum):
    config = {LOG_RETENTION_CONFIG_KEY: minimum}
    [violation] = run_policy("log-retention-prod", [log_group(365)], config).violations
    assert "less than the 400" in violation.message


def test_configured_lower_minimum_relaxes_the_check(log_group, run_policy):
    config = {LOG_RETENTION_CONFIG_KEY: 90}
    assert run_policy("log-retention-prod", [log_group(120)], config).violations == []


@pytest.mark.parametrize("bad", ["a year", True, -1, None], ids=["str", "bool", "negative", "none"])
def test_unusable_config_falls_back_to_365(log_group, run_policy, bad):
    config = {LOG_RETENTION_CONFIG_KEY: bad}
    assert run_policy("log-retention-prod", [log_group(365)], config).violations == []
    assert len(run_policy("log-retention-prod", [log_group(364)], config).violations) == 1


def test_config_schema_documents_the_default():
    [policy] = [p for p in POLICIES if p.name == "log-retention-prod"]
    schema = policy.config_schema.properties[LOG_RETENTION_CONFIG_KEY]
    assert schema["default"] == DEFAULT_MIN_LOG_RETENTION_DAYS == 365
    assert schema["type"] == "integer"
