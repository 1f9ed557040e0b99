"""The typed stack config: one test per preset default, one per error message.

``parse_stack_config`` takes the flat map the engine hands a program: ``namespace:key`` to
text, structured values (``retail:network``) as JSON text. The helpers below build that map
the way the Pulumi CLI does: project defaults from Pulumi.yaml, then the stack's keys.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.config import CONFIG

from blueprint.synth import config_text
from components.common.aws_limits import LOG_RETENTION_DAYS, MAX_TAG_VALUE_LENGTH, TAG_VALUE_PUNCTUATION
from components.common.settings import Environment
from config.loader import ConfigError, load_stack_config, parse_stack_config
from config.presets import DEFAULT_TABLES
from config.stack import StackConfig
from tests.support import PROJECT, STACKS


def project_defaults() -> dict[str, str]:
    """The ``config:`` defaults of Pulumi.yaml, which the CLI applies to every stack."""
    return dict(PROJECT.defaults)


def raw(
    environment: str = "dev", overrides: dict[str, Any] | None = None, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """A minimal stack (region, environment, owner, cost centre) over the project defaults.

    Values in ``overrides`` that are not already text are written as Pulumi writes them.
    """
    config = {
        **project_defaults(),
        "aws:region": "eu-west-1",
        "retail:environment": environment,
        "retail:owner": "platform-team@example.com",
        "retail:costCenter": "cc-4100",
        # Prod must page someone (retail:alarms); other environments may go without.
        **({"retail:alarms": '{"notify": "oncall@example.com"}'} if environment == "prod" else {}),
    }
    for key, value in (overrides or {}).items():
        config[key] = value if isinstance(value, str) else config_text(value)
    for key in drop:
        config.pop(key)
    return config


def problems_of(config: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_stack_config(config)
    return info.value.problems


# --- Presets -------------------------------------------------------------------------------

PRESET_NETWORKS = {
    "dev": {"cidr": "10.10.0.0/16", "az_count": 2, "nat_strategy": "single",
            "interface_endpoints": False, "flow_log_retention_days": 30},
    "staging": {"cidr": "10.20.0.0/16", "az_count": 3, "nat_strategy": "single",
                "interface_endpoints": True, "flow_log_retention_days": 90},
    "prod": {"cidr": "10.30.0.0/16", "az_count": 3, "nat_strategy": "perAz",
             "interface_endpoints": True, "flow_log_retention_days": 365},
}


@pytest.mark.parametrize("environment", list(PRESET_NETWORKS))
def test_a_minimal_stack_gets_its_presets_network(environment):
    config = parse_stack_config(raw(environment))

    assert config.environment is Environment(environment)
    assert config.network.model_dump() == PRESET_NETWORKS[environment]
    assert config.dr_region is None
    assert config.dr.region is None or config.dr.region != config.region


@pytest.mark.parametrize("environment", list(PRESET_NETWORKS))
def test_overriding_one_network_key_keeps_the_presets_others(environment):
    config = parse_stack_config(raw(environment, {"retail:network": {"cidr": "10.99.0.0/16"}}))

    assert config.network.model_dump() == {**PRESET_NETWORKS[environment], "cidr": "10.99.0.0/16"}


@pytest.mark.parametrize("environment, is_prod", [("dev", False), ("staging", False), ("prod", True)])
def test_only_the_prod_environment_is_prod(environment, is_prod):
    assert parse_stack_config(raw(environment)).is_prod is is_prod


# --- One problem, one message --------------------------------------------------------------

BAD_INPUTS = [
    # (id, environment, overrides, dropped keys, key path, fragments the message must contain)
    ("typo-top-level", "dev", {"retail:ownr": "x"}, (),
     "retail:ownr", ["unknown key", "did you mean 'owner'?"]),
    ("typo-nested", "dev", {"retail:network": {"azCont": 3}}, (),
     "retail:network.azCont", ["unknown key", "did you mean 'azCount'?"]),
    ("az-count-not-a-number", "dev", {"retail:network": {"azCount": "three"}}, (),
     "retail:network.azCount", ["a whole number", "'three'"]),
    ("network-not-an-object", "dev", {"retail:network": "10.0.0.0/16"}, (),
     "retail:network", ["a mapping of keys to values", "'10.0.0.0/16'"]),
    ("network-broken-json", "dev", {"retail:network": '{"cidr": "10.0.0.0/16"'}, (),
     "retail:network", ["a mapping of keys to values"]),
    ("cidr-prefix-33", "dev", {"retail:network": {"cidr": "10.0.0.0/33"}}, (),
     "retail:network.cidr", ["'10.0.0.0/33' is not a valid IPv4 network", "e.g. '10.0.0.0/16'"]),
    ("cidr-host-bits", "dev", {"retail:network": {"cidr": "10.0.0.1/16"}}, (),
     "retail:network.cidr", ["host bits set", "use the network address", "'10.0.0.0/16'"]),
    ("cidr-too-large", "dev", {"retail:network": {"cidr": "10.0.0.0/8"}}, (),
     "retail:network.cidr", ["between /16 and /22"]),
    ("cidr-too-small", "dev", {"retail:network": {"cidr": "10.0.0.0/24"}}, (),
     "retail:network.cidr", ["between /16 and /22", "/28"]),
    ("cidr-public", "dev", {"retail:network": {"cidr": "8.8.0.0/16"}}, (),
     "retail:network.cidr", ["'8.8.0.0/16' is not a private", "RFC 1918"]),
    ("cidr-just-outside-172.16/12", "dev", {"retail:network": {"cidr": "172.32.0.0/16"}}, (),
     "retail:network.cidr", ["not a private"]),
    ("az-count-below-two", "dev", {"retail:network": {"azCount": 1}}, (),
     "retail:network.azCount", ["between 2 and 6", "got 1"]),
    ("az-count-above-six", "dev", {"retail:network": {"azCount": 7}}, (),
     "retail:network.azCount", ["between 2 and 6", "got 7"]),
    ("prod-two-azs", "prod", {"retail:network": {"azCount": 2}}, (),
     "retail:network.azCount", ["prod needs at least 3 AZs", "got 2"]),
    ("prod-short-retention", "prod", {"retail:network": {"flowLogRetentionDays": 90}}, (),
     "retail:network.flowLogRetentionDays", ["at least 365 days", "PCI DSS 10.5.1", "got 90"]),
    ("retention-not-cloudwatch", "dev", {"retail:network": {"flowLogRetentionDays": 42}}, (),
     "retail:network.flowLogRetentionDays",
     ["42 is not a CloudWatch Logs retention period", "use one of", "30, 60, 90"]),
    ("nat-strategy-typo", "dev", {"retail:network": {"natStrategy": "perAZ"}}, (),
     "retail:network.natStrategy", ["'perAZ'", "'single' or 'perAz'"]),
    ("dr-region-is-primary", "prod", {"retail:dr": {"strategy": "warm-standby", "region": "eu-west-1"}}, (),
     "retail:dr.region", ["'eu-west-1' is the primary region", "different region"]),
    ("dr-region-renamed", "prod", {"retail:drRegion": "eu-central-1"}, (),
     "retail:drRegion", ["replaced by retail:dr", "strategy: backup-restore, region: eu-central-1"]),
    ("dr-target-beyond-the-strategy", "staging",
     {"retail:dr": {"strategy": "backup-restore", "region": "eu-central-1", "targets": {"service": {"rto": "5m"}}}},
     (), "retail:dr.targets.service.rto", ["RTO 5m", "retail:dr.strategy backup-restore", "8h",
                                           "choose strategy warm-standby"]),
    ("dr-network-overlaps-the-primary", "prod", {"retail:dr": {"cidr": "10.30.128.0/20"}}, (),
     "retail:dr.cidr", ["overlaps retail:network.cidr 10.30.0.0/16", "peered"]),
    ("dr-network-missing", "staging", {"retail:dr": {"strategy": "pilot-light", "region": "eu-central-1"}}, (),
     "retail:dr", ["builds a network in eu-central-1", "set cidr"]),
    ("dr-cache-on-burstable-nodes", "prod", {"retail:cache": {"nodeType": "cache.t4g.medium"}}, (),
     "retail:cache.nodeType", ["Global Datastore", "cache.t4g.medium", "cache.r7g.large"]),
    ("dr-table-stream-view", "prod",
     {"retail:nosql": {"tables": [{**t, "stream": "KEYS_ONLY"} if t["name"] == "inventory" else t
                                  for t in DEFAULT_TABLES]}}, (),
     "retail:nosql.tables[2].stream", ["global table", "NEW_AND_OLD_IMAGES"]),
    ("dr-without-region", "staging", {"retail:dr": {"strategy": "pilot-light", "region": None}}, (),
     "retail:dr", ["needs a DR region"]),
    ("unknown-environment-alone", "prd", {}, (),
     "retail:environment", ["'prd'", "'dev', 'staging' or 'prod'"]),
    ("unknown-data-classification", "dev", {"retail:dataClassification": "secret"}, (),
     "retail:dataClassification", ["'secret'", "'restricted'"]),
    ("empty-owner", "dev", {"retail:owner": ""}, (),
     "retail:owner", ["at least 1 character"]),
    ("missing-owner", "dev", {}, ("retail:owner",),
     "retail:owner", ["required key is missing", "add it"]),
    ("missing-cost-center", "dev", {}, ("retail:costCenter",),
     "retail:costCenter", ["required key is missing", "add it"]),
    ("missing-region", "dev", {}, ("aws:region",),
     "aws:region", ["required key is missing", "add it"]),
    ("missing-environment-alone", "dev", {}, ("retail:environment",),
     "retail:environment", ["required key is missing"]),
    ("retail-region-refused", "dev", {"retail:region": "eu-west-1"}, (),
     "retail:region", ["`aws:region` instead"]),
    ("region-malformed", "dev", {"aws:region": "eu-west"}, (),
     "aws:region", ["'eu-west' is not an AWS region name", "e.g. 'eu-west-1'"]),
    ("region-upper-case", "dev", {"aws:region": "EU-WEST-1"}, (),
     "aws:region", ["not an AWS region name"]),
    ("dr-region-malformed", "prod", {"retail:dr": {"region": "eu-centrl-1"}}, (),
     "retail:dr.region", ["'eu-centrl-1' is not an AWS region", "did you mean 'eu-central-1'"]),
]


@pytest.mark.parametrize(
    "environment, overrides, drop, key_path, fragments",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_each_mistake_is_reported_once_at_its_key_path_with_the_fix(environment, overrides, drop, key_path, fragments):
    problems = problems_of(raw(environment, overrides, drop))

    assert [path for path, _ in problems] == [key_path]
    message = problems[0][1]
    for fragment in fragments:
        assert fragment in message


def test_an_unknown_environment_reports_no_missing_preset_keys_even_with_a_partial_network():
    problems = problems_of(raw("prd", {"retail:network": {"cidr": "10.40.0.0/16"}}))

    assert [path for path, _ in problems] == ["retail:environment"]


def test_a_non_cloudwatch_retention_in_prod_breaks_both_rules():
    problems = problems_of(raw("prod", {"retail:network": {"flowLogRetentionDays": 42}}))

    assert [path for path, _ in problems] == ["retail:network.flowLogRetentionDays"] * 2
    assert "not a CloudWatch Logs retention period" in problems[0][1]
    assert "at least 365 days" in problems[1][1]


@pytest.mark.parametrize("days", [365, 400, 3653])
def test_prod_accepts_a_retention_of_a_year_or_more(days):
    config = parse_stack_config(raw("prod", {"retail:network": {"flowLogRetentionDays": days}}))

    assert config.network.flow_log_retention_days == days


@pytest.mark.parametrize("days", LOG_RETENTION_DAYS)
def test_dev_accepts_every_cloudwatch_retention(days):
    config = parse_stack_config(raw("dev", {"retail:network": {"flowLogRetentionDays": days}}))

    assert config.network.flow_log_retention_days == days


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/16", "172.31.252.0/22", "192.168.0.0/16"])
def test_rfc1918_ranges_at_the_edges_are_accepted(cidr):
    assert parse_stack_config(raw("dev", {"retail:network": {"cidr": cidr}})).network.cidr == cidr


@pytest.mark.parametrize("cidr", ["127.0.0.0/16", "169.254.0.0/16", "0.0.0.0/16", "240.0.0.0/16", "198.18.0.0/16"])
def test_special_purpose_ranges_are_not_accepted_as_private(cidr):
    problems = problems_of(raw("dev", {"retail:network": {"cidr": cidr}}))

    assert [path for path, _ in problems] == ["retail:network.cidr"]


# --- Several problems at once --------------------------------------------------------------

def test_several_mistakes_give_one_error_with_one_line_each():
    config = raw("prod", {
        "retail:ownr": "platform-team@example.com",
        "retail:drRegion": "eu-central-1",
        "retail:network": {"azCount": 2},
    })

    with pytest.raises(ConfigError) as info:
        parse_stack_config(config)

    paths = [path for path, _ in info.value.problems]
    assert sorted(paths) == ["retail:drRegion", "retail:network.azCount", "retail:ownr"]
    text = str(info.value)
    assert "(3 problems)" in text
    lines = text.splitlines()[1:]
    assert len(lines) == 3
    for path in paths:
        assert sum(line.strip().startswith(f"{path}:") for line in lines) == 1


def test_field_errors_and_prod_rules_are_reported_together():
    problems = problems_of(raw("prod", {"retail:network": {"cidr": "10.0.0.1/16", "azCount": 2}}))

    assert sorted(path for path, _ in problems) == ["retail:network.azCount", "retail:network.cidr"]


def test_retail_region_is_reported_together_with_other_mistakes():
    problems = problems_of(raw("dev", {"retail:region": "eu-west-1", "retail:ownr": "x"}))

    assert sorted(path for path, _ in problems) == ["retail:ownr", "retail:region"]


@pytest.mark.parametrize(
    "network, key_path",
    [
        pytest.param({"azCount": 2.0}, "retail:network.azCount", id="az-count-json-number"),
        pytest.param({"azCount": "2.0"}, "retail:network.azCount", id="az-count-decimal-text"),
        pytest.param({"flowLogRetentionDays": "90.0"}, "retail:network.flowLogRetentionDays",
                     id="retention-decimal-text"),
    ],
)
def test_a_prod_rule_broken_by_a_number_written_with_a_decimal_point_is_reported(network, key_path):
    problems = problems_of(raw("prod", {"retail:network": network}))

    assert [path for path, _ in problems] == [key_path]


# --- Text in, types out --------------------------------------------------------------------

def test_a_quoted_az_count_in_the_network_json_is_a_number():
    assert parse_stack_config(raw("dev", {"retail:network": {"azCount": "4"}})).network.az_count == 4


@pytest.mark.parametrize("text, expected", [("true", True), ("false", False), (True, True), (False, False)])
def test_booleans_arrive_as_text_or_json(text, expected):
    config = parse_stack_config(raw("dev", {"retail:network": {"interfaceEndpoints": text}}))

    assert config.network.interface_endpoints is expected


@pytest.mark.parametrize("key, field", [("retail:owner", "owner"), ("retail:costCenter", "cost_center")])
def test_a_numeric_looking_text_value_stays_text(key, field):
    value = getattr(parse_stack_config(raw("dev", {key: "123"})), field)

    assert value == "123"
    assert isinstance(value, str)


_TAG_TEXT = st.text(alphabet=st.characters(categories=("L", "Nd")) | st.sampled_from(TAG_VALUE_PUNCTUATION),
                    min_size=1, max_size=MAX_TAG_VALUE_LENGTH)


@settings(max_examples=50)
@given(owner=_TAG_TEXT.filter(lambda text: text.lstrip()[:1] not in ("{", "[")))
def test_any_owner_a_tag_can_hold_is_kept_as_written(owner):
    assert parse_stack_config(raw("dev", {"retail:owner": owner})).owner == owner


@settings(max_examples=50)
@given(owner=_TAG_TEXT, bad=st.sampled_from("!#$%&*;<>?[]{}|~\"\t\n"))
def test_an_owner_no_tag_can_hold_is_refused_naming_the_character(owner, bad):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw("dev", {"retail:owner": owner + bad}))
    [(path, message)] = caught.value.problems
    assert path == "retail:owner" and repr(bad) in message


def test_keys_of_other_namespaces_are_left_to_their_providers():
    config = parse_stack_config(raw("dev", {
        "aws:profile": "retail-dev",
        "aws:skipCredentialsValidation": "true",
        "kubernetes:context": "arn:aws:eks:eu-west-1:111122223333:cluster/retail",
    }))

    assert config.region == "eu-west-1"


# --- Property: any valid dev network parses --------------------------------------------------

@st.composite
def cidrs_in_ten_slash_eight(draw) -> str:
    prefix = draw(st.integers(min_value=16, max_value=22))
    index = draw(st.integers(min_value=0, max_value=2 ** (prefix - 8) - 1))
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    return str(ipaddress.IPv4Network((base + index * 2 ** (32 - prefix), prefix)))


@settings(max_examples=100)
@given(cidr=cidrs_in_ten_slash_eight(), az_count=st.integers(min_value=2, max_value=6), as_text=st.booleans())
def test_any_private_network_and_az_count_parses_and_round_trips(cidr, az_count, as_text):
    network = {"cidr": cidr, "azCount": str(az_count) if as_text else az_count}

    config = parse_stack_config(raw("dev", {"retail:network": network}))

    assert config.network.cidr == cidr
    assert config.network.az_count == az_count


@settings(max_examples=50)
@given(cidr=cidrs_in_ten_slash_eight(), host=st.integers(min_value=1, max_value=2 ** 10 - 1))
def test_host_bits_set_suggests_the_network_address(cidr, host):
    network = ipaddress.IPv4Network(cidr)
    written = f"{network.network_address + 1 + host % (network.num_addresses - 1)}/{network.prefixlen}"

    problems = problems_of(raw("dev", {"retail:network": {"cidr": written}}))

    assert problems == [("retail:network.cidr", f"{written!r} has host bits set; use the network address, "
                                                f"e.g. '{cidr}'")]


# --- The stack files -----------------------------------------------------------------------

def test_every_environment_has_a_stack_file():
    assert set(STACKS) >= {"dev", "staging", "prod"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_parses(stack):
    config = parse_stack_config(PROJECT.stack_config(stack))

    assert isinstance(config, StackConfig)


def test_the_prod_stack_has_a_separate_dr_region_three_azs_and_a_nat_per_az():
    config = parse_stack_config(PROJECT.stack_config("prod"))

    assert config.is_prod
    assert config.dr.strategy.value == "warm-standby"
    assert config.dr.region is not None
    assert config.dr.region != config.region
    assert config.network.az_count >= 3
    assert config.network.nat_strategy == "perAz"


# --- Reading the config from the Pulumi runtime --------------------------------------------

@pytest.fixture
def runtime_config(monkeypatch):
    """Set the runtime's config map for one test; restore it (and PULUMI_CONFIG) afterwards."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    saved = dict(CONFIG.get())
    yield pulumi.runtime.set_all_config
    pulumi.runtime.set_all_config(saved)


def test_load_stack_config_reads_the_runtime_config(runtime_config):
    runtime_config(raw("prod", {"retail:dr": {"region": "eu-north-1"}}))

    config = load_stack_config(stack="test")

    assert config.is_prod
    assert config.dr.region == "eu-north-1"


def test_load_stack_config_turns_config_errors_into_a_run_error_naming_every_key(runtime_config):
    runtime_config(raw("prod", {"retail:ownr": "x", "retail:drRegion": "eu-central-1"}))

    with pytest.raises(pulumi.RunError) as info:
        load_stack_config(stack="test")

    assert not isinstance(info.value, ConfigError)
    assert "retail:ownr" in str(info.value)
    assert "retail:drRegion" in str(info.value)
    assert info.value.__suppress_context__


def test_runtime_config_wins_over_pulumi_config_env(runtime_config, monkeypatch):
    env = raw("dev", {"retail:owner": "from-env"})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(env))
    runtime_config({"retail:owner": "from-runtime"})

    config = load_stack_config(stack="test")

    assert config.owner == "from-runtime"
    assert config.cost_center == env["retail:costCenter"]


def test_the_config_builds_the_stacks_tagging_conventions():
    config = parse_stack_config(raw("prod", {"retail:dataClassification": "restricted"}))

    assert config.conventions("prod-eu").standard_tags == {
        "environment": "prod",
        "owner": "platform-team@example.com",
        "cost-center": "cc-4100",
        "data-classification": "restricted",
        "managed-by": "pulumi",
        "stack": "prod-eu",
    }
