"""Aurora PostgreSQL's connection limits and the proxy's share of them (pure arithmetic)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.data.connections import (
    AURORA_POSTGRES_MAX_CONNECTIONS_CAP,
    SERVERLESS_V2_MAX_CONNECTIONS,
    aurora_max_connections,
    provisioned_max_connections,
    proxy_connection_limit,
)
from components.data.settings import SqlProxyConfig

GIB = 1024**3


@pytest.mark.parametrize("acu, expected", [(1, 189), (4, 823), (8, 1669), (16, 3360), (32, 5000), (256, 5000)])
def test_published_points(acu, expected):
    assert aurora_max_connections(acu) == expected


@pytest.mark.parametrize("acu, expected", [(1.5, 189), (3.5, 189), (6, 823), (12, 1669), (31.5, 3360)])
def test_between_points_the_lower_one_is_taken(acu, expected):
    assert aurora_max_connections(acu) == expected


@given(st.floats(min_value=1, max_value=256), st.floats(min_value=1, max_value=256))
def test_more_acu_never_means_fewer_connections(a, b):
    low, high = sorted((a, b))
    assert aurora_max_connections(low) <= aurora_max_connections(high) <= AURORA_POSTGRES_MAX_CONNECTIONS_CAP


def test_the_table_never_exceeds_the_formula():
    # DBInstanceClassMemory is below 2 GiB per ACU, so the published value is below the
    # formula applied to the full memory.
    for acu, limit in SERVERLESS_V2_MAX_CONNECTIONS:
        assert limit <= provisioned_max_connections(int(acu * 2 * GIB))


@pytest.mark.parametrize("min_acu, max_acu, expected", [
    (0.5, 16, 2000), (0, 64, 2000), (0.5, 1, 189), (0.5, 8, 1669), (1, 16, 3360), (2, 64, 5000)])
def test_a_minimum_below_one_acu_caps_at_2000(min_acu, max_acu, expected):
    # The presets: staging runs 0.5-16 ACU (2,000 connections), prod 2-64 (5,000).
    assert aurora_max_connections(max_acu, min_acu=min_acu) == expected


def test_minimum_above_maximum_is_refused():
    with pytest.raises(ValueError, match="between 0 and the maximum"):
        aurora_max_connections(4, min_acu=8)


@pytest.mark.parametrize("acu", [0, 0.5, 257, -1])
def test_out_of_range_max_acu_is_refused(acu):
    with pytest.raises(ValueError, match="maximum ACU"):
        aurora_max_connections(acu)


@pytest.mark.parametrize("acu", ["8", None, True])
def test_non_numbers_are_refused(acu):
    with pytest.raises(TypeError):
        aurora_max_connections(acu)


def test_provisioned_formula_and_cap():
    assert provisioned_max_connections(16 * GIB) == 16 * GIB // 9531392 == 1802
    assert provisioned_max_connections(512 * GIB) == 5000
    with pytest.raises(ValueError):
        provisioned_max_connections(0)


def test_proxy_limit_is_the_percent_rounded_down():
    assert proxy_connection_limit(1669, 90) == 1502
    assert proxy_connection_limit(189, 100) == 189
    assert proxy_connection_limit(189, 1) == 1
    assert proxy_connection_limit(aurora_max_connections(16), SqlProxyConfig().max_connections_percent) == 3024


@pytest.mark.parametrize("connections, percent", [(0, 90), (100, 0), (100, 101)])
def test_proxy_limit_refuses_nonsense(connections, percent):
    with pytest.raises(ValueError):
        proxy_connection_limit(connections, percent)


def test_proxy_settings_defaults_and_validation():
    default = SqlProxyConfig()
    assert (default.enabled, default.max_connections_percent, default.max_idle_connections_percent,
            default.borrow_timeout_seconds) == (False, 90, 50, 120)
    parsed = SqlProxyConfig.model_validate({"enabled": "true", "maxConnectionsPercent": "75",
                                            "maxIdleConnectionsPercent": 30, "borrowTimeoutSeconds": 10})
    assert (parsed.enabled, parsed.max_connections_percent) == (True, 75)
    with pytest.raises(ValueError, match=r"maxIdleConnectionsPercent \(95\) is above proxy.maxConnectionsPercent"):
        SqlProxyConfig.model_validate({"maxConnectionsPercent": 90, "maxIdleConnectionsPercent": 95})
    with pytest.raises(ValueError):
        SqlProxyConfig.model_validate({"maxConnectionsPercent": 0})
    with pytest.raises(ValueError):
        SqlProxyConfig.model_validate({"poolSize": 10})  # unknown keys are refused
